"""The ``http`` fault family, applied by the wire layer: every kind, its order, nth and times."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from server_support import WireTestApp, connect, pattern, recv_all, wire_emulator
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.sync.client import connect as ws_connect

from soniox.emulator import Emulator

CONNECTION_ERRORS = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)


@pytest.fixture
def wired() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator() as pair:
        yield pair


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as c:
        yield c


def _read_until_eof(sock: socket.socket) -> None:
    for _ in range(100):
        if not sock.recv(1024):
            return


# status --------------------------------------------------------------------------------------------
def test_status_fault_answers_api_error_with_retry_after_seconds(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A 429 fault answers at once in the ApiError shape with Retry-After; the app never runs."""
    emu, app = wired
    emu.faults.fail("/count", status=429, retry_after=2)
    response = client.post(emu.url + "/count", content=b"{}")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["status_code"] == 429
    assert body["error_type"] == "limit_exceeded"
    entry = emu.journal.entries(path="/count")[0]
    assert body["request_id"] == entry.request_id
    assert entry.faults == ["status#0"]
    assert (entry.status, entry.outcome) == (429, "completed")
    assert app.ran("POST", "/count") == 0


def test_status_fault_retry_after_http_date(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """Retry-After may be an HTTP-date; it is sent verbatim."""
    emu, _app = wired
    date = "Wed, 21 Oct 2037 07:28:00 GMT"
    emu.faults.fail("/info", status=503, retry_after=date)
    response = client.get(emu.url + "/info")
    assert response.status_code == 503
    assert response.headers["retry-after"] == date
    assert response.json()["error_type"] == "service_unavailable"


def test_status_fault_retry_after_ms(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """retry_after_ms becomes a retry-after-ms header (and no Retry-After)."""
    emu, _app = wired
    emu.faults.fail("/info", status=429, retry_after_ms=250)
    response = client.get(emu.url + "/info")
    assert response.headers["retry-after-ms"] == "250"
    assert "retry-after" not in response.headers


def test_status_fault_custom_type_message_and_headers(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """error_type, message and extra headers of the fault are used."""
    emu, _app = wired
    emu.faults.inject(
        "status",
        "/info",
        status=402,
        error_type="organization_balance_exhausted",
        message="No money.",
        headers=(("x-extra", "yes"),),
    )
    response = client.get(emu.url + "/info")
    assert response.status_code == 402
    assert response.headers["x-extra"] == "yes"
    assert response.json()["message"] == "No money."
    assert response.json()["error_type"] == "organization_balance_exhausted"


def test_status_fault_rejects_websocket_upgrade(wired: tuple[Emulator, WireTestApp]) -> None:
    """On the realtime path a status fault refuses the upgrade with that response."""
    emu, app = wired
    emu.faults.fail("/transcribe-websocket", status=503, retry_after=1)
    with pytest.raises(InvalidStatus) as info:
        ws_connect(emu.ws_url, open_timeout=5)
    assert info.value.response.status_code == 503
    assert info.value.response.headers["retry-after"] == "1"
    assert app.ran("WS", "/transcribe-websocket") == 0
    entry = emu.journal.entries(protocol="ws")[0]
    assert (entry.status, entry.outcome, entry.faults) == (503, "rejected", ["status#0"])


# latency ---------------------------------------------------------------------------------------------
def test_latency_delays_the_response(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A latency fault sleeps before processing."""
    emu, _app = wired
    emu.faults.inject("latency", "/info", delay_s=0.3)
    started = time.monotonic()
    assert client.get(emu.url + "/info").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_faults_add_up_and_stack_with_status(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """Two latency faults and a status fault all fire on one request."""
    emu, _app = wired
    emu.faults.inject("latency", "/info", delay_s=0.2)
    emu.faults.inject("latency", None, delay_s=0.2)
    emu.faults.fail("/info", status=500)
    started = time.monotonic()
    assert client.get(emu.url + "/info").status_code == 500
    assert time.monotonic() - started >= 0.4
    assert emu.journal.entries(path="/info")[0].faults == ["latency#0", "latency#1", "status#2"]


# resets --------------------------------------------------------------------------------------------
def test_reset_before_fails_the_client_and_skips_the_app(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """reset_before: the client sees a connection error and the app never ran."""
    emu, app = wired
    emu.faults.inject("reset_before", "/count", method="POST")
    with pytest.raises(CONNECTION_ERRORS):
        client.post(emu.url + "/count", content=b"{}")
    entry = emu.journal.entries(path="/count")[0]
    assert (entry.outcome, entry.status, entry.faults) == ("reset", None, ["reset_before#0"])
    assert app.ran("POST", "/count") == 0


def test_reset_is_a_tcp_rst(wired: tuple[Emulator, WireTestApp]) -> None:
    """The reset is an RST (ECONNRESET), not an orderly close."""
    emu, _app = wired
    emu.faults.inject("reset_before", "/info")
    sock = connect(emu.url)
    try:
        sock.sendall(b"GET /info HTTP/1.1\r\nhost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            _read_until_eof(sock)
    finally:
        sock.close()


def test_reset_after_processes_then_fails_the_client(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """reset_after: the POST was processed, but its response never arrived."""
    emu, app = wired
    emu.faults.inject("reset_after", "/count", method="POST")
    with pytest.raises(CONNECTION_ERRORS):
        client.post(emu.url + "/count", content=b"{}")
    entry = emu.journal.entries(path="/count")[0]
    assert (entry.outcome, entry.status) == ("reset", 201)
    assert app.ran("POST", "/count") == 1
    assert client.post(emu.url + "/count", content=b"{}").json() == {"count": 2}


def test_reset_over_h2_resets_the_connection(wired: tuple[Emulator, WireTestApp]) -> None:
    """On HTTP/2 a reset fault drops the whole TCP connection."""
    emu, app = wired
    emu.faults.inject("reset_after", "/count")
    with httpx.Client(http1=False, http2=True, trust_env=False) as c:
        with pytest.raises(CONNECTION_ERRORS):
            c.post(emu.url + "/count", content=b"{}")
        assert c.get(emu.url + "/info").status_code == 200  # a new connection
    entry = emu.journal.entries(path="/count")[0]
    assert (entry.http_version, entry.outcome) == ("2", "reset")
    assert app.ran("POST", "/count") == 1


def test_reset_before_rejects_websocket_upgrade(wired: tuple[Emulator, WireTestApp]) -> None:
    """reset_before on the realtime path drops the connection during the handshake."""
    emu, app = wired
    emu.faults.inject("reset_before", "/transcribe-websocket")
    with pytest.raises((OSError, InvalidHandshake)):
        ws_connect(emu.ws_url, open_timeout=5)
    assert app.ran("WS", "/transcribe-websocket") == 0


# truncate / slow_body ---------------------------------------------------------------------------------
def test_truncate_sends_part_of_the_body(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """truncate: full Content-Length, only after_bytes of body, then the connection closes."""
    emu, _app = wired
    emu.faults.inject("truncate", "/bytes", after_bytes=100)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(emu.url + "/bytes?n=1000")
    entry = emu.journal.entries(path="/bytes")[0]
    assert (entry.outcome, entry.status, entry.response_bytes) == ("truncated", 200, 100)


def test_truncate_on_the_wire(wired: tuple[Emulator, WireTestApp]) -> None:
    """On the socket: Content-Length 1000, 100 body bytes, then EOF."""
    emu, _app = wired
    emu.faults.inject("truncate", "/stream", after_bytes=100)
    sock = connect(emu.url)
    try:
        sock.sendall(b"GET /stream?n=1000 HTTP/1.1\r\nhost: x\r\n\r\n")
        data = recv_all(sock)
    finally:
        sock.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"content-length: 1000" in head.lower()
    assert body == pattern(1000)[:100]


def test_truncate_over_h2(wired: tuple[Emulator, WireTestApp]) -> None:
    """truncate over HTTP/2 also ends in an incomplete-body error."""
    emu, _app = wired
    emu.faults.inject("truncate", "/bytes", after_bytes=10)
    with (
        httpx.Client(http1=False, http2=True, trust_env=False) as c,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        c.get(emu.url + "/bytes?n=1000")


def test_slow_body_paces_the_response(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """slow_body sends chunk_size bytes every chunk_delay_s; the body stays intact."""
    emu, _app = wired
    emu.faults.inject("slow_body", "/bytes", chunk_size=100, chunk_delay_s=0.05)
    started = time.monotonic()
    response = client.get(emu.url + "/bytes?n=500")
    assert time.monotonic() - started >= 0.2
    assert response.content == pattern(500)


def test_slow_body_arrives_in_pieces(wired: tuple[Emulator, WireTestApp]) -> None:
    """The client really receives the body a piece at a time."""
    emu, _app = wired
    emu.faults.inject("slow_body", "/bytes", chunk_size=10, chunk_delay_s=0.1)
    sock = connect(emu.url)
    arrivals: list[tuple[float, int]] = []
    try:
        sock.sendall(b"GET /bytes?n=30 HTTP/1.1\r\nhost: x\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        body = data.split(b"\r\n\r\n", 1)[1]
        arrivals.append((time.monotonic(), len(body)))
        while len(body) < 30:
            body += sock.recv(4096)
            arrivals.append((time.monotonic(), len(body)))
    finally:
        sock.close()
    assert body == pattern(30)
    assert len(arrivals) >= 3
    assert arrivals[-1][0] - arrivals[0][0] >= 0.15


# matching -------------------------------------------------------------------------------------------
def test_nth_fires_only_on_that_match(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """nth=2 fails the second matching request only."""
    emu, _app = wired
    emu.faults.fail("/info", status=500, nth=2)
    assert [client.get(emu.url + "/info").status_code for _ in range(3)] == [200, 500, 200]


def test_times_caps_firings(wired: tuple[Emulator, WireTestApp], client: httpx.Client) -> None:
    """times=2 fails two requests, then lets them through."""
    emu, _app = wired
    emu.faults.fail("/info", status=503, times=2)
    assert [client.get(emu.url + "/info").status_code for _ in range(3)] == [503, 503, 200]


def test_unlimited_times(wired: tuple[Emulator, WireTestApp], client: httpx.Client) -> None:
    """times=None fires on every match."""
    emu, _app = wired
    emu.faults.fail("/info", status=500, times=None)
    assert {client.get(emu.url + "/info").status_code for _ in range(4)} == {500}


def test_method_and_route_filters(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """Only the matching method and route pattern are faulted."""
    emu, _app = wired
    emu.faults.fail("/up*", status=500, method="POST", times=None)
    assert client.get(emu.url + "/info").status_code == 200
    assert client.get(emu.url + "/upload").status_code == 200
    assert client.post(emu.url + "/upload", content=b"x").status_code == 500


def test_admin_paths_are_never_faulted_or_journaled(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A match-everything fault leaves /_emulator/ alone."""
    emu, _app = wired
    emu.faults.fail(None, status=500, times=None)
    assert client.get(emu.url + "/_emulator/health").status_code == 200
    assert emu.faults.snapshot()[0]["matched"] == 0
    assert emu.journal.entries() == []


def test_full_path_fault_on_rest_route(emulator: Emulator) -> None:
    """A fault on a real REST route answers before the REST application sees it."""
    emulator.faults.fail("/v1/models", status=429, retry_after=1)
    with httpx.Client(trust_env=False) as c:
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        first = c.get(emulator.rest_base_url + "/models", headers=headers)
        second = c.get(emulator.rest_base_url + "/models", headers=headers)
    assert (first.status_code, first.headers["retry-after"]) == (429, "1")
    assert second.status_code == 200
