"""HTTP/2 connections on h2 (server side): concurrent streams, flow control both ways.

Each stream is served in its own task. Request DATA goes through a per-stream queue and is
acknowledged to the peer (WINDOW_UPDATE) only when the application takes it, so a fast uploader
is held back by flow control instead of filling our memory. Responses are cut to the peer's
windows and maximum frame size, waiting for WINDOW_UPDATE when a window is exhausted.

Connection faults (``reset_before``, ``reset_after``, ``truncate``) cut the whole TCP connection,
which is what a real network failure does to every stream on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RemoteSettingsChanged,
    RequestReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

from ._exchange import (
    Application,
    ClientDisconnected,
    RequestHead,
    abort_transport,
    logger,
    open_request,
    run_exchange,
    split_target,
)

__all__ = ["CONNECTION_WINDOW", "MAX_CONCURRENT_STREAMS", "STREAM_WINDOW", "Http2Connection"]

MAX_CONCURRENT_STREAMS = 100
STREAM_WINDOW = 256 * 1024
"""Per-stream receive window: the most request body bytes buffered per stream."""
CONNECTION_WINDOW = 16 * 1024 * 1024
"""Connection receive window, large enough that one slow stream does not stall the others."""
IDLE_TIMEOUT_S = 300.0
LINGER_S = 2.0
_READ_SIZE = 65536
_EOF = -1
_GONE = -2


class _Stream:
    """Server-side state of one request stream."""

    def __init__(self, stream_id: int, *, has_body: bool) -> None:
        self.stream_id = stream_id
        self.has_body = has_body
        self.ended = not has_body  # the client finished sending
        self.reset = False  # RST_STREAM received
        self.finished = False  # our handler is done; late DATA is acknowledged and dropped
        self.queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
        self.window = asyncio.Event()

    def gone(self) -> None:
        self.queue.put_nowait((b"", _GONE))
        self.window.set()


class Http2Connection:
    """One HTTP/2 client connection (h2c prior knowledge or TLS with ALPN ``h2``)."""

    def __init__(
        self,
        app: Application,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        scheme: str,
        initial_data: bytes = b"",
    ) -> None:
        self._app = app
        self._reader = reader
        self._writer = writer
        self._scheme = scheme
        self._initial = initial_data
        self._h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self._streams: dict[int, _Stream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_stream_id = 0
        self._lost = False
        self._goaway_sent = False
        self._peer_goaway = False
        self._cutting = False

    def __repr__(self) -> str:
        return f"Http2Connection(scheme={self._scheme!r}, streams={len(self._streams)})"

    @property
    def idle(self) -> bool:
        return not self._streams

    # Connection loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        h2 = self._h2
        h2.initiate_connection()
        h2.update_settings(
            {
                SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
            }
        )
        h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        self._flush()
        try:
            if self._initial:
                self._receive(self._initial)
            while not self._lost or self._cutting:
                timeout = IDLE_TIMEOUT_S if not self._streams else None
                async with asyncio.timeout(timeout):
                    data = await self._reader.read(_READ_SIZE)
                if not data:
                    break
                if self._cutting:
                    continue  # linger: discard input until the client closes (see cut())
                if self._lost:
                    break  # closed meanwhile (server shutdown): h2 would refuse the input
                self._receive(data)
                await self._drain()
                if self._peer_goaway and not self._streams:
                    break
        except ProtocolError as exc:
            logger.info("emulator: HTTP/2 protocol error from client: %s", exc)
            self._flush()  # h2 prepared a GOAWAY
        except TimeoutError:
            self.send_goaway()
        except ConnectionError:
            pass
        finally:
            await self._finish()

    async def _finish(self) -> None:
        """Let the stream handlers see the connection is gone and finish; cancel them if we are."""
        self._lose()
        try:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        except asyncio.CancelledError:
            for task in self._tasks:
                task.cancel()
            raise
        finally:
            self._writer.close()

    def _receive(self, data: bytes) -> None:
        events = self._h2.receive_data(data)
        for event in events:
            self._on_event(event)
        self._flush()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self._on_request(event)
        elif isinstance(event, DataReceived):
            self._on_data(event)
        elif isinstance(event, StreamEnded):
            stream = self._streams.get(event.stream_id)
            if stream is not None and not stream.ended:
                stream.ended = True
                stream.queue.put_nowait((b"", _EOF))
        elif isinstance(event, StreamReset):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.reset = True
                stream.gone()
        elif isinstance(event, WindowUpdated):
            if event.stream_id == 0:
                self._wake_all()
            else:
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    stream.window.set()
        elif isinstance(event, RemoteSettingsChanged):
            self._wake_all()
        elif isinstance(event, ConnectionTerminated):
            self._peer_goaway = True

    def _on_request(self, event: RequestReceived) -> None:
        stream_id = event.stream_id
        self._last_stream_id = max(self._last_stream_id, stream_id)
        if self._goaway_sent or self._lost:
            with contextlib.suppress(ProtocolError):
                self._h2.reset_stream(stream_id, ErrorCodes.REFUSED_STREAM)
            return
        pseudo: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        for raw_name, raw_value in event.headers:
            name = _text(raw_name).lower()
            value = _text(raw_value)
            if name.startswith(":"):
                pseudo[name] = value
            else:
                headers.append((name, value))
        authority = pseudo.get(":authority")
        if authority and not any(k == "host" for k, _ in headers):
            headers.insert(0, ("host", authority))
        path, query = split_target(pseudo.get(":path", "/"))
        head = RequestHead(
            method=pseudo.get(":method", "GET").upper(),
            path=path,
            query=query,
            headers=headers,
            http_version="2",
            scheme=self._scheme,
        )
        stream = _Stream(stream_id, has_body=event.stream_ended is None)
        self._streams[stream_id] = stream
        task = asyncio.create_task(self._serve_stream(stream, head))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_data(self, event: DataReceived) -> None:
        stream = self._streams.get(event.stream_id)
        data = bytes(event.data or b"")
        flow = event.flow_controlled_length or 0
        if stream is None or stream.finished or not data:
            self._ack(event.stream_id, flow)
            return
        stream.queue.put_nowait((data, flow))

    def _wake_all(self) -> None:
        for stream in self._streams.values():
            stream.window.set()

    # One stream --------------------------------------------------------------------------------
    async def _serve_stream(self, stream: _Stream, head: RequestHead) -> None:
        request, faults = open_request(
            self._app, head, (lambda: self._body(stream)) if stream.has_body else None
        )
        try:
            await run_exchange(self._app, _H2Wire(self, stream), request, faults)
        finally:
            stream.finished = True
            while not stream.queue.empty():
                _data, flow = stream.queue.get_nowait()
                if flow > 0:
                    self._ack(stream.stream_id, flow)
            if not stream.ended and not stream.reset and not self._lost:
                # RFC 9113 §8.1: the response is complete; ask the client to stop sending.
                with contextlib.suppress(ProtocolError):
                    self._h2.reset_stream(stream.stream_id, ErrorCodes.NO_ERROR)
            self._streams.pop(stream.stream_id, None)
            self._flush()

    async def _body(self, stream: _Stream) -> AsyncIterator[bytes]:
        while True:
            data, flow = await stream.queue.get()
            if flow == _EOF:
                return
            if flow == _GONE:
                raise ClientDisconnected("the client reset the stream or closed the connection")
            self._ack(stream.stream_id, flow)
            yield data

    def _ack(self, stream_id: int, flow: int) -> None:
        if flow <= 0 or self._lost:
            return
        with contextlib.suppress(ProtocolError):
            self._h2.acknowledge_received_data(flow, stream_id)
        self._flush()

    # Sending -----------------------------------------------------------------------------------
    def _check(self, stream: _Stream) -> None:
        if self._lost or stream.reset:
            raise ClientDisconnected("the stream or connection is gone")

    async def send_headers(
        self, stream: _Stream, headers: list[tuple[str, str]], end: bool
    ) -> None:
        self._check(stream)
        try:
            self._h2.send_headers(stream.stream_id, headers, end_stream=end)
        except ProtocolError as exc:
            raise ClientDisconnected(f"cannot send headers: {exc}") from exc
        self._flush()
        await self._drain()

    async def send_data(self, stream: _Stream, data: bytes) -> None:
        offset = 0
        while offset < len(data):
            self._check(stream)
            try:
                window = self._h2.local_flow_control_window(stream.stream_id)
            except ProtocolError as exc:
                raise ClientDisconnected(f"stream closed: {exc}") from exc
            if window <= 0:
                stream.window.clear()
                await stream.window.wait()
                continue
            size = min(window, self._h2.max_outbound_frame_size, len(data) - offset)
            try:
                self._h2.send_data(stream.stream_id, data[offset : offset + size])
            except ProtocolError as exc:
                raise ClientDisconnected(f"cannot send data: {exc}") from exc
            offset += size
            self._flush()
            await self._drain()

    async def end_stream(self, stream: _Stream) -> None:
        self._check(stream)
        try:
            self._h2.end_stream(stream.stream_id)
        except ProtocolError as exc:
            raise ClientDisconnected(f"cannot end stream: {exc}") from exc
        self._flush()
        await self._drain()

    def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    async def _drain(self) -> None:
        if self._writer.is_closing():
            raise ClientDisconnected("the connection is closed")
        await self._writer.drain()

    def _lose(self) -> None:
        self._lost = True
        for stream in self._streams.values():
            stream.gone()

    def abort(self) -> None:
        """Reset the TCP connection (every stream on it fails)."""
        self._lose()
        abort_transport(self._writer.transport)

    def cut(self) -> None:
        """Close the TCP connection after what is buffered, without GOAWAY.

        Plain TCP sends FIN at once and keeps reading until the client closes (bounded), so
        unread input does not turn the close into an RST that could eat the partial response.
        """
        self._lose()
        if self._writer.can_write_eof():
            self._cutting = True
            with contextlib.suppress(OSError):
                self._writer.write_eof()
            asyncio.get_running_loop().call_later(LINGER_S, self._writer.close)
        else:
            self._writer.close()  # TLS: close_notify, then the transport closes

    def send_goaway(self) -> None:
        """Tell the client no new streams will be served (server shutdown or idle timeout)."""
        if self._goaway_sent or self._lost:
            return
        self._goaway_sent = True
        with contextlib.suppress(ProtocolError):
            self._h2.close_connection(ErrorCodes.NO_ERROR, last_stream_id=self._last_stream_id)
        self._flush()

    def close_now(self) -> None:
        """Server shutdown: GOAWAY, then close."""
        self.send_goaway()
        self._lose()
        self._writer.close()


class _H2Wire:
    """:class:`~soniox.emulator._exchange.ResponseWire` for one HTTP/2 stream."""

    def __init__(self, conn: Http2Connection, stream: _Stream) -> None:
        self._conn = conn
        self._stream = stream

    async def send_head(self, status: int, headers: list[tuple[str, str]], *, end: bool) -> None:
        await self._conn.send_headers(self._stream, [(":status", str(status)), *headers], end)

    async def send_data(self, data: bytes) -> None:
        await self._conn.send_data(self._stream, data)

    async def end(self) -> None:
        await self._conn.end_stream(self._stream)

    def reset(self) -> None:
        self._conn.abort()

    async def cut(self) -> None:
        self._conn.cut()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
