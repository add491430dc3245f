"""Client-side rate limit: the bucket, CUBIC, the adaptive rate, routes, deadlines, the middleware
(fake clock: no real waiting)."""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import (
    ClientValidationError,
    DeadlineExceededError,
    RateLimitWaitError,
    RequestNotSentError,
)
from soniox.middleware import Retry, RetryPolicy, Stack, build_stack
from soniox.middleware.cancel import FlowCancelled
from soniox.middleware.rate_limit import (
    ADAPTIVE,
    CLIENT,
    AdaptiveRate,
    AdaptiveState,
    Cubic,
    CubicState,
    RateLimit,
    RateLimitPolicy,
    RateLimitState,
    Refused,
    Reservation,
    RouteLimit,
    SendRateMeter,
    TokenBucket,
)
from soniox.middleware.retry import Backoff
from soniox.transport import (
    URL,
    FakeClock,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
    Response,
)

BASE = URL.parse("http://127.0.0.1:9/v1")


def req(method: str = "GET", path: str = "/models", deadline: float | None = None) -> Request:
    return Request(method, BASE.join(path), options=RequestOptions(deadline=deadline))


def limited(policy: RateLimitPolicy, transport: InMemoryTransport) -> tuple[Stack, RateLimit]:
    limit = RateLimit(policy)
    return Stack([limit]), limit


# --- the token bucket ------------------------------------------------------------------------------


def test_a_fresh_bucket_lets_the_burst_go_then_one_per_interval() -> None:
    """rate 2/s, burst 3: three at once, then one every 0.5 s."""
    bucket = TokenBucket(2.0, 3.0)
    waits = [bucket.take(0.0) for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0, 1.5])


def test_a_quiet_spell_refills_the_bucket_up_to_the_burst_only() -> None:
    """An hour idle saves up ``burst`` tokens, not an hour's worth."""
    bucket = TokenBucket(1.0, 2.0)
    bucket.take(0.0)
    assert [bucket.take(3600.0) for _ in range(3)] == pytest.approx([0.0, 0.0, 1.0])


def test_reservations_fall_due_in_the_order_they_were_made() -> None:
    """Concurrent callers queue first-come first-served: due times never go backwards."""
    bucket = TokenBucket(5.0, 1.0)
    dues = [t + bucket.take(t) for t in (0.0, 0.01, 0.02, 0.03, 0.5, 0.51)]
    assert dues == sorted(dues)


def test_the_last_waiter_leaving_frees_its_slot() -> None:
    """The last in line leaves before its turn: the next caller gets that turn."""
    bucket = TokenBucket(1.0, 1.0)
    bucket.take(0.0)
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.give_back(0.5, due=1.0) == pytest.approx(1.0)
    assert bucket.take(0.5) == pytest.approx(0.5)


def test_a_waiter_leaving_from_mid_queue_moves_nobody() -> None:
    """With others queued behind it, a leaver frees nothing: their turns stay, and a newcomer
    queues after the last of them, not on top of it."""
    bucket = TokenBucket(1.0, 1.0)
    dues = [bucket.take(0.0) for _ in range(4)]  # due at 0, 1, 2, 3
    assert bucket.give_back(0.0, due=dues[1]) == 0.0
    assert bucket.take(0.0) == pytest.approx(4.0)


def test_a_rate_change_keeps_what_accrued_at_the_old_rate() -> None:
    """Tokens earned before a rate change are earned at the old rate; the burst caps them."""
    bucket = TokenBucket(10.0, 10.0)
    for _ in range(10):
        bucket.take(0.0)
    bucket.set_rate(0.5, 1.0, 2.0)  # 0.5 s at 10/s = 5 tokens, capped to the new burst 2
    assert bucket.tokens == pytest.approx(2.0)


_ops = st.lists(
    st.tuples(st.floats(0, 2.0), st.sampled_from(["take", "take", "take", "cancel"])),
    min_size=1,
    max_size=120,
)


