"""Logging: one DEBUG record per attempt, one per scheduled retry; nothing is configured.

Where records go: if the application configured structlog (``structlog.is_configured()``), to
``structlog.get_logger("soniox")`` as key/value events; otherwise to the stdlib logger
``soniox`` (``logging.getLogger("soniox")``) with the same fields in ``extra``. The SDK never
adds handlers or sets levels: with logging unconfigured nothing is printed, and the per-attempt
cost is one ``isEnabledFor`` check.

Headers are logged through an allowlist: names outside it keep their place but show
``<redacted>``, so a new credential-bearing header can never leak by default. A credential-bearing
name (:func:`soniox.transport.request.is_credential_header`) stays ``<redacted>`` even when added
to ``safe_headers``, and shown values, error texts and retry reasons pass through
:func:`soniox.errors.redact` (registered secrets masked) — only when a record is made.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final, cast

from soniox.errors import redact
from soniox.middleware.engine import HookMiddleware
from soniox.transport.request import Headers, Request
from soniox.transport.response import Response

__all__ = [
    "LOGGER_NAME",
    "SAFE_HEADERS",
    "LoggingMiddleware",
    "log_event",
    "log_retry",
    "request_id_of",
]

LOGGER_NAME: Final = "soniox"
SAFE_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "retry-after",
        "retry-after-ms",
        "server",
        "transfer-encoding",
        "user-agent",
        "x-request-id",
    }
)
"""Header names whose values may appear in log records."""

_stdlib = logging.getLogger(LOGGER_NAME)


_structlog_module: list[Any] = []


def _structlog() -> Any | None:
    """The structlog module when the application configured it, else None (checked per record:
    an application may configure structlog after creating the client)."""
    if not _structlog_module:
        try:
            import structlog
        except ImportError:  # pragma: no cover - structlog is a dependency
            _structlog_module.append(None)
        else:
            _structlog_module.append(structlog)
    module = _structlog_module[0]
    return module if module is not None and module.is_configured() else None


def _emit(event: str, message: str, fields: Mapping[str, Any], level: int = logging.DEBUG) -> None:
    structlog = _structlog()
    if structlog is not None:
        structlog.get_logger(LOGGER_NAME).log(level, event, **fields)
        return
    if _stdlib.isEnabledFor(level):
        _stdlib.log(level, message, extra={"event": event, **fields})


def _enabled(level: int = logging.DEBUG) -> bool:
    return _structlog() is not None or _stdlib.isEnabledFor(level)


def log_event(event: str, message: str, fields: Mapping[str, Any], level: int) -> None:
    """One record from elsewhere in the SDK (the realtime chain), the way this module logs:
    structlog when configured, else the ``soniox`` stdlib logger; text fields redacted."""
    if not _enabled(level):
        return
    clean = {
        key: redact(value) if isinstance(value, str) else value for key, value in fields.items()
    }
    _emit(event, redact(message), clean, level)


def request_id_of(response: Response) -> str | None:
    """The request id: ``x-request-id`` header, else ``request_id`` in a JSON error body."""
    rid = response.headers.get("x-request-id")
    if rid is not None or response.status < 400 or not response.is_stream_consumed:
        return rid
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        value: object = cast("dict[str, object]", data).get("request_id")
        return value if isinstance(value, str) else None
    return None


def _headers(headers: Headers, allow: frozenset[str]) -> dict[str, str]:
    return dict(headers.redacted(allow))


def log_retry(request: Request, delay: float, reason: str) -> None:
    """The record for a scheduled retry (called by the retry middleware)."""
    if not _enabled():
        return
    fields = {
        "http_method": request.method,
        "http_path": redact(request.path),
        "attempt": request.attempt,
        "retry_in_s": round(delay, 4),
        "reason": redact(reason),
        "operation": request.options.operation,
    }
    _emit(
        "soniox.http.retry",
        f"retrying {request.method} {fields['http_path']} in {delay:.3f}s "
        f"after attempt {request.attempt}: {fields['reason']}",
        fields,
    )


class LoggingMiddleware(HookMiddleware):
    """Logs each attempt that passes through it (place it inside ``retry`` to see them all)."""

    name = "logging"

    def __init__(
        self,
        *,
        level: int = logging.DEBUG,
        log_headers: bool = True,
        safe_headers: frozenset[str] = SAFE_HEADERS,
    ) -> None:
        self.level = level
        self.log_headers = log_headers
        self.safe_headers = frozenset(h.lower() for h in safe_headers)

    def on_response(self, request: Request, response: Response) -> Response:
        if not _enabled(self.level):
            return response
        rid = request_id_of(response)
        elapsed_ms = round(response.elapsed * 1000.0, 3)
        fields: dict[str, Any] = {
            "http_method": request.method,
            "http_path": redact(request.path),
            "http_status": response.status,
            "http_version": response.http_version,
            "elapsed_ms": elapsed_ms,
            "attempt": request.attempt,
            "request_id": rid,
            "operation": request.options.operation,
        }
        if self.log_headers:
            fields["request_headers"] = _headers(request.headers, self.safe_headers)
            fields["response_headers"] = _headers(response.headers, self.safe_headers)
        _emit(
            "soniox.http.response",
            f"{request.method} {fields['http_path']} -> {response.status} in {elapsed_ms:.1f} ms "
            f"(attempt {request.attempt}, request_id={rid})",
            fields,
            self.level,
        )
        return response

    def on_error(self, request: Request, error: Exception) -> None:
        if not _enabled(self.level):
            return
        # SDK errors are redacted already; anything else (a hook's, a body's) is redacted here.
        text = redact(str(error))
        fields: dict[str, Any] = {
            "http_method": request.method,
            "http_path": redact(request.path),
            "attempt": request.attempt,
            "error": type(error).__name__,
            "error_message": text,
            "operation": request.options.operation,
        }
        if self.log_headers:
            fields["request_headers"] = _headers(request.headers, self.safe_headers)
        _emit(
            "soniox.http.error",
            f"{request.method} {fields['http_path']} failed (attempt {request.attempt}): "
            f"{type(error).__name__}: {text}",
            fields,
            self.level,
        )

    def __repr__(self) -> str:
        return (
            f"LoggingMiddleware(level={logging.getLevelName(self.level)}, "
            f"log_headers={self.log_headers}, structlog={'auto'})"
        )
