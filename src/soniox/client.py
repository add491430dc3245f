"""``SonioxClient`` and ``AsyncSonioxClient``: one core, two thin shells.

Each API operation is written once as a flow (a generator of effects, see
:mod:`soniox.middleware.engine`): build the request, run it through the middleware stack, turn
an error status into the matching :class:`~soniox.errors.SonioxAPIError`, parse the body. The
sync client runs flows with :func:`~soniox.middleware.engine.run_sync`, the async client with
:func:`~soniox.middleware.engine.run_async`; their public methods are signatures with one-line
bodies.

Both take the official SDK's constructor keywords (``api_key``, ``api_base_url``,
``websocket_base_url``, ``tts_api_base_url``, ``tts_websocket_base_url``, ``timeout_sec``,
``webhook_secret``, ``webhook_signature_header`` and httpx-style client options such as
``http2=``, ``verify=``, ``proxy=``, ``limits=``, ``headers=``) as well as ``config=`` (a
:class:`~soniox.config.SonioxConfig` profile), ``transport=`` and ``stack=``. Whatever the
profile, what neither the call nor the config sets comes from the environment
(``SONIOX_API_KEY``, ``SONIOX_API_BASE_URL``, ``SONIOX_WEBSOCKET_URL``).

::

    with SonioxClient() as client:                     # SONIOX_API_KEY from the environment
        models = client.models.list().models
        quick = client.with_options(timeout=5, max_retries=0)
"""

from __future__ import annotations

import asyncio
import logging
import threading
import urllib.parse
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack, cast

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError, error_from_response, redact, register_secret
from soniox.flows.protocol import RequestParts
from soniox.flows.uploads import prepare_upload
from soniox.middleware import Flow, Stack, build_stack, run_async, run_sync
from soniox.middleware.cache import CacheHandle, find_cache
from soniox.middleware.event_hooks import EventHooks
from soniox.middleware.metrics import Metrics, PoolSource, find_metrics
from soniox.realtime.api import AsyncRealtimeAPI, RealtimeAPI
from soniox.resources.auth import AsyncAuth, Auth
from soniox.resources.concurrency_limits import AsyncConcurrencyLimitsAPI, ConcurrencyLimitsAPI
from soniox.resources.files import AsyncFiles, Files
from soniox.resources.models import AsyncModels, AsyncTtsModels, Models, TtsModels
from soniox.resources.stt import AsyncStt, Stt
from soniox.resources.usage import AsyncUsage, Usage
from soniox.resources.usage_logs import AsyncUsageLogs, UsageLogs
from soniox.resources.webhooks import Webhooks
from soniox.transport.base import Transport
from soniox.transport.httpcore_transport import HttpcoreTransport
from soniox.transport.request import (
    DEFAULT_OPTIONS,
    URL,
    Headers,
    HeadersInput,
    Request,
    RequestOptions,
    StreamBody,
    Timeout,
)
from soniox.transport.response import Response
from soniox.types import dumps

__all__ = ["SonioxClient", "AsyncSonioxClient", "HTTP_CLIENT_OPTIONS", "RequestArgs"]


class RequestArgs(TypedDict, total=False):
    """The keywords of ``client.request(method, path, ...)`` (the official SDK's, and ours)."""

    params: Mapping[str, Any] | None
    json: Any
    data: Mapping[str, Any] | None
    """Form fields (URL-encoded, or beside the file of ``files``)."""
    files: Mapping[str, Any] | None
    """One file part: ``{"file": source}`` or ``{"file": (filename, source)}``."""
    content: bytes | StreamBody | None
    headers: HeadersInput | None
    stream: bool


T = TypeVar("T")
_UNSET: Any = object()
_log = logging.getLogger("soniox")
_JSON_HEADERS = Headers((("content-type", "application/json"),))


@attrs.define(eq=False)
class _Core:
    """What every client view shares: config, transport, stack, base URL."""

    config: SonioxConfig
    transport: Transport
    stack: Stack
    base_url: URL
    owns_transport: bool
    webhooks: Webhooks
    prewarm_pending: bool = False
    """``config.prewarm_connections`` is still to be honoured, at the first call."""
    prewarming: object = None
    """The thread or task pre-warming beside the first call."""
    prewarm_lock: threading.Lock = attrs.field(factory=threading.Lock)


HTTP_CLIENT_OPTIONS = (
    "http2",
    "verify",
    "proxy",
    "trust_env",
    "timeout",
    "limits",
    "headers",
    "event_hooks",
)
"""The httpx client keywords (which the official SDK passes through to ``httpx.Client``) that
these clients understand; any other is refused with a ClientValidationError naming it."""


