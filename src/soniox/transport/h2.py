"""The native HTTP/2 lane: sockets and asyncio protocols over one sans-IO connection (``h2_protocol``).

Why not httpcore + ``h2`` for HTTP/2? Measured against a fast server
(``benchmarks/bench_client_cost.py``), ``h2``'s state machine alone costs ~250 µs of CPU per
small GET, about half of a whole raw ``httpx`` request; :class:`~.h2_protocol.H2Client` does
the same exchange in ~60 µs (HPACK still the ``hpack`` package's). httpcore keeps HTTP/2 behind
a proxy, with a user's own ``SSLContext`` and when ``native_http2`` is off.

One logic, two shells, as in ``h1``: the sans-IO connection decides (frames, windows, which
stream failed and whether the server can have processed it); :class:`H2Pool` (threads sharing
blocking sockets) and :class:`AsyncH2Pool` (an :class:`asyncio.Protocol`) only wait and do I/O.
One connection per origin carries every request, up to the server's ``MAX_CONCURRENT_STREAMS``;
another is opened beside it when it is full or going away (GOAWAY), within ``max_connections``.

Threads share a connection: a request frames its stream under the connection's lock (stream
ids and frames stay in order) and the frames go out through one writer at a time, outside the
lock (what others queue meanwhile leaves with its next write); whichever waiting thread finds
nobody reading becomes the reader: it reads outside the lock, feeds the bytes in under it,
writes what the connection owes (SETTINGS and PING acknowledgements, window updates) and wakes
only the threads whose streams changed. Measured with 100 threads on one connection, this
costs a third of what one condition variable for everything did.

Failures map as on the other lanes: connecting (DNS, refused, TLS, the server not choosing
``h2`` by ALPN) → ``RequestNotSentError``; a stream above the server's GOAWAY or refused
(REFUSED_STREAM) → ``RequestNotSentError`` (never processed: safe to send again, any method);
a reset stream or a connection lost before the answer → ``ResponseLostError``; read / write
timeouts → ``ReadTimeoutError`` / ``WriteTimeoutError``, the stream cancelled (RST_STREAM).
A server that does not choose ``h2`` by ALPN is remembered: its origin rides HTTP/1.1 after.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Final, Generic, NoReturn, Protocol, TypeVar

from soniox.errors import SonioxError

from ._exchange import BodyDecoding, Exchange, lost, not_sent
from .base import timeout_error
from .h1 import ConnectionNote, _failure, settle_transport  # pyright: ignore[reportPrivateUsage]
from .h1_protocol import Origin, origin_of
from .h2_protocol import H2Client, H2Stream
from .request import CREDENTIAL_HEADERS
from .response import Response

__all__ = ["AsyncH2Pool", "H2Pool", "H2Request", "NotH2", "request_of"]

_READ_SIZE: Final = 65536
_VERSION: Final = "HTTP/2"
_SENSITIVE: Final = frozenset(name.encode("ascii") for name in CREDENTIAL_HEADERS)
"""Header names sent as HPACK "never indexed" (no proxy or table keeps them)."""


class NotH2(ConnectionError):
    """The server did not choose ``h2`` by ALPN: nothing was sent; HTTP/1.1 carries it."""


class H2Request:
    """What a stream is opened with: the pseudo-header values, the fields and the body."""

    __slots__ = ("authority", "body", "fields", "method", "path", "scheme")

    def __init__(
        self,
        method: bytes,
        scheme: bytes,
        authority: bytes,
        path: bytes,
        fields: list[tuple[bytes, bytes]],
        body: bytes | None,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.fields = fields
        self.body = body

    def open(self, client: H2Client, streamed: bool) -> H2Stream:
        return client.open(
            self.method,
            self.scheme,
            self.authority,
            self.path,
            self.fields,
            self.body,
            streamed=streamed,
        )


def request_of(
    exchange: Exchange, authority: bytes, fields: list[tuple[bytes, bytes]], body: bytes | None
) -> H2Request:
    """The stream to open for ``exchange``'s request."""
    request = exchange.request
    url = request.url
    return H2Request(
        request.method.encode("ascii"),
        url.scheme.encode("ascii"),
        authority,
        url.target.encode("ascii"),
        fields,
        body,
    )


