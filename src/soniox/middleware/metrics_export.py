"""Metrics sinks that export: Prometheus and OpenTelemetry.

Both write into what the application already set up — a ``prometheus_client`` registry (default
the global ``REGISTRY``) or an OpenTelemetry meter provider (default the global one; with no SDK
installed, instruments do nothing) — and configure neither. Every client writing to one registry
or provider shares its series (instruments are made once per registry / provider), and their
connection pools are reported together at collection time.

Prometheus (extra ``prometheus``), labels ``method`` / ``route`` / ``status`` / ``outcome``:

- ``soniox_client_requests_total``, ``soniox_client_request_duration_seconds`` — per call;
- ``soniox_client_attempts_total`` (+ ``connection`` new / reused),
  ``soniox_client_attempt_duration_seconds`` — per request on the wire;
- ``soniox_client_retries_total``, ``soniox_client_wait_seconds_total`` (``reason``; a wait
  between calls — a pending-transcription slot — has empty ``method`` and ``route``),
  ``soniox_client_cache_lookups_total`` (``result``), ``soniox_client_dedup_joins_total``;
- ``soniox_client_operation_duration_seconds`` (``operation``, ``outcome``);
- ``soniox_client_pool_connections`` (``lane``, ``state`` open / idle) and
  ``soniox_client_pool_connections_opened_total`` (``how`` prewarmed / on_demand).

OpenTelemetry: ``http.client.request.duration`` (s, per request on the wire, with
``http.request.method``, ``http.response.status_code``, ``server.address``, ``server.port``,
``error.type``, ``url.template``, ``network.protocol.version``), ``http.client.open_connections``
(``http.connection.state``), and ``soniox.client.call.duration``,
``soniox.client.operation.duration``, ``soniox.client.retries``, ``soniox.client.wait``,
``soniox.client.cache.lookups``, ``soniox.client.dedup.joins``,
``soniox.client.connection.uses``.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from soniox._version import __version__
from soniox.config import METRICS_SINK_NAMES, SonioxConfig
from soniox.errors import ClientValidationError
from soniox.middleware.metrics import (
    AttemptRecord,
    CallRecord,
    Metrics,
    MetricsSink,
    OperationRecord,
    PoolSource,
    RealtimeSessionRecord,
    WaitRecord,
)
from soniox.transport.httpcore_transport import PoolStats

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
    from prometheus_client import CollectorRegistry

__all__ = ["METRICS_SINKS", "OpenTelemetryMetrics", "PrometheusMetrics", "metrics_from_config"]

METRICS_SINKS: Final = METRICS_SINK_NAMES
"""The names ``SonioxConfig.metrics_sink`` takes (or a sink object)."""


def metrics_from_config(config: SonioxConfig) -> Metrics:
    """The ``metrics`` middleware ``config.metrics_sink`` asks for: ``"memory"`` (in-memory
    only), ``"prometheus"`` / ``"otel"`` (that exporter, plus in-memory), ``"none"`` (records
    nothing), or a sink object (it, plus in-memory)."""
    choice: object = config.metrics_sink
    if choice == "memory":
        return Metrics()
    if choice == "none":
        return Metrics(memory=False)
    if choice == "prometheus":
        return Metrics(PrometheusMetrics())
    if choice == "otel":
        return Metrics(OpenTelemetryMetrics())
    if isinstance(choice, MetricsSink):
        return Metrics(choice)
    raise ClientValidationError(
        f"metrics_sink must be one of {list(METRICS_SINKS)} or a MetricsSink, got {choice!r}",
        field="metrics_sink",
    )


# --- Prometheus ----------------------------------------------------------------------------------

_DEFAULT_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0,
    2.5, 5.0, 7.5, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
"""OpenTelemetry's advisory HTTP buckets, extended to minutes (operations wait for jobs)."""


def _status(status: int | None) -> str:
    return "none" if status is None else str(status)


