"""What every API namespace shares: the client whose runner executes its flows.

Each operation is written once, as a flow (a generator of effects, see
:mod:`soniox.middleware.engine`) in :mod:`soniox.flows` or beside its namespace. A namespace
class per client kind only binds flows to a runner: ``Files.get(id)`` is
``self._run(get_file_flow(self._client, id))`` and ``AsyncFiles.get(id)`` is
``await self._arun(...)`` of the same flow. Namespaces type their client by the protocols in
:mod:`soniox.flows.protocol`, not by the client classes a floor above.

Each method names its operation (``self._run(flow, "files.get")``): the flow runs inside
``client.stack.operation(name)``, the context the ``tracing`` middleware opens a span for and
the ``metrics`` middleware times — the whole multi-step flow, every request and wait of it.
"""

from __future__ import annotations

from typing import TypeVar

from soniox.flows.protocol import AsyncApiClient, SyncApiClient
from soniox.middleware import Flow

__all__ = ["AsyncNamespace", "SyncNamespace"]

T = TypeVar("T")


class SyncNamespace:
    """Base of the blocking namespaces (``client.files``, ``client.stt`` …)."""

    __slots__ = ("_client",)

    def __init__(self, client: SyncApiClient) -> None:
        self._client = client

    def _run(self, flow: Flow[T], operation: str | None = None) -> T:
        if operation is None:
            return self._client.run(flow)
        with self._client.stack.operation(operation):
            return self._client.run(flow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AsyncNamespace:
    """Base of the asyncio namespaces (``client.files``, ``client.stt`` …)."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncApiClient) -> None:
        self._client = client

    async def _arun(self, flow: Flow[T], operation: str | None = None) -> T:
        if operation is None:
            return await self._client.arun(flow)
        with self._client.stack.operation(operation):
            return await self._client.arun(flow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
