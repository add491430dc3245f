"""Client-side rate limit: token buckets and an adaptive (CUBIC) rate, decided sans-IO.

The decisions are pure objects fed the transport clock's ``now``; they answer "wait N s", and
the :class:`RateLimit` middleware obeys with a :class:`~soniox.middleware.engine.Sleep` effect,
so a :class:`~soniox.transport.FakeClock` runs a whole schedule instantly.

- :class:`TokenBucket` — ``rate`` tokens a second, at most ``burst`` saved up. A reservation
  takes its token *at once* and says how long until it is due: tokens may go below zero, each
  negative token a request already scheduled. So concurrent callers queue in the order they
  asked, nobody has to be woken and re-checked, and over any window of ``w`` seconds at most
  ``rate * w + burst`` reservations fall due. A reservation given up before it is due (its
  wait was cancelled) gives its token back if it was the last in line; with others queued
  behind it, it frees nothing (their turns stay as they were, and a hole in the middle of
  the queue is left unused — never more than the limit allows).
- :class:`Cubic` — botocore's ``CubicCalculator``: after a throttle at rate ``r`` the allowed
  rate drops to ``beta * r`` (0.7) and grows back along ``scale * (t - K)**3 + r`` (scale 0.4),
  reaching ``r`` again after ``K = cbrt(r * (1 - beta) / scale)`` seconds, then probing above.
- :class:`SendRateMeter` — the measured send rate: answers counted per half-second, smoothed
  (0.8 new, 0.2 old), as botocore's ``RateClocker``.
- :class:`AdaptiveRate` — botocore's ``ClientRateLimiter``: unthrottled until the first
  throttling answer (429, or any error answer with ``Retry-After``); then every attempt pays a
  token of a bucket whose rate each answer moves: a throttle cuts it (CUBIC, from the smaller of
  the measured and the allowed rate), any other answer grows it back, never above twice the
  measured rate nor below ``min_rate`` (0.5/s). The state is the client's, so one 429 slows
  every call of the client (all threads, tasks and ``with_options`` views), not only its own.

:class:`RateLimitPolicy` puts them together: a client-wide bucket, per-route buckets (first
matching :class:`RouteLimit`: ``"POST /v1/transcriptions"``, ``"/v1/files/{file_id}"``, a
glob), and the adaptive rate. An attempt waits for the last of its tokens to fall due, and
each bucket that applies is charged as of that moment (so a bucket whose turn came earlier
does not count the request as gone while another limit still holds it). It is deadline-aware: a wait that would end at or past the call's deadline is
refused at once — nothing reserved — and the middleware raises
:class:`~soniox.errors.RateLimitWaitError` carrying the wait it would have needed.

Placed inside ``retry``, every attempt pays, so retries cannot exceed the limit either. The
state lives in a :class:`~soniox.middleware.state.StateStore` (in-process today; shareable by
processes through a networked store later).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from typing import Any, Final

import attrs

from soniox.errors import ClientValidationError, RateLimitWaitError, TransportError
from soniox.middleware.engine import CallNext, Flow, get_clock
from soniox.middleware.observe import wait
from soniox.middleware.state import (
    LocalStateStore,
    StateStore,
    shared_signal,
    shared_take,
    update_state,
)
from soniox.shared import SharedState
from soniox.transport.request import Request
from soniox.transport.response import Response

__all__ = [
    "TokenBucket",
    "Cubic",
    "CubicState",
    "SendRateMeter",
    "AdaptiveRate",
    "AdaptiveState",
    "RouteLimit",
    "RateLimitPolicy",
    "RateLimitState",
    "RateLimitSnapshot",
    "Reservation",
    "Refused",
    "RateLimit",
    "CLIENT",
    "ADAPTIVE",
    "default_burst",
]

FLEET_LOOK_S: Final = 0.1
"""How often a client sharing its limits looks for throttles the rest of the fleet saw."""
THROTTLES: Final = "throttles"
"""The shared event counter of throttling answers (429, or an error with Retry-After)."""
CLIENT: Final = "client"
"""The name of the client-wide bucket (in reservations and errors)."""
ADAPTIVE: Final = "adaptive"
"""The name of the adaptive bucket."""


# --- validators --------------------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _positive(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not (_number(value) and value > 0 and math.isfinite(value)):  # type: ignore[operator]
        raise ClientValidationError(
            f"{attribute.name} must be a finite number > 0, got {value!r}", field=attribute.name
        )


def _positive_or_none(i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _positive(i, attribute, value)


def _burst(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        raise ClientValidationError(
            f"{attribute.name} must be a whole number >= 1 (or None: one second's worth), "
            f"got {value!r}",
            field=attribute.name,
        )


def _fraction(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not (_number(value) and 0 < value < 1):  # type: ignore[operator]
        raise ClientValidationError(
            f"{attribute.name} must be a number between 0 and 1 (exclusive), got {value!r}",
            field=attribute.name,
        )


def _smoothing(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not (_number(value) and 0 < value <= 1):  # type: ignore[operator]
        raise ClientValidationError(
            f"{attribute.name} must be a number in (0, 1], got {value!r}", field=attribute.name
        )


def _growth(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not (_number(value) and value >= 1 and math.isfinite(value)):  # type: ignore[operator]
        raise ClientValidationError(
            f"{attribute.name} must be a finite number >= 1, got {value!r}", field=attribute.name
        )


def default_burst(rate: float) -> float:
    """One second's worth of tokens, at least one (botocore's bucket capacity)."""
    return float(max(1, math.ceil(rate)))


# --- the token bucket --------------------------------------------------------------------------


@attrs.define
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` held; ``tokens`` as of clock reading
    ``stamp`` (None: not used yet, full). Below zero, tokens are reservations not yet due."""

    rate: float
    burst: float
    tokens: float = math.nan
    stamp: float | None = None
    last_due: float = -math.inf
    """When the latest reservation falls due (only that one can give its token back)."""

    def __attrs_post_init__(self) -> None:
        if math.isnan(self.tokens):  # a new bucket starts full
            self.tokens = self.burst

    def refill(self, now: float) -> None:
        """Add what accrued since :attr:`stamp` (never above ``burst``; time never runs back)."""
        stamp = self.stamp
        if stamp is None or now > stamp:
            if stamp is not None:
                self.tokens = min(self.burst, self.tokens + (now - stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens would be due, without taking them."""
        self.refill(now)
        missing = cost - self.tokens
        return missing / self.rate if missing > 0 else 0.0

    def take(self, now: float, cost: float = 1.0, at: float | None = None) -> float:
        """Reserve ``cost`` tokens now; returns the seconds until they are due.

        ``at``: the request will only go then (another limit holds it longer), so the tokens
        are charged as of ``at`` — what would have been saved up by then beyond ``burst`` is
        not there to take, as if the request had asked at ``at``.
        """
        wait = self.wait(now, cost)
        if at is not None and at - now > wait:
            ahead = (at - now) * self.rate
            self.tokens = min(self.burst, self.tokens + ahead) - cost - ahead
            self.last_due = max(self.last_due, at)
            return at - now
        self.tokens -= cost
        self.last_due = max(self.last_due, now + wait if at is None else at)
        return wait

    def give_back(self, now: float, due: float, cost: float = 1.0) -> float:
        """Undo a reservation due at ``due``, abandoned at ``now`` before it fell due; returns
        the tokens restored: ``cost`` if it was the latest reservation, else 0.

        Restoring the latest one leaves the bucket no fuller than had it never been made. An
        earlier one has reservations behind it whose turns were counted after it; giving its
        token to a newcomer would put two requests on one of their turns, so it stays spent.
        """
        if now >= due or due < self.last_due - 1e-9:
            return 0.0
        self.refill(now)
        self.tokens = min(self.burst, self.tokens + cost)
        return cost

    def set_rate(self, now: float, rate: float, burst: float) -> None:
        """Change the rate: what accrued so far accrues at the old rate; tokens over the new
        ``burst`` are dropped (reservations already made keep their times)."""
        self.refill(now)
        self.rate = rate
        self.burst = burst
        self.tokens = min(self.tokens, burst)


# --- CUBIC and the measured send rate ----------------------------------------------------------


@attrs.define
class CubicState:
    """Where the curve stands: the rate at the last throttle (``w_max``), the time it takes to
    grow back to it (``k``), and when it was (None: no throttle yet; set on first use)."""

    w_max: float = 0.0
    k: float = 0.0
    last_throttle: float | None = None


@attrs.frozen
class Cubic:
    """The CUBIC curve as a send rate (RFC 8312's window, botocore's ``CubicCalculator``)."""

    scale: float = attrs.field(default=0.4, validator=_positive)
    beta: float = attrs.field(default=0.7, validator=_fraction)

    def zero_point(self, w_max: float) -> float:
        """``K``: seconds from a throttle at ``w_max`` until the curve is back at ``w_max``."""
        return math.cbrt(w_max * (1 - self.beta) / self.scale)

    def rate(self, state: CubicState, now: float) -> float:
        """The rate the curve allows at ``now`` (no throttle since: grows from ``w_max``)."""
        if state.last_throttle is None:
            state.last_throttle = now
        return self.scale * (now - state.last_throttle - state.k) ** 3 + state.w_max

    def cut(self, state: CubicState, rate: float, now: float) -> float:
        """A throttle at ``rate``: the curve restarts from it; returns ``beta * rate``."""
        state.w_max = rate
        state.k = self.zero_point(rate)
        state.last_throttle = now
        return rate * self.beta


@attrs.define
class SendRateMeter:
    """The measured send rate: answers counted per ``period`` seconds, then smoothed."""

    measured: float = 0.0
    count: float = 0.0
    last_bucket: float | None = None

    def record(self, now: float, *, period: float = 0.5, smoothing: float = 0.8) -> float:
        """Count one send at ``now``; returns the smoothed rate (updated once per period)."""
        bucket = math.floor(now / period) * period
        if self.last_bucket is None:
            self.last_bucket = bucket
        self.count += 1
        if bucket > self.last_bucket:
            current = self.count / (bucket - self.last_bucket)
            self.measured = current * smoothing + self.measured * (1 - smoothing)
            self.count = 0
            self.last_bucket = bucket
        return self.measured


@attrs.define
class AdaptiveState:
    """The adaptive limiter of one client: off until the first throttle, then a bucket whose
    rate every answer moves."""

    enabled: bool = False
    meter: SendRateMeter = attrs.field(factory=SendRateMeter)
    cubic: CubicState = attrs.field(factory=CubicState)
    bucket: TokenBucket = attrs.field(factory=lambda: TokenBucket(1.0, 1.0))


@attrs.frozen
class AdaptiveRate:
    """botocore's adaptive retry mode's client rate limiter, sans-IO (see the module doc).

    ``min_rate`` is the floor of the allowed rate; ``max_growth`` caps it at that multiple of
    the measured send rate (so it cannot run far ahead of what was actually sent);
    ``period`` / ``smoothing`` are the meter's.
    """

    cubic: Cubic = attrs.field(factory=Cubic)
    min_rate: float = attrs.field(default=0.5, validator=_positive)
    max_growth: float = attrs.field(default=2.0, validator=_growth)
    period: float = attrs.field(default=0.5, validator=_positive)
    smoothing: float = attrs.field(default=0.8, validator=_smoothing)

    def observe(
        self, state: AdaptiveState, now: float, throttled: bool, sent: float | None = None
    ) -> float:
        """One answer at ``now`` to a request sent at ``sent``: move the allowed rate (a
        throttle also switches the limiter on); returns the new allowed rate.

        One cut per reaction, as TCP makes one window reduction per loss event (RFC 5681
        §3.2): a throttle answering a request sent *before* the last cut tells nothing about
        the rate since, so it does not cut again. Without this rule, N calls in flight when
        the server starts refusing cut the rate N times (0.7^N) for one overload."""
        measured = state.meter.record(now, period=self.period, smoothing=self.smoothing)
        if not throttled and not state.enabled:
            # Unthrottled so far (the common case): only the meter moves; nothing waits.
            return max(self.min_rate, self.max_growth * measured)
        last_cut = state.cubic.last_throttle
        if (
            throttled
            and state.enabled
            and sent is not None
            and last_cut is not None
            and sent < last_cut
        ):
            throttled = False  # already reacted to: the curve goes on from that cut
        if throttled:
            base = measured if not state.enabled else min(measured, state.bucket.rate)
            target = self.cubic.cut(state.cubic, base, now)
            state.enabled = True
        else:
            target = self.cubic.rate(state.cubic, now)
        target = min(target, self.max_growth * measured)
        rate = max(target, self.min_rate)
        state.bucket.set_rate(now, rate, max(1.0, target))
        return rate


# --- routes and the policy ---------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\\\{[^/]*?\\\}")


def _route_pattern(template: str) -> tuple[str | None, re.Pattern[str]]:
    """``"POST /v1/files/{file_id}"`` → ("POST", a regex for the path); ``{name}`` matches one
    path segment, ``*`` anything; no method: every method."""
    method, _, path = template.strip().rpartition(" ")
    escaped = _PLACEHOLDER.sub("[^/]+", re.escape(path.strip())).replace(r"\*", ".*")
    return (method.strip().upper() or None), re.compile(escaped + r"\Z")


def _route(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or "/" not in value:
        raise ClientValidationError(
            f"{attribute.name} must be a path template like 'POST /v1/transcriptions' or "
            f"'/v1/files/{{file_id}}', got {value!r}",
            field=attribute.name,
        )


@attrs.frozen
class RouteLimit:
    """A limit of its own for the requests of one route: ``"POST /v1/transcriptions"``,
    ``"/v1/files/{file_id}"`` (any method), ``"GET /v1/transcriptions/*"``. The path is the
    server's, base path included."""

    route: str = attrs.field(validator=_route)
    rate: float = attrs.field(validator=_positive)
    burst: int | None = attrs.field(default=None, validator=_burst)
    _method: str | None = attrs.field(init=False, eq=False, repr=False)
    _pattern: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        method, pattern = _route_pattern(self.route)
        object.__setattr__(self, "_method", method)
        object.__setattr__(self, "_pattern", pattern)

    def matches(self, method: str, path: str) -> bool:
        return (self._method is None or self._method == method) and bool(self._pattern.match(path))

    def bucket(self) -> TokenBucket:
        return TokenBucket(self.rate, float(self.burst) if self.burst else default_burst(self.rate))


def _unique(_i: object, attribute: attrs.Attribute[Any], value: tuple[RouteLimit, ...]) -> None:
    seen: set[str] = set()
    for route in value:
        if route.route in seen:
            raise ClientValidationError(
                f"{attribute.name} names {route.route!r} twice", field=attribute.name
            )
        seen.add(route.route)


@attrs.define
class RateLimitState:
    """Every bucket of one client's limiter, by name (:data:`CLIENT`, route templates), and the
    adaptive state (None when adaptive mode is off)."""

    buckets: dict[str, TokenBucket] = attrs.field(factory=dict[str, TokenBucket])
    adaptive: AdaptiveState | None = None


@attrs.frozen
class Reservation:
    """Go after ``wait`` seconds (at clock reading ``due``); ``charged`` names the buckets that
    paid a token (each as of ``due``), ``limit`` the one that set the wait (None: no wait)."""

    wait: float
    due: float
    charged: tuple[str, ...]
    limit: str | None = None


@attrs.frozen
class Refused:
    """The wait (set by ``limit``) would end at or past the deadline; nothing was reserved."""

    wait: float
    limit: str
    left: float


@attrs.frozen
class RateLimitSnapshot:
    """What the limiter looks like now: the adaptive rate (None while unthrottled or off) and
    the measured send rate (None when adaptive mode is off)."""

    adaptive_rate: float | None
    measured_rate: float | None


@attrs.frozen
class RateLimitPolicy:
    """A client-wide limit (``rate`` requests a second, ``burst`` at once; None: none), limits
    per route (the first that matches applies, on top of the client-wide one), and the
    adaptive rate (None: off). Pure: every method takes the state and ``now``."""

    rate: float | None = attrs.field(default=None, validator=_positive_or_none)
    burst: int | None = attrs.field(default=None, validator=_burst)
    routes: tuple[RouteLimit, ...] = attrs.field(default=(), converter=tuple, validator=_unique)
    adaptive: AdaptiveRate | None = None

    @property
    def active(self) -> bool:
        """Whether any limit is configured (if not, the middleware passes requests through)."""
        return self.rate is not None or bool(self.routes) or self.adaptive is not None

    def initial_state(self) -> RateLimitState:
        buckets: dict[str, TokenBucket] = {}
        if self.rate is not None:
            burst = float(self.burst) if self.burst else default_burst(self.rate)
            buckets[CLIENT] = TokenBucket(self.rate, burst)
        for route in self.routes:
            buckets[route.route] = route.bucket()
        return RateLimitState(buckets, AdaptiveState() if self.adaptive is not None else None)

    def static_buckets(self, method: str, path: str) -> list[tuple[str, float, float]]:
        """(name, rate, burst) of the fixed buckets an attempt pays: the client-wide one and
        its route's (what a shared store keeps for every process)."""
        found: list[tuple[str, float, float]] = []
        if self.rate is not None:
            found.append((CLIENT, self.rate, float(self.burst or default_burst(self.rate))))
        if self.routes and (route := self.route_of(method, path)) is not None:
            bucket = route.bucket()
            found.append((f"route:{route.route}", bucket.rate, bucket.burst))
        return found

    def route_of(self, method: str, path: str) -> RouteLimit | None:
        for route in self.routes:
            if route.matches(method, path):
                return route
        return None

    def _applicable(
        self, state: RateLimitState, method: str, path: str
    ) -> list[tuple[str, TokenBucket]]:
        found: list[tuple[str, TokenBucket]] = []
        if (client := state.buckets.get(CLIENT)) is not None:
            found.append((CLIENT, client))
        if self.routes and (route := self.route_of(method, path)) is not None:
            found.append((route.route, state.buckets[route.route]))
        adaptive = state.adaptive
        if adaptive is not None and adaptive.enabled:
            found.append((ADAPTIVE, adaptive.bucket))
        return found

    def reserve(
        self,
        state: RateLimitState,
        method: str,
        path: str,
        now: float,
        deadline: float | None = None,
    ) -> Reservation | Refused:
        """One attempt of ``method path`` at ``now``: a token from each bucket that applies,
        due when the last is — or :class:`Refused`, with nothing taken, if that would be at or
        past ``deadline``."""
        buckets = self._applicable(state, method, path)
        wait = 0.0
        limit: str | None = None
        for name, bucket in buckets:
            needed = bucket.wait(now)
            if needed > wait:
                wait, limit = needed, name
        if limit is not None and deadline is not None and now + wait >= deadline:
            return Refused(wait, limit, max(0.0, deadline - now))
        due = now + wait
        for _, bucket in buckets:
            bucket.take(now, at=due)
        return Reservation(wait, due, tuple(name for name, _ in buckets), limit)

    def release(self, state: RateLimitState, reservation: Reservation, now: float) -> None:
        """Give back what can be given back of a reservation abandoned before it fell due
        (see :meth:`TokenBucket.give_back`), bucket by bucket."""
        due = reservation.due
        if now >= due:
            return
        for name in reservation.charged:
            if name == ADAPTIVE:
                if state.adaptive is not None:
                    state.adaptive.bucket.give_back(now, due)
            elif (bucket := state.buckets.get(name)) is not None:
                bucket.give_back(now, due)

    def observe(
        self, state: RateLimitState, now: float, throttled: bool, sent: float | None = None
    ) -> float | None:
        """Feed one answer (to a request sent at ``sent``) to the adaptive rate; returns the
        allowed rate (None: adaptive mode off)."""
        if self.adaptive is None or state.adaptive is None:
            return None
        return self.adaptive.observe(state.adaptive, now, throttled, sent)

    @staticmethod
    def is_throttle(response: Response) -> bool:
        """429, or any error answer carrying ``Retry-After`` / ``retry-after-ms``."""
        status = response.status
        if status == 429:
            return True
        if status < 400:
            return False
        headers = response.headers
        return "retry-after" in headers or "retry-after-ms" in headers

    def snapshot(self, state: RateLimitState) -> RateLimitSnapshot:
        adaptive = state.adaptive
        if adaptive is None:
            return RateLimitSnapshot(None, None)
        rate = adaptive.bucket.rate if adaptive.enabled else None
        return RateLimitSnapshot(rate, adaptive.meter.measured)

    def describe(self) -> str:
        """``client 50/s burst 50, POST /v1/transcriptions 2/s burst 2, adaptive``."""
        parts: list[str] = []
        if self.rate is not None:
            burst = self.burst or default_burst(self.rate)
            parts.append(f"{CLIENT} {self.rate:g}/s burst {burst:g}")
        for route in self.routes:
            parts.append(f"{route.route} {route.rate:g}/s burst {route.bucket().burst:g}")
        if self.adaptive is not None:
            parts.append(ADAPTIVE)
        return ", ".join(parts) or "no limit"


# --- the middleware ----------------------------------------------------------------------------


class RateLimit:
    """Makes every attempt wait for its tokens (place it inside ``retry`` so retries pay too).

    The state is this object's (in ``store``, under ``key``), so a client, its threads, its
    tasks and its ``with_options`` views share one limit. With no limit configured it passes
    requests through untouched.
    """

    name = "rate_limit"

    def __init__(
        self,
        policy: RateLimitPolicy | None = None,
        *,
        store: StateStore | None = None,
        key: str = "soniox.rate_limit",
        shared: SharedState | None = None,
        scope: str = "shared",
    ) -> None:
        """``shared``: where the client-wide and per-route buckets live when many processes
        share the key (:mod:`soniox.shared`; ``scope`` names the key's digest) — each attempt
        then takes its turn fleet-wide — and where throttles are announced: a 429 one worker
        sees cuts every worker's adaptive rate (each keeps its own CUBIC curve)."""
        self.policy = policy or RateLimitPolicy()
        self.store: StateStore = store if store is not None else LocalStateStore()
        self.key = key
        self.shared = shared
        self.scope = scope
        self._local = (
            attrs.evolve(self.policy, rate=None, routes=()) if shared is not None else self.policy
        )
        self._seen: int | None = None
        """The fleet's throttle count this client has reacted to (None: not looked yet)."""
        self._looked_at = -math.inf
        self._lock = threading.Lock()

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        if not self.policy.active:
            return call_next(request)
        if self.shared is None:
            return self._limited(request, call_next)
        return self._shared_then_local(request, call_next)

    def _shared_then_local(self, request: Request, call_next: CallNext) -> Flow[Response]:
        """The static buckets' turns fleet-wide (one shared take each), then the rest of the
        limit (the adaptive rate) as in :meth:`_limited`."""
        shared, policy = self.shared, self.policy
        assert shared is not None
        clock = yield from get_clock()
        now = clock.now()
        method, path, deadline = request.method, request.path, request.options.deadline
        left = math.inf if deadline is None else max(0.0, deadline - now)
        longest = 0.0
        for name, rate, burst in policy.static_buckets(method, path):
            grant = yield from shared_take(shared, self.scope, name, rate, burst, left)
            if not grant.granted:
                raise RateLimitWaitError(
                    f"the shared rate limit ({name}) would hold {method} {path} for "
                    f"{grant.wait_s:.3g}s, past the call's deadline ({left:.3g}s left): "
                    "failing now instead of waiting",
                    wait=grant.wait_s,
                    limit=name,
                    timeout=left,
                )
            longest = max(longest, grant.wait_s)
        if longest > 0:
            yield from wait(longest, "rate_limit")
        local = self._local
        if not local.active:
            return (yield from call_next(request))
        if local.adaptive is None:
            return (yield from self._limited(request, call_next, local))
        yield from self._follow_fleet(shared, clock.now())
        response = yield from self._limited(request, call_next, local)
        if local.is_throttle(response):  # tell the fleet: every worker cuts its rate
            count = yield from shared_signal(shared, self.scope, THROTTLES, raise_it=True)
            with self._lock:
                self._seen = max(self._seen or 0, count)
        return response

    def _follow_fleet(self, shared: SharedState, now: float) -> Flow[None]:
        """At most every :data:`FLEET_LOOK_S`: a throttle another worker saw since the last
        look cuts this client's adaptive rate too (as if it had been answered here)."""
        with self._lock:
            if now - self._looked_at < FLEET_LOOK_S:
                return
            self._looked_at = now
        count = yield from shared_signal(shared, self.scope, THROTTLES, raise_it=False)
        with self._lock:
            seen, self._seen = self._seen, max(self._seen or 0, count)
        if seen is None or count <= seen:
            return  # the first look only learns where the count stands
        store, key, policy = self.store, self.key, self._local
        yield from update_state(store, key, policy.initial_state, _observer(policy, now, True, now))

    def _limited(
        self, request: Request, call_next: CallNext, chosen: RateLimitPolicy | None = None
    ) -> Flow[Response]:
        policy, store, key = chosen or self.policy, self.store, self.key
        initial = policy.initial_state
        clock = yield from get_clock()
        now = clock.now()
        method, path, deadline = request.method, request.path, request.options.deadline

        def reserve(state: RateLimitState) -> Reservation | Refused:
            return policy.reserve(state, method, path, now, deadline)

        if type(store) is LocalStateStore:  # the hot path: a plain call, no effect
            decision = store.update(key, initial, reserve)
        else:
            decision = yield from update_state(store, key, initial, reserve)
        if isinstance(decision, Refused):
            raise RateLimitWaitError(
                f"the client-side rate limit ({decision.limit}) would hold {method} {path} for "
                f"{decision.wait:.3g}s, past the call's deadline ({decision.left:.3g}s left): "
                "failing now instead of waiting",
                wait=decision.wait,
                limit=decision.limit,
                timeout=decision.left,
            )
        if decision.wait > 0:
            try:
                yield from wait(decision.wait, "rate_limit")  # observers: a rate-limit wait
            except BaseException:
                # Cancelled, interrupted or closed while waiting: the token goes back. A plain
                # call, not an effect: a closing generator cannot yield.
                abandoned: Reservation = decision
                store.update(key, initial, _releaser(policy, abandoned, clock.now()))
                raise
        if policy.adaptive is None:
            return (yield from call_next(request))
        try:
            response = yield from call_next(request)
        except TransportError:
            failed = _observer(policy, clock.now(), False, decision.due)
            yield from update_state(store, key, initial, failed)
            raise
        observe = _observer(policy, clock.now(), policy.is_throttle(response), decision.due)
        if type(store) is LocalStateStore:
            store.update(key, initial, observe)
        else:
            yield from update_state(store, key, initial, observe)
        return response

    def snapshot(self) -> RateLimitSnapshot:
        """The adaptive rate and measured send rate now (see :class:`RateLimitSnapshot`)."""
        local = self._local  # with a shared state, the buckets kept here
        return self.store.update(self.key, local.initial_state, local.snapshot)

    def __repr__(self) -> str:
        return f"RateLimit({self.policy.describe()})"


def _releaser(
    policy: RateLimitPolicy, reservation: Reservation, now: float
) -> Callable[[RateLimitState], None]:
    def release(state: RateLimitState) -> None:
        policy.release(state, reservation, now)

    return release


def _observer(
    policy: RateLimitPolicy, now: float, throttled: bool, sent: float
) -> Callable[[RateLimitState], float | None]:
    def observe(state: RateLimitState) -> float | None:
        return policy.observe(state, now, throttled, sent)

    return observe
