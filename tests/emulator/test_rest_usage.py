"""Usage endpoints over real sockets: summary, logs and concurrency limits built from jobs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from rest_support import Api, make_wav
from websockets.sync.client import connect

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]

_MONEY = {"type": "string", "pattern": r"^\d+\.\d+$"}
_INT = {"type": "integer", "minimum": 0}
_INT_LIST = {"type": "array", "items": _INT}
_MONEY_LIST = {"type": "array", "items": _MONEY}
SUMMARY_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": [
        "model",
        "days",
        "total_cost_usd",
        "total_input_cost_usd",
        "total_output_cost_usd",
        "total_duration_cost_usd",
        "cost_usd",
        "input_cost_usd",
        "output_cost_usd",
        "duration_cost_usd",
        "total_num_requests",
        "total_input_text_tokens",
        "total_input_audio_tokens",
        "total_input_audio_duration_ms",
        "total_output_text_tokens",
        "total_output_audio_tokens",
        "total_output_audio_duration_ms",
        "total_duration_ms",
        "num_requests",
        "input_text_tokens",
        "input_audio_tokens",
        "input_audio_duration_ms",
        "output_text_tokens",
        "output_audio_tokens",
        "output_audio_duration_ms",
        "duration_ms",
    ],
    "properties": {
        "model": {"type": ["string", "null"]},
        "days": {"type": "array", "items": {"type": "string", "format": "date"}},
        **dict.fromkeys(("total_cost_usd", "total_input_cost_usd"), _MONEY),
        **dict.fromkeys(("cost_usd", "input_cost_usd", "output_cost_usd"), _MONEY_LIST),
        **dict.fromkeys(("total_num_requests", "total_input_audio_duration_ms"), _INT),
        **dict.fromkeys(("num_requests", "input_audio_duration_ms", "duration_ms"), _INT_LIST),
    },
}
SUMMARY = {
    "type": "object",
    "required": ["total", "models"],
    "properties": {"total": SUMMARY_ENTRY, "models": {"type": "array", "items": SUMMARY_ENTRY}},
}
LOG_ENTRY = {
    "type": "object",
    "required": [
        "uuid",
        "request_scope",
        "client_reference_id",
        "model",
        "start_time",
        "end_time",
        "input_text_tokens",
        "input_audio_tokens",
        "input_audio_duration_ms",
        "output_text_tokens",
        "output_audio_tokens",
        "output_audio_duration_ms",
        "cost_usd",
        "input_cost_usd",
        "input_text_cost_usd",
        "input_audio_cost_usd",
        "output_cost_usd",
        "output_text_cost_usd",
        "output_audio_cost_usd",
    ],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "request_scope": {"enum": ["api", "playground"]},
        "client_reference_id": {"type": "string"},
        "start_time": {"type": "string"},
        "end_time": {"type": "string"},
        "cost_usd": _MONEY,
        "input_audio_duration_ms": _INT,
    },
}
LOGS = {
    "type": "object",
    "required": ["usage_logs", "next_page_cursor"],
    "properties": {
        "usage_logs": {"type": "array", "items": LOG_ENTRY},
        "next_page_cursor": {"type": ["string", "null"]},
    },
}
_SCOPE = {
    "type": "object",
    "required": ["current", "limits"],
    "properties": {
        "current": {
            "type": "object",
            "required": ["transcribe_concurrent", "tts_concurrent"],
            "properties": {"transcribe_concurrent": _INT, "tts_concurrent": _INT},
        },
        "limits": {
            "type": "object",
            "required": ["transcribe_concurrent", "tts_concurrent"],
            "properties": {
                "transcribe_concurrent": {"type": ["integer", "null"]},
                "tts_concurrent": {"type": ["integer", "null"]},
            },
        },
    },
}
LIMITS = {
    "type": "object",
    "required": ["project", "organization"],
    "properties": {"project": _SCOPE, "organization": _SCOPE},
}


def _api_error(api: Api, response: Any, status: int) -> dict[str, Any]:
    """Assert an ``ApiError`` answer with ``status`` (checked against the spec's schema)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    api.checker.validate_schema("components/schemas/ApiError", body)
    return body


def _validate(schema: dict[str, Any], body: Any) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        body
    )


def _window(days: int = 2) -> dict[str, str]:
    now = datetime.now(UTC)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "start_time": start.isoformat().replace("+00:00", "Z"),
        "end_time": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    }


def _run_jobs(api: Api, count: int, reference: str = "") -> None:
    file_id = api.upload(make_wav(1.0))["id"]
    for _ in range(count):
        api.wait(api.create(file_id=file_id, client_reference_id=reference or None)["id"])


