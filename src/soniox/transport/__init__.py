"""Request/Response values, the Transport protocol and its clock, and two transports.

- :class:`HttpcoreTransport` — the network (httpcore's connection pools, HTTP/1.1 and HTTP/2);
- :class:`InMemoryTransport` — a Python function, for unit tests of single pieces.

``HttpxTransport`` is the deprecated former name of :class:`HttpcoreTransport` (it never was an
``httpx.Client``); using it warns with :class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .base import SYSTEM_CLOCK, Clock, FakeClock, SystemClock, Transport, attempt_timeout
from .httpcore_transport import HttpcoreTransport, classify_error, never_processed
from .memory import InMemoryTransport, Reply
from .request import (
    IDEMPOTENT_METHODS,
    URL,
    Headers,
    HeadersInput,
    Request,
    RequestBody,
    RequestOptions,
    StreamBody,
    Timeout,
)
from .response import Response, ResponseNotReadError

__all__ = [
    "Request",
    "RequestOptions",
    "RequestBody",
    "StreamBody",
    "Headers",
    "HeadersInput",
    "URL",
    "Timeout",
    "IDEMPOTENT_METHODS",
    "Response",
    "ResponseNotReadError",
    "Transport",
    "Clock",
    "SystemClock",
    "FakeClock",
    "SYSTEM_CLOCK",
    "attempt_timeout",
    "HttpcoreTransport",
    "classify_error",
    "never_processed",
    "InMemoryTransport",
    "Reply",
]

if TYPE_CHECKING:
    HttpxTransport = HttpcoreTransport  # deprecated: the run-time lookup below warns

_DEPRECATED_NAMES = {"HttpxTransport": "HttpcoreTransport"}


def __getattr__(name: str) -> Any:
    new = _DEPRECATED_NAMES.get(name)
    if new is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"soniox.transport.{name} is deprecated: use soniox.transport.{new} (same class)",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new]
