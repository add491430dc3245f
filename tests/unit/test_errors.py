"""The exception tree: classification of answers and frames, Retry-After, reprs, redaction."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from email.utils import format_datetime as http_date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import soniox.errors as errors_module
from soniox.errors import (
    AuthenticationError,
    ClientValidationError,
    ConflictError,
    ConnectTimeoutError,
    DeadlineExceededError,
    DecodeError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ReadTimeoutError,
    RealtimeAPIError,
    RequestNotSentError,
    RequestTimeoutError,
    ResponseLostError,
    ServerError,
    ServiceUnavailableError,
    SonioxAPIError,
    SonioxError,
    SonioxRealtimeError,
    SonioxTimeoutError,
    TransportError,
    WebhookSignatureError,
    WriteTimeoutError,
    error_class_for_status,
    error_from_realtime_frame,
    error_from_response,
    forget_secret,
    parse_retry_after,
    redact,
    register_secret,
)
from soniox.types import ApiErrorValidationError, RealtimeErrorFrame

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "soniox-openapi.json"
SPEC: dict[str, Any] | None = json.loads(SPEC_PATH.read_text()) if SPEC_PATH.exists() else None
NO_SPEC = f"OpenAPI document not found at {SPEC_PATH} (shared/ is not checked out beside the repo)"

REQUEST_ID = "3d37a3bd-5078-47ee-a369-b204e3bbedda"
API_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

EXPECTED_CLASS = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: ForbiddenError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    500: ServerError,
    502: ServerError,
    503: ServiceUnavailableError,
    504: ServerError,
}


def _spec_error_examples() -> list[Any]:
    if SPEC is None:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=NO_SPEC), id="no-spec")]
    found: list[Any] = []
    for path, operations in SPEC["paths"].items():
        for method, op in operations.items():
            for code, response in op.get("responses", {}).items():
                example = response.get("content", {}).get("application/json", {}).get("example")
                if int(code) >= 400 and example is not None:
                    found.append(pytest.param(int(code), example, id=f"{method} {path} {code}"))
    return found


def _api_error(status: int, error_type: str, message: str, **extra: Any) -> bytes:
    body = {
        "status_code": status,
        "error_type": error_type,
        "message": message,
        "validation_errors": [],
        "request_id": REQUEST_ID,
        **extra,
    }
    return json.dumps(body).encode()


# --- classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "example"), _spec_error_examples())
def test_documented_error_maps_by_http_status(status: int, example: dict[str, Any]) -> None:
    """Every error example in the OpenAPI document maps to the class of its HTTP status."""
    error = error_from_response(status, {}, json.dumps(example).encode())
    assert type(error) is EXPECTED_CLASS[status]
    assert error.status == status
    assert error.error_type == example["error_type"]
    assert error.message == example["message"]
    assert error.request_id == example["request_id"]


def test_404_with_body_status_400_is_not_found() -> None:
    """The spec's 404 examples say status_code 400 in the body: the HTTP status wins."""
    error = error_from_response(404, {}, _api_error(400, "file_not_found", "File not found."))
    assert isinstance(error, NotFoundError)
    assert error.status == 404


def test_409_with_body_status_400_is_conflict() -> None:
    """The spec's 409 examples say status_code 400 in the body: the HTTP status wins."""
    body = _api_error(400, "transcription_invalid_state", "Can only get transcript...")
    assert isinstance(error_from_response(409, {}, body), ConflictError)


@pytest.mark.parametrize(("status", "cls"), sorted(EXPECTED_CLASS.items()))
def test_status_to_class(status: int, cls: type[SonioxAPIError]) -> None:
    """Each documented status has its own class."""
    assert error_class_for_status(status) is cls


def test_unlisted_4xx_is_the_base_class() -> None:
    """A status without a dedicated class still raises a SonioxAPIError."""
    assert type(error_from_response(418, {}, b"")) is SonioxAPIError


