"""Cursor pagination, written once for every listing and both clients.

A :class:`Listing` describes one paginated endpoint (its path, the page type and which field
holds the items); :func:`list_page_flow` fetches one page of it, :func:`page_walker` makes the
page flow that :func:`iterate_pages` (blocking) and :func:`aiterate_pages` (asyncio) walk along
``next_page_cursor``, fetching the next page only when the caller gets there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

import attrs

from soniox.middleware import Flow
from soniox.types import loads

from .checks import check_limit, check_optional_str
from .protocol import ApiClient

__all__ = [
    "Listing",
    "Page",
    "PageFlow",
    "aiterate_pages",
    "all_items_flow",
    "iterate_pages",
    "list_page_flow",
    "page_walker",
]

T = TypeVar("T")
R = TypeVar("R", bound="_CursorPage")


class _CursorPage(Protocol):
    @property
    def next_page_cursor(self) -> str | None: ...


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing and the cursor of the next (None on the last page)."""

    items: list[T]
    next_page_cursor: str | None = None


class PageFlow(Protocol[T]):
    """Builds the flow that fetches the page at ``cursor`` (None: the first page)."""

    def __call__(self, cursor: str | None) -> Flow[Page[T]]: ...


@attrs.frozen
class Listing(Generic[R, T]):
    """A paginated endpoint: ``GET path`` answers a ``page_type`` whose ``items`` are listed."""

    path: str
    page_type: type[R]
    items: Callable[[R], list[T]]
    operation: str


def list_page_flow(
    client: ApiClient,
    listing: Listing[R, Any],
    *,
    limit: int,
    cursor: str | None = None,
    params: Mapping[str, Any] | None = None,
    deadline: float | None = None,
) -> Flow[R]:
    """``GET listing.path``: one page (``limit`` 1..1000) and the cursor of the next.

    ``params`` are the endpoint's other query parameters; ``deadline`` (absolute, on the
    transport clock) bounds a look-up made on behalf of a call that has one (it only ever
    tightens the client's own deadline)."""
    check_limit(limit)
    check_optional_str(cursor, "cursor")
    request = client.build_request(
        "GET",
        listing.path,
        params={**(params or {}), "limit": limit, "cursor": cursor},
        operation=listing.operation,
    )
    current = request.options.deadline
    if deadline is not None and (current is None or deadline < current):
        request = request.evolve(options=attrs.evolve(request.options, deadline=deadline))
    response = yield from client.call(request)
    return loads(response.content, listing.page_type)


def page_walker(
    client: ApiClient,
    listing: Listing[Any, T],
    *,
    limit: int,
    params: Mapping[str, Any] | None = None,
    deadline: float | None = None,
) -> PageFlow[T]:
    """The page flow that walks ``listing`` (for :func:`iterate_pages` or a flow's own loop)."""
    check_limit(limit)

    def page(cursor: str | None) -> Flow[Page[T]]:
        result = yield from list_page_flow(
            client, listing, limit=limit, cursor=cursor, params=params, deadline=deadline
        )
        return Page(listing.items(result), result.next_page_cursor)

    return page


def all_items_flow(page: PageFlow[T]) -> Flow[list[T]]:
    """Every item of every page, inside a flow (the pages are fetched one after another)."""
    found: list[T] = []
    cursor: str | None = None
    while True:
        current = yield from page(cursor)
        found.extend(current.items)
        if not current.next_page_cursor:
            return found
        cursor = current.next_page_cursor


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
