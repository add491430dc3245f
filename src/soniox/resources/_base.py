"""What every API namespace shares: where flows run, and cursor pagination.

Each operation is written once, as a module-level *flow* (a generator of effects taking the
client's shared core, see :mod:`soniox.middleware.engine`). A namespace class per client kind
only binds flows to a runner: ``Files.get(id)`` is ``self._run(get_file_flow(self._client, id))``
and ``AsyncFiles.get(id)`` is ``await self._arun(...)`` of the same flow.

Pagination is the one loop both kinds need: :func:`iterate_pages` and :func:`aiterate_pages`
walk ``next_page_cursor`` with the same page flow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import attrs

from soniox.middleware import Flow

if TYPE_CHECKING:
    from soniox.client import (
        AsyncSonioxClient,
        SonioxClient,
        _ClientBase,  # pyright: ignore[reportPrivateUsage]
    )

__all__ = [
    "AsyncNamespace",
    "Page",
    "PageFlow",
    "SyncNamespace",
    "aiterate_pages",
    "delete_resource_flow",
    "iterate_pages",
]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing and the cursor of the next (None on the last page)."""

    items: list[T]
    next_page_cursor: str | None = None


class PageFlow(Protocol[T]):
    """Builds the flow that fetches the page at ``cursor`` (None: the first page)."""

    def __call__(self, cursor: str | None) -> Flow[Page[T]]: ...


def iterate_pages(run: Callable[[Flow[Page[T]]], Page[T]], page: PageFlow[T]) -> Iterator[T]:
    """Every item of every page, fetching the next page only when the caller gets there."""
    cursor: str | None = None
    while True:
        current = run(page(cursor))
        yield from current.items
        if not current.next_page_cursor:
            return
        cursor = current.next_page_cursor


async def aiterate_pages(
    run: Callable[[Flow[Page[T]]], Awaitable[Page[T]]], page: PageFlow[T]
) -> AsyncIterator[T]:
    """:func:`iterate_pages` for the async client (``run`` is ``client.arun``)."""
    cursor: str | None = None
    while True:
        current = await run(page(cursor))
        for item in current.items:
            yield item
        if not current.next_page_cursor:
            return
        cursor = current.next_page_cursor


def delete_resource_flow(
    client: _ClientBase, path: str, *, operation: str, missing_ok: bool = False
) -> Flow[bool]:
    """``DELETE path``: True once it is gone; False if it was already missing and
    ``missing_ok`` (otherwise NotFoundError).

    A 404 on a *retried* attempt means an earlier attempt of this call deleted it and its answer
    was lost: that counts as deleted, not as missing.
    """
    request = client.build_request("DELETE", path, operation=operation)
    response = yield from client.stack.handler()(request)
    if response.status == 404:
        if response.request.attempt > 1:
            return True
        if missing_ok:
            return False
    client.raise_for_status(response)
    return True


class SyncNamespace:
    """Base of the blocking namespaces (``client.files``, ``client.stt`` …)."""

    __slots__ = ("_client",)

    def __init__(self, client: SonioxClient) -> None:
        self._client = client

    def _run(self, flow: Flow[T]) -> T:
        return self._client.run(flow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AsyncNamespace:
    """Base of the asyncio namespaces (``client.files``, ``client.stt`` …)."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncSonioxClient) -> None:
        self._client = client

    async def _arun(self, flow: Flow[T]) -> T:
        return await self._client.arun(flow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