class _PoolSources:
    """The pool statistics of every client bound to one registry or meter provider (weakly held:
    a client that is gone stops being reported)."""

    def __init__(self) -> None:
        self._sources: list[weakref.WeakMethod[PoolSource] | Callable[[], PoolSource | None]] = []
        self._lock = threading.Lock()

    def add(self, source: PoolSource) -> None:
        try:
            ref: Callable[[], PoolSource | None] = weakref.WeakMethod(source)  # type: ignore[arg-type]
        except TypeError:  # not a bound method: held strongly
            ref = lambda: source  # noqa: E731
        with self._lock:
            self._sources.append(ref)

    def stats(self) -> list[PoolStats]:
        with self._lock:
            sources = [ref() for ref in self._sources]
            self._sources = [ref for ref, got in zip(self._sources, sources, strict=True) if got]
        return [stats for source in sources if (stats := _read(source)) is not None]


def _read(source: PoolSource | None) -> PoolStats | None:
    """A pool's statistics, or None (no source any more, or a closed transport)."""
    if source is None:
        return None
    try:
        return source()
    except Exception:
        return None


class _PrometheusFamilies:
    """The metric families of one registry, made once (a name can be registered only once)."""

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float]) -> None:
        from prometheus_client import Counter as PCounter
        from prometheus_client import Histogram

        call = ["method", "route", "status", "outcome"]
        self.requests = PCounter(
            "soniox_client_requests_total",
            "Calls through the SDK's stack (all attempts and waits of one request), by outcome.",
            call,
            registry=registry,
        )
        self.duration = Histogram(
            "soniox_client_request_duration_seconds",
            "Duration of calls through the SDK's stack, retries and waits included.",
            call,
            buckets=buckets,
            registry=registry,
        )
        self.attempts = PCounter(
            "soniox_client_attempts_total",
            "Requests sent on the wire, by status and connection (new or reused).",
            ["method", "route", "status", "connection"],
            registry=registry,
        )
        self.attempt_duration = Histogram(
            "soniox_client_attempt_duration_seconds",
            "Duration of one request on the wire.",
            ["method", "route", "status"],
            buckets=buckets,
            registry=registry,
        )
        self.retries = PCounter(
            "soniox_client_retries_total",
            "Retries sent.",
            ["method", "route"],
            registry=registry,
        )
        self.waits = PCounter(
            "soniox_client_wait_seconds_total",
            "Seconds calls waited, by reason (retry, rate_limit, …).",
            ["method", "route", "reason"],
            registry=registry,
        )
        self.cache = PCounter(
            "soniox_client_cache_lookups_total",
            "Cache lookups, by result (hit or miss).",
            ["method", "route", "result"],
            registry=registry,
        )
        self.dedup = PCounter(
            "soniox_client_dedup_joins_total",
            "Calls answered by another caller's identical request in flight.",
            ["method", "route"],
            registry=registry,
        )
        self.operations = Histogram(
            "soniox_client_operation_duration_seconds",
            "Duration of SDK operations (stt.transcribe …), every request and wait included.",
            ["operation", "outcome"],
            buckets=buckets,
            registry=registry,
        )
        self.realtime_sessions = PCounter(
            "soniox_client_realtime_sessions_total",
            "Realtime sessions ended, by outcome (ok, error, closed).",
            ["outcome"],
            registry=registry,
        )
        self.realtime_reconnects = PCounter(
            "soniox_client_realtime_reconnects_total",
            "Realtime reconnections (each resumed the stream or failed it).",
            registry=registry,
        )
        self.realtime_audio = PCounter(
            "soniox_client_realtime_audio_bytes_total",
            "Realtime audio by fate: sent, paused (not sent), dropped by a full buffer.",
            ["fate"],
            registry=registry,
        )
        self.realtime_latency = Histogram(
            "soniox_client_realtime_latency_seconds",
            "Realtime latencies: connect, first token (after the first audio), "
            "finalization (after the last audio), quota wait (for a stream slot or a turn).",
            ["kind"],
            buckets=buckets,
            registry=registry,
        )
        self.pools = _PoolSources()
        registry.register(_PoolCollector(self.pools))