def _stream_error(stream: H2Stream, exchange: Exchange, phase: str) -> SonioxError:
    failure = stream.failure
    assert failure is not None
    if failure.processed is False:
        return not_sent(exchange.request, failure.detail)
    return lost(exchange.request, failure.detail, answered=phase != "head")


def _check_alpn(tls: ssl.SSLSocket | ssl.SSLObject | None) -> None:
    chosen = None if tls is None else tls.selected_alpn_protocol()
    if chosen != "h2":
        raise NotH2(f"the server chose {chosen!r} by ALPN, not h2")


class _Dial:
    """A connection being opened to an origin, which the requests arriving meanwhile wait for
    rather than opening their own: if it fails, they fail alike (a server that is down costs
    one connect timeout, not one per waiting request)."""

    __slots__ = ("done", "error", "future")

    def __init__(self, future: asyncio.Future[None] | None = None) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.future = future

    def finish(self, error: BaseException | None) -> None:
        self.done, self.error = True, error
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)

    def raise_for(self, exchange: Exchange) -> None:
        """Raise, for a request that waited on this dial, what its failure means for it."""
        error = self.error
        if error is None:
            return
        if isinstance(error, NotH2):
            raise NotH2(str(error))
        raise _failure(error, exchange, "connect") from error


class _Connection(Protocol):
    origin: Origin

    @property
    def client(self) -> H2Client: ...


ConnT = TypeVar("ConnT", bound=_Connection)


class _Pool(Generic[ConnT]):
    """What both pools keep: connections per origin, the origins that refused ``h2``,
    counting; and the rules for picking, adding and dropping a connection."""

    def __init__(
        self,
        tls: Callable[[], ssl.SSLContext],
        note: ConnectionNote,
        max_connections: int | None,
        keepalive_expiry: float | None,
    ) -> None:
        self._tls = tls
        self._note = note
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._lock = threading.Condition(threading.Lock())
        self._closed = False
        self.opened = 0
        self.http1_only: set[Origin] = set()
        """Origins whose server did not choose ``h2`` by ALPN."""
        self._conns: dict[Origin, list[ConnT]] = {}
        self._connecting: dict[Origin, _Dial] = {}
        self._waiting = 0
        """Sync requests waiting in ``_checkout`` (for a dial, or room in a full pool)."""

    def _count(self) -> int:
        return sum(len(conns) for conns in self._conns.values()) + len(self._connecting)

    def stats(self) -> dict[str, tuple[int, int]]:
        """(open, idle) connections now, by lane (``h2``, ``h2c``)."""
        with self._lock:
            conns = [c for group in self._conns.values() for c in group]
        return _by_lane((c.origin, c.client.idle) for c in conns)

    def _dialled(self, origin: Origin, error: BaseException | None) -> None:
        """The dial to ``origin`` ended (holding the lock): its waiters learn how."""
        dial = self._connecting.pop(origin, None)
        if isinstance(error, NotH2):
            self.http1_only.add(origin)
        if dial is not None:
            dial.finish(error if isinstance(error, Exception) else None)

    def _room(self) -> bool:
        return self._max is None or self._count() < self._max

    def _new_client(self) -> H2Client:
        return H2Client(sensitive=_SENSITIVE)

    def _tls_for(self, origin: Origin) -> ssl.SSLContext | None:
        return self._tls() if origin[0] == "https" else None