def test_a_403_other_than_permission_denied_is_an_authentication_error() -> None:
    """An expired temporary-key session (403) is caught by ``except AuthenticationError``."""
    body = _api_error(403, "temp_api_key_session_expired", "Session expired.")
    error = error_from_response(403, {}, body)
    assert type(error) is ForbiddenError
    assert isinstance(error, AuthenticationError)


def test_permission_denied_is_its_own_class_whatever_the_status() -> None:
    """``permission_denied`` is a PermissionDeniedError, and (as officially) not an
    AuthenticationError, so an ``except`` for each can tell them apart."""
    for status in (403, 400):
        error = error_from_response(status, {}, _api_error(status, "permission_denied", "No."))
        assert type(error) is PermissionDeniedError
        assert not isinstance(error, AuthenticationError)


def test_validation_errors_are_typed() -> None:
    """A 400's validation_errors are ApiErrorValidationError objects."""
    body = _api_error(
        400,
        "invalid_request",
        "Invalid request.",
        validation_errors=[
            {"error_type": "missing", "location": "file.file", "message": "Field required"}
        ],
    )
    error = error_from_response(400, {}, body)
    assert error.validation_errors == [
        ApiErrorValidationError(
            error_type="missing", location="file.file", message="Field required"
        )
    ]


def test_validation_errors_appear_in_str() -> None:
    """str() of an invalid-request error lists each field problem."""
    body = _api_error(
        400,
        "invalid_request",
        "Invalid request.",
        validation_errors=[
            {
                "error_type": "less_than_equal",
                "location": "body.payload.expires_in_seconds",
                "message": "Input should be less than or equal to 3600",
            }
        ],
    )
    text = str(error_from_response(400, {}, body))
    assert text.startswith(
        "Invalid request. (HTTP 400) Validation errors: "
        "body.payload.expires_in_seconds: Input should be less than or equal to 3600"
    )


def test_realtime_shaped_http_body_is_read() -> None:
    """A body in the realtime/TTS shape (error_code, error_message) is understood."""
    body = json.dumps(
        {
            "error_code": 400,
            "error_type": "model_not_available",
            "error_message": "Model not available.",
            "request_id": "r-1",
            "more_info": "https://soniox.com/docs/api-reference/errors#model-not-available",
        }
    ).encode()
    error = error_from_response(400, {}, body)
    assert (error.error_type, error.message, error.request_id) == (
        "model_not_available",
        "Model not available.",
        "r-1",
    )
    assert error.more_info is not None


def test_html_body_gives_reason_phrase() -> None:
    """An HTML error page (a proxy's 502) becomes the reason phrase, not markup."""
    error = error_from_response(
        502, {"content-type": "text/html"}, b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    )
    assert isinstance(error, ServerError)
    assert error.message == "Bad Gateway"


def test_given_reason_phrase_is_used() -> None:
    """The transport's reason phrase is preferred over the standard one."""
    assert error_from_response(503, {}, b"", reason="Down For Maintenance").message == (
        "Down For Maintenance"
    )


def test_plain_text_body_is_the_message() -> None:
    """A plain-text error body is used as the message."""
    assert error_from_response(500, {}, b"upstream connect error").message == (
        "upstream connect error"
    )


def test_empty_body_gives_reason_phrase() -> None:
    """An empty body falls back to the status's reason phrase."""
    assert error_from_response(429, {}, b"").message == "Too Many Requests"


def test_long_text_body_is_truncated() -> None:
    """A huge text body does not become a huge message."""
    assert len(error_from_response(500, {}, b"x" * 10_000).message) < 600


def test_unrecognised_json_body_says_so() -> None:
    """JSON in neither known shape keeps the status class and says the body was not understood."""
    error = error_from_response(500, {}, b'{"foo": 1}')
    assert isinstance(error, ServerError)
    assert "unrecognized" in error.message


def test_detail_field_is_used() -> None:
    """A framework-style ``{"detail": ...}`` body (e.g. from a gateway) gives the message."""
    assert error_from_response(404, {}, b'{"detail": "Not Found"}').message == "Not Found"


def test_request_id_header_is_a_fallback() -> None:
    """Without a request_id in the body, an x-request-id header is used."""
    assert error_from_response(500, {"X-Request-Id": "hdr-1"}, b"").request_id == "hdr-1"


