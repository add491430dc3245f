"""Everything the SDK raises, as one tree, plus the factories that turn answers into errors.

::

    SonioxError                               root: ``except SonioxError`` catches all of the SDK
    ├── ClientValidationError   (ValueError)  bad arguments, caught before anything is sent
    ├── DecodeError             (ValueError)  a body or frame is not JSON / not the expected shape
    ├── WebhookSignatureError                 a webhook lacks the configured auth header value
    ├── TranscriptionFailedError              an async job ended in ``error`` (not an HTTP error)
    ├── SonioxTimeoutError      (TimeoutError) any timeout; ``except TimeoutError`` works too
    │   ├── DeadlineExceededError             the call's deadline (all attempts + waits) ran out
    │   │   └── WaitTimeoutError              ``stt.wait()`` gave up before the job finished
    │   └── ConnectTimeoutError, ReadTimeoutError, WriteTimeoutError   (also TransportErrors ↓)
    ├── TransportError                        the exchange failed below HTTP: no status, no body
    │   ├── RequestNotSentError               never reached the server: ALWAYS safe to retry
    │   │   └── ConnectTimeoutError           (+ SonioxTimeoutError; pool timeouts map here too)
    │   └── ResponseLostError                 sent, answer lost: MAY HAVE BEEN PROCESSED
    │       ├── ReadTimeoutError              (+ SonioxTimeoutError)
    │       └── WriteTimeoutError             (+ SonioxTimeoutError)
    └── SonioxAPIError                        the server answered with an error
        ├── InvalidRequestError         400   (+ validation_errors, listed in str())
        ├── AuthenticationError         401
        │   └── PermissionDeniedError   403   (incl. an expired temporary-key session)
        ├── PaymentRequiredError        402   balance or budget exhausted
        ├── NotFoundError               404
        ├── RequestTimeoutError         408   the *server* gave up waiting (realtime)
        ├── ConflictError               409   e.g. transcript of a job not completed
        ├── PayloadTooLargeError        413   e.g. realtime max duration reached
        ├── RateLimitError              429   see ``retry_after``
        └── ServerError                 5xx
            └── ServiceUnavailableError 503   realtime: open a new session

HTTP answers and realtime error frames map to the *same* classes (by HTTP status, resp. the
frame's ``error_code``), so ``except RateLimitError`` covers both; ``origin`` tells them apart
(``"http"`` or ``"realtime"``). The status inside a REST body is not trusted: the API's own 404 and
409 examples say ``"status_code": 400``.

No message, str() or repr() can carry a credential: every message passes :func:`redact`, which
removes registered keys (:func:`register_secret`) and anything shaped like a bearer token, a
``temp:`` key or an ``api_key=`` parameter.
"""

from __future__ import annotations

import http
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from .types.common import ApiErrorValidationError
from .types.realtime import RealtimeErrorFrame

if TYPE_CHECKING:
    from .types.transcriptions import Transcription

__all__ = [
    # tree
    "SonioxError",
    "ClientValidationError",
    "DecodeError",
    "WebhookSignatureError",
    "TranscriptionFailedError",
    "SonioxTimeoutError",
    "DeadlineExceededError",
    "WaitTimeoutError",
    "TransportError",
    "RequestNotSentError",
    "ConnectTimeoutError",
    "ResponseLostError",
    "ReadTimeoutError",
    "WriteTimeoutError",
    "SonioxAPIError",
    "InvalidRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "PaymentRequiredError",
    "NotFoundError",
    "RequestTimeoutError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    # factories
    "error_class_for_status",
    "error_from_response",
    "error_from_realtime_frame",
    "parse_retry_after",
    # redaction
    "redact",
    "register_secret",
    "forget_secret",
]

Origin = Literal["http", "realtime"]
HeadersLike = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]

# --- redaction ---------------------------------------------------------------------------------

_MASK = "***"
_MIN_SECRET_LEN = 8
_secrets: set[str] = set()
_secrets_lock = threading.Lock()

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer <token> / Basic <token>
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/:=\-]+"), rf"\1\2{_MASK}"),
    # temporary keys
    (re.compile(r"\btemp:[A-Za-z0-9_\-]{4,}"), f"temp:{_MASK}"),
    # api_key=..., "api_key": "...", authorization: ..., x-api-key: ..., secrets and passwords
    (
        re.compile(
            r"(?i)\b(api[_\-]?key|x-api-key|authorization|webhook_auth_header_value|"
            r"secret|password|access[_\-]?token)"
            r"(\"?'?\s*[:=]\s*\"?'?)(?!\*\*\*|(?:bearer|basic)\s)([^\s\"',;&}]+)"
        ),
        rf"\1\2{_MASK}",
    ),
    # long runs mixing letters and digits: how generated keys look (uuids have dashes, so stay)
    (
        re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{40,}\b"),
        _MASK,
    ),
)


