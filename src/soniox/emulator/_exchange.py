"""One request through the emulator: journal entry, ``http``-family faults, application, response.

The HTTP/1.1 and HTTP/2 connection handlers parse a request head, then hand it here together with
a :class:`ResponseWire` (how to put a response head and body bytes on *their* connection, and how
to cut that connection). Keeping the fault sequence in one place means both protocols fail in
exactly the same, documented order: latency, reset_before, status, application, reset_after,
truncate, slow_body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from email.utils import formatdate
from typing import Any, Protocol

import attrs

from .errors import ApiFailure, api_error_response
from .faults import Fault, FaultPlan, FiredFault
from .http_types import (
    BodySource,
    Headers,
    IncomingRequest,
    OutgoingResponse,
    WebSocketChannel,
)
from .journal import Journal, JournalEntry, redact_headers, redact_query

__all__ = [
    "Application",
    "ClientDisconnected",
    "HttpFaults",
    "RequestHead",
    "ResponseWire",
    "abort_transport",
    "fault_response",
    "finish_entry",
    "open_request",
    "run_exchange",
]

logger = logging.getLogger("soniox.emulator")

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
        "content-length",
    }
)


class Application(Protocol):
    """What the wire layer needs from the emulator's applications (``EmulatorApp`` fits)."""

    @property
    def faults(self) -> FaultPlan: ...

    @property
    def journal(self) -> Journal: ...

    def is_admin(self, path: str) -> bool: ...

    def is_realtime(self, path: str) -> bool: ...

    async def handle_http(self, request: IncomingRequest) -> OutgoingResponse: ...

    async def handle_websocket(
        self, request: IncomingRequest, channel: WebSocketChannel
    ) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class ClientDisconnected(ConnectionError):
    """The client went away (or reset its stream) while the request was being served."""


class ResponseWire(Protocol):
    """How one protocol puts a response on its connection, and how it cuts the connection."""

    async def send_head(self, status: int, headers: list[tuple[str, str]], *, end: bool) -> None:
        """Send the status line / HEADERS; ``end``: there is no body."""
        ...

    async def send_data(self, data: bytes) -> None:
        """Send body bytes, respecting the protocol's back-pressure."""
        ...

    async def end(self) -> None:
        """Finish the body."""
        ...

    def reset(self) -> None:
        """Reset the TCP connection now (RST, no response)."""
        ...

    async def cut(self) -> None:
        """Close the TCP connection after what was sent (a truncated response)."""
        ...


