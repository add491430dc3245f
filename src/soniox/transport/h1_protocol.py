"""The sans-IO half of the native HTTP/1.1 lane (``h1``): bytes in, decisions out.

:class:`ResponseReader` feeds a response's bytes to llhttp (``httptools``) and says what came
out — status, headers, body chunks, completeness, whether the connection may carry the next
request; :func:`request_head` frames a request and refuses header injection; :class:`PoolBook`
decides which idle connection a request takes, whether a returned one is kept, and when the
pool is full. Both of ``h1``'s pools, sync and async, run on these; nothing here does I/O.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Final, Generic, TypeAlias, TypeVar

import httptools

from soniox.errors import ClientValidationError

from .request import URL

__all__ = [
    "Connection",
    "Origin",
    "PoolBook",
    "ProtocolFailure",
    "ResponseReader",
    "chunk",
    "origin_of",
    "request_head",
    "valid_field_name",
]

Origin: TypeAlias = tuple[str, str, int]
"""(scheme, host, port)."""


class ProtocolFailure(Exception):
    """The server's bytes are not a valid HTTP/1.1 response (or stopped mid-way)."""


_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALID_NAMES: set[bytes] = set()
"""Header names already checked (a client sends the same few names again and again)."""


def valid_field_name(name: bytes) -> bool:
    """Whether ``name`` is an HTTP token (checked names are remembered, up to a bound)."""
    if name in _VALID_NAMES:
        return True
    if not _TOKEN.fullmatch(name):
        return False
    if len(_VALID_NAMES) < 256:
        _VALID_NAMES.add(name)
    return True