@given(rate=st.floats(0.1, 100), burst=st.integers(1, 20), ops=_ops, seed=st.integers(0, 99))
def test_a_bucket_never_grants_more_than_rate_times_time_plus_burst(
    rate: float, burst: int, ops: list[tuple[float, str]], seed: int
) -> None:
    """Whatever the timing and cancellations: in any window of w s at most rate*w + burst
    reservations fall due."""
    bucket = TokenBucket(rate, float(burst))
    rng = random.Random(seed)
    now = 0.0
    pending: list[float] = []  # due times of reservations still waiting
    granted: list[float] = []
    for dt, op in ops:
        now += dt
        granted += [due for due in pending if due <= now]
        pending = [due for due in pending if due > now]
        if op == "take":
            due = now + bucket.take(now)
            (granted if due <= now else pending).append(due)
        elif pending:
            due = rng.choice(pending)
            pending.remove(due)
            bucket.give_back(now, due)
    granted = sorted(granted + pending)
    for i, start in enumerate(granted):
        for j in range(i, len(granted)):
            assert j - i + 1 <= rate * (granted[j] - start) + burst + 1e-6


@given(rate=st.floats(0.1, 100), burst=st.integers(1, 20), gaps=st.lists(st.floats(0, 5)))
def test_a_wait_is_never_negative_and_never_longer_than_the_queue(
    rate: float, burst: int, gaps: list[float]
) -> None:
    """Each wait is in [0, queued / rate]: a reservation waits for those before it, no more."""
    bucket = TokenBucket(rate, float(burst))
    now = 0.0
    for gap in gaps:
        now += gap
        queued = max(0.0, -bucket.tokens if bucket.stamp is not None else 0.0)
        wait = bucket.take(now)
        assert 0.0 <= wait <= (queued + 1) / rate + 1e-9


# --- CUBIC -----------------------------------------------------------------------------------


def test_a_throttle_cuts_the_rate_by_beta() -> None:
    """A throttle at 10/s allows 7/s (beta 0.7)."""
    assert Cubic().cut(CubicState(), 10.0, now=5.0) == pytest.approx(7.0)


def test_the_curve_is_back_at_the_throttled_rate_after_k_seconds() -> None:
    """K = cbrt(w_max * (1 - beta) / scale) after a throttle, the curve is at w_max again."""
    cubic, state = Cubic(), CubicState()
    cubic.cut(state, 10.0, now=0.0)
    k = cubic.zero_point(10.0)
    assert k == pytest.approx(math.cbrt(10.0 * 0.3 / 0.4))
    assert cubic.rate(state, k) == pytest.approx(10.0)
    assert cubic.rate(state, 0.0) == pytest.approx(7.0)


@given(w_max=st.floats(0.5, 1000), t1=st.floats(0, 30), t2=st.floats(0, 30))
def test_the_curve_only_grows_between_throttles(w_max: float, t1: float, t2: float) -> None:
    """After a throttle the allowed rate never falls as quiet time passes; it stays below
    w_max until K and is above it after."""
    cubic, state = Cubic(), CubicState()
    cubic.cut(state, w_max, now=0.0)
    early, late = sorted((t1, t2))
    assert cubic.rate(state, early) <= cubic.rate(state, late) + 1e-9
    k = cubic.zero_point(w_max)
    assert (cubic.rate(state, early) <= w_max + 1e-9) == (early <= k + 1e-9) or math.isclose(
        early, k, abs_tol=1e-6
    )


@given(rate=st.floats(0.001, 1e6))
def test_a_cut_always_lowers_the_rate(rate: float) -> None:
    """beta < 1: the rate after a throttle is below the rate it was throttled at."""
    assert Cubic().cut(CubicState(), rate, now=0.0) < rate


# --- the measured send rate and the adaptive rate ----------------------------------------------


def test_the_meter_measures_a_steady_send_rate() -> None:
    """Twenty sends a second for five seconds measure as ~20/s."""
    meter = SendRateMeter()
    for i in range(100):
        rate = meter.record(i * 0.05)
    assert rate == pytest.approx(20.0, rel=0.05)


def test_adaptive_mode_starts_unthrottled() -> None:
    """Before any throttle, successes never make an attempt wait."""
    policy = RateLimitPolicy(adaptive=AdaptiveRate())
    state = policy.initial_state()
    for i in range(1000):
        now = i * 0.001
        decision = policy.reserve(state, "GET", "/v1/models", now)
        assert isinstance(decision, Reservation)
        assert decision.wait == 0.0
        policy.observe(state, now, throttled=False)


def _warm(adaptive: AdaptiveRate, state: AdaptiveState, rate: float, seconds: float) -> float:
    """Feed ``seconds`` of successes at ``rate``; returns the time reached."""
    now = 0.0
    for _ in range(int(rate * seconds)):
        now += 1 / rate
        adaptive.observe(state, now, throttled=False)
    return now


