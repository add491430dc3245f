"""Everything the SDK raises, as one tree, plus the factories that turn answers into errors.

::

    SonioxError                               root: ``except SonioxError`` catches all of the SDK
    ├── ClientValidationError   (ValueError)  bad arguments, caught before anything is sent
    │   ├── RequestValidationError            … of a request the API would refuse (also ↓ 400)
    │   ├── SourceNotFoundError (FileNotFoundError) an upload's path does not exist
    │   └── WebhookNotConfiguredError         a webhook check was required but no secret is set
    ├── DecodeError             (ValueError)  a body or frame is not JSON / not the expected shape
    ├── WebhookSignatureError                 a webhook lacks the configured auth header value
    ├── SharedStateUnavailableError           Redis (shared limits) is down, policy fail_closed
    ├── SonioxRealtimeError                   anything a realtime session raises
    │   ├── SessionClosedError                audio or a control sent after finish/close/failure
    │   ├── RealtimeProtocolError             the server sent what the protocol does not allow
    │   ├── RealtimeConnectionError           dropped, and could not be resumed (``attempts``)
    │   ├── BufferOverflowError               the realtime buffer is full (overflow "raise")
    │   └── RealtimeAPIError                  an error frame (also a SonioxAPIError ↓, by code):
    │       RealtimeInvalidRequestError 400, RealtimeAuthenticationError 401,
    │       RealtimePaymentRequiredError 402, RealtimePermissionDeniedError 403,
    │       RealtimeNotFoundError 404, RealtimeRequestTimeoutError 408,
    │       RealtimeConflictError 409, RealtimePayloadTooLargeError 413,
    │       RealtimeRateLimitError 429, RealtimeServerError 5xx
    │       └── RealtimeServiceUnavailableError 503 ("Cannot continue request": resumable)
    ├── SonioxTimeoutError      (TimeoutError, httpx.TimeoutException) any timeout
    │   ├── DeadlineExceededError             the call's deadline (all attempts + waits) ran out
    │   │   ├── WaitTimeoutError              ``stt.wait()`` gave up before the job finished
    │   │   └── RateLimitWaitError            the client-side rate limit's wait would pass it
    │   └── ConnectTimeoutError, ReadTimeoutError, WriteTimeoutError   (also TransportErrors ↓)
    ├── TransportError   (httpx.TransportError) the exchange failed below HTTP: no status, no body
    │   ├── RequestNotSentError (httpx.ConnectError) never reached the server: ALWAYS safe to retry
    │   │   └── ConnectTimeoutError           (+ SonioxTimeoutError; pool timeouts map here too)
    │   └── ResponseLostError (httpx.ReadError) sent, answer lost: MAY HAVE BEEN PROCESSED
    │       ├── OutcomeUnknownError           … and looking it up did not tell in time
    │       ├── ReadTimeoutError              (+ SonioxTimeoutError)
    │       └── WriteTimeoutError             (+ SonioxTimeoutError)
    └── SonioxAPIError                        the server answered with an error
        ├── InvalidRequestError         400   (+ validation_errors, listed in str())
        │   └── RequestValidationError        refused before sending (see above)
        ├── AuthenticationError         401   (and 403s other than ``permission_denied``)
        │   └── ForbiddenError          403   e.g. an expired temporary-key session
        ├── PermissionDeniedError       403   ``permission_denied``: the key lacks a permission
        ├── PaymentRequiredError        402   balance or budget exhausted
        ├── NotFoundError               404
        ├── RequestTimeoutError         408   the *server* gave up waiting (realtime)
        ├── ConflictError               409   e.g. transcript of a job not completed
        │   └── TranscriptionFailedError      the job ended in ``error``: it has no transcript
        ├── PayloadTooLargeError        413   e.g. realtime max duration reached
        ├── RateLimitError              429   see ``retry_after``
        └── ServerError                 5xx
            └── ServiceUnavailableError 503   realtime: open a new session

The official SDK's names are the same classes (:data:`OFFICIAL_NAMES`): ``SonioxNotFoundError``
*is* :class:`NotFoundError`, ``SonioxAuthenticationError`` *is* :class:`AuthenticationError`, and
so on, so an ``except`` written for the official SDK catches what this one raises, and the
attributes it reads (``status_code``, ``request_id``, ``api_error``, ``response``) are there.
Like the official SDK, a 403 whose ``error_type`` is ``permission_denied`` is not an
:class:`AuthenticationError`, and every other 403 is.

HTTP answers and realtime error frames map to the same classes (by HTTP status, resp. the
frame's ``error_code``): a frame's error is the realtime twin of the status's class (a
:class:`RealtimeRateLimitError` is a :class:`RateLimitError` and a :class:`SonioxRealtimeError`),
so ``except RateLimitError`` covers both and the official SDK's ``except SonioxRealtimeError``
still catches every session error; ``origin`` tells them apart (``"http"`` or ``"realtime"``). The status inside a REST body is not trusted: the API's own 404 and
409 examples say ``"status_code": 400``.

This module is the lowest floor of the package: it imports nothing else of it, so the error body
schema (:class:`ApiError`, :class:`ApiErrorValidationError`) is defined here and re-exported by
:mod:`soniox.types`.

No message, str() or repr() can carry a credential: every message passes :func:`redact`, which
removes registered keys (:func:`register_secret`) and anything shaped like a bearer token, a
``temp:`` key or an ``api_key=`` parameter.
"""

