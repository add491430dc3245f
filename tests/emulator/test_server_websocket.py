"""WebSocket upgrade on the emulator: handshake, messages, close, abort, reject, bad handshakes."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import pytest
from server_support import WireTestApp, connect, recv_all, wire_emulator
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect as ws_connect

from soniox.emulator import Emulator


@pytest.fixture
def wired() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator() as pair:
        yield pair


def _raw_upgrade(url: str, headers: str) -> bytes:
    sock = connect(url)
    try:
        sock.sendall(
            (
                "GET /transcribe-websocket HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
                f"connection: Upgrade\r\n{headers}\r\n"
            ).encode()
        )
        return recv_all(sock)
    finally:
        sock.close()


def test_text_and_binary_messages_round_trip(wired: tuple[Emulator, WireTestApp]) -> None:
    """Text is echoed; binary is received whole (the echo app answers with its hash)."""
    emu, _app = wired
    with ws_connect(emu.ws_url, open_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        payload = os.urandom(3000)
        ws.send(payload)
        assert ws.recv(timeout=5) == f"bytes:3000:{hashlib.sha256(payload).hexdigest()}"
    entry = emu.journal.wait_for(
        lambda es: any(e.protocol == "ws" and e.outcome != "pending" for e in es)
    )[0]
    assert (entry.protocol, entry.http_version, entry.status) == ("ws", "1.1", 101)
    assert entry.outcome == "closed"
    assert entry.close_code == 1000


def test_subprotocol_is_selected(wired: tuple[Emulator, WireTestApp]) -> None:
    """The subprotocol the application accepts is confirmed to the client and redacted."""
    emu, _app = wired
    with ws_connect(emu.ws_url, subprotocols=["soniox-api-key", "secret-key"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "soniox-api-key"
    entry = emu.journal.entries(protocol="ws")[0]
    assert "secret-key" not in str(entry.to_json())


def test_large_and_fragmented_messages(wired: tuple[Emulator, WireTestApp]) -> None:
    """A 4 MiB message and a message sent in fragments are both reassembled."""
    emu, _app = wired
    with ws_connect(emu.ws_url, max_size=None) as ws:
        big = "x" * (4 * 1024 * 1024)
        ws.send(big)
        assert ws.recv(timeout=10) == big
        ws.send(iter(["frag", "ment", "ed"]))
        assert ws.recv(timeout=5) == "fragmented"


def test_ping_is_answered(wired: tuple[Emulator, WireTestApp]) -> None:
    """A client ping gets its pong while the application waits for messages."""
    emu, _app = wired
    with ws_connect(emu.ws_url) as ws:
        assert ws.ping().wait(5)


def test_client_close_code_reaches_the_application(wired: tuple[Emulator, WireTestApp]) -> None:
    """The client's close code surfaces as WebSocketClosed.code and in the journal."""
    emu, app = wired
    with ws_connect(emu.ws_url) as ws:
        ws.send("hi")
        ws.recv(timeout=5)
        ws.close(code=4321, reason="done")
    entry = emu.journal.wait_for(
        lambda es: any(e.protocol == "ws" and e.outcome != "pending" for e in es)
    )[0]
    assert app.ws_close_codes == [4321]
    assert entry.close_code == 4321


def test_server_close_sends_code_and_reason(wired: tuple[Emulator, WireTestApp]) -> None:
    """channel.close(code, reason) completes the closing handshake with that code."""
    emu, _app = wired
    with ws_connect(emu.ws_url) as ws:
        ws.send("close")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "bye")
    entry = emu.journal.wait_for(
        lambda es: any(e.protocol == "ws" and e.outcome != "pending" for e in es)
    )[0]
    assert (entry.outcome, entry.close_code) == ("closed", 4000)


def test_abort_drops_without_close_frame(wired: tuple[Emulator, WireTestApp]) -> None:
    """channel.abort() resets the TCP connection: the client gets no close frame."""
    emu, _app = wired
    with ws_connect(emu.ws_url) as ws:
        ws.send("abort")
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is None
    entry = emu.journal.wait_for(
        lambda es: any(e.protocol == "ws" and e.outcome != "pending" for e in es)
    )[0]
    assert entry.outcome == "dropped"


def test_application_error_closes_with_1011(wired: tuple[Emulator, WireTestApp]) -> None:
    """An exception in the realtime application closes the socket with 1011."""
    emu, _app = wired
    with ws_connect(emu.ws_url) as ws:
        ws.send("boom")
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1011


def test_reject_sends_plain_http_response(wired: tuple[Emulator, WireTestApp]) -> None:
    """channel.reject(403, body) refuses the upgrade with an ordinary response."""
    emu, _app = wired
    with pytest.raises(InvalidStatus) as info:
        ws_connect(emu.ws_url + "?reject=1", open_timeout=5)
    response = info.value.response
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.body == b'{"error": "not allowed"}'
    entry = emu.journal.entries(protocol="ws")[0]
    assert (entry.outcome, entry.status) == ("rejected", 403)


def test_unsupported_version_gets_426(wired: tuple[Emulator, WireTestApp]) -> None:
    """A handshake with a version other than 13 is refused with 426 and the supported one."""
    emu, app = wired
    key = base64.b64encode(os.urandom(16)).decode()
    data = _raw_upgrade(emu.url, f"sec-websocket-key: {key}\r\nsec-websocket-version: 8\r\n")
    assert data.startswith(b"HTTP/1.1 426")
    assert b"sec-websocket-version: 13" in data.lower()
    assert app.ran("WS", "/transcribe-websocket") == 0


def test_invalid_key_gets_400(wired: tuple[Emulator, WireTestApp]) -> None:
    """A Sec-WebSocket-Key that is not 16 base64-encoded bytes is refused with 400."""
    emu, _app = wired
    data = _raw_upgrade(emu.url, "sec-websocket-key: short\r\nsec-websocket-version: 13\r\n")
    assert data.startswith(b"HTTP/1.1 400")


def test_accept_computes_the_accept_token(wired: tuple[Emulator, WireTestApp]) -> None:
    """The 101 carries Sec-WebSocket-Accept = base64(sha1(key + GUID))."""
    emu, _app = wired
    key = base64.b64encode(b"0123456789abcdef").decode()
    sock = connect(emu.url)
    try:
        sock.sendall(
            (
                "GET /transcribe-websocket HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
                f"connection: Upgrade\r\nsec-websocket-key: {key}\r\n"
                "sec-websocket-version: 13\r\n\r\n"
            ).encode()
        )
        head = sock.recv(4096)
    finally:
        sock.close()
    expected = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    )
    assert head.startswith(b"HTTP/1.1 101")
    assert b"\r\nsec-websocket-accept: " + expected + b"\r\n" in head


def test_upgrade_on_other_paths_is_plain_http(wired: tuple[Emulator, WireTestApp]) -> None:
    """Only the realtime path upgrades; elsewhere the request is served as HTTP."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(
            b"GET /info HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nsec-websocket-version: 13\r\n\r\n"
        )
        head = sock.recv(4096)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 200")


def test_wss_over_tls() -> None:
    """The realtime endpoint also upgrades on the TLS port."""
    with (
        wire_emulator(tls=True) as (emu, _app),
        ws_connect(emu.tls_ws_url, ssl=emu.ssl_context()) as ws,
    ):
        ws.send("secure")
        assert ws.recv(timeout=5) == "secure"
