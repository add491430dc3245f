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

import asyncio
import os
import select
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, cast

import attrs
import h2.errors
import h2.events
import h2.exceptions
import httpcore

from soniox.errors import (
    SonioxError,
)

from . import _http2_pools, h1, h1_protocol
from . import h2 as h2_lane
from ._exchange import BodyDecoding, Exchange, Lane, lost, not_sent
from .base import SYSTEM_CLOCK, Clock, attempt_timeout, timeout_error
from .request import URL, Request, StreamBody, Timeout
from .response import Response

if TYPE_CHECKING:
    from soniox.config import SonioxConfig

__all__ = [
    "HttpcoreTransport",
    "Lane",
    "LaneStats",
    "PoolStats",
    "classify_error",
    "last_connection",
    "forget_last_connection",
    "never_processed",
]

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
        native_http1: bool = True,
        native_http2: bool = True,
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
        # Connection bookkeeping (pool_stats): the network streams that have carried a request
        # or were pre-warmed, and counters, all under self._lock.
        self._seen: weakref.WeakSet[object] = weakref.WeakSet()
        self._opened = 0
        self._prewarmed = 0
        self._requests_new = 0
        self._requests_reused = 0
        # The native HTTP/1.1 lane (h1.py): used unless a proxy is set (or it is turned off).
        # A user's SSLContext is shared with the HTTP/2 pools, which make it offer h2: then
        # httpcore carries HTTP/1.1 too.
        self._native_h1 = (
            native_http1 and proxy is None and not (http2 and isinstance(verify, ssl.SSLContext))
        )
        self._native_sync: h1.H1Pool | None = None
        self._native_async: h1.AsyncH1Pool | None = None
        self._native_context: ssl.SSLContext | None = None
        # The native HTTP/2 lane (h2.py): the HTTP/2 lanes' requests with a body in memory,
        # unless a proxy or a user's SSLContext is set (or it is turned off).
        self._native_h2 = (
            native_http2 and http2 and proxy is None and not isinstance(verify, ssl.SSLContext)
        )
        self._h2_sync: h2_lane.H2Pool | None = None
        self._h2_async: h2_lane.AsyncH2Pool | None = None
        self._h2_context: ssl.SSLContext | None = None
        self._http1_only: set[h1_protocol.Origin] = set()
        """Origins whose server did not choose ``h2`` by ALPN: HTTP/1.1 carries them."""

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
            native_http1=config.native_http1,
            native_http2=config.native_http2,
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
        url = request.url
        if self._http1_only and h1_protocol.origin_of(url) in self._http1_only:
            return "h1"
        return "h2" if url.scheme == "https" else "h2c"

    def _configured_tls(self) -> ssl.SSLContext | None:
        """A new TLS context for what ``verify``/``cert``/``SSL_CERT_*`` ask beyond the
        defaults; the user's own ``SSLContext``; or None for the defaults."""
        verify = self._verify
        if isinstance(verify, ssl.SSLContext):
            return verify
        env_override = self._trust_env and (
            os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")
        )
        if verify is True and self._cert is None and not env_override:
            return None
        import httpx

        return httpx.create_ssl_context(verify=verify, cert=self._cert, trust_env=self._trust_env)

    def _ssl(self) -> ssl.SSLContext | None:
        # Loading CA certificates costs ~20 ms: only when a pool is made, and for the default
        # settings httpcore does it lazily on the first https connection.
        if not self._ssl_ready:
            self._ssl_context = self._configured_tls()
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

    def _origin(self, url: URL) -> tuple[bytes, bytes, bytes]:
        """``url``'s scheme, host and netloc, encoded once per origin."""
        key = (url.scheme, url.host, url.port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = (
                url.scheme.encode("ascii"),
                url.host.encode("idna"),
                url.netloc.encode("idna"),
            )
        return origin

    def _url(self, url: URL) -> httpcore.URL:
        origin = self._origin(url)
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
        raw = [(b"host", self._origin(url)[2])]
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

    def _attempt(
        self,
        request: Request,
        content: bytes | Iterable[bytes] | AsyncIterable[bytes] | None,
        progress_type: type[_Progress],
    ) -> _Attempt:
        """Start one attempt through httpcore: its lane, limits, send progress and request."""
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
        exchange = Exchange(request, lane, limits, self._clock, self._accept_encoding)
        return _Attempt(exchange, hreq, progress)

    def _native(self, request: Request) -> tuple[Exchange, bytes, bool] | None:
        """The attempt, request head and chunked flag when the native HTTP/1.1 lane carries
        ``request``; None when httpcore does (HTTP/2 lanes, a proxy, HEAD, no httptools)."""
        if not self._native_h1 or request.method == "HEAD" or self.lane(request) != "h1":
            return None
        limits = attempt_timeout(request, self._timeout, self._clock)
        url = request.url
        raw = self._headers(request, url)
        chunked = (
            request.body_length is None
            and request.body is not None
            and any(k == b"transfer-encoding" and b"chunked" in v.lower() for k, v in raw)
        )
        exchange = Exchange(request, "h1", limits, self._clock, self._accept_encoding)
        return exchange, h1_protocol.request_head(request.method, url.target, raw), chunked

    def _native2(self, request: Request) -> tuple[Exchange, h2_lane.H2Request] | None:
        """The attempt and stream when the native HTTP/2 lane carries ``request``; None when
        another does (HTTP/1.1, a proxy, a user's SSLContext, a body not in memory)."""
        if not self._native_h2:
            return None
        lane = self.lane(request)
        body = request.body
        if lane == "h1" or not (body is None or isinstance(body, bytes)):
            return None
        limits = attempt_timeout(request, self._timeout, self._clock)
        url = request.url
        fields = self._headers(request, url)
        exchange = Exchange(request, lane, limits, self._clock, self._accept_encoding)
        return exchange, h2_lane.request_of(exchange, self._origin(url)[2], fields, body)

    def _refused_h2(self, request: Request) -> None:
        """The server did not choose ``h2`` by ALPN: its origin rides HTTP/1.1 from now on."""
        with self._lock:
            self._http1_only.add(h1_protocol.origin_of(request.url))

    # --- the two shells: only the I/O calls (the logic is Exchange's and _Attempt's) ----------
    def send(self, request: Request) -> Response:
        native2 = self._native2(request)
        if native2 is not None:
            try:
                return self._h2_sync_pool().send(*native2)
            except h2_lane.NotH2:
                self._refused_h2(request)
        native = self._native(request)
        if native is not None:
            exchange, head, chunked = native
            return self._h1_sync().send(exchange, head, _sync_content(request), chunked)
        attempt = self._attempt(request, _sync_content(request), _Progress)
        try:
            hresp = self._sync_pool(attempt.lane).handle_request(attempt.hreq)
        except Exception as exc:
            raise attempt.unanswered(exc) from exc
        self._note_connection(hresp)
        if attempt.streams(hresp):
            body = attempt.body(hresp).sync(hresp.iter_stream())
            return attempt.streaming(hresp, body, on_close=hresp.close)
        try:
            data = hresp.read()
        except Exception as exc:
            raise attempt.cut(exc) from exc
        finally:
            hresp.close()
        return attempt.read(hresp, data)

    async def asend(self, request: Request) -> Response:
        native2 = self._native2(request)
        if native2 is not None:
            try:
                return await self._h2_async_pool().send(*native2)
            except h2_lane.NotH2:
                self._refused_h2(request)
        native = self._native(request)
        if native is not None:
            exchange, head, chunked = native
            return await self._h1_async().send(exchange, head, _async_content(request), chunked)
        attempt = self._attempt(request, _async_content(request), _AsyncProgress)
        try:
            hresp = await self._async_pool(attempt.lane).handle_async_request(attempt.hreq)
        except Exception as exc:
            raise attempt.unanswered(exc) from exc
        self._note_connection(hresp)
        if attempt.streams(hresp):
            body = attempt.body(hresp).asynchronous(hresp.aiter_stream())
            return attempt.streaming(hresp, body, on_aclose=hresp.aclose)
        try:
            data = await hresp.aread()
        except Exception as exc:
            raise attempt.cut(exc) from exc
        finally:
            await hresp.aclose()
        return attempt.read(hresp, data)

    # --- the native HTTP/1.1 lane ---------------------------------------------------------------
    def _h1_sync(self) -> h1.H1Pool:
        pool = self._native_sync
        if pool is None:
            with self._lock:
                self._check_open()
                if self._native_sync is None:
                    self._native_sync = h1.H1Pool(*self._native_parts())
                pool = self._native_sync
        return pool

    def _h1_async(self) -> h1.AsyncH1Pool:
        pool = self._native_async
        if pool is None:
            with self._lock:
                self._check_open()
                if self._native_async is None:
                    self._native_async = h1.AsyncH1Pool(*self._native_parts())
                pool = self._native_async
        return pool

    # --- the native HTTP/2 lane ---------------------------------------------------------------
    def _h2_sync_pool(self) -> h2_lane.H2Pool:
        pool = self._h2_sync
        if pool is None:
            with self._lock:
                self._check_open()
                if self._h2_sync is None:
                    self._h2_sync = h2_lane.H2Pool(*self._h2_parts())
                pool = self._h2_sync
        return pool

    def _h2_async_pool(self) -> h2_lane.AsyncH2Pool:
        pool = self._h2_async
        if pool is None:
            with self._lock:
                self._check_open()
                if self._h2_async is None:
                    self._h2_async = h2_lane.AsyncH2Pool(*self._h2_parts())
                pool = self._h2_async
        return pool

    def _h2_parts(
        self,
    ) -> tuple[Callable[[], ssl.SSLContext], Callable[[bool], None], int | None, float | None]:
        kw = self._pool_kwargs
        return self._h2_tls, self._note_native, kw["max_connections"], kw["keepalive_expiry"]

    def _h2_tls(self) -> ssl.SSLContext:
        """The native HTTP/2 lane's TLS context, its own, offering ``h2`` then ``http/1.1`` by
        ALPN (a server that picks HTTP/1.1 is remembered and gets the HTTP/1.1 lane)."""
        with self._lock:
            context = self._h2_context
            if context is None:
                context = self._configured_tls() or _default_tls()
                context.set_alpn_protocols(["h2", "http/1.1"])
                self._h2_context = context
            return context

    def _native_parts(
        self,
    ) -> tuple[h1_protocol.PoolBook[Any], Callable[[], ssl.SSLContext], Callable[[bool], None]]:
        """What either native pool is made of: its book, TLS context source, statistics hook."""
        return self._native_book(), self._native_tls, self._note_native

    def _native_book(self) -> h1_protocol.PoolBook[Any]:
        kw = self._pool_kwargs
        return h1_protocol.PoolBook(
            kw["max_connections"], kw["max_keepalive_connections"], kw["keepalive_expiry"]
        )

    def _native_tls(self) -> ssl.SSLContext:
        """The native lane's TLS context, its own (so that offering only ``http/1.1`` by ALPN
        never changes the context httpcore's HTTP/2 pools offer ``h2`` with): the settings of
        ``verify``/``cert``/``SSL_CERT_*``, or httpcore's defaults (the system's with certifi's
        CA bundle). A user's ``SSLContext`` cannot be copied: it is told to offer only
        ``http/1.1`` right before each connection, as httpcore does with it before each of its
        own (the lane then checks what the server chose); with ``http2`` on, the native lane
        steps aside (see ``__init__``)."""
        verify = self._verify
        if isinstance(verify, ssl.SSLContext):
            verify.set_alpn_protocols(["http/1.1"])
            return verify
        with self._lock:
            context = self._native_context
            if context is None:
                # a context of its own, not _ssl()'s
                context = self._configured_tls() or _default_tls()
                context.set_alpn_protocols(["http/1.1"])
                self._native_context = context
            return context

    def _note_native(self, new: bool) -> None:
        with self._lock:
            if new:
                self._requests_new += 1
            else:
                self._requests_reused += 1
        _LAST_CONNECTION.set("new" if new else "reused")

    # --- connections: reuse, statistics, pre-warming ------------------------------------------
    def _note_connection(self, hresp: httpcore.Response) -> None:
        """Count the request as the first on its connection or a reuse, and say which to
        :func:`last_connection` (the connection is told by its network stream)."""
        stream = cast("Mapping[str, object]", hresp.extensions).get("network_stream")
        state: str | None = None
        if stream is not None:
            with self._lock:
                try:
                    if stream in self._seen:
                        self._requests_reused += 1
                        state = "reused"
                    else:
                        self._seen.add(stream)
                        self._opened += 1
                        self._requests_new += 1
                        state = "new"
                except TypeError:  # a stream that cannot be weakly referenced: not counted
                    pass
        _LAST_CONNECTION.set(state)

    def pool_stats(self) -> PoolStats:
        """Connections now (open and idle, per lane, sync and async pools together) and since
        the start (opened, pre-warmed; requests that opened their connection vs reused one)."""
        with self._lock:
            pools: list[tuple[Lane, Any]] = [*self._sync_pools.items(), *self._async_pools.items()]
            counters = (self._opened, self._prewarmed, self._requests_new, self._requests_reused)
        lanes: dict[str, LaneStats] = {}
        for lane, pool in pools:
            connections = pool.connections
            open_ = sum(1 for c in connections if not c.is_closed())
            idle = sum(1 for c in connections if c.is_idle())
            seen = lanes.get(lane)
            if seen is not None:
                open_, idle = open_ + seen.open, idle + seen.idle
            lanes[lane] = LaneStats(open=open_, idle=idle)
        opened = counters[0]
        for native2 in (self._h2_sync, self._h2_async):
            if native2 is not None:
                opened += native2.opened
                for lane, (open_, idle) in native2.stats().items():
                    seen = lanes.get(lane)
                    if seen is not None:
                        open_, idle = open_ + seen.open, idle + seen.idle
                    lanes[lane] = LaneStats(open=open_, idle=idle)
        for native in (self._native_sync, self._native_async):
            if native is not None:
                open_, idle = native.stats()
                opened += native.opened
                seen = lanes.get("h1")
                if seen is not None:
                    open_, idle = open_ + seen.open, idle + seen.idle
                lanes["h1"] = LaneStats(open=open_, idle=idle)
        return PoolStats(lanes, opened, *counters[1:])

    def prewarm_lane(self, url: URL) -> Lane:
        """The lane small requests to ``url`` ride, which :meth:`prewarm` fills."""
        if not self.http2 or (self._http1_only and h1_protocol.origin_of(url) in self._http1_only):
            return "h1"
        return "h2" if url.scheme == "https" else "h2c"

    def _prewarm_plan(self, url: URL | str, connections: int, pools: Any) -> _Prewarm | None:
        """What :meth:`prewarm` opens: in which pool, with which request, how many — or None
        when it cannot (a proxy; an httpcore other than the 1.0 series, whose internals the
        hand-over of a ready connection relies on)."""
        if connections < 0:
            raise ValueError(f"connections must be >= 0, got {connections!r}")
        target = URL.parse(url) if isinstance(url, str) else url
        if self._proxy is not None or not _http2_pools.SUPPORTED or connections == 0:
            return None
        lane = self.prewarm_lane(target)
        pool = pools(lane)
        root = URL(target.scheme, target.host, target.port)
        hreq = httpcore.Request(
            "GET", self._url(root), extensions={"timeout": self._timeout.as_dict()}
        )
        origin = hreq.url.origin
        limits = [
            v
            for v in (
                self._pool_kwargs["max_connections"],
                self._pool_kwargs["max_keepalive_connections"],
            )
            if v is not None
        ]
        wanted = min([connections if lane == "h1" else 1, *limits])
        ready = [c for c in pool.connections if c.can_handle_request(origin) and not c.is_closed()]
        count = wanted - len(ready)
        if count <= 0:
            return None
        return _Prewarm(pool, hreq, Request("GET", root), count)

    def prewarm(self, url: URL | str, connections: int = 1) -> int:
        """Open connections to ``url``'s origin now — TCP, the TLS handshake and ALPN included
        — so that the first requests find them ready in the pool, idle (they then count as
        reused); opened in parallel threads. Returns how many were opened.

        ``connections`` counts what the pool should hold for that origin (those already open
        count), capped at ``max_keepalive_connections``; on an HTTP/2 lane one connection
        carries every request, so one is opened. Like any idle connection, one left unused
        past ``keepalive_expiry`` is closed. A failure to connect raises as a request would
        (``RequestNotSentError``, ``ConnectTimeoutError``) once the others are done."""
        target = URL.parse(url) if isinstance(url, str) else url
        if self._native_h1 and self.prewarm_lane(target) == "h1":
            return self._native_prewarm(target, connections)
        if self._native_h2 and self.prewarm_lane(target) != "h1":
            origin, exchange, wanted = self._native_plan(target, connections)
            opened = self._h2_sync_pool().prewarm(origin, exchange) if wanted else 0
            return self._native_count([None] * opened)
        plan = self._prewarm_plan(url, connections, self._sync_pool)
        if plan is None:
            return 0
        if plan.count == 1:
            outcomes = [self._open_catching(plan)]
        else:
            with ThreadPoolExecutor(plan.count, thread_name_prefix="soniox-prewarm") as workers:
                pending = [workers.submit(self._open_catching, plan) for _ in range(plan.count)]
                outcomes = [future.result() for future in pending]
        return self._prewarmed_count(plan, outcomes)

    async def aprewarm(self, url: URL | str, connections: int = 1) -> int:
        """:meth:`prewarm` for the async pools (the connections are opened concurrently)."""
        target = URL.parse(url) if isinstance(url, str) else url
        if self._native_h1 and self.prewarm_lane(target) == "h1":
            return await self._native_aprewarm(target, connections)
        if self._native_h2 and self.prewarm_lane(target) != "h1":
            origin, exchange, wanted = self._native_plan(target, connections)
            opened = await self._h2_async_pool().prewarm(origin, exchange) if wanted else 0
            return self._native_count([None] * opened)
        plan = self._prewarm_plan(url, connections, self._async_pool)
        if plan is None:
            return 0
        outcomes = await asyncio.gather(*(self._aopen_catching(plan) for _ in range(plan.count)))
        return self._prewarmed_count(plan, outcomes)

    def _native_plan(self, url: URL, connections: int) -> tuple[h1_protocol.Origin, Exchange, int]:
        if connections < 0:
            raise ValueError(f"connections must be >= 0, got {connections!r}")
        limit = self._pool_kwargs["max_keepalive_connections"]
        wanted = connections if limit is None else min(connections, limit)
        root = Request("GET", URL(url.scheme, url.host, url.port))
        limits = (self._timeout, self._timeout)
        return h1_protocol.origin_of(url), Exchange(root, "h1", limits, self._clock, False), wanted

    def _native_prewarm(self, url: URL, connections: int) -> int:
        origin, exchange, wanted = self._native_plan(url, connections)
        pool = self._h1_sync()
        slots = pool.reserve(origin, wanted)
        if slots == 0:
            return 0
        if slots == 1:
            outcomes: list[BaseException | None] = [_catching(pool.park, origin, exchange)]
        else:
            with ThreadPoolExecutor(slots, thread_name_prefix="soniox-prewarm") as workers:
                futures = [
                    workers.submit(_catching, pool.park, origin, exchange) for _ in range(slots)
                ]
                outcomes = [future.result() for future in futures]
        return self._native_count(outcomes)

    async def _native_aprewarm(self, url: URL, connections: int) -> int:
        origin, exchange, wanted = self._native_plan(url, connections)
        pool = self._h1_async()
        slots = pool.reserve(origin, wanted)
        outcomes = await asyncio.gather(
            *(pool.park(origin, exchange) for _ in range(slots)), return_exceptions=True
        )
        return self._native_count(outcomes)

    def _native_count(self, outcomes: list[BaseException | None]) -> int:
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        with self._lock:
            self._prewarmed += len(outcomes)
        return len(outcomes)

    def _open_catching(self, plan: _Prewarm) -> bool | BaseException:
        connection: Any = plan.pool.create_connection(plan.hreq.url.origin)
        started = time.monotonic()
        try:
            stream: Any = connection._connect(plan.hreq)
        except Exception as exc:
            return exc
        ready: Any = _ready_connection(connection, stream, sync=True)
        settle = _settle_time(ready, stream, time.monotonic() - started)
        if settle and not _settle(stream, settle):
            stream.close()
            return False
        connection._connection = ready
        if self._adopt(plan, connection, stream):
            return True
        stream.close()
        return False

    async def _aopen_catching(self, plan: _Prewarm) -> bool | BaseException:
        connection: Any = plan.pool.create_connection(plan.hreq.url.origin)
        started = time.monotonic()
        try:
            stream: Any = await connection._connect(plan.hreq)
        except Exception as exc:
            return exc
        ready: Any = _ready_connection(connection, stream, sync=False)
        settle = _settle_time(ready, stream, time.monotonic() - started)
        if settle and not await _asettle(stream, settle):
            await stream.aclose()
            return False
        connection._connection = ready
        if self._adopt(plan, connection, stream):
            return True
        await stream.aclose()
        return False

    def _adopt(self, plan: _Prewarm, connection: Any, stream: object) -> bool:
        """Hand a ready connection to its pool, as the pool does with one it made itself
        (under its lock, within ``max_connections``), unless the transport was closed
        meanwhile (a pre-warm running beside the first call); count it."""
        pool: Any = plan.pool
        with self._lock:
            current = (*self._sync_pools.values(), *self._async_pools.values())
            if self._closed or not any(p is pool for p in current):
                return False
            with pool._optional_thread_lock:
                if len(pool._connections) >= pool._max_connections:
                    return False
                pool._connections.append(connection)
            self._seen.add(stream)
            self._opened += 1
            self._prewarmed += 1
        return True

    def _prewarmed_count(self, plan: _Prewarm, outcomes: list[bool | BaseException]) -> int:
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                limits = (self._timeout, self._timeout)
                raise classify_error(outcome, plan.request, limits) from outcome
        return sum(1 for outcome in outcomes if outcome is True)

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
        with self._lock:
            native, self._native_sync = self._native_sync, None
            native2, self._h2_sync = self._h2_sync, None
        if native is not None:
            native.close()
        if native2 is not None:
            native2.close()
        self._closed = True

    async def aclose(self) -> None:
        """Close every pool."""
        for apool in self._take(self._async_pools):
            await apool.aclose()
        with self._lock:
            native, self._native_async = self._native_async, None
            native2, self._h2_async = self._h2_async, None
        if native is not None:
            await native.aclose()
        if native2 is not None:
            await native2.aclose()
        self.close()

    def __repr__(self) -> str:
        lanes = sorted({*self._sync_pools, *self._async_pools})
        return (
            f"HttpcoreTransport(http2={self.http2}, lanes={lanes}, "
            f"max_connections={self._pool_kwargs['max_connections']}, timeout={self._timeout})"
        )


# --- connection statistics and pre-warming ----------------------------------------------------

_LAST_CONNECTION: ContextVar[str | None] = ContextVar("soniox_last_connection", default=None)


def last_connection() -> str | None:
    """Whether the last attempt this thread or task sent through an :class:`HttpcoreTransport`
    rode a ``"new"`` connection or a ``"reused"`` one (a pre-warmed connection counts as
    reused); None when not known (another transport, or no connection answered). Context-local,
    so concurrent requests never see each other's: the metrics middleware reads it right after
    each attempt, having called :func:`forget_last_connection` before it."""
    return _LAST_CONNECTION.get()


def forget_last_connection() -> None:
    """Clear :func:`last_connection` (before an attempt, so a stale answer is never read)."""
    _LAST_CONNECTION.set(None)


@attrs.frozen
class LaneStats:
    """One lane's connections now: ``open`` (in its pools) and, of those, ``idle``."""

    open: int
    idle: int


@attrs.frozen
class PoolStats:
    """What :meth:`HttpcoreTransport.pool_stats` reports: connections per lane now, and since
    the transport was made how many connections were ``opened`` (``prewarmed`` among them) and
    how many requests were the first on their connection (``requests_new``: they paid the
    connection set-up) or rode one already open (``requests_reused``)."""

    lanes: dict[str, LaneStats] = attrs.field(hash=False)
    opened: int = 0
    prewarmed: int = 0
    requests_new: int = 0
    requests_reused: int = 0

    @property
    def open(self) -> int:
        """Open connections, every lane."""
        return sum(lane.open for lane in self.lanes.values())

    @property
    def idle(self) -> int:
        """Idle connections, every lane."""
        return sum(lane.idle for lane in self.lanes.values())


@attrs.frozen
class _Prewarm:
    """One :meth:`HttpcoreTransport.prewarm`: the pool, a request naming the origin (and the
    connect timeout), the SDK request its failures are reported against, how many to open."""

    pool: Any
    hreq: httpcore.Request
    request: Request
    count: int


def _ready_connection(connection: Any, stream: Any, *, sync: bool) -> Any:
    """The protocol connection httpcore would build on ``stream`` (HTTP/2 by ALPN or prior
    knowledge, else HTTP/1.1), ready for a first request; an HTTP/1.1 one starts idle, as a
    kept-alive connection does, so the pool hands it out."""
    ssl_object = stream.get_extra_info("ssl_object")
    negotiated = ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2"
    origin, expiry = connection._origin, connection._keepalive_expiry
    if negotiated or (connection._http2 and not connection._http1):
        h2_class: Any = (
            _http2_pools._HTTP2Connection  # pyright: ignore[reportPrivateUsage]
            if sync
            else _http2_pools._AsyncHTTP2Connection  # pyright: ignore[reportPrivateUsage]
        )
        return h2_class(origin=origin, stream=stream, keepalive_expiry=expiry)
    h11_class: Any = httpcore.HTTP11Connection if sync else httpcore.AsyncHTTP11Connection
    h11 = h11_class(origin=origin, stream=stream, keepalive_expiry=expiry)
    h11._state = type(h11._state).IDLE
    h11._expire_at = None if expiry is None else time.monotonic() + expiry
    return h11


def _settle_time(ready: Any, stream: Any, handshake: float) -> float:
    """How long a pre-warmed connection may listen for the server's TLS session tickets after
    its handshake (0: it need not).

    A TLS 1.3 server sends its session tickets just after the handshake. On a connection that
    then sits idle they stay unread, and httpcore takes an idle HTTP/1.1 connection whose socket
    is readable for one the server closed: it would drop every pre-warmed connection unused.
    So such a connection listens for about one more handshake's time (at least 10 ms, at most
    250 ms) and reads what arrives before joining the pool; a ticket later still makes httpcore
    drop it at first use, and the request opens a connection as it would have. HTTP/2
    connections read tickets with their first frames; TLS 1.2 sends none after the handshake,
    and plain text has none."""
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None or ssl_object.version() != "TLSv1.3":
        return 0.0
    if not isinstance(ready, httpcore.HTTP11Connection | httpcore.AsyncHTTP11Connection):
        return 0.0
    return min(0.25, max(0.01, 1.5 * handshake))


_TICKET_READ: Final = 0.001
"""The read timeout that takes in what has arrived (tickets) and gives up on more."""


def _settle(stream: Any, wait: float) -> bool:
    """Read the session tickets once they arrive (within ``wait`` seconds); False when the
    connection is not worth keeping (application data, or the server hung up)."""
    sock = stream.get_extra_info("socket")
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return True
        if not _quiet(lambda: stream.read(65536, timeout=_TICKET_READ)):
            return False
    return True


async def _asettle(stream: Any, wait: float) -> bool:
    """:func:`_settle` of an async connection (readability is polled every millisecond)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        readable = stream.get_extra_info("is_readable")
        if readable and not await _aquiet(stream.read(65536, timeout=_TICKET_READ)):
            return False
        await asyncio.sleep(0.001)
    return True


def _quiet(read: Callable[[], bytes]) -> bool:
    """Whether ``read()`` (of a pre-warmed connection) only timed out: no application data, no
    end of stream — the connection is good to keep."""
    try:
        read()
    except httpcore.ReadTimeout:
        return True
    except Exception:
        return False
    return False


async def _aquiet(read: Awaitable[bytes]) -> bool:
    """:func:`_quiet` of an awaited read."""
    try:
        await read
    except httpcore.ReadTimeout:
        return True
    except Exception:
        return False
    return False


def _catching(
    park: Callable[[h1_protocol.Origin, Exchange], None],
    origin: h1_protocol.Origin,
    exchange: Exchange,
) -> BaseException | None:
    try:
        park(origin, exchange)
    except BaseException as exc:
        return exc
    return None


def _default_tls() -> ssl.SSLContext:
    """The system's TLS defaults with certifi's CA bundle (what httpcore uses by default)."""
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


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


# --- one request's way through httpcore (all but the I/O) -----------------------------------


class _Attempt:
    """One attempt through httpcore: the protocol-neutral :class:`Exchange`, the httpcore
    request and the send progress, and what becomes of httpcore's failures."""

    __slots__ = ("exchange", "hreq", "progress")

    def __init__(
        self, exchange: Exchange, hreq: httpcore.Request, progress: _Progress | None
    ) -> None:
        self.exchange = exchange
        self.hreq = hreq
        self.progress = progress

    @property
    def lane(self) -> Lane:
        return self.exchange.lane

    def unanswered(self, exc: BaseException) -> SonioxError:
        """The request failed before a status line arrived."""
        sent = None if self.progress is None else self.progress.sent
        exchange = self.exchange
        return classify_error(exc, exchange.request, exchange.limits, sent=sent)

    def cut(self, exc: BaseException) -> SonioxError:
        """The body failed after the status line (the request was processed)."""
        if isinstance(exc, zlib.error):
            return self.exchange.undecodable(exc)
        exchange = self.exchange
        return classify_error(exc, exchange.request, exchange.limits, answered=True)

    def streams(self, hresp: httpcore.Response) -> bool:
        return self.exchange.streams(hresp.status)

    def streaming(
        self,
        hresp: httpcore.Response,
        body: Iterable[bytes] | AsyncIterable[bytes],
        *,
        on_close: Callable[[], None] | None = None,
        on_aclose: Callable[[], Awaitable[None]] | None = None,
    ) -> Response:
        return self.exchange.streaming(
            hresp.status,
            hresp.headers,
            _http_version(hresp),
            body,
            on_close=on_close,
            on_aclose=on_aclose,
        )

    def read(self, hresp: httpcore.Response, data: bytes) -> Response:
        return self.exchange.read(hresp.status, hresp.headers, _http_version(hresp), data)

    def body(self, hresp: httpcore.Response) -> BodyDecoding:
        return BodyDecoding(self.exchange, hresp.headers, self.cut)


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
    detail = _describe(exc)
    if not answered and (sent is False or never_processed(exc)):
        return not_sent(request, detail)
    return lost(request, detail, answered=answered)


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
