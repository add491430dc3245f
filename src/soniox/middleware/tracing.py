"""Tracing with OpenTelemetry (opentelemetry-api only): a span per operation, one per attempt.

- **One INTERNAL span per SDK operation** (``soniox.stt.transcribe_and_wait_with_tokens``),
  opened by ``around_operation`` — the namespaces run every operation inside
  ``client.stack.operation(name)`` — and current while its flow runs, so it wraps the whole
  multi-step flow (upload → create → wait → fetch → clean-up) and is the parent of …
- **one CLIENT span per HTTP attempt**, following the HTTP client semantic conventions:
  ``http.request.method``, ``url.full`` (query values of credential-like names replaced by
  ``REDACTED``, registered secrets masked), ``url.template``, ``server.address``,
  ``server.port``, ``http.request.resend_count`` on a retry, ``http.response.status_code``,
  ``network.protocol.version``, ``error.type``; an error status or a failure sets the span's
  status to ERROR. The middleware relays the flow of the rest of the stack (see
  :mod:`~soniox.middleware.observe`), so it makes these spans wherever it sits, outside
  ``retry`` included.
- **W3C ``traceparent``** (and whatever else the global propagator writes) is injected into each
  attempt's headers, naming that attempt's span (``trace_propagation=False`` turns it off).
- **Span events** on the operation span: ``soniox.retry.wait`` / ``soniox.rate_limit.wait`` (…
  any reason; ``soniox.wait.seconds``), ``soniox.cache.hit`` / ``soniox.cache.miss``,
  ``soniox.dedup.join``.
- **Exceptions** become an ``exception`` event with ``exception.type`` and the *redacted*
  message and stack trace (:func:`soniox.errors.redact`), never ``record_exception``'s raw text.

Cost: with no tracer provider set (no OpenTelemetry SDK, or one not configured) each call costs
one provider look-up and the middleware steps aside; OpenTelemetry itself is imported on first
use. A tracer that raises never breaks a call: counted (:attr:`Tracing.failures`), logged once.
"""

from __future__ import annotations

import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode

from soniox._version import __version__
from soniox.errors import redact
from soniox.middleware.driver import relay
from soniox.middleware.engine import CallNext, Effect, Flow, Send, Sleep
from soniox.middleware.observe import OTHER_ROUTE, Guard, Note, error_type, route_template
from soniox.transport.request import URL, Request, is_credential_header
from soniox.transport.response import Response

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["Tracing", "url_full"]

_NOTHING: Final = nullcontext()
_REDACTED: Final = "REDACTED"


class _Otel:
    """OpenTelemetry's modules, imported on first use (``import soniox`` stays lean)."""

    def __init__(self) -> None:
        from opentelemetry import context, propagate, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.context = context
        self.propagate = propagate
        self.trace = trace
        self.client = SpanKind.CLIENT
        self.internal = SpanKind.INTERNAL
        self.error = Status(StatusCode.ERROR)
        self.status = Status
        self.error_code = StatusCode.ERROR
        self.no_op = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


_otel: list[_Otel] = []


def _modules() -> _Otel:
    if not _otel:
        _otel.append(_Otel())
    return _otel[0]


class Tracing:
    """Spans for operations and attempts (see the module docstring).

    ``tracer_provider``: where spans go (default: the global provider, looked up per call, so
    one set after the client was made is used). ``propagate``: inject ``traceparent``.
    """

    name = "tracing"

    def __init__(
        self, *, tracer_provider: TracerProvider | None = None, propagate: bool = True
    ) -> None:
        self._provider = tracer_provider
        self.propagate = propagate
        self.guard = Guard("the tracer")
        self._cached: tuple[object, Tracer] | None = None

    @property
    def failures(self) -> int:
        """How many times the tracer raised (each time the call went on untraced)."""
        return self.guard.failures

    def tracer(self) -> Tracer | None:
        """The tracer spans go to now; None when nothing would record them."""
        otel = _modules()
        provider: object = self._provider or otel.trace.get_tracer_provider()
        cached = self._cached
        if cached is not None and cached[0] is provider:
            return cached[1]
        if isinstance(provider, otel.no_op):
            return None
        try:
            tracer: Tracer = provider.get_tracer("soniox", __version__)  # type: ignore[attr-defined]
        except Exception as error:
            self.guard.failed(error)
            return None
        self._cached = (provider, tracer)
        return tracer

    # --- attempts -----------------------------------------------------------------------------
    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        tracer = self.tracer()
        if tracer is None:
            return call_next(request)
        spans = _CallSpans(self, tracer, request)
        return relay(call_next(request), spans.around)

    # --- operations ---------------------------------------------------------------------------
    def around_operation(self, name: str) -> AbstractContextManager[object]:
        """The INTERNAL span of one SDK operation, current while it runs."""
        tracer = self.tracer()
        if tracer is None:
            return _NOTHING
        return _OperationSpan(self, tracer, name)

    def __repr__(self) -> str:
        provider = "global" if self._provider is None else type(self._provider).__name__
        return f"Tracing(provider={provider}, propagate={self.propagate})"


# --- spans ---------------------------------------------------------------------------------------


def _record_error(span: Span, error: BaseException) -> None:
    """``error.type``, an ``exception`` event with the redacted message and stack, ERROR."""
    otel = _modules()
    kind = error_type(None, error) or type(error).__name__
    message = redact(str(error))
    stack = redact("".join(traceback.format_exception(error)))
    span.set_attribute("error.type", kind)
    span.add_event(
        "exception",
        {
            "exception.type": kind,
            "exception.message": message,
            "exception.stacktrace": stack,
            "exception.escaped": True,
        },
    )
    span.set_status(otel.status(otel.error_code, f"{type(error).__name__}: {message}"))