def _resolve_config(
    config: SonioxConfig | None,
    *,
    api_key: str | None,
    base_url: str | None,
    websocket_base_url: str | None,
    tts_api_base_url: str | None,
    tts_websocket_base_url: str | None,
    timeout_sec: float | None,
    webhook_secret: str | None,
    webhook_signature_header: str | None,
    http_options: Mapping[str, Any],
    realtime: Mapping[str, Any] | None = None,
) -> tuple[SonioxConfig, Headers]:
    """The client's config: ``config`` (else the environment's, :meth:`SonioxConfig.from_env`),
    overridden by the constructor's keywords, then completed from the environment; and the
    headers the official ``headers=`` option adds to every request."""
    cfg = config if config is not None else SonioxConfig.from_env()
    changes: dict[str, Any] = {}
    named = {
        "api_key": api_key,
        "base_url": base_url,
        "websocket_url": websocket_base_url,
        "tts_base_url": tts_api_base_url,
        "tts_websocket_url": tts_websocket_base_url,
        "webhook_secret": webhook_secret,
        "webhook_header": webhook_signature_header,
    }
    changes.update({key: value for key, value in named.items() if value is not None})
    changes.update({key: value for key, value in (realtime or {}).items() if value is not None})
    if timeout_sec is not None:
        changes.update(dict.fromkeys(_TIMEOUT_FIELDS, timeout_sec))
    unknown = sorted(set(http_options) - set(HTTP_CLIENT_OPTIONS))
    if unknown:
        raise ClientValidationError(
            f"unsupported client option(s) {unknown}: these clients take {list(HTTP_CLIENT_OPTIONS)} "
            "of httpx's, and config=SonioxConfig(...) / transport= for the rest",
            field=unknown[0],
        )
    headers = Headers.of(http_options.get("headers"))
    for name in ("http2", "verify", "proxy", "trust_env"):
        if name in http_options:
            changes[name] = http_options[name]
    if "timeout" in http_options:
        changes.update(_timeouts(http_options["timeout"]))
    if "limits" in http_options:
        limits = http_options["limits"]
        changes["max_connections"] = getattr(limits, "max_connections", None)
        changes["max_keepalive_connections"] = getattr(limits, "max_keepalive_connections", None)
        changes["keepalive_expiry"] = getattr(limits, "keepalive_expiry", None)
    if changes:
        cfg = cfg.evolve(**changes)
    return cfg.with_environment(), headers


_TIMEOUT_FIELDS = ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout")


def _stack(config: SonioxConfig, stack: Stack | None, event_hooks: Any) -> Stack:
    """The given stack, else the config's; httpx-style ``event_hooks`` run innermost (once per
    attempt, as httpx runs them per request sent)."""
    built = stack if stack is not None else build_stack(config)
    if event_hooks:
        if not isinstance(event_hooks, Mapping):
            raise ClientValidationError(
                "event_hooks must be a dict of 'request' / 'response' lists", field="event_hooks"
            )
        built.append(EventHooks(cast("Mapping[str, Any]", event_hooks)))
    return built


def _pool_source(transport: Transport) -> PoolSource | None:
    """The transport's ``pool_stats`` (connection statistics), if it keeps them."""
    found: object = getattr(transport, "pool_stats", None)
    return cast(PoolSource, found) if callable(found) else None


def _timeouts(value: object) -> dict[str, Any]:
    """httpx's ``timeout=``: one number (or None) for every phase, or an object with
    ``connect`` / ``read`` / ``write`` / ``pool`` (an ``httpx.Timeout``)."""
    if value is None or isinstance(value, int | float):
        return dict.fromkeys(_TIMEOUT_FIELDS, value)
    phases = ("connect", "read", "write", "pool")
    if all(hasattr(value, phase) for phase in phases):
        return {
            field: getattr(value, phase)
            for field, phase in zip(_TIMEOUT_FIELDS, phases, strict=True)
        }
    raise ClientValidationError(
        f"timeout must be seconds, None or an httpx.Timeout, got {type(value).__name__}",
        field="timeout",
    )