def test_raw_body_is_kept() -> None:
    """The raw bytes stay available on the error for debugging."""
    assert error_from_response(500, {}, b"boom").body == b"boom"


@settings(max_examples=200, deadline=None)
@given(status=st.integers(min_value=400, max_value=599), body=st.binary(max_size=200))
def test_error_from_response_never_raises(status: int, body: bytes) -> None:
    """Any status and any bytes give an error object, never an exception."""
    assert isinstance(error_from_response(status, {}, body), SonioxAPIError)


# --- realtime frames -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cls"), sorted(EXPECTED_CLASS.items()))
def test_realtime_frame_maps_by_error_code(status: int, cls: type[SonioxAPIError]) -> None:
    """A realtime error frame is an instance of the same HTTP status's class, and a
    SonioxRealtimeError (the official SDK's ``except`` clause for sessions)."""
    error = error_from_realtime_frame({"error_code": status, "error_message": "x"})
    assert isinstance(error, cls)
    assert isinstance(error, RealtimeAPIError)
    assert isinstance(error, SonioxRealtimeError)
    assert error.origin == "realtime"


def test_realtime_and_http_share_classes() -> None:
    """``except RateLimitError`` catches both a 429 answer and a 429 frame."""
    frame = error_from_realtime_frame(
        {"error_code": 429, "error_type": "limit_exceeded", "error_message": "Too many."}
    )
    answer = error_from_response(429, {}, _api_error(429, "limit_exceeded", "Too many."))
    assert isinstance(frame, RateLimitError)
    assert isinstance(answer, RateLimitError)
    assert frame.is_realtime
    assert not answer.is_realtime


def test_realtime_frame_without_code_uses_error_type() -> None:
    """An error frame with only an error_type is classified through the documented catalogue."""
    error = error_from_realtime_frame(
        {"error_type": "temp_api_key_session_expired", "error_message": "Session expired."}
    )
    assert isinstance(error, ForbiddenError)
    assert error.status == 403


def test_realtime_frame_object_is_accepted() -> None:
    """A parsed RealtimeErrorFrame maps like the raw dict."""
    frame = RealtimeErrorFrame(
        error_code=503, error_type="service_unavailable", error_message="Cannot continue request."
    )
    assert isinstance(error_from_realtime_frame(frame), ServiceUnavailableError)


def test_realtime_frame_fields_are_kept() -> None:
    """The frame's type, message and request id are on the error."""
    error = error_from_realtime_frame(
        {"error_code": 401, "error_type": "unauthenticated", "error_message": "Bad key.",
         "request_id": "rq"}
    )  # fmt: skip
    assert (error.error_type, error.message, error.request_id) == (
        "unauthenticated",
        "Bad key.",
        "rq",
    )


def test_realtime_str_names_the_origin() -> None:
    """str() says whether the error came over HTTP or a realtime session."""
    assert str(error_from_realtime_frame({"error_code": 408, "error_message": "x"})) == (
        "x (realtime 408)"
    )


# --- Retry-After ----------------------------------------------------------------------------------


def test_retry_after_seconds() -> None:
    """Retry-After in seconds is read onto the error."""
    assert error_from_response(429, {"Retry-After": "7"}, b"").retry_after == 7.0


