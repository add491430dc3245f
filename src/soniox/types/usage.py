"""Usage and limits: ``/v1/usage/summary``, ``/v1/usage-logs``, ``/v1/concurrency-limits``,
``/v1/concurrent-streams-history``.

These endpoints are not in the OpenAPI snapshot; the shapes and class names follow the official
SDK 2.10 (the names this SDK used before stay as aliases: ``UsageSummary``,
``ConcurrencyCounts``, ``ConcurrencyCaps``, ``ConcurrencyScope``, ``ConcurrencyLimits``). Money
is sent as decimal strings and parsed to :class:`~decimal.Decimal` (never float) and written back
as strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final, Literal, TypeAlias

import attrs

from .common import ModelMethods, OpenStrEnum, UtcDateTime, omit_none

__all__ = [
    "GetUsageSummaryPayload",
    "UsageSummaryEntry",
    "GetUsageSummaryResponse",
    "RequestScope",
    "UsageLogsSort",
    "GetUsageLogsPayload",
    "UsageLogEntry",
    "GetUsageLogsResponse",
    "ConcurrencyCurrentValues",
    "ConcurrencyLimitValues",
    "ConcurrencyScopeValues",
    "GetConcurrencyLimitsResponse",
    "ConcurrentStreamKind",
    "ConcurrentStreamsPeriodSec",
    "CONCURRENT_STREAMS_PERIODS",
    "GetConcurrentStreamsHistoryPayload",
    "ConcurrentStreamsHistoryEntry",
    "GetConcurrentStreamsHistoryResponse",
    # earlier names of this SDK
    "UsageSummary",
    "ConcurrencyCounts",
    "ConcurrencyCaps",
    "ConcurrencyScope",
    "ConcurrencyLimits",
]


@omit_none
@attrs.define(frozen=True, kw_only=True)
class GetUsageSummaryPayload(ModelMethods):
    """Query of ``GET /v1/usage/summary``: a UTC window of at most 366 days."""

    start_time: UtcDateTime
    end_time: UtcDateTime


@attrs.define(frozen=True, kw_only=True)
class UsageSummaryEntry(ModelMethods):
    """Daily usage of one model (None: the total); every per-day list aligns with ``days``."""

    model: str | None
    days: list[date]
    total_cost_usd: Decimal
    total_input_cost_usd: Decimal
    total_output_cost_usd: Decimal
    total_duration_cost_usd: Decimal
    cost_usd: list[Decimal]
    input_cost_usd: list[Decimal]
    output_cost_usd: list[Decimal]
    duration_cost_usd: list[Decimal]
    total_num_requests: int
    total_input_text_tokens: int
    total_input_audio_tokens: int
    total_input_audio_duration_ms: int
    total_output_text_tokens: int
    total_output_audio_tokens: int
    total_output_audio_duration_ms: int
    total_duration_ms: int
    num_requests: list[int]
    input_text_tokens: list[int]
    input_audio_tokens: list[int]
    input_audio_duration_ms: list[int]
    output_text_tokens: list[int]
    output_audio_tokens: list[int]
    output_audio_duration_ms: list[int]
    duration_ms: list[int]


@attrs.define(frozen=True, kw_only=True)
class GetUsageSummaryResponse(ModelMethods):
    """Answer of ``GET /v1/usage/summary``: the total and one entry per model."""

    total: UsageSummaryEntry
    models: list[UsageSummaryEntry]


class RequestScope(OpenStrEnum):
    """Where a request came from."""

    API = "api"
    PLAYGROUND = "playground"


class UsageLogsSort(OpenStrEnum):
    """Order of ``GET /v1/usage-logs`` (by request end time)."""

    END_TIME_ASC = "end_time_asc"
    END_TIME_DESC = "end_time_desc"


@omit_none
@attrs.define(frozen=True, kw_only=True)
class GetUsageLogsPayload(ModelMethods):
    """Query of ``GET /v1/usage-logs``; ``limit`` 1..1000, unset fields are not sent."""

    start_time: UtcDateTime
    end_time: UtcDateTime
    limit: int | None = None
    sort: UsageLogsSort | None = None
    cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class UsageLogEntry(ModelMethods):
    """One billed request (``client_reference_id`` is ``""`` when none was given)."""

    uuid: str
    request_scope: RequestScope
    client_reference_id: str
    model: str
    start_time: UtcDateTime
    end_time: UtcDateTime
    input_text_tokens: int
    input_audio_tokens: int
    input_audio_duration_ms: int
    output_text_tokens: int
    output_audio_tokens: int
    output_audio_duration_ms: int
    cost_usd: Decimal
    input_cost_usd: Decimal
    input_text_cost_usd: Decimal
    input_audio_cost_usd: Decimal
    output_cost_usd: Decimal
    output_text_cost_usd: Decimal
    output_audio_cost_usd: Decimal


@attrs.define(frozen=True, kw_only=True)
class GetUsageLogsResponse(ModelMethods):
    """One page of usage logs; ``next_page_cursor`` is None on the last page."""

    usage_logs: list[UsageLogEntry]
    next_page_cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class ConcurrencyCurrentValues(ModelMethods):
    """Streams and TTS requests running right now."""

    transcribe_concurrent: int
    tts_concurrent: int


@attrs.define(frozen=True, kw_only=True)
class ConcurrencyLimitValues(ModelMethods):
    """Configured caps; None means no cap at this scope."""

    transcribe_concurrent: int | None
    tts_concurrent: int | None


@attrs.define(frozen=True, kw_only=True)
class ConcurrencyScopeValues(ModelMethods):
    """Current use and caps at one scope (project or organization)."""

    current: ConcurrencyCurrentValues
    limits: ConcurrencyLimitValues


@attrs.define(frozen=True, kw_only=True)
class GetConcurrencyLimitsResponse(ModelMethods):
    """Answer of ``GET /v1/concurrency-limits``; the organization is checked first."""

    project: ConcurrencyScopeValues
    organization: ConcurrencyScopeValues


class ConcurrentStreamKind(OpenStrEnum):
    """Which streams a concurrency history counts: speech-to-text sessions or TTS streams."""

    STT = "stt"
    TTS = "tts"


ConcurrentStreamsPeriodSec: TypeAlias = Literal[60, 3600, 86400]
"""The aggregation period of a concurrency history: a minute, an hour or a day."""
CONCURRENT_STREAMS_PERIODS: Final = (60, 3600, 86400)


@attrs.define(frozen=True, kw_only=True)
class GetConcurrentStreamsHistoryPayload(ModelMethods):
    """Query of ``GET /v1/concurrent-streams-history``."""

    start_time: UtcDateTime
    end_time: UtcDateTime
    period_sec: int
    kind: ConcurrentStreamKind


@attrs.define(frozen=True, kw_only=True)
class ConcurrentStreamsHistoryEntry(ModelMethods):
    """Concurrent streams over one period: ``sample_max`` is the peak; divide ``sample_sum``
    by ``sample_count`` for the average while active, or by ``total_count`` for the average
    over the whole period."""

    period_start: UtcDateTime
    period_sec: int
    sample_min: int
    sample_max: int
    sample_sum: int
    sample_count: int
    total_count: int


@attrs.define(frozen=True, kw_only=True)
class GetConcurrentStreamsHistoryResponse(ModelMethods):
    """Every period of the window in order, without gaps (quiet periods are all zeros)."""

    kind: ConcurrentStreamKind
    entries: list[ConcurrentStreamsHistoryEntry]


UsageSummary = GetUsageSummaryResponse
ConcurrencyCounts = ConcurrencyCurrentValues
ConcurrencyCaps = ConcurrencyLimitValues
ConcurrencyScope = ConcurrencyScopeValues
ConcurrencyLimits = GetConcurrencyLimitsResponse
