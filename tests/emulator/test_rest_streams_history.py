"""``GET /v1/concurrent-streams-history``: per-period peaks of concurrent realtime streams.

The computation is tested on fixed stream intervals; the endpoint over real sockets, with
realtime sessions the emulator really served.
"""

from __future__ import annotations

import itertools
import json
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from rest_support import Api
from websockets.sync.client import ClientConnection, connect

from soniox.emulator import Emulator
from soniox.emulator.errors import ApiFailure
from soniox.emulator.usage import StreamInterval, UsageLedger
from soniox.emulator.usage_api import concurrent_streams_history_json

pytest_plugins = ["rest_fixtures"]

_INT = {"type": "integer", "minimum": 0}
HISTORY: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "entries"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["stt", "tts"]},
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "period_start",
                    "period_sec",
                    "sample_min",
                    "sample_max",
                    "sample_sum",
                    "sample_count",
                    "total_count",
                ],
                "additionalProperties": False,
                "properties": {
                    "period_start": {"type": "string", "format": "date-time"},
                    "period_sec": {"enum": [60, 3600, 86400]},
                    "sample_min": {"const": 0},
                    "sample_max": _INT,
                    "sample_sum": _INT,
                    "sample_count": _INT,
                    "total_count": {"enum": [1, 60, 24]},
                },
            },
        },
    },
}

DAY = datetime(2026, 1, 5, tzinfo=UTC)
NOW = DAY + timedelta(days=1)


def _at(hh_mm_ss: str) -> datetime:
    h, m, s = (int(x) for x in hh_mm_ss.split(":"))
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _query(start: datetime, end: datetime, period: int, kind: str = "stt") -> dict[str, str]:
    return {
        "start_time": _z(start),
        "end_time": _z(end),
        "period_sec": str(period),
        "kind": kind,
    }


# Two streams overlapping from 10:00:30 to 10:00:50; the second runs on into 10:01.
OVERLAPPING = [
    StreamInterval(_at("10:00:10"), _at("10:00:50")),
    StreamInterval(_at("10:00:30"), _at("10:01:20")),
]


