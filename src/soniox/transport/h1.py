"""The native HTTP/1.1 lane: sockets and asyncio protocols, parsed by httptools (llhttp).

Why not httpcore for HTTP/1.1 too? Measured on loopback against a fast server
(``benchmarks/bench_client_cost.py``), one small GET through httpcore + h11 costs ~350 µs of
client CPU sync and ~700 µs async (anyio), most of it h11's per-event state machine and
anyio's stream wrappers; a socket with the llhttp parser does the same exchange in ~25 µs sync
and ~50 µs on an asyncio protocol. The SDK's own stack is ~80 µs, so this lane is what lets a
whole production call cost less than half of one bare ``httpx`` request. httpcore still
carries HTTP/2, proxies, ``HEAD`` (llhttp cannot be told a body is absent) and everything when
httptools is not installed.

One logic, two shells. The sans-IO half is ``h1_protocol``: :class:`ResponseReader` (bytes
in; status, headers, body chunks, completion and reusability out) and :class:`PoolBook` (which
idle connection a request takes, whether a returned one is kept, when the pool is full). The sync
pool (threads, blocking sockets with per-phase timeouts) and the async pool (an
:class:`asyncio.Protocol`, per-phase ``asyncio.timeout``) only do the waiting and the I/O.

Failure classification, the same as httpcore's lane (``httpcore_transport``):

======================================  ==========================================
failure                                 raised as
======================================  ==========================================
connecting (DNS, refused, TLS)          RequestNotSentError
connect / pool wait timed out           ConnectTimeoutError (DeadlineExceededError)
writing the request, reading the head   ResponseLostError (may have been processed)
the body, after the status line         ResponseLostError ("body cut short")
a read / write timed out                ReadTimeoutError / WriteTimeoutError
======================================  ==========================================

A server that answers before reading the whole request (413, 401 to an upload) and closes:
when the write fails the lane reads on, and a complete answer is returned as the response.

An idle connection is checked before reuse: one the server closed (end of stream) or that holds
unexpected bytes is dropped; TLS session tickets that arrived while it sat idle are consumed
(they are not application data), so a pre-warmed TLS 1.3 connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any, Final, Generic, NoReturn, TypeVar

from soniox.errors import SonioxError

from ._exchange import BodyDecoding, Exchange, lost, not_sent
from .base import timeout_error
from .h1_protocol import (
    Connection,
    Origin,
    PoolBook,
    ProtocolFailure,
    ResponseReader,
    chunk,
    origin_of,
)
from .response import Response

__all__ = ["AsyncH1Pool", "H1Pool", "settle_transport"]

_READ_SIZE: Final = 65536
_COALESCE: Final = 16384
"""A body this small is written together with the head, in one send."""
_PAUSE_AT: Final = 1 << 20
"""The async lane stops reading from the socket while this many body bytes wait unread."""


# --- statistics hooks ------------------------------------------------------------------------

ConnectionNote = Callable[[bool], None]
"""Told, for each request, whether its connection was opened for it (True) or reused."""


# --- failures --------------------------------------------------------------------------------


def _detail(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    name = type(exc).__name__
    return f"{name}: {text}" if text != name else text


_TIMEOUT_PHASE: Final = {"head": "read", "body": "read"}
"""The timeout a phase of the exchange runs under (connect and write are their own)."""


def _failure(exc: BaseException, exchange: Exchange, phase: str) -> SonioxError:
    """The SDK error for ``exc`` raised while ``phase`` (connect, write, read, body) ran."""
    if isinstance(exc, SonioxError):
        return exc
    request = exchange.request
    if isinstance(exc, TimeoutError | socket.timeout):
        return timeout_error(request, _TIMEOUT_PHASE.get(phase, phase), exchange.limits)
    if phase == "connect":
        return not_sent(request, f"ConnectError: {_detail(exc)}")
    return lost(request, _detail(exc), answered=phase == "body")


# --- what both pools do around their I/O ------------------------------------------------------

ConnT = TypeVar("ConnT", bound=Connection)


class _Settle(Generic[ConnT]):
    """Settles a busy connection: back to the pool (reusable) or closed. Each pool's own."""

    def _done(self, conn: ConnT | None, reusable: bool) -> None:
        raise NotImplementedError


