"""``client.concurrency_limits``: realtime streams running now, the caps on them, and history.

``GET /v1/concurrency-limits`` answers for the project and for the organization (checked first);
a cap of None means no cap at that scope. ``GET /v1/concurrent-streams-history`` gives the
concurrent stream counts over a window, aggregated per minute, hour or day, with no gaps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final, cast

from soniox.errors import RequestValidationError
from soniox.flows.protocol import ApiClient
from soniox.middleware import Flow
from soniox.types import (
    CONCURRENT_STREAMS_PERIODS,
    ConcurrentStreamKind,
    GetConcurrencyLimitsResponse,
    GetConcurrentStreamsHistoryResponse,
    loads,
)

from ._base import AsyncNamespace, SyncNamespace
from .usage import TimeInput, time_window

__all__ = [
    "AsyncConcurrencyLimitsAPI",
    "ConcurrencyLimitsAPI",
    "MINUTE_HISTORY_WINDOW",
    "concurrency_history_flow",
    "concurrency_limits_flow",
]

MINUTE_HISTORY_WINDOW: Final = timedelta(days=7)
"""The longest window the API serves per-minute history for."""


def concurrency_limits_flow(client: ApiClient) -> Flow[GetConcurrencyLimitsResponse]:
    """``GET /concurrency-limits``."""
    response = yield from client.request_flow(
        "GET", "/concurrency-limits", operation="concurrency_limits.get"
    )
    return loads(response.content, GetConcurrencyLimitsResponse)


def concurrency_history_flow(
    client: ApiClient,
    start_time: TimeInput,
    end_time: TimeInput,
    *,
    period_sec: int,
    kind: ConcurrentStreamKind | str,
) -> Flow[GetConcurrentStreamsHistoryResponse]:
    """``GET /concurrent-streams-history``: ``period_sec`` 60, 3600 or 86400; ``kind``
    ``"stt"`` or ``"tts"``; per-minute history covers at most 7 days."""
    if isinstance(period_sec, bool) or period_sec not in CONCURRENT_STREAMS_PERIODS:
        raise RequestValidationError(
            f"period_sec must be one of {list(CONCURRENT_STREAMS_PERIODS)}, got {period_sec!r}",
            field="period_sec",
        )
    if not isinstance(cast(object, kind), str) or not ConcurrentStreamKind(kind).is_known:
        raise RequestValidationError(f"kind must be 'stt' or 'tts', got {kind!r}", field="kind")
    window = MINUTE_HISTORY_WINDOW if period_sec == 60 else None
    start, end = time_window(start_time, end_time, max_window=window)
    response = yield from client.request_flow(
        "GET",
        "/concurrent-streams-history",
        params={"start_time": start, "end_time": end, "period_sec": period_sec, "kind": str(kind)},
        operation="concurrency_limits.history",
    )
    return loads(response.content, GetConcurrentStreamsHistoryResponse)


class ConcurrencyLimitsAPI(SyncNamespace):
    """``client.concurrency_limits``."""

    __slots__ = ()

    def get(self) -> GetConcurrencyLimitsResponse:
        """Current concurrent streams and caps, per project and organization."""
        return self._run(concurrency_limits_flow(self._client), "concurrency_limits.get")

    def history(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        *,
        period_sec: int,
        kind: ConcurrentStreamKind | str,
    ) -> GetConcurrentStreamsHistoryResponse:
        """Concurrent stream counts over ``[start_time, end_time)``, one entry per period."""
        return self._run(
            concurrency_history_flow(
                self._client, start_time, end_time, period_sec=period_sec, kind=kind
            ),
            "concurrency_limits.history",
        )


class AsyncConcurrencyLimitsAPI(AsyncNamespace):
    """``client.concurrency_limits`` of the async client."""

    __slots__ = ()

    async def get(self) -> GetConcurrencyLimitsResponse:
        """Current concurrent streams and caps, per project and organization."""
        return await self._arun(concurrency_limits_flow(self._client), "concurrency_limits.get")

    async def history(
        self,
        start_time: TimeInput,
        end_time: TimeInput,
        *,
        period_sec: int,
        kind: ConcurrentStreamKind | str,
    ) -> GetConcurrentStreamsHistoryResponse:
        """Concurrent stream counts over ``[start_time, end_time)``, one entry per period."""
        return await self._arun(
            concurrency_history_flow(
                self._client, start_time, end_time, period_sec=period_sec, kind=kind
            ),
            "concurrency_limits.history",
        )
