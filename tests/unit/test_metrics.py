"""The metrics middleware and its sinks, over the in-memory transport (no sockets)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError, RequestNotSentError
from soniox.middleware import (
    CallNext,
    Effect,
    Flow,
    MemoryMetrics,
    Metrics,
    OpenTelemetryMetrics,
    PrometheusMetrics,
    Retry,
    RetryPolicy,
    Stack,
    cache_lookup,
    dedup_joined,
    wait,
    waited,
)
from soniox.middleware.metrics import (
    AttemptRecord,
    CallRecord,
    Latency,
    OperationRecord,
)
from soniox.middleware.metrics_export import metrics_from_config
from soniox.transport import FakeClock, InMemoryTransport, Reply, Request, Response, Transport

KEY = "sk-unit-metrics-0123456789abcdef"
BASE = "http://127.0.0.1:9/v1"
MODELS: dict[str, Any] = {"models": []}


def client(transport: InMemoryTransport, *middleware: object) -> SonioxClient:
    config = SonioxConfig.testing(api_key=KEY, base_url=BASE)
    return SonioxClient(config=config, transport=transport, stack=Stack(middleware))


def call(route: str = "/v1/models", seconds: float = 0.01, **changes: Any) -> CallRecord:
    values: dict[str, Any] = {
        "method": "GET",
        "route": route,
        "status": 200,
        "outcome": "ok",
        "error_type": None,
        "duration_s": seconds,
        "attempts": 1,
        "retries": 0,
        "waits": {},
        "cache": None,
        "dedup_joined": False,
        "server_address": "127.0.0.1",
        "server_port": 9,
        "operation": None,
    }
    return CallRecord(**(values | changes))


def test_percentiles_are_nearest_rank_over_the_window() -> None:
    """100 calls of 1..100 ms: p50 50 ms, p95 95 ms, p99 99 ms, max 100 ms."""
    memory = MemoryMetrics()
    for ms in range(100, 0, -1):
        memory.record_call(call(seconds=ms / 1000))
    latency = memory.snapshot().route("GET", "/v1/models")
    assert latency is not None
    assert latency.latency == Latency(100, 0.050, 0.095, 0.099, 0.100, pytest.approx(0.0505))


def test_the_window_bounds_what_percentiles_see() -> None:
    """Only the last `window` calls count for percentiles; counts keep everything."""
    memory = MemoryMetrics(window=10)
    for ms in range(1, 101):
        memory.record_call(call(seconds=ms / 1000))
    snap = memory.snapshot()
    assert snap.calls == 100
    assert snap.latency.count == 10
    assert snap.latency.p50 == 0.095


def test_a_retried_call_counts_its_attempts_retries_and_waits() -> None:
    """503, 503, 200 through retry: one call, three attempts, two retries, retry waits summed."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([Reply(503), Reply(503), Reply(200)], clock=clock)
    metrics = Metrics()
    with client(transport, metrics, Retry(RetryPolicy(max_retries=3))) as c:
        assert c.request("GET", "/models").status == 200
    snap = c.metrics.snapshot()
    route = snap.route("GET", "/v1/models")
    assert route is not None
    assert (route.calls, route.attempts, route.retries) == (1, 3, 2)
    assert route.statuses == {"200": 1}
    assert route.waits["retry"] == pytest.approx(clock.slept)


def test_a_failed_call_has_outcome_error_and_no_status() -> None:
    """A transport failure: outcome 'error', status 'none', counted as an error."""
    transport = InMemoryTransport.sequence([RequestNotSentError("refused")])
    with client(transport, Metrics()) as c, pytest.raises(RequestNotSentError):
        c.request("GET", "/models")
    route = c.metrics.snapshot().route("GET", "/v1/models")
    assert route is not None
    assert route.outcomes == {"error": 1}
    assert route.statuses == {"none": 1}
    assert route.errors == 1


@attrs.frozen
class Blocking(Effect):
    """A blocking effect of another middleware (a shared permit), timed by observers."""

    wait_reason = "concurrency"

    def run(self, transport: Transport) -> None:
        return None

    async def arun(self, transport: Transport) -> None:
        return None


class Reporter:
    """Reports as the cache, dedup and rate-limit middleware are told to."""

    name = "reporter"

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        yield from cache_lookup(hit=False)
        yield from dedup_joined()
        yield from waited(0.5, "rate_limit")
        yield from wait(0.25, "rate_limit")
        yield Blocking()
        return (yield from call_next(request))


