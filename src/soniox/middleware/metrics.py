"""Metrics: what every attempt, call and operation did, fed to small sinks.

The ``metrics`` middleware relays the flow of the rest of the stack (see
:mod:`~soniox.middleware.observe`), so wherever it sits it sees each attempt (a ``Send``: its
status or failure, duration, retry number, whether its connection was new or reused), each wait
(retry, rate limit, …), cache lookups and dedup joins, and the call as a whole; through
``around_operation`` it also times whole SDK operations (``stt.transcribe``: upload, create,
wait, fetch). It turns them into three records — :class:`AttemptRecord`, :class:`CallRecord`,
:class:`OperationRecord` — and hands each to every sink (:class:`MetricsSink`):

- :class:`MemoryMetrics` (always, unless ``metrics_sink="none"``): counts, waits and p50 / p95 /
  p99 latency per route and per operation — ``client.metrics.snapshot()``;
- :class:`~soniox.middleware.metrics_export.PrometheusMetrics` (extra ``prometheus``) and
  :class:`~soniox.middleware.metrics_export.OpenTelemetryMetrics` (opentelemetry-api), in
  :mod:`~soniox.middleware.metrics_export`;
- any object with the three ``record_*`` methods.

Labels stay bounded: a route is a template (``/v1/transcriptions/{id}``, or ``other``), a status
is a number, an outcome one of ``ok`` / ``http_error`` / ``error`` / ``cancelled``. A sink that
raises never breaks a call: the failure is counted (``sink_errors`` in the snapshot) and the
first one logged. Nothing here configures Prometheus, OpenTelemetry or logging: sinks write into
the registry / meter provider the application set up (or the global one).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from soniox.errors import ClientValidationError
from soniox.middleware.engine import CallNext, Effect, Flow, Send, Sleep
from soniox.middleware.observe import (
    Guard,
    Note,
    error_type,
    outcome_of,
    route_template,
)
from soniox.transport.httpcore_transport import PoolStats, forget_last_connection, last_connection
from soniox.transport.request import Request
from soniox.transport.response import Response

__all__ = [
    "AttemptRecord",
    "CallRecord",
    "OperationRecord",
    "WaitRecord",
    "MetricsSink",
    "Metrics",
    "MemoryMetrics",
    "MetricsSnapshot",
    "RouteMetrics",
    "OperationMetrics",
    "RealtimeMetrics",
    "RealtimeSessionRecord",
    "Latency",
    "PoolSource",
    "find_metrics",
]

PoolSource = Callable[[], PoolStats]
"""Where connection statistics come from: a transport's ``pool_stats``."""


# --- records -------------------------------------------------------------------------------------


@attrs.frozen
class AttemptRecord:
    """One attempt: one request on the wire (or one that failed before an answer)."""

    method: str
    route: str
    """The route template (``/v1/files/{id}``), or ``other``."""
    status: int | None
    """None when no answer arrived."""
    outcome: str
    error_type: str | None
    duration_s: float
    attempt: int
    """1 for the first attempt, 2 for the first retry …"""
    connection: str | None
    """``"new"`` or ``"reused"`` (a pre-warmed connection is reused); None: not known."""
    http_version: str | None
    server_address: str
    server_port: int
    operation: str | None
    """The request's operation name (``stt.create``), when it has one."""


@attrs.frozen
class CallRecord:
    """One call through the stack: every attempt and wait of one request, as the caller saw it."""

    method: str
    route: str
    status: int | None
    outcome: str
    error_type: str | None
    duration_s: float
    attempts: int
    """Requests sent (0 when a cache or a shared request answered)."""
    retries: int
    waits: Mapping[str, float] = attrs.field(hash=False)
    """Seconds waited, by reason: ``retry``, ``rate_limit`` …"""
    cache: str | None
    """``"hit"``, ``"miss"``, or None (no cache looked)."""
    dedup_joined: bool
    server_address: str
    server_port: int
    operation: str | None

    @property
    def rate_limit_wait_s(self) -> float:
        """Seconds this call waited for the client-side rate limit."""
        return self.waits.get("rate_limit", 0.0)


@attrs.frozen
class OperationRecord:
    """One SDK operation (``stt.transcribe_and_wait_with_tokens``): all its calls and waits."""

    name: str
    outcome: str
    error_type: str | None
    duration_s: float