def _by_lane(connections: Iterable[tuple[Origin, bool]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for origin, idle in connections:
        lane = "h2" if origin[0] == "https" else "h2c"
        open_, idle_ = counts.get(lane, (0, 0))
        counts[lane] = (open_ + 1, idle_ + idle)
    return counts


# --- the sync pool ---------------------------------------------------------------------------


class _Gate:
    """One parked thread's wake-up: a bare lock held until opened (cheaper than an Event,
    which builds a Condition). Opened at most once, under the connection's lock."""

    __slots__ = ("_lock", "opened")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.opened = False

    def open(self) -> None:
        if not self.opened:
            self.opened = True
            self._lock.release()

    def wait(self, timeout: float | None) -> None:
        self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))


class _SyncConnection:
    """A connection threads share. ``lock`` guards the connection's state; no thread holds it
    across a system call. One thread at a time reads (``reading``) and one writes
    (``writing``, draining ``outbox`` in order); the others are parked, each on its own gate,
    and woken only when their stream changed or the reader role is theirs to take: with 100
    threads on a connection, a read wakes the few it concerns, not all 100."""

    __slots__ = (
        "client",
        "idle_since",
        "lock",
        "origin",
        "outbox",
        "parked",
        "reading",
        "requests",
        "sock",
        "writing",
    )

    def __init__(self, origin: Origin, sock: socket.socket, client: H2Client) -> None:
        self.origin = origin
        self.sock = sock
        self.client = client
        self.lock = threading.Lock()
        self.reading = False
        self.parked: dict[H2Stream, _Gate] = {}
        self.outbox: list[bytes] = []
        self.writing = False
        self.requests = 0
        self.idle_since = time.monotonic()

    def wake(self, streams: Iterable[H2Stream]) -> None:
        """Wake the threads parked on ``streams`` (holding ``lock``)."""
        parked = self.parked
        for stream in streams:
            gate = parked.get(stream)
            if gate is not None:
                gate.open()

    def hand_off(self) -> None:
        """Nobody reads: wake one parked thread to take the reader role (holding ``lock``)."""
        if not self.reading:
            for gate in self.parked.values():
                if not gate.opened:
                    gate.open()
                    return

    def park(self, stream: H2Stream, timeout: float | None) -> None:
        """Wait (``lock`` released meanwhile) until woken or ``timeout`` passes."""
        gate = self.parked[stream] = _Gate()
        self.lock.release()
        try:
            gate.wait(timeout)
        finally:
            self.lock.acquire()
            del self.parked[stream]

    def settled(self) -> bool:
        """After a request (holding ``lock``): note idleness; True when the connection can
        carry nothing more."""
        client = self.client
        if not client.idle:
            return False
        self.idle_since = time.monotonic()
        return not client.reusable

    def flush(self, timeout: float | None) -> None:
        """Write what the connection owes (holding ``lock``, released while writing).

        One thread writes at a time, outside the lock: what others owe meanwhile joins the
        outbox and goes out with its next write, in order. So no thread holds the lock
        across a system call, and many requests' frames leave in one ``sendall``. A failed
        write loses the connection (every open stream fails, and is woken) and raises."""
        out = self.client.output()
        if out:
            self.outbox.append(out)
        if self.writing:
            return
        self.writing = True
        try:
            while self.outbox:
                data = self.outbox[0] if len(self.outbox) == 1 else b"".join(self.outbox)
                self.outbox.clear()
                failure: OSError | None = None
                self.lock.release()
                try:
                    self.sock.settimeout(timeout)
                    self.sock.sendall(data)
                except OSError as exc:
                    failure = exc
                finally:
                    self.lock.acquire()
                if failure is not None:
                    self.outbox.clear()
                    self.wake(self.client.lost(f"writing failed: {failure!r}"))
                    raise failure
        finally:
            self.writing = False

    def pump(self, timeout: float | None, write_timeout: float | None) -> None:
        """Read once (releasing ``lock`` meanwhile), feed it in, write what is owed, wake the
        threads whose streams changed. Raises TimeoutError if nothing came within ``timeout``."""
        self.reading = True
        self.lock.release()
        error: OSError | None = None
        data = b""
        try:
            self.sock.settimeout(timeout)
            data = self.sock.recv(_READ_SIZE)
        except TimeoutError:
            raise
        except OSError as exc:
            error = exc
        finally:
            self.lock.acquire()
            self.reading = False
        client = self.client
        if error is not None:
            self.wake(client.lost(f"connection failed: {error!r}"))
        elif not data:
            self.wake(client.lost("the server closed the connection"))
        else:
            self.wake(client.receive(data))
            with contextlib.suppress(OSError):
                self.flush(write_timeout)

    def refresh(self, write_timeout: float | None) -> None:
        """An idle connection before reuse: read what the server sent meanwhile (SETTINGS,
        PING, a GOAWAY, the end of the connection) without waiting."""
        with self.lock:
            if self.reading:
                return
            sock = self.sock
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                readable = True
            else:
                try:
                    readable = bool(select.select([sock], [], [], 0)[0])
                except (OSError, ValueError):
                    self.client.lost("the socket is unusable")
                    return
            if readable:
                # Nothing to read after all: only TLS records without application data
                # (session tickets).
                with contextlib.suppress(TimeoutError):
                    self.pump(1e-6, write_timeout)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class H2Pool(_Pool[_SyncConnection]):
    """The sync HTTP/2 pool (threads share it, and its connections)."""

    def _prune(self, origin: Origin, now: float) -> list[_SyncConnection]:
        """Connections of ``origin`` that must go (holding the pool lock): lost, or gone away
        with nothing left on them, or idle past the keep-alive expiry."""
        conns = self._conns.get(origin)
        if not conns:
            return []
        expiry = self._expiry
        dropped = [
            c
            for c in conns
            if c.client.broken is not None
            or (c.client.idle and not c.client.reusable)
            or (c.client.idle and expiry is not None and now - c.idle_since > expiry)
        ]
        if dropped:
            self._conns[origin] = [c for c in conns if c not in dropped]
        return dropped

    def _checkout(self, origin: Origin, exchange: Exchange) -> tuple[_SyncConnection, bool]:
        """A connection that can take a stream now (True: opened for this request)."""
        # The fast path, without the pool's lock: a busy connection with room (alive: it is
        # carrying streams; not expired: not idle). Anything else goes the careful way below.
        for busy in self._conns.get(origin, ()):
            client = busy.client
            if not client.idle and client.available:
                return busy, False
        timeouts = exchange.limits[0]
        pool_deadline = None if timeouts.pool is None else time.monotonic() + timeouts.pool
        while True:
            stale: list[_SyncConnection] = []
            found: _SyncConnection | None = None
            with self._lock:
                while found is None:
                    if self._closed:
                        raise RuntimeError("this transport is closed")
                    stale += self._prune(origin, time.monotonic())
                    found = next(
                        (c for c in self._conns.get(origin, ()) if c.client.available), None
                    )
                    if found is not None:
                        break
                    dial = self._connecting.get(origin)
                    if dial is None and self._room():
                        self._connecting[origin] = _Dial()
                        break
                    left = None if pool_deadline is None else pool_deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise timeout_error(exchange.request, "pool", exchange.limits)
                    self._waiting += 1
                    try:
                        self._lock.wait(left)
                    finally:
                        self._waiting -= 1
                    if dial is not None and dial.done:
                        dial.raise_for(exchange)
            for conn in stale:
                conn.close()
            if found is None:
                return self._connect(origin, exchange), True
            if found.client.idle:
                found.refresh(timeouts.write)
                if not found.client.available:
                    continue
            return found, False

    def _connect(self, origin: Origin, exchange: Exchange) -> _SyncConnection:
        _, host, port = origin
        try:
            timeout = exchange.limits[0].connect
            sock = socket.create_connection((host, port), timeout=timeout)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                tls = self._tls_for(origin)
                if tls is not None:
                    wrapped = tls.wrap_socket(sock, server_hostname=host)
                    sock = wrapped
                    _check_alpn(wrapped)
                client = self._new_client()
                sock.sendall(client.output())  # the preface and our SETTINGS
            except BaseException:
                sock.close()
                raise
        except BaseException as exc:
            with self._lock:
                self._dialled(origin, exc)
                self._lock.notify_all()
            if isinstance(exc, NotH2 | SonioxError) or not isinstance(exc, Exception):
                raise
            raise _failure(exc, exchange, "connect") from exc
        conn = _SyncConnection(origin, sock, client)
        with self._lock:
            self._dialled(origin, None)
            self.opened += 1
            if self._closed:
                conn.close()
                raise RuntimeError("this transport is closed")
            self._conns.setdefault(origin, []).append(conn)
            self._lock.notify_all()
        return conn

    def prewarm(self, origin: Origin, exchange: Exchange) -> int:
        """Open a connection to ``origin`` unless one is there; returns how many were opened."""
        with self._lock:
            if self._conns.get(origin) or origin in self._connecting:
                return 0
            self._connecting[origin] = _Dial()
        self._connect(origin, exchange)
        return 1

    # one request
    def send(self, exchange: Exchange, request: H2Request) -> Response:
        origin = origin_of(exchange.request.url)
        write = exchange.limits[0].write
        streaming = False
        data = b""
        failure: SonioxError | None = None
        while True:
            conn, new = self._checkout(origin, exchange)
            # One hold of the connection's lock for the whole exchange (released while this
            # thread reads or is parked): with many threads on a connection, every extra
            # acquisition is a contended one.
            with conn.lock:
                if not conn.client.available:
                    continue
                stream = request.open(conn.client, exchange.request.options.stream)
                conn.requests += 1
                try:
                    conn.flush(write)
                except OSError as exc:
                    failure = _failure(exc, exchange, "write")
                else:
                    failure = self._await(conn, stream, exchange, "head")
                    streaming = failure is None and exchange.streams(stream.status)
                    if failure is None and not streaming:
                        if stream.streamed:
                            conn.client.read_whole(stream)
                            with contextlib.suppress(OSError):
                                conn.flush(write)
                        failure = self._await(conn, stream, exchange, "body")
                        data = conn.client.take(stream)
                finished = None if streaming else conn.settled()
                break
        self._note(new)
        if finished is not None:
            self._release(conn, finished)
        if failure is not None:
            raise failure
        if streaming:
            body = _SyncBody(self, conn, stream, exchange)
            return exchange.streaming(
                stream.status, stream.headers, _VERSION, body.decoded(), on_close=body.close
            )
        return exchange.read(stream.status, stream.headers, _VERSION, data)

    def _await(
        self, conn: _SyncConnection, stream: H2Stream, exchange: Exchange, phase: str
    ) -> SonioxError | None:
        """Holding ``conn.lock``: until ``stream`` is answered (``head``), has a chunk
        (``chunk``) or is complete (``body``) — read, or be parked while another thread reads.
        Returns the stream's failure, or a read timeout (the stream is then cancelled)."""
        limit, write = exchange.limits[0].read, exchange.limits[0].write
        deadline = None if limit is None else time.monotonic() + limit
        ready = _ready(stream, phase)
        try:
            while not ready():
                left = None if deadline is None else deadline - time.monotonic()
                try:
                    if left is not None and left <= 0:
                        raise TimeoutError
                    if conn.reading:
                        conn.park(stream, left)
                    else:
                        conn.pump(left, write)
                except TimeoutError:
                    conn.client.cancel(stream)
                    with contextlib.suppress(OSError):
                        conn.flush(write)
                    return timeout_error(exchange.request, "read", exchange.limits)
        finally:
            conn.hand_off()
        if stream.failure is not None:
            return _stream_error(stream, exchange, phase)
        return None

    def _wait(
        self, conn: _SyncConnection, stream: H2Stream, exchange: Exchange, phase: str
    ) -> None:
        """:meth:`_await` for a streamed body's reader (which holds no lock): raises."""
        with conn.lock:
            failure = self._await(conn, stream, exchange, phase)
            finished = conn.settled() if failure is not None else None
        if finished is not None:
            self._release(conn, finished)
        if failure is not None:
            raise failure

    def _settle(self, conn: _SyncConnection) -> None:
        """After a request: drop the connection if it can carry nothing more, note idleness."""
        with conn.lock:
            finished = conn.settled()
        self._release(conn, finished)

    def _release(self, conn: _SyncConnection, finished: bool) -> None:
        """A request left ``conn``; ``finished``: it can carry nothing more (closed here).
        The pool's lock only when that matters: a finished connection, or requests waiting
        for room in a full pool."""
        if not finished and not self._waiting:
            return
        with self._lock:
            if finished:
                group = self._conns.get(conn.origin)
                if group is not None and conn in group:
                    group.remove(conn)
            self._lock.notify_all()
        if finished:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for group in self._conns.values() for c in group]
            self._conns.clear()
            self._lock.notify_all()
        for conn in conns:
            conn.close()


