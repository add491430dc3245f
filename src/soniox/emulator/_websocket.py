"""The server side of one WebSocket connection, on wsproto, after an HTTP/1.1 upgrade request.

The HTTP/1.1 handler parses the upgrade request with h11 and hands the connection here; the
application then either :meth:`~WsprotoChannel.accept`\\ s (a ``101`` sent through h11, whose
trailing bytes seed the wsproto connection) or :meth:`~WsprotoChannel.reject`\\ s with a plain
HTTP response. Pings are answered while receiving; fragmented messages are reassembled.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json

import h11
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, generate_accept_token

from ._exchange import abort_transport, finish_entry, header_value
from .http_types import WebSocketClosed
from .journal import Journal, JournalEntry

__all__ = ["MAX_MESSAGE_BYTES", "WsprotoChannel", "handshake_problem"]

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""A message larger than this closes the connection with 1009 (message too big)."""

CLOSE_TIMEOUT_S = 1.0
"""How long :meth:`WsprotoChannel.close` waits for the peer's close frame."""

_READ_SIZE = 65536


def handshake_problem(
    headers: list[tuple[str, str]],
) -> tuple[int, str, list[tuple[str, str]]] | None:
    """Why this upgrade request is not a valid WebSocket handshake: (status, message, headers)."""
    connection = (header_value(headers, "connection") or "").lower()
    if "upgrade" not in {token.strip() for token in connection.split(",")}:
        return 400, "WebSocket upgrade requires 'Connection: Upgrade'.", []
    version = (header_value(headers, "sec-websocket-version") or "").strip()
    if version != "13":
        return (
            426,
            "Unsupported WebSocket version; this server speaks version 13.",
            [("sec-websocket-version", "13")],
        )
    key = (header_value(headers, "sec-websocket-key") or "").strip()
    try:
        decoded = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        decoded = b""
    if len(decoded) != 16:
        return 400, "Invalid Sec-WebSocket-Key.", []
    return None


def _offered_subprotocols(headers: list[tuple[str, str]]) -> list[str]:
    offered: list[str] = []
    for key, value in headers:
        if key == "sec-websocket-protocol":
            offered.extend(token.strip() for token in value.split(",") if token.strip())
    return offered


def _truncate_reason(reason: str) -> str:
    # A close frame's payload is at most 125 bytes: 2 for the code, 123 for the UTF-8 reason.
    encoded = reason.encode("utf-8")[:123]
    return encoded.decode("utf-8", errors="ignore")


