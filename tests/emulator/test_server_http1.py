"""HTTP/1.1 on the emulator's plain port: keep-alive, streamed bodies, framing, bad input."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest
from server_support import RawHttp1, WireTestApp, connect, pattern, recv_all, wire_emulator

from soniox.emulator import Emulator


@pytest.fixture
def wired() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator() as pair:
        yield pair


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as c:
        yield c


def test_keep_alive_serves_several_requests_on_one_connection(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """Three requests travel over a single TCP connection."""
    emu, _app = wired
    raw = RawHttp1(emu.url)
    try:
        ids = set()
        for _ in range(3):
            status, _headers, body = raw.request("GET", "/info")
            assert status == 200
            ids.add(json.loads(body)["request_id"])
    finally:
        raw.close()
    assert len(ids) == 3
    entries = emu.journal.entries(path="/info")
    assert [e.http_version for e in entries] == ["1.1"] * 3
    assert all(e.outcome == "completed" and e.status == 200 for e in entries)


def test_journal_records_request_head(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """The entry holds method, path, query, scheme and the redacted authorization header."""
    emu, _app = wired
    response = client.get(
        emu.url + "/info?a=1&b=2", headers={"Authorization": "Bearer top-secret-key"}
    )
    entry = emu.journal.entries(path="/info")[0]
    assert (entry.method, entry.query, entry.scheme) == ("GET", "a=1&b=2", "http")
    assert entry.request_id == response.json()["request_id"]
    assert entry.header("authorization") == "Bearer <redacted 21 chars>"
    assert "top-secret-key" not in repr(entry.to_json())
    assert entry.duration_s is not None


def test_content_length_upload_arrives_intact(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A 3 MiB body with Content-Length reaches the application byte for byte."""
    emu, _app = wired
    data = pattern(3 * 1024 * 1024 + 7)
    result = client.post(emu.url + "/upload", content=data).json()
    assert result["size"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["largest"] <= 65536
    assert emu.journal.entries(path="/upload")[0].request_bytes == len(data)


def test_chunked_upload_arrives_intact(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A body sent with Transfer-Encoding: chunked is reassembled exactly."""
    emu, _app = wired
    pieces = [pattern(n) for n in (1, 1000, 70000, 5)]

    def gen() -> Iterator[bytes]:
        yield from pieces

    result = client.post(emu.url + "/upload", content=gen()).json()
    joined = b"".join(pieces)
    assert result["size"] == len(joined)
    assert result["sha256"] == hashlib.sha256(joined).hexdigest()
    assert emu.journal.entries(path="/upload")[0].header("transfer-encoding") == "chunked"


def test_upload_is_streamed_not_buffered(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A 32 MiB upload raises Python's peak memory by far less than its size."""
    emu, _app = wired
    total = 32 * 1024 * 1024
    block = pattern(64 * 1024)

    def gen() -> Iterator[bytes]:
        for _ in range(total // len(block)):
            yield block

    tracemalloc.start()
    try:
        result = client.post(emu.url + "/upload", content=gen()).json()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["size"] == total
    assert peak < 8 * 1024 * 1024


def test_body_is_pulled_only_while_the_app_reads(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """A slowly consuming application holds the uploader back (TCP back-pressure)."""
    emu, _app = wired
    sent = 0
    block = pattern(256 * 1024)
    done = threading.Event()

    def gen() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(400):  # 100 MiB if nothing pushed back
            sent += len(block)
            yield block

    def upload() -> None:
        with httpx.Client(trust_env=False, timeout=30) as c, pytest.raises(httpx.HTTPError):
            c.post(emu.url + "/upload?pause=0.05", content=gen())
        done.set()

    worker = threading.Thread(target=upload, daemon=True)
    worker.start()
    time.sleep(1.0)
    # The app consumed at most ~20 chunks of <=64 KiB in that second; the socket buffers hold a
    # few MiB more. Without back-pressure the client would have sent everything by now.
    assert sent < 40 * 1024 * 1024
    emu.stop()
    assert done.wait(10)


def test_streamed_response_without_length_is_chunked(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """An async-iterator body without content_length goes out chunked and complete."""
    emu, _app = wired
    response = client.get(emu.url + "/stream?n=100000&chunk=333")
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == pattern(100000)
    assert emu.journal.entries(path="/stream")[0].response_bytes == 100000


def test_streamed_response_with_length_uses_content_length(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """An async-iterator body with content_length keeps that Content-Length."""
    emu, _app = wired
    response = client.get(emu.url + "/stream?n=5000&chunk=999&length=1")
    assert response.headers["content-length"] == "5000"
    assert "transfer-encoding" not in response.headers
    assert response.content == pattern(5000)


def test_head_request_has_length_but_no_body(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """HEAD answers with the body's Content-Length and no body."""
    emu, _app = wired
    response = client.head(emu.url + "/bytes?n=1234")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1234"
    assert response.content == b""


def test_no_content_response(wired: tuple[Emulator, WireTestApp], client: httpx.Client) -> None:
    """204 goes out without a body and the connection stays usable."""
    emu, _app = wired
    assert client.get(emu.url + "/empty").status_code == 204
    assert client.get(emu.url + "/info").status_code == 200


def test_unread_small_body_is_drained_and_connection_reused(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """A body the app ignored is drained so the next request on the connection works."""
    emu, _app = wired
    raw = RawHttp1(emu.url)
    try:
        status, headers, _ = raw.request("POST", "/reject", body=pattern(200_000))
        assert status == 401
        assert "connection" not in headers
        status, _headers, _ = raw.request("GET", "/info")
        assert status == 200
    finally:
        raw.close()


def test_unread_large_body_closes_the_connection(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """A large body the app ignored is not drained: the response says Connection: close."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(
            b"POST /reject HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000\r\n\r\n"
            + b"x" * 100_000
        )
        data = recv_all(sock)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 401")
    assert b"connection: close" in data.lower()


def test_expect_continue_is_answered_when_the_app_reads(
    wired: tuple[Emulator, WireTestApp],
) -> None:
    """Expect: 100-continue gets a 100 once the app asks for the body."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
            b"expect: 100-continue\r\nconnection: close\r\n\r\n"
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(b"hello")
        final = recv_all(sock)
    finally:
        sock.close()
    assert final.startswith(b"HTTP/1.1 200")
    assert hashlib.sha256(b"hello").hexdigest().encode() in final


def test_malformed_request_gets_400_and_close(wired: tuple[Emulator, WireTestApp]) -> None:
    """Garbage instead of a request line is answered with 400 and the connection closes."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = recv_all(sock)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 400")
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["error_type"] == "invalid_request"
    assert body["status_code"] == 400


def test_oversized_head_gets_431(wired: tuple[Emulator, WireTestApp]) -> None:
    """A request head over the limit is refused with 431."""
    emu, _app = wired
    sock = connect(emu.url)
    try:
        sock.sendall(b"GET /info HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 100_000 + b"\r\n\r\n")
        data = recv_all(sock)
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 431")


def test_application_exception_becomes_500_api_error(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """An application bug answers 500 in the ApiError shape with the request id."""
    emu, _app = wired
    response = client.get(emu.url + "/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error_type"] == "internal_error"
    entry = emu.journal.entries(path="/boom")[0]
    assert body["request_id"] == entry.request_id
    assert entry.notes["exception"] == "RuntimeError"


def test_api_failure_becomes_its_api_error(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """An ApiFailure raised by the application is answered with its status and type."""
    emu, _app = wired
    response = client.get(emu.url + "/missing")
    assert response.status_code == 404
    assert response.json()["error_type"] == "file_not_found"


def test_body_shorter_than_declared_length_cuts_the_connection(
    wired: tuple[Emulator, WireTestApp], client: httpx.Client
) -> None:
    """A response body that breaks its own Content-Length ends the connection, logged as error."""
    emu, _app = wired
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(emu.url + "/wrong-length")
    entry = emu.journal.wait_for(
        lambda es: any(e.path == "/wrong-length" and e.outcome != "pending" for e in es)
    )[-1]
    assert entry.outcome == "error"
    assert client.get(emu.url + "/info").status_code == 200


def test_client_disconnect_mid_upload_is_journaled(wired: tuple[Emulator, WireTestApp]) -> None:
    """A client vanishing mid-body leaves a 'disconnected' entry and a healthy server."""
    emu, _app = wired
    sock = connect(emu.url)
    sock.sendall(
        b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n" + b"x" * 1000
    )
    sock.close()
    entries = emu.journal.wait_for(
        lambda es: any(e.path == "/upload" and e.outcome != "pending" for e in es)
    )
    assert entries[-1].outcome == "disconnected"
    with httpx.Client(trust_env=False) as c:
        assert c.get(emu.url + "/info").status_code == 200


def test_full_path_models_over_http1(emulator: Emulator) -> None:
    """GET /v1/models with the bearer key answers 200 over HTTP/1.1."""
    with httpx.Client(trust_env=False) as c:
        response = c.get(
            emulator.rest_base_url + "/models",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert "models" in response.json()
    assert emulator.journal.entries(path="/v1/models")[0].http_version == "1.1"
