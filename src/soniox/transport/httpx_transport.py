"""The network transport: httpx's connection machinery (httpcore pools + httpx's TLS set-up).

Why not ``httpx.Client.send``? Per request it rebuilds URLs, merges cookies and headers, runs
auth and event-hook flows and wraps the response — work this SDK does once (base URL, headers)
or not at all. Going to the httpcore pool directly is what keeps a request through our whole
middleware stack cheaper than one bare ``httpx.Client.get`` (see ``docs/performance.md``).

Lanes. Requests travel in one of three connection pools, created on first use:

- ``h1``  — HTTP/1.1 (every request when ``http2`` is off; any scheme);
- ``h2``  — HTTPS with ALPN offering ``h2`` and ``http/1.1``;
- ``h2c`` — plain-text HTTP/2 with prior knowledge (the emulator, sidecars).

With ``http2`` on, a request whose body is larger than ``http2_max_body`` bytes, or a stream of
unknown length, still rides ``h1``: HTTP/2 uploads are ~9x slower in pure Python (per-frame
flow-control bookkeeping), while small calls gain multiplexing.

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
(``_h2fix.PROGRESS_KEY``; httpcore's ``trace`` extension as a fallback): a server cannot act on a request it never received whole, and
many concurrent streams on a connection closed by GOAWAY fail exactly there. On HTTP/1.1 httpcore
turns a write error into an attempt to read an early answer, so a reset while the request is
being written surfaces as a read failure: classified as possibly processed.
"""

from __future__ import annotations

import os
import ssl
import threading
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Literal, Protocol, TypeAlias, cast

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

from . import _h2fix
from .base import SYSTEM_CLOCK, Clock, attempt_timeout, timeout_error
from .request import URL, Request, StreamBody, Timeout
from .response import RawHeaders, Response

__all__ = ["HttpxTransport", "Lane", "classify_error", "never_processed"]

Lane: TypeAlias = Literal["h1", "h2", "h2c"]
Verify: TypeAlias = "bool | str | ssl.SSLContext"

_ACCEPT_ENCODING: Final = (b"accept-encoding", b"gzip, deflate")
_CHUNKED: Final = (b"transfer-encoding", b"chunked")
_Limits: TypeAlias = tuple[Timeout, Timeout]


class HttpxTransport:
    """Sends requests over pooled HTTP/1.1 and HTTP/2 connections; sync and async.

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
    def from_config(cls, config: Any, *, clock: Clock | None = None) -> HttpxTransport:
        """Build from a :class:`~soniox.config.SonioxConfig` (typed loosely to avoid a cycle)."""
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

    def _sync_pool(self, lane: Lane) -> httpcore.ConnectionPool:
        pool = self._sync_pools.get(lane)
        if pool is None:
            with self._lock:
                pool = self._sync_pools.get(lane)
                if pool is None:
                    self._check_open()
                    cls = _h2fix.ConnectionPool if _h2fix_used(lane) else httpcore.ConnectionPool
                    pool = self._sync_pools[lane] = cls(**self._pool_args(lane))
        return pool

    def _async_pool(self, lane: Lane) -> httpcore.AsyncConnectionPool:
        pool = self._async_pools.get(lane)
        if pool is None:
            with self._lock:
                pool = self._async_pools.get(lane)
                if pool is None:
                    self._check_open()
                    acls = (
                        _h2fix.AsyncConnectionPool
                        if _h2fix_used(lane)
                        else httpcore.AsyncConnectionPool
                    )
                    pool = self._async_pools[lane] = acls(**self._pool_args(lane))
        return pool

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
            key = _h2fix.PROGRESS_KEY if _h2fix.SUPPORTED else "trace"
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

    # --- shared by both shells ---------------------------------------------------------------
    def _prepare(
        self,
        request: Request,
        content: bytes | Iterable[bytes] | AsyncIterable[bytes] | None,
        progress: _Progress | None,
    ) -> tuple[_Limits, httpcore.Request]:
        limits = attempt_timeout(request, self._timeout, self._clock)
        url = request.url
        hreq = httpcore.Request(
            request.method,
            self._url(url),
            headers=self._headers(request, url),
            content=content,
            extensions=self._extensions(limits, progress),
        )
        return limits, hreq

    def _response(
        self,
        request: Request,
        hresp: httpcore.Response,
        started: float,
        *,
        content: bytes | None = None,
        make_stream: Callable[[_Decoder | None], Any] | None = None,
        on_close: Callable[[], Any] | None = None,
        on_aclose: Callable[[], Any] | None = None,
    ) -> Response:
        """A :class:`Response` from httpcore's answer: read (``content``) or streaming."""
        raw_headers = hresp.headers
        decoder = _decoder(raw_headers) if self._accept_encoding else None
        elapsed = self._clock.now() - started
        version = _http_version(hresp)
        if make_stream is not None:
            return Response(
                hresp.status,
                request,
                version,
                elapsed,
                raw_headers=raw_headers,
                stream=make_stream(decoder),
                on_close=on_close,
                on_aclose=on_aclose,
            )
        data = content if content is not None else b""
        if decoder is not None:
            data = _decode_all(decoder, data, request)
        return Response(
            hresp.status,
            request,
            version,
            elapsed,
            raw_headers=raw_headers,
            content=data,
            closed=True,
        )

    @staticmethod
    def _streams(request: Request, hresp: httpcore.Response) -> bool:
        """Stream the body to the caller only for successes that asked for it."""
        return hresp.status < 400 and request.options.stream

    # --- sync shell ---------------------------------------------------------------------------
    def send(self, request: Request) -> Response:
        body = request.body
        content: bytes | Iterable[bytes] | None
        if isinstance(body, StreamBody):
            chunks = body.open()
            if not isinstance(chunks, Iterable):
                raise TypeError("an async request body cannot be sent with send(): use asend()")
            content = chunks
        else:
            content = body
        lane = self.lane(request)
        progress = None if lane == "h1" else _Progress()
        limits, hreq = self._prepare(request, content, progress)
        started = self._clock.now()
        try:
            hresp = self._sync_pool(lane).handle_request(hreq)
        except Exception as exc:
            sent = None if progress is None else progress.sent
            raise classify_error(exc, request, limits, sent=sent) from exc
        if self._streams(request, hresp):
            return self._response(
                request,
                hresp,
                started,
                make_stream=lambda decoder: _SyncStream(hresp, decoder, request, limits),
                on_close=hresp.close,
            )
        try:
            data = hresp.read()
        except Exception as exc:
            raise classify_error(exc, request, limits, answered=True) from exc
        finally:
            hresp.close()
        return self._response(request, hresp, started, content=data)

    # --- async shell --------------------------------------------------------------------------
    async def asend(self, request: Request) -> Response:
        body = request.body
        content: bytes | AsyncIterable[bytes] | None
        if isinstance(body, StreamBody):
            chunks = body.open()
            content = _as_async(chunks) if isinstance(chunks, Iterable) else chunks
        else:
            content = body
        lane = self.lane(request)
        progress = None if lane == "h1" else _AsyncProgress()
        limits, hreq = self._prepare(request, content, progress)
        started = self._clock.now()
        try:
            hresp = await self._async_pool(lane).handle_async_request(hreq)
        except Exception as exc:
            sent = None if progress is None else progress.sent
            raise classify_error(exc, request, limits, sent=sent) from exc
        if self._streams(request, hresp):
            return self._response(
                request,
                hresp,
                started,
                make_stream=lambda decoder: _AsyncStream(hresp, decoder, request, limits),
                on_aclose=hresp.aclose,
            )
        try:
            data = await hresp.aread()
        except Exception as exc:
            raise classify_error(exc, request, limits, answered=True) from exc
        finally:
            await hresp.aclose()
        return self._response(request, hresp, started, content=data)

    # --- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Close the sync pools (async pools need ``aclose()``)."""
        with self._lock:
            pools = list(self._sync_pools.values())
            self._sync_pools.clear()
        for pool in pools:
            pool.close()
        self._closed = True

    async def aclose(self) -> None:
        """Close every pool."""
        with self._lock:
            apools = list(self._async_pools.values())
            self._async_pools.clear()
        for apool in apools:
            await apool.aclose()
        self.close()
        self._closed = True

    def __repr__(self) -> str:
        lanes = sorted({*self._sync_pools, *self._async_pools})
        return (
            f"HttpxTransport(http2={self.http2}, lanes={lanes}, "
            f"max_connections={self._pool_kwargs['max_connections']}, timeout={self._timeout})"
        )


