"""The contract between the emulator's wire layer (server.py) and its applications (REST, realtime).

The server parses HTTP/1.1 or HTTP/2, builds an :class:`IncomingRequest` whose body is pulled
from the socket on demand (so uploads stream with flat memory), and sends whatever
:class:`OutgoingResponse` the application returns. WebSocket sessions get a
:class:`WebSocketChannel`. Applications never touch sockets, so connection-level faults stay in
the server and protocol logic stays testable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Protocol

import attrs

from .journal import JournalEntry

__all__ = [
    "BodyTooLarge",
    "Headers",
    "IncomingRequest",
    "OutgoingResponse",
    "WebSocketChannel",
    "WebSocketClosed",
]


class Headers:
    """Case-insensitive, order-keeping multi-dict of header lines (names stored lower-case)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = [(k.lower(), v) for k, v in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self._items:
            if key == lname:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self._items if k == lname]

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({[k for k, _ in self._items]})"


class BodyTooLarge(Exception):
    """Raised by :meth:`IncomingRequest.read_body` when the body exceeds the caller's limit."""


class BodySource(Protocol):
    def __call__(self) -> AsyncIterator[bytes]: ...


@attrs.define(kw_only=True)
class IncomingRequest:
    """One HTTP request (or WebSocket upgrade request) as the application sees it."""

    method: str
    path: str
    query: str
    headers: Headers
    http_version: str  # "1.1" or "2"
    scheme: str  # "http" or "https"
    request_id: str
    journal: JournalEntry
    body_source: BodySource | None = None
    _consumed: bool = False

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives from the socket; can be iterated once."""
        if self._consumed:
            raise RuntimeError("request body already consumed")
        self._consumed = True
        if self.body_source is None:
            return
        async for chunk in self.body_source():
            self.journal.request_bytes += len(chunk)
            yield chunk

    async def read_body(self, limit: int = 16 * 1024 * 1024) -> bytes:
        """The whole body (for small JSON bodies); :class:`BodyTooLarge` past ``limit`` bytes."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.body_chunks():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"request body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


@attrs.define(kw_only=True)
class OutgoingResponse:
    """Status, headers and a body: bytes, or an async iterator with ``content_length`` when known."""

    status: int
    headers: list[tuple[str, str]] = attrs.field(factory=list[tuple[str, str]])
    body: bytes | AsyncIterator[bytes] = b""
    content_length: int | None = None


class WebSocketClosed(Exception):
    """The peer closed or the connection dropped; ``code`` is the close code when one arrived."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"websocket closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


class WebSocketChannel(Protocol):
    """Server side of one WebSocket connection, after the HTTP upgrade request was parsed."""

    @property
    def subprotocols(self) -> list[str]:
        """Subprotocols the client offered, in order (e.g. ``["soniox-api-key", "<key>"]``)."""
        ...

    async def accept(self, subprotocol: str | None = None) -> None:
        """Complete the handshake (101), optionally selecting one offered subprotocol."""
        ...

    async def reject(self, status: int, body: bytes = b"") -> None:
        """Refuse the upgrade with a plain HTTP response."""
        ...

    async def receive(self) -> str | bytes:
        """Next message (text or binary); raises :class:`WebSocketClosed` when the peer is gone."""
        ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and wait (briefly) for the peer's; idempotent."""
        ...

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the ``ws_drop`` fault)."""
        ...