class _Exchanges(_Settle[ConnT]):
    """One request's bookkeeping around either pool's I/O: counting the connection as new or
    reused, failures settled and turned into the request's errors, and the answer — streamed
    to the caller or read whole. The pools' ``send`` only make the blocking or awaited calls."""

    def __init__(
        self,
        book: PoolBook[ConnT],
        tls: Callable[[], ssl.SSLContext],
        note: ConnectionNote,
        lock: threading.Lock | threading.Condition,
    ) -> None:
        self._book = book
        self._tls = tls
        self._note = note
        self._lock = lock
        """Guards the book (the async pool's too: ``pool_stats()`` may read it from any
        thread)."""
        self._closed = False
        self.opened = 0
        """Connections opened since the start (pre-warmed ones included)."""

    def stats(self) -> tuple[int, int]:
        """(open, idle) connections now."""
        with self._lock:
            return self._book.busy + self._book.idle, self._book.idle

    def reserve(self, origin: Origin, count: int) -> int:
        """Slots for pre-warming up to ``count`` connections to ``origin`` (idle ones count);
        ``park`` then opens one in each."""
        expired: list[ConnT] = []
        with self._lock:
            have = sum(1 for c in self._book.idle_connections() if c.origin == origin)
            slots = 0
            while slots < count - have and not self._closed and self._book.reserve(expired):
                slots += 1
        for stale in expired:
            stale.close()
        return slots

    def _begin(self, conn: ConnT) -> None:
        self._note(conn.requests == 0)
        conn.requests += 1

    def _abandon(self, conn: ConnT, exc: BaseException, exchange: Exchange, phase: str) -> NoReturn:
        """The exchange failed in ``phase``: the connection is closed, the error raised."""
        self._done(conn, False)
        if isinstance(exc, Exception):
            raise _failure(exc, exchange, phase) from exc
        raise exc

    def _finish(self, conn: ConnT, reader: ResponseReader, exchange: Exchange) -> Response:
        """The whole answer is in: the connection is settled, the response built."""
        self._done(conn, reader.reusable)
        return exchange.read(reader.status, reader.headers, reader.version, reader.take())


class _Body(Generic[ConnT]):
    """A streamed answer's connection: settled once, when the body is complete (kept if
    reusable) or the caller closes it early (closed)."""

    __slots__ = ("_conn", "_exchange", "_pool", "_reader", "_settled")

    def __init__(
        self, pool: _Settle[ConnT], conn: ConnT, reader: ResponseReader, exchange: Exchange
    ) -> None:
        self._pool = pool
        self._conn = conn
        self._reader = reader
        self._exchange = exchange
        self._settled = False

    def _settle(self, reusable: bool) -> None:
        if not self._settled:
            self._settled = True
            self._pool._done(self._conn, reusable)  # pyright: ignore[reportPrivateUsage]

    def _decoding(self) -> BodyDecoding:
        def cut(exc: BaseException) -> SonioxError:
            return _failure(exc, self._exchange, "body")

        return BodyDecoding(self._exchange, self._reader.headers, cut)

    def response(self, body: Iterable[bytes] | AsyncIterable[bytes], **on_close: Any) -> Response:
        reader = self._reader
        return self._exchange.streaming(
            reader.status, reader.headers, reader.version, body, **on_close
        )


# --- the sync pool ---------------------------------------------------------------------------


class _SyncConnection(Connection):
    __slots__ = ("sock",)

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        super().__init__(origin)
        self.sock = sock

    def alive(self) -> bool:
        """Not closed by the server while idle, and holding no stray bytes."""
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False  # decrypted bytes nobody asked for
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if not readable:
            return True
        sock.setblocking(False)
        try:
            data = sock.recv(1)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True  # only TLS records without application data (session tickets)
        except OSError:
            return False
        del data  # the end of stream (b"") or stray bytes: either way, not reusable
        return False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _blocking(limit: float | None) -> float | None:
    """A socket timeout for ``limit``: 0 would switch the socket to non-blocking mode (an
    error on every read not already buffered), so a zero limit becomes the smallest wait."""
    return limit if limit is None or limit > 0 else 1e-6