class _PoolCollector:
    """Connection gauges and counters, read from the bound transports at scrape time."""

    def __init__(self, pools: _PoolSources) -> None:
        self._pools = pools

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = self._pools.stats()
        if not stats:
            return []
        gauge = GaugeMetricFamily(
            "soniox_client_pool_connections",
            "Connections in the transport's pools now, by lane and state (open, idle).",
            labels=["lane", "state"],
        )
        lanes: Counter[tuple[str, str]] = Counter()
        for pool in stats:
            for lane, figures in pool.lanes.items():
                lanes[(lane, "open")] += figures.open
                lanes[(lane, "idle")] += figures.idle
        for (lane, state), value in sorted(lanes.items()):
            gauge.add_metric([lane, state], value)
        opened = CounterMetricFamily(
            "soniox_client_pool_connections_opened",
            "Connections opened (pre-warmed ones included).",
            labels=["how"],
        )
        opened.add_metric(["prewarmed"], sum(p.prewarmed for p in stats))
        opened.add_metric(["on_demand"], sum(p.opened - p.prewarmed for p in stats))
        return [gauge, opened]


_prometheus_families: weakref.WeakKeyDictionary[Any, _PrometheusFamilies] = (
    weakref.WeakKeyDictionary()
)
_prometheus_lock = threading.Lock()


class PrometheusMetrics:
    """Exports into a ``prometheus_client`` registry (default: the global ``REGISTRY``); the
    application serves it as it already does. Every client writing to one registry shares its
    series. Needs the ``prometheus`` extra (``prometheus-client``)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        buckets: Sequence[float] = _DEFAULT_BUCKETS,
    ) -> None:
        try:
            import prometheus_client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ClientValidationError(
                'metrics_sink="prometheus" needs prometheus-client: '
                'pip install "soniox-transport[prometheus]"',
                field="metrics_sink",
            ) from exc
        target = registry if registry is not None else prometheus_client.REGISTRY
        with _prometheus_lock:
            families = _prometheus_families.get(target)
            if families is None:
                families = _prometheus_families[target] = _PrometheusFamilies(target, buckets)
        self.registry = target
        self._f = families

    def bind_pool(self, source: PoolSource) -> None:
        self._f.pools.add(source)

    def record_attempt(self, record: AttemptRecord) -> None:
        f = self._f
        status = _status(record.status)
        f.attempts.labels(record.method, record.route, status, record.connection or "unknown").inc()
        f.attempt_duration.labels(record.method, record.route, status).observe(record.duration_s)

    def record_call(self, record: CallRecord) -> None:
        f = self._f
        labels = (record.method, record.route, _status(record.status), record.outcome)
        f.requests.labels(*labels).inc()
        f.duration.labels(*labels).observe(record.duration_s)
        if record.retries:
            f.retries.labels(record.method, record.route).inc(record.retries)
        for reason, seconds in record.waits.items():
            f.waits.labels(record.method, record.route, reason).inc(seconds)
        if record.cache is not None:
            f.cache.labels(record.method, record.route, record.cache).inc()
        if record.dedup_joined:
            f.dedup.labels(record.method, record.route).inc()

    def record_operation(self, record: OperationRecord) -> None:
        self._f.operations.labels(record.name, record.outcome).observe(record.duration_s)

    def record_wait(self, record: WaitRecord) -> None:
        self._f.waits.labels("", "", record.reason).inc(record.seconds)

    def record_realtime(self, record: RealtimeSessionRecord) -> None:
        f = self._f
        f.realtime_sessions.labels(record.outcome).inc()
        if record.reconnects:
            f.realtime_reconnects.inc(record.reconnects)
        for fate, size in _audio_fates(record):
            f.realtime_audio.labels(fate).inc(size)
        for kind, seconds in _realtime_latencies(record):
            f.realtime_latency.labels(kind).observe(seconds)

    def __repr__(self) -> str:
        return "PrometheusMetrics()"


# --- OpenTelemetry ---------------------------------------------------------------------------------

_HTTP_BUCKETS: Final = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
]  # fmt: skip
"""The semantic conventions' advisory buckets for ``http.client.request.duration``."""