def _peaks(entries: list[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    return [
        (e["period_start"], e["sample_max"], e["sample_sum"], e["sample_count"]) for e in entries
    ]


# The computation ---------------------------------------------------------------------------------
def test_per_minute_entries_hold_each_minutes_peak() -> None:
    """Per minute: two overlapping streams peak at 2 in their minute, 1 in the next, 0 elsewhere."""
    body = concurrent_streams_history_json(
        OVERLAPPING, _query(_at("09:59:00"), _at("10:03:00"), 60), NOW
    )
    _validate(body)
    assert body["kind"] == "stt"
    assert _peaks(body["entries"]) == [
        ("2026-01-05T09:59:00.000Z", 0, 0, 0),
        ("2026-01-05T10:00:00.000Z", 2, 2, 1),
        ("2026-01-05T10:01:00.000Z", 1, 1, 1),
        ("2026-01-05T10:02:00.000Z", 0, 0, 0),
    ]
    assert {e["total_count"] for e in body["entries"]} == {1}
    assert {e["period_sec"] for e in body["entries"]} == {60}


def test_hourly_entries_roll_up_their_minutes() -> None:
    """Per hour: sample_count counts active minutes, sample_sum adds their peaks, sample_max is exact."""
    body = concurrent_streams_history_json(
        OVERLAPPING, _query(_at("09:00:00"), _at("11:00:00"), 3600), NOW
    )
    assert _peaks(body["entries"]) == [
        ("2026-01-05T09:00:00.000Z", 0, 0, 0),
        ("2026-01-05T10:00:00.000Z", 2, 3, 2),
    ]
    assert [e["total_count"] for e in body["entries"]] == [60, 60]


def test_daily_entries_roll_up_their_hours() -> None:
    """Per day: one value per active hour (its peak); total_count is 24."""
    streams = [*OVERLAPPING, StreamInterval(_at("15:59:30"), _at("16:00:30"))]
    body = concurrent_streams_history_json(
        streams, _query(DAY, DAY + timedelta(days=2), 86400), NOW
    )
    assert _peaks(body["entries"]) == [
        ("2026-01-05T00:00:00.000Z", 2, 4, 3),
        ("2026-01-06T00:00:00.000Z", 0, 0, 0),
    ]
    assert [e["total_count"] for e in body["entries"]] == [24, 24]


def test_back_to_back_streams_do_not_overlap() -> None:
    """A stream opening the instant another closes is not counted as concurrent with it."""
    streams = [
        StreamInterval(_at("10:00:00"), _at("10:00:30")),
        StreamInterval(_at("10:00:30"), _at("10:00:40")),
    ]
    body = concurrent_streams_history_json(
        streams, _query(_at("10:00:00"), _at("10:01:00"), 60), NOW
    )
    assert _peaks(body["entries"]) == [("2026-01-05T10:00:00.000Z", 1, 1, 1)]


def test_an_open_stream_counts_until_now_and_an_instant_one_in_its_minute() -> None:
    """A stream still open counts up to ``now``; one opened and closed at once counts too."""
    now = _at("10:02:30")
    streams = [
        StreamInterval(_at("10:00:10"), None),
        StreamInterval(_at("10:04:00"), _at("10:04:00")),
    ]
    body = concurrent_streams_history_json(
        streams, _query(_at("10:00:00"), _at("10:05:00"), 60), now
    )
    assert [e["sample_max"] for e in body["entries"]] == [1, 1, 1, 0, 1]


def test_periods_start_at_aligned_boundaries_inside_the_window() -> None:
    """An unaligned start_time begins at the next aligned period; end_time is exclusive."""
    body = concurrent_streams_history_json([], _query(_at("10:00:30"), _at("10:03:00"), 60), NOW)
    assert [e["period_start"] for e in body["entries"]] == [
        "2026-01-05T10:01:00.000Z",
        "2026-01-05T10:02:00.000Z",
    ]


def test_a_week_of_minutes_has_no_gaps() -> None:
    """Seven days per minute is 10,080 consecutive entries, one minute apart."""
    start = DAY - timedelta(days=7)
    body = concurrent_streams_history_json(OVERLAPPING, _query(start, DAY, 60), NOW)
    starts = [datetime.fromisoformat(e["period_start"]) for e in body["entries"]]
    assert len(starts) == 7 * 24 * 60
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(starts))


def test_tts_history_is_all_zeros() -> None:
    """``kind=tts`` reports no streams: the emulator has no text-to-speech sessions."""
    body = concurrent_streams_history_json(
        OVERLAPPING, _query(_at("10:00:00"), _at("10:02:00"), 60, "tts"), NOW
    )
    assert body["kind"] == "tts"
    assert _peaks(body["entries"]) == [
        ("2026-01-05T10:00:00.000Z", 0, 0, 0),
        ("2026-01-05T10:01:00.000Z", 0, 0, 0),
    ]


@pytest.mark.parametrize(
    ("period", "days", "ok"),
    [
        (60, 7, True),
        (60, 8, False),
        (3600, 90, True),
        (3600, 91, False),
        (86400, 366, True),
        (86400, 367, False),
    ],
)
def test_window_caps_per_period(period: int, days: int, ok: bool) -> None:
    """The window may span 7 days per minute, 90 per hour, 366 per day."""
    query = _query(DAY, DAY + timedelta(days=days), period)
    if ok:
        assert concurrent_streams_history_json([], query, NOW)["entries"]
        return
    with pytest.raises(ApiFailure) as caught:
        concurrent_streams_history_json([], query, NOW)
    assert caught.value.status == 400


def test_ledger_records_stream_intervals() -> None:
    """The ledger keeps each stream's open and close time, and the live count."""
    ledger = UsageLedger()
    first = ledger.stream_started(at=_at("10:00:00"))
    second = ledger.stream_started(at=_at("10:00:05"))
    assert ledger.active_streams == 2
    ledger.stream_ended(first, at=_at("10:00:10"))
    assert ledger.active_streams == 1
    assert ledger.stream_intervals() == [
        StreamInterval(_at("10:00:00"), _at("10:00:10")),
        StreamInterval(_at("10:00:05"), None),
    ]
    ledger.stream_ended(second, at=_at("10:00:01"))  # a clock step back never closes before open
    assert ledger.stream_intervals()[1] == StreamInterval(_at("10:00:05"), _at("10:00:05"))


# Over sockets ------------------------------------------------------------------------------------
_RT_CONFIG = {
    "model": "stt-rt-v5",
    "audio_format": "pcm_s16le",
    "sample_rate": 16000,
    "num_channels": 1,
}


def _validate(body: Any) -> None:
    jsonschema.Draft202012Validator(HISTORY, format_checker=jsonschema.FormatChecker()).validate(
        body
    )


def _live_window(period: int) -> dict[str, str]:
    now = datetime.now(UTC)
    return _query(now - timedelta(seconds=period * 2), now + timedelta(seconds=period * 2), period)


def _open_stream(stack: ExitStack, emulator: Emulator) -> ClientConnection:
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    ws = stack.enter_context(connect(emulator.ws_url, additional_headers=headers, open_timeout=5))
    ws.send(json.dumps(_RT_CONFIG))
    ws.send(bytes(3200))
    return ws


def _wait_for_active(api: Api, count: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body = api.client.get("/v1/concurrency-limits").json()
        if body["project"]["current"]["transcribe_concurrent"] == count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} realtime stream(s) never became active")


def _finish(ws: ClientConnection) -> None:
    ws.send(b"")
    for _ in ws:  # drain until the server closes
        pass


@pytest.fixture
def two_overlapping_streams(api: Api, emulator: Emulator) -> None:
    """Two realtime sessions open at the same time, then both finished."""
    with ExitStack() as stack:
        first = _open_stream(stack, emulator)
        second = _open_stream(stack, emulator)
        _wait_for_active(api, 2)
        _finish(first)
        _finish(second)
    _wait_for_active(api, 0)


@pytest.mark.usefixtures("two_overlapping_streams")
@pytest.mark.parametrize("period", [60, 3600, 86400])
def test_two_overlapping_sessions_peak_at_two(api: Api, period: int) -> None:
    """Two realtime sessions open at once show as sample_max 2 at every period."""
    response = api.client.get("/v1/concurrent-streams-history", params=_live_window(period))
    assert response.status_code == 200, response.text
    body = response.json()
    _validate(body)
    assert body["kind"] == "stt"
    assert len(body["entries"]) == 4
    assert max(e["sample_max"] for e in body["entries"]) == 2
    assert sum(e["sample_count"] for e in body["entries"]) >= 1


@pytest.mark.usefixtures("two_overlapping_streams")
def test_live_tts_history_stays_zero(api: Api) -> None:
    """Realtime STT sessions never show up in the ``tts`` history."""
    response = api.client.get(
        "/v1/concurrent-streams-history", params=_live_window(60) | {"kind": "tts"}
    )
    assert response.status_code == 200
    assert {e["sample_max"] for e in response.json()["entries"]} == {0}


def test_a_rejected_session_is_not_counted(api: Api, emulator: Emulator) -> None:
    """A session whose config is refused never counts as a concurrent stream."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with connect(emulator.ws_url, additional_headers=headers, open_timeout=5) as ws:
        ws.send(json.dumps({**_RT_CONFIG, "model": "no-such-model"}))
        for _ in ws:
            pass
    body = api.client.get("/v1/concurrent-streams-history", params=_live_window(60)).json()
    assert {e["sample_max"] for e in body["entries"]} == {0}


def test_history_without_sessions_is_zeros_with_no_gaps(api: Api) -> None:
    """With no realtime session every period is present, aligned, and zero."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    params = _query(start, start + timedelta(hours=3), 3600)
    body = api.client.get("/v1/concurrent-streams-history", params=params).json()
    _validate(body)
    assert [e["period_start"] for e in body["entries"]] == [
        (start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z") for i in range(3)
    ]
    assert {(e["sample_max"], e["sample_sum"], e["sample_count"]) for e in body["entries"]} == {
        (0, 0, 0)
    }


def _error(api: Api, params: dict[str, str]) -> dict[str, Any]:
    response = api.client.get("/v1/concurrent-streams-history", params=params)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    api.checker.validate_schema("components/schemas/ApiError", body)
    assert body["error_type"] == "invalid_request"
    return body


@pytest.mark.parametrize("missing", ["start_time", "end_time", "period_sec", "kind"])
def test_every_parameter_is_required(api: Api, missing: str) -> None:
    """Each of the four query parameters missing is a ``missing`` validation error."""
    params = _live_window(60)
    del params[missing]
    assert _error(api, params)["validation_errors"] == [
        {"error_type": "missing", "location": f"query.{missing}", "message": "Field required"}
    ]


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("period_sec", "120", "literal_error"),
        ("period_sec", "minute", "int_parsing"),
        ("kind", "video", "literal_error"),
        ("start_time", "yesterday", "datetime_from_date_parsing"),
    ],
)
def test_bad_parameters_are_refused(api: Api, field: str, value: str, error_type: str) -> None:
    """A period outside 60/3600/86400, a kind outside stt/tts or an unparsable time is a 400."""
    body = _error(api, _live_window(60) | {field: value})
    [issue] = body["validation_errors"]
    assert (issue["error_type"], issue["location"]) == (error_type, f"query.{field}")


def test_end_before_start_is_refused(api: Api) -> None:
    """``end_time`` must be strictly after ``start_time``."""
    window = _live_window(60)
    body = _error(api, window | {"end_time": window["start_time"]})
    assert body["validation_errors"][0]["location"] == "query.end_time"


def test_too_long_a_window_is_refused(api: Api) -> None:
    """Eight days per minute exceeds the 7-day cap for ``period_sec=60``."""
    params = _query(DAY, DAY + timedelta(days=8), 60)
    body = _error(api, params)
    assert "7 days" in body["message"]
    assert body["validation_errors"][0]["location"] == "query.end_time"
