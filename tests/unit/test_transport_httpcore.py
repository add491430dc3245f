"""The network transport's decisions that need no server: lanes and failure classification."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import importlib
import inspect
import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import h2.errors
import h2.events
import h2.exceptions
import httpcore
import httpcore._synchronization as httpcore_sync
import pytest

from soniox.errors import (
    ConnectTimeoutError,
    DeadlineExceededError,
    ReadTimeoutError,
    RequestNotSentError,
    ResponseLostError,
    WriteTimeoutError,
)
from soniox.transport import (
    URL,
    HttpcoreTransport,
    Request,
    RequestOptions,
    StreamBody,
    Timeout,
    Transport,
    classify_error,
    never_processed,
)

ROOT = Path(__file__).resolve().parents[2]
PLAIN = URL.parse("http://127.0.0.1:9/v1/x")
TLS = URL.parse("https://api.soniox.com/v1/x")
LIMITS = (Timeout(), Timeout())


def req(url: URL = PLAIN, body: bytes | StreamBody | None = None, method: str = "GET") -> Request:
    return Request(method, url, body=body)


def goaway(last_stream_id: int, code: h2.errors.ErrorCodes = h2.errors.ErrorCodes.NO_ERROR):
    event = h2.events.ConnectionTerminated()
    event.error_code = code
    event.last_stream_id = last_stream_id
    return event


def raised_while_sending(event: h2.events.ConnectionTerminated) -> httpcore.RemoteProtocolError:
    """What httpcore raises when h2 refuses to send on a connection a GOAWAY closed."""
    exc = httpcore.RemoteProtocolError(event)
    exc.__context__ = h2.exceptions.ProtocolError("Invalid input ConnectionInputs.SEND_HEADERS")
    return exc


# --- lanes ------------------------------------------------------------------------------------


def test_http11_only_by_default() -> None:
    """Without http2 every request rides the HTTP/1.1 pool."""
    assert HttpcoreTransport().lane(req(TLS)) == "h1"


def test_small_calls_ride_http2_when_enabled() -> None:
    """With http2: https uses ALPN h2, plain http uses h2c prior knowledge."""
    transport = HttpcoreTransport(http2=True)
    assert transport.lane(req(TLS)) == "h2"
    assert transport.lane(req(PLAIN, b"{}", "POST")) == "h2c"


def test_large_uploads_stay_on_http11_even_with_http2() -> None:
    """Bodies above http2_max_body go over HTTP/1.1 (pure-Python h2 uploads are ~9x slower)."""
    transport = HttpcoreTransport(http2=True, http2_max_body=1024)
    assert transport.lane(req(TLS, b"x" * 1025, "POST")) == "h1"
    assert transport.lane(req(TLS, b"x" * 1024, "POST")) == "h2"


def test_streams_of_unknown_length_stay_on_http11() -> None:
    """A stream without a declared length could be large: HTTP/1.1."""
    body = StreamBody.from_factory(lambda: iter([b"x"]))
    assert HttpcoreTransport(http2=True).lane(req(TLS, body, "POST")) == "h1"


def test_httpcore_transport_satisfies_the_protocol() -> None:
    """HttpcoreTransport is a Transport (sync and async send, close, clock)."""
    assert isinstance(HttpcoreTransport(), Transport)


def test_the_old_name_is_a_deprecated_alias_of_the_same_class() -> None:
    """soniox.transport.HttpxTransport and soniox.HttpxTransport still resolve, with a warning."""
    import soniox
    import soniox.transport

    with pytest.warns(DeprecationWarning, match="HttpcoreTransport"):
        old = soniox.transport.HttpxTransport
    assert old is HttpcoreTransport
    with pytest.warns(DeprecationWarning, match="HttpcoreTransport"):
        from soniox.transport import HttpxTransport
    assert HttpxTransport is HttpcoreTransport
    with pytest.warns(DeprecationWarning, match="HttpcoreTransport"):
        assert soniox.HttpxTransport is HttpcoreTransport
    with pytest.warns(DeprecationWarning, match="deprecated"):  # every use warns (never cached)
        assert soniox.HttpxTransport is HttpcoreTransport
    assert soniox.HttpcoreTransport is HttpcoreTransport
    assert "HttpxTransport" not in soniox.__all__
    assert "HttpxTransport" not in soniox.transport.__all__


def test_repr_shows_settings_not_secrets() -> None:
    """repr names the protocol choice, lanes in use and limits."""
    text = repr(HttpcoreTransport(http2=True))
    assert "http2=True" in text
    assert "lanes=[]" in text


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpcore.ConnectError("refused"), RequestNotSentError),
        (httpcore.ConnectTimeout("slow"), ConnectTimeoutError),
        (httpcore.PoolTimeout("busy"), ConnectTimeoutError),
        (httpcore.ReadTimeout("slow"), ReadTimeoutError),
        (httpcore.WriteTimeout("slow"), WriteTimeoutError),
        (httpcore.ReadError("reset"), ResponseLostError),
        (httpcore.WriteError("reset"), ResponseLostError),
        (httpcore.RemoteProtocolError("Server disconnected"), ResponseLostError),
    ],
)
def test_httpcore_failures_map_to_the_error_tree(exc: Exception, expected: type) -> None:
    """Connect-phase failures never reached the server; the rest may have been processed."""
    error = classify_error(exc, req(), LIMITS)
    assert type(error) is expected


def test_goaway_seen_before_sending_is_not_processed() -> None:
    """A stream h2 refused to send after GOAWAY never reached the server: retry is safe."""
    exc = raised_while_sending(goaway(last_stream_id=199))
    assert never_processed(exc)
    assert isinstance(classify_error(exc, req(method="POST"), LIMITS), RequestNotSentError)


def test_goaway_with_last_stream_zero_is_not_processed() -> None:
    """last_stream_id=0: the server acted on nothing on this connection."""
    exc = httpcore.RemoteProtocolError(goaway(0, h2.errors.ErrorCodes.PROTOCOL_ERROR))
    assert never_processed(exc)


def test_goaway_while_waiting_for_an_answer_may_have_been_processed() -> None:
    """A stream at or below last_stream_id was accepted: the server may be processing it."""
    exc = httpcore.RemoteProtocolError(goaway(last_stream_id=7))
    assert not never_processed(exc)
    assert isinstance(classify_error(exc, req(), LIMITS), ResponseLostError)


def test_refused_stream_is_not_processed() -> None:
    """RST_STREAM(REFUSED_STREAM) guarantees no processing (RFC 9113 §8.7)."""
    event = h2.events.StreamReset(stream_id=3)
    event.error_code = h2.errors.ErrorCodes.REFUSED_STREAM
    assert never_processed(httpcore.RemoteProtocolError(event))
    event.error_code = h2.errors.ErrorCodes.CANCEL
    assert not never_processed(httpcore.RemoteProtocolError(event))


def test_failures_after_the_status_line_are_responses_lost() -> None:
    """A body cut short was certainly processed, whatever the error."""
    error = classify_error(httpcore.ConnectError("x"), req(), LIMITS, answered=True)
    assert isinstance(error, ResponseLostError)


def test_a_timeout_cut_by_the_deadline_is_a_deadline_error() -> None:
    """When the deadline shortened the read limit, the deadline is what ran out."""
    limits = (Timeout(read=0.5), Timeout(read=60))
    error = classify_error(httpcore.ReadTimeout("x"), req(), limits)
    assert isinstance(error, DeadlineExceededError)


def test_error_messages_name_the_request_and_the_cause() -> None:
    """Messages say what failed and why, for humans reading logs."""
    error = classify_error(httpcore.ConnectError("Connection refused"), req(), LIMITS)
    assert "GET http://127.0.0.1:9/v1/x" in str(error)
    assert "Connection refused" in str(error)


# --- dependencies ---------------------------------------------------------------------------------


def test_sniffio_is_a_core_dependency_because_httpcore_imports_it_per_async_call() -> None:
    """Our code never imports sniffio; httpcore's ``current_async_library()`` runs ``import
    sniffio`` each time it sets up an async lock, event or shield (4-11 times per async request).
    Missing, each is a failed import: ~1.35x the CPU per async request (bench_sniffio.py). When
    httpcore stops importing it there, this fails: then the dependency can go."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dep.startswith("sniffio") for dep in deps)
    assert importlib.util.find_spec("sniffio") is not None
    assert "import sniffio" in inspect.getsource(httpcore_sync.current_async_library)
    ours = [
        path.name
        for path in (ROOT / "src" / "soniox").rglob("*.py")
        if "import sniffio" in path.read_text()
    ]
    assert ours == []


