"""PollingPolicy (pure) and ProcessingRates: bounds, monotone growth, deadlines, learning."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.flows.polling import (
    DEFAULT_POLLING,
    PollingPolicy,
    PollState,
    ProcessingRates,
)

policies = st.builds(
    lambda first, growth, cap_factor, jitter_share, hint: PollingPolicy(
        first_delay=first,
        growth=growth,
        max_delay=first * cap_factor,
        # the largest jitter that still keeps growth * (1 - jitter) >= 1
        jitter=(1 - 1 / growth) * jitter_share,
        use_duration_hint=hint,
    ),
    st.floats(0.05, 5.0),
    st.floats(1.0, 3.0),
    st.floats(1.0, 50.0),
    st.floats(0.0, 0.99),
    st.booleans(),
)


def _run(policy: PollingPolicy, steps: int, seed: int, **state: object) -> list[tuple[float, str]]:
    """Successive plans for a job whose state never changes (e.g. it stays queued)."""
    rng = random.Random(seed)
    plans: list[tuple[float, str]] = []
    now = 0.0
    previous: float | None = None
    phase = None
    for _ in range(steps):
        plan = policy.plan(
            PollState(now=now, previous_delay=previous, phase=phase, **state),  # type: ignore[arg-type]
            rng,
        )
        if plan is None:
            break
        plans.append((plan.delay, plan.phase))
        previous, phase = plan.delay, plan.phase
        now += plan.delay
    return plans


@given(policies, st.integers(0, 2**32), st.integers(1, 60))
def test_blind_delays_stay_within_bounds(policy: PollingPolicy, seed: int, steps: int) -> None:
    """Every delay while queued lies between first_delay * (1 - jitter) and max_delay."""
    for delay, phase in _run(policy, steps, seed, status="queued"):
        assert phase == "blind"
        assert policy.first_delay * (1 - policy.jitter) - 1e-9 <= delay <= policy.max_delay + 1e-9


@given(policies, st.integers(0, 2**32))
def test_blind_delays_never_shrink(policy: PollingPolicy, seed: int) -> None:
    """The blind schedule is non-decreasing (jitter included) and ends at the cap."""
    delays = [d for d, _ in _run(policy, 80, seed, status="queued")]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(delays))
    slowest_growth = policy.growth * (1 - policy.jitter)
    if policy.first_delay * slowest_growth ** (len(delays) - 1) >= policy.max_delay:
        assert delays[-1] == pytest.approx(policy.max_delay)


@given(policies, st.integers(0, 2**32), st.floats(0.0, 300.0))
def test_no_delay_ends_past_the_deadline(policy: PollingPolicy, seed: int, budget: float) -> None:
    """Summed delays never pass the deadline, and planning stops once it is reached."""
    plans = _run(policy, 500, seed, status="processing", deadline=budget)
    assert sum(d for d, _ in plans) <= budget + 1e-9
    assert (
        policy.plan(PollState(now=budget, status="queued", deadline=budget), random.Random())
        is None
    )


@given(
    policies,
    st.floats(0.0, 3600.0),
    st.floats(0.0, 3600.0),
    st.floats(0.0, 600.0),
    st.integers(0, 2**32),
)
def test_hinted_delays_are_bounded(
    policy: PollingPolicy, expected: float, elapsed: float, spread: float, seed: int
) -> None:
    """With a prediction, a delay is positive and at most policy.upper_bound."""
    plan = policy.plan(
        PollState(
            now=0.0,
            status="processing",
            audio_duration_ms=1000,
            expected_processing=expected,
            processing_spread=spread,
            processing_elapsed=elapsed,
        ),
        random.Random(seed),
    )
    assert plan is not None
    assert 0 < plan.delay <= policy.upper_bound + 1e-9


def test_the_hint_sleeps_until_just_after_the_predicted_end() -> None:
    """Processing 40 s of an expected 60 s: sleep the remaining 20 s plus hint_lag."""
    plan = DEFAULT_POLLING.plan(
        PollState(
            now=0.0,
            status="processing",
            audio_duration_ms=60_000,
            expected_processing=60.0,
            processing_elapsed=40.0,
        ),
        random.Random(1),
    )
    assert plan is not None
    assert plan.phase == "hinted"
    assert plan.delay == pytest.approx(20.0 + DEFAULT_POLLING.hint_lag)


def test_a_spread_moves_the_hinted_poll_earlier() -> None:
    """hint_margin spreads are taken off the predicted end."""
    state = PollState(
        now=0.0,
        status="processing",
        expected_processing=60.0,
        processing_spread=6.0,
        processing_elapsed=0.0,
    )
    plan = PollingPolicy(hint_margin=1.0, hint_lag=0.0).plan(state, random.Random(1))
    assert plan is not None
    assert plan.delay == pytest.approx(54.0)


def test_overdue_restarts_short_and_grows() -> None:
    """Once the predicted moment has passed, delays restart at overdue_delay and grow."""
    policy = PollingPolicy(jitter=0.0)
    plans = _run(
        policy,
        4,
        1,
        status="processing",
        expected_processing=10.0,
        processing_elapsed=30.0,
    )
    assert [p for _, p in plans] == ["overdue"] * 4
    assert [d for d, _ in plans] == pytest.approx([0.5, 0.75, 1.125, 1.6875])


def test_fixed_policy_is_a_constant_interval() -> None:
    """PollingPolicy.fixed(5) polls every 5 s whatever is known about the job."""
    plans = _run(
        PollingPolicy.fixed(5.0),
        6,
        1,
        status="processing",
        expected_processing=100.0,
        processing_elapsed=1.0,
    )
    assert [d for d, _ in plans] == [5.0] * 6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_delay": 0}, "first_delay"),
        ({"growth": 0.5}, "growth"),
        ({"jitter": 1.0}, "jitter"),
        ({"growth": 1.1, "jitter": 0.5}, "jitter"),
        ({"first_delay": 5.0, "max_delay": 1.0}, "max_delay"),
        ({"hint_lag": -1}, "hint_lag"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict[str, float], field: str) -> None:
    """Invalid parameters raise ClientValidationError naming the parameter."""
    with pytest.raises(ClientValidationError) as caught:
        PollingPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- ProcessingRates ------------------------------------------------------------------------------


def test_rates_learn_from_a_close_bracket() -> None:
    """A closely bracketed job teaches the rate; the prediction scales with the duration."""
    rates = ProcessingRates()
    assert rates.predict("k", 10_000) is None
    assert rates.observe("k", 10_000, 4.9, 5.1)
    predicted = rates.predict("k", 60_000)
    assert predicted is not None
    assert predicted[0] == pytest.approx(30.0)


def test_rates_ignore_a_loose_bracket() -> None:
    """A bracket wider than its middle says too little and is not learned from."""
    rates = ProcessingRates()
    assert not rates.observe("k", 10_000, 0.5, 9.0)
    assert rates.rate("k") is None


def test_rates_converge_and_shrink_the_spread() -> None:
    """Repeated exact observations converge to the true rate with a small spread."""
    rates = ProcessingRates()
    rates.observe("k", 10_000, 3.0, 5.0)
    for _ in range(30):
        rates.observe("k", 20_000, 9.99, 10.01)
    rate, spread = rates.rate("k") or (0.0, 0.0)
    assert rate == pytest.approx(0.5, rel=0.01)
    assert spread < 0.02


def test_a_late_hinted_poll_lowers_the_estimate() -> None:
    """A hinted poll that found the job long done nudges the estimate down (probing)."""
    rates = ProcessingRates(probe=0.01)
    rates.observe("k", 10_000, 9.9, 10.1)
    before = rates.rate("k")
    assert before is not None
    assert not rates.observe("k", 10_000, 0.0, 30.0, hinted=True)
    after = rates.rate("k")
    assert after is not None
    assert after[0] < before[0]


def test_late_hinted_polls_from_one_estimate_lower_it_once() -> None:
    """Jobs in flight together, woken late by the same estimate, lower it one step, not one each."""
    rates = ProcessingRates(probe=0.05, initial_spread=0.0)
    rates.observe("k", 10_000, 9.9, 10.1)
    before = rates.rate("k")
    assert before is not None
    for _ in range(16):
        rates.observe("k", 10_000, 0.0, 30.0, hinted=True, basis=before[0])
    after = rates.rate("k")
    assert after is not None
    assert after[0] == pytest.approx(before[0] * 0.95)


def test_rates_are_kept_per_server() -> None:
    """Each base URL has its own estimate; clear() forgets all."""
    rates = ProcessingRates()
    rates.observe("a", 10_000, 1.0, 1.0)
    assert rates.rate("b") is None
    rates.clear()
    assert rates.rate("a") is None