@attrs.frozen
class RequestHead:
    """A parsed request head, protocol-independent."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    http_version: str  # "1.1" or "2"
    scheme: str  # "http" or "https"


@attrs.frozen
class HttpFaults:
    """The ``http``-family faults that fired for one request, sorted by what they do."""

    fired: tuple[FiredFault, ...] = ()

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.fired]

    def _first(self, kind: str) -> Fault | None:
        for fired in self.fired:
            if fired.fault.kind == kind:
                return fired.fault
        return None

    @property
    def latency_s(self) -> float:
        """All fired latency faults add up."""
        return sum(max(0.0, f.fault.delay_s) for f in self.fired if f.fault.kind == "latency")

    @property
    def reset_before(self) -> bool:
        return self._first("reset_before") is not None

    @property
    def status(self) -> Fault | None:
        return self._first("status")

    @property
    def reset_after(self) -> bool:
        return self._first("reset_after") is not None

    @property
    def truncate(self) -> Fault | None:
        return self._first("truncate")

    @property
    def slow_body(self) -> Fault | None:
        return self._first("slow_body")


def split_target(target: str) -> tuple[str, str]:
    """``/v1/files?a=1`` -> (``/v1/files``, ``a=1``); absolute-form targets lose their origin."""
    if "://" in target and not target.startswith("/"):
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    return path or "/", query


def open_request(
    app: Application,
    head: RequestHead,
    body_source: BodySource | None,
    *,
    protocol: str = "http",
) -> tuple[IncomingRequest, HttpFaults]:
    """Give the request an id and a journal entry, and take its ``http`` faults.

    Admin requests (``/_emulator/...``) get a detached entry and no faults, so scripting the
    emulator never disturbs what a test asserts on.
    """
    request_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "protocol": protocol,
        "http_version": head.http_version,
        "scheme": head.scheme,
        "method": head.method,
        "path": head.path,
        "query": redact_query(head.query),
        "headers": redact_headers(head.headers),
        "request_id": request_id,
    }
    if app.is_admin(head.path):
        entry = JournalEntry(seq=0, started_at=time.monotonic(), **fields)
        faults = HttpFaults()
    else:
        entry = app.journal.open(**fields)
        faults = HttpFaults(tuple(app.faults.take("http", head.method, head.path)))
        if faults.fired:
            entry.faults.extend(faults.labels)
            app.journal.touch()
    request = IncomingRequest(
        method=head.method,
        path=head.path,
        query=head.query,
        headers=Headers(head.headers),
        http_version=head.http_version,
        scheme=head.scheme,
        request_id=request_id,
        journal=entry,
        body_source=body_source,
    )
    return request, faults


def fault_response(fault: Fault, request_id: str) -> OutgoingResponse:
    """The ``ApiError`` answer of a ``status`` fault, with its retry hints and extra headers."""
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        headers.append(("retry-after", fault.retry_after))
    if fault.retry_after_ms is not None:
        headers.append(("retry-after-ms", str(fault.retry_after_ms)))
    headers.extend(fault.headers)
    failure = ApiFailure(fault.status, fault.error_type, fault.message, headers=headers)
    return api_error_response(failure, request_id)


def finish_entry(
    journal: Journal,
    entry: JournalEntry,
    outcome: str,
    status: int | None = None,
    *,
    force: bool = False,
) -> None:
    """Close a journal entry once (an outcome the application already set wins); wake waiters.

    ``force`` overrides an earlier outcome: the server records "completed" just *before* the
    last bytes leave (so a client that got the response always finds it in the journal) and
    corrects it if that write fails.
    """
    if entry.outcome == "pending" or force:
        entry.finish(outcome, status)
    else:
        if status is not None and entry.status is None:
            entry.status = status
        if entry.duration_s is None:
            entry.duration_s = time.monotonic() - entry.started_at
    journal.touch()


def abort_transport(transport: asyncio.BaseTransport) -> None:
    """Reset the TCP connection: SO_LINGER 0 makes the close send RST instead of FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):  # already closed: nothing to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.WriteTransport):
        transport.abort()
    else:  # pragma: no cover - every stream transport is a read/write transport
        transport.close()


