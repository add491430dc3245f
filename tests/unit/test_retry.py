"""Retry: the sans-IO policy's rules and the middleware that obeys it (fake clock, no waiting)."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import (
    DecodeError,
    RequestNotSentError,
    ResponseLostError,
)
from soniox.middleware import Backoff, Retry, RetryPolicy, Stack
from soniox.middleware.retry import GiveUp, RetryIn
from soniox.transport import (
    URL,
    FakeClock,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
    Response,
    StreamBody,
)

BASE = URL.parse("http://127.0.0.1:9/v1")
RNG = random.Random(7)


def req(
    method: str = "GET",
    *,
    body: bytes | StreamBody | None = None,
    options: RequestOptions | None = None,
) -> Request:
    return Request(method, BASE.join("/x"), body=body, options=options or RequestOptions())


def resp(status: int, request: Request | None = None, **headers: str) -> Response:
    return Response.build(status, request or req(), headers=headers)


def decide(policy: RetryPolicy, request: Request, outcome: object, retries: int = 0, **kw: float):
    return policy.decide(
        request,
        outcome,  # type: ignore[arg-type]
        retries,
        now=kw.get("now", 0.0),
        wall=kw.get("wall", 1_700_000_000.0),
        rng=RNG,
    )


def run(transport: InMemoryTransport, request: Request, policy: RetryPolicy | None = None):
    stack = Stack([Retry(policy or RetryPolicy(), rng=random.Random(1))])
    return stack.run(request, transport)


# --- policy rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_for_get(status: int) -> None:
    """408, 429 and 5xx on a GET lead to a retry."""
    assert isinstance(decide(RetryPolicy(), req(), resp(status)), RetryIn)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413])
def test_client_errors_are_not_retried(status: int) -> None:
    """A 4xx other than 408/429 will fail the same way again."""
    assert isinstance(decide(RetryPolicy(), req(), resp(status)), GiveUp)


def test_server_error_on_post_is_not_retried() -> None:
    """A 500 on a POST may have created something: no blind resend."""
    decision = decide(RetryPolicy(), req("POST"), resp(500))
    assert isinstance(decision, GiveUp)
    assert "non-idempotent" in decision.reason


@pytest.mark.parametrize("status", [408, 429])
def test_refusals_are_retried_even_for_post(status: int) -> None:
    """408/429 mean the server did not act, so any method is safe to resend."""
    assert isinstance(decide(RetryPolicy(), req("POST"), resp(status)), RetryIn)


def test_idempotency_key_makes_post_retryable() -> None:
    """A POST carrying an idempotency key is retried like a GET."""
    keyed = req("POST", options=RequestOptions(idempotency_key="k-1"))
    assert isinstance(decide(RetryPolicy(), keyed, resp(503)), RetryIn)


def test_explicit_idempotent_option_overrides_the_method() -> None:
    """RequestOptions(idempotent=False) stops retries of a GET's lost response."""
    not_idem = req("GET", options=RequestOptions(idempotent=False))
    assert isinstance(decide(RetryPolicy(), not_idem, ResponseLostError("x")), GiveUp)


def test_request_not_sent_is_retried_for_any_method() -> None:
    """Never reached the server: always safe to retry, POST included."""
    assert isinstance(decide(RetryPolicy(), req("POST"), RequestNotSentError("x")), RetryIn)


def test_response_lost_is_retried_only_when_idempotent() -> None:
    """May have been processed: GET retried, POST not."""
    assert isinstance(decide(RetryPolicy(), req("GET"), ResponseLostError("x")), RetryIn)
    decision = decide(RetryPolicy(), req("POST"), ResponseLostError("x"))
    assert isinstance(decision, GiveUp)
    assert "idempotency key" in decision.reason


def test_non_transport_errors_are_not_retried() -> None:
    """A decode error or a bug is not a transient condition."""
    assert isinstance(decide(RetryPolicy(), req(), DecodeError("bad json")), GiveUp)
    assert isinstance(decide(RetryPolicy(), req(), ValueError("bug")), GiveUp)


def test_retries_stop_at_max_retries() -> None:
    """After max_retries resends the outcome is final."""
    policy = RetryPolicy(max_retries=2)
    assert isinstance(decide(policy, req(), resp(503), retries=1), RetryIn)
    decision = decide(policy, req(), resp(503), retries=2)
    assert isinstance(decision, GiveUp)
    assert "exhausted" in decision.reason