def test_reports_of_inner_middleware_reach_the_call_record() -> None:
    """Cache miss, dedup join, rate-limit waits and a timed blocking effect land on the call."""
    records: list[CallRecord] = []

    class Sink:
        def record_attempt(self, record: AttemptRecord) -> None: ...
        def record_call(self, record: CallRecord) -> None:
            records.append(record)

        def record_operation(self, record: OperationRecord) -> None: ...

    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, Metrics(Sink()), Reporter()) as c:
        c.request("GET", "/models")
    (record,) = records
    assert record.cache == "miss"
    assert record.dedup_joined
    assert record.rate_limit_wait_s == pytest.approx(0.75)
    assert "concurrency" in record.waits
    assert record.attempts == 1


def test_a_cache_hit_is_a_call_without_attempts() -> None:
    """A middleware that answers itself: the call is recorded with zero attempts and a hit."""

    class Cached:
        name = "cached"

        def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
            yield from cache_lookup(hit=True)
            return Response.build(200, request, json_body=MODELS)

    transport = InMemoryTransport(lambda r: Reply(500))
    with client(transport, Metrics(), Cached()) as c:
        c.request("GET", "/models")
    snap = c.metrics.snapshot()
    assert (snap.calls, snap.attempts, snap.cache_hits) == (1, 0, 1)
    assert transport.requests == []


def test_operations_are_timed_with_their_outcome() -> None:
    """A namespace call records its operation (models.list) once, with outcome ok."""
    transport = InMemoryTransport(lambda r: Reply(200, json_body=MODELS))
    with client(transport, Metrics()) as c:
        c.models.list()
        c.models.list()
    op = c.metrics.snapshot().operations["models.list"]
    assert (op.calls, op.errors) == (2, 0)


def test_a_raising_sink_never_breaks_a_call(caplog: pytest.LogCaptureFixture) -> None:
    """Every record raises: calls succeed, failures are counted and logged once."""

    class Broken:
        def record_attempt(self, record: AttemptRecord) -> None:
            raise RuntimeError("sink down")

        record_call = record_attempt  # type: ignore[assignment]
        record_operation = record_attempt  # type: ignore[assignment]

    transport = InMemoryTransport(lambda r: Reply(200, json_body=MODELS))
    with (
        caplog.at_level(logging.WARNING, logger="soniox"),
        client(transport, Metrics(Broken())) as c,
    ):
        for _ in range(3):
            c.models.list()
    assert c.metrics.sink_errors == 9  # attempt, call and operation, three times
    assert c.metrics.snapshot().calls == 3  # the in-memory sink still recorded
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sink down" in warnings[0].getMessage()


def test_a_raising_sink_never_breaks_an_async_call() -> None:
    """The same under the async client."""

    class Broken:
        def record_attempt(self, record: object) -> None:
            raise RuntimeError("sink down")

        record_call = record_attempt
        record_operation = record_attempt

    async def main() -> int:
        transport = InMemoryTransport(lambda r: Reply(200, json_body=MODELS))
        config = SonioxConfig.testing(api_key=KEY, base_url=BASE)
        metrics = Metrics(Broken())  # type: ignore[arg-type]
        async with AsyncSonioxClient(
            config=config, transport=transport, stack=Stack([metrics])
        ) as c:
            await c.models.list()
        return metrics.sink_errors

    assert asyncio.run(main()) == 3


def test_without_the_middleware_the_client_gives_a_disabled_stand_in() -> None:
    """client.metrics works under any stack: disabled, empty snapshot."""
    with client(InMemoryTransport()) as c:
        metrics = c.metrics
        assert not metrics.enabled
        assert metrics.snapshot().calls == 0


def test_metrics_sink_none_records_nothing() -> None:
    """metrics_sink='none': the middleware steps aside."""
    config = SonioxConfig.testing(metrics_sink="none")
    metrics = metrics_from_config(config)
    assert not metrics.enabled
    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, metrics) as c:
        c.request("GET", "/models")
    assert metrics.snapshot().calls == 0


def test_the_config_names_the_sink() -> None:
    """metrics_sink picks the exporter; the in-memory sink always comes along."""
    kinds = {
        name: [type(s).__name__ for s in metrics_from_config(SonioxConfig(metrics_sink=name)).sinks]
        for name in ("memory", "prometheus", "otel")
    }
    assert kinds == {
        "memory": ["MemoryMetrics"],
        "prometheus": ["MemoryMetrics", "PrometheusMetrics"],
        "otel": ["MemoryMetrics", "OpenTelemetryMetrics"],
    }
    sink = MemoryMetrics()
    assert metrics_from_config(SonioxConfig(metrics_sink=sink)).sinks[1] is sink