def test_retry_after_ms_wins() -> None:
    """retry-after-ms is more precise and takes precedence."""
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_retry_after_http_date() -> None:
    """An HTTP-date Retry-After is turned into seconds from now."""
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = http_date(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after({"Retry-After": header}, now=now.timestamp()) == 30.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    """A date already past means retry now."""
    header = "Wed, 01 Jan 2020 00:00:00 GMT"
    assert parse_retry_after({"Retry-After": header}, now=datetime(2026, 1, 1).timestamp()) == 0.0


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", ""])
def test_unreadable_retry_after_is_none(value: str) -> None:
    """Garbage, negative or non-finite Retry-After values are ignored."""
    assert parse_retry_after({"Retry-After": value}) is None


def test_retry_after_from_header_pairs() -> None:
    """Headers may be raw (name, value) byte pairs, in any case."""
    assert parse_retry_after([(b"RETRY-AFTER", b"2")]) == 2.0


def test_no_retry_after_is_none() -> None:
    """Without the headers there is no server-requested delay."""
    assert error_from_response(429, None, b"").retry_after is None


# --- str and repr ---------------------------------------------------------------------------------


def test_str_starts_with_the_official_text_then_adds_type_and_request_id() -> None:
    """str() is the official SDK's ``message (HTTP nnn)``, then error_type and request_id."""
    text = str(error_from_response(404, {}, _api_error(400, "file_not_found", "File not found.")))
    assert text == (
        f"File not found. (HTTP 404) [error_type=file_not_found, request_id={REQUEST_ID}]"
    )


def test_repr_shows_status_type_message_request_id() -> None:
    """repr() carries the same four facts, by name."""
    text = repr(error_from_response(404, {}, _api_error(400, "file_not_found", "File not found.")))
    assert text.startswith("NotFoundError(status=404, error_type='file_not_found',")
    assert "message='File not found.'" in text
    assert f"request_id='{REQUEST_ID}'" in text


def test_str_shows_retry_after() -> None:
    """A server-requested delay is visible in str()."""
    assert "retry_after=2s" in str(error_from_response(429, {"retry-after": "2"}, b""))


def test_repr_omits_the_raw_body() -> None:
    """The raw body (which could hold anything) is not part of the repr."""
    assert "secret-body" not in repr(error_from_response(500, {}, b'{"x": "secret-body"}'))


def test_errors_survive_pickling() -> None:
    """Errors cross process boundaries (multiprocessing, task queues) intact."""
    error = error_from_response(429, {"retry-after": "3"}, _api_error(429, "limit_exceeded", "x"))
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status, copy.retry_after, str(copy)) == (
        RateLimitError,
        429,
        3.0,
        str(error),
    )


def test_transport_timeout_survives_pickling() -> None:
    """A timeout error (an OSError underneath) pickles with its fields."""
    copy = pickle.loads(pickle.dumps(ReadTimeoutError("slow", method="GET", timeout=5.0)))
    assert (copy.message, copy.method, copy.timeout) == ("slow", "GET", 5.0)


# --- redaction ------------------------------------------------------------------------------------


def test_bearer_token_is_redacted() -> None:
    """An Authorization header value is scrubbed."""
    assert redact("sent Authorization: Bearer abc.def-123") == "sent Authorization: Bearer ***"


def test_temporary_key_is_redacted() -> None:
    """temp: keys are scrubbed wherever they appear."""
    assert redact("key temp:WYJ67RBEFUWQXXPKYPD2UGXKWB expired") == "key temp:*** expired"


def test_api_key_parameter_is_redacted() -> None:
    """api_key=... in a URL or message is scrubbed."""
    assert redact("wss://host/x?api_key=abcd1234&model=m") == "wss://host/x?api_key=***&model=m"


def test_json_api_key_is_redacted() -> None:
    """A JSON "api_key" member (e.g. a legacy realtime config) is scrubbed."""
    assert "hunter22hunter22" not in redact('{"api_key": "hunter22hunter22", "model": "m"}')


def test_registered_key_is_redacted() -> None:
    """A key the client registered is scrubbed even with no telltale around it."""
    register_secret("plainkey-XYZ-42")
    try:
        assert redact("oops plainkey-XYZ-42 leaked") == "oops *** leaked"
    finally:
        forget_secret("plainkey-XYZ-42")


def test_explicit_secret_is_redacted() -> None:
    """A secret passed to redact() is scrubbed."""
    assert redact("value s3cr3t-value here", secrets=["s3cr3t-value"]) == "value *** here"


def test_long_key_like_string_is_redacted() -> None:
    """A long run of letters and digits (how generated keys look) is scrubbed."""
    assert API_KEY not in redact(f"got {API_KEY}")