class _ClientBase:
    """The shared implementation; subclasses add only how flows are run."""

    def __init__(
        self,
        api_key: str | None = None,
        api_base_url: str | None = None,
        websocket_base_url: str | None = None,
        tts_api_base_url: str | None = None,
        tts_websocket_base_url: str | None = None,
        timeout_sec: float | None = None,
        webhook_secret: str | None = None,
        webhook_signature_header: str | None = None,
        *,
        config: SonioxConfig | None = None,
        base_url: str | None = None,
        transport: Transport | None = None,
        stack: Stack | None = None,
        stt_connection_pool_size: int | None = None,
        stt_idle_max_lifetime_sec: float | None = None,
        stt_idle_refresh_before_sec: float | None = None,
        _core: _Core | None = None,
        _options: RequestOptions = DEFAULT_OPTIONS,
        _deadline_s: float | None = None,
        **http_options: Any,
    ) -> None:
        if _core is None:
            if base_url is not None and api_base_url is not None and base_url != api_base_url:
                raise ClientValidationError(
                    "give base_url= or api_base_url= (the official name), not both",
                    field="api_base_url",
                )
            cfg, headers = _resolve_config(
                config,
                api_key=api_key,
                base_url=base_url if base_url is not None else api_base_url,
                websocket_base_url=websocket_base_url,
                tts_api_base_url=tts_api_base_url,
                tts_websocket_base_url=tts_websocket_base_url,
                timeout_sec=timeout_sec,
                webhook_secret=webhook_secret,
                webhook_signature_header=webhook_signature_header,
                http_options=http_options,
                realtime={
                    "realtime_pool_size": stt_connection_pool_size,
                    "realtime_idle_max_lifetime_sec": stt_idle_max_lifetime_sec,
                    "realtime_idle_refresh_before_sec": stt_idle_refresh_before_sec,
                },
            )
            if cfg.api_key is not None:
                register_secret(cfg.api_key)  # masked everywhere, whatever the stack holds
            if cfg.resolved_api_key is None:
                raise ClientValidationError(
                    "Please provide api_key: pass api_key=..., set SONIOX_API_KEY, or give "
                    "SonioxConfig(api_key_provider=...)",
                    field="api_key",
                )
            if transport is not None and not isinstance(cast(object, transport), Transport):
                raise ClientValidationError(
                    f"transport must be a soniox Transport (HttpcoreTransport, "
                    f"InMemoryTransport, ...), got {type(transport).__name__}",
                    field="transport",
                )
            _core = _Core(
                config=cfg,
                transport=transport
                if transport is not None
                else HttpcoreTransport.from_config(cfg),
                stack=_stack(cfg, stack, http_options.get("event_hooks")),
                base_url=URL.parse(cfg.base_url or ""),
                owns_transport=transport is None,
                webhooks=Webhooks(
                    cfg.webhook_secret,
                    cfg.webhook_header,
                    require_secret=cfg.webhook_require_secret,
                ),
            )
            _deadline_s = cfg.deadline
            _core.prewarm_pending = cfg.prewarm_connections > 0
            pool_stats = _pool_source(_core.transport)
            if pool_stats is not None:
                for middleware in _core.stack:
                    if isinstance(middleware, Metrics):
                        middleware.bind_pool(pool_stats)
            if headers:
                _options = attrs.evolve(_options, extra_headers=headers.items)
        self._core = _core
        self._options = _options
        self._deadline_s = _deadline_s
        self._root = True
        self._bind_namespaces()

    def _bind_namespaces(self) -> None:
        """Create ``files``, ``stt``, ``models`` … for this client kind."""
        raise NotImplementedError

    # --- shared state -----------------------------------------------------------------------
    @property
    def config(self) -> SonioxConfig:
        return self._core.config

    @property
    def stack(self) -> Stack:
        """The middleware stack (editable: insert, remove, move; ``print`` it)."""
        return self._core.stack

    @property
    def transport(self) -> Transport:
        return self._core.transport

    @property
    def cache(self) -> CacheHandle:
        """The stack's response cache — ``stats`` (hits, misses, bytes, entries, evictions …)
        and ``clear()`` — or, without a ``cache`` middleware, a disabled stand-in with the same
        surface (``enabled`` False, zero stats), so this works under any profile."""
        return find_cache(self._core.stack)

    @property
    def metrics(self) -> Metrics:
        """The stack's ``metrics`` middleware — ``snapshot()`` (counts, p50/p95/p99 per route
        and operation, the connection pool), ``reset()`` — or, without one, a disabled
        stand-in with the same surface (``enabled`` False; its snapshot shows only the pool)."""
        return find_metrics(self._core.stack, _pool_source(self._core.transport))

    def _prewarm_args(self, connections: int | None, method: str) -> tuple[Any, int] | None:
        """The transport's pre-warm ``method`` and how many connections to ask it for; None
        when it cannot pre-warm (an in-memory transport, say)."""
        core = self._core
        warm = getattr(core.transport, method, None)
        if not callable(warm):
            return None
        count = connections if connections is not None else core.config.prewarm_connections
        return warm, count or 1

    def _claim_prewarm(self) -> bool:
        """True for the one first call that starts ``config.prewarm_connections``' pre-warm."""
        core = self._core
        with core.prewarm_lock:
            claimed, core.prewarm_pending = core.prewarm_pending, False
        return claimed

    @property
    def options(self) -> RequestOptions:
        """The per-call defaults this view adds to every request."""
        return self._options

    @property
    def webhooks(self) -> Webhooks:
        """Check and parse webhook calls (``verify_signature``, ``unwrap``, ``webhook_payload``)."""
        return self._core.webhooks

    # --- the official SDK's attributes ------------------------------------------------------
    @property
    def api_key(self) -> str:
        """The API key requests carry (from the key provider, when one is configured)."""
        key = self._core.config.resolved_api_key
        return key() if callable(key) else key or ""

    @property
    def api_base_url(self) -> str:
        return str(self._core.base_url)

    @property
    def websocket_base_url(self) -> str:
        return self._core.config.websocket_url or ""

    @property
    def tts_api_base_url(self) -> str:
        return self._core.config.tts_base_url

    @property
    def stt_connection_pool_size(self) -> int:
        """Idle realtime links this client keeps ready (0: none)."""
        return self._core.config.realtime_pool_size

    @property
    def stt_idle_max_lifetime_sec(self) -> float:
        return self._core.config.realtime_idle_max_lifetime_sec

    @property
    def stt_idle_refresh_before_sec(self) -> float:
        return self._core.config.realtime_idle_refresh_before_sec

    @property
    def tts_websocket_base_url(self) -> str:
        return self._core.config.tts_websocket_url

    @property
    def timeout_sec(self) -> float | None:
        """The read timeout (the official SDK has one timeout for every phase)."""
        return self._core.config.read_timeout

    @property
    def webhook_secret(self) -> str | None:
        return self._core.config.webhook_secret

    @property
    def webhook_signature_header(self) -> str | None:
        return self._core.config.webhook_header

    def _derive(self, options: RequestOptions, deadline_s: float | None) -> Self:
        view = type(self)(_core=self._core, _options=options, _deadline_s=deadline_s)
        view._root = False
        return view

    def with_options(
        self,
        *,
        timeout: Timeout | float | None = _UNSET,
        deadline: float | None = _UNSET,
        max_retries: int | None = _UNSET,
        idempotency_key: str | None = _UNSET,
        extra_headers: HeadersInput | None = None,
        operation: str | None = None,
    ) -> Self:
        """A view of this client whose calls carry these options; shares connections and stack.

        ``timeout``: per attempt (a number, or :class:`Timeout` per phase); ``deadline``: total
        seconds for each call, every attempt and wait included; ``max_retries``: 0 disables
        retries; ``idempotency_key``: makes a POST safe to retry; ``extra_headers``: added to
        each request (they win over the defaults).
        """
        current = self._options
        changes: dict[str, Any] = {}
        if timeout is not _UNSET:
            changes["timeout"] = None if timeout is None else Timeout.of(timeout)
        if max_retries is not _UNSET:
            if max_retries is not None and max_retries < 0:
                raise ClientValidationError("max_retries must be >= 0", field="max_retries")
            changes["max_retries"] = max_retries
        if idempotency_key is not _UNSET:
            changes["idempotency_key"] = idempotency_key
        if extra_headers is not None:
            changes["extra_headers"] = (
                Headers(current.extra_headers).merge(Headers.of(extra_headers)).items
            )
        if operation is not None:
            changes["operation"] = operation
        deadline_s = self._deadline_s
        if deadline is not _UNSET:
            if deadline is not None and not deadline > 0:
                raise ClientValidationError("deadline must be > 0 seconds", field="deadline")
            deadline_s = deadline
        options = attrs.evolve(current, **changes) if changes else current
        return self._derive(options, deadline_s)

    # --- requests as flows ------------------------------------------------------------------
    def build_request(self, method: str, path: str, **parts: Unpack[RequestParts]) -> Request:
        """A request for ``path`` (under the base URL) with this view's options; ``json=`` is
        written by the one converter (typed models included)."""
        core = self._core
        options = self._options
        operation = parts.get("operation")
        stream = parts.get("stream", False)
        if operation is not None or stream:
            options = attrs.evolve(
                options, operation=operation or options.operation, stream=stream or options.stream
            )
        if self._deadline_s is not None:
            options = attrs.evolve(options, deadline=core.transport.clock.now() + self._deadline_s)
        headers = parts.get("headers")
        content = parts.get("content")
        json = parts.get("json")
        params = parts.get("params")
        hdrs = Headers.of(headers)
        body: bytes | StreamBody | None = content
        if json is not None:
            if content is not None:
                raise ClientValidationError("pass json= or content=, not both", field="json")
            body = dumps(json)
            hdrs = _JSON_HEADERS.merge(hdrs) if hdrs else _JSON_HEADERS
        return Request(method.upper(), core.base_url.join(path, params), hdrs, body, options)

    def call(self, request: Request) -> Flow[Response]:
        """A flow that runs ``request`` through the stack; an error status becomes an exception.

        Drive it with :meth:`SonioxClient.run` or :meth:`AsyncSonioxClient.arun`.
        """
        response = yield from self._core.stack.handler()(request)
        self.raise_for_status(response)
        return response

    def raise_for_status(self, response: Response) -> None:
        """Raise the typed :class:`~soniox.errors.SonioxAPIError` of an error status (>= 400)."""
        if response.status >= 400:
            raise error_from_response(
                response.status,
                response.headers,
                response.content if response.is_stream_consumed else None,
                now=self._core.transport.clock.wall(),
                response=response,
            )

    def request_flow(self, method: str, path: str, **kwargs: Any) -> Flow[Response]:
        """:meth:`call` of :meth:`build_request`: any API call as a flow."""
        return self.call(self.build_request(method, path, **kwargs))

    def _any_request(self, method: str, path: str, args: RequestArgs) -> Flow[Response]:
        """The flow of :meth:`SonioxClient.request`: the stack's answer, whatever its status."""
        data, files = args.get("data"), args.get("files")
        parts: RequestParts = {
            "params": args.get("params"),
            "json": args.get("json"),
            "content": args.get("content"),
            "headers": args.get("headers"),
            "stream": args.get("stream", False),
        }
        if data is not None or files is not None:
            if parts["content"] is not None or parts["json"] is not None:
                raise ClientValidationError(
                    "give data=/files= or json=/content=, not both", field="data"
                )
            parts["content"], form_type = _form_body(data, files)
            parts["headers"] = Headers.of(parts["headers"]).set("content-type", form_type)
        request = self.build_request(method, path, **parts)
        return self._core.stack.handler()(request)

    def __repr__(self) -> str:
        core = self._core
        return (
            f"{type(self).__name__}(base_url={str(core.base_url)!r}, "
            f"profile={core.config.profile!r}, stack={core.stack!r})"
        )