def test_h2_is_a_core_dependency() -> None:
    """HTTP/2 must work without extras."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dep.startswith("h2") for dep in deps)


# --- content decoding over a loopback socket ------------------------------------------------------

GZIP_PLAIN = b'{"hello": "world"}' * 100
BROKEN = r"could not decode the compressed body of GET /broken"


@pytest.fixture
def gzip_server() -> Iterator[int]:
    """An HTTP/1.1 server answering every request with a gzip-encoded body; the path ``/broken``
    gets a body that is not gzip. Serves connections one after another until the test ends."""
    good = gzip.compress(GZIP_PLAIN)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
        b"content-length: %d\r\n\r\n"
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        buffer = b""
        while not stop.is_set():
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            request, buffer = buffer.split(b"\r\n\r\n", 1)
            body = b"not gzip at all" * 10 if b" /broken " in request else good
            conn.sendall(head % len(body) + body)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            with conn, contextlib.suppress(OSError):
                answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_gzip_bodies_are_decoded_read_and_streamed(gzip_server: int) -> None:
    """Content-Encoding: gzip is undone for read bodies and for streamed chunks alike."""
    url = URL.parse(f"http://127.0.0.1:{gzip_server}/x")
    transport = HttpcoreTransport(timeout=Timeout.of(5))
    try:
        assert transport.send(Request("GET", url)).content == GZIP_PLAIN
        streamed = transport.send(Request("GET", url, options=RequestOptions(stream=True)))
        assert b"".join(streamed.iter_bytes()) == GZIP_PLAIN
    finally:
        transport.close()


def test_gzip_bodies_are_decoded_read_and_streamed_async(gzip_server: int) -> None:
    """The async shell decodes the same way (read whole, and chunk by chunk)."""
    url = URL.parse(f"http://127.0.0.1:{gzip_server}/x")

    async def main() -> tuple[bytes, bytes]:
        transport = HttpcoreTransport(timeout=Timeout.of(5))
        try:
            whole = (await transport.asend(Request("GET", url))).content
            response = await transport.asend(
                Request("GET", url, options=RequestOptions(stream=True))
            )
            async with response:
                return whole, b"".join([chunk async for chunk in response.aiter_bytes()])
        finally:
            await transport.aclose()

    assert asyncio.run(main()) == (GZIP_PLAIN, GZIP_PLAIN)


def test_a_body_that_does_not_decode_is_a_lost_response(gzip_server: int) -> None:
    """A body that says gzip but is not: ResponseLostError naming the request, read or streamed,
    sync or async."""
    url = URL.parse(f"http://127.0.0.1:{gzip_server}/broken")
    stream = RequestOptions(stream=True)

    async def via_asend() -> None:
        transport = HttpcoreTransport(timeout=Timeout.of(5))
        try:
            with pytest.raises(ResponseLostError, match=BROKEN):
                await transport.asend(Request("GET", url))
            response = await transport.asend(Request("GET", url, options=stream))
            with pytest.raises(ResponseLostError, match=BROKEN):
                await response.aread()
            assert response.is_stream_consumed
        finally:
            await transport.aclose()

    transport = HttpcoreTransport(timeout=Timeout.of(5))
    try:
        with pytest.raises(ResponseLostError, match=BROKEN):
            transport.send(Request("GET", url))
        response = transport.send(Request("GET", url, options=stream))
        with pytest.raises(ResponseLostError, match=BROKEN):
            response.read()
        assert response.is_stream_consumed
    finally:
        transport.close()
    asyncio.run(via_asend())