@attrs.frozen
class WaitRecord:
    """A wait outside any call — between the calls of an operation, such as a transcription
    waiting for one of the key's pending slots before its create. Given to the sinks that have
    ``record_wait`` (the built-in ones do); it adds to the waits of ``reason``."""

    reason: str
    seconds: float
    operation: str | None = None
    """The operation it delayed (``stt.transcribe``), when known."""


@attrs.frozen
class RealtimeSessionRecord:
    """One realtime session, at its end: what the ``observe`` link of the realtime chain
    measured. Given to the sinks that have ``record_realtime`` (the built-in ones do; a sink
    of your own may add it)."""

    flavour: str
    """``sync`` or ``async``."""
    model: str
    outcome: str
    """``ok`` (finished), ``error`` (failed) or ``closed`` (closed by the user first)."""
    error_type: str | None
    duration_s: float
    connect_s: float | None
    """From the session's start to its first connection open."""
    first_token_s: float | None
    """From the first audio sent to the first token received."""
    finalization_s: float | None
    """From the last audio sent to the final result."""
    audio_bytes: int
    sent_bytes: int
    paused_bytes: int
    dropped_bytes: int
    peak_buffer_bytes: int
    reconnects: int
    final_tokens: int
    server_address: str
    quota_wait_s: float = 0.0
    """Seconds the session waited for the key's realtime quota (a stream slot, a turn)."""


@runtime_checkable
class MetricsSink(Protocol):
    """Where records go. Called on the calling thread or task, possibly from many at once, so
    an implementation is thread-safe and quick; what it raises is counted, never propagated."""

    def record_attempt(self, record: AttemptRecord) -> None: ...

    def record_call(self, record: CallRecord) -> None: ...

    def record_operation(self, record: OperationRecord) -> None: ...


# --- the middleware ------------------------------------------------------------------------------