def _check_alpn(tls: ssl.SSLSocket | ssl.SSLObject | None) -> None:
    """Raise when the server picked another protocol than HTTP/1.1 by ALPN (a context that
    offers ``h2``, such as a user's ``SSLContext`` an HTTP/2 pool also uses)."""
    chosen = None if tls is None else tls.selected_alpn_protocol()
    if chosen not in (None, "http/1.1"):
        raise ConnectionError(f"the server chose {chosen!r} by ALPN, not http/1.1")


def settle_transport(transport: asyncio.Transport, check: Callable[[Any], None] | None) -> None:
    """A new asyncio connection made ready: the server's ALPN choice checked by ``check`` (the
    connection aborted if it raises ``ConnectionError``), Nagle's algorithm off."""
    if check is not None:
        try:
            check(transport.get_extra_info("ssl_object"))
        except ConnectionError:
            transport.abort()
            raise
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _connect_sync(
    origin: Origin, timeout: float | None, tls: ssl.SSLContext | None
) -> socket.socket:
    scheme, host, port = origin
    sock = socket.create_connection((host, port), timeout=_blocking(timeout))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            assert tls is not None
            wrapped = tls.wrap_socket(sock, server_hostname=host)
            sock = wrapped
            _check_alpn(wrapped)
    except BaseException:
        sock.close()
        raise
    return sock


class H1Pool(_Exchanges[_SyncConnection]):
    """The sync HTTP/1.1 pool (threads share it)."""

    def __init__(
        self,
        book: PoolBook[_SyncConnection],
        tls: Callable[[], ssl.SSLContext],
        note: ConnectionNote,
    ) -> None:
        self._cond = threading.Condition(threading.Lock())
        super().__init__(book, tls, note, self._cond)

    # connections
    def _acquire(self, origin: Origin, exchange: Exchange) -> _SyncConnection:
        timeouts = exchange.limits[0]
        pool_deadline = None if timeouts.pool is None else time.monotonic() + timeouts.pool
        expired: list[_SyncConnection] = []
        conn: _SyncConnection | None = None
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise RuntimeError("this transport is closed")
                    conn = self._book.checkout(origin, time.monotonic(), expired)
                    if conn is not None:
                        if conn.alive():
                            break
                        expired.append(conn)
                        self._book.release()
                        conn = None
                        continue
                    if self._book.reserve(expired):
                        break
                    left = None if pool_deadline is None else pool_deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise timeout_error(exchange.request, "pool", exchange.limits)
                    self._cond.wait(left)
        finally:
            for stale in expired:
                stale.close()
        if conn is not None:
            return conn
        try:
            sock = _connect_sync(
                origin, timeouts.connect, self._tls() if origin[0] == "https" else None
            )
        except BaseException as exc:
            self._done(None, False)
            raise _failure(exc, exchange, "connect") from exc
        with self._cond:
            self.opened += 1
        return _SyncConnection(origin, sock)

    def _done(self, conn: _SyncConnection | None, reusable: bool) -> None:
        with self._cond:
            kept = (
                conn is not None
                and not self._closed
                and self._book.checkin(conn, reusable, time.monotonic())
            )
            if conn is None:
                self._book.release()
            self._cond.notify()
        if conn is not None and not kept:
            conn.close()

    def park(self, origin: Origin, exchange: Exchange) -> None:
        """Open a connection in a slot :meth:`reserve` took and park it idle."""
        try:
            sock = _connect_sync(
                origin, exchange.limits[0].connect, self._tls() if origin[0] == "https" else None
            )
        except BaseException as exc:
            self._done(None, False)
            raise _failure(exc, exchange, "connect") from exc
        conn = _SyncConnection(origin, sock)
        conn.requests = 1  # the requests it carries count as reused
        with self._cond:
            self.opened += 1
        self._done(conn, True)

    # one request
    def send(
        self,
        exchange: Exchange,
        head: bytes,
        body: bytes | Iterable[bytes] | None,
        chunked: bool,
    ) -> Response:
        conn = self._acquire(origin_of(exchange.request.url), exchange)
        self._begin(conn)
        reader = ResponseReader()
        timeouts = exchange.limits[0]
        sock = conn.sock
        try:
            sock.settimeout(_blocking(timeouts.write))
            try:
                _write_sync(sock, head, body, chunked)
            except (OSError, ValueError) as exc:
                if isinstance(exc, TimeoutError | socket.timeout) or not _early_answer(
                    sock, reader, timeouts.read
                ):
                    raise _failure(exc, exchange, "write") from exc
            sock.settimeout(_blocking(timeouts.read))
            while not reader.headers_done:
                reader.feed(sock.recv(_READ_SIZE))
        except BaseException as exc:
            self._abandon(conn, exc, exchange, "head")
        if exchange.streams(reader.status):
            stream = _SyncBody(self, conn, reader, exchange)
            return stream.response(stream.decoded(), on_close=stream.close)
        try:
            while not reader.complete:
                reader.feed(sock.recv(_READ_SIZE))
        except BaseException as exc:
            self._abandon(conn, exc, exchange, "body")
        return self._finish(conn, reader, exchange)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle = self._book.drain()
            self._cond.notify_all()
        for conn in idle:
            conn.close()


