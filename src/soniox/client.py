"""``SonioxClient`` and ``AsyncSonioxClient``: one core, two thin shells.

Each API operation is written once as a flow (a generator of effects, see
:mod:`soniox.middleware.engine`): build the request, run it through the middleware stack, turn
an error status into the matching :class:`~soniox.errors.SonioxAPIError`, parse the body. The
sync client runs flows with :func:`~soniox.middleware.engine.run_sync`, the async client with
:func:`~soniox.middleware.engine.run_async`; their public methods are signatures with one-line
bodies.

::

    with SonioxClient() as client:                     # SONIOX_API_KEY from the environment
        models = client.models.list()
        quick = client.with_options(timeout=5, max_retries=0)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError, error_from_response
from soniox.middleware import Flow, Stack, build_stack, run_async, run_sync
from soniox.resources.auth import AsyncAuth, Auth
from soniox.resources.concurrency_limits import AsyncConcurrencyLimitsAPI, ConcurrencyLimitsAPI
from soniox.resources.files import AsyncFiles, Files
from soniox.resources.stt import AsyncStt, Stt
from soniox.resources.usage import AsyncUsage, Usage
from soniox.resources.usage_logs import AsyncUsageLogs, UsageLogs
from soniox.resources.webhooks import Webhooks
from soniox.transport.base import Transport
from soniox.transport.httpx_transport import HttpxTransport
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
from soniox.types import GetModelsResponse, GetTTSModelsResponse, Model, TTSModel, dumps, loads

__all__ = [
    "SonioxClient",
    "AsyncSonioxClient",
    "Models",
    "AsyncModels",
    "TtsModels",
    "AsyncTtsModels",
]

T = TypeVar("T")
_UNSET: Any = object()
_JSON_HEADERS = Headers((("content-type", "application/json"),))


@attrs.define(eq=False)
class _Core:
    """What every client view shares: config, transport, stack, base URL."""

    config: SonioxConfig
    transport: Transport
    stack: Stack
    base_url: URL
    owns_transport: bool


class _ClientBase:
    """The shared implementation; subclasses add only how flows are run."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        config: SonioxConfig | None = None,
        base_url: str | None = None,
        transport: Transport | None = None,
        stack: Stack | None = None,
        _core: _Core | None = None,
        _options: RequestOptions = DEFAULT_OPTIONS,
        _deadline_s: float | None = None,
    ) -> None:
        if _core is None:
            cfg = config if config is not None else SonioxConfig.from_env()
            changes: dict[str, Any] = {}
            if api_key is not None:
                changes["api_key"] = api_key
            if base_url is not None:
                changes["base_url"] = base_url
            if changes:
                cfg = cfg.evolve(**changes)
            if cfg.resolved_api_key is None:
                raise ClientValidationError(
                    "no Soniox API key: pass api_key=..., set SONIOX_API_KEY, or give "
                    "SonioxConfig(api_key_provider=...)",
                    field="api_key",
                )
            _core = _Core(
                config=cfg,
                transport=transport if transport is not None else HttpxTransport.from_config(cfg),
                stack=stack if stack is not None else build_stack(cfg),
                base_url=URL.parse(cfg.base_url),
                owns_transport=transport is None,
            )
            _deadline_s = cfg.deadline
        self._core = _core
        self._options = _options
        self._deadline_s = _deadline_s
        self._root = True

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
    def options(self) -> RequestOptions:
        """The per-call defaults this view adds to every request."""
        return self._options

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
    def build_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | StreamBody | None = None,
        headers: HeadersInput | None = None,
        operation: str | None = None,
        stream: bool = False,
    ) -> Request:
        core = self._core
        options = self._options
        if operation is not None or stream:
            options = attrs.evolve(
                options, operation=operation or options.operation, stream=stream or options.stream
            )
        if self._deadline_s is not None:
            options = attrs.evolve(options, deadline=core.transport.clock.now() + self._deadline_s)
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
            )

    def request_flow(self, method: str, path: str, **kwargs: Any) -> Flow[Response]:
        """:meth:`call` of :meth:`build_request`: any API call as a flow."""
        return self.call(self.build_request(method, path, **kwargs))

    def __repr__(self) -> str:
        core = self._core
        return (
            f"{type(self).__name__}(base_url={str(core.base_url)!r}, "
            f"profile={core.config.profile!r}, stack={core.stack!r})"
        )