class Metrics:
    """Feeds :class:`MetricsSink` s with every attempt, call and operation it sees.

    Place it outermost (just inside ``headers`` and ``tracing``): outside ``retry`` it still
    sees every attempt, and only outside ``cache`` / ``dedup`` / ``rate_limit`` does it hear
    their reports (hits, joins, waits). ``memory=False`` drops the in-memory sink.
    """

    name = "metrics"

    def __init__(
        self,
        *sinks: MetricsSink,
        memory: bool = True,
        window: int = 4096,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.memory: MemoryMetrics | None = MemoryMetrics(window) if memory else None
        chosen: tuple[MetricsSink, ...] = (
            (self.memory, *sinks) if self.memory is not None else sinks
        )
        self._targets = tuple(
            (sink, Guard(f"metrics sink {type(sink).__name__}")) for sink in chosen
        )
        self._on_attempt = _handlers(self._targets, "record_attempt")
        self._on_call = _handlers(self._targets, "record_call")
        self._on_operation = _handlers(self._targets, "record_operation")
        self._on_realtime = _optional_handlers(self._targets, "record_realtime")
        self._on_wait = _optional_handlers(self._targets, "record_wait")
        self._timer = timer
        self._pool: PoolSource | None = None
        self.shared_states: tuple[object, ...] = ()
        """The shared states (Redis) the client's middleware use: their fallbacks are counted
        in :meth:`snapshot` (``shared_state_fallbacks``)."""

    @property
    def enabled(self) -> bool:
        """Whether anything is recorded (False with ``metrics_sink="none"``)."""
        return bool(self._targets)

    @property
    def sinks(self) -> tuple[MetricsSink, ...]:
        return tuple(sink for sink, _ in self._targets)

    @property
    def sink_errors(self) -> int:
        """How many times a sink raised (each time the call went on)."""
        return sum(guard.failures for _, guard in self._targets)

    def record_realtime(self, record: RealtimeSessionRecord) -> None:
        """A realtime session's record, to every sink that takes one (``record_realtime``):
        realtime sessions report through the same sinks as the REST calls."""
        _emit(self._on_realtime, record)

    def record_wait(self, reason: str, seconds: float, operation: str | None = None) -> None:
        """A wait outside any call (a pending slot before a create), to every sink that takes
        one (``record_wait``): it shows in the snapshot's ``waits`` like a call's."""
        if seconds > 0 and self._on_wait:
            _emit(self._on_wait, WaitRecord(reason, seconds, operation))

    def bind_pool(self, source: PoolSource) -> None:
        """Where connection statistics come from (``transport.pool_stats``): the client binds
        its transport; the snapshot and the sinks that export gauges read it when asked."""
        self._pool = source
        for sink, guard in self._targets:
            bind = getattr(sink, "bind_pool", None)
            if callable(bind):
                guard.call(bind, source)

    def snapshot(self) -> MetricsSnapshot:
        """Counts and latency percentiles so far (empty without the in-memory sink)."""
        pool = None
        if self._pool is not None:
            try:
                pool = self._pool()
            except Exception:  # a closed transport, say: no pool figures
                pool = None
        memory = self.memory if self.memory is not None else MemoryMetrics(1)
        snapshot = memory.snapshot(pool=pool, sink_errors=self.sink_errors)
        if not self.shared_states:
            return snapshot
        fallbacks = sum(int(getattr(s, "fallbacks", 0)) for s in self.shared_states)
        return attrs.evolve(snapshot, shared_state_fallbacks=fallbacks)

    def reset(self) -> None:
        """Forget what the in-memory sink holds (the exporters' series stay)."""
        if self.memory is not None:
            self.memory.reset()

    # --- recording ---------------------------------------------------------------------------
    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        if not self._targets:
            return call_next(request)
        return self._observe(request, call_next)

    def _observe(self, request: Request, call_next: CallNext) -> Flow[Response]:
        timer = self._timer
        call = _Call(request, timer, self._on_attempt)
        started = timer()
        try:
            response = yield from call.watch(call_next(request))
        except BaseException as error:
            _emit(self._on_call, call.record(None, error, timer() - started))
            raise
        _emit(self._on_call, call.record(response.status, None, timer() - started))
        return response

    def around_operation(self, name: str) -> AbstractContextManager[object]:
        """Times one SDK operation (entered by ``Stack.operation``)."""
        if not self._targets:
            return _NOTHING
        return _OperationTimer(name, self._timer, self._on_operation)

    def __repr__(self) -> str:
        names = ", ".join(type(sink).__name__ for sink, _ in self._targets) or "none"
        return f"Metrics(sinks=[{names}])"


_NOTHING: Final = nullcontext()

_Handlers = tuple[tuple[Callable[[Any], None], Guard], ...]


def _handlers(targets: tuple[tuple[MetricsSink, Guard], ...], method: str) -> _Handlers:
    """Each sink's ``method``, bound once, with the sink's guard."""
    return tuple((getattr(sink, method), guard) for sink, guard in targets)


def _optional_handlers(targets: tuple[tuple[Any, Guard], ...], method: str) -> _Handlers:
    """The bound ``method`` of each sink that has it (a sink of your own may leave it out)."""
    return tuple(
        (handle, guard)
        for sink, guard in targets
        if callable(handle := getattr(sink, method, None))
    )


def _emit(handlers: _Handlers, record: object) -> None:
    """Give ``record`` to every sink; one that raises is counted, never propagated."""
    for handle, guard in handlers:
        try:
            handle(record)
        except Exception as error:
            guard.failed(error)


def find_metrics(stack: Iterable[object], pool: PoolSource | None = None) -> Metrics:
    """The first :class:`Metrics` in ``stack`` (whatever its name), else a disabled stand-in
    (``enabled`` False) whose snapshot still shows ``pool``; ``pool`` is bound to a found one
    that has no pool source yet (a middleware added to the stack after the client was made).
    The shared states the stack's middleware use (``shared``) are bound too, so the snapshot
    counts their fallbacks."""
    middlewares = list(stack)
    shared = _shared_states(middlewares)
    for middleware in middlewares:
        if isinstance(middleware, Metrics):
            if pool is not None and middleware._pool is None:  # pyright: ignore[reportPrivateUsage]
                middleware.bind_pool(pool)
            middleware.shared_states = shared
            return middleware
    stand_in = Metrics(memory=False)
    if pool is not None:
        stand_in.bind_pool(pool)
    stand_in.shared_states = shared
    return stand_in


def _shared_states(middlewares: Iterable[object]) -> tuple[object, ...]:
    """The distinct shared states the middleware hold (``.shared``), in order."""
    found: list[object] = []
    for middleware in middlewares:
        state = getattr(middleware, "shared", None)
        if state is not None and all(state is not seen for seen in found):
            found.append(state)
    return tuple(found)


class _Call:
    """One call's tally while it runs; :meth:`watch` relays the flow it tallies."""

    __slots__ = (
        "attempts",
        "cache",
        "dedup",
        "host",
        "last_attempt",
        "on_attempt",
        "port",
        "request",
        "route",
        "timer",
        "waits",
    )

    def __init__(self, request: Request, timer: Callable[[], float], on_attempt: _Handlers) -> None:
        self.timer = timer
        self.on_attempt = on_attempt
        self.request = request
        self.route = route_template(request.url.path)
        self.host = request.url.host
        self.port = request.url.effective_port
        self.attempts = 0
        self.last_attempt = 0
        self.waits: dict[str, float] | None = None
        self.cache: str | None = None
        self.dedup = False

    def wait(self, reason: str, seconds: float) -> None:
        waits = self.waits
        if waits is None:
            waits = self.waits = {}
        waits[reason] = waits.get(reason, 0.0) + seconds

    def watch(self, flow: Flow[Response]) -> Flow[Response]:
        """``flow`` re-yielded effect by effect, each one tallied: what
        :func:`~soniox.middleware.driver.relay` does with a policy, spelt
        out because every call of the client runs it: a ``Send`` and a ``Note`` pass without
        a generator or a stepper of their own."""
        value: Any = None
        error: BaseException | None = None
        timer = self.timer
        while True:
            try:
                effect = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                response: Response = stop.value
                return response
            value = error = None
            try:
                if isinstance(effect, Send):
                    request = effect.request
                    self._began(request)
                    started = timer()
                    try:
                        answer: Response = yield effect
                    except BaseException as failure:
                        self._attempted(request, None, failure, timer() - started, None)
                        raise
                    value = answer
                    self._attempted(
                        request, answer.status, None, timer() - started, answer.http_version
                    )
                elif type(effect) is Note:
                    self._noted(effect)
                    value = yield effect
                else:
                    value = yield from self._other(effect)
            except BaseException as failure:  # thrown into ``flow`` at its ``yield``
                error = failure

    def _began(self, request: Request) -> None:
        self.attempts += 1
        self.last_attempt = max(self.last_attempt, request.attempt)
        forget_last_connection()

    def _noted(self, note: Note) -> None:
        if note.kind == "wait":
            self.wait(note.detail, note.value)
        elif note.kind == "cache":
            self.cache = note.detail
        elif note.kind == "dedup":
            self.dedup = True

    def _other(self, effect: Effect) -> Flow[Any]:
        if isinstance(effect, Sleep):
            self.wait(getattr(effect, "reason", "retry"), effect.seconds)
        elif isinstance(effect, Note):
            self._noted(effect)
        else:
            reason = getattr(effect, "wait_reason", None)
            if isinstance(reason, str):
                timer = self.timer
                started = timer()
                try:
                    return (yield effect)
                finally:
                    self.wait(reason, timer() - started)
        return (yield effect)

    def _attempted(
        self,
        request: Request,
        status: int | None,
        error: BaseException | None,
        duration: float,
        http_version: str | None,
    ) -> None:
        record = AttemptRecord(
            method=request.method,
            route=self.route,
            status=status,
            outcome=outcome_of(status, error),
            error_type=error_type(status, error),
            duration_s=duration,
            attempt=request.attempt,
            connection=last_connection(),
            http_version=http_version,
            server_address=self.host,
            server_port=self.port,
            operation=request.options.operation,
        )
        _emit(self.on_attempt, record)

    def record(
        self, status: int | None, error: BaseException | None, duration: float
    ) -> CallRecord:
        request = self.request
        return CallRecord(
            method=request.method,
            route=self.route,
            status=status,
            outcome=outcome_of(status, error),
            error_type=error_type(status, error),
            duration_s=duration,
            attempts=self.attempts,
            retries=max(0, self.last_attempt - 1),
            waits=self.waits or {},
            cache=self.cache,
            dedup_joined=self.dedup,
            server_address=self.host,
            server_port=self.port,
            operation=request.options.operation,
        )


class _OperationTimer:
    """The context of one operation: its duration and outcome, recorded on exit."""

    __slots__ = ("_handlers", "_name", "_started", "_timer")

    def __init__(self, name: str, timer: Callable[[], float], handlers: _Handlers) -> None:
        self._name = name
        self._timer = timer
        self._handlers = handlers
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = self._timer()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        duration = self._timer() - self._started
        record = OperationRecord(
            self._name, outcome_of(None, error), error_type(None, error), duration
        )
        _emit(self._handlers, record)


# --- the in-memory sink and its snapshot -----------------------------------------------------------


@attrs.frozen
class Latency:
    """Durations in seconds over the recent window: nearest-rank percentiles."""

    count: int = 0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    mean: float = 0.0

    @classmethod
    def of(cls, samples: Iterable[float]) -> Latency:
        ordered = sorted(samples)
        n = len(ordered)
        if not n:
            return cls()

        def rank(q: float) -> float:
            return ordered[max(0, math.ceil(q * n) - 1)]

        return cls(n, rank(0.50), rank(0.95), rank(0.99), ordered[-1], sum(ordered) / n)


@attrs.frozen
class RealtimeMetrics:
    """Realtime sessions so far: outcomes, what they sent, and their latencies."""

    sessions: int = 0
    errors: int = 0
    reconnects: int = 0
    audio_bytes: int = 0
    sent_bytes: int = 0
    paused_bytes: int = 0
    dropped_bytes: int = 0
    peak_buffer_bytes: int = 0
    final_tokens: int = 0
    quota_wait_s: float = 0.0
    """Seconds sessions waited for the key's realtime quota, in all."""
    outcomes: Mapping[str, int] = attrs.field(factory=dict[str, int], hash=False)
    first_token: Latency = Latency()
    finalization: Latency = Latency()
    connect: Latency = Latency()


class _RealtimeTally:
    """The running sums behind :class:`RealtimeMetrics`."""

    def __init__(self, window: int) -> None:
        self.counts: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.quota_wait_s = 0.0
        self.peak = 0
        self.first_token: deque[float] = deque(maxlen=window)
        self.finalization: deque[float] = deque(maxlen=window)
        self.connect: deque[float] = deque(maxlen=window)

    def add(self, record: RealtimeSessionRecord) -> None:
        counts = self.counts
        counts["sessions"] += 1
        counts["errors"] += record.outcome == "error"
        for name in (
            "reconnects",
            "audio_bytes",
            "sent_bytes",
            "paused_bytes",
            "dropped_bytes",
            "final_tokens",
        ):
            counts[name] += getattr(record, name)
        self.outcomes[record.outcome] += 1
        self.quota_wait_s += record.quota_wait_s
        self.peak = max(self.peak, record.peak_buffer_bytes)
        for samples, value in (
            (self.first_token, record.first_token_s),
            (self.finalization, record.finalization_s),
            (self.connect, record.connect_s),
        ):
            if value is not None:
                samples.append(value)

    def metrics(self) -> RealtimeMetrics:
        c = self.counts
        return RealtimeMetrics(
            sessions=c["sessions"],
            errors=c["errors"],
            reconnects=c["reconnects"],
            audio_bytes=c["audio_bytes"],
            sent_bytes=c["sent_bytes"],
            paused_bytes=c["paused_bytes"],
            dropped_bytes=c["dropped_bytes"],
            peak_buffer_bytes=self.peak,
            final_tokens=c["final_tokens"],
            quota_wait_s=self.quota_wait_s,
            outcomes=dict(self.outcomes),
            first_token=Latency.of(self.first_token),
            finalization=Latency.of(self.finalization),
            connect=Latency.of(self.connect),
        )


@attrs.frozen
class RouteMetrics:
    """Calls of one ``method route`` (``GET /v1/transcriptions/{id}``)."""

    method: str
    route: str
    calls: int
    attempts: int
    retries: int
    errors: int
    """Calls whose outcome was not ``ok``."""
    statuses: Mapping[str, int] = attrs.field(hash=False)
    """Calls by final status (``"200"``; ``"none"`` when no answer arrived)."""
    outcomes: Mapping[str, int] = attrs.field(hash=False)
    latency: Latency
    waits: Mapping[str, float] = attrs.field(hash=False)
    cache_hits: int
    cache_misses: int
    dedup_joins: int


@attrs.frozen
class OperationMetrics:
    """Runs of one SDK operation (``stt.transcribe``)."""

    name: str
    calls: int
    errors: int
    latency: Latency


@attrs.frozen
class MetricsSnapshot:
    """What :meth:`Metrics.snapshot` returns: totals, per route, per operation, and the pool."""

    calls: int = 0
    attempts: int = 0
    retries: int = 0
    errors: int = 0
    latency: Latency = Latency()
    """Of every call (all routes)."""
    waits: Mapping[str, float] = attrs.field(factory=dict[str, float], hash=False)
    cache_hits: int = 0
    cache_misses: int = 0
    dedup_joins: int = 0
    connections_new: int = 0
    """Attempts that opened their connection."""
    connections_reused: int = 0
    """Attempts that rode a connection already open (pre-warmed ones included)."""
    sink_errors: int = 0
    routes: Mapping[str, RouteMetrics] = attrs.field(factory=dict[str, RouteMetrics], hash=False)
    """By ``"METHOD route"`` (``"GET /v1/models"``)."""
    operations: Mapping[str, OperationMetrics] = attrs.field(
        factory=dict[str, OperationMetrics], hash=False
    )
    pool: PoolStats | None = None
    """The transport's connections, when it reports them."""
    realtime: RealtimeMetrics = attrs.field(factory=lambda: RealtimeMetrics())
    """Realtime sessions (recorded by the realtime chain's ``observe`` link)."""
    shared_state_fallbacks: int = 0
    """Calls of the shared state (Redis) answered by this process instead, because Redis failed
    or was slow (``fail_open``): limits per process meanwhile."""

    @property
    def rate_limit_wait_s(self) -> float:
        return self.waits.get("rate_limit", 0.0)

    def route(self, method: str, route: str) -> RouteMetrics | None:
        """The figures of one ``method route``, or None if it was not called."""
        return self.routes.get(f"{method} {route}")

    def __str__(self) -> str:
        ms = 1000.0
        lines = [
            f"calls {self.calls} (attempts {self.attempts}, retries {self.retries}, errors "
            f"{self.errors}); p50 {self.latency.p50 * ms:.1f} ms, p95 {self.latency.p95 * ms:.1f}"
            f" ms, p99 {self.latency.p99 * ms:.1f} ms",
            f"connections: new {self.connections_new}, reused {self.connections_reused}"
            + ("" if self.pool is None else f"; pool open {self.pool.open}, idle {self.pool.idle}"),
        ]
        for key, route in sorted(self.routes.items()):
            statuses = " ".join(f"{s}x{n}" for s, n in sorted(route.statuses.items()))
            lines.append(
                f"  {key:<48} {route.calls:>5} calls  p50 {route.latency.p50 * ms:7.1f} ms  "
                f"p99 {route.latency.p99 * ms:7.1f} ms  [{statuses}]"
            )
        for name, op in sorted(self.operations.items()):
            lines.append(
                f"  op {name:<45} {op.calls:>5} runs   p50 {op.latency.p50 * ms:7.1f} ms  "
                f"p99 {op.latency.p99 * ms:7.1f} ms  errors {op.errors}"
            )
        return "\n".join(lines)


class _RouteTally:
    __slots__ = (
        "attempts",
        "cache_hits",
        "cache_misses",
        "calls",
        "dedup_joins",
        "durations",
        "errors",
        "outcomes",
        "retries",
        "statuses",
        "waits",
    )

    def __init__(self, window: int) -> None:
        self.calls = self.attempts = self.retries = self.errors = 0
        self.cache_hits = self.cache_misses = self.dedup_joins = 0
        self.statuses: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.waits: dict[str, float] = {}
        self.durations: deque[float] = deque(maxlen=window)


class _OperationTally:
    __slots__ = ("calls", "durations", "errors")

    def __init__(self, window: int) -> None:
        self.calls = self.errors = 0
        self.durations: deque[float] = deque(maxlen=window)


class MemoryMetrics:
    """Counts, waits and recent latencies in this process — what ``client.metrics.snapshot()``
    reads. Percentiles are over the last ``window`` calls of each route (and of all routes),
    so memory stays bounded however long the client lives."""

    def __init__(self, window: int = 4096) -> None:
        if window < 1:
            raise ClientValidationError(f"window must be >= 1, got {window!r}", field="window")
        self.window = window
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self._routes: dict[tuple[str, str], _RouteTally] = {}
            self._operations: dict[str, _OperationTally] = {}
            self._durations: deque[float] = deque(maxlen=self.window)
            self._connections: Counter[str] = Counter()
            self._realtime = _RealtimeTally(self.window)
            self._waits_between: dict[str, float] = {}

    def record_realtime(self, record: RealtimeSessionRecord) -> None:
        with self._lock:
            self._realtime.add(record)

    def record_wait(self, record: WaitRecord) -> None:
        with self._lock:
            waits = self._waits_between
            waits[record.reason] = waits.get(record.reason, 0.0) + record.seconds

    def _tally(self, method: str, route: str) -> _RouteTally:
        tally = self._routes.get((method, route))
        if tally is None:
            tally = self._routes[(method, route)] = _RouteTally(self.window)
        return tally

    def record_attempt(self, record: AttemptRecord) -> None:
        with self._lock:
            self._tally(record.method, record.route).attempts += 1
            if record.connection is not None:
                self._connections[record.connection] += 1

    def record_call(self, record: CallRecord) -> None:
        with self._lock:
            tally = self._tally(record.method, record.route)
            tally.calls += 1
            tally.retries += record.retries
            if record.outcome != "ok":
                tally.errors += 1
            tally.statuses["none" if record.status is None else str(record.status)] += 1
            tally.outcomes[record.outcome] += 1
            for reason, seconds in record.waits.items():
                tally.waits[reason] = tally.waits.get(reason, 0.0) + seconds
            if record.cache == "hit":
                tally.cache_hits += 1
            elif record.cache == "miss":
                tally.cache_misses += 1
            if record.dedup_joined:
                tally.dedup_joins += 1
            tally.durations.append(record.duration_s)
            self._durations.append(record.duration_s)

    def record_operation(self, record: OperationRecord) -> None:
        with self._lock:
            tally = self._operations.get(record.name)
            if tally is None:
                tally = self._operations[record.name] = _OperationTally(self.window)
            tally.calls += 1
            if record.outcome != "ok":
                tally.errors += 1
            tally.durations.append(record.duration_s)

    def snapshot(self, *, pool: PoolStats | None = None, sink_errors: int = 0) -> MetricsSnapshot:
        """Everything so far, with percentiles computed now."""
        with self._lock:
            routes = {
                f"{method} {route}": RouteMetrics(
                    method=method,
                    route=route,
                    calls=t.calls,
                    attempts=t.attempts,
                    retries=t.retries,
                    errors=t.errors,
                    statuses=dict(t.statuses),
                    outcomes=dict(t.outcomes),
                    latency=Latency.of(t.durations),
                    waits=dict(t.waits),
                    cache_hits=t.cache_hits,
                    cache_misses=t.cache_misses,
                    dedup_joins=t.dedup_joins,
                )
                for (method, route), t in self._routes.items()
            }
            operations = {
                name: OperationMetrics(name, t.calls, t.errors, Latency.of(t.durations))
                for name, t in self._operations.items()
            }
            everything = Latency.of(self._durations)
            connections = dict(self._connections)
            realtime = self._realtime.metrics()
            waits = dict(self._waits_between)
        for route in routes.values():
            for reason, seconds in route.waits.items():
                waits[reason] = waits.get(reason, 0.0) + seconds
        return MetricsSnapshot(
            calls=sum(r.calls for r in routes.values()),
            attempts=sum(r.attempts for r in routes.values()),
            retries=sum(r.retries for r in routes.values()),
            errors=sum(r.errors for r in routes.values()),
            latency=everything,
            waits=dict(waits),
            cache_hits=sum(r.cache_hits for r in routes.values()),
            cache_misses=sum(r.cache_misses for r in routes.values()),
            dedup_joins=sum(r.dedup_joins for r in routes.values()),
            connections_new=connections.get("new", 0),
            connections_reused=connections.get("reused", 0),
            sink_errors=sink_errors,
            routes=routes,
            operations=operations,
            pool=pool,
            realtime=realtime,
        )

    def __repr__(self) -> str:
        return f"MemoryMetrics(window={self.window})"