def register_secret(secret: str) -> None:
    """Make :func:`redact` remove ``secret`` wherever it appears (the client registers its key)."""
    if len(secret) >= _MIN_SECRET_LEN:
        with _secrets_lock:
            _secrets.add(secret)


def forget_secret(secret: str) -> None:
    """Undo :func:`register_secret` (a rotated key)."""
    with _secrets_lock:
        _secrets.discard(secret)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with registered and given secrets, bearer tokens and key-like values masked."""
    with _secrets_lock:
        known = set(_secrets)
    known.update(s for s in secrets if len(s) >= _MIN_SECRET_LEN)
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# --- the tree ----------------------------------------------------------------------------------


class SonioxError(Exception):
    """Root of every error the SDK raises. ``message`` is already redacted."""

    def __init__(self, message: str = "") -> None:
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("message", self.message)]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._repr_fields() if v is not None)
        return f"{type(self).__name__}({fields})"


class ClientValidationError(SonioxError, ValueError):
    """Arguments the API would reject, caught before sending (e.g. both audio_url and file_id)."""

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("field", self.field), *super()._repr_fields()]


class DecodeError(SonioxError, ValueError):
    """A body or frame that is not JSON, or does not fit the expected type (``expected``)."""

    def __init__(self, message: str = "", *, expected: str | None = None) -> None:
        self.expected = expected
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("expected", self.expected), *super()._repr_fields()]


class WebhookSignatureError(SonioxError):
    """A webhook request without the configured auth header value: do not trust its body."""

    def __init__(
        self, message: str = "invalid webhook signature", *, header_name: str | None = None
    ) -> None:
        self.header_name = header_name
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("header_name", self.header_name), *super()._repr_fields()]


class SonioxTimeoutError(SonioxError, TimeoutError):
    """Any timeout. ``timeout`` is the limit that ran out, in seconds, when known."""

    def __init__(self, message: str = "", *, timeout: float | None = None) -> None:
        self.timeout = timeout
        SonioxError.__init__(self, message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [*super()._repr_fields(), ("timeout", self.timeout)]


class DeadlineExceededError(SonioxTimeoutError):
    """The logical call's deadline ran out (it spans every attempt and every wait)."""


class WaitTimeoutError(DeadlineExceededError):
    """Waiting for an async job ran out of time; the job itself may still finish.

    ``transcription_id`` names the job (fetch or delete it later); ``transcription`` is the last
    state seen (None if none was fetched).
    """

    def __init__(
        self,
        message: str = "",
        *,
        timeout: float | None = None,
        transcription_id: str | None = None,
        transcription: Transcription | None = None,
    ) -> None:
        self.transcription_id = transcription_id
        self.transcription = transcription
        super().__init__(message, timeout=timeout)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("transcription_id", self.transcription_id), *super()._repr_fields()]


class TranscriptionFailedError(SonioxError):
    """An async transcription ended with status ``error`` (the API call itself succeeded).

    ``error_type`` / ``error_message`` are the job's own fields; ``transcription`` is the failed
    job as last fetched.
    """

    def __init__(
        self,
        message: str = "",
        *,
        transcription_id: str | None = None,
        error_type: str | None = None,
        error_message: str | None = None,
        transcription: Transcription | None = None,
    ) -> None:
        self.transcription_id = transcription_id
        self.error_type = error_type
        self.error_message = error_message
        self.transcription = transcription
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [
            ("transcription_id", self.transcription_id),
            ("error_type", self.error_type),
            *super()._repr_fields(),
        ]