def _ready(stream: H2Stream, phase: str) -> Callable[[], bool]:
    if phase == "head":
        return lambda: stream.answered
    if phase == "chunk":
        return lambda: bool(stream.chunks) or stream.done
    return lambda: stream.done


class _Streamed:
    """A streamed answer: its pool, connection, stream and exchange; the body decoded (content
    coding undone, failures turned into the request's errors)."""

    __slots__ = ("_conn", "_exchange", "_pool", "_stream")

    def __init__(self, pool: object, conn: object, stream: H2Stream, exchange: Exchange) -> None:
        self._pool = pool
        self._conn = conn
        self._stream = stream
        self._exchange = exchange

    def _decoding(self) -> BodyDecoding:
        def cut(exc: BaseException) -> SonioxError:
            return _failure(exc, self._exchange, "body")

        return BodyDecoding(self._exchange, self._stream.headers, cut)


class _SyncBody(_Streamed):
    """A streamed answer on a sync connection: chunks as they arrive; closing early cancels
    the stream."""

    __slots__ = ()
    _pool: H2Pool
    _conn: _SyncConnection

    def _chunks(self) -> Iterator[bytes]:
        conn, stream = self._conn, self._stream
        while True:
            with conn.lock:
                data = conn.client.take(stream)
                with contextlib.suppress(OSError):
                    conn.flush(self._exchange.limits[0].write)  # the window update, if due
            if data:
                yield data
                continue
            if stream.ended:
                break
            self._pool._wait(conn, stream, self._exchange, "chunk")  # pyright: ignore[reportPrivateUsage]
        self._pool._settle(conn)  # pyright: ignore[reportPrivateUsage]

    def decoded(self) -> Iterator[bytes]:
        return self._decoding().sync(self._chunks())

    def close(self) -> None:
        conn, stream = self._conn, self._stream
        if not stream.done:
            with conn.lock:
                conn.client.cancel(stream)
                with contextlib.suppress(OSError):
                    conn.flush(self._exchange.limits[0].write)
        self._pool._settle(conn)  # pyright: ignore[reportPrivateUsage]