def request_head(method: str, target: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and header block, ready to write.

    Raises :class:`~soniox.errors.ClientValidationError` for a header that would break the
    framing — a name that is not an HTTP token, a value with CR, LF or NUL (header injection) —
    naming the header, never its value (it may be a credential)."""
    lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
    for name, value in headers:
        if not valid_field_name(name):
            raise ClientValidationError(f"invalid HTTP header name {name!r}", field="headers")
        lines.append(name + b": " + value)
    lines.append(b"\r\n")
    head = b"\r\n".join(lines)
    # Exactly one CRLF per line and no other CR, LF or NUL: no value smuggled a line in.
    breaks = len(lines)
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks or b"\x00" in head:
        bad = next((n for n, v in headers if b"\r" in v or b"\n" in v or b"\x00" in v), b"?")
        raise ClientValidationError(
            f"HTTP header {bad.decode('latin-1')!r} has a line break or NUL in its value",
            field="headers",
        )
    return head


def chunk(data: bytes) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body (``b""`` ends the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class ResponseReader:
    """Feeds a response's bytes to llhttp and keeps what came out: status, headers, the body
    chunks not yet taken, and whether the message is complete and the connection reusable.

    ``feed(b"")`` is the end of the stream: it completes a body delimited by the connection's
    close and fails anything else left unfinished."""

    __slots__ = (
        "_chunks",
        "_close_delimited",
        "_parser",
        "buffered",
        "complete",
        "extra",
        "headers",
        "headers_done",
        "keep_alive",
        "status",
        "version",
    )

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: deque[bytes] = deque()
        self._close_delimited = False
        self.buffered = 0
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.extra = False
        self.version = "HTTP/1.1"

    # llhttp's callbacks
    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True  # bytes after the answer: the connection cannot be reused

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.complete:
            return  # a second answer in the same bytes: it must not replace the first
        status: int = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []  # an interim answer (100 Continue): the real one follows
            return
        self.status = status
        self.version = "HTTP/" + self._parser.get_http_version()
        self.headers_done = True
        delimited = False
        if status not in (204, 304):
            delimited = True
            for name, _ in self.headers:
                lowered = name.lower()
                if lowered == b"content-length" or lowered == b"transfer-encoding":
                    delimited = False
                    break
        self._close_delimited = delimited

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self._chunks.append(body)
            self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.headers_done and not self.complete:
            self.complete = True
            self.keep_alive = self._parser.should_keep_alive() and not self._close_delimited

    # the engine's side
    def feed(self, data: bytes) -> None:
        """Parse ``data``; ``b""`` is the end of the stream. Raises :class:`ProtocolFailure`."""
        if not data:
            self.keep_alive = False
            if self.complete:
                return
            if self.headers_done and self._close_delimited:
                self.complete = True
                return
            raise ProtocolFailure(
                "server closed the connection mid-body"
                if self.headers_done
                else "server closed the connection without sending a response"
            )
        if self.complete:
            self.extra = True
            self.keep_alive = False
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:  # pyright: ignore[reportUnknownMemberType]
            raise ProtocolFailure("unexpected protocol upgrade") from exc
        except httptools.HttpParserError as exc:  # pyright: ignore[reportUnknownMemberType]
            if not self.complete:
                raise ProtocolFailure(f"invalid HTTP/1.1 response: {exc}") from None
            self.extra = True  # unparseable bytes after the whole answer: the answer stands
        if self.extra:
            self.keep_alive = False

    def take(self) -> bytes:
        """The body bytes received and not yet taken."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        return data

    @property
    def reusable(self) -> bool:
        """The answer is complete and the connection may carry the next request."""
        return self.complete and self.keep_alive and not self.extra


C = TypeVar("C", bound="Connection")


class Connection:
    """What the pool book needs to know of a connection, sync or async."""

    __slots__ = ("idle_since", "origin", "requests")

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.requests = 0
        self.idle_since = 0.0

    def close(self) -> None:
        """Close the connection (the I/O halves say how)."""
        raise NotImplementedError


class PoolBook(Generic[C]):
    """Which idle connection a request takes, whether a returned one is kept, when a new one
    may open: the rules both pools share (callers hold the pool's lock).

    ``max_connections`` bounds connections open or opening, every origin together (None: no
    bound); ``max_keepalive`` bounds idle ones; an idle connection older than
    ``keepalive_expiry`` seconds is closed rather than reused. Most recently used first, so a
    few hot connections carry the load and the rest expire."""

    __slots__ = (
        "_idle",
        "_idle_count",
        "busy",
        "keepalive_expiry",
        "max_connections",
        "max_keepalive",
    )

    def __init__(
        self,
        max_connections: int | None,
        max_keepalive: int | None,
        keepalive_expiry: float | None,
    ) -> None:
        self.max_connections = max_connections
        self.max_keepalive = max_keepalive
        self.keepalive_expiry = keepalive_expiry
        self._idle: dict[Origin, list[C]] = {}
        self._idle_count = 0
        self.busy = 0
        """Connections carrying a request, or being opened for one."""

    @property
    def idle(self) -> int:
        return self._idle_count

    def idle_connections(self) -> list[C]:
        return [c for conns in self._idle.values() for c in conns]

    def checkout(self, origin: Origin, now: float, expired: list[C]) -> C | None:
        """An idle connection of ``origin`` (now busy), or None; expired ones go to
        ``expired`` (the caller closes them outside the lock)."""
        conns = self._idle.get(origin)
        expiry = self.keepalive_expiry
        while conns:
            conn = conns.pop()
            self._idle_count -= 1
            if expiry is not None and now - conn.idle_since > expiry:
                expired.append(conn)
                continue
            self.busy += 1
            return conn
        return None

    def reserve(self, expired: list[C]) -> bool:
        """Take a slot for a new connection: True when within ``max_connections`` (an idle
        connection of another origin is evicted to make room, into ``expired``)."""
        limit = self.max_connections
        if limit is not None and self.busy + self._idle_count >= limit:
            victim = self._oldest_idle()
            if victim is None:
                return False
            expired.append(victim)
        self.busy += 1
        return True

    def checkin(self, conn: C, reusable: bool, now: float) -> bool:
        """A busy connection is done: True when it is kept idle (else the caller closes it)."""
        self.busy -= 1
        limit = self.max_keepalive
        if not reusable or (limit is not None and self._idle_count >= limit):
            return False
        conn.idle_since = now
        self._idle.setdefault(conn.origin, []).append(conn)
        self._idle_count += 1
        return True

    def release(self) -> None:
        """A busy slot ends without a connection to keep (it failed, or was closed)."""
        self.busy -= 1

    def _oldest_idle(self) -> C | None:
        oldest: C | None = None
        for conns in self._idle.values():
            if conns and (oldest is None or conns[0].idle_since < oldest.idle_since):
                oldest = conns[0]
        if oldest is not None:
            self._idle[oldest.origin].remove(oldest)
            self._idle_count -= 1
        return oldest

    def drain(self) -> list[C]:
        """Every idle connection, removed (closing the pool)."""
        conns = self.idle_connections()
        self._idle.clear()
        self._idle_count = 0
        return conns


def origin_of(url: URL) -> Origin:
    port = url.port or (443 if url.scheme == "https" else 80)
    return (url.scheme, url.host, port)