class _OtelInstruments:
    """The instruments of one meter provider, made once."""

    def __init__(self, provider: MeterProvider | None) -> None:
        from opentelemetry import metrics

        meter = metrics.get_meter("soniox", __version__, meter_provider=provider)
        self.request_duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_HTTP_BUCKETS,
        )
        self.call_duration = meter.create_histogram(
            "soniox.client.call.duration",
            unit="s",
            description="Duration of calls through the SDK's stack, retries and waits included.",
            explicit_bucket_boundaries_advisory=list(_DEFAULT_BUCKETS),
        )
        self.operation_duration = meter.create_histogram(
            "soniox.client.operation.duration",
            unit="s",
            description="Duration of SDK operations, every request and wait included.",
            explicit_bucket_boundaries_advisory=list(_DEFAULT_BUCKETS),
        )
        self.retries = meter.create_counter(
            "soniox.client.retries", unit="{retry}", description="Retries sent."
        )
        self.waits = meter.create_counter(
            "soniox.client.wait", unit="s", description="Seconds calls waited, by reason."
        )
        self.cache = meter.create_counter(
            "soniox.client.cache.lookups", unit="{lookup}", description="Cache lookups by result."
        )
        self.dedup = meter.create_counter(
            "soniox.client.dedup.joins",
            unit="{call}",
            description="Calls answered by another caller's identical request in flight.",
        )
        self.connections = meter.create_counter(
            "soniox.client.connection.uses",
            unit="{request}",
            description="Requests sent, by whether their connection was new or reused.",
        )
        self.realtime_sessions = meter.create_counter(
            "soniox.realtime.sessions", unit="{session}", description="Realtime sessions ended."
        )
        self.realtime_reconnects = meter.create_counter(
            "soniox.realtime.reconnects", unit="{reconnect}", description="Realtime reconnections."
        )
        self.realtime_audio = meter.create_counter(
            "soniox.realtime.audio", unit="By", description="Realtime audio, by fate."
        )
        self.realtime_latency = meter.create_histogram(
            "soniox.realtime.latency",
            unit="s",
            description="Realtime latencies: connect, first token, finalization.",
            explicit_bucket_boundaries_advisory=list(_DEFAULT_BUCKETS),
        )
        self.pools = _PoolSources()
        meter.create_observable_up_down_counter(
            "http.client.open_connections",
            callbacks=[self._observe_pools],
            unit="{connection}",
            description="Connections in the SDK transport's pools, by state (active, idle).",
        )

    def _observe_pools(self, options: CallbackOptions) -> Iterable[Observation]:
        from opentelemetry.metrics import Observation

        found: list[Observation] = []
        for pool in self.pools.stats():
            for lane, figures in pool.lanes.items():
                found.append(
                    Observation(
                        figures.idle, {"http.connection.state": "idle", "soniox.lane": lane}
                    )
                )
                found.append(
                    Observation(
                        figures.open - figures.idle,
                        {"http.connection.state": "active", "soniox.lane": lane},
                    )
                )
        return found


_otel_instruments: dict[int, tuple[object, _OtelInstruments]] = {}
_otel_lock = threading.Lock()


def _http_attributes(
    method: str, route: str, status: int | None, error: str | None, address: str, port: int
) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "server.address": address,
        "server.port": port,
    }
    if route != "other":
        attributes["url.template"] = route
    if status is not None:
        attributes["http.response.status_code"] = status
    if error is not None:
        attributes["error.type"] = error
    return attributes


