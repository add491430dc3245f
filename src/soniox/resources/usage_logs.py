"""``client.usage_logs``: one record per billed request (``GET /v1/usage-logs``).

The window filters by each request's end time, ``[start_time, end_time)``; ``sort`` orders by it
(``end_time_asc`` or ``end_time_desc``); pages hold up to 1000 records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from soniox.middleware import Flow
from soniox.types import GetUsageLogsResponse, UsageLogEntry, UsageLogsSort, loads

from ._base import AsyncNamespace, Page, PageFlow, SyncNamespace, aiterate_pages, iterate_pages
from ._checks import MAX_PAGE_LIMIT, check_limit, check_optional_str
from .usage import TimeInput, time_window

if TYPE_CHECKING:
    from soniox.client import _ClientBase  # pyright: ignore[reportPrivateUsage]

__all__ = ["AsyncUsageLogs", "UsageLogs", "list_usage_logs_flow", "usage_logs_page_flow"]

_ASC = UsageLogsSort.END_TIME_ASC


def list_usage_logs_flow(
    client: _ClientBase,
    start_time: TimeInput,
    end_time: TimeInput,
    limit: int = MAX_PAGE_LIMIT,
    sort: UsageLogsSort | str = _ASC,
    cursor: str | None = None,
) -> Flow[GetUsageLogsResponse]:
    """``GET /usage-logs``: one page and the cursor of the next."""
    start, end = time_window(start_time, end_time)
    check_limit(limit)
    check_optional_str(sort, "sort")
    check_optional_str(cursor, "cursor")
    response = yield from client.request_flow(
        "GET",
        "/usage-logs",
        params={
            "start_time": start,
            "end_time": end,
            "limit": limit,
            "sort": str(sort),
            "cursor": cursor,
        },
        operation="usage_logs.list",
    )
    return loads(response.content, GetUsageLogsResponse)


def usage_logs_page_flow(
    client: _ClientBase,
    start_time: TimeInput,
    end_time: TimeInput,
    limit: int = MAX_PAGE_LIMIT,
    sort: UsageLogsSort | str = _ASC,
) -> PageFlow[UsageLogEntry]:
    """The page flow ``list_all`` walks."""

    def page(cursor: str | None) -> Flow[Page[UsageLogEntry]]:
        result = yield from list_usage_logs_flow(client, start_time, end_time, limit, sort, cursor)
        return Page(result.usage_logs, result.next_page_cursor)

    return page


class UsageLogs(SyncNamespace):
    """``client.usage_logs``: per-request usage records."""

    __slots__ = ()

    def list(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        limit: int = MAX_PAGE_LIMIT,
        sort: UsageLogsSort | str = _ASC,
        cursor: str | None = None,
    ) -> GetUsageLogsResponse:
        """One page of records ending in ``[start_time, end_time)``."""
        return self._run(
            list_usage_logs_flow(self._client, start_time, end_time, limit, sort, cursor)
        )

    def list_all(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        limit: int = MAX_PAGE_LIMIT,
        sort: UsageLogsSort | str = _ASC,
    ) -> Iterator[UsageLogEntry]:
        """Every record of the window, page by page as the iteration gets there."""
        return iterate_pages(
            self._client.run, usage_logs_page_flow(self._client, start_time, end_time, limit, sort)
        )


class AsyncUsageLogs(AsyncNamespace):
    """``client.usage_logs`` of the async client."""

    __slots__ = ()

    async def list(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        limit: int = MAX_PAGE_LIMIT,
        sort: UsageLogsSort | str = _ASC,
        cursor: str | None = None,
    ) -> GetUsageLogsResponse:
        """One page of records ending in ``[start_time, end_time)``."""
        return await self._arun(
            list_usage_logs_flow(self._client, start_time, end_time, limit, sort, cursor)
        )

    def list_all(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        limit: int = MAX_PAGE_LIMIT,
        sort: UsageLogsSort | str = _ASC,
    ) -> AsyncIterator[UsageLogEntry]:
        """Every record of the window (``async for``)."""
        return aiterate_pages(
            self._client.arun, usage_logs_page_flow(self._client, start_time, end_time, limit, sort)
        )