from __future__ import annotations

import errno as _errno
import http
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal, Protocol, cast

import attrs
import httpx

__all__ = [
    # the error body, and what a failure left behind
    "ApiError",
    "ApiErrorValidationError",
    "ServerObjects",
    # tree
    "SonioxError",
    "ClientValidationError",
    "SharedStateUnavailableError",
    "RequestValidationError",
    "WebhookNotConfiguredError",
    "SourceNotFoundError",
    "DecodeError",
    "WebhookSignatureError",
    "SonioxRealtimeError",
    "TranscriptionFailedError",
    "SonioxTimeoutError",
    "DeadlineExceededError",
    "WaitTimeoutError",
    "RateLimitWaitError",
    "TransportError",
    "RequestNotSentError",
    "ConnectTimeoutError",
    "ResponseLostError",
    "OutcomeUnknownError",
    "ReadTimeoutError",
    "WriteTimeoutError",
    "SonioxAPIError",
    "InvalidRequestError",
    "AuthenticationError",
    "ForbiddenError",
    "PermissionDeniedError",
    "PaymentRequiredError",
    "NotFoundError",
    "RequestTimeoutError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    # realtime sessions (every one a SonioxRealtimeError)
    "SessionClosedError",
    "RealtimeProtocolError",
    "RealtimeConnectionError",
    "BufferOverflowError",
    "RealtimeAPIError",
    "RealtimeInvalidRequestError",
    "RealtimeAuthenticationError",
    "RealtimePaymentRequiredError",
    "RealtimePermissionDeniedError",
    "RealtimeNotFoundError",
    "RealtimeConflictError",
    "RealtimeRequestTimeoutError",
    "RealtimePayloadTooLargeError",
    "RealtimeRateLimitError",
    "RealtimeServerError",
    "RealtimeServiceUnavailableError",
    # the official SDK's names for the same classes
    "SonioxValidationError",
    "SonioxAuthenticationError",
    "SonioxPermissionDeniedError",
    "SonioxInvalidRequestError",
    "SonioxNotFoundError",
    "SonioxConflictError",
    "SonioxRateLimitError",
    "SonioxServerError",
    "InvalidWebhookSignatureError",
    "OFFICIAL_NAMES",
    # factories
    "error_class_for",
    "error_class_for_status",
    "error_from_response",
    "error_from_realtime_frame",
    "parse_retry_after",
    # redaction
    "redact",
    "register_secret",
    "forget_secret",
]

Origin = Literal["http", "realtime", "client"]
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


# --- the error body ----------------------------------------------------------------------------


@attrs.define(frozen=True, kw_only=True)
class ApiErrorValidationError:
    """One field-level problem inside a 400 ``invalid_request`` answer."""

    error_type: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message} ({self.error_type})"


@attrs.define(frozen=True, kw_only=True)
class ApiError:
    """The REST error body. ``status_code`` in the body is unreliable: classify by HTTP status."""

    status_code: int
    error_type: str
    message: str
    validation_errors: list[ApiErrorValidationError] = attrs.field(
        factory=list[ApiErrorValidationError]
    )
    request_id: str | None = None
    more_info: str | None = None