class _OperationSpan:
    """The context of one operation: its span, attached as the current one meanwhile."""

    __slots__ = ("_name", "_span", "_token", "_tracer", "_tracing")

    def __init__(self, tracing: Tracing, tracer: Tracer, name: str) -> None:
        self._tracing = tracing
        self._tracer = tracer
        self._name = name
        self._span: Span | None = None
        self._token: object = None

    def __enter__(self) -> None:
        otel = _modules()
        try:
            span = self._tracer.start_span(
                f"soniox.{self._name}",
                kind=otel.internal,
                attributes={"soniox.operation": self._name},
            )
            self._token = otel.context.attach(otel.trace.set_span_in_context(span))
        except Exception as error:
            self._tracing.guard.failed(error)
            return
        self._span = span

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        otel = _modules()
        try:
            otel.context.detach(self._token)  # type: ignore[arg-type]
            if error is not None:
                _record_error(span, error)
            span.end()
        except Exception as failure:
            self._tracing.guard.failed(failure)


class _CallSpans:
    """One call's attempts as CLIENT spans, and its waits and reports as events on the span
    that was current when it started (the operation's); :meth:`around` is the relay policy."""

    __slots__ = ("parent", "request", "route", "tracer", "tracing")

    def __init__(self, tracing: Tracing, tracer: Tracer, request: Request) -> None:
        self.tracing = tracing
        self.tracer = tracer
        self.request = request
        self.route = route_template(request.url.path)
        self.parent: Span = _modules().trace.get_current_span()

    def around(self, effect: Effect) -> Flow[Any]:
        """The relay policy: a span for a ``Send``, an event for a wait or a report."""
        if isinstance(effect, Send):
            return self._attempt(effect)
        return self._other(effect)

    def _other(self, effect: Effect) -> Flow[Any]:
        if isinstance(effect, Sleep):
            self._event(f"soniox.{getattr(effect, 'reason', 'retry')}.wait", effect.seconds)
        elif isinstance(effect, Note):
            if effect.kind == "wait":
                self._event(f"soniox.{effect.detail}.wait", effect.value)
            else:
                self._event(f"soniox.{effect.kind}.{effect.detail}", None)
        else:
            reason = getattr(effect, "wait_reason", None)
            if isinstance(reason, str):
                started = time.perf_counter()
                try:
                    return (yield effect)
                finally:
                    self._event(f"soniox.{reason}.wait", time.perf_counter() - started)
        return (yield effect)

    def _event(self, name: str, seconds: float | None) -> None:
        parent = self.parent
        try:
            if parent.is_recording():
                parent.add_event(name, {} if seconds is None else {"soniox.wait.seconds": seconds})
        except Exception as error:
            self.tracing.guard.failed(error)

    def _start(self, request: Request) -> tuple[Span, Request] | None:
        otel = _modules()
        url = request.url
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            "url.full": url_full(url),
            "server.address": url.host,
            "server.port": url.effective_port,
        }
        name = request.method
        if self.route != OTHER_ROUTE:
            attributes["url.template"] = self.route
            name = f"{request.method} {self.route}"
        if request.attempt > 1:
            attributes["http.request.resend_count"] = request.attempt - 1
        operation = request.options.operation
        if operation:
            attributes["soniox.operation"] = operation
        span = self.tracer.start_span(name, kind=otel.client, attributes=attributes)
        if self.tracing.propagate:
            carrier: dict[str, str] = {}
            context: Context = otel.trace.set_span_in_context(span)
            otel.propagate.inject(carrier, context=context)
            if carrier:
                request = request.evolve(headers=request.headers.merge(carrier))
        return span, request

    def _attempt(self, effect: Send) -> Flow[Response]:
        try:
            started = self._start(effect.request)
        except Exception as error:
            self.tracing.guard.failed(error)
            started = None
        if started is None:
            return (yield effect)
        span, request = started
        try:
            response: Response = yield (effect if request is effect.request else Send(request))
        except BaseException as error:
            try:
                _record_error(span, error)
                span.end()
            except Exception as failure:
                self.tracing.guard.failed(failure)
            raise
        try:
            _answered(span, response)
        except Exception as failure:
            self.tracing.guard.failed(failure)
        return response


def _answered(span: Span, response: Response) -> None:
    status = response.status
    span.set_attribute("http.response.status_code", status)
    version = response.http_version
    if version.startswith("HTTP/"):
        span.set_attribute("network.protocol.version", version[5:])
    if status >= 400:
        otel = _modules()
        span.set_attribute("error.type", str(status))
        span.set_status(otel.error)
    span.end()


_url_cache: dict[URL, str] = {}


def url_full(url: URL) -> str:
    """``url.full`` for a span: the URL with the values of credential-like query parameters
    (``api_key``, ``token``, ``signature`` …) replaced by ``REDACTED``, then registered
    secrets and key-like values masked (:func:`soniox.errors.redact`)."""
    shown = _url_cache.get(url)
    if shown is None:
        pairs = parse_qsl(url.query, keep_blank_values=True) if url.query else []
        if any(is_credential_header(k) for k, _ in pairs):
            shown = redact(str(URL(url.scheme, url.host, url.port, url.path)))
            shown += "?" + urlencode(
                [
                    (redact(k), _REDACTED if is_credential_header(k) else redact(v))
                    for k, v in pairs
                ],
                safe="*",
            )
        else:
            shown = redact(str(url))
        route = route_template(url.path)
        # a fixed API path (``/v1/models``) holds no secret: safe to keep, and they are few
        fixed = not url.query and route != OTHER_ROUTE and "{id}" not in route
        if fixed and len(_url_cache) < 256:
            _url_cache[url] = shown
    return shown
