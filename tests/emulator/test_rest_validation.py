"""Request validation over real sockets: pydantic-style ``validation_errors`` for bad payloads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_support import Api, error_body, make_wav

pytest_plugins = ["rest_fixtures"]

FILE = "11111111-2222-4333-8444-555555555555"


def _issues(api: Api, payload: Any) -> list[dict[str, str]]:
    response = api.call("POST", "/v1/transcriptions", json=payload, expect=400)
    body = error_body(response)
    assert body["error_type"] == "invalid_request"
    assert body["message"] == "Invalid request."
    return body["validation_errors"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"audio_url": "https://a.test/x.wav"},
            ("missing", "body.payload.model", "Field required"),
            id="model-missing",
        ),
        pytest.param(
            {"model": "stt-async-v9", "audio_url": "https://a.test/x.wav"},
            ("value_error", "body.payload.model", "Invalid model"),
            id="model-unknown",
        ),
        pytest.param(
            {"model": "stt-rt-v5", "audio_url": "https://a.test/x.wav"},
            ("value_error", "body.payload.model", "Invalid model"),
            id="model-realtime-only",
        ),
        pytest.param(
            {"model": "m" * 33, "audio_url": "https://a.test/x.wav"},
            ("string_too_long", "body.payload.model", "String should have at most 32 characters"),
            id="model-too-long",
        ),
        pytest.param(
            {"model": 5, "audio_url": "https://a.test/x.wav"},
            ("string_type", "body.payload.model", "Input should be a valid string"),
            id="model-not-a-string",
        ),
        pytest.param(
            {"model": "stt-async-v5", "audio_url": "ftp://a.test/x.wav"},
            (
                "string_pattern_mismatch",
                "body.payload.audio_url",
                "String should match pattern '^https?://[^\\s]+$'",
            ),
            id="audio-url-pattern",
        ),
        pytest.param(
            {"model": "stt-async-v5", "audio_url": "https://a.test/" + "x" * 4096},
            (
                "string_too_long",
                "body.payload.audio_url",
                "String should have at most 4096 characters",
            ),
            id="audio-url-too-long",
        ),
        pytest.param(
            {"model": "stt-async-v5", "file_id": "not-a-uuid"},
            ("uuid_parsing", "body.payload.file_id", None),
            id="file-id-not-uuid",
        ),
        pytest.param(
            {"model": "stt-async-v5"},
            ("value_error", "body.payload", "Either audio_url or file_id must be specified"),
            id="neither-source",
        ),
        pytest.param(
            {"model": "stt-async-v5", "audio_url": "https://a.test/x.wav", "file_id": FILE},
            ("value_error", "body.payload", "Only one of audio_url or file_id can be specified"),
            id="both-sources",
        ),
        pytest.param(
            {"model": "stt-async-v5", "file_id": FILE},
            ("value_error", "body.payload.file_id", "File not found"),
            id="file-id-unknown",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "language_hints": ["en", "x" * 11],
            },
            (
                "string_too_long",
                "body.payload.language_hints.1",
                "String should have at most 10 characters",
            ),
            id="language-hint-too-long",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "language_hints": ["en"] * 101,
            },
            (
                "too_long",
                "body.payload.language_hints",
                "List should have at most 100 items after validation, not 101",
            ),
            id="too-many-language-hints",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "enable_speaker_diarization": "maybe",
            },
            (
                "bool_parsing",
                "body.payload.enable_speaker_diarization",
                "Input should be a valid boolean, unable to interpret input",
            ),
            id="boolean-unparsable",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "translation": {"type": "one_way"},
            },
            (
                "value_error",
                "body.payload.translation",
                "target_language is required for one_way translation",
            ),
            id="one-way-without-target",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "translation": {"type": "two_way", "language_a": "en"},
            },
            (
                "value_error",
                "body.payload.translation",
                "language_a and language_b are required for two_way translation",
            ),
            id="two-way-without-language-b",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "translation": {"type": "sideways"},
            },
            (
                "enum",
                "body.payload.translation.type",
                "Input should be 'one_way' or 'two_way'",
            ),
            id="translation-type-unknown",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "webhook_url": "not a url",
            },
            (
                "string_pattern_mismatch",
                "body.payload.webhook_url",
                "String should match pattern '^https?://[^\\s]+$'",
            ),
            id="webhook-url-pattern",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "webhook_auth_header_value": "v" * 257,
            },
            (
                "string_too_long",
                "body.payload.webhook_auth_header_value",
                "String should have at most 256 characters",
            ),
            id="webhook-secret-too-long",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "client_reference_id": "c" * 257,
            },
            (
                "string_too_long",
                "body.payload.client_reference_id",
                "String should have at most 256 characters",
            ),
            id="client-reference-too-long",
        ),
        pytest.param(
            {
                "model": "stt-async-v5",
                "audio_url": "https://a.test/x.wav",
                "context": {"general": [{"key": "domain"}]},
            },
            ("missing", "body.payload.context.StructuredContext.general.0.value", "Field required"),
            id="context-general-item-incomplete",
        ),
        pytest.param(
            ["model", "stt-async-v5"],
            (
                "model_attributes_type",
                "body.payload",
                "Input should be a valid dictionary or object to extract fields from",
            ),
            id="body-not-an-object",
        ),
    ],
)
def test_create_transcription_validation(
    api: Api, payload: Any, expected: tuple[str, str, str | None]
) -> None:
    """Each invalid create payload yields exactly the expected validation error."""
    issues = _issues(api, payload)
    assert len(issues) == 1, issues
    error_type, location, message = expected
    assert issues[0]["error_type"] == error_type
    assert issues[0]["location"] == location
    if message is not None:
        assert issues[0]["message"] == message


def test_every_field_problem_is_reported_at_once(api: Api) -> None:
    """Independent field errors are all listed in one response, in field order."""
    issues = _issues(
        api,
        {"model": 1, "audio_url": "nope", "enable_language_identification": [], "context": 3},
    )
    assert [i["location"] for i in issues] == [
        "body.payload.model",
        "body.payload.audio_url",
        "body.payload.enable_language_identification",
        "body.payload.context.StructuredContext",
        "body.payload.context.str",
    ]


def test_lax_booleans_are_accepted(api: Api) -> None:
    """As with pydantic's lax mode, ``"true"`` is accepted for a boolean field."""
    created = api.create(
        file_id=api.upload(make_wav(0.5))["id"], enable_language_identification="true"
    )
    assert created["enable_language_identification"] is True