class JobSnapshot(Protocol):
    """The job an error is about, as last fetched: a :class:`soniox.types.Transcription`.

    (Typed structurally because this module sits below :mod:`soniox.types`.)
    """

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def error_type(self) -> str | None: ...

    @property
    def error_message(self) -> str | None: ...


class _ErrorFrame(Protocol):
    """A realtime error frame (:class:`soniox.types.RealtimeErrorFrame`), read structurally."""

    @property
    def error_code(self) -> object: ...

    @property
    def error_type(self) -> str | None: ...

    @property
    def error_message(self) -> str | None: ...

    @property
    def request_id(self) -> str | None: ...

    @property
    def more_info(self) -> str | None: ...


# --- the tree ----------------------------------------------------------------------------------


@attrs.frozen
class ServerObjects:
    """The objects a failed workflow left on the server, by id: keep, fetch or delete them."""

    transcription_ids: tuple[str, ...] = ()
    file_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.transcription_ids or self.file_ids)


class SonioxError(Exception):
    """Root of every error the SDK raises. ``message`` is already redacted.

    ``response`` is the HTTP :class:`~soniox.transport.Response` behind the error, when there
    is one (the official SDK's attribute; None otherwise). ``left_on_server`` is set by the
    multi-step workflows (``transcribe*``, ``translate*``): exactly what their failure left on the
    server (an empty :class:`ServerObjects` when nothing); None elsewhere.
    """

    response: Any = None
    left_on_server: ServerObjects | None = None
    retry_budget_exhausted: bool = False
    """True when the retry middleware wanted to retry this failure but the client's retry budget
    was empty, so it surfaced at once (a note on the error says so too)."""

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


class SharedStateUnavailableError(SonioxError):
    """The shared state (Redis) did not answer within its timeout, and its policy is
    ``fail_closed``: the call is refused rather than made past limits no one can check."""


class ClientValidationError(SonioxError, ValueError):
    """Arguments the API would reject, caught before sending (e.g. both audio_url and file_id).

    The official SDK calls it ``SonioxValidationError``; ``errors`` (its pydantic details) is
    always None here: ``field`` names the argument instead.
    """

    errors: None = None

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("field", self.field), *super()._repr_fields()]


class WebhookNotConfiguredError(ClientValidationError):
    """A webhook check was required (``require_secret=True``) but no secret is configured
    (argument or ``SONIOX_API_WEBHOOK_SECRET``), so no request can be trusted."""


class SourceNotFoundError(ClientValidationError, FileNotFoundError):
    """An upload's source is a path that does not exist; nothing was sent.

    Also the builtin :class:`FileNotFoundError` (``errno`` is ENOENT, ``filename`` the path) the
    official SDK lets through, so ``except FileNotFoundError`` and ``except SonioxError`` (or
    ``ClientValidationError``) both catch it.
    """

    def __init__(
        self, message: str = "", *, filename: str | None = None, field: str | None = "file"
    ) -> None:
        super().__init__(message, field=field)
        self.errno = _errno.ENOENT
        self.strerror = "No such file or directory"
        self.filename = filename

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError's own reduce would drop errno and filename (they are not in __dict__).
        state = {**self.__dict__, "errno": self.errno, "strerror": self.strerror}
        return (type(self), (self.message,), {**state, "filename": self.filename})

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("field", self.field), ("filename", self.filename), ("message", self.message)]


class DecodeError(SonioxError, ValueError):
    """A body or frame that is not JSON, or does not fit the expected type (``expected``)."""

    def __init__(self, message: str = "", *, expected: str | None = None) -> None:
        self.expected = expected
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("expected", self.expected), *super()._repr_fields()]


class WebhookSignatureError(SonioxError):
    """A webhook request without the configured auth header value: do not trust its body.

    The official SDK calls it ``InvalidWebhookSignatureError``.
    """

    def __init__(
        self, message: str = "invalid webhook signature", *, header_name: str | None = None
    ) -> None:
        self.header_name = header_name
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("header_name", self.header_name), *super()._repr_fields()]


class SonioxRealtimeError(SonioxError):
    """A realtime session used in a way its state does not allow (e.g. receiving after
    ``close()``). Errors the server sends in a session are :class:`SonioxAPIError` subclasses
    with ``origin="realtime"``."""