def _list_tts_models(client: _ClientBase) -> Flow[list[TTSModel]]:
    """``GET /tts-models`` parsed into typed models."""
    response = yield from client.call(
        client.build_request("GET", "/tts-models", operation="tts_models.list")
    )
    return loads(response.content, GetTTSModelsResponse).models


def _list_models(client: _ClientBase) -> Flow[list[Model]]:
    """``GET /models`` parsed into typed models (one flow for both clients)."""
    response = yield from client.call(
        client.build_request("GET", "/models", operation="models.list")
    )
    return loads(response.content, GetModelsResponse).models


class _Namespace(Generic[T]):
    __slots__ = ("_client",)

    def __init__(self, client: T) -> None:
        self._client = client


class Models(_Namespace["SonioxClient"]):
    """``GET /v1/models``: the speech-to-text models, aliases included."""

    def list(self) -> list[Model]:
        """Every model the API offers."""
        return self._client.run(_list_models(self._client))


class AsyncModels(_Namespace["AsyncSonioxClient"]):
    """``GET /v1/models``: the speech-to-text models, aliases included."""

    async def list(self) -> list[Model]:
        """Every model the API offers."""
        return await self._client.arun(_list_models(self._client))


class TtsModels(_Namespace["SonioxClient"]):
    """``GET /v1/tts-models``: the text-to-speech models and their voices."""

    def list(self) -> list[TTSModel]:
        """Every text-to-speech model the API offers."""
        return self._client.run(_list_tts_models(self._client))


class AsyncTtsModels(_Namespace["AsyncSonioxClient"]):
    """``GET /v1/tts-models``: the text-to-speech models and their voices."""

    async def list(self) -> list[TTSModel]:
        """Every text-to-speech model the API offers."""
        return await self._client.arun(_list_tts_models(self._client))


class SonioxClient(_ClientBase):
    """The blocking client. ``SonioxClient()`` reads ``SONIOX_API_KEY``; pass ``config=`` for a
    profile (``SonioxConfig.cost()``), ``transport=`` / ``stack=`` to replace either."""

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self.models = Models(self)
        self.tts_models = TtsModels(self)
        self.stt = Stt(self)
        self.files = Files(self)
        self.auth = Auth(self)
        self.webhooks = Webhooks()
        self.usage = Usage(self)
        self.usage_logs = UsageLogs(self)
        self.concurrency_limits = ConcurrencyLimitsAPI(self)

    def run(self, flow: Flow[T]) -> T:
        """Run a flow (e.g. from :meth:`call`) with blocking I/O."""
        return run_sync(flow, self._core.transport)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | StreamBody | None = None,
        headers: HeadersInput | None = None,
        stream: bool = False,
    ) -> Response:
        """Any API call by path (``client.request("GET", "/files", params={"limit": 10})``)."""
        return self.run(
            self.request_flow(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                stream=stream,
            )
        )

    def close(self) -> None:
        """Close connections (only the root client owns them; option views share them)."""
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
    """The asyncio client: the same operations, awaited."""

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, **kwargs)
        self.models = AsyncModels(self)
        self.tts_models = AsyncTtsModels(self)
        self.stt = AsyncStt(self)
        self.files = AsyncFiles(self)
        self.auth = AsyncAuth(self)
        self.webhooks = Webhooks()
        self.usage = AsyncUsage(self)
        self.usage_logs = AsyncUsageLogs(self)
        self.concurrency_limits = AsyncConcurrencyLimitsAPI(self)

    async def arun(self, flow: Flow[T]) -> T:
        """Run a flow (e.g. from :meth:`call`) with asyncio I/O."""
        return await run_async(flow, self._core.transport)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | StreamBody | None = None,
        headers: HeadersInput | None = None,
        stream: bool = False,
    ) -> Response:
        """Any API call by path, awaited."""
        return await self.arun(
            self.request_flow(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                stream=stream,
            )
        )

    async def aclose(self) -> None:
        """Close connections (only the root client owns them)."""
        if self._core.owns_transport and self._root:
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
