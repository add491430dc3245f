"""What a flow needs from a client: the small protocol the floors below the client type against.

Flows (and the namespaces and transcript streams above them) are written once for both
clients. They do not import :mod:`soniox.client`, which sits above them; they take any object
with these members, and :class:`~soniox.client.SonioxClient` and
:class:`~soniox.client.AsyncSonioxClient` are two such objects (a test may bring a third).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, Self, TypedDict, TypeVar, Unpack

from soniox.config import SonioxConfig
from soniox.middleware import Flow, Stack
from soniox.transport import Request, RequestOptions, Response, StreamBody, Transport
from soniox.transport.request import HeadersInput

__all__ = ["ApiClient", "AsyncApiClient", "RequestParts", "SyncApiClient"]

T = TypeVar("T")


class RequestParts(TypedDict, total=False):
    """What a request is made of besides its method and path (``build_request``'s keywords)."""

    params: Mapping[str, Any] | None
    """Query parameters (None values are left out)."""
    json: Any
    """A body to send as JSON (typed models included)."""
    content: bytes | StreamBody | None
    """A body to send as is."""
    headers: HeadersInput | None
    """Headers of this request (they win over the client's)."""
    operation: str | None
    """The operation's name for logs and metrics (``files.upload``)."""
    stream: bool
    """Answer with an unread, streaming response."""


class ApiClient(Protocol):
    """Builds requests, runs them through the middleware stack as flows, and raises the typed
    error of an error status; ``with_options`` makes a view sharing connections and stack."""

    @property
    def config(self) -> SonioxConfig: ...

    @property
    def options(self) -> RequestOptions: ...

    @property
    def stack(self) -> Stack: ...

    @property
    def transport(self) -> Transport: ...

    def build_request(self, method: str, path: str, **parts: Unpack[RequestParts]) -> Request: ...

    def call(self, request: Request) -> Flow[Response]: ...

    def request_flow(self, method: str, path: str, **kwargs: Any) -> Flow[Response]: ...

    def raise_for_status(self, response: Response) -> None: ...

    def with_options(self, *, deadline: float | None = ...) -> Self: ...


class SyncApiClient(ApiClient, Protocol):
    """An :class:`ApiClient` that runs flows with blocking I/O."""

    def run(self, flow: Flow[T]) -> T: ...


class AsyncApiClient(ApiClient, Protocol):
    """An :class:`ApiClient` that runs flows under asyncio."""

    async def arun(self, flow: Flow[T]) -> T: ...