def _write_sync(
    sock: socket.socket, head: bytes, body: bytes | Iterable[bytes] | None, chunked: bool
) -> None:
    if body is None:
        sock.sendall(head)
    elif isinstance(body, bytes):
        if len(body) <= _COALESCE:
            sock.sendall(head + body)
        else:
            sock.sendall(head)
            sock.sendall(body)
    else:
        sock.sendall(head)
        for part in body:
            if part:
                sock.sendall(chunk(part) if chunked else part)
        if chunked:
            sock.sendall(chunk(b""))


def _early_answer(sock: socket.socket, reader: ResponseReader, timeout: float | None) -> bool:
    """After a failed write: whether the server's complete answer can still be read (it
    answered before taking the whole request, and closed)."""
    try:
        sock.settimeout(_blocking(timeout))
        while not reader.complete:
            reader.feed(sock.recv(_READ_SIZE))
    except (OSError, ProtocolFailure):
        return False
    reader.keep_alive = False
    return True


class _SyncBody(_Body[_SyncConnection]):
    """A streamed body on a sync connection: chunks as they arrive."""

    __slots__ = ()

    def _chunks(self) -> Iterator[bytes]:
        reader, sock = self._reader, self._conn.sock
        if data := reader.take():
            yield data
        while not reader.complete:
            try:
                reader.feed(sock.recv(_READ_SIZE))
            except BaseException:
                self.close()
                raise
            if data := reader.take():
                yield data
        self._settle(reader.reusable)

    def decoded(self) -> Iterator[bytes]:
        return self._decoding().sync(self._chunks())

    def close(self) -> None:
        self._settle(self._reader.reusable)


# --- the async pool --------------------------------------------------------------------------


