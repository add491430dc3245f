"""Usage endpoints built from the :class:`UsageLedger`: summary, logs, concurrency limits and
the concurrent-streams history.

These endpoints are not in the OpenAPI snapshot; their shapes follow the official SDK's types.
Costs come from the ledger's fixed made-up rate and are reported as input (audio) cost; audio
tokens are derived from duration at :data:`AUDIO_TOKENS_PER_SECOND`. Both only need to be
consistent across the endpoints. ``limits`` in ``/v1/concurrency-limits`` are ``null``
(no cap) because the emulator does not cap concurrent streams.

``/v1/concurrent-streams-history`` is computed from when each realtime stream was open (a
stream counts from the moment its config is accepted until its connection ends). The SDK's
types fix the shape; where they are silent the emulator chooses:

- a per-minute entry records one value, the peak number of streams open at once during that
  minute (``sample_count`` 1, ``sample_sum`` = ``sample_max`` = the peak; all zero when no stream
  was open);
- an hourly entry rolls up its 60 minutes (``total_count`` 60): ``sample_count`` = minutes with
  a stream open, ``sample_sum`` = the sum of their peaks, ``sample_max`` = the hour's peak;
- a daily entry rolls up its 24 hours (``total_count`` 24) the same way, one value per hour
  (the hour's peak);
- ``sample_min`` is always 0, as the SDK documents; a period without activity has every
  ``sample_*`` field 0, while ``total_count`` always counts the period's slots (1, 60 or 24);
- ``kind=tts`` is always zeros (the emulator has no text-to-speech streams);
- entries are the periods whose aligned ``period_start`` (a multiple of ``period_sec`` since the
  epoch) lies in ``[start_time, end_time)``, every one present, including future ones;
- the window may span at most :data:`MAX_HISTORY_WINDOWS`: 7 days per minute (as the SDK
  documents), 90 days per hour and 366 days per day (like the usage summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .errors import ApiFailure, ValidationIssue
from .store import Cursors
from .timefmt import iso_z, parse_iso
from .usage import StreamInterval, UsageRecord
from .validation import parse_limit

__all__ = [
    "AUDIO_TOKENS_PER_SECOND",
    "HISTORY_KINDS",
    "HISTORY_PERIODS",
    "MAX_HISTORY_WINDOWS",
    "MAX_SUMMARY_DAYS",
    "concurrency_limits_json",
    "concurrent_streams_history_json",
    "usage_logs_json",
    "usage_summary_json",
]

AUDIO_TOKENS_PER_SECOND = 25
MAX_SUMMARY_DAYS = 366
SORTS = ("end_time_asc", "end_time_desc")
HISTORY_PERIODS = (60, 3600, 86400)
HISTORY_KINDS = ("stt", "tts")
MAX_HISTORY_WINDOWS: dict[int, timedelta] = {
    60: timedelta(days=7),
    3600: timedelta(days=90),
    86400: timedelta(days=366),
}
"""The longest ``[start_time, end_time)`` window accepted per ``period_sec``."""
_SLOTS = {60: (1, 60), 3600: (60, 60), 86400: (24, 3600)}
"""Per period: (slots it covers = ``total_count``, seconds per slot)."""
_US = 1_000_000
_ZERO = Decimal("0.000000")


def _audio_tokens(duration_ms: int) -> int:
    return duration_ms * AUDIO_TOKENS_PER_SECOND // 1000


def _money(value: Decimal) -> str:
    return str(value.quantize(_ZERO))


def _parse_time(
    query: Mapping[str, str], name: str, issues: list[ValidationIssue]
) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        issues.append(ValidationIssue("missing", f"query.{name}", "Field required"))
        return None
    moment = parse_iso(raw)
    if moment is None:
        issues.append(
            ValidationIssue(
                "datetime_from_date_parsing",
                f"query.{name}",
                "Input should be a valid datetime or date, invalid format",
            )
        )
    return moment


def _window(query: Mapping[str, str], *, required: bool) -> tuple[datetime, datetime] | None:
    if not required and "start_time" not in query and "end_time" not in query:
        return None
    issues: list[ValidationIssue] = []
    start = _parse_time(query, "start_time", issues)
    end = _parse_time(query, "end_time", issues)
    if issues or start is None or end is None:
        raise ApiFailure(400, "invalid_request", validation_errors=issues)
    if end <= start:
        raise ApiFailure(
            400,
            "invalid_request",
            "end_time must be after start_time.",
            [ValidationIssue("value_error", "query.end_time", "end_time must be after start_time")],
        )
    if end - start > timedelta(days=MAX_SUMMARY_DAYS):
        raise ApiFailure(
            400,
            "invalid_request",
            f"The time window must not exceed {MAX_SUMMARY_DAYS} days.",
        )
    return start, end


def _in_window(
    records: Iterable[UsageRecord], window: tuple[datetime, datetime] | None
) -> list[UsageRecord]:
    if window is None:
        return list(records)
    start, end = window
    return [r for r in records if start <= r.end_time < end]


def _days(start: datetime, end: datetime) -> list[date]:
    """Every UTC day the half-open window ``[start, end)`` touches, ascending."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _summary_entry(
    model: str | None, days: Sequence[date], records: Sequence[UsageRecord]
) -> dict[str, Any]:
    index = {day: i for i, day in enumerate(days)}
    n = len(days)
    cost = [Decimal(0)] * n
    num_requests = [0] * n
    audio_ms = [0] * n
    audio_tokens = [0] * n
    text_tokens = [0] * n
    for record in records:
        i = index.get(record.end_time.astimezone(UTC).date())
        if i is None:
            continue
        cost[i] += record.cost_usd
        num_requests[i] += 1
        audio_ms[i] += record.input_audio_duration_ms
        audio_tokens[i] += _audio_tokens(record.input_audio_duration_ms)
        text_tokens[i] += record.output_text_tokens
    zeros = [0] * n
    zero_money = [_money(Decimal(0))] * n
    return {
        "model": model,
        "days": [d.isoformat() for d in days],
        "total_cost_usd": _money(sum(cost, Decimal(0))),
        "total_input_cost_usd": _money(sum(cost, Decimal(0))),
        "total_output_cost_usd": _money(Decimal(0)),
        "total_duration_cost_usd": _money(Decimal(0)),
        "cost_usd": [_money(c) for c in cost],
        "input_cost_usd": [_money(c) for c in cost],
        "output_cost_usd": list(zero_money),
        "duration_cost_usd": list(zero_money),
        "total_num_requests": sum(num_requests),
        "total_input_text_tokens": 0,
        "total_input_audio_tokens": sum(audio_tokens),
        "total_input_audio_duration_ms": sum(audio_ms),
        "total_output_text_tokens": sum(text_tokens),
        "total_output_audio_tokens": 0,
        "total_output_audio_duration_ms": 0,
        "total_duration_ms": sum(audio_ms),
        "num_requests": num_requests,
        "input_text_tokens": list(zeros),
        "input_audio_tokens": audio_tokens,
        "input_audio_duration_ms": audio_ms,
        "output_text_tokens": text_tokens,
        "output_audio_tokens": list(zeros),
        "output_audio_duration_ms": list(zeros),
        "duration_ms": list(audio_ms),
    }


