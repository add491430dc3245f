"""Metrics, tracing and connections against the emulator, under both clients.

Spans go to the OpenTelemetry SDK's in-memory exporter through a private tracer provider, and
Prometheus series to a private registry: the process-wide ones are never touched.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.data import __file__ as data_init
from soniox.emulator import Emulator
from soniox.errors import NotFoundError, RequestNotSentError
from soniox.middleware import Metrics, PrometheusMetrics, Tracing

SAMPLE = Path(data_init).parent / "sample-en.wav"
FAST = {"queue_delay_s": 0.01, "processing_speed": 1000.0, "min_processing_s": 0.01}
SECRET_KEY = "sk-observe-9d41c6b7e2f84a0c93b5d17e"
"""A key distinctive enough to find anywhere it leaks."""

Prepare = Callable[[Any], None]


def run(
    mode: str, config: SonioxConfig, call: Callable[[Any], Any], prepare: Prepare | None = None
) -> Any:
    """``call(client)`` with a fresh client of ``mode`` (``prepare`` edits it first)."""
    if mode == "sync":
        with SonioxClient(config=config) as client:
            if prepare is not None:
                prepare(client)
            return call(client)

    async def main() -> Any:
        async with AsyncSonioxClient(config=config) as client:
            if prepare is not None:
                prepare(client)
            result = call(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def traced(provider: TracerProvider) -> Prepare:
    def prepare(client: Any) -> None:
        client.stack.replace("tracing", Tracing(tracer_provider=provider))

    return prepare


def config_for(emulator: Emulator, **changes: Any) -> SonioxConfig:
    values: dict[str, Any] = {"api_key": emulator.api_key, "base_url": emulator.rest_base_url}
    return SonioxConfig.testing(**(values | changes))


def of_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind is kind]


def test_a_transcription_is_one_operation_span_over_its_attempts(
    mode: str, emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """transcribe_and_wait_with_tokens: one INTERNAL span; every attempt a CLIENT child, the
    retried create with resend_count 1; each request's traceparent names its span."""
    emulator.faults.fail("/v1/transcriptions", method="POST", status=429, retry_after=0)
    transcript = run(
        mode,
        config_for(emulator),
        lambda c: c.stt.transcribe_and_wait_with_tokens(file=SAMPLE, delete_after=True),
        traced(provider),
    )
    assert transcript.tokens
    spans = exporter.get_finished_spans()
    (operation,) = of_kind(spans, SpanKind.INTERNAL)
    attempts = of_kind(spans, SpanKind.CLIENT)
    assert operation.name == "soniox.stt.transcribe_and_wait_with_tokens"
    assert {s.parent.span_id for s in attempts} == {operation.context.span_id}  # type: ignore[union-attr]
    assert {s.context.trace_id for s in attempts} == {operation.context.trace_id}
    names = [s.name for s in attempts]
    assert names[:3] == ["POST /v1/files", "POST /v1/transcriptions", "POST /v1/transcriptions"]
    assert "GET /v1/transcriptions/{id}/transcript" in names
    assert attempts[2].attributes is not None
    assert attempts[2].attributes["http.request.resend_count"] == 1
    assert "soniox.retry.wait" in [e.name for e in operation.events]
    sent = {
        int(entry.header("traceparent").split("-")[2], 16)  # type: ignore[union-attr]
        for entry in emulator.journal.entries()
        if entry.path.startswith("/v1/")
    }
    assert sent == {s.context.span_id for s in attempts}


