"""The idle-link policy of realtime connection pools: keep, refresh, expire by age; how many
links to open."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.realtime.idle import IdleLinks, IdlePolicy, Verdict


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


class Link:
    """A stand-in link: when it opened, whether it is still connected."""

    def __init__(self, opened_at: float, connected: bool = True) -> None:
        self.opened_at: float | None = opened_at
        self.connected = connected


def test_links_are_reserved_up_to_the_size_and_join_when_they_arrive() -> None:
    """reserve() until full counts the links under way; arrived() adds them."""
    links: IdleLinks[Link] = IdleLinks(IdlePolicy(2))
    assert links.reserve()
    assert links.reserve()
    assert not links.reserve()
    assert links.arrived(Link(0.0))
    links.failed()
    assert len(links) == 1
    assert links.reserve()  # the failed one is wanted again


def test_a_borrower_gets_the_oldest_usable_link_and_the_dead_are_handed_back() -> None:
    """take(): expired and disconnected links are returned for closing, the next good one lent."""
    links: IdleLinks[Link] = IdleLinks(IdlePolicy(3, 10.0, 2.0))
    expired, dead, good = Link(0.0), Link(5.0, connected=False), Link(6.0)
    for link in (expired, dead, good):
        links.reserve()
        links.arrived(link)
    taken, closing = links.take(10.5)
    assert taken is good
    assert closing == [expired, dead]
    assert len(links) == 0


def test_a_sweep_keeps_the_fresh_and_takes_out_those_due_for_refresh() -> None:
    """sweep(): links within their lifetime get pinged, the others are taken out to close."""
    links: IdleLinks[Link] = IdleLinks(IdlePolicy(2, 10.0, 2.0))
    old, young = Link(0.0), Link(7.0)
    for link in (old, young):
        links.reserve()
        links.arrived(link)
    keep, drop = links.sweep(8.5)
    assert (keep, drop) == ([young], [old])
    assert links.idle() == [young]


def test_a_closed_pool_takes_no_link_and_returns_its_idle_ones() -> None:
    """close(): idle links back for closing; a link arriving afterwards is refused."""
    links: IdleLinks[Link] = IdleLinks(IdlePolicy(2))
    links.reserve()
    links.reserve()
    links.arrived(first := Link(0.0))
    assert links.close() == [first]
    assert not links.arrived(Link(0.0))
    assert not links.reserve()
