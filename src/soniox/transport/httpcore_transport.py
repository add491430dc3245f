"""The network transport: httpcore's connection pools, driven directly.

Why not ``httpx.Client.send``? Per request it rebuilds URLs, merges cookies and headers, runs
auth and event-hook flows and wraps the response — work this SDK does once (base URL, headers)
or not at all. Going to the httpcore pool directly is what keeps a request through our whole
middleware stack cheaper than one bare ``httpx.Client.get`` (see ``docs/performance.md``). httpx
itself is used for one thing: building the TLS context when ``verify``/``cert``/``SSL_CERT_*``
ask for more than httpcore's default.

Lanes. Requests travel in one of three connection pools, created on first use:

- ``h1``  — HTTP/1.1 (every request when ``http2`` is off; any scheme);
- ``h2``  — HTTPS with ALPN offering ``h2`` and ``http/1.1``;
- ``h2c`` — plain-text HTTP/2 with prior knowledge (the emulator, sidecars).

With ``http2`` on, a request whose body is larger than ``http2_max_body`` bytes, or a stream of
unknown length, still rides ``h1``: HTTP/2 uploads are ~9x slower in pure Python (per-frame
flow-control bookkeeping), while small calls gain multiplexing. The HTTP/2 lanes use the pools of
``_http2_pools`` (httpcore's, with a GOAWAY race fixed and send progress recorded).

One logic, two shells. Everything a request goes through — the httpcore request, failure
classification, decoding, the :class:`Response` — lives in :class:`_Exchange` and :class:`_Body`;
``send``/``asend`` and ``_SyncStream``/``_AsyncStream`` only make the blocking or awaited I/O
calls (handle the request, read, close, iterate).

Failure classification (what the retry policy relies on):

==========================================  ==============================================
httpcore failure                            raised as
==========================================  ==============================================
ConnectError                                RequestNotSentError (never reached the server)
ConnectTimeout, PoolTimeout                 ConnectTimeoutError (never reached the server)
HTTP/2: failure before the request's last  RequestNotSentError
frame was written (e.g. the connection a
GOAWAY closed), GOAWAY with last_stream_id
0, RST_STREAM(REFUSED_STREAM)
ReadError, WriteError, RemoteProtocolError  ResponseLostError (may have been processed)
ReadTimeout / WriteTimeout                  ReadTimeoutError / WriteTimeoutError
any timeout cut short by the call deadline  DeadlineExceededError
==========================================  ==============================================

On the HTTP/2 lanes the connection records whether the request's last frame was written
(``_http2_pools.PROGRESS_KEY``; httpcore's ``trace`` extension as a fallback): a server cannot
act on a request it never received whole, and many concurrent streams on a connection closed by
GOAWAY fail exactly there. On HTTP/1.1 httpcore turns a write error into an attempt to read an
early answer, so a reset while the request is being written surfaces as a read failure:
classified as possibly processed.
"""

from __future__ import annotations

import os
import ssl
import threading
import zlib
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias, TypeVar, cast

import h2.errors
import h2.events
import h2.exceptions
import httpcore

from soniox.errors import (
    RequestNotSentError,
    ResponseLostError,
    SonioxError,
    TransportError,
)

from . import _http2_pools
from .base import SYSTEM_CLOCK, Clock, attempt_timeout, timeout_error
from .request import URL, Request, StreamBody, Timeout
from .response import RawHeaders, Response

if TYPE_CHECKING:
    from soniox.config import SonioxConfig

__all__ = ["HttpcoreTransport", "Lane", "classify_error", "never_processed"]

Lane: TypeAlias = Literal["h1", "h2", "h2c"]
Verify: TypeAlias = "bool | str | ssl.SSLContext"

_ACCEPT_ENCODING: Final = (b"accept-encoding", b"gzip, deflate")
_CHUNKED: Final = (b"transfer-encoding", b"chunked")
_Limits: TypeAlias = tuple[Timeout, Timeout]
_Pool = TypeVar("_Pool", httpcore.ConnectionPool, httpcore.AsyncConnectionPool)


