"""Faults by chance: a rule's probability, its seeded generator, and the chaos mix."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.emulator import Emulator, Fault, FaultPlan


def fired_pattern(plan: FaultPlan, requests: int) -> list[bool]:
    return [bool(plan.take("http", "GET", "/v1/files")) for _ in range(requests)]


def test_a_probable_rule_fires_about_that_often() -> None:
    """probability=0.3 fires on roughly 30 % of 2,000 matching requests."""
    plan = FaultPlan([Fault(kind="status", route="/v1/*", times=None, probability=0.3, seed=1)])
    fired = sum(fired_pattern(plan, 2000))
    assert 500 <= fired <= 700


@given(st.integers(min_value=0, max_value=2**32))
def test_the_same_seed_replays_the_same_faults(seed: int) -> None:
    """Two plans with the same seeded rule fault the same requests of the same sequence."""

    def plan() -> FaultPlan:
        return FaultPlan(
            [Fault(kind="reset_before", route="/v1/*", times=None, probability=0.5, seed=seed)]
        )

    assert fired_pattern(plan(), 50) == fired_pattern(plan(), 50)


def test_times_still_caps_a_probable_rule() -> None:
    """A probable rule with times=2 fires at most twice."""
    plan = FaultPlan([Fault(kind="status", route="/v1/*", times=2, probability=0.9, seed=3)])
    assert sum(fired_pattern(plan, 100)) == 2


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_a_probability_outside_0_1_is_refused(bad: float) -> None:
    """probability must be in (0, 1]."""
    with pytest.raises(ValueError, match="probability"):
        Fault(kind="status", probability=bad)


def test_probability_and_seed_round_trip_through_json() -> None:
    """The admin endpoint's JSON carries probability and seed."""
    fault = Fault(kind="truncate", route="/v1/*", times=None, probability=0.25, seed=7)
    assert Fault.from_json(fault.to_json()) == fault


def test_chaos_faults_about_the_rate_with_every_http_kind() -> None:
    """chaos(0.3) faults ~30 % of requests and uses every HTTP fault kind."""
    plan = FaultPlan()
    plan.chaos(0.3, seed=11)
    kinds: set[str] = set()
    faulted = 0
    for _ in range(3000):
        fired = plan.take("http", "POST", "/v1/transcriptions")
        faulted += bool(fired)
        kinds.update(f.fault.kind for f in fired)
    assert 0.25 <= faulted / 3000 <= 0.35
    assert kinds == {"status", "reset_before", "reset_after", "truncate", "latency", "slow_body"}


def test_chaos_spares_other_routes_and_the_admin_api() -> None:
    """The default route is /v1/*: nothing else is faulted."""
    plan = FaultPlan()
    plan.chaos(0.9, seed=2)
    assert not any(plan.take("http", "GET", "/_emulator/health") for _ in range(50))


def test_chaos_over_the_wire_faults_real_requests() -> None:
    """Against a running emulator about the rate of plain GETs fail, every one typed by its
    status or a dropped connection."""
    with Emulator() as emu:
        emu.faults.chaos(0.3, seed=5, delay_s=0.001)
        failures = 0
        with httpx.Client(base_url=emu.rest_base_url, timeout=5) as http:
            for _ in range(200):
                try:
                    response = http.get(
                        "/models", headers={"authorization": f"Bearer {emu.api_key}"}
                    )
                    response.read()
                    failures += response.status_code >= 400
                except httpx.TransportError:
                    failures += 1
        assert 30 <= failures <= 90
