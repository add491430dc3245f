"""The native HTTP/2 lane (transport/h2.py) over loopback sockets, sync and async: one
multiplexed connection, h2c and TLS (ALPN), flow control both ways, streamed answers, stream
failures and timeouts, the fallback to HTTP/1.1 when a server does not choose h2. The servers
are the emulator and a scripted one on the ``h2`` library (an independent implementation)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest
import trustme
from lane_support import LIMITS, Send, read_body
from lane_support import run as run_lane

from soniox.emulator import Emulator
from soniox.errors import ReadTimeoutError, RequestNotSentError, ResponseLostError
from soniox.transport import URL, HttpcoreTransport, Request, RequestOptions, Timeout

T = TypeVar("T")


def run(
    mode: str,
    scenario: Callable[[HttpcoreTransport, Send], Awaitable[T]],
    timeout: Timeout = LIMITS,
    **options: Any,
) -> T:
    """:func:`lane_support.run` with HTTP/2 on."""
    return run_lane(mode, scenario, timeout, http2=True, **options)


def get(url: str, *, stream: bool = False) -> Request:
    return Request("GET", URL.parse(url), options=RequestOptions(stream=stream))


# --- a scripted HTTP/2 server (the h2 library, a thread per connection) -------------------------


class Reply:
    """What the handler does with one request."""

    def __init__(self, server: H2Server, conn: h2.connection.H2Connection, stream_id: int) -> None:
        self._server = server
        self._conn = conn
        self.stream_id = stream_id

    def answer(self, body: bytes = b"hello", status: int = 200, **headers: str) -> None:
        fields = [(":status", str(status)), ("content-length", str(len(body)))]
        fields += [(k.replace("_", "-"), v) for k, v in headers.items()]
        self._conn.send_headers(self.stream_id, fields, end_stream=not body)
        if body:
            self._server.pending[self._conn][self.stream_id] = body

    def reset(self, code: h2.errors.ErrorCodes) -> None:
        self._conn.reset_stream(self.stream_id, code)

    def hang_up(self) -> None:
        raise ConnectionAbortedError("the handler closes the connection")


Handler = Callable[[Reply, dict[bytes, bytes], bytes], None]


class H2Server:
    """h2c (or TLS with ALPN h2) on loopback: each complete request goes to ``handler``."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[tuple[dict[bytes, bytes], bytes]] = []
        self.accepted = 0
        self.resets: list[int] = []
        self.pending: dict[h2.connection.H2Connection, dict[int, bytes]] = {}
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def url(self, path: str = "/v1/models") -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, ConnectionAbortedError, ssl.SSLError):
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            sock.settimeout(0.2)
            config = h2.config.H2Configuration(client_side=False, header_encoding=None)
            conn = h2.connection.H2Connection(config)
            self.pending[conn] = {}
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            heads: dict[int, dict[bytes, bytes]] = {}
            bodies: dict[int, bytearray] = {}
            while not self._stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        sid = event.stream_id or 0
                        heads[sid] = dict(event.headers or [])
                        bodies[sid] = bytearray()
                    elif isinstance(event, h2.events.DataReceived):
                        sid = event.stream_id or 0
                        bodies[sid] += event.data or b""
                        conn.acknowledge_received_data(event.flow_controlled_length or 0, sid)
                    elif isinstance(event, h2.events.StreamReset):
                        self.resets.append(event.stream_id or 0)
                    if isinstance(event, h2.events.StreamEnded):
                        sid = event.stream_id or 0
                        self.requests.append((heads[sid], bytes(bodies[sid])))
                        self.handler(Reply(self, conn, sid), heads[sid], bytes(bodies[sid]))
                self._send_pending(conn)
                sock.sendall(conn.data_to_send())
        with contextlib.suppress(OSError):
            sock.close()

    def _send_pending(self, conn: h2.connection.H2Connection) -> None:
        pending = self.pending[conn]
        for sid, body in list(pending.items()):
            with contextlib.suppress(Exception):
                room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                while body and room > 0:
                    conn.send_data(sid, body[:room], end_stream=len(body) <= room)
                    body = body[room:]
                    room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
            if body:
                pending[sid] = body
            else:
                del pending[sid]

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(2)