def test_per_call_max_retries_overrides_the_policy() -> None:
    """RequestOptions.max_retries wins over the policy's default."""
    none = req(options=RequestOptions(max_retries=0))
    assert isinstance(decide(RetryPolicy(max_retries=5), none, resp(503)), GiveUp)


def test_one_shot_body_is_never_replayed() -> None:
    """A body that can be read once cannot be sent twice."""
    one_shot = req("PUT", body=StreamBody.one_shot(iter([b"a"])))
    decision = decide(RetryPolicy(), one_shot, RequestNotSentError("x"))
    assert isinstance(decision, GiveUp)
    assert "one-shot" in decision.reason


def test_replayable_stream_body_is_retried() -> None:
    """A factory body gives a fresh iterator per attempt, so it may be resent."""
    body = StreamBody.from_factory(lambda: iter([b"a"]), length=1)
    assert isinstance(decide(RetryPolicy(), req("PUT", body=body), resp(503)), RetryIn)


def test_a_wait_past_the_deadline_gives_up_now() -> None:
    """The deadline bounds waits: one that would end after it is not started."""
    policy = RetryPolicy(backoff=Backoff(base=10, cap=10))
    deadline = req(options=RequestOptions(deadline=5.0))
    decision = policy.decide(deadline, resp(503), 0, now=0.0, wall=0.0, rng=_FixedRandom(10.0))
    assert isinstance(decision, GiveUp)
    assert "deadline" in decision.reason


class _FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return min(max(self.value, a), b)


# --- properties ------------------------------------------------------------------------------


@given(
    base=st.floats(0, 10),
    factor=st.floats(1, 4),
    cap=st.floats(0, 60),
    retry=st.integers(0, 2000),
    seed=st.integers(0, 2**32),
)
def test_full_jitter_stays_within_zero_and_the_capped_exponential(
    base: float, factor: float, cap: float, retry: int, seed: int
) -> None:
    """Full jitter: 0 <= delay <= min(cap, base * factor**n), for any n (no overflow)."""
    backoff = Backoff(base, factor, cap)
    delay = backoff.delay(retry, random.Random(seed))
    assert 0.0 <= delay <= min(cap, backoff.ceiling(retry)) + 1e-9
    assert backoff.ceiling(retry) <= cap


@given(base=st.floats(0.01, 5), cap=st.floats(0.01, 60), seed=st.integers(0, 2**32))
def test_decorrelated_jitter_never_exceeds_the_cap(base: float, cap: float, seed: int) -> None:
    """Decorrelated jitter stays within [0, cap] whatever the previous delay."""
    rng = random.Random(seed)
    backoff = Backoff(base, 2.0, cap, decorrelated=True)
    previous = None
    for n in range(20):
        previous = backoff.delay(n, rng, previous)
        assert 0.0 <= previous <= cap


@given(
    now=st.floats(0, 1e6),
    left=st.floats(0, 100),
    retries=st.integers(0, 10),
    seed=st.integers(0, 2**32),
)
def test_a_scheduled_wait_always_ends_before_the_deadline(
    now: float, left: float, retries: int, seed: int
) -> None:
    """Whatever the draw, RetryIn never schedules past the deadline."""
    policy = RetryPolicy(max_retries=20, backoff=Backoff(1.0, 2.0, 30.0))
    request = req(options=RequestOptions(deadline=now + left))
    decision = policy.decide(request, resp(503), retries, now=now, wall=0, rng=random.Random(seed))
    if isinstance(decision, RetryIn):
        assert now + decision.delay < now + left


@given(max_retries=st.integers(0, 6), failures=st.integers(0, 10))
def test_attempts_never_exceed_max_retries_plus_one(max_retries: int, failures: int) -> None:
    """Sent attempts = min(failures + 1, max_retries + 1), and the clock is fake."""
    outcomes = [Reply(503)] * failures + [Reply(200)]
    transport = InMemoryTransport.sequence(outcomes, clock=FakeClock())
    response = run(transport, req(), RetryPolicy(max_retries=max_retries))
    assert len(transport.requests) == min(failures, max_retries) + 1
    assert response.status == (200 if failures <= max_retries else 503)


