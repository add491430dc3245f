"""The ``observe`` link: metrics, a span and log lines for every realtime session.

Through the client's own sinks — the ``metrics`` middleware's (``client.metrics.snapshot()
.realtime``, Prometheus, OpenTelemetry): one :class:`~soniox.middleware.metrics.
RealtimeSessionRecord` per session at its end, with first-token latency (first audio → first
token), finalization latency (last audio → final result), connect time, audio sent / paused /
dropped, the buffer's peak and reconnects. A span ``soniox.realtime.stt`` (CLIENT) per session,
with an event per reconnection, resume, gap and drop, through the OpenTelemetry API (free
without an SDK). Log lines on the ``soniox`` logger (structlog when configured): the session's
start and end at DEBUG, reconnections and gaps at WARNING. Nothing is configured here; no key
reaches a record, a span or a line.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs

from soniox.errors import SonioxError
from soniox.middleware.logging import log_event
from soniox.middleware.metrics import Metrics, RealtimeSessionRecord
from soniox.middleware.tracing import Tracing
from soniox.types import RealtimeEvent

from .chain import LinkContext, LinkHooks, RealtimeLink, register_realtime_link
from .core import AudioDropped, GapNotice, Reconnecting, Resumed, SessionNotice

__all__ = ["Observe", "SessionObserver"]


@attrs.frozen
class Observe(RealtimeLink):
    """Metrics, tracing and logging per session (each can be switched off)."""

    name: ClassVar[str] = "observe"
    metrics: bool = True
    tracing: bool = True
    logging: bool = True
    tracer_provider: Any = attrs.field(default=None, repr=False)
    """Where spans go (default: the global provider, looked up per session)."""
    _tracing: Tracing = attrs.field(
        init=False,
        repr=False,
        eq=False,
        default=attrs.Factory(
            lambda self: Tracing(tracer_provider=self.tracer_provider), takes_self=True
        ),
    )

    def open(self, context: LinkContext) -> LinkHooks | None:
        if not (self.metrics or self.tracing or self.logging):
            return None
        sink = _metrics_of(context.client) if self.metrics else None
        tracing = self._tracing if self.tracing else None
        return SessionObserver(context, sink, tracing, logging=self.logging)


def _metrics_of(client: object | None) -> Metrics | None:
    found = getattr(client, "metrics", None) if client is not None else None
    return found if isinstance(found, Metrics) and found.enabled else None


class SessionObserver(LinkHooks):
    """One session's measurements (times from ``time.perf_counter``)."""

    def __init__(
        self,
        context: LinkContext,
        metrics: Metrics | None,
        tracing: Tracing | None,
        *,
        logging: bool,
    ) -> None:
        self._context = context
        self._metrics = metrics
        self._logging = logging
        self._created = time.perf_counter()
        self._opened: float | None = None
        self._first_audio: float | None = None
        self._last_audio: float | None = None
        self._first_token: float | None = None
        self._final_tokens = 0
        self._finished_at: float | None = None
        self._address = urlsplit(context.url).hostname or ""
        self._span: Any = None
        self._dropping = False
        self._tracing = tracing
        if tracing is not None:
            tracer = tracing.tracer()
            if tracer is not None:
                self._span = tracing.guard.call(self._start_span, tracer)

    def _start_span(self, tracer: Any) -> Any:
        config = self._context.config
        return tracer.start_span(
            "soniox.realtime.stt",
            kind=_client_kind(),
            attributes={
                "server.address": self._address,
                "soniox.model": str(config.model),
                "soniox.audio_format": str(config.audio_format),
                "soniox.flavour": self._context.flavour,
            },
        )

    # --- hooks ----------------------------------------------------------------------------
    def on_open(self) -> None:
        self._opened = time.perf_counter()
        self._log("soniox.realtime.open", "realtime session open", {}, logging.DEBUG)

    def on_audio(self, chunk: bytes) -> bytes:
        now = time.perf_counter()
        if self._first_audio is None:
            self._first_audio = now
        self._last_audio = now
        return chunk

    def on_event(self, event: RealtimeEvent) -> None:
        tokens = event.tokens
        if not tokens:
            if event.finished:
                self._finished_at = time.perf_counter()
            return
        if self._first_token is None:
            self._first_token = time.perf_counter()
            self._span_event("first_token", {})
        self._final_tokens += sum(1 for token in tokens if token.is_final)
        if event.finished:
            self._finished_at = time.perf_counter()

    def on_notice(self, notice: SessionNotice) -> None:
        if isinstance(notice, Reconnecting):
            fields: dict[str, Any] = {
                "attempt": notice.attempt,
                "delay_s": round(notice.delay_s, 4),
                "reason": notice.reason,
            }
            self._span_event("reconnecting", fields)
            self._log("soniox.realtime.reconnecting", "realtime reconnecting", fields, logging.INFO)
        elif isinstance(notice, Resumed):
            self._dropping = False
            fields = {"offset_ms": notice.offset_ms, "replayed_bytes": notice.replayed_bytes}
            self._span_event("resumed", fields)
            self._log("soniox.realtime.resumed", "realtime stream resumed", fields, logging.INFO)
        elif isinstance(notice, GapNotice):
            gap = notice.gap
            fields = {"start_ms": gap.start_ms, "end_ms": gap.end_ms, "reason": gap.reason}
            self._span_event("gap", {k: v for k, v in fields.items() if v is not None})
            self._log("soniox.realtime.gap", "realtime transcript gap", fields)
        elif isinstance(notice, AudioDropped):  # pyright: ignore[reportUnnecessaryIsInstance]
            if self._dropping:
                return  # one line and one span event per outage; the gap tells the rest
            self._dropping = True
            fields = {"bytes": notice.bytes, "total_bytes": notice.total_bytes}
            self._span_event("audio_dropped", fields)
            self._log("soniox.realtime.dropped", "realtime audio dropped (buffer full)", fields)

    def on_end(self, error: SonioxError | None, stats: dict[str, Any]) -> None:
        now = time.perf_counter()
        outcome = (
            "error" if error is not None else "ok" if stats["state"] == "finished" else "closed"
        )
        record = RealtimeSessionRecord(
            flavour=self._context.flavour,
            model=str(self._context.config.model),
            outcome=outcome,
            error_type=None if error is None else type(error).__name__,
            duration_s=now - self._created,
            connect_s=None if self._opened is None else self._opened - self._created,
            first_token_s=_since(self._first_audio, self._first_token),
            finalization_s=_since(self._last_audio, self._finished_at),
            audio_bytes=stats["audio_bytes"],
            sent_bytes=stats["sent_bytes"],
            paused_bytes=stats["paused_bytes"],
            dropped_bytes=stats["dropped_bytes"],
            peak_buffer_bytes=stats["peak_pending_bytes"],
            reconnects=stats["reconnects"],
            final_tokens=self._final_tokens,
            server_address=self._address,
            quota_wait_s=float(stats.get("quota_wait_s", 0.0)),
        )
        if self._metrics is not None:
            self._metrics.record_realtime(record)
        level = logging.DEBUG if error is None else logging.WARNING
        fields = {
            "outcome": outcome,
            "error_type": record.error_type,
            "duration_s": round(record.duration_s, 4),
            "reconnects": record.reconnects,
            "sent_bytes": record.sent_bytes,
        }
        self._log("soniox.realtime.end", "realtime session ended", fields, level)
        span = self._span
        if span is not None and self._tracing is not None:
            self._span = None
            self._tracing.guard.call(self._end_span, span, record, error)

    # --- helpers ----------------------------------------------------------------------------
    def _end_span(
        self, span: Any, record: RealtimeSessionRecord, error: SonioxError | None
    ) -> None:
        span.set_attributes(
            {
                "soniox.outcome": record.outcome,
                "soniox.reconnects": record.reconnects,
                "soniox.audio.sent_bytes": record.sent_bytes,
                "soniox.audio.dropped_bytes": record.dropped_bytes,
                "soniox.final_tokens": record.final_tokens,
            }
        )
        if record.first_token_s is not None:
            span.set_attribute("soniox.first_token_s", record.first_token_s)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, str(error)))
        span.end()

    def _span_event(self, name: str, fields: dict[str, Any]) -> None:
        span = self._span
        if span is not None and self._tracing is not None:
            self._tracing.guard.call(span.add_event, name, fields)

    def _log(
        self, event: str, message: str, fields: dict[str, Any], level: int = logging.WARNING
    ) -> None:
        if self._logging:
            log_event(event, message, {"server_address": self._address, **fields}, level)


def _since(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else max(0.0, end - start)


def _client_kind() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT


register_realtime_link("observe", lambda config: Observe())