class WsprotoChannel:
    """A :class:`~soniox.emulator.http_types.WebSocketChannel` over an asyncio stream pair."""

    def __init__(
        self,
        *,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        h11_conn: h11.Connection,
        request_headers: list[tuple[str, str]],
        entry: JournalEntry,
        journal: Journal,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11_conn
        self._headers = request_headers
        self._entry = entry
        self._journal = journal
        self._offered = _offered_subprotocols(request_headers)
        self._ws: Connection | None = None
        self._state = "pending"  # pending | accepted | rejected | closed | aborted
        self._reading = False
        self._closing = False
        self._peer_closed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._close_code: int | None = None
        self._close_reason = ""

    def __repr__(self) -> str:
        return f"WsprotoChannel(state={self._state!r}, close_code={self._close_code})"

    # Handshake -------------------------------------------------------------------------------
    @property
    def subprotocols(self) -> list[str]:
        return list(self._offered)

    @property
    def state(self) -> str:
        """``pending``, ``accepted``, ``rejected``, ``closed`` or ``aborted``."""
        return self._state

    @property
    def close_code(self) -> int | None:
        """The first close code sent or received on this connection."""
        return self._close_code

    async def accept(self, subprotocol: str | None = None) -> None:
        if self._state != "pending":
            raise RuntimeError(f"cannot accept a WebSocket in state {self._state!r}")
        if subprotocol is not None and subprotocol not in self._offered:
            raise ValueError("the selected subprotocol was not offered by the client")
        key = (header_value(self._headers, "sec-websocket-key") or "").strip()
        headers: list[tuple[bytes, bytes]] = [
            (b"upgrade", b"websocket"),
            (b"connection", b"Upgrade"),
            (b"sec-websocket-accept", generate_accept_token(key.encode("ascii"))),
        ]
        if subprotocol is not None:
            headers.append((b"sec-websocket-protocol", subprotocol.encode("latin-1")))
        data = self._h11.send(
            h11.InformationalResponse(
                status_code=101, headers=headers, reason=b"Switching Protocols"
            )
        )
        trailing, _closed = self._h11.trailing_data
        self._ws = Connection(ConnectionType.SERVER, trailing_data=bytes(trailing))
        self._state = "accepted"
        self._entry.status = 101
        self._journal.touch()
        await self._write(data or b"")

    async def reject(self, status: int, body: bytes = b"") -> None:
        if self._state != "pending":
            raise RuntimeError(f"cannot reject a WebSocket in state {self._state!r}")
        self._state = "rejected"
        content_type = "application/json" if _is_json(body) else "text/plain; charset=utf-8"
        finish_entry(self._journal, self._entry, "rejected", status)
        await self.send_plain_response(status, body, [("content-type", content_type)])

    async def send_plain_response(
        self, status: int, body: bytes, headers: list[tuple[str, str]]
    ) -> None:
        """Answer the upgrade request with an ordinary HTTP response, then close."""
        self._state = "rejected"
        self._entry.status = status
        self._journal.touch()
        head = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        head += [(b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        out = self._h11.send(h11.Response(status_code=status, headers=head)) or b""
        if body:
            out += self._h11.send(h11.Data(data=body)) or b""
        out += self._h11.send(h11.EndOfMessage()) or b""
        with contextlib.suppress(WebSocketClosed):
            await self._write(out)
        # The HTTP/1.1 handler closes the connection (gracefully) once we return.

    # Messages ---------------------------------------------------------------------------------
    async def receive(self) -> str | bytes:
        ws = self._require_open()
        if self._reading:
            raise RuntimeError("receive() is already running in another task")
        self._reading = True
        try:
            return await self._receive(ws)
        finally:
            self._reading = False

    async def _receive(self, ws: Connection) -> str | bytes:
        text_parts: list[str] = []
        byte_parts: list[bytes] = []
        size = 0
        while True:
            for event in ws.events():
                if isinstance(event, TextMessage | BytesMessage):
                    if isinstance(event, TextMessage):
                        text_parts.append(event.data)
                        size += len(event.data)
                    else:
                        byte_parts.append(bytes(event.data))
                        size += len(event.data)
                    if size > MAX_MESSAGE_BYTES:
                        await self.close(1009, "message too big")
                        raise WebSocketClosed(1009, "message too big")
                    if event.message_finished:
                        if isinstance(event, TextMessage):
                            return "".join(text_parts)
                        return b"".join(byte_parts)
                else:
                    await self._handle_control(ws, event)
            if self._state != "accepted":
                raise WebSocketClosed(self._close_code, self._close_reason)
            data = await self._read()
            if not data:
                self._on_eof()
                raise WebSocketClosed(None, "connection lost")
            if ws.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
                ws.receive_data(data)

    async def _handle_control(self, ws: Connection, event: Event) -> None:
        if isinstance(event, Ping):
            with contextlib.suppress(LocalProtocolError):
                await self._write(ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            self._record_close(event.code, event.reason or "")
            if ws.state is ConnectionState.REMOTE_CLOSING:
                # The peer started the closing handshake: answer it, then the TCP side is ours.
                with contextlib.suppress(LocalProtocolError, WebSocketClosed):
                    await self._write(ws.send(event.response()))
            elif ws.state is ConnectionState.OPEN:
                # wsproto reports a protocol violation as a CloseConnection it wants us to send.
                with contextlib.suppress(LocalProtocolError, WebSocketClosed):
                    await self._write(ws.send(CloseConnection(code=event.code)))
            self._state = "closed"
            self._peer_closed.set()
            self._writer.close()
            raise WebSocketClosed(event.code, event.reason or "")

    async def send_text(self, text: str) -> None:
        ws = self._require_open()
        await self._send(ws, Message(data=text))

    async def send_bytes(self, data: bytes) -> None:
        ws = self._require_open()
        await self._send(ws, Message(data=data))

    async def _send(self, ws: Connection, event: Message[str] | Message[bytes]) -> None:
        try:
            data = ws.send(event)
        except LocalProtocolError as exc:
            raise WebSocketClosed(self._close_code, self._close_reason) from exc
        await self._write(data)

    # Closing ----------------------------------------------------------------------------------
    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._state in ("closed", "aborted", "rejected"):
            return
        if self._state == "pending":
            raise RuntimeError("close() before accept(); use reject() to refuse the upgrade")
        ws = self._ws
        assert ws is not None
        if self._closing:
            return
        self._closing = True
        try:
            if ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                self._record_close(code, reason)
                with contextlib.suppress(LocalProtocolError, WebSocketClosed):
                    await self._write(
                        ws.send(CloseConnection(code=code, reason=_truncate_reason(reason)))
                    )
            if ws.state is ConnectionState.LOCAL_CLOSING:
                with contextlib.suppress(TimeoutError, WebSocketClosed, ConnectionError):
                    if self._reading:
                        await asyncio.wait_for(self._peer_closed.wait(), CLOSE_TIMEOUT_S)
                    else:
                        await asyncio.wait_for(self._drain_until_close(ws), CLOSE_TIMEOUT_S)
        finally:
            if self._state == "accepted":
                self._state = "closed"
            self._peer_closed.set()
            self._writer.close()

    async def _drain_until_close(self, ws: Connection) -> None:
        while True:
            for event in ws.events():
                if isinstance(event, CloseConnection):
                    return
            data = await self._read()
            if not data:
                return
            if ws.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
                ws.receive_data(data)
            else:
                return

    def abort(self) -> None:
        if self._state in ("closed", "aborted", "rejected"):
            return
        self._state = "aborted"
        self._peer_closed.set()
        abort_transport(self._writer.transport)

    # Internals --------------------------------------------------------------------------------
    def _require_open(self) -> Connection:
        if self._state == "pending":
            raise RuntimeError("the WebSocket handshake has not been accepted yet")
        if self._state != "accepted" or self._ws is None or self._closing:
            raise WebSocketClosed(self._close_code, self._close_reason)
        return self._ws

    def _record_close(self, code: int | None, reason: str) -> None:
        if self._close_code is None and code is not None:
            self._close_code = int(code)
            self._close_reason = reason
            if self._entry.close_code is None:
                self._entry.close_code = int(code)
            self._journal.touch()

    def _on_eof(self) -> None:
        if self._state == "accepted":
            self._state = "closed"
        self._peer_closed.set()
        if self._ws is not None and self._ws.state is not ConnectionState.CLOSED:
            self._ws.receive_data(None)

    async def _read(self) -> bytes:
        try:
            return await self._reader.read(_READ_SIZE)
        except ConnectionError:
            return b""

    async def _write(self, data: bytes) -> None:
        if not data:
            return
        if self._writer.is_closing():
            raise WebSocketClosed(self._close_code, "connection closed")
        async with self._send_lock:
            self._writer.write(data)
            try:
                await self._writer.drain()
            except ConnectionError as exc:
                raise WebSocketClosed(self._close_code, "connection lost") from exc


def _is_json(body: bytes) -> bool:
    if not body.lstrip().startswith((b"{", b"[")):
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