# --- the middleware ------------------------------------------------------------------------------


def test_transient_failures_are_retried_until_success() -> None:
    """503, a lost connection, then 200: the caller sees only the 200."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence(
        [Reply(503), RequestNotSentError("refused"), Reply(200)], clock=clock
    )
    assert run(transport, req()).status == 200
    assert len(transport.requests) == 3
    assert len(clock.sleeps) == 2


def test_each_attempt_carries_its_number() -> None:
    """Attempts are copies of the request with attempt = 1, 2, 3."""
    transport = InMemoryTransport.sequence([Reply(503), Reply(503), Reply(200)])
    run(transport, req())
    assert [r.attempt for r in transport.requests] == [1, 2, 3]


def test_the_last_response_is_returned_when_retries_run_out() -> None:
    """Exhausted retries hand back the final error response (the client raises from it)."""
    transport = InMemoryTransport.sequence([Reply(503)])
    response = run(transport, req(), RetryPolicy(max_retries=1))
    assert response.status == 503
    assert len(transport.requests) == 2


def test_the_last_error_is_raised_when_retries_run_out() -> None:
    """Exhausted retries re-raise the final transport error."""
    transport = InMemoryTransport.sequence([RequestNotSentError("down")])
    with pytest.raises(RequestNotSentError):
        run(transport, req(), RetryPolicy(max_retries=2))
    assert len(transport.requests) == 3


def test_backoff_waits_are_slept_on_the_transport_clock() -> None:
    """Waits follow the backoff ceiling and happen on the fake clock (no real time passes)."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([Reply(500), Reply(500), Reply(200)], clock=clock)
    run(transport, req(), RetryPolicy(backoff=Backoff(base=1, factor=2, cap=8)))
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 1
    assert 0 <= clock.sleeps[1] <= 2


def test_deadline_stops_retrying_before_it_passes() -> None:
    """With 1.5 s left and 1 s waits, the retry loop stops before the deadline."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([Reply(503)], clock=clock)
    policy = RetryPolicy(max_retries=10, backoff=Backoff(base=1, factor=1, cap=1))
    request = req(options=RequestOptions(deadline=clock.now() + 1.5))
    stack = Stack([Retry(policy, rng=_FixedRandom(1.0))])
    assert stack.run(request, transport).status == 503
    assert clock.now() <= request.options.deadline  # type: ignore[operator]
    assert len(transport.requests) == 2


def test_retry_runs_identically_under_the_async_driver() -> None:
    """Same middleware, async driver: same attempts, same waits."""
    clock = FakeClock()
    transport = InMemoryTransport.sequence([Reply(429), Reply(200)], clock=clock)
    stack = Stack([Retry(RetryPolicy(), rng=random.Random(1))])
    response = asyncio.run(stack.arun(req(), transport))
    assert response.status == 200
    assert len(transport.requests) == 2
    assert len(clock.sleeps) == 1


def test_one_shot_upload_fails_without_a_second_attempt() -> None:
    """A failed one-shot body upload surfaces the error at once."""
    transport = InMemoryTransport.sequence([RequestNotSentError("reset"), Reply(200)])
    body = StreamBody.one_shot(iter([b"chunk"]))
    with pytest.raises(RequestNotSentError):
        run(transport, req("PUT", body=body))
    assert len(transport.requests) == 1


def test_replayable_upload_is_sent_again_in_full() -> None:
    """A factory body is re-read from the start on the second attempt."""
    transport = InMemoryTransport.sequence([Reply(503), Reply(200)])
    body = StreamBody.from_factory(lambda: iter([b"ab", b"cd"]), length=4)
    run(transport, req("PUT", body=body))
    assert transport.bodies == [b"abcd", b"abcd"]


def test_retry_repr_shows_the_policy() -> None:
    """repr(Retry) says how it retries."""
    text = repr(Retry(RetryPolicy(max_retries=3)))
    assert "max_retries=3" in text
    assert "retry_after_cap" in text


def test_invalid_policy_values_say_what_to_fix() -> None:
    """Negative retries or a factor below 1 fail at construction with the field named."""
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="factor"):
        Backoff(factor=0.5)