def test_ordinary_messages_are_untouched() -> None:
    """Request ids, uuids and the API's own wording survive redaction."""
    text = (
        "Incorrect API key provided. You can get an API key at https://console.soniox.com "
        f"(request_id={REQUEST_ID})"
    )
    assert redact(text) == text


def test_api_error_never_shows_the_key() -> None:
    """Even a server echoing the key in its message cannot put it in str() or repr()."""
    register_secret(API_KEY)
    try:
        body = _api_error(401, "unauthenticated", f"Key {API_KEY} is invalid (Bearer {API_KEY})")
        error = error_from_response(401, {}, body)
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
        assert API_KEY not in str(error.args)
    finally:
        forget_secret(API_KEY)


def test_every_error_class_redacts() -> None:
    """The root class redacts, so no subclass can carry a bearer token in its message."""
    leaky = "failed with Authorization: Bearer sk-live-abcdef123456"
    for cls in (SonioxError, TransportError, ClientValidationError, DecodeError, ResponseLostError):
        error = cls(leaky)
        assert "sk-live-abcdef123456" not in str(error)
        assert "sk-live-abcdef123456" not in repr(error)


def test_transport_error_url_is_redacted() -> None:
    """A URL carrying a key in its query is scrubbed on transport errors."""
    error = RequestNotSentError("refused", method="GET", url="https://h/v1/x?api_key=abcd1234")
    assert "abcd1234" not in repr(error)


# --- the shape of the tree ------------------------------------------------------------------------


def test_connect_timeout_never_reached_the_server() -> None:
    """A connect timeout is a timeout and a never-sent failure: always safe to retry."""
    error = ConnectTimeoutError("connect timed out", timeout=3.0)
    assert isinstance(error, RequestNotSentError)
    assert isinstance(error, SonioxTimeoutError)
    assert isinstance(error, TimeoutError)
    assert error.safe_to_retry


@pytest.mark.parametrize("cls", [ReadTimeoutError, WriteTimeoutError])
def test_read_and_write_timeouts_may_have_been_processed(cls: type[ResponseLostError]) -> None:
    """Read/write timeouts are ResponseLostError: not blindly safe to retry."""
    error = cls("timed out")
    assert isinstance(error, ResponseLostError)
    assert isinstance(error, TimeoutError)
    assert not error.safe_to_retry


def test_deadline_is_a_timeout_not_a_transport_failure() -> None:
    """Running out of the call's deadline is a timeout, but not a transport failure."""
    assert issubclass(DeadlineExceededError, SonioxTimeoutError)
    assert not issubclass(DeadlineExceededError, TransportError)


def test_client_side_errors_are_value_errors() -> None:
    """Bad arguments and undecodable bodies are also ValueErrors."""
    assert issubclass(ClientValidationError, ValueError)
    assert issubclass(DecodeError, ValueError)


def test_webhook_signature_error_is_a_soniox_error() -> None:
    """A failed webhook check is caught by ``except SonioxError``."""
    assert isinstance(WebhookSignatureError(header_name="X-Soniox-Webhook-Secret"), SonioxError)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (RateLimitError, True),
        (ServerError, True),
        (ServiceUnavailableError, True),
        (RequestTimeoutError, True),
        (InvalidRequestError, False),
        (NotFoundError, False),
        (ConflictError, False),
        (AuthenticationError, False),
    ],
)
def test_retryable_flags(cls: type[SonioxAPIError], retryable: bool) -> None:
    """Throttling, server failures and server timeouts are retryable; client mistakes are not."""
    assert cls.retryable is retryable


def test_every_exported_exception_is_in_the_docstring_tree() -> None:
    """The module docstring's tree names every exception class the module exports (the
    official SDK's names are aliases of those classes, listed in OFFICIAL_NAMES)."""
    doc = errors_module.__doc__ or ""
    classes = [
        name
        for name in errors_module.__all__
        if isinstance(getattr(errors_module, name), type)
        and issubclass(getattr(errors_module, name), BaseException)
        and getattr(errors_module, name).__name__ == name
    ]
    assert classes
    assert [name for name in classes if name not in doc] == []