def test_a_throttle_cuts_the_allowed_rate_to_beta_of_the_measured_rate() -> None:
    """Sending 20/s, one 429: the client may now send 14/s."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = _warm(adaptive, state, 20.0, 5.0)
    allowed = adaptive.observe(state, now, throttled=True)
    assert state.enabled
    assert allowed == pytest.approx(0.7 * state.meter.measured)
    assert allowed == pytest.approx(14.0, rel=0.05)


def test_a_quiet_period_grows_the_rate_back_along_the_curve() -> None:
    """After a throttle at ~20/s, K seconds of successes bring the allowed rate back to ~20/s."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = _warm(adaptive, state, 20.0, 5.0)
    adaptive.observe(state, now, throttled=True)
    w_max = state.cubic.w_max
    k = adaptive.cubic.zero_point(w_max)
    start, allowed = now, []
    while now < start + k:
        now += 1 / 20.0
        allowed.append(adaptive.observe(state, now, throttled=False))
    assert allowed == sorted(allowed)
    assert allowed[-1] == pytest.approx(w_max, rel=0.05)


def test_throttles_of_requests_sent_before_the_cut_do_not_cut_again() -> None:
    """Ten calls in flight all refused: one cut (0.7x), not ten (0.7^10)."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = _warm(adaptive, state, 20.0, 5.0)
    sent = now - 0.2  # all ten went out before the server started refusing
    first = adaptive.observe(state, now, throttled=True, sent=sent)
    rates = [adaptive.observe(state, now + 0.01 * i, throttled=True, sent=sent) for i in range(9)]
    assert first == pytest.approx(14.0, rel=0.05)
    assert min(rates) >= first * 0.99


def test_a_throttle_of_a_request_sent_after_the_cut_cuts_again() -> None:
    """A request sent at the reduced rate and still refused is news: the rate goes down."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = _warm(adaptive, state, 20.0, 5.0)
    first = adaptive.observe(state, now, throttled=True, sent=now - 0.1)
    second = adaptive.observe(state, now + 0.5, throttled=True, sent=now + 0.1)
    assert second < first * 0.9


@given(count=st.integers(1, 50), gap=st.floats(0.0, 0.05))
def test_any_number_of_stale_throttles_costs_one_cut(count: int, gap: float) -> None:
    """However many calls were in flight when the refusals began, the rate is cut once."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = _warm(adaptive, state, 20.0, 5.0)
    sent = now - 0.1
    first = adaptive.observe(state, now, throttled=True, sent=sent)
    for i in range(count):
        allowed = adaptive.observe(state, now + gap * (i + 1), throttled=True, sent=sent)
        assert allowed >= first * 0.99


_events = st.lists(st.tuples(st.floats(0.001, 1.0), st.booleans()), min_size=1, max_size=200)


@given(events=_events)
def test_the_adaptive_rate_stays_between_the_floor_and_twice_the_measured_rate(
    events: list[tuple[float, bool]],
) -> None:
    """Whatever the answers: min_rate <= allowed <= max(min_rate, 2 * measured)."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = 0.0
    for gap, throttled in events:
        now += gap
        allowed = adaptive.observe(state, now, throttled)
        assert allowed >= adaptive.min_rate
        assert allowed <= max(adaptive.min_rate, 2.0 * state.meter.measured) + 1e-9


@given(events=_events)
def test_a_throttle_never_raises_the_allowed_rate(events: list[tuple[float, bool]]) -> None:
    """A 429 answers with a rate no higher than the one in force (or the measured one)."""
    adaptive, state = AdaptiveRate(), AdaptiveState()
    now = 0.0
    for gap, throttled in events:
        now += gap
        before = state.bucket.rate if state.enabled else math.inf
        allowed = adaptive.observe(state, now, throttled)
        if throttled:
            assert allowed <= max(adaptive.min_rate, before) + 1e-9


# --- routes, deadlines and the policy -----------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "method", "path", "matches"),
    [
        ("POST /v1/transcriptions", "POST", "/v1/transcriptions", True),
        ("POST /v1/transcriptions", "GET", "/v1/transcriptions", False),
        ("POST /v1/transcriptions", "POST", "/v1/transcriptions/abc", False),
        ("/v1/files/{file_id}", "DELETE", "/v1/files/f-1", True),
        ("/v1/files/{file_id}", "GET", "/v1/files/f-1/extra", False),
        ("GET /v1/transcriptions/*", "GET", "/v1/transcriptions/a/transcript", True),
    ],
)
def test_a_route_template_matches_its_method_and_path(
    route: str, method: str, path: str, matches: bool
) -> None:
    """A method (or any), a path where {name} is one segment and * is anything."""
    assert RouteLimit(route, 1.0).matches(method, path) is matches