async def close_body(body: bytes | AsyncIterator[bytes]) -> None:
    """Release an unsent streaming body (async generators hold files or tasks open)."""
    aclose = getattr(body, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # the body is being discarded; its cleanup errors are not ours
            logger.debug("error while closing a discarded response body", exc_info=True)


async def _collect(body: bytes | AsyncIterator[bytes]) -> bytes:
    if isinstance(body, bytes):
        return body
    parts = [chunk async for chunk in body]
    return b"".join(parts)


async def _iterate(body: bytes | AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    if isinstance(body, bytes):
        if body:
            yield body
        return
    async for chunk in body:
        if chunk:
            yield bytes(chunk)


def response_headers(response: OutgoingResponse) -> list[tuple[str, str]]:
    """The application's headers, lower-cased, without framing headers (the wire sets those)."""
    headers = [(k.lower(), v) for k, v in response.headers if k.lower() not in _HOP_BY_HOP]
    if not any(k == "date" for k, _ in headers):
        headers.append(("date", formatdate(usegmt=True)))
    return headers


def _has_no_body(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


async def _call_app(app: Application, request: IncomingRequest) -> OutgoingResponse:
    try:
        return await app.handle_http(request)
    except ApiFailure as failure:
        return api_error_response(failure, request.request_id)
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception as exc:
        logger.exception(
            "emulator application failed on %s %s (request_id=%s)",
            request.method,
            request.path,
            request.request_id,
        )
        request.journal.notes["exception"] = type(exc).__name__
        return api_error_response(ApiFailure(500), request.request_id)


async def _pieces(
    body: bytes | AsyncIterator[bytes], slow: Fault | None
) -> AsyncGenerator[bytes, None]:
    """The body's chunks, cut to ``slow.chunk_size`` and paced by ``chunk_delay_s`` if slow."""
    chunks = _iterate(body)
    first = True
    try:
        async for chunk in chunks:
            if slow is None:
                yield chunk
                continue
            size = max(1, slow.chunk_size)
            for start in range(0, len(chunk), size):
                if not first:
                    await asyncio.sleep(max(0.0, slow.chunk_delay_s))
                first = False
                yield chunk[start : start + size]
    finally:
        await chunks.aclose()


async def send_response(
    wire: ResponseWire,
    journal: Journal,
    request: IncomingRequest,
    response: OutgoingResponse,
    faults: HttpFaults,
) -> None:
    """Put ``response`` on the wire, applying ``truncate`` and ``slow_body`` faults."""
    entry = request.journal
    status = response.status
    headers = response_headers(response)
    body = response.body
    entry.status = status
    if _has_no_body(request.method, status):
        if request.method == "HEAD":
            length = len(body) if isinstance(body, bytes) else response.content_length
            if length is not None:
                headers.append(("content-length", str(length)))
        await close_body(body)
        finish_entry(journal, entry, "completed", status)
        await wire.send_head(status, headers, end=True)
        return

    truncate = faults.truncate
    if truncate is not None:
        data = await _collect(body)
        headers.append(("content-length", str(len(data))))
        part = data[: max(0, truncate.after_bytes)]
        entry.response_bytes += len(part)
        finish_entry(journal, entry, "truncated", status)
        await wire.send_head(status, headers, end=False)
        if part:
            await wire.send_data(part)
        await wire.cut()
        return

    length = len(body) if isinstance(body, bytes) else response.content_length
    if length is not None:
        headers.append(("content-length", str(length)))
    if isinstance(body, bytes) and not body:
        finish_entry(journal, entry, "completed", status)
        await wire.send_head(status, headers, end=True)
        return
    await wire.send_head(status, headers, end=False)
    pieces = _pieces(body, faults.slow_body)
    try:
        async for piece in pieces:
            if length is not None and entry.response_bytes + len(piece) >= length:
                # With a Content-Length the client is done at the last byte: record it first.
                finish_entry(journal, entry, "completed", status)
            entry.response_bytes += len(piece)
            await wire.send_data(piece)
    finally:
        await pieces.aclose()
        await close_body(body)
    finish_entry(journal, entry, "completed", status)
    await wire.end()


async def run_exchange(
    app: Application,
    wire: ResponseWire,
    request: IncomingRequest,
    faults: HttpFaults,
) -> None:
    """Serve one HTTP request end to end; never raises for client-side failures."""
    journal = app.journal
    entry = request.journal
    try:
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        if faults.reset_before:
            finish_entry(journal, entry, "reset")
            wire.reset()
            return
        status_fault = faults.status
        if status_fault is not None:
            response = fault_response(status_fault, request.request_id)
        else:
            response = await _call_app(app, request)
            if faults.reset_after:
                await close_body(response.body)
                finish_entry(journal, entry, "reset", response.status)
                wire.reset()
                return
        await send_response(wire, journal, request, response, faults)
    except ConnectionError:
        if entry.outcome in ("pending", "completed"):
            finish_entry(journal, entry, "disconnected", force=True)
    except asyncio.CancelledError:
        if entry.outcome in ("pending", "completed"):
            finish_entry(journal, entry, "cancelled", force=True)
        raise
    except Exception as exc:
        # A response the protocol refused (e.g. a body longer than its Content-Length) or a
        # body iterator that failed midway: nothing sane can follow on this connection.
        logger.exception(
            "emulator failed to send the response to %s %s (request_id=%s)",
            request.method,
            request.path,
            request.request_id,
        )
        entry.notes.setdefault("exception", type(exc).__name__)
        finish_entry(journal, entry, "error", force=True)
        try:
            await wire.cut()
        except Exception:  # the connection is being dropped anyway
            logger.debug("error while cutting a failed connection", exc_info=True)


def log_unexpected(what: str, exc: BaseException) -> None:
    """Log a connection-level failure that is not the client simply going away."""
    logger.warning("emulator %s: %s: %s", what, type(exc).__name__, exc)


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None