class SonioxTimeoutError(SonioxError, TimeoutError, httpx.TimeoutException):
    """Any timeout. ``timeout`` is the limit that ran out, in seconds, when known.

    Also a builtin ``TimeoutError`` and an ``httpx.TimeoutException``, so the ``except`` clauses
    of code written for the official SDK (which surfaces httpx's exceptions) catch it."""

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
        transcription: JobSnapshot | None = None,
    ) -> None:
        self.transcription_id = transcription_id
        self.transcription = transcription
        super().__init__(message, timeout=timeout)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("transcription_id", self.transcription_id), *super()._repr_fields()]


class RateLimitWaitError(DeadlineExceededError):
    """The client-side rate limit would hold the call past its deadline, so it fails at once
    instead of waiting: ``wait`` is the seconds it would have needed, ``limit`` the limit that
    set it (``"client"``, a route such as ``"POST /v1/transcriptions"``, or ``"adaptive"``),
    ``timeout`` what was left of the deadline."""

    def __init__(
        self,
        message: str = "",
        *,
        wait: float,
        limit: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.wait = wait
        self.limit = limit
        super().__init__(message, timeout=timeout)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [("wait", self.wait), ("limit", self.limit), *super()._repr_fields()]


class TransportError(SonioxError, httpx.TransportError):
    """The request/response exchange failed below HTTP: no status, no body.

    ``safe_to_retry`` is True only when the request certainly never reached the server. Each
    class is also the httpx exception the official SDK would have let through (``ConnectError``,
    ``ReadError``, ``ConnectTimeout`` …), so ``except httpx.HTTPError`` keeps working.
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


class RequestNotSentError(TransportError, httpx.ConnectError):
    """The request never reached the server (DNS, refused, TLS, pool): always safe to retry."""

    safe_to_retry: ClassVar[bool] = True


class ResponseLostError(TransportError, httpx.ReadError):
    """The request went out but no complete answer came back: it may have been processed.

    Retry only idempotent calls, or ones that carry a key the server deduplicates on.
    """


class OutcomeUnknownError(ResponseLostError):
    """A call whose answer was lost, and whose outcome could not be found out in time.

    Never a plain failure: the server may have done it. ``operation`` is what was asked
    (``stt.create``, ``files.upload``, ``files.delete`` …), ``client_reference_id`` the reference
    to look for (creates and uploads), ``resource_id`` the object concerned (deletes), and
    ``recovery`` the call that tells — e.g. ``stt.list_all()`` and look for the reference, or
    ``files.get_or_none(id)``. The ``__cause__`` is the last error of the look-ups.
    """

    def __init__(
        self,
        message: str = "",
        *,
        operation: str = "",
        client_reference_id: str | None = None,
        resource_id: str | None = None,
        recovery: str | None = None,
    ) -> None:
        self.operation = operation
        self.client_reference_id = client_reference_id
        self.resource_id = resource_id
        self.recovery = recovery
        super().__init__(message)

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [
            ("operation", self.operation),
            ("client_reference_id", self.client_reference_id),
            ("resource_id", self.resource_id),
            ("message", self.message),
        ]


class ConnectTimeoutError(RequestNotSentError, SonioxTimeoutError, httpx.ConnectTimeout):
    """Connecting (or waiting for a pooled connection) timed out; nothing was sent."""


class ReadTimeoutError(ResponseLostError, SonioxTimeoutError, httpx.ReadTimeout):
    """The answer did not arrive in time; the server may still be processing the request."""


class WriteTimeoutError(ResponseLostError, SonioxTimeoutError, httpx.WriteTimeout):
    """Sending the request timed out part-way; treat it as possibly processed."""


class SonioxAPIError(SonioxError):
    """The server answered with an error (an HTTP status >= 400 or a realtime error frame).

    ``status`` (alias ``status_code``) is the HTTP status (realtime: the frame's
    ``error_code``); ``retry_after`` is the server's requested wait in seconds; ``body`` keeps
    the raw bytes and is never shown; ``api_error`` is the parsed body as the official SDK
    exposes it. The official constructor's ``api_error=`` and ``response=`` are accepted too.
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
        api_error: ApiError | None = None,
        response: Any = None,
    ) -> None:
        if api_error is not None:
            error_type = error_type or api_error.error_type
            request_id = request_id or api_error.request_id
            more_info = more_info or api_error.more_info
            validation_errors = validation_errors or api_error.validation_errors
            message = message or api_error.message
        if status is None and response is not None:
            found = getattr(response, "status_code", getattr(response, "status", None))
            status = found if isinstance(found, int) else None
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.validation_errors: list[ApiErrorValidationError] = list(validation_errors)
        self.retry_after = retry_after
        self.more_info = redact(more_info) if more_info is not None else None
        self.origin: Origin = origin
        self.body = body
        self.response = response
        self._api_error = api_error
        super().__init__(message)

    @property
    def status_code(self) -> int | None:
        """The official SDK's name for :attr:`status`."""
        return self.status

    @property
    def api_error(self) -> ApiError | None:
        """The error body as the official SDK parses it (None when the server sent no
        ``error_type``, e.g. a plain-text or HTML answer)."""
        if self._api_error is not None:
            return self._api_error
        if self.error_type is None:
            return None
        return ApiError(
            status_code=self.status if self.status is not None else 0,
            error_type=self.error_type,
            message=self.message,
            validation_errors=list(self.validation_errors),
            request_id=self.request_id,
            more_info=self.more_info,
        )

    @property
    def is_realtime(self) -> bool:
        """True when this came from a realtime error frame rather than an HTTP answer."""
        return self.origin == "realtime"

    @classmethod
    def from_response(cls, response: Any) -> SonioxAPIError:
        """The typed error of an HTTP answer (ours, or anything shaped like an
        ``httpx.Response``): the official SDK's factory, over :func:`error_from_response`."""
        status = getattr(response, "status_code", None)
        if not isinstance(status, int):
            status = int(getattr(response, "status", 0))
        content = getattr(response, "content", b"")
        return error_from_response(
            status,
            getattr(response, "headers", None),
            content if isinstance(content, bytes | str) else None,
            reason=getattr(response, "reason_phrase", None),
            response=response,
        )

    def __str__(self) -> str:
        # The official SDK's text first, word for word ("File not found. (HTTP 404)" and the
        # flattened validation errors), then what this SDK adds, in brackets.
        text = self.message
        if self.status is not None:
            text += (
                f" (HTTP {self.status})" if self.origin == "http" else f" (realtime {self.status})"
            )
        if self.validation_errors:
            problems = ", ".join(f"{p.location}: {p.message}" for p in self.validation_errors)
            text += f" Validation errors: {redact(problems)}"
        extras = [
            f"{name}={value}"
            for name, value in (
                ("error_type", self.error_type),
                ("request_id", self.request_id),
                ("retry_after", None if self.retry_after is None else f"{self.retry_after:g}s"),
            )
            if value
        ]
        if extras:
            text += f" [{', '.join(extras)}]"
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