def usage_summary_json(records: Iterable[UsageRecord], query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /v1/usage/summary``: per-day totals over the window, overall and per model."""
    window = _window(query, required=True)
    assert window is not None
    selected = _in_window(records, window)
    days = _days(*window)
    by_model: dict[str, list[UsageRecord]] = {}
    for record in selected:
        by_model.setdefault(record.model, []).append(record)
    return {
        "total": _summary_entry(None, days, selected),
        "models": [_summary_entry(m, days, by_model[m]) for m in sorted(by_model)],
    }


def _log_entry(record: UsageRecord) -> dict[str, Any]:
    cost = _money(record.cost_usd)
    zero = _money(Decimal(0))
    return {
        "uuid": record.uuid,
        "request_scope": record.request_scope,
        "client_reference_id": record.client_reference_id,
        "model": record.model,
        "start_time": iso_z(record.start_time),
        "end_time": iso_z(record.end_time),
        "input_text_tokens": 0,
        "input_audio_tokens": _audio_tokens(record.input_audio_duration_ms),
        "input_audio_duration_ms": record.input_audio_duration_ms,
        "output_text_tokens": record.output_text_tokens,
        "output_audio_tokens": 0,
        "output_audio_duration_ms": 0,
        "cost_usd": cost,
        "input_cost_usd": cost,
        "input_text_cost_usd": zero,
        "input_audio_cost_usd": cost,
        "output_cost_usd": zero,
        "output_text_cost_usd": zero,
        "output_audio_cost_usd": zero,
    }


def _sort_key(record: UsageRecord) -> tuple[int, str]:
    micros = int(record.end_time.timestamp() * 1_000_000)
    return micros, record.uuid


def usage_logs_json(
    records: Iterable[UsageRecord], query: Mapping[str, str], cursors: Cursors
) -> dict[str, Any]:
    """``GET /v1/usage-logs``: one entry per finished request, sorted by ``end_time``, paged."""
    limit = parse_limit(query.get("limit"))
    sort = query.get("sort") or "end_time_asc"
    if sort not in SORTS:
        raise ApiFailure(
            400,
            "invalid_request",
            validation_errors=[
                ValidationIssue(
                    "enum", "query.sort", "Input should be 'end_time_asc' or 'end_time_desc'"
                )
            ],
        )
    window = _window(query, required=False)
    descending = sort == "end_time_desc"
    ordered = sorted(_in_window(records, window), key=_sort_key, reverse=descending)
    kind = f"usage_logs:{sort}"
    cursor = query.get("cursor")
    if cursor:
        position = cursors.decode(kind, cursor)
        if (
            len(position) != 2
            or not isinstance(position[0], int)
            or not isinstance(position[1], str)
        ):
            raise ApiFailure(400, "invalid_cursor")
        last = (position[0], position[1])
        ordered = [
            r for r in ordered if (_sort_key(r) < last if descending else _sort_key(r) > last)
        ]
    chunk = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit and chunk:
        micros, uuid = _sort_key(chunk[-1])
        next_cursor = cursors.encode(kind, [micros, uuid])
    return {"usage_logs": [_log_entry(r) for r in chunk], "next_page_cursor": next_cursor}


def concurrency_limits_json(active_streams: int) -> dict[str, Any]:
    """``GET /v1/concurrency-limits``: live realtime streams; no caps (``null``)."""

    def scope() -> dict[str, Any]:
        return {
            "current": {"transcribe_concurrent": active_streams, "tts_concurrent": 0},
            "limits": {"transcribe_concurrent": None, "tts_concurrent": None},
        }

    return {"project": scope(), "organization": scope()}


# Concurrent streams history -------------------------------------------------------------------
def _epoch_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _from_epoch_us(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _history_query(query: Mapping[str, str]) -> tuple[datetime, datetime, int, str]:
    issues: list[ValidationIssue] = []
    start = _parse_time(query, "start_time", issues)
    end = _parse_time(query, "end_time", issues)
    period: int | None = None
    raw_period = query.get("period_sec")
    if raw_period is None:
        issues.append(ValidationIssue("missing", "query.period_sec", "Field required"))
    else:
        try:
            period = int(raw_period.strip())
        except ValueError:
            issues.append(
                ValidationIssue(
                    "int_parsing",
                    "query.period_sec",
                    "Input should be a valid integer, unable to parse string as an integer",
                )
            )
        else:
            if period not in HISTORY_PERIODS:
                period = None
                issues.append(
                    ValidationIssue(
                        "literal_error", "query.period_sec", "Input should be 60, 3600 or 86400"
                    )
                )
    kind = query.get("kind")
    if kind is None:
        issues.append(ValidationIssue("missing", "query.kind", "Field required"))
    elif kind not in HISTORY_KINDS:
        issues.append(
            ValidationIssue("literal_error", "query.kind", "Input should be 'stt' or 'tts'")
        )
    if issues or start is None or end is None or period is None or kind is None:
        raise ApiFailure(400, "invalid_request", validation_errors=issues)
    if end <= start:
        raise ApiFailure(
            400,
            "invalid_request",
            "end_time must be after start_time.",
            [ValidationIssue("value_error", "query.end_time", "end_time must be after start_time")],
        )
    cap = MAX_HISTORY_WINDOWS[period]
    if end - start > cap:
        message = f"The time window must not exceed {cap.days} days for period_sec={period}."
        raise ApiFailure(
            400,
            "invalid_request",
            message,
            [ValidationIssue("value_error", "query.end_time", message.rstrip("."))],
        )
    return start, end, period, kind


def _slot_peaks(
    intervals: Iterable[StreamInterval], now: datetime, slot_us: int, lo_us: int, hi_us: int
) -> dict[int, int]:
    """Peak number of streams open at once in each slot of ``slot_us`` that overlaps
    ``[lo_us, hi_us)``, keyed by the slot's index since the epoch; slots with none are absent.

    A sweep over open (+1) and close (-1) events: a stream open over ``[a, b)`` counts in every
    slot that range touches. A stream that opens the instant another closes does not overlap
    it; one opened and closed at the same instant lasts a microsecond, so it still counts.
    """
    now_us = _epoch_us(now)
    events: list[tuple[int, bool]] = []  # (instant, opening): closes sort before opens
    for interval in intervals:
        opened = _epoch_us(interval.opened)
        closed = _epoch_us(interval.closed) if interval.closed is not None else now_us
        closed = max(closed, opened + 1)
        if closed <= lo_us or opened >= hi_us:
            continue
        events.append((opened, True))
        events.append((closed, False))
    events.sort()
    peaks: dict[int, int] = {}

    def raise_to(first_us: int, last_us: int, level: int) -> None:
        # Every slot touched by [first_us, last_us] (clipped to the window) peaks at >= level.
        first_us, last_us = max(first_us, lo_us), min(last_us, hi_us - 1)
        if first_us > last_us:
            return
        for slot in range(first_us // slot_us, last_us // slot_us + 1):
            if peaks.get(slot, 0) < level:
                peaks[slot] = level

    level = 0
    for index, (at_us, opening) in enumerate(events):
        if opening:
            level += 1
            raise_to(at_us, at_us, level)
        else:
            level -= 1
        following = events[index + 1][0] if index + 1 < len(events) else at_us
        if level > 0 and following > at_us:
            raise_to(at_us, following - 1, level)
    return peaks


def concurrent_streams_history_json(
    intervals: Iterable[StreamInterval], query: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """``GET /v1/concurrent-streams-history``: per-period peaks of concurrent realtime streams.

    ``intervals`` are the realtime streams (``closed=None`` while open, counted up to ``now``).
    """
    start, end, period, kind = _history_query(query)
    period_us = period * _US
    start_us, end_us = _epoch_us(start), _epoch_us(end)
    first = -(-start_us // period_us)  # the first aligned period_start at or after start_time
    last = -(-end_us // period_us)  # exclusive
    total_count, slot_seconds = _SLOTS[period]
    slot_us = slot_seconds * _US
    peaks = (
        _slot_peaks(intervals, now, slot_us, first * period_us, last * period_us)
        if kind == "stt" and last > first
        else {}
    )
    per_period: dict[int, list[int]] = {}
    for slot, peak in peaks.items():
        per_period.setdefault(slot * slot_us // period_us, []).append(peak)
    entries: list[dict[str, Any]] = []
    for index in range(first, last):
        values = per_period.get(index, [])
        entries.append(
            {
                "period_start": iso_z(_from_epoch_us(index * period_us)),
                "period_sec": period,
                "sample_min": 0,
                "sample_max": max(values, default=0),
                "sample_sum": sum(values),
                "sample_count": len(values),
                "total_count": total_count,
            }
        )
    return {"kind": kind, "entries": entries}