def test_a_route_limit_applies_on_top_of_the_client_limit() -> None:
    """POST /v1/transcriptions pays its route bucket and the client's; other calls only the
    client's."""
    policy = RateLimitPolicy(
        rate=100.0, burst=100, routes=(RouteLimit("POST /v1/transcriptions", 1.0, 1),)
    )
    state = policy.initial_state()
    other = policy.reserve(state, "GET", "/v1/files", 0.0)
    first = policy.reserve(state, "POST", "/v1/transcriptions", 0.0)
    second = policy.reserve(state, "POST", "/v1/transcriptions", 0.0)
    assert isinstance(other, Reservation)
    assert (other.wait, other.charged) == (0.0, (CLIENT,))
    assert isinstance(first, Reservation)
    assert first.charged == (CLIENT, "POST /v1/transcriptions")
    assert isinstance(second, Reservation)
    assert (second.wait, second.limit) == (pytest.approx(1.0), "POST /v1/transcriptions")


_policy_ops = st.lists(
    st.tuples(
        st.floats(0, 0.6), st.sampled_from(["/v1/x", "/v1/y", "/v1/y", "cancel"]), st.integers()
    ),
    min_size=1,
    max_size=80,
)


def _envelope_holds(times: list[float], rate: float, burst: int) -> bool:
    times = sorted(times)
    return all(
        j - i + 1 <= rate * (times[j] - times[i]) + burst + 1e-6
        for i in range(len(times))
        for j in range(i, len(times))
    )


@given(
    rate=st.sampled_from([2.0, 5.0, 20.0]),
    burst=st.integers(1, 4),
    route_rate=st.sampled_from([0.5, 1.0, 3.0]),
    route_burst=st.integers(1, 3),
    ops=_policy_ops,
)
def test_with_route_limits_and_cancellations_no_bucket_grants_too_much(
    rate: float, burst: int, route_rate: float, route_burst: int, ops: list[tuple[float, str, int]]
) -> None:
    """A request held by its route's limit is counted by the client-wide bucket as of when it
    goes: the client-wide and the route envelopes both hold, whoever cancels when."""
    policy = RateLimitPolicy(
        rate=rate, burst=burst, routes=(RouteLimit("/v1/x", route_rate, route_burst),)
    )
    state = policy.initial_state()
    now = 0.0
    made: list[tuple[Reservation, str]] = []
    for gap, what, pick in ops:
        now += gap
        if what == "cancel":
            waiting = [item for item in made if item[0].due > now]
            if waiting:
                item = waiting[pick % len(waiting)]
                made.remove(item)
                policy.release(state, item[0], now)
            continue
        reservation = policy.reserve(state, "GET", what, now)
        assert isinstance(reservation, Reservation)
        made.append((reservation, what))
    assert _envelope_holds([r.due for r, _ in made], rate, burst)
    assert _envelope_holds([r.due for r, path in made if path == "/v1/x"], route_rate, route_burst)


def test_a_wait_past_the_deadline_is_refused_and_reserves_nothing() -> None:
    """Refused says how long it would have been; the next caller's turn is unchanged."""
    policy = RateLimitPolicy(rate=1.0, burst=1)
    state = policy.initial_state()
    policy.reserve(state, "GET", "/v1/models", 0.0)
    refused = policy.reserve(state, "GET", "/v1/models", 0.0, deadline=0.5)
    assert refused == Refused(pytest.approx(1.0), CLIENT, 0.5)
    after = policy.reserve(state, "GET", "/v1/models", 0.0)
    assert isinstance(after, Reservation)
    assert after.wait == pytest.approx(1.0)


