"""The tracing middleware over the in-memory transport, with the OpenTelemetry SDK's in-memory
exporter (a private provider: the global one is never set by these tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import RequestNotSentError
from soniox.middleware import (
    CallNext,
    Flow,
    Retry,
    RetryPolicy,
    Stack,
    Tracing,
    cache_lookup,
    wait,
)
from soniox.middleware.tracing import url_full
from soniox.transport import URL, InMemoryTransport, Reply, Request, Response

KEY = "sk-trace-unit-7c1e0f9b2a4d4e6f8a0b"
BASE = "http://127.0.0.1:9/v1"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def client(transport: InMemoryTransport, *middleware: object) -> SonioxClient:
    config = SonioxConfig.testing(api_key=KEY, base_url=BASE)
    return SonioxClient(config=config, transport=transport, stack=Stack(middleware))


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is kind]


def test_each_attempt_is_a_client_span_under_the_operation(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """503 then 200 through retry: two CLIENT spans, children of one INTERNAL operation span."""
    transport = InMemoryTransport.sequence([Reply(503), Reply(200)])
    tracing = Tracing(tracer_provider=provider)
    with client(transport, tracing, Retry(RetryPolicy(max_retries=2))) as c:
        c.request("GET", "/transcriptions/3f2a6d1e-1234-4a5b-9c8d-0123456789ab")
    spans = exporter.get_finished_spans()
    (operation,) = by_kind(spans, SpanKind.INTERNAL)
    first, second = by_kind(spans, SpanKind.CLIENT)
    assert operation.name == "soniox.request"
    assert first.name == "GET /v1/transcriptions/{id}"
    assert {first.parent.span_id, second.parent.span_id} == {operation.context.span_id}  # type: ignore[union-attr]
    assert first.attributes is not None
    assert second.attributes is not None
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.request.resend_count"] == 1
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["url.template"] == "/v1/transcriptions/{id}"
    assert [e.name for e in operation.events] == ["soniox.retry.wait"]


def test_traceparent_names_the_attempts_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Each request carries a W3C traceparent with its own CLIENT span's ids."""
    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, Tracing(tracer_provider=provider)) as c:
        c.request("GET", "/models")
    (span,) = by_kind(exporter.get_finished_spans(), SpanKind.CLIENT)
    header = transport.requests[0].headers.get("traceparent")
    assert header is not None
    version, trace_id, span_id, _flags = header.split("-")
    assert (version, int(trace_id, 16), int(span_id, 16)) == (
        "00",
        span.context.trace_id,
        span.context.span_id,
    )


def test_propagation_can_be_turned_off(provider: TracerProvider) -> None:
    """propagate=False: spans, but no traceparent on the wire."""
    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, Tracing(tracer_provider=provider, propagate=False)) as c:
        c.request("GET", "/models")
    assert "traceparent" not in transport.requests[0].headers


def test_without_a_tracer_provider_the_middleware_steps_aside() -> None:
    """No SDK configured (the global proxy provider): the rest of the stack runs unwrapped."""
    tracing = Tracing()
    marker: Any = object()

    def call_next(request: Request) -> Any:
        return marker

    request = Request("GET", URL.parse(BASE + "/models"))
    assert tracing.tracer() is None
    assert tracing.send(request, call_next) is marker
    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, tracing) as c:
        c.request("GET", "/models")
    assert "traceparent" not in transport.requests[0].headers


def test_a_raising_tracer_never_breaks_a_call(caplog: pytest.LogCaptureFixture) -> None:
    """start_span raises every time: every call succeeds, failures counted, one WARNING."""

    class BrokenTracer:
        def start_span(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("collector down")

    class BrokenProvider:
        def get_tracer(self, *args: object, **kwargs: object) -> BrokenTracer:
            return BrokenTracer()

    tracing = Tracing(tracer_provider=BrokenProvider())  # type: ignore[arg-type]
    transport = InMemoryTransport(lambda r: Reply(200, json_body={"models": []}))
    with caplog.at_level(logging.WARNING, logger="soniox"), client(transport, tracing) as c:
        for _ in range(3):
            c.models.list()
    assert tracing.failures == 6  # the operation span and the attempt span, three times
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_failures_are_recorded_without_secrets(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A failure whose text holds the key: error.type and a redacted exception event."""
    transport = InMemoryTransport.sequence([RequestNotSentError(f"refused, key={KEY}")])
    with (
        client(transport, Tracing(tracer_provider=provider)) as c,
        pytest.raises(RequestNotSentError),
    ):
        c.request("GET", "/models", params={"api_key": KEY, "limit": 5})
    spans = exporter.get_finished_spans()
    (attempt,) = by_kind(spans, SpanKind.CLIENT)
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "soniox.errors.RequestNotSentError"
    assert attempt.status.status_code is StatusCode.ERROR
    assert [e.name for e in attempt.events] == ["exception"]
    assert "api_key=REDACTED" in str(attempt.attributes["url.full"])
    for span in spans:
        assert KEY not in span.to_json()


def test_reports_become_events_on_the_operation_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A rate-limit wait and a cache miss reported inside the stack appear as events."""

    class Reporter:
        name = "reporter"

        def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
            yield from cache_lookup(hit=False)
            yield from wait(0.2, "rate_limit")
            return (yield from call_next(request))

    transport = InMemoryTransport(lambda r: Reply(200))
    with client(transport, Tracing(tracer_provider=provider), Reporter()) as c:
        c.request("GET", "/models")
    (operation,) = by_kind(exporter.get_finished_spans(), SpanKind.INTERNAL)
    events = {e.name: dict(e.attributes or {}) for e in operation.events}
    assert events == {
        "soniox.cache.miss": {},
        "soniox.rate_limit.wait": {"soniox.wait.seconds": 0.2},
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.example/v1/files?limit=5", "https://api.example/v1/files?limit=5"),
        (
            "https://api.example/v1/files?api_key=abc&limit=5&X-Signature=s",
            "https://api.example/v1/files?api_key=REDACTED&limit=5&X-Signature=REDACTED",
        ),
        (f"https://api.example/v1/files?cursor={KEY}", "https://api.example/v1/files?cursor=***"),
    ],
)
def test_url_full_redacts_query_secrets(url: str, shown: str) -> None:
    """Credential-like query values become REDACTED; registered secrets are masked anywhere."""
    from soniox.errors import register_secret

    register_secret(KEY)
    assert url_full(URL.parse(url)) == shown