class TransportError(SonioxError):
    """The request/response exchange failed below HTTP: no status, no body.

    ``safe_to_retry`` is True only when the request certainly never reached the server.
    """

    safe_to_retry: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        url: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.method = method
        self.url = redact(url) if url is not None else None
        self.timeout = timeout
        SonioxError.__init__(self, message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [
            ("message", self.message),
            ("method", self.method),
            ("url", self.url),
            ("timeout", self.timeout),
        ]


class RequestNotSentError(TransportError):
    """The request never reached the server (DNS, refused, TLS, pool): always safe to retry."""

    safe_to_retry: ClassVar[bool] = True


class ResponseLostError(TransportError):
    """The request went out but no complete answer came back: it may have been processed.

    Retry only idempotent calls, or ones that carry a key the server deduplicates on.
    """


class ConnectTimeoutError(RequestNotSentError, SonioxTimeoutError):
    """Connecting (or waiting for a pooled connection) timed out; nothing was sent."""


class ReadTimeoutError(ResponseLostError, SonioxTimeoutError):
    """The answer did not arrive in time; the server may still be processing the request."""


class WriteTimeoutError(ResponseLostError, SonioxTimeoutError):
    """Sending the request timed out part-way; treat it as possibly processed."""


class SonioxAPIError(SonioxError):
    """The server answered with an error (an HTTP status >= 400 or a realtime error frame).

    ``status`` is the HTTP status (realtime: the frame's ``error_code``); ``retry_after`` is the
    server's requested wait in seconds; ``body`` keeps the raw bytes and is never shown.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        validation_errors: Iterable[ApiErrorValidationError] = (),
        retry_after: float | None = None,
        more_info: str | None = None,
        origin: Origin = "http",
        body: bytes | None = None,
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.validation_errors: list[ApiErrorValidationError] = list(validation_errors)
        self.retry_after = retry_after
        self.more_info = redact(more_info) if more_info is not None else None
        self.origin: Origin = origin
        self.body = body
        super().__init__(message)

    @property
    def is_realtime(self) -> bool:
        """True when this came from a realtime error frame rather than an HTTP answer."""
        return self.origin == "realtime"

    def __str__(self) -> str:
        where = "HTTP" if self.origin == "http" else "realtime"
        head = f"{where} {self.status if self.status is not None else '?'}"
        if self.error_type:
            head += f" {self.error_type}"
        text = f"{head}: {self.message}"
        extras: list[str] = []
        if self.request_id:
            extras.append(f"request_id={self.request_id}")
        if self.retry_after is not None:
            extras.append(f"retry_after={self.retry_after:g}s")
        if extras:
            text += f" ({', '.join(extras)})"
        for problem in self.validation_errors:
            text += f"\n  - {redact(str(problem))}"
        return text

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [
            ("status", self.status),
            ("error_type", self.error_type),
            ("message", self.message),
            ("request_id", self.request_id),
            ("retry_after", self.retry_after),
            ("origin", self.origin),
        ]


class InvalidRequestError(SonioxAPIError):
    """400: the request is malformed; ``validation_errors`` says which fields and why."""


class AuthenticationError(SonioxAPIError):
    """401: the API key is missing, wrong or revoked (403s are a subclass)."""


class PermissionDeniedError(AuthenticationError):
    """403: the key may not do this, or a temporary key's session expired (get a fresh key)."""


class PaymentRequiredError(SonioxAPIError):
    """402: organization balance or a monthly budget is exhausted."""


class NotFoundError(SonioxAPIError):
    """404: no such file or transcription (deleted, expired, or another project's)."""


class RequestTimeoutError(SonioxAPIError):
    """408: the server gave up waiting (e.g. a silent realtime session); not a client timeout."""

    retryable: ClassVar[bool] = True


class ConflictError(SonioxAPIError):
    """409: the resource is in the wrong state (e.g. transcript before the job completed)."""


class PayloadTooLargeError(SonioxAPIError):
    """413: too much audio (realtime: the maximum stream duration was reached)."""


class RateLimitError(SonioxAPIError):
    """429: a request-rate or concurrency limit; ``retry_after`` when the server said."""

    retryable: ClassVar[bool] = True


class ServerError(SonioxAPIError):
    """5xx: the server failed; retrying later usually works."""

    retryable: ClassVar[bool] = True


class ServiceUnavailableError(ServerError):
    """503: temporarily unavailable (realtime: the session ended early; start a new one)."""


# --- factories ---------------------------------------------------------------------------------

_BY_STATUS: dict[int, type[SonioxAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# For realtime frames that carry an error_type but no error_code (the documented catalogue).
_STATUS_BY_ERROR_TYPE: dict[str, int] = {
    "invalid_request": 400,
    "invalid_cursor": 400,
    "model_not_available": 400,
    "unauthenticated": 401,
    "organization_balance_exhausted": 402,
    "organization_monthly_budget_exhausted": 402,
    "project_monthly_budget_exhausted": 402,
    "permission_denied": 403,
    "temp_api_key_session_expired": 403,
    "file_not_found": 404,
    "transcription_not_found": 404,
    "request_timeout": 408,
    "transcription_invalid_state": 409,
    "max_duration_reached": 413,
    "limit_exceeded": 429,
    "max_concurrent_connections_reached": 429,
    "internal_error": 500,
    "service_unavailable": 503,
}

_MAX_TEXT_MESSAGE = 500


def error_class_for_status(status: int | None) -> type[SonioxAPIError]:
    """The class for an HTTP status / realtime error code (unknown 4xx: the base class)."""
    if status is None:
        return SonioxAPIError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    return SonioxAPIError


def _header(headers: HeadersLike | None, name: str) -> str | None:
    if headers is None:
        return None
    pairs: Iterable[tuple[object, object]] = (
        cast("Mapping[object, object]", headers).items()
        if isinstance(headers, Mapping)
        else headers
    )
    for key, value in pairs:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def parse_retry_after(headers: HeadersLike | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP-date).

    Negative or unreadable values give None (0.0 for a date in the past). ``now`` is the
    Unix time to measure a date against (default: the wall clock).
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        try:
            value = float(millis.strip())
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _reason(status: int, reason: str | None) -> str:
    if reason:
        return reason
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _validation_errors(raw: object) -> list[ApiErrorValidationError]:
    found: list[ApiErrorValidationError] = []
    if not isinstance(raw, list):
        return found
    for item in cast("list[object]", raw):
        if isinstance(item, Mapping):
            entry = cast("Mapping[str, Any]", item)
            found.append(
                ApiErrorValidationError(
                    error_type=str(entry.get("error_type", "")),
                    location=str(entry.get("location", "")),
                    message=str(entry.get("message", "")),
                )
            )
    return found


def error_from_response(
    status: int,
    headers: HeadersLike | None,
    body: bytes | str | None,
    *,
    reason: str | None = None,
    now: float | None = None,
) -> SonioxAPIError:
    """The error for an HTTP answer with status >= 400, classified by ``status``.

    Reads the REST ``ApiError`` body, else the realtime/TTS shape (``error_code``,
    ``error_message``), else a plain-text body (HTML bodies give the reason phrase), and the
    Retry-After headers. Never raises.
    """
    raw = body.encode() if isinstance(body, str) else (body or b"")
    message: str | None = None
    error_type = request_id = more_info = None
    problems: list[ApiErrorValidationError] = []
    try:
        data: object = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        data = None
        text = raw.decode("utf-8", "replace").strip()
        content_type = (_header(headers, "content-type") or "").lower()
        if text and "html" not in content_type and not text.startswith("<"):
            message = text if len(text) <= _MAX_TEXT_MESSAGE else text[:_MAX_TEXT_MESSAGE] + "..."
    if isinstance(data, Mapping):
        fields = cast("Mapping[str, Any]", data)
        error_type = _opt_str(fields, "error_type")
        request_id = _opt_str(fields, "request_id")
        more_info = _opt_str(fields, "more_info")
        message = (
            _opt_str(fields, "message")
            or _opt_str(fields, "error_message")
            or _opt_str(fields, "detail")
            or _opt_str(fields, "error")
        )
        problems = _validation_errors(fields.get("validation_errors"))
        if message is None:
            message = f"{_reason(status, reason)} (unrecognized error body)"
    request_id = request_id or _header(headers, "x-request-id")
    cls = error_class_for_status(status)
    return cls(
        message or _reason(status, reason),
        status=status,
        error_type=error_type,
        request_id=request_id,
        validation_errors=problems,
        retry_after=parse_retry_after(headers, now=now),
        more_info=more_info,
        origin="http",
        body=raw,
    )


def error_from_realtime_frame(frame: Mapping[str, Any] | RealtimeErrorFrame) -> SonioxAPIError:
    """The error for a realtime error frame, classified by ``error_code`` like an HTTP status."""
    if isinstance(frame, RealtimeErrorFrame):
        code: object = frame.error_code
        error_type = frame.error_type
        message = frame.error_message
        request_id, more_info = frame.request_id, frame.more_info
    else:
        code = frame.get("error_code")
        error_type = _opt_str(frame, "error_type")
        message = _opt_str(frame, "error_message") or _opt_str(frame, "message") or ""
        request_id, more_info = _opt_str(frame, "request_id"), _opt_str(frame, "more_info")
    status: int | None
    if isinstance(code, int) and not isinstance(code, bool):
        status = code
    elif isinstance(code, str) and code.isdigit():
        status = int(code)
    else:
        status = _STATUS_BY_ERROR_TYPE.get(error_type or "")
    cls = error_class_for_status(status)
    return cls(
        message or error_type or "realtime session error",
        status=status,
        error_type=error_type,
        request_id=request_id,
        more_info=more_info,
        origin="realtime",
    )