class _Wire(asyncio.Protocol):
    """One connection's asyncio protocol: bytes go to the current :class:`ResponseReader`; a
    waiting reader is woken when anything changes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader: ResponseReader | None = None
        self.error: BaseException | None = None
        self.closed = False
        self.stray = False
        self.cut_short = False
        """The request's body was not sent whole (an early answer): never reuse."""
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._paused = False
        self._reading_paused = False

    # asyncio's callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        if reader is None:
            self.stray = True  # bytes while idle: the connection cannot be trusted
            return
        if self.error is None:
            try:
                reader.feed(data)
            except ProtocolFailure as exc:
                self.error = exc
            if reader.buffered > _PAUSE_AT and self.transport is not None:
                self._reading_paused = True
                self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        reader = self.reader
        if reader is not None and self.error is None:
            try:
                reader.feed(b"")
            except ProtocolFailure as exc:
                self.error = exc
        self.closed = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.error is None and self.reader is not None and not self.reader.complete:
            if exc is not None:
                self.error = exc
            else:
                try:
                    self.reader.feed(b"")
                except ProtocolFailure as failure:
                    self.error = failure
        self._wake()
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the pool's side
    async def changed(self) -> None:
        """Wait until bytes arrive, the stream ends or fails."""
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high-water mark; otherwise
        still yield to the loop once, so a long upload is a cancellation point per chunk."""
        if not self._paused:
            await asyncio.sleep(0)
        elif not self.closed:
            self._drained = asyncio.get_running_loop().create_future()
            try:
                await self._drained
            finally:
                self._drained = None
        if self.closed:
            raise ConnectionResetError("connection closed while writing")

    def check(self) -> None:
        """Raise what broke the connection, if anything did."""
        if self.error is not None:
            raise self.error


class _AsyncConnection(Connection):
    __slots__ = ("loop", "wire")

    def __init__(self, origin: Origin, wire: _Wire, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(origin)
        self.wire = wire
        self.loop = loop

    def alive(self, loop: asyncio.AbstractEventLoop) -> bool:
        wire = self.wire
        transport = wire.transport
        return (
            loop is self.loop
            and not wire.closed
            and not wire.stray
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        """Close; an exchange cut short (failure, cancellation) is aborted, so bytes of its
        request still buffered are never sent."""
        transport = self.wire.transport
        if transport is None or self.loop.is_closed():
            return
        reader = self.wire.reader
        if reader is not None and not reader.complete:
            transport.abort()
        else:
            transport.close()


class AsyncH1Pool(_Exchanges[_AsyncConnection]):
    """The async HTTP/1.1 pool (one event loop's; connections of another loop are dropped)."""

    def __init__(
        self,
        book: PoolBook[_AsyncConnection],
        tls: Callable[[], ssl.SSLContext],
        note: ConnectionNote,
    ) -> None:
        super().__init__(book, tls, note, threading.Lock())
        self._waiters: deque[asyncio.Future[None]] = deque()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_set_if_pending, waiter)
                return

    async def _acquire(self, origin: Origin, exchange: Exchange) -> _AsyncConnection:
        loop = asyncio.get_running_loop()
        timeouts = exchange.limits[0]
        pool_deadline = None if timeouts.pool is None else time.monotonic() + timeouts.pool
        conn: _AsyncConnection | None = None
        while True:
            expired: list[_AsyncConnection] = []
            reserved = False
            with self._lock:
                if self._closed:
                    raise RuntimeError("this transport is closed")
                while (conn := self._book.checkout(origin, time.monotonic(), expired)) is not None:
                    if conn.alive(loop):
                        break
                    expired.append(conn)
                    self._book.release()
                if conn is None:
                    reserved = self._book.reserve(expired)
            for stale in expired:
                stale.close()
            if conn is not None or reserved:
                break
            left = None if pool_deadline is None else pool_deadline - time.monotonic()
            if left is not None and left <= 0:
                raise timeout_error(exchange.request, "pool", exchange.limits)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(left):
                    await waiter
            except TimeoutError:
                raise timeout_error(exchange.request, "pool", exchange.limits) from None
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    with self._lock:
                        self._wake_one()  # the wake-up this task got goes to the next one
                raise
            finally:
                if not waiter.done():
                    waiter.cancel()
        if conn is not None:
            return conn
        try:
            conn = await self._open(origin, timeouts.connect, loop)
        except BaseException as exc:
            self._done(None, False)
            if isinstance(exc, Exception):
                raise _failure(exc, exchange, "connect") from exc
            raise
        return conn

    async def _open(
        self, origin: Origin, limit: float | None, loop: asyncio.AbstractEventLoop
    ) -> _AsyncConnection:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        async with asyncio.timeout(limit):
            _, wire = await loop.create_connection(
                _Wire,
                host,
                port,
                ssl=tls,
                server_hostname=host if tls is not None else None,
            )
        transport = wire.transport
        if transport is not None:
            settle_transport(transport, _check_alpn if tls is not None else None)
        with self._lock:
            self.opened += 1
        return _AsyncConnection(origin, wire, loop)

    def _done(self, conn: _AsyncConnection | None, reusable: bool) -> None:
        with self._lock:
            if conn is None:
                self._book.release()
                kept = False
            else:
                reusable = reusable and not conn.wire.cut_short
                kept = not self._closed and self._book.checkin(conn, reusable, time.monotonic())
            self._wake_one()
        if conn is not None:
            if not kept:
                conn.close()
            conn.wire.reader = None

    async def park(self, origin: Origin, exchange: Exchange) -> None:
        """Open a connection in a slot :meth:`reserve` took and park it idle."""
        try:
            conn = await self._open(origin, exchange.limits[0].connect, asyncio.get_running_loop())
        except BaseException as exc:
            self._done(None, False)
            if isinstance(exc, Exception):
                raise _failure(exc, exchange, "connect") from exc
            raise
        conn.requests = 1
        self._done(conn, True)

    async def send(
        self,
        exchange: Exchange,
        head: bytes,
        body: bytes | AsyncIterable[bytes] | None,
        chunked: bool,
    ) -> Response:
        conn = await self._acquire(origin_of(exchange.request.url), exchange)
        self._begin(conn)
        wire = conn.wire
        reader = wire.reader = ResponseReader()
        timeouts = exchange.limits[0]
        try:
            try:
                async with asyncio.timeout(timeouts.write):
                    await _write_async(wire, head, body, chunked)
            except (OSError, TimeoutError) as exc:
                if isinstance(exc, TimeoutError) or not await _aearly_answer(
                    wire, reader, timeouts.read
                ):
                    raise _failure(exc, exchange, "write") from exc
            while not reader.headers_done:
                wire.check()
                if wire.closed:
                    raise ProtocolFailure("server closed the connection without sending a response")
                async with asyncio.timeout(timeouts.read):
                    await wire.changed()
            wire.check()
        except BaseException as exc:
            self._abandon(conn, exc, exchange, "head")
        if exchange.streams(reader.status):
            stream = _AsyncBody(self, conn, reader, exchange)
            return stream.response(stream.decoded(), on_aclose=stream.aclose)
        try:
            await _arest(wire, reader, timeouts.read)
        except BaseException as exc:
            self._abandon(conn, exc, exchange, "body")
        return self._finish(conn, reader, exchange)

    async def aclose(self) -> None:
        with self._lock:
            self._closed = True
            idle = self._book.drain()
            waiters = list(self._waiters)
            self._waiters.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_set_if_pending, waiter)
        for conn in idle:
            conn.close()


