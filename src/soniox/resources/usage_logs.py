"""``client.usage_logs``: one record per billed request (``GET /v1/usage-logs``).

The window filters by each request's end time, ``[start_time, end_time)``; ``sort`` orders by it
(``end_time_asc`` or ``end_time_desc``); pages hold up to 1000 records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

from soniox.flows.checks import MAX_PAGE_LIMIT, check_optional_str
from soniox.flows.pages import (
    Listing,
    PageFlow,
    aiterate_pages,
    iterate_pages,
    list_page_flow,
    page_walker,
)
from soniox.flows.protocol import ApiClient
from soniox.middleware import Flow
from soniox.types import GetUsageLogsResponse, UsageLogEntry, UsageLogsSort

from ._base import AsyncNamespace, SyncNamespace
from .usage import TimeInput, time_window

__all__ = [
    "USAGE_LOGS",
    "AsyncUsageLogs",
    "UsageLogs",
    "list_usage_logs_flow",
    "usage_logs_page_flow",
]

USAGE_LOGS: Final = Listing(
    "/usage-logs", GetUsageLogsResponse, lambda page: page.usage_logs, "usage_logs.list"
)
_ASC = UsageLogsSort.END_TIME_ASC


def _window(
    start_time: TimeInput, end_time: TimeInput, sort: UsageLogsSort | str
) -> dict[str, Any]:
    start, end = time_window(start_time, end_time)
    check_optional_str(sort, "sort")
    return {"start_time": start, "end_time": end, "sort": str(sort)}


def list_usage_logs_flow(
    client: ApiClient,
    start_time: TimeInput,
    end_time: TimeInput,
    limit: int = MAX_PAGE_LIMIT,
    sort: UsageLogsSort | str = _ASC,
    cursor: str | None = None,
) -> Flow[GetUsageLogsResponse]:
    """``GET /usage-logs``: one page and the cursor of the next."""
    params = _window(start_time, end_time, sort)
    return (
        yield from list_page_flow(client, USAGE_LOGS, limit=limit, cursor=cursor, params=params)
    )


def usage_logs_page_flow(
    client: ApiClient,
    start_time: TimeInput,
    end_time: TimeInput,
    limit: int = MAX_PAGE_LIMIT,
    sort: UsageLogsSort | str = _ASC,
) -> PageFlow[UsageLogEntry]:
    """The page flow ``list_all`` walks."""
    params = _window(start_time, end_time, sort)
    return page_walker(client, USAGE_LOGS, limit=limit, params=params)


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
            list_usage_logs_flow(self._client, start_time, end_time, limit, sort, cursor),
            "usage_logs.list",
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
            list_usage_logs_flow(self._client, start_time, end_time, limit, sort, cursor),
            "usage_logs.list",
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