def _h2fix_used(lane: Lane) -> bool:
    """HTTP/2 lanes use pools with httpcore's GOAWAY race fixed (see ``_h2fix``)."""
    return lane != "h1" and _h2fix.SUPPORTED


# --- send progress (HTTP/2 lanes) ------------------------------------------------------------


class _Progress:
    """Was the whole request written? Kept by ``_h2fix``'s connections (or, with another
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


def _decode_all(decoder: _Decoder, data: bytes, request: Request) -> bytes:
    try:
        return decoder.decompress(data) + decoder.flush()
    except zlib.error as exc:
        raise ResponseLostError(
            f"could not decode the compressed body of {request.method} {request.path}: {exc}",
            method=request.method,
            url=str(request.url),
        ) from exc


class _SyncStream:
    """A streaming body: decodes content-encoding and classifies failures mid-body."""

    __slots__ = ("_decoder", "_hresp", "_limits", "_request")

    def __init__(
        self, hresp: httpcore.Response, decoder: _Decoder | None, request: Request, limits: _Limits
    ) -> None:
        self._hresp = hresp
        self._decoder = decoder
        self._request = request
        self._limits = limits

    def __iter__(self) -> Iterator[bytes]:
        decoder = self._decoder
        try:
            for chunk in self._hresp.iter_stream():
                out = decoder.decompress(chunk) if decoder is not None else chunk
                if out:
                    yield out
            if decoder is not None:
                tail = decoder.flush()
                if tail:
                    yield tail
        except zlib.error as exc:
            raise ResponseLostError(f"could not decode the body: {exc}") from exc
        except SonioxError:
            raise
        except Exception as exc:
            raise classify_error(exc, self._request, self._limits, answered=True) from exc


class _AsyncStream:
    """The async twin of :class:`_SyncStream` (iteration protocol only; logic is shared)."""

    __slots__ = ("_decoder", "_hresp", "_limits", "_request")

    def __init__(
        self, hresp: httpcore.Response, decoder: _Decoder | None, request: Request, limits: _Limits
    ) -> None:
        self._hresp = hresp
        self._decoder = decoder
        self._request = request
        self._limits = limits

    async def __aiter__(self) -> AsyncIterator[bytes]:
        decoder = self._decoder
        try:
            async for chunk in self._hresp.aiter_stream():
                out = decoder.decompress(chunk) if decoder is not None else chunk
                if out:
                    yield out
            if decoder is not None:
                tail = decoder.flush()
                if tail:
                    yield tail
        except zlib.error as exc:
            raise ResponseLostError(f"could not decode the body: {exc}") from exc
        except SonioxError:
            raise
        except Exception as exc:
            raise classify_error(exc, self._request, self._limits, answered=True) from exc


async def _as_async(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


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
