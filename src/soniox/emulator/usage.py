"""Usage ledger: one record per finished async transcription or realtime stream.

Feeds ``GET /v1/usage-logs``, ``GET /v1/usage/summary`` and the live counts of
``GET /v1/concurrency-limits``. Costs are derived from audio duration at a fixed, made-up rate
(the emulator bills nobody); they only need to be consistent across the endpoints.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from decimal import Decimal

import attrs

__all__ = ["USD_PER_AUDIO_HOUR", "UsageLedger", "UsageRecord"]

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


class UsageLedger:
    """Thread-safe list of usage records plus the live realtime stream count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[UsageRecord] = []
        self._active_streams = 0

    def __repr__(self) -> str:
        return f"UsageLedger({len(self._records)} records, {self._active_streams} active streams)"

    @property
    def active_streams(self) -> int:
        with self._lock:
            return self._active_streams

    def stream_started(self) -> None:
        with self._lock:
            self._active_streams += 1

    def stream_ended(self) -> None:
        with self._lock:
            self._active_streams = max(0, self._active_streams - 1)

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
