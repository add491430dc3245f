"""HTTP/2: h2c prior knowledge on the plain port, ALPN h2 on the TLS port, flow control, GOAWAY."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import h2.events as h2events
import httpx
import pytest
from h2.errors import ErrorCodes
from server_support import RawH2, WireTestApp, connect, pattern, recv_all, wire_emulator

from soniox.emulator import Emulator
from soniox.emulator.server import H2_PREFACE


@pytest.fixture
def wired() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator() as pair:
        yield pair


@pytest.fixture
def wired_tls() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator(tls=True) as pair:
        yield pair


@pytest.fixture
def h2c() -> Iterator[httpx.Client]:
    with httpx.Client(http1=False, http2=True, trust_env=False, timeout=10) as c:
        yield c


def test_h2c_prior_knowledge_is_detected(
    wired: tuple[Emulator, WireTestApp], h2c: httpx.Client
) -> None:
    """A client opening with the HTTP/2 preface is served HTTP/2 on the plain port."""
    emu, _app = wired
    response = h2c.get(emu.url + "/info?x=1")
    assert response.http_version == "HTTP/2"
    info = response.json()
    assert (info["http_version"], info["scheme"], info["query"]) == ("2", "http", "x=1")
    assert info["host"] == f"127.0.0.1:{emu.url.rsplit(':', 1)[1]}"
    entry = emu.journal.entries(path="/info")[0]
    assert (entry.http_version, entry.outcome, entry.status) == ("2", "completed", 200)


def test_concurrent_streams_are_served_in_parallel(wired: tuple[Emulator, WireTestApp]) -> None:
    """Ten slow requests on one HTTP/2 connection overlap instead of queueing."""
    emu, _app = wired

    async def run() -> float:
        async with httpx.AsyncClient(http1=False, http2=True, trust_env=False) as c:
            started = time.monotonic()
            responses = await asyncio.gather(*(c.get(emu.url + "/sleep?s=0.3") for _ in range(10)))
            assert all(r.status_code == 200 for r in responses)
            return time.monotonic() - started

    assert asyncio.run(run()) < 2.0
    assert len(emu.journal.entries(path="/sleep")) == 10


def test_large_response_respects_flow_control(
    wired: tuple[Emulator, WireTestApp], h2c: httpx.Client
) -> None:
    """A 5 MiB body, far beyond the initial 64 KiB window, arrives complete."""
    emu, _app = wired
    response = h2c.get(emu.url + "/bytes?n=5242880")
    assert response.content == pattern(5242880)


def test_streamed_response_over_h2(wired: tuple[Emulator, WireTestApp], h2c: httpx.Client) -> None:
    """An async-iterator body without a length streams over HTTP/2."""
    emu, _app = wired
    response = h2c.get(emu.url + "/stream?n=300000&chunk=7000")
    assert response.content == pattern(300000)


def test_upload_over_h2_is_intact_and_streamed(wired: tuple[Emulator, WireTestApp]) -> None:
    """A 16 MiB HTTP/2 upload arrives intact without being buffered whole."""
    emu, _app = wired
    block = pattern(64 * 1024)
    total = 16 * 1024 * 1024

    async def gen() -> AsyncIterator[bytes]:
        for _ in range(total // len(block)):
            yield block

    async def run() -> dict[str, object]:
        async with httpx.AsyncClient(http1=False, http2=True, trust_env=False, timeout=30) as c:
            response = await c.post(emu.url + "/upload", content=gen())
            return dict(response.json())

    tracemalloc.start()
    try:
        result = asyncio.run(run())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = hashlib.sha256(block * (total // len(block))).hexdigest()
    assert result["size"] == total
    assert result["sha256"] == expected
    assert peak < 8 * 1024 * 1024


def test_unconsumed_upload_is_held_back_by_flow_control(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """While the app does not read, the client cannot send past the stream window."""
    emu, _app = wired
    raw = RawH2(emu.url)
    try:
        stream_id = raw.headers("POST", "/upload?pause=3", end_stream=False)
        raw.pump()
        sent = 0
        chunk = pattern(16384)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sent < 8 * 1024 * 1024:
            window = raw.conn.local_flow_control_window(stream_id)
            if window <= 0:
                raw.pump(0.05)
                continue
            size = min(window, len(chunk), raw.conn.max_outbound_frame_size)
            raw.conn.send_data(stream_id, chunk[:size])
            raw.flush()
            sent += size
    finally:
        raw.close()
    assert 16384 <= sent <= 1024 * 1024


def test_client_stream_reset_does_not_break_the_connection(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """RST_STREAM mid-upload ends that request only; the connection serves the next one."""
    emu, _app = wired
    raw = RawH2(emu.url)
    try:
        stream_id = raw.headers("POST", "/upload", end_stream=False)
        raw.conn.send_data(stream_id, b"x" * 1000)
        raw.flush()
        raw.pump()
        raw.conn.reset_stream(stream_id, ErrorCodes.CANCEL)
        raw.flush()
        emu.journal.wait_for(
            lambda es: any(e.path == "/upload" and e.outcome == "disconnected" for e in es)
        )
        next_id = raw.headers("GET", "/info", end_stream=True)
        status, body = raw.response(next_id)
    finally:
        raw.close()
    assert status == 200
    assert json.loads(body)["http_version"] == "2"


def test_stop_sends_goaway(wired: tuple[Emulator, WireTestApp]) -> None:
    """Stopping the server tells HTTP/2 clients with GOAWAY before closing."""
    emu, _app = wired
    raw = RawH2(emu.url)
    try:
        stream_id = raw.headers("GET", "/info", end_stream=True)
        assert raw.response(stream_id)[0] == 200
        emu.stop()
        events: list[h2events.Event] = []
        deadline = time.monotonic() + 3
        while not raw.closed and time.monotonic() < deadline:
            events += raw.pump()
    finally:
        raw.close()
    goaway = [e for e in events if isinstance(e, h2events.ConnectionTerminated)]
    assert goaway
    assert goaway[0].error_code == ErrorCodes.NO_ERROR
    assert goaway[0].last_stream_id == stream_id


def test_garbage_after_preface_gets_goaway(wired: tuple[Emulator, WireTestApp]) -> None:
    """A protocol error after the preface closes that connection with GOAWAY only."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(H2_PREFACE + b"\x00\x00\x04\x09\x00\x00\x00\x00\x01abcd")
        data = recv_all(sock)
    finally:
        sock.close()
    assert b"\x07" in data  # a GOAWAY frame type byte is in there
    with httpx.Client(http1=False, http2=True, trust_env=False) as c:
        assert c.get(emu.url + "/info").status_code == 200