def test_only_a_reservation_not_yet_due_is_given_back() -> None:
    """Once due the attempt went (or could have): its token stays spent."""
    policy = RateLimitPolicy(rate=1.0, burst=1)
    state = policy.initial_state()
    policy.reserve(state, "GET", "/v1/models", 0.0)
    waiting = policy.reserve(state, "GET", "/v1/models", 0.0)
    assert isinstance(waiting, Reservation)
    policy.release(state, waiting, now=1.5)  # too late: it fell due at 1.0
    after = policy.reserve(state, "GET", "/v1/models", 1.5)
    assert isinstance(after, Reservation)
    assert after.wait == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("status", "headers", "throttle"),
    [
        (429, {}, True),
        (503, {"retry-after": "2"}, True),
        (500, {"retry-after-ms": "50"}, True),
        (503, {}, False),
        (200, {"retry-after": "2"}, False),
    ],
)
def test_throttling_is_a_429_or_an_error_with_retry_after(
    status: int, headers: dict[str, str], throttle: bool
) -> None:
    """429 always; another error status only when it carries Retry-After."""
    response = Response.build(status, req(), headers=headers)
    assert RateLimitPolicy.is_throttle(response) is throttle


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RateLimitPolicy(rate=-1.0), "rate"),
        (lambda: RateLimitPolicy(rate=math.nan), "rate"),
        (lambda: RateLimitPolicy(rate=math.inf), "rate"),
        (lambda: RateLimitPolicy(rate=1.0, burst=0), "burst"),
        (lambda: RouteLimit("POST /v1/transcriptions", 0.0), "rate"),
        (lambda: RouteLimit("transcriptions", 1.0), "route"),
        (
            lambda: RateLimitPolicy(routes=(RouteLimit("/v1/x", 1), RouteLimit("/v1/x", 2))),
            "routes",
        ),
        (lambda: AdaptiveRate(min_rate=0.0), "min_rate"),
        (lambda: AdaptiveRate(max_growth=0.5), "max_growth"),
        (lambda: Cubic(beta=1.0), "beta"),
        (lambda: SonioxConfig(rate_limit_per_second=-5), "rate_limit_per_second"),
        (lambda: SonioxConfig(rate_limit_per_second=math.nan), "rate_limit_per_second"),
        (lambda: SonioxConfig(rate_limit_burst=0), "rate_limit_burst"),
        (lambda: SonioxConfig(rate_limit_routes={"/v1/files": -1}), "rate_limit_routes"),
        (lambda: SonioxConfig(rate_limit_routes={"/v1/files": (1, 0)}), "rate_limit_routes"),
        (lambda: SonioxConfig(rate_limit_routes={"files": 1}), "rate_limit_routes"),
        (lambda: SonioxConfig(rate_limit_routes=5), "rate_limit_routes"),
    ],
)
def test_invalid_knobs_fail_at_construction_naming_the_field(make: Any, field: str) -> None:
    """A negative or NaN rate, a zero burst, a bad route: ClientValidationError naming it."""
    with pytest.raises(ClientValidationError) as caught:
        make()
    assert caught.value.field == field


# --- the middleware -----------------------------------------------------------------------------


