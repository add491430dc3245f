"""The REST surface over real sockets: auth on every route, routing errors, models, temp keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openapi_check import OpenApiChecker, load_spec
from rest_support import Api, error_body

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]

_SPEC = load_spec()
OPERATIONS = (
    [
        (method.upper(), template)
        for template, item in _SPEC["paths"].items()
        for method in item
        if method in ("get", "post", "delete", "put", "patch")
    ]
    if _SPEC is not None
    else []
)
EXTRA_ROUTES = [
    "/v1/usage/summary",
    "/v1/usage-logs",
    "/v1/concurrency-limits",
    "/v1/concurrent-streams-history",
]


def _fill(template: str) -> str:
    return template.replace("{file_id}", str(uuid.uuid4())).replace(
        "{transcription_id}", str(uuid.uuid4())
    )


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", "Basic abc"], ids=["none", "wrong", "basic"]
)
def test_every_operation_requires_the_bearer_key(
    emulator: Emulator,
    checker: OpenApiChecker,
    method: str,
    template: str,
    authorization: str | None,
) -> None:
    """Each documented operation answers 401 ``unauthenticated`` without a valid key."""
    headers = {"authorization": authorization} if authorization else {}
    with httpx.Client(base_url=emulator.url, trust_env=False) as client:
        response = client.request(method, _fill(template), headers=headers)
    assert response.status_code == 401
    body = checker.check(
        method, template, 401, response.content, response.headers.get("content-type")
    )
    assert body["error_type"] == "unauthenticated"
    assert body["message"].startswith("Incorrect API key provided.")
    assert "wrong-key" not in response.text


@pytest.mark.parametrize("path", EXTRA_ROUTES)
def test_usage_routes_require_the_bearer_key(
    emulator: Emulator, checker: OpenApiChecker, path: str
) -> None:
    """The usage endpoints are authenticated too."""
    with httpx.Client(base_url=emulator.url, trust_env=False) as client:
        response = client.get(path)
    assert response.status_code == 401
    checker.validate_schema("components/schemas/ApiError", response.json())
    assert response.json()["error_type"] == "unauthenticated"


def test_unknown_route_is_a_404_api_error(api: Api, emulator: Emulator) -> None:
    """An unknown path answers 404 in the ``ApiError`` shape with the request id."""
    response = api.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    api.checker.validate_schema("components/schemas/ApiError", response.json())
    entry = emulator.journal.entries(path="/v1/nothing-here")[-1]
    assert response.json()["request_id"] == entry.request_id


def test_wrong_method_is_a_405_api_error(api: Api) -> None:
    """A known path with an unsupported method answers 405 with ``Allow``."""
    response = api.client.put("/v1/files")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    api.checker.validate_schema("components/schemas/ApiError", response.json())
    assert response.json()["error_type"] == "method_not_allowed"


def test_models_lists_the_current_line_up_with_aliases(api: Api) -> None:
    """``/v1/models`` has the v5 models, v4 aliases, and every required key."""
    models = {m["id"]: m for m in api.call("GET", "/v1/models", expect=200).json()["models"]}
    assert models["stt-rt-v5"]["transcription_mode"] == "real_time"
    assert models["stt-async-v5"]["transcription_mode"] == "async"
    assert models["stt-rt-v4"]["aliased_model_id"] == "stt-rt-v5"
    assert models["stt-async-v4"]["aliased_model_id"] == "stt-async-v5"
    for model in models.values():
        for key in ("context_version", "one_way_translation", "two_way_translation"):
            assert key in model
        assert len(model["languages"]) >= 20
        assert {"code": "en", "name": "English"} in model["languages"]


def test_tts_models_lists_voices(api: Api) -> None:
    """``/v1/tts-models`` has ``tts-rt-v2`` with voices carrying description and gender."""
    [model] = api.call("GET", "/v1/tts-models", expect=200).json()["models"]
    assert model["id"] == "tts-rt-v2"
    assert any(v["id"] == "Adrian" for v in model["voices"])
    for voice in model["voices"]:
        assert voice["gender"] in ("male", "female", "neutral")
        assert voice["description"]


def test_temporary_key_is_created(api: Api, emulator: Emulator) -> None:
    """A valid request gets 201 with a ``temp:`` key that expires as asked."""
    before = datetime.now(UTC)
    response = api.call(
        "POST",
        "/v1/auth/temporary-api-key",
        json={
            "usage_type": "transcribe_websocket",
            "expires_in_seconds": 120,
            "client_reference_id": "browser-1",
            "single_use": True,
            "max_session_duration_seconds": 60,
        },
        expect=201,
    )
    body: dict[str, Any] = response.json()
    assert body["api_key"].startswith("temp:")
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=118) < expires < before + timedelta(seconds=125)
    assert emulator.app.auth.check_stream_key(body["api_key"]).ok
    assert body["api_key"] not in str(emulator.journal.to_json())


def test_temporary_key_is_not_a_rest_key(api: Api, emulator: Emulator) -> None:
    """A temporary key does not authenticate REST calls."""
    key = api.call(
        "POST",
        "/v1/auth/temporary-api-key",
        json={"usage_type": "transcribe_websocket", "expires_in_seconds": 60},
        expect=201,
    ).json()["api_key"]
    with httpx.Client(base_url=emulator.url, trust_env=False) as client:
        response = client.get("/v1/files", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 401
    api.checker.check(
        "GET", "/v1/files", 401, response.content, response.headers.get("content-type")
    )


def test_error_bodies_carry_more_info(api: Api) -> None:
    """Error bodies link to the error reference (``more_info``) like the newer docs."""
    response = api.call(
        "GET", "/v1/files/{file_id}", path_params={"file_id": str(uuid.uuid4())}, expect=404
    )
    assert error_body(response)["more_info"].endswith("#file-not-found")


def test_unexpected_failure_is_a_500_api_error(
    api: Api, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside a handler answers the documented 500 ``internal_error`` body."""

    def broken() -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(emulator.app.rest.store, "file_count", broken)
    response = api.call("GET", "/v1/files/count", expect=500)
    body = error_body(response)
    assert body["error_type"] == "internal_error"
    assert "simulated bug" not in response.text