# --- the async pool --------------------------------------------------------------------------


class _Wire(asyncio.Protocol):
    """One connection's asyncio protocol: bytes go to the connection; the streams they touch
    are woken."""

    def __init__(self, client: H2Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        changed = self.client.receive(data)
        self.flush()
        for stream in changed:
            _wake(stream)

    def eof_received(self) -> bool | None:
        return None  # connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        detail = (
            "the server closed the connection" if exc is None else f"connection failed: {exc!r}"
        )
        for stream in self.client.lost(detail):
            _wake(stream)

    def flush(self) -> None:
        out = self.client.output()
        transport = self.transport
        if out and transport is not None and not transport.is_closing():
            transport.write(out)


def _wake(stream: H2Stream) -> None:
    waiter = stream.waiter
    if isinstance(waiter, asyncio.Future) and not waiter.done():
        waiter.set_result(None)


class _AsyncConnection:
    __slots__ = ("idle_since", "loop", "origin", "requests", "wire")

    def __init__(self, origin: Origin, wire: _Wire, loop: asyncio.AbstractEventLoop) -> None:
        self.origin = origin
        self.wire = wire
        self.loop = loop
        self.requests = 0
        self.idle_since = time.monotonic()

    @property
    def client(self) -> H2Client:
        return self.wire.client

    def close(self) -> None:
        transport = self.wire.transport
        if transport is not None and not self.loop.is_closed():
            transport.close()