@pytest.fixture
def serve() -> Iterator[Callable[..., H2Server]]:
    servers: list[H2Server] = []

    def start(handler: Handler, tls: ssl.SSLContext | None = None) -> H2Server:
        servers.append(H2Server(handler, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def hello(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
    reply.answer(b"hello")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(tls=True) as emu:
        yield emu


def authorized(emu: Emulator, url: str) -> Request:
    return get(url).with_header("authorization", f"Bearer {emu.api_key}")


# --- the emulator: one connection, h2c and TLS -------------------------------------------------


def test_requests_share_one_connection(mode: str, emulator: Emulator) -> None:
    """Calls in a row ride one h2c connection of the native lane."""

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        for _ in range(3):
            response = await send(authorized(emulator, emulator.rest_base_url + "/models"))
            assert (response.status, response.http_version) == (200, "HTTP/2")
            assert response.json()["models"]
        stats = transport.pool_stats()
        assert (stats.opened, stats.requests_new, stats.requests_reused) == (1, 1, 2)
        assert set(stats.lanes) == {"h2c"}

    run(mode, scenario)


def test_many_threads_share_one_connection(emulator: Emulator) -> None:
    """40 threads x 10 calls on one sync transport: every answer right, one connection."""
    transport = HttpcoreTransport(timeout=LIMITS, http2=True)
    url = emulator.rest_base_url + "/models"
    try:

        def calls(_: int) -> list[int]:
            return [transport.send(authorized(emulator, url)).status for _ in range(10)]

        with ThreadPoolExecutor(40) as workers:
            statuses = [s for batch in workers.map(calls, range(40)) for s in batch]
        assert statuses == [200] * 400
        assert transport.pool_stats().opened == 1
    finally:
        transport.close()


def test_tasks_share_a_connection_up_to_the_servers_stream_limit(emulator: Emulator) -> None:
    """250 concurrent tasks, the emulator allowing 100 streams a connection: every answer right
    on at most three connections — more than one (one cannot carry 250), and two when the first
    answers free streams before the last tasks ask (a busy machine's timing)."""

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        url = emulator.rest_base_url + "/models"
        responses = await asyncio.gather(*(send(authorized(emulator, url)) for _ in range(250)))
        assert [r.status for r in responses] == [200] * 250
        assert 2 <= transport.pool_stats().opened <= 3

    run("async", scenario)


def test_tls_negotiates_h2_and_prewarms(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    """Over TLS (ALPN h2), a pre-warmed connection carries the first call as reused."""
    ca = tmp_path / "ca.pem"
    ca.write_bytes(emulator.ca_cert_pem)
    url = emulator.tls_rest_base_url + "/models"

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        target = URL.parse(url)
        opened = await transport.aprewarm(target) if mode == "async" else transport.prewarm(target)
        assert opened == 1
        response = await send(authorized(emulator, url))
        assert (response.status, response.http_version) == (200, "HTTP/2")
        stats = transport.pool_stats()
        assert (stats.opened, stats.prewarmed, stats.requests_reused) == (1, 1, 1)
        assert set(stats.lanes) == {"h2"}

    run(mode, scenario, verify=str(ca))


def test_a_server_that_does_not_choose_h2_gets_http11(mode: str, tmp_path: Path) -> None:
    """A TLS server offering only http/1.1: the call goes over HTTP/1.1, and so do later ones."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server_context.set_alpn_protocols(["http/1.1"])
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.cert_pem.bytes())
    listener = socket.create_server(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    stop = threading.Event()

    def serve_http11() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError, ssl.SSLError):
                conn = server_context.wrap_socket(raw, server_side=True)
                conn.settimeout(2)
                while conn.recv(65536):
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            raw.close()

    thread = threading.Thread(target=serve_http11, daemon=True)
    thread.start()

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        url = f"https://127.0.0.1:{port}/v1/models"
        for _ in range(2):
            response = await send(get(url))
            assert (response.content, response.http_version) == (b"ok", "HTTP/1.1")
        assert transport.prewarm_lane(URL.parse(url)) == "h1"

    try:
        run(mode, scenario, verify=str(ca_file))
    finally:
        stop.set()
        thread.join(2)
        listener.close()


# --- flow control, streaming, content coding -----------------------------------------------------


def test_a_body_beyond_the_window_arrives_whole(mode: str, serve: Callable[..., H2Server]) -> None:
    """A 1 MiB POST body (16 times the default window) reaches the server byte for byte."""
    server = serve(hello)
    body = bytes(range(256)) * 4096

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        request = Request("POST", URL.parse(server.url()), body=body)
        assert (await send(request)).content == b"hello"

    run(mode, scenario)
    assert server.requests[-1][1] == body


def test_a_streamed_answer_beyond_the_window_is_read_whole(
    mode: str, serve: Callable[..., H2Server]
) -> None:
    """A 3 MiB answer (three stream windows), streamed and read whole, arrives intact."""
    big = bytes(range(256)) * 12288

    def large(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        reply.answer(big)

    server = serve(large)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        streamed = await send(get(server.url(), stream=True))
        assert await read_body(mode, streamed) == big
        assert (await send(get(server.url()))).content == big
        assert transport.pool_stats().opened == 1

    run(mode, scenario)


def test_a_gzip_answer_is_decoded(mode: str, serve: Callable[..., H2Server]) -> None:
    """Content-Encoding: gzip is undone, as on the other lanes."""

    def zipped(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        assert b"gzip" in head[b"accept-encoding"]
        reply.answer(gzip.compress(b"hello " * 100), content_encoding="gzip")

    server = serve(zipped)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        assert (await send(get(server.url()))).content == b"hello " * 100

    run(mode, scenario)


# --- failures ------------------------------------------------------------------------------------


def by_path(**actions: Handler) -> Handler:
    def handle(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        path = head[b":path"].decode().rsplit("/", 1)[-1]
        actions.get(path, hello)(reply, head, body)

    return handle


def stall(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
    """No answer at all."""


def test_a_stalled_stream_times_out_and_the_connection_carries_on(
    mode: str, serve: Callable[..., H2Server]
) -> None:
    """No answer within the read timeout: ReadTimeoutError, the stream reset, the connection kept."""
    server = serve(by_path(stall=stall))
    quick = Timeout(connect=2.0, read=0.3, write=2.0, pool=2.0)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(ReadTimeoutError):
            await send(get(server.url("/v1/stall")))
        assert (await send(get(server.url("/v1/ok")))).content == b"hello"
        assert transport.pool_stats().opened == 1

    run(mode, scenario, timeout=quick)
    assert server.resets == [1]


def test_a_refused_stream_was_not_sent_and_a_reset_one_may_have_been(
    mode: str, serve: Callable[..., H2Server]
) -> None:
    """REFUSED_STREAM → RequestNotSentError (safe to resend); INTERNAL_ERROR → ResponseLostError."""

    def refuse(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        reply.reset(h2.errors.ErrorCodes.REFUSED_STREAM)

    def fail(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        reply.reset(h2.errors.ErrorCodes.INTERNAL_ERROR)

    server = serve(by_path(refuse=refuse, fail=fail))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(RequestNotSentError):
            await send(get(server.url("/v1/refuse")))
        with pytest.raises(ResponseLostError, match="INTERNAL_ERROR"):
            await send(get(server.url("/v1/fail")))
        assert (await send(get(server.url("/v1/ok")))).content == b"hello"

    run(mode, scenario)


def test_a_connection_lost_mid_request_is_a_lost_response_and_the_next_call_reconnects(
    mode: str, serve: Callable[..., H2Server]
) -> None:
    """The server hangs up after reading the request: ResponseLostError; the next call works."""

    def hang_up(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        reply.hang_up()

    server = serve(by_path(hang_up=hang_up))

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        with pytest.raises(ResponseLostError):
            await send(get(server.url("/v1/hang_up")))
        assert (await send(get(server.url("/v1/ok")))).content == b"hello"
        assert transport.pool_stats().opened == 2

    run(mode, scenario)


def test_native_http2_off_uses_httpcore(mode: str, serve: Callable[..., H2Server]) -> None:
    """native_http2=False: the same answers, over httpcore's HTTP/2 pool."""
    server = serve(hello)

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        response = await send(get(server.url()))
        assert (response.content, response.http_version) == (b"hello", "HTTP/2")
        assert transport._h2_sync is None  # pyright: ignore[reportPrivateUsage]
        assert transport._h2_async is None  # pyright: ignore[reportPrivateUsage]

    run(mode, scenario, native_http2=False)


def test_requests_waiting_on_a_failed_connect_fail_alike(mode: str) -> None:
    """Nothing listens: every concurrent request fails as not sent, none hangs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}/v1/models"

    async def scenario(transport: HttpcoreTransport, send: Send) -> None:
        if mode == "async":
            outcomes = await asyncio.gather(
                *(send(get(url)) for _ in range(20)), return_exceptions=True
            )
        else:
            with ThreadPoolExecutor(20) as workers:
                futures = [workers.submit(transport.send, get(url)) for _ in range(20)]
                outcomes = [future.exception() for future in futures]
        assert all(isinstance(outcome, RequestNotSentError) for outcome in outcomes)
        assert transport.pool_stats().opened == 0

    run(mode, scenario)


def test_threads_waiting_on_a_connection_that_is_lost_all_fail_and_none_hangs(
    serve: Callable[..., H2Server],
) -> None:
    """20 threads in flight when the server hangs up: each gets ResponseLostError, promptly."""

    def hang_up(reply: Reply, head: dict[bytes, bytes], body: bytes) -> None:
        reply.hang_up()

    server = serve(hang_up)
    transport = HttpcoreTransport(timeout=LIMITS, http2=True)
    try:
        with ThreadPoolExecutor(20) as workers:
            futures = [workers.submit(transport.send, get(server.url())) for _ in range(20)]
            outcomes = [future.exception(timeout=5) for future in futures]
        assert all(isinstance(outcome, ResponseLostError) for outcome in outcomes)
    finally:
        transport.close()