def test_tls_alpn_negotiates_h2(wired_tls: tuple[Emulator, WireTestApp]) -> None:
    """On the TLS port an HTTP/2-capable client gets h2 through ALPN."""
    emu, _app = wired_tls
    with httpx.Client(http2=True, verify=emu.ssl_context(), trust_env=False) as c:
        response = c.get(emu.tls_url + "/info")
    assert response.http_version == "HTTP/2"
    entry = emu.journal.entries(path="/info")[0]
    assert (entry.http_version, entry.scheme) == ("2", "https")


def test_tls_http1_client_gets_http1(wired_tls: tuple[Emulator, WireTestApp]) -> None:
    """A TLS client offering only http/1.1 is served HTTP/1.1."""
    emu, _app = wired_tls
    with httpx.Client(verify=emu.ssl_context(), trust_env=False) as c:
        response = c.get(emu.tls_url + "/info")
    assert response.http_version == "HTTP/1.1"
    entry = emu.journal.entries(path="/info")[0]
    assert (entry.http_version, entry.scheme) == ("1.1", "https")


def test_tls_certificate_is_not_trusted_by_default(
    wired_tls: tuple[Emulator, WireTestApp],
) -> None:
    """The generated certificate verifies only against the emulator's own CA."""
    emu, _app = wired_tls
    with httpx.Client(trust_env=False) as c, pytest.raises(httpx.ConnectError):
        c.get(emu.tls_url + "/info")


@pytest.mark.parametrize("transport", ["h1", "h2c", "tls-h2"])
def test_full_path_models(tls_emulator: Emulator, transport: str) -> None:
    """GET /v1/models with the bearer key answers 200 over h1, h2c and TLS h2."""
    emu = tls_emulator
    if transport == "tls-h2":
        client = httpx.Client(http2=True, verify=emu.ssl_context(), trust_env=False)
        base = emu.tls_rest_base_url
    else:
        client = httpx.Client(http1=transport == "h1", http2=transport == "h2c", trust_env=False)
        base = emu.rest_base_url
    with client:
        response = client.get(base + "/models", headers={"Authorization": f"Bearer {emu.api_key}"})
    assert response.status_code == 200
    assert response.http_version == ("HTTP/1.1" if transport == "h1" else "HTTP/2")
    assert response.json()["models"]
