"""The native HTTP/1.1 lane (transport/h1.py) over loopback sockets, sync and async: connection
reuse, body framing, early answers to uploads, failures and timeouts, streaming, cancellation,
pre-warming, TLS, and the httpcore lane it stands in for."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import pytest
from lane_support import Send, read_body, run

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import (
    ConnectTimeoutError,
    ReadTimeoutError,
    RequestNotSentError,
    ResponseLostError,
)
from soniox.transport import (
    URL,
    HttpcoreTransport,
    Request,
    RequestOptions,
    StreamBody,
    Timeout,
    h1,
)
from soniox.transport.httpcore_transport import (
    PoolStats,
    forget_last_connection,
    last_connection,
)
from soniox.transport.response import Response

T = TypeVar("T")
BIG = 8 * 1024 * 1024
"""An upload larger than the loopback socket buffers, so the writer blocks on the server."""


# --- a loopback HTTP/1.1 server that does exactly what a test says ----------------------------


def fields(head: bytes) -> dict[bytes, bytes]:
    """A request head's header fields, names lower-cased."""
    pairs = (line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


class Peer:
    """The server's end of one connection: reads requests, writes answers."""

    def __init__(self, sock: socket.socket, server: Server) -> None:
        self.sock = sock
        self.server = server
        self.buffer = bytearray()

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except OSError:
            return False
        self.buffer += data
        return bool(data)

    def _take(self, end: int, skip: int = 0) -> bytes:
        data = bytes(self.buffer[:end])
        del self.buffer[: end + skip]
        return data

    def head(self) -> bytes | None:
        """The next request's head (request line and headers), or None when the client left."""
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            if not self._fill():
                return None
        return self._take(end + 4)

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise ConnectionError("the client left mid-body")
        return self._take(size)

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if not self._fill():
                raise ConnectionError("the client left mid-body")
        return self._take(end, skip=2)

    def body(self, head: bytes) -> bytes:
        """The request body after ``head``: by Content-Length, or chunked."""
        found = fields(head)
        if b"chunked" in found.get(b"transfer-encoding", b""):
            parts: list[bytes] = []
            while size := int(self._line(), 16):
                parts.append(self._exactly(size))
                self._exactly(2)
            self._exactly(2)
            return b"".join(parts)
        return self._exactly(int(found.get(b"content-length", b"0")))

    def request(self) -> bytes | None:
        """Read one whole request (recorded in ``server.seen``); its head, or None at the end."""
        head = self.head()
        if head is None:
            return None
        self.server.seen.append((head, self.body(head)))
        return head

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def until_closed(self) -> None:
        """Wait (reading and dropping bytes) until the client closes or the server stops."""
        while self._fill():
            self.buffer.clear()

    def close(self) -> None:
        self.sock.close()


Handler = Callable[[Peer], None]


class Server:
    """A threaded loopback server: each accepted connection runs ``handler`` on a thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.02)
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self.seen: list[tuple[bytes, bytes]] = []
        self.gate = threading.Event()
        """Tests open it to let a waiting handler go on."""
        self.finished = 0
        """Handlers that returned (their connection closed)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._serve, daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/x") -> URL:
        return URL.parse(f"http://127.0.0.1:{self.port}{path}")

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:  # the accept timeout included
                continue
            sock.settimeout(5.0)
            self._socks.append(sock)
            self.accepted += 1
            thread = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.handler(Peer(sock, self))
        sock.close()
        with self._lock:
            self.finished += 1

    def stop(self) -> None:
        self._stop.set()
        self.gate.set()
        self._acceptor.join(2)
        for sock in self._socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(2)
        for sock in self._socks:
            sock.close()
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], Server]]:
    """Start loopback servers running a handler; all are stopped after the test."""
    servers: list[Server] = []

    def start(handler: Handler) -> Server:
        server = Server(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ok(body: bytes = b"hello", headers: bytes = b"", status: bytes = b"200 OK") -> bytes:
    """A whole answer with a Content-Length."""
    head = b"HTTP/1.1 %s\r\ncontent-length: %d\r\n%s\r\n" % (status, len(body), headers)
    return head + body


def answering(response: bytes) -> Handler:
    """Answer every request on a connection with ``response``, until the client closes."""

    def handle(peer: Peer) -> None:
        while peer.request() is not None:
            peer.send(response)

    return handle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- running a scenario with the sync or the async transport ----------------------------------


async def wait_until(check: Callable[[], bool], limit: float = 3.0) -> None:
    """Poll ``check`` until it holds (failing after ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


def get(url: URL, *, stream: bool = False) -> Request:
    return Request("GET", url, options=RequestOptions(stream=stream))


# --- connection reuse ---------------------------------------------------------------------------


def test_requests_in_a_row_reuse_one_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """Three requests ride one connection: the first is new, the next two reused."""
    server = serve(answering(ok()))

    async def scenario(transport: HttpcoreTransport, send: Send) -> list[str | None]:
        states: list[str | None] = []
        for _ in range(3):
            forget_last_connection()
            response = await send(get(server.url()))
            assert (response.status, response.content, response.http_version) == (
                200,
                b"hello",
                "HTTP/1.1",
            )
            states.append(last_connection())
        stats = transport.pool_stats()
        assert (stats.opened, stats.requests_new, stats.requests_reused) == (1, 1, 2)
        assert (stats.lanes["h1"].open, stats.lanes["h1"].idle) == (1, 1)
        return states

    assert run(mode, scenario) == ["new", "reused", "reused"]
    assert server.accepted == 1


def test_an_idle_connection_the_server_closed_is_not_reused(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """A connection the server closed while idle is not reused: the next request just works."""

    def once(peer: Peer) -> None:
        peer.request()
        peer.send(ok())

    server = serve(once)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        await send(get(server.url()))
        await wait_until(lambda: server.finished == 1)
        await asyncio.sleep(0.05)  # the end of stream reaches the client (and its event loop)
        assert (await send(get(server.url()))).content == b"hello"
        stats = transport.pool_stats()
        assert (stats.requests_new, stats.requests_reused) == (2, 0)

    run(mode, scenario)
    assert server.accepted == 2


def test_an_idle_connection_holding_stray_bytes_is_not_reused(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """Bytes that arrive on an idle connection make it untrustworthy: a new one is opened."""

    def stray(peer: Peer) -> None:
        peer.request()
        peer.send(ok())
        time.sleep(0.02)
        peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstray")
        answering(ok())(peer)

    server = serve(stray)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        await send(get(server.url()))
        await asyncio.sleep(0.1)
        assert (await send(get(server.url()))).content == b"hello"
        assert transport.pool_stats().requests_new == 2

    run(mode, scenario)


def test_bytes_after_a_whole_answer_leave_the_answer_and_drop_the_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """An answer followed by junk in the same write is returned as sent, its connection dropped."""

    def doubled(peer: Peer) -> None:
        if peer.server.accepted == 1:  # the first connection only
            peer.request()
            peer.send(ok(b"first") + ok(b"second", status=b"404 Not Found") + b"junk")
        answering(ok())(peer)

    server = serve(doubled)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        response = await send(get(server.url()))
        assert (response.status, response.content) == (200, b"first")
        assert transport.pool_stats().idle == 0
        assert (await send(get(server.url()))).content == b"hello"

    run(mode, scenario)
    assert server.accepted == 2


def test_connection_close_makes_the_next_request_open_a_new_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """An answer saying Connection: close is not pooled, even if the server keeps it open."""
    server = serve(answering(ok(headers=b"connection: close\r\n")))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        assert (await send(get(server.url()))).content == b"hello"
        assert transport.pool_stats().idle == 0
        assert (await send(get(server.url()))).content == b"hello"
        stats = transport.pool_stats()
        assert (stats.requests_new, stats.requests_reused) == (2, 0)

    run(mode, scenario)
    assert server.accepted == 2


# --- response bodies ----------------------------------------------------------------------------


def test_a_chunked_body_is_read_whole_and_the_connection_reused(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """A chunked answer written in pieces arrives whole; the connection is reused after it."""

    def chunked(peer: Peer) -> None:
        while peer.request() is not None:
            peer.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for part in (b"hello ", b"chunked ", b"x" * 70_000):
                peer.send(h1.chunk(part))
                time.sleep(0.002)
            peer.send(h1.chunk(b""))

    server = serve(chunked)
    expected = b"hello chunked " + b"x" * 70_000

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        assert (await send(get(server.url()))).content == expected
        assert (await send(get(server.url()))).content == expected
        assert transport.pool_stats().requests_reused == 1

    run(mode, scenario)


def test_a_gzip_body_is_decoded(mode: str, serve: Callable[[Handler], Server]) -> None:
    """Accept-Encoding is offered, and a gzip-encoded answer is decoded."""
    plain = b'{"hello": "world"}' * 500
    server = serve(answering(ok(gzip.compress(plain), headers=b"content-encoding: gzip\r\n")))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        assert (await send(get(server.url()))).content == plain
        streamed = await send(get(server.url(), stream=True))
        assert await read_body(mode, streamed) == plain

    run(mode, scenario)
    assert fields(server.seen[0][0])[b"accept-encoding"] == b"gzip, deflate"


def test_a_close_delimited_body_ends_with_the_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """An answer with neither length nor chunks runs until the server closes; not reused."""

    def until_close(peer: Peer) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n")
        for part in (b"read ", b"until ", b"close"):
            time.sleep(0.005)
            peer.send(part)
        peer.close()

    server = serve(until_close)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        assert (await send(get(server.url()))).content == b"read until close"
        assert transport.pool_stats().idle == 0
        assert (await send(get(server.url()))).content == b"read until close"

    run(mode, scenario)
    assert server.accepted == 2


# --- request bodies -----------------------------------------------------------------------------


def early_413(pause: float) -> Handler:
    """Answer 413 as soon as the head is in, read nothing more, and close ``pause`` seconds
    later (unread bytes: the close resets the connection)."""

    def handle(peer: Peer) -> None:
        peer.head()
        peer.send(ok(b"too large", headers=b"connection: close\r\n", status=b"413 Too Large"))
        time.sleep(pause)
        peer.close()

    return handle


def big_body(kind: str) -> bytes | StreamBody:
    if kind == "bytes":
        return b"\0" * BIG
    piece = b"\0" * 65536
    return StreamBody.from_factory(lambda: (piece for _ in range(BIG // len(piece))))


async def post_big(transport: HttpcoreTransport, send: Send, server: Server, kind: str) -> None:
    """POST a large body to ``server``: the answer is the early 413, and nothing is pooled."""
    response = await send(Request("POST", server.url(), body=big_body(kind)))
    assert (response.status, response.content) == (413, b"too large")
    assert transport.pool_stats().open == 0


@pytest.mark.parametrize("kind", ["bytes", "stream"])
def test_an_early_answer_to_a_large_upload_is_returned(
    mode: str, kind: str, serve: Callable[[Handler], Server]
) -> None:
    """A 413 sent mid-upload, then a reset: the 413 is the response, not a lost request."""
    server = serve(early_413(0.02))
    run(mode, lambda transport, send: post_big(transport, send, server, kind))


@pytest.mark.parametrize(
    ("mode", "kind"), [("sync", "bytes"), ("sync", "stream"), ("async", "bytes")]
)
def test_an_early_answer_with_an_immediate_reset_is_returned(
    mode: str, kind: str, serve: Callable[[Handler], Server]
) -> None:
    """A reset right after the early 413 still leaves the 413 as the response."""
    # Not async with a streamed body: there a write can still hit the reset before the event
    # loop has read the answer, which asyncio then drops; h1 narrows that window (two loop
    # turns before each write) but cannot close it.
    server = serve(early_413(0.0))
    run(mode, lambda transport, send: post_big(transport, send, server, kind))


def test_a_stream_of_unknown_length_is_sent_chunked(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """A StreamBody without a length goes chunked, intact; empty parts are not sent."""
    server = serve(answering(ok(b"stored", status=b"201 Created")))
    parts = [b"abc", b"", b"x" * 70_000, b"", b"end"]

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        body = StreamBody.from_factory(lambda: iter(parts))
        response = await send(Request("POST", server.url(), body=body))
        assert (response.status, response.content) == (201, b"stored")

    run(mode, scenario)
    ((head, received),) = server.seen
    assert fields(head)[b"transfer-encoding"] == b"chunked"
    assert b"content-length" not in fields(head)
    assert received == b"".join(parts)


def test_an_async_iterator_body_is_sent_chunked(serve: Callable[[Handler], Server]) -> None:
    """asend takes a one-shot async iterator body of unknown length."""
    server = serve(answering(ok(b"stored", status=b"201 Created")))

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            await asyncio.sleep(0)
            yield part

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        response = await send(Request("POST", server.url(), body=StreamBody.one_shot(parts())))
        assert response.status == 201

    run("async", scenario)
    assert server.seen[0][1] == b"one two three"


def test_a_body_of_known_length_is_sent_with_content_length(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """bytes bodies, small and large, go with Content-Length and arrive intact."""
    server = serve(answering(ok()))
    small, large = b"s" * 100, bytes(range(256)) * 400

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        await send(Request("POST", server.url(), body=small))
        await send(Request("POST", server.url(), body=large))

    run(mode, scenario)
    assert [body for _, body in server.seen] == [small, large]
    assert fields(server.seen[1][0])[b"content-length"] == b"102400"


# --- failures -----------------------------------------------------------------------------------


def test_a_truncated_body_is_a_lost_response(mode: str, serve: Callable[[Handler], Server]) -> None:
    """The server closes before the body's Content-Length is reached: ResponseLostError."""

    def truncated(peer: Peer) -> None:
        peer.request()
        peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..")
        peer.close()

    server = serve(truncated)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(ResponseLostError, match="response body cut short"):
            await send(get(server.url()))
        assert transport.pool_stats().open == 0

    run(mode, scenario)


def test_no_answer_before_close_is_a_lost_response(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """The server reads the request and closes without answering: ResponseLostError."""

    def silent(peer: Peer) -> None:
        peer.request()
        peer.close()

    server = serve(silent)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(ResponseLostError, match="response lost after the request was sent"):
            await send(get(server.url()))
        assert transport.pool_stats().open == 0

    run(mode, scenario)


def test_a_refused_connection_was_not_sent(mode: str) -> None:
    """Nothing listening: RequestNotSentError (safe to send again)."""
    url = URL.parse(f"http://127.0.0.1:{free_port()}/x")

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(RequestNotSentError, match="request not sent"):
            await send(Request("POST", url, body=b"{}"))
        assert transport.pool_stats().open == 0

    run(mode, scenario)


@pytest.mark.parametrize("stall", ["head", "body"])
def test_a_stalled_answer_hits_the_read_timeout(
    mode: str, stall: str, serve: Callable[[Handler], Server]
) -> None:
    """No bytes for longer than the read timeout, before the head or mid-body: ReadTimeoutError."""

    def stalling(peer: Peer) -> None:
        peer.request()
        if stall == "body":
            peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome")
        peer.until_closed()

    server = serve(stalling)

    async def scenario(transport: HttpcoreTransport, send: Send) -> float:
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            await send(get(server.url()))
        assert transport.pool_stats().open == 0
        return time.monotonic() - started

    elapsed = run(mode, scenario, Timeout(connect=2.0, read=0.2, write=2.0, pool=2.0))
    assert 0.15 < elapsed < 1.5


def test_waiting_for_the_only_connection_hits_the_pool_timeout(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """max_connections=1, one request in flight: the next waits the pool timeout, then fails."""

    def gated(peer: Peer) -> None:
        while (head := peer.request()) is not None:
            if b" /slow " in head:
                peer.server.gate.wait(5)
            peer.send(ok())

    server = serve(gated)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        slow = get(server.url("/slow"))
        first = asyncio.ensure_future(
            transport.asend(slow) if mode == "async" else asyncio.to_thread(transport.send, slow)
        )
        await wait_until(lambda: len(server.seen) == 1)
        started = time.monotonic()
        with pytest.raises(ConnectTimeoutError, match="waiting for a free connection"):
            await send(get(server.url()))
        assert 0.15 < time.monotonic() - started < 1.5
        server.gate.set()
        assert (await first).content == b"hello"
        assert (await send(get(server.url()))).content == b"hello"
        stats = transport.pool_stats()
        assert (stats.opened, stats.requests_new, stats.requests_reused) == (1, 1, 1)

    run(mode, scenario, Timeout(connect=2.0, read=2.0, write=2.0, pool=0.2), max_connections=1)
    assert server.accepted == 1


# --- streamed responses -------------------------------------------------------------------------


def test_a_streamed_body_read_to_the_end_returns_the_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """stream=True: the connection is busy while the body is unread, pooled once it is read."""
    body = b"y" * 300_000
    server = serve(answering(ok(body)))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        response = await send(get(server.url(), stream=True))
        assert (transport.pool_stats().open, transport.pool_stats().idle) == (1, 0)
        assert await read_body(mode, response) == body
        assert (transport.pool_stats().open, transport.pool_stats().idle) == (1, 1)
        assert (await send(get(server.url()))).content == body
        assert transport.pool_stats().requests_reused == 1

    run(mode, scenario)
    assert server.accepted == 1


def test_a_streamed_body_closed_early_closes_the_connection(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """A streamed response closed before its end closes its connection instead of pooling it."""
    body = b"z" * (4 * 1024 * 1024)

    def large(peer: Peer) -> None:
        while peer.request() is not None:
            peer.send(ok(body))

    server = serve(large)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        response = await send(get(server.url(), stream=True))
        if mode == "async":
            async for chunk in response.aiter_bytes():
                assert chunk
                break
            await response.aclose()
        else:
            assert next(iter(response.iter_bytes()))
            response.close()
        assert transport.pool_stats().open == 0
        await wait_until(lambda: server.finished == 1)  # the server saw the connection go
        assert (await send(get(server.url()))).content == body
        assert transport.pool_stats().requests_new == 2

    run(mode, scenario)


# --- cancellation -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["awaiting the answer", "mid-upload", "waiting for the pool"])
def test_a_cancelled_request_leaves_the_pool_usable(
    where: str, serve: Callable[[Handler], Server]
) -> None:
    """A cancelled async request gives its slot back: with one connection, the next one runs."""

    def handler(peer: Peer) -> None:
        while (head := peer.head()) is not None:
            if b" /hang " in head:
                if where == "mid-upload":
                    peer.server.gate.wait(5)  # reading nothing: the client's writes block
                else:
                    peer.until_closed()
                return
            peer.body(head)
            peer.send(ok())

    server = serve(handler)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        if where == "mid-upload":
            hang = Request("POST", server.url("/hang"), body=b"\0" * BIG)
        else:
            hang = get(server.url("/hang"))
        task = asyncio.ensure_future(send(hang))
        await wait_until(lambda: server.accepted == 1)
        await asyncio.sleep(0.05)
        if where == "waiting for the pool":
            waiter = asyncio.ensure_future(send(get(server.url())))
            await asyncio.sleep(0.05)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert transport.pool_stats().open == 0
        assert (await send(get(server.url()))).content == b"hello"
        assert transport.pool_stats().open == 1

    run("async", scenario, Timeout(connect=2.0, read=2.0, write=2.0, pool=0.5), max_connections=1)
    assert server.accepted == 2


# --- the httpcore lane, still there ------------------------------------------------------------


def test_native_http1_false_rides_httpcore(
    mode: str, serve: Callable[[Handler], Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """native_http1=False: HTTP/1.1 goes through httpcore (the native pools are never used)."""

    def refuse(*args: object, **kwargs: object) -> Response:
        raise AssertionError("the native lane was used")

    monkeypatch.setattr(h1.H1Pool, "send", refuse)
    monkeypatch.setattr(h1.AsyncH1Pool, "send", refuse)
    server = serve(answering(ok()))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        for _ in range(2):
            response = await send(get(server.url()))
            assert (response.content, response.http_version) == (b"hello", "HTTP/1.1")
        stats = transport.pool_stats()
        assert (stats.requests_new, stats.requests_reused) == (1, 1)

    run(mode, scenario, native_http1=False)


# --- pre-warming --------------------------------------------------------------------------------


def test_prewarmed_connections_count_as_reused(
    mode: str, serve: Callable[[Handler], Server]
) -> None:
    """prewarm(url, 3) opens three idle connections; requests then ride them as reused."""
    server = serve(answering(ok()))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        url = server.url()
        if mode == "async":
            assert await transport.aprewarm(url, 3) == 3
            assert await transport.aprewarm(url, 3) == 0  # all three still open
        else:
            assert transport.prewarm(url, 3) == 3
            assert transport.prewarm(url, 3) == 0
        await wait_until(lambda: server.accepted == 3)
        stats = transport.pool_stats()
        assert (stats.opened, stats.prewarmed, stats.open, stats.idle) == (3, 3, 3, 3)
        for _ in range(3):
            forget_last_connection()
            assert (await send(get(url))).content == b"hello"
            assert last_connection() == "reused"
        stats = transport.pool_stats()
        assert (stats.opened, stats.requests_new, stats.requests_reused) == (3, 0, 3)

    run(mode, scenario)
    assert server.accepted == 3


# --- the emulator, plain and TLS ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """One emulator serving HTTP and HTTPS for this module's tests."""
    with Emulator(tls=True) as emu:
        yield emu


def authorized(emu: Emulator, url: str, body: bytes | None = None) -> Request:
    request = Request("GET" if body is None else "POST", URL.parse(url), body=body)
    return request.with_header("authorization", f"Bearer {emu.api_key}")


def test_the_clients_ride_the_native_lane(mode: str, shared_emulator: Emulator) -> None:
    """SonioxClient and AsyncSonioxClient calls ride the native lane, reusing one connection."""
    emu = shared_emulator
    config = SonioxConfig.testing(api_key=emu.api_key, base_url=emu.rest_base_url)

    async def calls() -> PoolStats:
        async with AsyncSonioxClient(config=config) as client:
            await client.models.list()
            await client.models.list()
            assert isinstance(client.transport, HttpcoreTransport)
            return client.transport.pool_stats()

    if mode == "async":
        stats = asyncio.run(calls())
    else:
        with SonioxClient(config=config) as client:
            client.models.list()
            client.models.list()
            assert isinstance(client.transport, HttpcoreTransport)
            stats = client.transport.pool_stats()
    assert (stats.opened, stats.requests_new, stats.requests_reused) == (1, 1, 1)


def test_tls_requests_reuse_their_connection(mode: str, shared_emulator: Emulator) -> None:
    """Over TLS (the emulator's CA), HTTP/1.1 answers come and the idle connection is reused."""
    emu = shared_emulator
    url = emu.tls_url + "/v1/models"

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        for _ in range(2):
            response = await send(authorized(emu, url))
            assert (response.status, response.http_version) == (200, "HTTP/1.1")
            assert response.json()["models"]
            await asyncio.sleep(0.05)
        stats = transport.pool_stats()
        assert (stats.requests_new, stats.requests_reused) == (1, 1)

    run(mode, scenario, verify=emu.ssl_context())


def test_tls_prewarmed_connections_are_reused(mode: str, shared_emulator: Emulator) -> None:
    """Pre-warmed TLS 1.3 connections stay usable once the server's tickets arrived."""
    emu = shared_emulator
    url = emu.tls_url + "/v1/models"

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        target = URL.parse(url)
        if mode == "async":
            assert await transport.aprewarm(target, 2) == 2
        else:
            assert transport.prewarm(target, 2) == 2
        await asyncio.sleep(0.05)
        for _ in range(2):
            assert (await send(authorized(emu, url))).status == 200
        stats = transport.pool_stats()
        assert (stats.opened, stats.requests_new, stats.requests_reused) == (2, 0, 2)

    run(mode, scenario, verify=emu.ssl_context())


def test_tls_uploads_stay_http11_beside_http2_calls(mode: str, shared_emulator: Emulator) -> None:
    """With http2 on, an upload on the native lane still negotiates http/1.1 over the shared TLS."""
    emu = shared_emulator
    boundary = uuid.uuid4().hex
    upload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.raw"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n{'x' * 2000}\r\n--{boundary}--\r\n"
    ).encode()

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        small = await send(authorized(emu, emu.tls_url + "/v1/models"))
        assert small.http_version == "HTTP/2"
        request = authorized(emu, emu.tls_url + "/v1/files", upload).with_header(
            "content-type", f"multipart/form-data; boundary={boundary}"
        )
        created = await send(request)
        assert (created.status, created.http_version) == (201, "HTTP/1.1")
        assert created.json()["size"] == 2000

    run(mode, scenario, verify=emu.ssl_context(), http2=True, http2_max_body=1024)


def test_a_users_tls_context_shared_with_an_http2_client_still_gives_http11(
    mode: str, shared_emulator: Emulator
) -> None:
    """One SSLContext: an HTTP/2 client makes it offer h2; the native lane still gets http/1.1."""
    emu = shared_emulator
    context = emu.ssl_context()
    url = emu.tls_url + "/v1/models"

    async def with_http2(transport: HttpcoreTransport, send: Send) -> str:
        return (await send(authorized(emu, url))).http_version

    async def native(transport: HttpcoreTransport, send: Send) -> tuple[str, int]:
        response = await send(authorized(emu, url))
        return response.http_version, transport.pool_stats().requests_new

    assert run(mode, with_http2, verify=context, http2=True) == "HTTP/2"
    assert run(mode, native, verify=context) == ("HTTP/1.1", 1)