class HttpcoreTransport:
    """Sends requests over pooled HTTP/1.1 and HTTP/2 connections (httpcore's); sync and async.

    One instance serves both ``send`` and ``asend`` (each side has its own pools, created on
    first use). ``close()`` closes the sync pools, ``aclose()`` both.
    """

    def __init__(
        self,
        *,
        timeout: Timeout | None = None,
        max_connections: int | None = 100,
        max_keepalive_connections: int | None = 20,
        keepalive_expiry: float | None = 5.0,
        http2: bool = False,
        http2_max_body: int = 1_048_576,
        verify: Verify = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        accept_encoding: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self._timeout = timeout or Timeout()
        self._pool_kwargs: dict[str, Any] = {
            "max_connections": max_connections,
            "max_keepalive_connections": max_keepalive_connections,
            "keepalive_expiry": keepalive_expiry,
        }
        self.http2 = http2
        self.http2_max_body = http2_max_body
        self._verify = verify
        self._cert = cert
        self._proxy = proxy
        self._trust_env = trust_env
        self._accept_encoding = accept_encoding
        self._clock = clock or SYSTEM_CLOCK
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_ready = False
        self._lock = threading.Lock()
        self._sync_pools: dict[Lane, httpcore.ConnectionPool] = {}
        self._async_pools: dict[Lane, httpcore.AsyncConnectionPool] = {}
        self._origins: dict[tuple[str, str, int | None], tuple[bytes, bytes, bytes]] = {}
        self._ext_cache: dict[Timeout, dict[str, Any]] = {}
        self._closed = False

    @classmethod
    def from_config(cls, config: SonioxConfig, *, clock: Clock | None = None) -> HttpcoreTransport:
        """Build from a :class:`~soniox.config.SonioxConfig` (timeouts, limits, HTTP/2, TLS)."""
        return cls(
            timeout=Timeout(
                config.connect_timeout,
                config.read_timeout,
                config.write_timeout,
                config.pool_timeout,
            ),
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_keepalive_connections,
            keepalive_expiry=config.keepalive_expiry,
            http2=config.http2,
            http2_max_body=config.http2_max_body,
            verify=config.verify,
            proxy=config.proxy,
            trust_env=config.trust_env,
            clock=clock,
        )

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def default_timeout(self) -> Timeout:
        return self._timeout

    def lane(self, request: Request) -> Lane:
        """Which pool carries ``request`` (see the module docstring)."""
        if not self.http2:
            return "h1"
        length = request.body_length
        if length is None or length > self.http2_max_body:
            return "h1"
        return "h2" if request.url.scheme == "https" else "h2c"

    def _ssl(self) -> ssl.SSLContext | None:
        # Loading CA certificates costs ~20 ms: only when a pool is made, and for the default
        # settings httpcore does it lazily on the first https connection.
        if not self._ssl_ready:
            verify = self._verify
            env_override = self._trust_env and (
                os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")
            )
            if isinstance(verify, ssl.SSLContext):
                self._ssl_context = verify
            elif verify is True and self._cert is None and not env_override:
                self._ssl_context = None
            else:
                import httpx

                self._ssl_context = httpx.create_ssl_context(
                    verify=verify, cert=self._cert, trust_env=self._trust_env
                )
            self._ssl_ready = True
        return self._ssl_context

    def _pool_args(self, lane: Lane) -> dict[str, Any]:
        kwargs = dict(self._pool_kwargs)
        kwargs["ssl_context"] = self._ssl()
        kwargs["http1"] = lane != "h2c"
        kwargs["http2"] = lane != "h1"
        if self._proxy is not None:
            kwargs["proxy"] = httpcore.Proxy(self._proxy)
        return kwargs

    def _new_pool(
        self, pools: dict[Lane, _Pool], lane: Lane, stock: type[_Pool], fixed: type[_Pool]
    ) -> _Pool:
        """The pool of ``lane`` in ``pools`` (the sync or the async ones), made on first use."""
        with self._lock:
            pool = pools.get(lane)
            if pool is None:
                self._check_open()
                cls = fixed if lane != "h1" and _http2_pools.SUPPORTED else stock
                pool = pools[lane] = cls(**self._pool_args(lane))
        return pool

    def _sync_pool(self, lane: Lane) -> httpcore.ConnectionPool:
        pool = self._sync_pools.get(lane)
        if pool is not None:
            return pool
        return self._new_pool(
            self._sync_pools, lane, httpcore.ConnectionPool, _http2_pools.ConnectionPool
        )

    def _async_pool(self, lane: Lane) -> httpcore.AsyncConnectionPool:
        apool = self._async_pools.get(lane)
        if apool is not None:
            return apool
        return self._new_pool(
            self._async_pools, lane, httpcore.AsyncConnectionPool, _http2_pools.AsyncConnectionPool
        )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this transport is closed")

    def _url(self, url: URL) -> httpcore.URL:
        key = (url.scheme, url.host, url.port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = (
                url.scheme.encode("ascii"),
                url.host.encode("idna"),
                url.netloc.encode("idna"),
            )
        return httpcore.URL(
            scheme=origin[0], host=origin[1], port=url.port, target=url.target.encode("ascii")
        )

    def _extensions(self, limits: _Limits, progress: _Progress | None) -> dict[str, Any]:
        timeout = limits[0]
        ext = self._ext_cache.get(timeout)
        if ext is None:
            ext = {"timeout": timeout.as_dict()}
            if len(self._ext_cache) < 64:
                self._ext_cache[timeout] = ext
        if progress is not None:
            key = _http2_pools.PROGRESS_KEY if _http2_pools.SUPPORTED else "trace"
            return {"timeout": ext["timeout"], key: progress}
        return ext

    def _headers(self, request: Request, url: URL) -> list[tuple[bytes, bytes]]:
        origin = self._origins[(url.scheme, url.host, url.port)]
        raw = [(b"host", origin[2])]
        raw += [(k.encode("ascii"), v.encode("latin-1")) for k, v in request.headers.items]
        if self._accept_encoding and "accept-encoding" not in request.headers:
            raw.append(_ACCEPT_ENCODING)
        body = request.body
        if body is not None and "content-length" not in request.headers:
            length = request.body_length
            if length is not None:
                raw.append((b"content-length", str(length).encode("ascii")))
            elif "transfer-encoding" not in request.headers:
                raw.append(_CHUNKED)
        return raw

    def _exchange(
        self,
        request: Request,
        content: bytes | Iterable[bytes] | AsyncIterable[bytes] | None,
        progress_type: type[_Progress],
    ) -> _Exchange:
        """Start one attempt: its lane, limits, send progress and httpcore request."""
        lane = self.lane(request)
        progress = None if lane == "h1" else progress_type()
        limits = attempt_timeout(request, self._timeout, self._clock)
        url = request.url
        hreq = httpcore.Request(
            request.method,
            self._url(url),
            headers=self._headers(request, url),
            content=content,
            extensions=self._extensions(limits, progress),
        )
        return _Exchange(request, lane, hreq, limits, progress, self._clock, self._accept_encoding)

    # --- the two shells: only the I/O calls (the logic is _Exchange's) -----------------------
    def send(self, request: Request) -> Response:
        exchange = self._exchange(request, _sync_content(request), _Progress)
        try:
            hresp = self._sync_pool(exchange.lane).handle_request(exchange.hreq)
        except Exception as exc:
            raise exchange.unanswered(exc) from exc
        if exchange.streams(hresp):
            return exchange.streaming(hresp, _SyncStream(hresp, exchange), on_close=hresp.close)
        try:
            data = hresp.read()
        except Exception as exc:
            raise exchange.cut(exc) from exc
        finally:
            hresp.close()
        return exchange.read(hresp, data)

    async def asend(self, request: Request) -> Response:
        exchange = self._exchange(request, _async_content(request), _AsyncProgress)
        try:
            hresp = await self._async_pool(exchange.lane).handle_async_request(exchange.hreq)
        except Exception as exc:
            raise exchange.unanswered(exc) from exc
        if exchange.streams(hresp):
            return exchange.streaming(hresp, _AsyncStream(hresp, exchange), on_aclose=hresp.aclose)
        try:
            data = await hresp.aread()
        except Exception as exc:
            raise exchange.cut(exc) from exc
        finally:
            await hresp.aclose()
        return exchange.read(hresp, data)

    # --- lifecycle --------------------------------------------------------------------------
    def _take(self, pools: dict[Lane, _Pool]) -> list[_Pool]:
        with self._lock:
            taken = list(pools.values())
            pools.clear()
        return taken

    def close(self) -> None:
        """Close the sync pools (async pools need ``aclose()``)."""
        for pool in self._take(self._sync_pools):
            pool.close()
        self._closed = True

    async def aclose(self) -> None:
        """Close every pool."""
        for apool in self._take(self._async_pools):
            await apool.aclose()
        self.close()

    def __repr__(self) -> str:
        lanes = sorted({*self._sync_pools, *self._async_pools})
        return (
            f"HttpcoreTransport(http2={self.http2}, lanes={lanes}, "
            f"max_connections={self._pool_kwargs['max_connections']}, timeout={self._timeout})"
        )


def _sync_content(request: Request) -> bytes | Iterable[bytes] | None:
    body = request.body
    if not isinstance(body, StreamBody):
        return body
    chunks = body.open()
    if not isinstance(chunks, Iterable):
        raise TypeError("an async request body cannot be sent with send(): use asend()")
    return chunks


def _async_content(request: Request) -> bytes | AsyncIterable[bytes] | None:
    body = request.body
    if not isinstance(body, StreamBody):
        return body
    chunks = body.open()
    return _as_async(chunks) if isinstance(chunks, Iterable) else chunks


async def _as_async(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


# --- one request's way through the transport (all but the I/O) ------------------------------


class _Exchange:
    """One attempt of one request: the httpcore request, its limits and send progress, and
    what becomes of httpcore's answer or failure. The shells call it around each I/O step."""

    __slots__ = (
        "accept_encoding",
        "clock",
        "hreq",
        "lane",
        "limits",
        "progress",
        "request",
        "started",
    )

    def __init__(
        self,
        request: Request,
        lane: Lane,
        hreq: httpcore.Request,
        limits: _Limits,
        progress: _Progress | None,
        clock: Clock,
        accept_encoding: bool,
    ) -> None:
        self.request = request
        self.lane: Lane = lane
        self.hreq = hreq
        self.limits = limits
        self.progress = progress
        self.clock = clock
        self.accept_encoding = accept_encoding
        self.started = clock.now()

    def unanswered(self, exc: BaseException) -> SonioxError:
        """The request failed before a status line arrived."""
        sent = None if self.progress is None else self.progress.sent
        return classify_error(exc, self.request, self.limits, sent=sent)

    def cut(self, exc: BaseException) -> SonioxError:
        """The body failed after the status line (the request was processed)."""
        if isinstance(exc, zlib.error):
            return ResponseLostError(
                f"could not decode the compressed body of {self.request.method} "
                f"{self.request.path}: {exc}",
                method=self.request.method,
                url=str(self.request.url),
            )
        return classify_error(exc, self.request, self.limits, answered=True)

    def streams(self, hresp: httpcore.Response) -> bool:
        """Stream the body to the caller only for successes that asked for it."""
        return hresp.status < 400 and self.request.options.stream

    def decoder(self, hresp: httpcore.Response) -> _Decoder | None:
        return _decoder(hresp.headers) if self.accept_encoding else None

    def streaming(
        self,
        hresp: httpcore.Response,
        body: Iterable[bytes] | AsyncIterable[bytes],
        *,
        on_close: Callable[[], None] | None = None,
        on_aclose: Callable[[], Awaitable[None]] | None = None,
    ) -> Response:
        """A response whose ``body`` the caller reads."""
        return Response(
            hresp.status,
            self.request,
            _http_version(hresp),
            self.clock.now() - self.started,
            raw_headers=hresp.headers,
            stream=body,
            on_close=on_close,
            on_aclose=on_aclose,
        )

    def read(self, hresp: httpcore.Response, data: bytes) -> Response:
        """A response whose body was read whole (``data``, content-encoding still applied)."""
        elapsed = self.clock.now() - self.started
        decoder = self.decoder(hresp)
        if decoder is not None:
            try:
                data = decoder.decompress(data) + decoder.flush()
            except zlib.error as exc:
                raise self.cut(exc) from exc
        return Response(
            hresp.status,
            self.request,
            _http_version(hresp),
            elapsed,
            raw_headers=hresp.headers,
            content=data,
            closed=True,
        )


# --- send progress (HTTP/2 lanes) ------------------------------------------------------------


class _Progress:
    """Was the whole request written? Kept by ``_http2_pools``' connections (or, with another
    httpcore, through the ``trace`` extension); reset when the pool re-sends the request."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False

    def __call__(self, name: str, info: Mapping[str, Any]) -> None:
        if name.endswith("send_request_body.complete"):
            self.sent = True
        elif name.endswith("send_request_headers.started"):
            self.sent = False


class _AsyncProgress(_Progress):
    """The async form httpcore requires (the callback must return a coroutine)."""

    __slots__ = ()

    async def __call__(self, name: str, info: Mapping[str, Any]) -> None:  # type: ignore[override]
        _Progress.__call__(self, name, info)


# --- responses -------------------------------------------------------------------------------


def _http_version(hresp: httpcore.Response) -> str:
    extensions = cast("Mapping[str, object]", hresp.extensions)
    version = extensions.get("http_version", b"HTTP/1.1")
    return version.decode("ascii") if isinstance(version, bytes) else str(version)


class _Decoder(Protocol):
    def decompress(self, data: bytes, /) -> bytes: ...

    def flush(self) -> bytes: ...


def _decoder(raw: RawHeaders) -> _Decoder | None:
    for key, value in raw:
        if key.lower() == b"content-encoding":
            coding = value.strip().lower()
            if coding == b"gzip" or coding == b"x-gzip":
                return zlib.decompressobj(16 + zlib.MAX_WBITS)
            if coding == b"deflate":
                return zlib.decompressobj()
            return None
    return None


class _Body:
    """A streaming body's logic: content-decoding each chunk, the decoder's tail at the end, and
    failures mid-body classified (as the request's). The shells below only iterate httpcore's
    stream, sync or async; used as a context manager around that loop, it re-raises failures."""

    __slots__ = ("_decoder", "_exchange", "_hresp")

    def __init__(self, hresp: httpcore.Response, exchange: _Exchange) -> None:
        self._hresp = hresp
        self._exchange = exchange
        self._decoder = exchange.decoder(hresp)

    def _decoded(self, chunk: bytes) -> bytes:
        decoder = self._decoder
        return chunk if decoder is None else decoder.decompress(chunk)

    def _tail(self) -> bytes:
        decoder = self._decoder
        return b"" if decoder is None else decoder.flush()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, Exception) and not isinstance(exc, SonioxError):
            raise self._exchange.cut(exc) from exc


class _SyncStream(_Body):
    """The sync shell of :class:`_Body` (an ``Iterable``, which is how a Response tells)."""

    __slots__ = ()

    def __iter__(self) -> Iterator[bytes]:
        with self:
            for chunk in self._hresp.iter_stream():
                if out := self._decoded(chunk):
                    yield out
            if tail := self._tail():
                yield tail


class _AsyncStream(_Body):
    """The async shell of :class:`_Body` (an ``AsyncIterable``)."""

    __slots__ = ()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with self:
            async for chunk in self._hresp.aiter_stream():
                if out := self._decoded(chunk):
                    yield out
            if tail := self._tail():
                yield tail


# --- failure classification ------------------------------------------------------------------

_TIMEOUT_PHASE: Final[dict[type[BaseException], str]] = {
    httpcore.ConnectTimeout: "connect",
    httpcore.PoolTimeout: "pool",
    httpcore.ReadTimeout: "read",
    httpcore.WriteTimeout: "write",
}


def never_processed(exc: BaseException) -> bool:
    """True when a failure proves the server never acted on the request.

    Connection set-up failures, and three HTTP/2 signals: a GOAWAY that reached us before this
    stream's frames could be sent (h2 refuses to send on a closed connection, so the error
    carries that ProtocolError as context), a GOAWAY whose ``last_stream_id`` is 0 (the server
    processed nothing on the connection), and RST_STREAM with REFUSED_STREAM (RFC 9113 §8.7).
    """
    if isinstance(exc, httpcore.ConnectError | httpcore.ConnectTimeout | httpcore.PoolTimeout):
        return True
    if isinstance(exc, httpcore.UnsupportedProtocol | httpcore.LocalProtocolError):
        return True
    if isinstance(exc, httpcore.RemoteProtocolError) and exc.args:
        event = exc.args[0]
        if isinstance(event, h2.events.ConnectionTerminated):
            if not event.last_stream_id:
                return True
            return isinstance(exc.__context__, h2.exceptions.ProtocolError)
        if isinstance(event, h2.events.StreamReset):
            return event.error_code == h2.errors.ErrorCodes.REFUSED_STREAM
    return False


def classify_error(
    exc: BaseException,
    request: Request,
    limits: _Limits,
    *,
    answered: bool = False,
    sent: bool | None = None,
) -> SonioxError:
    """Map an httpcore/h2 failure to the SDK's errors (see the module table).

    ``answered``: the status line had arrived (the failure is in the body), so the request was
    certainly processed. ``sent``: whether the request's last byte was written (None: unknown,
    as on HTTP/1.1); False means the server never had the whole request.
    """
    if isinstance(exc, SonioxError):
        return exc
    phase = _TIMEOUT_PHASE.get(type(exc))
    if phase is not None:
        return timeout_error(request, phase, limits)
    where = f"{request.method} {request.url.scheme}://{request.url.netloc}{request.path}"
    detail = _describe(exc)
    cls: type[TransportError]
    if not answered and (sent is False or never_processed(exc)):
        cls = RequestNotSentError
        message = f"request not sent ({detail}): {where}"
    else:
        cls = ResponseLostError
        message = (
            f"response lost after the request was sent ({detail}): {where}"
            if not answered
            else f"response body cut short ({detail}): {where}"
        )
    return cls(message, method=request.method, url=str(request.url))


def _describe(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], h2.events.Event):
        event = exc.args[0]
        if isinstance(event, h2.events.ConnectionTerminated):
            return f"HTTP/2 GOAWAY {event.error_code!s}, last_stream_id={event.last_stream_id}"
        if isinstance(event, h2.events.StreamReset):
            return f"HTTP/2 RST_STREAM {event.error_code!s}"
        return f"HTTP/2 {type(event).__name__}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