def test_usage_summary_counts_finished_jobs(api: Api) -> None:
    """Two finished jobs show up in the summary total and under their model."""
    _run_jobs(api, 2)
    response = api.client.get("/v1/usage/summary", params=_window())
    assert response.status_code == 200
    body = response.json()
    _validate(SUMMARY, body)
    total = body["total"]
    assert total["model"] is None
    assert total["total_num_requests"] == 2
    assert total["total_input_audio_duration_ms"] == 2000
    assert total["days"][-1] == datetime.now(UTC).date().isoformat()
    assert all(len(total[k]) == len(total["days"]) for k in ("cost_usd", "num_requests"))
    [model] = body["models"]
    assert model["model"] == "stt-async-v5"
    assert model["total_num_requests"] == 2


def test_usage_summary_window_over_366_days_is_refused(api: Api) -> None:
    """A summary window longer than 366 days is a 400 ``invalid_request``."""
    response = api.client.get("/v1/usage/summary", params=_window(days=368))
    assert _api_error(api, response, 400)["error_type"] == "invalid_request"


@pytest.mark.parametrize("missing", ["start_time", "end_time"])
def test_usage_summary_requires_both_times(api: Api, missing: str) -> None:
    """``start_time`` and ``end_time`` are required query parameters."""
    params = _window()
    del params[missing]
    response = api.client.get("/v1/usage/summary", params=params)
    assert _api_error(api, response, 400)["validation_errors"] == [
        {"error_type": "missing", "location": f"query.{missing}", "message": "Field required"}
    ]


def test_usage_summary_rejects_unparsable_times(api: Api) -> None:
    """A ``start_time`` that is not ISO-8601 is a 400 at ``query.start_time``."""
    params = {**_window(), "start_time": "yesterday"}
    response = api.client.get("/v1/usage/summary", params=params)
    assert _api_error(api, response, 400)["validation_errors"][0]["location"] == "query.start_time"


def test_usage_logs_list_each_job(api: Api) -> None:
    """Each finished job is one usage-log entry carrying its client_reference_id."""
    _run_jobs(api, 2, reference="batch-9")
    response = api.client.get("/v1/usage-logs", params=_window())
    assert response.status_code == 200
    body = response.json()
    _validate(LOGS, body)
    assert len(body["usage_logs"]) == 2
    assert {e["client_reference_id"] for e in body["usage_logs"]} == {"batch-9"}
    assert body["next_page_cursor"] is None


def test_usage_logs_page_in_both_orders(api: Api) -> None:
    """limit=1 pages through three entries, ascending and descending by end_time."""
    _run_jobs(api, 3)
    seen: dict[str, list[str]] = {}
    for sort in ("end_time_asc", "end_time_desc"):
        cursor = None
        ids: list[str] = []
        for _ in range(5):
            params = {"limit": "1", "sort": sort, **({"cursor": cursor} if cursor else {})}
            body = api.client.get("/v1/usage-logs", params=params).json()
            ids += [e["uuid"] for e in body["usage_logs"]]
            cursor = body["next_page_cursor"]
            if cursor is None:
                break
        seen[sort] = ids
    assert len(seen["end_time_asc"]) == 3
    assert seen["end_time_desc"] == list(reversed(seen["end_time_asc"]))


def test_usage_logs_reject_an_unknown_sort(api: Api) -> None:
    """``sort`` outside ``end_time_asc`` / ``end_time_desc`` is a 400 at ``query.sort``."""
    response = api.client.get("/v1/usage-logs", params={"sort": "newest"})
    assert _api_error(api, response, 400)["validation_errors"][0]["location"] == "query.sort"


def test_usage_logs_reject_a_garbage_cursor(api: Api) -> None:
    """A bad usage-logs cursor is 400 ``invalid_cursor``."""
    response = api.client.get("/v1/usage-logs", params={"cursor": "nope"})
    assert _api_error(api, response, 400)["error_type"] == "invalid_cursor"


def test_concurrency_limits_shape(api: Api) -> None:
    """``/v1/concurrency-limits`` reports project and organization scopes, no caps."""
    response = api.client.get("/v1/concurrency-limits")
    assert response.status_code == 200
    body = response.json()
    _validate(LIMITS, body)
    assert body["project"]["current"]["transcribe_concurrent"] == 0
    assert body["organization"]["limits"]["transcribe_concurrent"] is None


def test_concurrency_limits_count_a_live_stream(api: Api, emulator: Emulator) -> None:
    """An open realtime stream shows as one ``transcribe_concurrent`` in both scopes."""
    config = {
        "model": "stt-rt-v5",
        "audio_format": "pcm_s16le",
        "sample_rate": 16000,
        "num_channels": 1,
    }
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with connect(emulator.ws_url, additional_headers=headers, open_timeout=5) as ws:
        ws.send(json.dumps(config))
        ws.send(bytes(3200))
        body: dict[str, Any] = {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            body = api.client.get("/v1/concurrency-limits").json()
            if body["project"]["current"]["transcribe_concurrent"] == 1:
                break
            time.sleep(0.01)
        ws.send(b"")
    assert body["project"]["current"]["transcribe_concurrent"] == 1
    assert body["organization"]["current"]["transcribe_concurrent"] == 1