class OpenTelemetryMetrics:
    """Records into OpenTelemetry instruments through opentelemetry-api: with no SDK (or no
    meter provider set) they do nothing. ``meter_provider``: default the global one."""

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        key = id(meter_provider)
        with _otel_lock:
            found = _otel_instruments.get(key)
            if found is None or found[0] is not meter_provider:
                found = _otel_instruments[key] = (meter_provider, _OtelInstruments(meter_provider))
        self._i = found[1]

    def bind_pool(self, source: PoolSource) -> None:
        self._i.pools.add(source)

    def record_attempt(self, record: AttemptRecord) -> None:
        i = self._i
        attributes = _http_attributes(
            record.method,
            record.route,
            record.status,
            record.error_type,
            record.server_address,
            record.server_port,
        )
        version = _protocol_version(record.http_version)
        if version is not None:
            attributes["network.protocol.version"] = version
        i.request_duration.record(record.duration_s, attributes)
        if record.connection is not None:
            i.connections.add(1, {"soniox.connection.state": record.connection})

    def record_call(self, record: CallRecord) -> None:
        i = self._i
        attributes = _http_attributes(
            record.method,
            record.route,
            record.status,
            record.error_type,
            record.server_address,
            record.server_port,
        )
        attributes["soniox.outcome"] = record.outcome
        i.call_duration.record(record.duration_s, attributes)
        short = {"http.request.method": record.method, "url.template": record.route}
        if record.retries:
            i.retries.add(record.retries, short)
        for reason, seconds in record.waits.items():
            i.waits.add(seconds, {**short, "soniox.wait.reason": reason})
        if record.cache is not None:
            i.cache.add(1, {**short, "soniox.cache.result": record.cache})
        if record.dedup_joined:
            i.dedup.add(1, short)

    def record_operation(self, record: OperationRecord) -> None:
        attributes = {"soniox.operation": record.name, "soniox.outcome": record.outcome}
        if record.error_type is not None:
            attributes["error.type"] = record.error_type
        self._i.operation_duration.record(record.duration_s, attributes)

    def record_wait(self, record: WaitRecord) -> None:
        attributes = {"soniox.wait.reason": record.reason}
        if record.operation is not None:
            attributes["soniox.operation"] = record.operation
        self._i.waits.add(record.seconds, attributes)

    def record_realtime(self, record: RealtimeSessionRecord) -> None:
        i = self._i
        attributes = {"soniox.outcome": record.outcome, "server.address": record.server_address}
        if record.error_type is not None:
            attributes["error.type"] = record.error_type
        i.realtime_sessions.add(1, attributes)
        if record.reconnects:
            i.realtime_reconnects.add(record.reconnects)
        for fate, size in _audio_fates(record):
            i.realtime_audio.add(size, {"soniox.audio.fate": fate})
        for kind, seconds in _realtime_latencies(record):
            i.realtime_latency.record(seconds, {"soniox.latency.kind": kind})

    def __repr__(self) -> str:
        return "OpenTelemetryMetrics()"


def _audio_fates(record: RealtimeSessionRecord) -> list[tuple[str, int]]:
    fates = (
        ("sent", record.sent_bytes),
        ("paused", record.paused_bytes),
        ("dropped", record.dropped_bytes),
    )
    return [(fate, size) for fate, size in fates if size]


def _realtime_latencies(record: RealtimeSessionRecord) -> list[tuple[str, float]]:
    kinds = (
        ("connect", record.connect_s),
        ("first_token", record.first_token_s),
        ("finalization", record.finalization_s),
        ("quota_wait", record.quota_wait_s or None),
    )
    return [(kind, seconds) for kind, seconds in kinds if seconds is not None]


def _protocol_version(http_version: str | None) -> str | None:
    """``HTTP/1.1`` → ``1.1``, ``HTTP/2`` → ``2`` (OpenTelemetry's ``network.protocol.version``)."""
    if http_version is None or not http_version.startswith("HTTP/"):
        return None
    return http_version[5:]
