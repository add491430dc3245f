"""A tiny application served through the emulator's wire layer, and raw-socket client helpers.

The server tests need routes the REST application does not have (echo a streamed upload, stream
a chunked response, fail on purpose) and a record of which requests the application really ran,
so fault tests can tell "reset before processing" from "reset after processing".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h2.events as h2events
import h11
from h2.config import H2Configuration
from h2.connection import H2Connection

from soniox.emulator import Emulator, EmulatorConfig, FaultPlan, Journal
from soniox.emulator.admin import AdminApp
from soniox.emulator.errors import ApiFailure
from soniox.emulator.http_types import (
    IncomingRequest,
    OutgoingResponse,
    WebSocketChannel,
    WebSocketClosed,
)


def pattern(n: int) -> bytes:
    """``n`` deterministic bytes (so truncation and reassembly are checkable)."""
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


def _json(status: int, payload: object) -> OutgoingResponse:
    return OutgoingResponse(
        status=status,
        headers=[("content-type", "application/json")],
        body=json.dumps(payload).encode(),
    )


class WireTestApp:
    """Routes for exercising the wire layer; records what it processed."""

    def __init__(self, config: EmulatorConfig, storage: Path, faults: FaultPlan, journal: Journal):
        self.config = config
        self.faults = faults
        self.journal = journal
        self.admin = AdminApp(self)
        self._lock = threading.Lock()
        self.processed: list[str] = []
        self.counter = 0
        self.ws_close_codes: list[int | None] = []
        self.upload_gate = threading.Event()
        self.started = False
        self.closed = False

    async def start(self) -> None:
        self.started = True

    async def aclose(self) -> None:
        self.closed = True

    @staticmethod
    def is_admin(path: str) -> bool:
        return path.startswith("/_emulator/")

    @staticmethod
    def is_realtime(path: str) -> bool:
        return path == "/transcribe-websocket"

    def ran(self, method: str, path: str) -> int:
        with self._lock:
            return self.processed.count(f"{method} {path}")

    async def handle_http(self, request: IncomingRequest) -> OutgoingResponse:
        if self.is_admin(request.path):
            return await self.admin.handle(request)
        with self._lock:
            self.processed.append(f"{request.method} {request.path}")
        params = {k: v[0] for k, v in parse_qs(request.query).items()}
        route = getattr(self, "route_" + request.path.strip("/").replace("-", "_"), None)
        if route is None:
            return _json(404, {"error": "no such test route"})
        return await route(request, params)

    async def route_info(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        return _json(
            200,
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "http_version": request.http_version,
                "scheme": request.scheme,
                "request_id": request.request_id,
                "host": request.headers.get("host"),
            },
        )

    async def route_upload(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        digest = hashlib.sha256()
        size = 0
        chunks = 0
        largest = 0
        pause = float(params.get("pause", "0"))
        async for chunk in request.body_chunks():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
            if pause:
                await asyncio.sleep(pause)
        return _json(
            200, {"sha256": digest.hexdigest(), "size": size, "chunks": chunks, "largest": largest}
        )

    async def route_count(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        await request.read_body()
        with self._lock:
            self.counter += 1
            count = self.counter
        return _json(201, {"count": count})

    async def route_bytes(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        body = pattern(int(params.get("n", "1000")))
        return OutgoingResponse(
            status=200, headers=[("content-type", "application/octet-stream")], body=body
        )

    async def route_stream(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        total = int(params.get("n", "1000"))
        size = int(params.get("chunk", "100"))
        data = pattern(total)

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, total, size):
                yield data[start : start + size]

        length = total if params.get("length") else None
        return OutgoingResponse(status=200, body=body(), content_length=length)

    async def route_reject(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        return _json(401, {"error": "rejected without reading the body"})

    async def route_sleep(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        await asyncio.sleep(float(params.get("s", "0.1")))
        return _json(200, {"slept": float(params.get("s", "0.1"))})

    async def route_boom(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        raise RuntimeError("a bug in the application")

    async def route_missing(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        raise ApiFailure(404, "file_not_found")

    async def route_wrong_length(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"short"

        return OutgoingResponse(status=200, body=body(), content_length=100)

    async def route_empty(
        self, request: IncomingRequest, params: dict[str, str]
    ) -> OutgoingResponse:
        return OutgoingResponse(status=204)

    async def handle_websocket(self, request: IncomingRequest, channel: WebSocketChannel) -> None:
        with self._lock:
            self.processed.append(f"WS {request.path}")
        if "reject" in request.query:
            await channel.reject(403, b'{"error": "not allowed"}')
            return
        offered = channel.subprotocols
        await channel.accept(offered[0] if offered else None)
        while True:
            try:
                message = await channel.receive()
            except WebSocketClosed as exc:
                with self._lock:
                    self.ws_close_codes.append(exc.code)
                return
            if message == "close":
                await channel.close(4000, "bye")
                return
            if message == "abort":
                channel.abort()
                return
            if message == "boom":
                raise RuntimeError("a bug in the realtime application")
            if isinstance(message, bytes):
                await channel.send_text(
                    f"bytes:{len(message)}:{hashlib.sha256(message).hexdigest()}"
                )
            else:
                await channel.send_text(message)


@contextmanager
def wire_emulator(**overrides: Any) -> Iterator[tuple[Emulator, WireTestApp]]:
    """A thread-mode emulator serving :class:`WireTestApp`."""
    apps: list[WireTestApp] = []

    def factory(
        config: EmulatorConfig, storage: Path, faults: FaultPlan, journal: Journal
    ) -> WireTestApp:
        app = WireTestApp(config, storage, faults, journal)
        apps.append(app)
        return app

    with Emulator(app_factory=factory, **overrides) as emu:
        yield emu, apps[0]


# Raw-socket HTTP/1.1 client ------------------------------------------------------------------------
def connect(url: str, timeout: float = 5.0) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout)
    sock.settimeout(timeout)
    return sock


def recv_all(sock: socket.socket, limit: int = 64 * 1024 * 1024) -> bytes:
    """Everything until EOF (or a reset), bounded by ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