class RequestValidationError(ClientValidationError, InvalidRequestError):
    """A request the API would refuse with 400, refused here before anything was sent.

    It is a :class:`ClientValidationError` (the official ``SonioxValidationError``; ``field``
    names the argument) *and* an :class:`InvalidRequestError`, so an ``except
    SonioxInvalidRequestError`` written for the official SDK — which sends such a request and
    gets the 400 back — still catches it, and reads ``status_code`` 400 as it would there.
    ``origin`` is ``"client"``: no request was made. (What the official SDK itself checks
    before sending — the audio sources, the translate keywords — stays a plain
    :class:`ClientValidationError`, as there.)
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        SonioxAPIError.__init__(
            self, message, status=400, error_type="invalid_request", origin="client"
        )

    def __str__(self) -> str:
        return self.message


class AuthenticationError(SonioxAPIError):
    """401: the API key is missing, wrong or revoked (and 403s that are not
    ``permission_denied``: :class:`ForbiddenError`)."""


class ForbiddenError(AuthenticationError):
    """403 other than ``permission_denied``: e.g. a temporary key's session expired (get a
    fresh key). The official SDK raises ``SonioxAuthenticationError`` here, as this is one."""


class PermissionDeniedError(SonioxAPIError):
    """``permission_denied`` (403): the key is valid but may not do this (see the Console's API
    key permissions). As in the official SDK, not an :class:`AuthenticationError`."""


class PaymentRequiredError(SonioxAPIError):
    """402: organization balance or a monthly budget is exhausted."""


class NotFoundError(SonioxAPIError):
    """404: no such file or transcription (deleted, expired, or another project's)."""


class RequestTimeoutError(SonioxAPIError):
    """408: the server gave up waiting (e.g. a silent realtime session); not a client timeout."""

    retryable: ClassVar[bool] = True


class ConflictError(SonioxAPIError):
    """409: the resource is in the wrong state (e.g. transcript before the job completed)."""


class TranscriptionFailedError(ConflictError):
    """An async transcription ended with status ``error`` (the API calls themselves succeeded).

    Raised where a transcript was asked for (``…_with_tokens``) or a failure is to raise
    (``wait(raise_on_error=True)``): a failed job has no transcript, which the API answers with
    409 — so this *is* a :class:`ConflictError`, and an ``except SonioxConflictError`` written
    for the official SDK still catches it. ``error_type`` / ``error_message`` are the job's own
    fields; ``transcription`` is the failed job as last fetched. When the transcript was asked
    for, ``status`` (409), ``request_id``, ``api_error`` and ``response`` are the API's answer.
    """

    def __init__(
        self,
        message: str = "",
        *,
        transcription_id: str | None = None,
        error_type: str | None = None,
        error_message: str | None = None,
        transcription: JobSnapshot | None = None,
        answer: SonioxAPIError | None = None,
    ) -> None:
        self.transcription_id = transcription_id
        self.error_message = error_message
        self.transcription = transcription
        if answer is None:
            super().__init__(message, error_type=error_type)
            return
        super().__init__(
            message,
            status=answer.status,
            error_type=error_type,
            request_id=answer.request_id,
            more_info=answer.more_info,
            body=answer.body,
            api_error=answer.api_error,
            response=answer.response,
        )

    def __str__(self) -> str:
        return self.message

    def _repr_fields(self) -> list[tuple[str, object]]:
        return [
            ("transcription_id", self.transcription_id),
            ("error_type", self.error_type),
            ("message", self.message),
        ]


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


# --- the official SDK's names ----------------------------------------------------------------------

SonioxValidationError = ClientValidationError
SonioxAuthenticationError = AuthenticationError
SonioxPermissionDeniedError = PermissionDeniedError
SonioxInvalidRequestError = InvalidRequestError
SonioxNotFoundError = NotFoundError
SonioxConflictError = ConflictError
SonioxRateLimitError = RateLimitError
SonioxServerError = ServerError
InvalidWebhookSignatureError = WebhookSignatureError

OFFICIAL_NAMES: dict[str, type[SonioxError]] = {
    "SonioxError": SonioxError,
    "SonioxValidationError": SonioxValidationError,
    "SonioxAPIError": SonioxAPIError,
    "SonioxAuthenticationError": SonioxAuthenticationError,
    "SonioxPermissionDeniedError": SonioxPermissionDeniedError,
    "SonioxInvalidRequestError": SonioxInvalidRequestError,
    "SonioxNotFoundError": SonioxNotFoundError,
    "SonioxConflictError": SonioxConflictError,
    "SonioxRateLimitError": SonioxRateLimitError,
    "SonioxServerError": SonioxServerError,
    "InvalidWebhookSignatureError": InvalidWebhookSignatureError,
    "SonioxRealtimeError": SonioxRealtimeError,
}
"""Each name the official SDK's ``soniox.errors`` exports → the class of this tree it is."""


# --- realtime sessions ---------------------------------------------------------------------------


class SessionClosedError(SonioxRealtimeError):
    """Audio or a control message sent to a session that was finished, closed or failed."""


class RealtimeProtocolError(SonioxRealtimeError):
    """The server sent what the realtime protocol does not allow (not JSON, a wrong shape)."""


class RealtimeConnectionError(SonioxRealtimeError):
    """A session's connection failed or dropped and could not be resumed (reconnection off,
    not allowed for that failure, or out of attempts). ``attempts``: connections tried."""

    def __init__(self, message: str = "", *, attempts: int = 0) -> None:
        self.attempts = attempts
        SonioxRealtimeError.__init__(self, message)


class BufferOverflowError(SonioxRealtimeError):
    """Audio found the realtime buffer full (overflow policy ``raise``) while the session
    waited for a connection: the chunk is refused (the caller still has it), nothing else is
    lost."""


class RealtimeAPIError(SonioxAPIError, SonioxRealtimeError):
    """An error frame of a realtime session (``origin="realtime"``): a :class:`SonioxAPIError`
    classified by ``error_code`` like an HTTP status, and a :class:`SonioxRealtimeError`, so
    the official SDK's ``except SonioxRealtimeError`` still catches it."""


class RealtimeInvalidRequestError(RealtimeAPIError, InvalidRequestError):
    """400 in a realtime session (a config the server refuses)."""


class RealtimeAuthenticationError(RealtimeAPIError, AuthenticationError):
    """401 in a realtime session."""


class RealtimePaymentRequiredError(RealtimeAPIError, PaymentRequiredError):
    """402 in a realtime session."""


class RealtimePermissionDeniedError(RealtimeAPIError, PermissionDeniedError, ForbiddenError):
    """403 in a realtime session (``temp_api_key_session_expired`` too)."""


class RealtimeNotFoundError(RealtimeAPIError, NotFoundError):
    """404 in a realtime session."""


class RealtimeConflictError(RealtimeAPIError, ConflictError):
    """409 in a realtime session."""


class RealtimeRequestTimeoutError(RealtimeAPIError, RequestTimeoutError):
    """408 in a realtime session: no audio and no keepalive for too long."""


class RealtimePayloadTooLargeError(RealtimeAPIError, PayloadTooLargeError):
    """413 in a realtime session: the stream reached its maximum duration."""


class RealtimeRateLimitError(RealtimeAPIError, RateLimitError):
    """429 in a realtime session (``limit_exceeded``, ``max_concurrent_connections_reached``)."""


class RealtimeServerError(RealtimeAPIError, ServerError):
    """5xx in a realtime session."""


class RealtimeServiceUnavailableError(RealtimeServerError, ServiceUnavailableError):
    """503 in a realtime session ("Cannot continue request": resumable by reconnecting)."""


_REALTIME_TWINS: dict[type[SonioxAPIError], type[RealtimeAPIError]] = {
    InvalidRequestError: RealtimeInvalidRequestError,
    AuthenticationError: RealtimeAuthenticationError,
    ForbiddenError: RealtimePermissionDeniedError,
    PermissionDeniedError: RealtimePermissionDeniedError,
    PaymentRequiredError: RealtimePaymentRequiredError,
    NotFoundError: RealtimeNotFoundError,
    ConflictError: RealtimeConflictError,
    RequestTimeoutError: RealtimeRequestTimeoutError,
    PayloadTooLargeError: RealtimePayloadTooLargeError,
    RateLimitError: RealtimeRateLimitError,
    ServerError: RealtimeServerError,
    ServiceUnavailableError: RealtimeServiceUnavailableError,
}


# --- factories ---------------------------------------------------------------------------------

_BY_STATUS: dict[int, type[SonioxAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: ForbiddenError,
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


def error_class_for(status: int | None, error_type: str | None) -> type[SonioxAPIError]:
    """The class for a status refined by the body's ``error_type``: ``permission_denied`` is a
    :class:`PermissionDeniedError` whatever the status (as in the official SDK)."""
    if error_type == "permission_denied":
        return PermissionDeniedError
    return error_class_for_status(status)


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
    response: Any = None,
) -> SonioxAPIError:
    """The error for an HTTP answer with status >= 400, classified by ``status`` (and
    ``error_type``, see :func:`error_class_for`).

    Reads the REST ``ApiError`` body, else the realtime/TTS shape (``error_code``,
    ``error_message``), else a plain-text body (HTML bodies give the reason phrase), and the
    Retry-After headers; ``response`` is kept on the error. Never raises.
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
    cls = error_class_for(status, error_type)
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
        response=response,
    )


def error_from_realtime_frame(frame: Mapping[str, Any] | _ErrorFrame) -> RealtimeAPIError:
    """The error for a realtime error frame (its JSON, or a
    :class:`~soniox.types.RealtimeErrorFrame`), classified by ``error_code`` like an HTTP
    status: a :class:`RealtimeAPIError` subclass, also the REST class of that status."""
    if not isinstance(frame, Mapping):
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
    cls = _REALTIME_TWINS.get(error_class_for(status, error_type), RealtimeAPIError)
    return cls(
        message or error_type or "realtime session error",
        status=status,
        error_type=error_type,
        request_id=request_id,
        more_info=more_info,
        origin="realtime",
    )