def _set_if_pending(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _write_async(
    wire: _Wire, head: bytes, body: bytes | AsyncIterable[bytes] | None, chunked: bool
) -> None:
    transport = wire.transport
    if transport is None or wire.closed:
        raise ConnectionResetError("connection closed")
    if body is None:
        transport.write(head)
    elif isinstance(body, bytes):
        transport.write(head + body if len(body) <= _COALESCE else head)
        if len(body) > _COALESCE:
            transport.write(body)
    else:
        transport.write(head)
        async for part in body:
            if part:
                data = chunk(part) if chunked else part
                # Two turns of the loop before writing (drain's and one more): the task resumes
                # ahead of the reader callbacks of the loop's last poll, and a write that fails
                # (the server answered early, 413, and reset the connection) makes asyncio drop
                # the socket unread, that answer with it; this reads what arrived first.
                await asyncio.sleep(0)
                await wire.drain()
                reader = wire.reader
                if reader is not None and reader.headers_done:
                    # The server answered before taking the whole body (413, 401): stop
                    # sending; the answer is the response, the connection is not reused.
                    wire.cut_short = True
                    return
                transport.write(data)
        if chunked:
            transport.write(chunk(b""))
    await wire.drain()


async def _arest(wire: _Wire, reader: ResponseReader, limit: float | None) -> None:
    """Wait until the whole answer is in (``limit``: the read timeout, between arrivals)."""
    while not reader.complete:
        wire.check()
        if wire.closed:
            raise ProtocolFailure("server closed the connection mid-body")
        async with asyncio.timeout(limit):
            await wire.changed()
    wire.check()


async def _aearly_answer(wire: _Wire, reader: ResponseReader, limit: float | None) -> bool:
    """:func:`_early_answer` of the async lane."""
    try:
        await _arest(wire, reader, limit)
    except (OSError, ProtocolFailure, TimeoutError):
        return False
    reader.keep_alive = False
    return True


class _AsyncBody(_Body[_AsyncConnection]):
    """A streamed body on an async connection: chunks as they arrive."""

    __slots__ = ()

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader, wire = self._reader, self._conn.wire
        timeout = self._exchange.limits[0].read
        if data := reader.take():
            yield data
        while not reader.complete:
            try:
                wire.check()
                if wire.closed:
                    raise ProtocolFailure("server closed the connection mid-body")
                async with asyncio.timeout(timeout):
                    await wire.changed()
                wire.check()
            except BaseException:
                self._settle(False)
                raise
            if data := reader.take():
                yield data
        self._settle(reader.reusable)

    def decoded(self) -> AsyncIterator[bytes]:
        return self._decoding().asynchronous(self._chunks())

    async def aclose(self) -> None:
        self._settle(self._reader.reusable)