class RawHttp1:
    """One HTTP/1.1 connection driven by an h11 client over a plain socket."""

    def __init__(self, url: str) -> None:
        self.sock = connect(url)
        self.conn = h11.Connection(h11.CLIENT)

    def close(self) -> None:
        self.sock.close()

    def send(self, event: h11.Event) -> None:
        data = self.conn.send(event)
        if data:
            self.sock.sendall(data)

    def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> tuple[int, dict[str, str], bytes]:
        all_headers = [("host", "127.0.0.1"), *(headers or [])]
        if body:
            all_headers.append(("content-length", str(len(body))))
        self.send(h11.Request(method=method, target=target, headers=all_headers))
        if body:
            self.send(h11.Data(data=body))
        self.send(h11.EndOfMessage())
        return self.response()

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status = 0
        headers: dict[str, str] = {}
        body = bytearray()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
                    self.conn.start_next_cycle()
                return status, headers, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                break
        raise AssertionError("no complete response")


# Raw-socket HTTP/2 client ----------------------------------------------------------------------------
class RawH2:
    """One HTTP/2 (prior knowledge) connection driven by an h2 client over a plain socket."""

    def __init__(self, url: str) -> None:
        self.sock = connect(url)
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.closed = False

    def close(self) -> None:
        self.sock.close()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def headers(self, method: str, path: str, *, end_stream: bool) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(
            stream_id,
            [(":method", method), (":path", path), (":scheme", "http"), (":authority", "x")],
            end_stream=end_stream,
        )
        self.flush()
        return stream_id

    def pump(self, timeout: float = 0.2) -> list[h2events.Event]:
        """Read whatever arrives within ``timeout`` seconds and return the h2 events."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return []
        events = self.conn.receive_data(data)
        self.flush()
        return events

    def response(self, stream_id: int, timeout: float = 5.0) -> tuple[int, bytes]:
        status = 0
        body = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            for event in self.pump():
                if isinstance(event, h2events.ResponseReceived) and event.stream_id == stream_id:
                    status = int(dict(event.headers)[":status"])
                elif isinstance(event, h2events.DataReceived) and event.stream_id == stream_id:
                    body += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                    self.flush()
                elif isinstance(event, h2events.StreamEnded) and event.stream_id == stream_id:
                    return status, bytes(body)
        raise AssertionError("no complete HTTP/2 response")