class AsyncH2Pool(_Pool[_AsyncConnection]):
    """The async HTTP/2 pool (one event loop's; connections of another loop are dropped)."""

    def _pick(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> _AsyncConnection | None:
        """A connection that can take a stream now (holding the lock); drops dead ones."""
        conns = self._conns.get(origin)
        if not conns:
            return None
        now, expiry = time.monotonic(), self._expiry
        keep: list[_AsyncConnection] = []
        found: _AsyncConnection | None = None
        for conn in conns:
            client = conn.client
            dead = (
                conn.loop is not loop
                or client.broken is not None
                or (client.idle and not client.reusable)
                or (client.idle and expiry is not None and now - conn.idle_since > expiry)
            )
            if dead:
                conn.close()
                continue
            keep.append(conn)
            if found is None and client.available:
                found = conn
        self._conns[origin] = keep
        return found

    async def _checkout(self, origin: Origin, exchange: Exchange) -> tuple[_AsyncConnection, bool]:
        loop = asyncio.get_running_loop()
        timeouts = exchange.limits[0]
        pool_deadline = None if timeouts.pool is None else time.monotonic() + timeouts.pool
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("this transport is closed")
                found = self._pick(origin, loop)
                if found is not None:
                    return found, False
                dial = self._connecting.get(origin)
                if dial is None and self._room():
                    self._connecting[origin] = _Dial(loop.create_future())
                    break
            left = None if pool_deadline is None else pool_deadline - time.monotonic()
            if left is not None and left <= 0:
                raise timeout_error(exchange.request, "pool", exchange.limits)
            try:
                async with asyncio.timeout(left):
                    if dial is not None and dial.future is not None:
                        await asyncio.shield(dial.future)
                    else:
                        await asyncio.sleep(0.005)  # full: poll for a free stream
            except TimeoutError:
                raise timeout_error(exchange.request, "pool", exchange.limits) from None
            if dial is not None and dial.done:
                dial.raise_for(exchange)
        return await self._connect(origin, exchange, loop), True

    async def _connect(
        self, origin: Origin, exchange: Exchange, loop: asyncio.AbstractEventLoop
    ) -> _AsyncConnection:
        _, host, port = origin
        conn: _AsyncConnection | None = None
        try:
            tls = self._tls_for(origin)
            client = self._new_client()
            async with asyncio.timeout(exchange.limits[0].connect):
                _, wire = await loop.create_connection(
                    lambda: _Wire(client),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
            transport = wire.transport
            assert transport is not None
            settle_transport(transport, _check_alpn if tls is not None else None)
            wire.flush()  # the preface and our SETTINGS
            conn = _AsyncConnection(origin, wire, loop)
        except BaseException as exc:
            with self._lock:
                self._dialled(origin, exc)
            if isinstance(exc, NotH2 | SonioxError) or not isinstance(exc, Exception):
                raise
            raise _failure(exc, exchange, "connect") from exc
        with self._lock:
            self._dialled(origin, None)
            self.opened += 1
            closed = self._closed
            if not closed:
                self._conns.setdefault(origin, []).append(conn)
        if closed:
            conn.close()
            raise RuntimeError("this transport is closed")
        return conn

    async def prewarm(self, origin: Origin, exchange: Exchange) -> int:
        """Open a connection to ``origin`` unless one is there; returns how many were opened."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._pick(origin, loop) is not None or origin in self._connecting:
                return 0
            self._connecting[origin] = _Dial(loop.create_future())
        await self._connect(origin, exchange, loop)
        return 1

    async def send(self, exchange: Exchange, request: H2Request) -> Response:
        origin = origin_of(exchange.request.url)
        while True:
            conn, new = await self._checkout(origin, exchange)
            if conn.client.available:
                break
        stream = request.open(conn.client, exchange.request.options.stream)
        conn.requests += 1
        conn.wire.flush()
        self._note(new)
        await self._wait(conn, stream, exchange, "head")
        if exchange.streams(stream.status):
            body = _AsyncBody(self, conn, stream, exchange)
            return exchange.streaming(
                stream.status, stream.headers, _VERSION, body.decoded(), on_aclose=body.aclose
            )
        if stream.streamed:
            conn.client.read_whole(stream)
            conn.wire.flush()
        await self._wait(conn, stream, exchange, "body")
        data = conn.client.take(stream)
        self._settle(conn)
        return exchange.read(stream.status, stream.headers, _VERSION, data)

    async def _wait(
        self, conn: _AsyncConnection, stream: H2Stream, exchange: Exchange, phase: str
    ) -> None:
        ready = _ready(stream, phase)
        try:
            while not ready():
                waiter = stream.waiter = conn.loop.create_future()
                try:
                    async with asyncio.timeout(exchange.limits[0].read):
                        await waiter
                finally:
                    stream.waiter = None
        except BaseException as exc:
            conn.client.cancel(stream)
            conn.wire.flush()
            self._settle(conn)
            if isinstance(exc, TimeoutError):
                raise timeout_error(exchange.request, "read", exchange.limits) from None
            raise
        if stream.failure is not None:
            self._settle(conn)
            self._fail(stream, exchange, phase)

    @staticmethod
    def _fail(stream: H2Stream, exchange: Exchange, phase: str) -> NoReturn:
        raise _stream_error(stream, exchange, phase)

    def _settle(self, conn: _AsyncConnection) -> None:
        client = conn.client
        if not client.idle:
            return
        conn.idle_since = time.monotonic()
        if client.reusable:
            return
        with self._lock:
            group = self._conns.get(conn.origin)
            if group is not None and conn in group:
                group.remove(conn)
        conn.close()

    async def aclose(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for group in self._conns.values() for c in group]
            self._conns.clear()
        for conn in conns:
            conn.close()


class _AsyncBody(_Streamed):
    """A streamed answer on an async connection: chunks as they arrive; closing early cancels
    the stream."""

    __slots__ = ()
    _pool: AsyncH2Pool
    _conn: _AsyncConnection

    async def _chunks(self) -> AsyncIterator[bytes]:
        conn, stream = self._conn, self._stream
        while True:
            data = conn.client.take(stream)
            conn.wire.flush()  # the window update, if due
            if data:
                yield data
                continue
            if stream.ended:
                break
            await self._pool._wait(conn, stream, self._exchange, "chunk")  # pyright: ignore[reportPrivateUsage]
        self._pool._settle(conn)  # pyright: ignore[reportPrivateUsage]

    def decoded(self) -> AsyncIterator[bytes]:
        return self._decoding().asynchronous(self._chunks())

    async def aclose(self) -> None:
        conn, stream = self._conn, self._stream
        if not stream.done:
            conn.client.cancel(stream)
            conn.wire.flush()
        self._pool._settle(conn)  # pyright: ignore[reportPrivateUsage]