def test_malformed_json_body_is_a_400(api: Api) -> None:
    """A body that is not JSON gives 400 ``invalid_request`` with a ``json_invalid`` error."""
    response = api.call(
        "POST",
        "/v1/transcriptions",
        content=b'{"model": ',
        headers={"content-type": "application/json"},
        expect=400,
    )
    body = error_body(response)
    assert body["error_type"] == "invalid_request"
    assert body["validation_errors"][0]["error_type"] == "json_invalid"


def test_empty_body_is_a_missing_payload(api: Api) -> None:
    """An empty create body is reported as a missing payload."""
    response = api.call("POST", "/v1/transcriptions", content=b"", expect=400)
    assert error_body(response)["validation_errors"] == [
        {"error_type": "missing", "location": "body.payload", "message": "Field required"}
    ]


def test_unknown_fields_are_ignored(api: Api) -> None:
    """Fields the schema does not know are ignored, as pydantic does by default."""
    file_id = api.upload(make_wav(0.5))["id"]
    created = api.create(file_id=file_id, some_future_option=True)
    assert uuid.UUID(created["id"]).version == 4


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"usage_type": "transcribe_websocket", "expires_in_seconds": 3601},
            (
                "less_than_equal",
                "body.payload.expires_in_seconds",
                "Input should be less than or equal to 3600",
            ),
            id="expires-too-long",
        ),
        pytest.param(
            {"usage_type": "transcribe_websocket", "expires_in_seconds": 0},
            (
                "greater_than_equal",
                "body.payload.expires_in_seconds",
                "Input should be greater than or equal to 1",
            ),
            id="expires-zero",
        ),
        pytest.param(
            {"usage_type": "transcribe_websocket", "expires_in_seconds": 1.5},
            (
                "int_from_float",
                "body.payload.expires_in_seconds",
                "Input should be a valid integer, got a number with a fractional part",
            ),
            id="expires-fractional",
        ),
        pytest.param(
            {"usage_type": "admin", "expires_in_seconds": 60},
            (
                "enum",
                "body.payload.usage_type",
                "Input should be 'transcribe_websocket' or 'tts_rt'",
            ),
            id="usage-type-unknown",
        ),
        pytest.param(
            {"expires_in_seconds": 60},
            ("missing", "body.payload.usage_type", "Field required"),
            id="usage-type-missing",
        ),
        pytest.param(
            {
                "usage_type": "tts_rt",
                "expires_in_seconds": 60,
                "max_session_duration_seconds": 18001,
            },
            (
                "less_than_equal",
                "body.payload.max_session_duration_seconds",
                "Input should be less than or equal to 18000",
            ),
            id="max-session-too-long",
        ),
        pytest.param(
            {"usage_type": "tts_rt", "expires_in_seconds": 60, "single_use": "often"},
            (
                "bool_parsing",
                "body.payload.single_use",
                "Input should be a valid boolean, unable to interpret input",
            ),
            id="single-use-not-boolean",
        ),
    ],
)
def test_temporary_key_validation(
    api: Api, payload: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    """Each invalid temporary-key payload yields exactly the expected validation error."""
    response = api.call("POST", "/v1/auth/temporary-api-key", json=payload, expect=400)
    body = error_body(response)
    assert body["error_type"] == "invalid_request"
    assert [(i["error_type"], i["location"], i["message"]) for i in body["validation_errors"]] == [
        expected
    ]


def test_limit_out_of_range_is_a_query_error(api: Api) -> None:
    """``limit`` outside 1..1000 or not a number is 400 with a ``query.limit`` error."""
    for raw, error_type in (
        ("0", "greater_than_equal"),
        ("1001", "less_than_equal"),
        ("ten", "int_parsing"),
    ):
        for template in ("/v1/files", "/v1/transcriptions"):
            response = api.call("GET", template, params={"limit": raw}, expect=400)
            body = error_body(response)
            assert body["error_type"] == "invalid_request"
            assert body["validation_errors"][0]["location"] == "query.limit"
            assert body["validation_errors"][0]["error_type"] == error_type