def test_every_attempt_pays_so_retries_keep_to_the_limit() -> None:
    """Inside retry at 1/s, burst 1: three attempts of one call go out a second apart."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([Reply(503), Reply(503), Reply(200)], clock=clock)
    retry = Retry(RetryPolicy(backoff=Backoff(base=0.0, cap=0.0)), rng=random.Random(1))
    stack = Stack([retry, RateLimit(RateLimitPolicy(rate=1.0, burst=1))])
    sent_at: list[float] = []
    transport_send = transport.send

    def send(request: Request) -> Response:
        sent_at.append(clock.now())
        return transport_send(request)

    transport.send = send  # type: ignore[method-assign]
    assert stack.run(req(), transport).status == 200
    assert [round(t - sent_at[0], 6) for t in sent_at] == [0.0, 1.0, 2.0]


def test_a_deadline_shorter_than_the_wait_raises_at_once() -> None:
    """RateLimitWaitError (a DeadlineExceededError) carries the wait; nothing slept or sent."""
    clock = FakeClock()
    transport = InMemoryTransport(clock=clock)
    stack = Stack([RateLimit(RateLimitPolicy(rate=0.5, burst=1))])
    stack.run(req(), transport)
    with pytest.raises(RateLimitWaitError) as caught:
        stack.run(req(deadline=clock.now() + 1.0), transport)
    assert isinstance(caught.value, DeadlineExceededError)
    assert caught.value.wait == pytest.approx(2.0)
    assert caught.value.limit == CLIENT
    assert clock.sleeps == []
    assert len(transport.requests) == 1
    assert "2s" in str(caught.value)


def test_an_interrupted_wait_gives_its_token_back() -> None:
    """Cancelled while waiting for its turn: the next caller gets that turn."""

    class CancellingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            raise FlowCancelled("cancelled while waiting")

    clock = CancellingClock()
    transport = InMemoryTransport(clock=clock)
    limit = RateLimit(RateLimitPolicy(rate=1.0, burst=1))
    stack = Stack([limit])
    stack.run(req(), transport)
    with pytest.raises(FlowCancelled):
        stack.run(req(), transport)
    state = limit.store.update(limit.key, limit.policy.initial_state, lambda s: s)
    assert isinstance(state, RateLimitState)
    assert state.buckets[CLIENT].tokens == pytest.approx(0.0)  # one spent, one given back


def _adaptive_stack(clock: FakeClock, throttled_path: str) -> tuple[Stack, InMemoryTransport]:
    def handler(request: Request) -> Reply:
        if request.path == throttled_path and throttling[0]:
            return Reply(429)
        return Reply(200, latency=0.01)

    throttling = [False]
    transport = InMemoryTransport(handler, clock=clock)
    transport.throttling = throttling  # type: ignore[attr-defined]
    return Stack([RateLimit(RateLimitPolicy(adaptive=AdaptiveRate()))]), transport


def test_one_429_slows_every_call_of_the_client() -> None:
    """A 429 on /v1/models makes the next calls to /v1/files wait too (the state is the
    client's); before it they never waited."""
    clock = FakeClock()
    stack, transport = _adaptive_stack(clock, "/v1/models")
    for _ in range(200):  # 100/s of successes: measured ~100/s, no waiting
        stack.run(req(path="/files"), transport)
    assert clock.sleeps == []
    transport.throttling[0] = True  # type: ignore[attr-defined]
    assert stack.run(req(path="/models"), transport).status == 429
    for _ in range(20):
        stack.run(req(path="/files"), transport)
    assert len(clock.sleeps) >= 15
    limit = stack["rate_limit"]
    assert isinstance(limit, RateLimit)
    snapshot = limit.snapshot()
    assert snapshot.adaptive_rate is not None
    assert snapshot.adaptive_rate < 100


def test_the_adaptive_limit_runs_identically_under_the_async_driver() -> None:
    """Same middleware, async driver: the 429 slows the other route there too."""
    clock = FakeClock()
    stack, transport = _adaptive_stack(clock, "/v1/models")

    async def main() -> None:
        for _ in range(200):
            await stack.arun(req(path="/files"), transport)
        transport.throttling[0] = True  # type: ignore[attr-defined]
        await stack.arun(req(path="/models"), transport)
        for _ in range(20):
            await stack.arun(req(path="/files"), transport)

    asyncio.run(main())
    assert len(clock.sleeps) >= 15


def test_a_transport_failure_is_not_a_throttle() -> None:
    """A refused connection feeds the meter as a non-throttling answer: no slow-down."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([RequestNotSentError("refused")], clock=clock)
    limit = RateLimit(RateLimitPolicy(adaptive=AdaptiveRate()))
    for _ in range(5):
        with pytest.raises(RequestNotSentError):
            Stack([limit]).run(req(), transport)
    assert limit.snapshot().adaptive_rate is None


def test_without_limits_the_middleware_passes_requests_through() -> None:
    """No rate, no routes, no adaptive: the rest of the stack is called as is."""
    limit = RateLimit()
    sentinel: Any = object()
    assert limit.send(req(), lambda _request: sentinel) is sentinel


def test_the_registry_builds_the_limit_from_the_config() -> None:
    """rate_limit_per_second, burst, routes and adaptive reach the middleware."""
    config = SonioxConfig.testing(
        api_key="sk-unit-0123456789abcdef",
        middleware=("headers", "retry", "rate_limit", "logging"),
        rate_limit_per_second=50.0,
        rate_limit_burst=5,
        rate_limit_routes={"POST /v1/transcriptions": (2.0, 3)},
        rate_limit_adaptive=True,
    )
    limit = build_stack(config)["rate_limit"]
    assert isinstance(limit, RateLimit)
    assert repr(limit) == (
        f"RateLimit({CLIENT} 50/s burst 5, POST /v1/transcriptions 2/s burst 3, {ADAPTIVE})"
    )


def test_with_options_views_share_the_client_limit() -> None:
    """A view's calls and the root's draw on one bucket (they share the stack)."""
    clock = FakeClock()
    transport = InMemoryTransport(lambda _r: Reply(200, json_body={"models": []}), clock=clock)
    config = SonioxConfig.testing(
        api_key="sk-unit-0123456789abcdef",
        base_url="http://127.0.0.1:9/v1",
        middleware=("headers", "rate_limit"),
        rate_limit_per_second=1.0,
        rate_limit_burst=1,
    )
    with SonioxClient(config=config, transport=transport) as client:
        client.models.list()
        client.with_options(timeout=5).models.list()
    assert clock.sleeps == pytest.approx([1.0])
