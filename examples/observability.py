"""Metrics, traces and connections: what the SDK's calls did, without configuring anything twice.

    python examples/observability.py              # against a local emulator
    SONIOX_API_KEY=... python examples/observability.py

The ``metrics`` middleware keeps counts and p50/p95/p99 latency per route and per operation
(``client.metrics.snapshot()``; ``metrics_sink="prometheus"`` or ``"otel"`` exports them too).
The ``tracing`` middleware makes one span per SDK operation and one per HTTP attempt through
whatever OpenTelemetry tracer provider the application set up — here, when ``opentelemetry-sdk``
is installed, one that keeps spans in memory so they can be printed; without it, tracing costs
nothing and only the metrics are shown. ``client.prewarm()`` opens connections before the
first call.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from _connect import add_connection_args, soniox_client

from soniox import SonioxConfig
from soniox.data import __file__ as data_init


def setup_tracing() -> Any | None:
    """An in-memory span exporter on the global tracer provider, if the OpenTelemetry SDK is
    installed (the application's job, not the SDK's: it never configures tracing)."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        print("opentelemetry-sdk is not installed: metrics only (tracing costs nothing)")
        return None
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def print_spans(exporter: Any) -> None:
    """Each operation span with its attempt spans below it."""
    spans = exporter.get_finished_spans()
    children: dict[int, list[Any]] = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    print("traces:")
    for span in spans:
        if span.parent is not None:
            continue
        print(f"  {span.name}  [{span.kind.name}]")
        for child in children.get(span.context.span_id, []):
            attributes: dict[str, Any] = dict(child.attributes or {})
            resend = attributes.get("http.request.resend_count")
            retry = f", resend_count={resend}" if resend else ""
            print(
                f"    └ {child.name}  [{child.kind.name}] "
                f"status={attributes.get('http.response.status_code')}{retry}"
            )
        for event in span.events:
            print(f"    · event {event.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()
    exporter = setup_tracing()
    config = SonioxConfig.production(prewarm_connections=2)  # tracing and metrics are in it
    sample = Path(data_init).parent / "sample-en.wav"
    with soniox_client(
        args.api_key, args.base_url, config=config, queue_delay_s=0.05, processing_speed=200.0
    ) as client:
        print(client.stack)
        print(f"pre-warmed {client.prewarm()} connection(s) before the first call")
        for _ in range(5):
            client.models.list()
        transcript = client.stt.transcribe_and_wait_with_tokens(file=sample, delete_after=True)
        print(f"transcribed {len(transcript.tokens)} tokens")
        snapshot = client.metrics.snapshot()
        print("metrics:")
        print(snapshot)
        pool = snapshot.pool
        if pool is not None:
            print(
                f"pool: opened {pool.opened} (pre-warmed {pool.prewarmed}), requests on a new "
                f"connection {pool.requests_new}, on a reused one {pool.requests_reused}"
            )
    if exporter is not None:
        print_spans(exporter)


if __name__ == "__main__":
    main()
