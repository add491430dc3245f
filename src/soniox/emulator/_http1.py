"""HTTP/1.1 connections on h11: keep-alive, streamed request bodies, and the WebSocket upgrade.

The request body is pulled from the socket only while the application iterates it, so an upload
travels with flat memory and TCP back-pressure reaches the client. A body the application did
not read is drained after the response (small) or the connection is closed (large), so the
next request on a kept-alive connection never starts in the middle of the previous body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from http import HTTPStatus

import h11

from ._exchange import (
    Application,
    ClientDisconnected,
    RequestHead,
    abort_transport,
    fault_response,
    finish_entry,
    header_value,
    logger,
    open_request,
    run_exchange,
    split_target,
)
from ._websocket import WsprotoChannel, handshake_problem
from .errors import ApiFailure, api_error_body
from .http_types import IncomingRequest, WebSocketClosed

__all__ = ["DRAIN_LIMIT_BYTES", "KEEP_ALIVE_TIMEOUT_S", "Http1Connection"]

KEEP_ALIVE_TIMEOUT_S = 300.0
"""An idle kept-alive connection (or one that never finishes its request head) is closed."""
MAX_HEAD_BYTES = 64 * 1024
"""Request line plus headers larger than this are answered with 431."""
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
"""Unread request bodies up to this size are drained (connection kept); larger ones close it."""
DRAIN_TIMEOUT_S = 10.0
LINGER_S = 2.0
"""How long a closing connection keeps reading (and discarding) so the client sees our response."""
_READ_SIZE = 65536


class Http1Connection:
    """One HTTP/1.1 client connection (plain or TLS), serving requests one after the other."""

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
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        if initial_data:
            self._h11.receive_data(initial_data)
        self._body_done = True
        self._body_received = 0
        self._body_length: int | None = None
        self._body_malformed = False
        self._aborted = False
        self._idle = True

    def __repr__(self) -> str:
        return f"Http1Connection(scheme={self._scheme!r}, idle={self._idle})"

    @property
    def idle(self) -> bool:
        """Between requests (safe to close without cutting a response)."""
        return self._idle

    async def run(self) -> None:
        try:
            await self._serve()
        except (ConnectionError, TimeoutError):
            pass
        except Exception as exc:
            logger.warning("emulator HTTP/1.1 connection failed: %s: %s", type(exc).__name__, exc)
        finally:
            await self._close()

    def close_now(self) -> None:
        """Close the connection at once (server shutdown)."""
        self._writer.close()

    # Request loop ------------------------------------------------------------------------------
    async def _serve(self) -> None:
        while True:
            self._idle = True
            try:
                event = await asyncio.wait_for(self._next_event(), KEEP_ALIVE_TIMEOUT_S)
            except h11.RemoteProtocolError as exc:
                await self._bad_request(exc.error_status_hint, str(exc))
                return
            if not isinstance(event, h11.Request):
                return
            self._idle = False
            head_size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
            if head_size > MAX_HEAD_BYTES:
                # h11 bounds only incomplete heads; a complete one that arrived at once is ours.
                await self._bad_request(431, "request head too large")
                return
            if not await self._handle(event):
                return
            if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
                self._h11.start_next_cycle()
            else:
                return

    async def _next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self._reader.read(_READ_SIZE)
            except ConnectionError:
                data = b""
            self._h11.receive_data(data)

    async def _handle(self, event: h11.Request) -> bool:
        """Serve one request; ``False`` when the connection must not be reused."""
        path, query = split_target(event.target.decode("latin-1"))
        head = RequestHead(
            method=event.method.decode("ascii", "replace").upper(),
            path=path,
            query=query,
            headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers],
            http_version=event.http_version.decode("ascii", "replace"),
            scheme=self._scheme,
        )
        if self._is_websocket_upgrade(head):
            await self._handle_websocket(head)
            return False

        content_length = header_value(head.headers, "content-length")
        chunked = "chunked" in (header_value(head.headers, "transfer-encoding") or "").lower()
        self._body_length = None if chunked else int(content_length or 0)
        self._body_received = 0
        self._body_malformed = False
        # h11 still has to deliver EndOfMessage even for a bodiless request.
        self._body_done = False
        has_body = chunked or bool(self._body_length)
        request, faults = open_request(self._app, head, self._body if has_body else None)
        wire = _H1Wire(self)
        await run_exchange(self._app, wire, request, faults)
        if self._aborted or wire.cut_done:
            return False
        if self._body_malformed and self._h11.our_state is h11.SEND_RESPONSE:
            await self._bad_request(400, "malformed request body")
            return False
        if self._h11.our_state is not h11.DONE:
            return False  # the response did not complete (client gone, app failure)
        if wire.closing:
            return False
        return await self._drain_body()

    # Request body ------------------------------------------------------------------------------
    async def _body(self) -> AsyncIterator[bytes]:
        if (
            self._h11.client_is_waiting_for_100_continue
            and self._h11.our_state is h11.SEND_RESPONSE
        ):
            await self.send(h11.InformationalResponse(status_code=100, headers=[]))
        while not self._body_done:
            try:
                event = await self._next_event()
            except h11.RemoteProtocolError as exc:
                self._body_malformed = True
                raise ClientDisconnected(f"malformed request body: {exc}") from exc
            if isinstance(event, h11.Data):
                self._body_received += len(event.data)
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._body_done = True
            else:
                raise ClientDisconnected("the client closed the connection mid-body")

    def _has_unread_body(self) -> bool:
        return not self._body_done and self._body_length != 0

    def unread_body_is_large(self) -> bool:
        """Whether an unread request body is too large (or of unknown size) to drain."""
        if not self._has_unread_body():
            return False
        if self._h11.client_is_waiting_for_100_continue:
            return True  # the client may never send the body it was not invited to send
        if self._body_length is None:
            return True
        return self._body_length - self._body_received > DRAIN_LIMIT_BYTES

    async def _drain_body(self) -> bool:
        drained = 0
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                while not self._body_done:
                    event = await self._next_event()
                    if isinstance(event, h11.Data):
                        drained += len(event.data)
                        if drained > DRAIN_LIMIT_BYTES:
                            return False
                    elif isinstance(event, h11.EndOfMessage):
                        self._body_done = True
                    else:
                        return False
        except (TimeoutError, h11.RemoteProtocolError):
            return False
        return True

    # Sending -----------------------------------------------------------------------------------
    async def send(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        if not data:
            return
        if self._writer.is_closing():
            raise ClientDisconnected("the connection is closed")
        self._writer.write(data)
        await self._writer.drain()

    def abort(self) -> None:
        self._aborted = True
        abort_transport(self._writer.transport)

    async def _bad_request(self, status: int, detail: str) -> None:
        """Answer a request h11 could not parse, then close (no journal entry: no request)."""
        status = status if 400 <= status < 600 else 400
        message = {431: "Request header fields too large."}.get(
            status, f"Malformed request: {detail}"
        )
        failure = ApiFailure(status, "invalid_request", message)
        body = json.dumps(
            api_error_body(status, failure.error_type, failure.message, str(uuid.uuid4()))
        ).encode()
        head = (
            f"HTTP/1.1 {status} {_reason(status).decode()}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode("ascii")
        if not self._writer.is_closing():
            self._writer.write(head + body)
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()

    async def _close(self) -> None:
        """Close without turning unread input into an RST that could destroy our last response.

        Closing a socket with unread bytes in its receive buffer makes the kernel send RST, and
        the client may then lose the response it had not read yet. So: send FIN (plain TCP),
        read and discard until the client closes too (bounded), then close.
        """
        writer = self._writer
        if self._aborted or writer.is_closing():
            writer.close()
            return
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            async with asyncio.timeout(LINGER_S):
                while await self._reader.read(_READ_SIZE):
                    pass
        writer.close()

    # WebSocket ---------------------------------------------------------------------------------
    def _is_websocket_upgrade(self, head: RequestHead) -> bool:
        if head.method != "GET" or not self._app.is_realtime(head.path):
            return False
        upgrade = (header_value(head.headers, "upgrade") or "").lower()
        return "websocket" in {token.strip() for token in upgrade.split(",")}

    async def _handle_websocket(self, head: RequestHead) -> None:
        app = self._app
        journal = app.journal
        request, faults = open_request(app, head, None, protocol="ws")
        entry = request.journal
        channel = WsprotoChannel(
            reader=self._reader,
            writer=self._writer,
            h11_conn=self._h11,
            request_headers=head.headers,
            entry=entry,
            journal=journal,
        )
        try:
            if not await self._end_of_upgrade_request():
                finish_entry(journal, entry, "rejected", 400)
                await channel.send_plain_response(
                    400,
                    b"WebSocket upgrade requests carry no body",
                    [("content-type", "text/plain")],
                )
                return
            if faults.latency_s > 0:
                await asyncio.sleep(faults.latency_s)
            if faults.reset_before:
                finish_entry(journal, entry, "reset")
                self.abort()
                return
            status_fault = faults.status
            if status_fault is not None:
                response = fault_response(status_fault, request.request_id)
                body = response.body if isinstance(response.body, bytes) else b""
                finish_entry(journal, entry, "rejected", response.status)
                await channel.send_plain_response(response.status, body, response.headers)
                return
            problem = handshake_problem(head.headers)
            if problem is not None:
                status, message, extra = problem
                body = json.dumps(
                    api_error_body(status, "invalid_request", message, request.request_id)
                ).encode()
                finish_entry(journal, entry, "rejected", status)
                await channel.send_plain_response(
                    status, body, [("content-type", "application/json"), *extra]
                )
                return
            await self._run_websocket_app(request, channel)
        except asyncio.CancelledError:
            channel.abort()
            finish_entry(journal, entry, "cancelled")
            raise
        except (ConnectionError, WebSocketClosed):
            finish_entry(journal, entry, "disconnected")
        finally:
            self._aborted = self._aborted or channel.state == "aborted"
            journal.touch()

    async def _end_of_upgrade_request(self) -> bool:
        event = await self._next_event()
        return isinstance(event, h11.EndOfMessage)

    async def _run_websocket_app(self, request: IncomingRequest, channel: WsprotoChannel) -> None:
        journal = self._app.journal
        entry = request.journal
        try:
            await self._app.handle_websocket(request, channel)
        except (WebSocketClosed, ConnectionError):
            pass
        except Exception as exc:
            logger.exception(
                "emulator realtime application failed (request_id=%s)", request.request_id
            )
            entry.notes["exception"] = type(exc).__name__
            if channel.state == "accepted":
                await channel.close(1011, "internal error")
                finish_entry(journal, entry, "error")
        if channel.state == "pending":
            # The application neither accepted nor refused: that is a server bug, say so.
            body = json.dumps(
                api_error_body(500, "internal_error", "WebSocket not accepted.", request.request_id)
            ).encode()
            await channel.send_plain_response(500, body, [("content-type", "application/json")])
        elif channel.state == "accepted":
            await channel.close(1000)
        outcome = {"rejected": "rejected", "aborted": "dropped"}.get(channel.state, "closed")
        finish_entry(journal, entry, outcome)


class _H1Wire:
    """:class:`~soniox.emulator._exchange.ResponseWire` over one h11 connection."""

    def __init__(self, conn: Http1Connection) -> None:
        self._conn = conn
        self.closing = False
        self.cut_done = False

    async def send_head(self, status: int, headers: list[tuple[str, str]], *, end: bool) -> None:
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if self._conn.unread_body_is_large():
            self.closing = True
            raw.append((b"connection", b"close"))
        await self._conn.send(h11.Response(status_code=status, headers=raw, reason=_reason(status)))
        if end:
            await self._conn.send(h11.EndOfMessage())

    async def send_data(self, data: bytes) -> None:
        await self._conn.send(h11.Data(data=data))

    async def end(self) -> None:
        await self._conn.send(h11.EndOfMessage())

    def reset(self) -> None:
        self.cut_done = True
        self._conn.abort()

    async def cut(self) -> None:
        # The connection loop ends on ``cut_done`` and closes (FIN, then a bounded linger).
        self.cut_done = True


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""
