"""``client.usage``: daily cost and activity per model (``GET /v1/usage/summary``).

Times are datetimes (naive ones are read as UTC) or ISO-8601 strings; the window is
``[start_time, end_time)``, at most 366 days, and a UTC day is included when the window covers any
part of it. Money is :class:`~decimal.Decimal`, never float.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, TypeAlias

from soniox.errors import RequestValidationError
from soniox.flows.protocol import ApiClient
from soniox.middleware import Flow
from soniox.types import GetUsageSummaryResponse, format_datetime, loads, parse_datetime

from ._base import AsyncNamespace, SyncNamespace

__all__ = ["MAX_WINDOW", "AsyncUsage", "TimeInput", "Usage", "time_window", "usage_summary_flow"]

TimeInput: TypeAlias = "datetime | str"
MAX_WINDOW: Final = timedelta(days=366)


def _moment(value: object, field: str) -> datetime:
    if not isinstance(value, datetime | str):
        raise RequestValidationError(
            f"{field} must be a datetime or an ISO-8601 string, got {type(value).__name__}",
            field=field,
        )
    try:
        return parse_datetime(value)
    except (TypeError, ValueError) as exc:
        raise RequestValidationError(
            f"{field} is not an ISO-8601 date-time: {value!r}", field=field
        ) from exc


def time_window(
    start_time: TimeInput, end_time: TimeInput, *, max_window: timedelta | None = None
) -> tuple[str, str]:
    """Both ends as the API's UTC strings, checked: end after start, within ``max_window``."""
    start = _moment(start_time, "start_time")
    end = _moment(end_time, "end_time")
    if end <= start:
        raise RequestValidationError(
            f"end_time ({format_datetime(end)}) must be after start_time "
            f"({format_datetime(start)})",
            field="end_time",
        )
    if max_window is not None and end - start > max_window:
        raise RequestValidationError(
            f"the window is {(end - start).total_seconds() / 86400:.1f} days; "
            f"at most {max_window.days} are allowed",
            field="end_time",
        )
    return format_datetime(start), format_datetime(end)


def usage_summary_flow(
    client: ApiClient, start_time: TimeInput, end_time: TimeInput
) -> Flow[GetUsageSummaryResponse]:
    """``GET /usage/summary`` for a window of at most 366 days."""
    start, end = time_window(start_time, end_time, max_window=MAX_WINDOW)
    response = yield from client.request_flow(
        "GET",
        "/usage/summary",
        params={"start_time": start, "end_time": end},
        operation="usage.summary",
    )
    return loads(response.content, GetUsageSummaryResponse)


class Usage(SyncNamespace):
    """``client.usage``: the cost summary."""

    __slots__ = ()

    def summary(self, start_time: TimeInput, end_time: TimeInput) -> GetUsageSummaryResponse:
        """Daily usage per model and in total over ``[start_time, end_time)`` (≤ 366 days)."""
        return self._run(usage_summary_flow(self._client, start_time, end_time), "usage.summary")


class AsyncUsage(AsyncNamespace):
    """``client.usage`` of the async client."""

    __slots__ = ()

    async def summary(self, start_time: TimeInput, end_time: TimeInput) -> GetUsageSummaryResponse:
        """Daily usage per model and in total over ``[start_time, end_time)`` (≤ 366 days)."""
        return await self._arun(
            usage_summary_flow(self._client, start_time, end_time), "usage.summary"
        )
