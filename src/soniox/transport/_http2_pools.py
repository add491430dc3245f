"""The connection pools of the HTTP/2 lanes: httpcore's, with a GOAWAY race and the sync
connection's thread races fixed, and each request's send progress recorded.

What it fixes (encode/httpcore discussion #1041, PR #1054, in httpcore 1.0): stream S waits for
its response while another stream's read pulls in both S's response and the server's GOAWAY.
When S then takes the read lock, httpcore checks "connection terminated" *before* "do I already
have events", and fails S with ``RemoteProtocolError`` although its answer is sitting in the
buffer. Under many concurrent streams ~1 in 5 in-flight requests at a GOAWAY were lost that way
in our tests; for a POST that means a processed request reported as failed.

Threads (sync pool): httpcore's sync HTTP/2 connection calls h2 from every thread with a stream
on it and locks only socket reads and writes; :class:`_SerialH2State` serialises h2 itself.

What it records: whether each request was fully written (:data:`PROGRESS_KEY`), which is how the
transport tells "never sent" (safe to retry) from "may be processed".

The fix is scoped to the pools this SDK creates (no global patching): our HTTP/2 connection
class consults the buffered events before giving up, and our pool/connection classes differ from
httpcore's only in using it. httpcore's sync and async classes are twins, so ours are too, but as
thin shells: the rules (progress marks, the buffered-answer rule, which protocol connection to
build) are written once below and the shells only make the blocking or awaited call. Used when
httpcore is the 1.0 series (the internals it relies on); anything else falls back to stock pools.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import h2.connection
import h2.events
import httpcore
from httpcore._async.connection import AsyncHTTPConnection
from httpcore._async.http2 import AsyncHTTP2Connection
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._sync.connection import HTTPConnection
from httpcore._sync.http2 import HTTP2Connection
from httpcore._sync.http11 import HTTP11Connection

__all__ = ["SUPPORTED", "PROGRESS_KEY", "ConnectionPool", "AsyncConnectionPool"]

SUPPORTED = httpcore.__version__.startswith("1.0.")
PROGRESS_KEY = "soniox.progress"
"""Request extension holding an object whose ``sent`` flag these connections keep current:
False from the start of the headers, True once the last byte of the body was written. (Cheaper
than httpcore's ``trace`` extension, which costs ~25 µs per async request.)"""

_StreamEvent = h2.events.ResponseReceived | h2.events.DataReceived | h2.events.StreamEnded


# --- HTTP/2 connections: answer from buffered events before failing ------------------------------


def _mark_sent(request: httpcore.Request, sent: bool) -> None:
    """Keep the request's progress object (if any) current: ``sent`` once the body is out."""
    extensions = cast("Mapping[str, Any]", request.extensions)
    progress = extensions.get(PROGRESS_KEY)
    if progress is not None:
        progress.sent = sent


class _AnswerFromBuffer:
    """Around one read for ``stream_id``: a ``RemoteProtocolError`` (GOAWAY, connection closed)
    is swallowed while events for the stream are already buffered — they are its answer."""

    __slots__ = ("_events", "_stream_id")

    def __init__(self, events: Mapping[int, list[Any]], stream_id: int) -> None:
        self._events = events
        self._stream_id = stream_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        return isinstance(exc, httpcore.RemoteProtocolError) and bool(
            self._events.get(self._stream_id)
        )


def _next_event(events: Mapping[int, list[Any]], stream_id: int) -> _StreamEvent:
    """The stream's next buffered event; RST_STREAM fails the request."""
    event = events[stream_id].pop(0)
    if isinstance(event, h2.events.StreamReset):
        raise httpcore.RemoteProtocolError(event)
    return event


class _SerialH2State(h2.connection.H2Connection):
    """h2's connection state, safe to share between threads (the sync pool's streams).

    httpcore's sync HTTP/2 connection calls h2 from every thread with a stream on it, but
    locks only the socket reads and writes: two threads encoding request headers at once
    corrupt the shared HPACK encoder (the server answers COMPRESSION_ERROR or PROTOCOL_ERROR
    and drops every stream of the connection), and two threads can take the same new stream
    id. Here every h2 call runs under one re-entrant lock, and a new stream id stays the
    thread's until its headers are encoded (ids must open in increasing order): the hold taken
    by :meth:`get_next_available_stream_id` is given back by :meth:`send_headers`, or by
    :meth:`release_stream_id` when the headers never got that far. Between the two the thread
    takes no other lock (no lock-order inversion with httpcore's read and write locks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serial = threading.RLock()
        self._holding = threading.local()

    def get_next_available_stream_id(self) -> int:
        self.serial.acquire()
        try:
            stream_id = super().get_next_available_stream_id()
        except BaseException:
            self.serial.release()
            raise
        self._holding.held = True
        return stream_id

    def send_headers(self, *args: Any, **kwargs: Any) -> None:
        try:
            with self.serial:
                super().send_headers(*args, **kwargs)
        finally:
            self.release_stream_id()

    def release_stream_id(self) -> None:
        """Give back the hold of :meth:`get_next_available_stream_id` (if this thread has it)."""
        if getattr(self._holding, "held", False):
            self._holding.held = False
            self.serial.release()


def _serialised(name: str) -> Any:
    method = getattr(h2.connection.H2Connection, name)

    def call(self: _SerialH2State, *args: Any, **kwargs: Any) -> Any:
        with self.serial:
            return method(self, *args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


for _name in (
    "acknowledge_received_data",
    "close_connection",
    "data_to_send",
    "end_stream",
    "increment_flow_control_window",
    "initiate_connection",
    "local_flow_control_window",
    "receive_data",
    "reset_stream",
    "send_data",
):
    setattr(_SerialH2State, _name, _serialised(_name))


class _HTTP2Connection(HTTP2Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._h2_state = _SerialH2State(config=self.CONFIG)

    def _send_request_headers(self, request: httpcore.Request, stream_id: int) -> None:
        _mark_sent(request, False)
        try:
            super()._send_request_headers(request, stream_id)
        finally:
            self._h2_state.release_stream_id()  # if send_headers was never reached

    def _send_request_body(self, request: httpcore.Request, stream_id: int) -> None:
        super()._send_request_body(request, stream_id)
        _mark_sent(request, True)

    def _receive_stream_event(self, request: httpcore.Request, stream_id: int) -> _StreamEvent:
        while not self._events.get(stream_id):
            with _AnswerFromBuffer(self._events, stream_id):
                self._receive_events(request, stream_id)
        return _next_event(self._events, stream_id)


class _AsyncHTTP2Connection(AsyncHTTP2Connection):
    async def _send_request_headers(self, request: httpcore.Request, stream_id: int) -> None:
        _mark_sent(request, False)
        await super()._send_request_headers(request, stream_id)

    async def _send_request_body(self, request: httpcore.Request, stream_id: int) -> None:
        await super()._send_request_body(request, stream_id)
        _mark_sent(request, True)

    async def _receive_stream_event(
        self, request: httpcore.Request, stream_id: int
    ) -> _StreamEvent:
        while not self._events.get(stream_id):
            with _AnswerFromBuffer(self._events, stream_id):
                await self._receive_events(request, stream_id)
        return _next_event(self._events, stream_id)


# --- connections that build the classes above (httpcore 1.0.x handle_request; the choice shared) ---


_H2 = TypeVar("_H2")
_H11 = TypeVar("_H11")


def _new_connection(
    owner: Any, stream: Any, http2: Callable[..., _H2], http11: Callable[..., _H11]
) -> _H2 | _H11:
    """The protocol connection httpcore would make on ``stream`` (ALPN h2, or h2 prior knowledge
    when only HTTP/2 is enabled; else HTTP/1.1), built from our classes."""
    ssl_object = stream.get_extra_info("ssl_object")
    negotiated = ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2"
    if negotiated or (owner._http2 and not owner._http1):
        return http2(origin=owner._origin, stream=stream, keepalive_expiry=owner._keepalive_expiry)
    return http11(origin=owner._origin, stream=stream, keepalive_expiry=owner._keepalive_expiry)


class _Connecting:
    """httpcore's ``handle_request`` preamble, shared by both shells: entering checks that the
    connection serves the request's origin; a failure while connecting marks the connection
    failed (the pool then drops it), as httpcore does."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Any, request: httpcore.Request) -> None:
        if not owner.can_handle_request(request.url.origin):
            raise RuntimeError(
                f"Attempted to send request to {request.url.origin} on connection to "
                f"{owner._origin}"
            )
        self._owner = owner

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self._owner._connect_failed = True


class _HTTPConnection(HTTPConnection):
    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        with _Connecting(self, request), self._request_lock:
            if self._connection is None:
                stream = self._connect(request)
                self._connection = _new_connection(self, stream, _HTTP2Connection, HTTP11Connection)
        return self._connection.handle_request(request)


class _AsyncHTTPConnection(AsyncHTTPConnection):
    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        with _Connecting(self, request):
            async with self._request_lock:
                if self._connection is None:
                    stream = await self._connect(request)
                    self._connection = _new_connection(
                        self, stream, _AsyncHTTP2Connection, AsyncHTTP11Connection
                    )
        return await self._connection.handle_async_request(request)


# --- pools -------------------------------------------------------------------------------------


def _connection_kwargs(pool: Any, origin: httpcore.Origin) -> dict[str, Any]:
    return {
        "origin": origin,
        "ssl_context": pool._ssl_context,
        "keepalive_expiry": pool._keepalive_expiry,
        "http1": pool._http1,
        "http2": pool._http2,
        "retries": pool._retries,
        "local_address": pool._local_address,
        "uds": pool._uds,
        "network_backend": pool._network_backend,
        "socket_options": pool._socket_options,
    }


class ConnectionPool(httpcore.ConnectionPool):
    """httpcore's pool, building :class:`_HTTPConnection` for direct (non-proxy) origins."""

    def create_connection(self, origin: httpcore.Origin) -> Any:
        if self._proxy is not None:
            return super().create_connection(origin)
        return _HTTPConnection(**_connection_kwargs(self, origin))


class AsyncConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool, building :class:`_AsyncHTTPConnection` for direct origins."""

    def create_connection(self, origin: httpcore.Origin) -> Any:
        if self._proxy is not None:
            return super().create_connection(origin)
        return _AsyncHTTPConnection(**_connection_kwargs(self, origin))