@pytest.mark.parametrize("bad", ["statsd", 3, object()])
def test_a_bad_metrics_sink_fails_at_construction(bad: object) -> None:
    """An unknown name or an object without the record methods is refused, naming the field."""
    with pytest.raises(ClientValidationError) as info:
        SonioxConfig(metrics_sink=bad)
    assert info.value.field == "metrics_sink"


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_a_bad_prewarm_count_fails_at_construction(bad: object) -> None:
    """prewarm_connections is a whole number >= 0."""
    with pytest.raises(ClientValidationError) as info:
        SonioxConfig(prewarm_connections=bad)
    assert info.value.field == "prewarm_connections"


def test_prometheus_series_carry_route_status_and_outcome() -> None:
    """Two calls and a retried one land in a private registry under bounded labels."""
    registry = CollectorRegistry()
    transport = InMemoryTransport.sequence([Reply(200), Reply(200), Reply(503), Reply(200)])
    with client(
        transport, Metrics(PrometheusMetrics(registry)), Retry(RetryPolicy(max_retries=2))
    ) as c:
        for _ in range(3):
            c.request("GET", "/transcriptions/3f2a6d1e-1234-4a5b-9c8d-0123456789ab")
    labels = {"method": "GET", "route": "/v1/transcriptions/{id}", "status": "200", "outcome": "ok"}
    value = registry.get_sample_value
    assert value("soniox_client_requests_total", labels) == 3
    assert value("soniox_client_request_duration_seconds_count", labels) == 3
    short = {"method": "GET", "route": "/v1/transcriptions/{id}"}
    assert value("soniox_client_retries_total", short) == 1
    assert value("soniox_client_wait_seconds_total", short | {"reason": "retry"}) is not None
    attempts = {"method": "GET", "route": "/v1/transcriptions/{id}", "status": "503"}
    assert value("soniox_client_attempts_total", attempts | {"connection": "unknown"}) == 1
    assert (
        value(
            "soniox_client_operation_duration_seconds_count",
            {"operation": "request", "outcome": "ok"},
        )
        == 3
    )


def test_two_clients_share_one_registry() -> None:
    """A second sink on the same registry reuses its series instead of failing to register."""
    registry = CollectorRegistry()
    first, second = PrometheusMetrics(registry), PrometheusMetrics(registry)
    for sink in (first, second):
        sink.record_call(call())
    labels = {"method": "GET", "route": "/v1/models", "status": "200", "outcome": "ok"}
    assert registry.get_sample_value("soniox_client_requests_total", labels) == 2


def test_opentelemetry_records_http_client_request_duration() -> None:
    """http.client.request.duration, in seconds, with the semantic-convention attributes."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    transport = InMemoryTransport(lambda r: Reply(404))
    with client(transport, Metrics(OpenTelemetryMetrics(provider))) as c:
        c.request("GET", "/files/3f2a6d1e-1234-4a5b-9c8d-0123456789ab")
    data = reader.get_metrics_data()
    assert data is not None
    metrics = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    duration = metrics["http.client.request.duration"]
    assert duration.unit == "s"
    (point,) = duration.data.data_points  # type: ignore[attr-defined]
    assert dict(point.attributes) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": 9,
        "url.template": "/v1/files/{id}",
        "http.response.status_code": 404,
        "error.type": "404",
    }
    assert "soniox.client.operation.duration" in metrics


def test_a_wait_between_calls_adds_to_the_snapshots_waits() -> None:
    """record_wait (a pending slot before a create) shows in waits by its reason, beside the
    waits of calls; a zero wait records nothing."""
    metrics = Metrics()
    metrics.record_wait("pending_transcriptions", 0.25, "stt.transcribe")
    metrics.record_wait("pending_transcriptions", 0.5)
    metrics.record_wait("pending_transcriptions", 0.0)
    assert metrics.snapshot().waits == {"pending_transcriptions": 0.75}


def test_exporting_sinks_count_a_wait_between_calls() -> None:
    """Prometheus counts it with empty method and route; OpenTelemetry with its reason and
    operation."""
    registry = CollectorRegistry()
    reader = InMemoryMetricReader()
    metrics = Metrics(PrometheusMetrics(registry), OpenTelemetryMetrics(MeterProvider([reader])))
    metrics.record_wait("pending_transcriptions", 1.5, "stt.transcribe")
    labels = {"method": "", "route": "", "reason": "pending_transcriptions"}
    assert registry.get_sample_value("soniox_client_wait_seconds_total", labels) == 1.5
    data = reader.get_metrics_data()
    assert data is not None
    (waits,) = [
        m
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "soniox.client.wait"
    ]
    (point,) = waits.data.data_points  # type: ignore[attr-defined]
    assert point.value == 1.5
    assert dict(point.attributes) == {
        "soniox.wait.reason": "pending_transcriptions",
        "soniox.operation": "stt.transcribe",
    }