def _form_body(
    data: Mapping[str, Any] | None, files: Mapping[str, Any] | None
) -> tuple[bytes | StreamBody, str]:
    """httpx's ``data=`` / ``files=``: a URL-encoded form, or a streamed multipart form with
    one file part (``files={"file": source}`` or ``{"file": (filename, source)}``)."""
    fields = {str(key): str(value) for key, value in (data or {}).items()}
    if not files:
        return urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
    if len(files) != 1:
        raise ClientValidationError(
            f"one file part per request is supported, got {len(files)}", field="files"
        )
    ((name, value),) = files.items()
    filename: str | None = None
    if isinstance(value, tuple):
        parts = cast("tuple[Any, ...]", value)
        filename, value = parts[0], parts[1]
    upload = prepare_upload(value, filename=filename, fields=fields, field_name=str(name))
    return upload.body(), upload.content_type


class SonioxClient(_ClientBase):
    """The blocking client. ``SonioxClient()`` reads ``SONIOX_API_KEY``; the official SDK's
    keywords work (``api_key=``, ``api_base_url=``, ``timeout_sec=`` …); pass ``config=`` for a
    profile (``SonioxConfig.cost()``), ``transport=`` / ``stack=`` to replace either."""

    def _bind_namespaces(self) -> None:
        self.models = Models(self)
        self.tts_models = TtsModels(self)
        self.stt = Stt(self)
        self.files = Files(self)
        self.auth = Auth(self)
        self.usage = Usage(self)
        self.usage_logs = UsageLogs(self)
        self.concurrency_limits = ConcurrencyLimitsAPI(self)
        self.realtime = RealtimeAPI(self)

    def run(self, flow: Flow[T]) -> T:
        """Run a flow (e.g. from :meth:`call`) with blocking I/O."""
        core = self._core
        if core.prewarm_pending and self._claim_prewarm():
            core.prewarming = worker = threading.Thread(
                target=self._prewarm_quietly, name="soniox-prewarm", daemon=True
            )
            worker.start()
        return run_sync(flow, core.transport)

    def prewarm(self, connections: int | None = None) -> int:
        """Open connections to the API now — TCP and TLS handshakes done — so the first calls
        do not wait for them; returns how many were opened. ``connections``: default
        ``config.prewarm_connections``, else 1 (HTTP/2 needs one). Connection failures raise
        as a call's would; a transport that cannot pre-warm opens none."""
        self._claim_prewarm()  # done now: the first call need not start it
        found = self._prewarm_args(connections, "prewarm")
        if found is None:
            return 0
        warm, count = found
        opened: int = warm(self._core.base_url, count)
        return opened

    def _prewarm_quietly(self) -> None:
        """``config.prewarm_connections``, beside the first call (in a thread): the calls that
        follow find the connections; a failure is left for the calls to meet (and report)."""
        try:
            self.prewarm()
        except Exception as error:
            _log.debug("pre-warming connections failed: %s", redact(str(error)))

    def request(self, method: str, path: str, **args: Unpack[RequestArgs]) -> Response:
        """Any API call by path (``client.request("GET", "/files", params={"limit": 10})``),
        through the whole middleware stack. As in the official SDK (and httpx) the response is
        returned whatever its status: ``response.raise_for_status()`` raises the typed error.
        ``data=`` / ``files=`` send a form (one file part, streamed)."""
        with self._core.stack.operation("request"):
            return self.run(self._any_request(method, path, args))

    def close(self) -> None:
        """Close connections (only the root client owns them; option views share them) and
        the realtime connection pool, if one was made."""
        if self._root:
            self.realtime.stt.close_connection_pool()
        if self._core.owns_transport and self._root:
            self._core.transport.close()

    def __enter__(self) -> SonioxClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSonioxClient(_ClientBase):
    """The asyncio client: the same operations and keywords, awaited."""

    def _bind_namespaces(self) -> None:
        self.models = AsyncModels(self)
        self.tts_models = AsyncTtsModels(self)
        self.stt = AsyncStt(self)
        self.files = AsyncFiles(self)
        self.auth = AsyncAuth(self)
        self.usage = AsyncUsage(self)
        self.usage_logs = AsyncUsageLogs(self)
        self.concurrency_limits = AsyncConcurrencyLimitsAPI(self)
        self.realtime = AsyncRealtimeAPI(self)

    async def arun(self, flow: Flow[T]) -> T:
        """Run a flow (e.g. from :meth:`call`) with asyncio I/O."""
        core = self._core
        if core.prewarm_pending and self._claim_prewarm():
            core.prewarming = asyncio.ensure_future(self._aprewarm_quietly())
        return await run_async(flow, core.transport)

    async def aprewarm(self, connections: int | None = None) -> int:
        """Open connections to the API now, concurrently (see :meth:`SonioxClient.prewarm`)."""
        self._claim_prewarm()
        found = self._prewarm_args(connections, "aprewarm")
        if found is None:
            return 0
        warm, count = found
        opened: int = await warm(self._core.base_url, count)
        return opened

    async def _aprewarm_quietly(self) -> None:
        try:
            await self.aprewarm()
        except Exception as error:
            _log.debug("pre-warming connections failed: %s", redact(str(error)))

    async def request(self, method: str, path: str, **args: Unpack[RequestArgs]) -> Response:
        """Any API call by path, awaited (see :meth:`SonioxClient.request`)."""
        with self._core.stack.operation("request"):
            return await self.arun(self._any_request(method, path, args))

    async def aclose(self) -> None:
        """Close connections (only the root client owns them) and the realtime pool."""
        if self._root:
            await self.realtime.stt.close_connection_pool()
        if self._core.owns_transport and self._root:
            task = self._core.prewarming
            if isinstance(task, asyncio.Task) and not task.done():
                pending = cast("asyncio.Task[None]", task)
                if pending.get_loop() is asyncio.get_running_loop():  # not a finished run's
                    pending.cancel()
                    await asyncio.wait([pending])
            await self._core.transport.aclose()

    async def __aenter__(self) -> AsyncSonioxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
