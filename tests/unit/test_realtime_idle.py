"""The idle-link policy of realtime connection pools: keep, refresh, expire by age; how many
links to open."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.realtime.idle import IdlePolicy, Verdict


def test_a_young_link_is_kept_an_old_one_refreshed_then_expired() -> None:
    """600 s lifetime, refreshed 60 s before: kept until 540 s, refreshed until 600 s."""
    policy = IdlePolicy(2)
    assert policy.verdict(0.0, 539.9) is Verdict.KEEP
    assert policy.verdict(0.0, 540.0) is Verdict.REFRESH
    assert policy.verdict(0.0, 600.0) is Verdict.EXPIRED


@given(
    size=st.integers(1, 20),
    idle=st.integers(0, 30),
    opening=st.integers(0, 30),
)
def test_the_pool_opens_only_what_it_lacks(size: int, idle: int, opening: int) -> None:
    """to_open never goes below zero and fills exactly up to the pool's size."""
    wanted = IdlePolicy(size).to_open(idle, opening)
    assert wanted >= 0
    assert wanted == max(0, size - idle - opening)


@given(age=st.floats(0, 10_000), lifetime=st.floats(1, 1000), fraction=st.floats(0.01, 0.99))
def test_verdicts_follow_age_monotonically(age: float, lifetime: float, fraction: float) -> None:
    """Older never means a better verdict."""
    policy = IdlePolicy(1, lifetime, lifetime * fraction)
    order = [Verdict.KEEP, Verdict.REFRESH, Verdict.EXPIRED]
    assert order.index(policy.verdict(0.0, age)) <= order.index(policy.verdict(0.0, age + 1))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0,), "pool_size"),
        ((1, 0.0), "idle_max_lifetime_sec"),
        ((1, 10.0, 10.0), "idle_refresh_before_sec"),
    ],
)
def test_bad_settings_are_client_validation_errors(args: tuple[float, ...], field: str) -> None:
    """A pool of nothing, no lifetime, or a refresh window not inside it: refused."""
    with pytest.raises(ClientValidationError) as caught:
        IdlePolicy(*args)  # type: ignore[arg-type]
    assert caught.value.field == field