def test_no_secret_reaches_any_span(
    mode: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Success, retried 500s, a 404 and a key in the query: the key is in no span data."""
    with Emulator(api_keys=(SECRET_KEY,), **FAST) as emu:
        emu.faults.fail("/v1/models", status=500, times=2)
        config = SonioxConfig.testing(api_key=SECRET_KEY, base_url=emu.rest_base_url)

        def calls(client: Any) -> Any:
            async def both() -> None:
                await client.models.list()
                await client.request("GET", "/files", params={"api_key": SECRET_KEY})
                with pytest.raises(NotFoundError):
                    await client.files.get("missing-file")

            if mode == "async":
                return both()
            client.models.list()
            client.request("GET", "/files", params={"api_key": SECRET_KEY})
            with pytest.raises(NotFoundError):
                client.files.get("missing-file")
            return None

        run(mode, config, calls, traced(provider))
    spans = exporter.get_finished_spans()
    assert len(of_kind(spans, SpanKind.CLIENT)) == 5
    for span in spans:
        assert SECRET_KEY not in span.to_json()


def test_prometheus_counts_calls_and_connections(mode: str, emulator: Emulator) -> None:
    """Three models.list(): three calls, one new connection then two reused, pool gauges."""
    registry = CollectorRegistry()

    def prepare(client: Any) -> None:
        metrics = Metrics(PrometheusMetrics(registry))
        client.stack.replace("metrics", metrics)
        metrics.bind_pool(client.transport.pool_stats)

    async def thrice_async(client: Any) -> None:
        for _ in range(3):
            await client.models.list()

    def thrice(client: Any) -> Any:
        if mode == "async":
            return thrice_async(client)
        for _ in range(3):
            client.models.list()
        assert (
            registry.get_sample_value(
                "soniox_client_pool_connections", {"lane": "h1", "state": "open"}
            )
            == 1
        )
        return None

    run(mode, config_for(emulator), thrice, prepare)
    value = registry.get_sample_value
    call = {"method": "GET", "route": "/v1/models", "status": "200", "outcome": "ok"}
    assert value("soniox_client_requests_total", call) == 3
    attempt = {"method": "GET", "route": "/v1/models", "status": "200"}
    assert value("soniox_client_attempts_total", attempt | {"connection": "new"}) == 1
    assert value("soniox_client_attempts_total", attempt | {"connection": "reused"}) == 2
    op = {"operation": "models.list", "outcome": "ok"}
    assert value("soniox_client_operation_duration_seconds_count", op) == 3


def test_the_snapshot_has_counts_and_percentiles(mode: str, emulator: Emulator) -> None:
    """client.metrics.snapshot(): per-route counts, ordered percentiles, operations, the pool."""
    config = config_for(emulator, middleware=("headers", "metrics", "retry", "logging"))

    async def many_async(client: Any) -> Any:
        for _ in range(20):
            await client.models.list()
        return client.metrics.snapshot()

    def many(client: Any) -> Any:
        if mode == "async":
            return many_async(client)
        for _ in range(20):
            client.models.list()
        return client.metrics.snapshot()

    snapshot = run(mode, config, many)
    route = snapshot.route("GET", "/v1/models")
    assert (route.calls, route.attempts, route.statuses) == (20, 20, {"200": 20})
    assert 0 < route.latency.p50 <= route.latency.p95 <= route.latency.p99 <= route.latency.max
    assert snapshot.operations["models.list"].calls == 20
    assert (snapshot.connections_new, snapshot.connections_reused) == (1, 19)
    assert snapshot.pool is not None
    assert snapshot.pool.open == 1


@pytest.mark.parametrize("http2", [False, True])
def test_pool_stats_tell_new_from_reused(mode: str, emulator: Emulator, http2: bool) -> None:
    """Three sequential calls: one connection opened, the other two requests reuse it."""

    async def three_async(client: Any) -> Any:
        for _ in range(3):
            await client.models.list()
        return client.transport.pool_stats()

    def three(client: Any) -> Any:
        if mode == "async":
            return three_async(client)
        for _ in range(3):
            client.models.list()
        return client.transport.pool_stats()

    stats = run(mode, config_for(emulator, http2=http2), three)
    lane = "h2c" if http2 else "h1"
    assert (stats.opened, stats.requests_new, stats.requests_reused) == (1, 1, 2)
    assert stats.lanes[lane].open == 1
    assert stats.lanes[lane].idle == 1


def test_prewarm_opens_tls_connections_the_first_calls_reuse(tls_emulator: Emulator) -> None:
    """prewarm(2) over TLS: two idle connections before any call; the first call reuses one."""
    config = SonioxConfig.testing(
        api_key=tls_emulator.api_key,
        base_url=tls_emulator.tls_rest_base_url,
        verify=tls_emulator.ssl_context(),
    )
    with SonioxClient(config=config) as client:
        assert client.prewarm(2) == 2
        before = client.transport.pool_stats()  # type: ignore[attr-defined]
        assert (before.opened, before.prewarmed, before.open, before.idle) == (2, 2, 2, 2)
        assert tls_emulator.journal.entries() == []
        client.models.list()
        assert client.prewarm(2) == 0  # both still open
        after = client.transport.pool_stats()  # type: ignore[attr-defined]
    assert (after.opened, after.requests_new, after.requests_reused) == (2, 0, 1)
    (entry,) = tls_emulator.journal.entries()
    assert entry.scheme == "https"


def test_aprewarm_opens_one_http2_connection(tls_emulator: Emulator) -> None:
    """HTTP/2 over TLS (ALPN): one connection carries everything, so one is pre-warmed."""
    config = SonioxConfig.testing(
        api_key=tls_emulator.api_key,
        base_url=tls_emulator.tls_rest_base_url,
        verify=tls_emulator.ssl_context(),
        http2=True,
    )

    async def main() -> Any:
        async with AsyncSonioxClient(config=config) as client:
            assert await client.aprewarm(4) == 1
            await client.models.list()
            await client.models.list()
            return client.transport.pool_stats()  # type: ignore[attr-defined]

    stats = asyncio.run(main())
    assert (stats.opened, stats.prewarmed, stats.requests_new, stats.requests_reused) == (
        1,
        1,
        0,
        2,
    )
    assert {e.http_version for e in tls_emulator.journal.entries()} == {"2"}


def test_prewarm_connections_warms_beside_the_first_call(mode: str, tls_emulator: Emulator) -> None:
    """prewarm_connections=3: the first call starts filling the pool to three connections
    beside it; the next call rides one of them, opening nothing."""
    config = SonioxConfig.testing(
        api_key=tls_emulator.api_key,
        base_url=tls_emulator.tls_rest_base_url,
        verify=tls_emulator.ssl_context(),
        prewarm_connections=3,
    )

    async def calls_async(client: Any) -> Any:
        await client.models.list()
        await asyncio.wait([client._core.prewarming])
        warmed = client.transport.pool_stats()
        await client.models.list()
        return warmed, client.transport.pool_stats()

    def calls(client: Any) -> Any:
        if mode == "async":
            return calls_async(client)
        client.models.list()
        client._core.prewarming.join()
        warmed = client.transport.pool_stats()
        client.models.list()
        return warmed, client.transport.pool_stats()

    warmed, after = run(mode, config, calls)
    assert warmed.open in (3, 4)  # 4: the pre-warm looked before the first call had connected
    assert warmed.prewarmed >= 2
    assert warmed.opened == warmed.prewarmed + warmed.requests_new
    assert after.opened == warmed.opened
    assert after.requests_reused == warmed.requests_reused + 1


def test_prewarm_failure_raises_but_first_use_leaves_it_to_the_call() -> None:
    """A port nobody listens on: explicit prewarm raises RequestNotSentError; the lazy one is
    silent and the call reports its own failure."""
    config = SonioxConfig.testing(
        api_key="sk-unused-0123456789", base_url="http://127.0.0.1:9/v1", max_retries=0
    )
    with SonioxClient(config=config) as client, pytest.raises(RequestNotSentError):
        client.prewarm(1)
    with (
        SonioxClient(config=config.evolve(prewarm_connections=2)) as client,
        pytest.raises(RequestNotSentError),
    ):
        client.models.list()
