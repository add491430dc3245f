"""Request/Response values, the Transport protocol and its clock, and two transports.

- :class:`HttpxTransport` — the network (httpcore pools, HTTP/1.1 and HTTP/2);
- :class:`InMemoryTransport` — a Python function, for unit tests of single pieces.
"""

from .base import SYSTEM_CLOCK, Clock, FakeClock, SystemClock, Transport, attempt_timeout
from .httpx_transport import HttpxTransport, classify_error, never_processed
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
    "HttpxTransport",
    "classify_error",
    "never_processed",
    "InMemoryTransport",
    "Reply",
]
