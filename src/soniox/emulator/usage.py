"""Usage ledger: one record per finished async transcription or realtime stream.

Feeds ``GET /v1/usage-logs``, ``GET /v1/usage/summary``, the live counts of
``GET /v1/concurrency-limits`` and, from the open and close time of every realtime stream,
``GET /v1/concurrent-streams-history``. Costs are derived from audio duration at a fixed,
made-up rate (the emulator bills nobody); they only need to be consistent across the endpoints.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import attrs

__all__ = ["USD_PER_AUDIO_HOUR", "StreamInterval", "UsageLedger", "UsageRecord"]

USD_PER_AUDIO_HOUR = {"async": Decimal("0.10"), "real_time": Decimal("0.12")}


@attrs.frozen(kw_only=True)
class UsageRecord:
    uuid: str
    model: str
    mode: str  # "async" | "real_time"
    start_time: datetime
    end_time: datetime
    input_audio_duration_ms: int
    output_text_tokens: int
    client_reference_id: str = ""
    request_scope: str = "api"

    @property
    def cost_usd(self) -> Decimal:
        rate = USD_PER_AUDIO_HOUR.get(self.mode, USD_PER_AUDIO_HOUR["async"])
        return (rate * self.input_audio_duration_ms / Decimal(3_600_000)).quantize(
            Decimal("0.000001")
        )


@attrs.frozen
class StreamInterval:
    """When one realtime stream was open: ``[opened, closed)``; ``closed`` is ``None`` while open."""

    opened: datetime
    closed: datetime | None = None


class UsageLedger:
    """Thread-safe list of usage records, the live realtime stream count, and when each
    realtime stream was open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[UsageRecord] = []
        self._active_streams = 0
        self._streams: dict[int, StreamInterval] = {}
        self._next_stream = 0

    def __repr__(self) -> str:
        return f"UsageLedger({len(self._records)} records, {self._active_streams} active streams)"

    @property
    def active_streams(self) -> int:
        with self._lock:
            return self._active_streams

    def stream_started(self, at: datetime | None = None) -> int:
        """Count a realtime stream as open from ``at`` (default: now); returns its handle for
        :meth:`stream_ended`."""
        opened = at if at is not None else datetime.now(UTC)
        with self._lock:
            self._active_streams += 1
            handle = self._next_stream
            self._next_stream += 1
            self._streams[handle] = StreamInterval(opened)
            return handle

    def stream_ended(self, handle: int | None = None, at: datetime | None = None) -> None:
        """The stream ``handle`` closed at ``at`` (default: now). Without a handle only the live
        count drops (no interval is closed)."""
        closed = at if at is not None else datetime.now(UTC)
        with self._lock:
            self._active_streams = max(0, self._active_streams - 1)
            if handle is None:
                return
            interval = self._streams.get(handle)
            if interval is not None and interval.closed is None:
                self._streams[handle] = attrs.evolve(interval, closed=max(closed, interval.opened))

    def stream_intervals(self) -> list[StreamInterval]:
        """Every realtime stream counted so far, open ones with ``closed=None``, in opening order."""
        with self._lock:
            return list(self._streams.values())

    def record(
        self,
        *,
        model: str,
        mode: str,
        start_time: datetime,
        end_time: datetime,
        input_audio_duration_ms: int,
        output_text_tokens: int,
        client_reference_id: str | None = None,
    ) -> UsageRecord:
        rec = UsageRecord(
            uuid=str(uuid.uuid4()),
            model=model,
            mode=mode,
            start_time=start_time,
            end_time=end_time,
            input_audio_duration_ms=input_audio_duration_ms,
            output_text_tokens=output_text_tokens,
            client_reference_id=client_reference_id or "",
        )
        with self._lock:
            self._records.append(rec)
        return rec

    def records(self) -> list[UsageRecord]:
        with self._lock:
            return list(self._records)
