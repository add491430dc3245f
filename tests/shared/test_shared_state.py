"""Shared state, in this process and on a real Redis started by the tests: token buckets that
hold a rate across processes, leases that cap concurrency and expire with their holder, bounded
counters; keys that never hold an API key; and a Redis that dies or stalls, with both policies."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from redis_support import RedisServer
from soniox.errors import SharedStateUnavailableError
from soniox.shared import Grant, LocalState, RedisState, SharedState, scope_of

SCOPE = scope_of("sk-test-key-that-must-not-reach-redis")


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


@pytest.fixture
def redis_state(server: RedisServer) -> Iterator[RedisState]:
    redis.Redis.from_url(server.url).flushall()
    state = RedisState(server.url, timeout_s=0.5)
    yield state
    state.close()


@pytest.fixture(params=["local", "redis"])
def state(request: pytest.FixtureRequest, server: RedisServer) -> Iterator[SharedState]:
    if request.param == "local":
        yield LocalState()
        return
    redis.Redis.from_url(server.url).flushall()
    shared = RedisState(server.url, timeout_s=0.5)
    yield shared
    shared.close()


# --- the operations, on both stores -----------------------------------------------------------


def test_a_bucket_gives_its_burst_then_reserves_turns_at_its_rate(state: SharedState) -> None:
    """burst 5 at 10/s: five now, the sixth in ~0.1 s, the seventh in ~0.2 s."""
    grants = [state.take(SCOPE, "rest", rate=10, burst=5) for _ in range(7)]
    assert all(g.granted for g in grants)
    assert [g.wait_s for g in grants[:5]] == [0.0] * 5
    assert grants[5].wait_s == pytest.approx(0.1, abs=0.03)
    assert grants[6].wait_s == pytest.approx(0.2, abs=0.03)


def test_a_take_that_would_wait_too_long_reserves_nothing(state: SharedState) -> None:
    """max_wait below the wait: refused with the wait it would have been, tokens untouched."""
    for _ in range(5):
        state.take(SCOPE, "rest", rate=10, burst=5)
    refused = state.take(SCOPE, "rest", rate=10, burst=5, max_wait=0.01)
    assert not refused.granted
    assert refused.wait_s == pytest.approx(0.1, abs=0.03)
    again = state.take(SCOPE, "rest", rate=10, burst=5)
    assert again.wait_s == pytest.approx(0.1, abs=0.03)  # the refused one took nothing


def test_leases_cap_holders_and_a_released_slot_is_taken(state: SharedState) -> None:
    """limit 2: a and b hold, c waits for the soonest expiry; a released, c holds."""
    assert state.lease(SCOPE, "streams", "a", limit=2, ttl_s=5).granted
    assert state.lease(SCOPE, "streams", "b", limit=2, ttl_s=5).granted
    refused = state.lease(SCOPE, "streams", "c", limit=2, ttl_s=5)
    assert not refused.granted
    assert 4.0 < refused.wait_s <= 5.0
    assert state.lease(SCOPE, "streams", "a", limit=2, ttl_s=5).granted  # renewal
    state.release(SCOPE, "streams", "a")
    assert state.lease(SCOPE, "streams", "c", limit=2, ttl_s=5).granted


def test_a_crashed_holders_lease_expires(state: SharedState) -> None:
    """A lease not renewed within its ttl frees its slot."""
    assert state.lease(SCOPE, "jobs", "crashed", limit=1, ttl_s=0.2).granted
    assert not state.lease(SCOPE, "jobs", "next", limit=1, ttl_s=0.2).granted
    time.sleep(0.3)
    assert state.lease(SCOPE, "jobs", "next", limit=1, ttl_s=0.2).granted


def test_a_bounded_counter_refuses_to_go_below_zero_and_caps_deposits(state: SharedState) -> None:
    """capacity 10: -4 taken, -7 refused, +100 fills to 10 (then -10 taken, -1 refused)."""
    assert state.adjust(SCOPE, "retry", -4, capacity=10)
    assert not state.adjust(SCOPE, "retry", -7, capacity=10)
    assert state.adjust(SCOPE, "retry", 100, capacity=10)
    assert state.adjust(SCOPE, "retry", -10, capacity=10)
    assert not state.adjust(SCOPE, "retry", -1, capacity=10)


def test_the_async_operations_answer_as_the_sync_ones(state: SharedState) -> None:
    """atake / alease / arelease / aadjust."""

    async def main() -> list[Any]:
        return [
            await state.atake(SCOPE, "a", rate=1, burst=1),
            await state.atake(SCOPE, "a", rate=1, burst=1, max_wait=0.1),
            await state.alease(SCOPE, "s", "x", limit=1, ttl_s=5),
            await state.alease(SCOPE, "s", "y", limit=1, ttl_s=5),
            await state.arelease(SCOPE, "s", "x"),
            await state.alease(SCOPE, "s", "y", limit=1, ttl_s=5),
            await state.aadjust(SCOPE, "b", -1, capacity=1),
            await state.aadjust(SCOPE, "b", -1, capacity=1),
        ]

    got = asyncio.run(main())
    assert got[0] == Grant(True, 0.0)
    assert not got[1].granted
    assert got[2].granted
    assert not got[3].granted
    assert got[5].granted
    assert got[6:] == [True, False]


# --- Redis itself ---------------------------------------------------------------------------------


def test_redis_keys_hold_a_digest_of_the_api_key_never_the_key(
    redis_state: RedisState, server: RedisServer
) -> None:
    """Every key is prefix:scope:kind:name; the API key appears in none."""
    redis_state.take(SCOPE, "rest", rate=1, burst=1)
    redis_state.lease(SCOPE, "streams", "h", limit=1, ttl_s=5)
    redis_state.adjust(SCOPE, "retry", -1, capacity=5)
    keys = sorted(k.decode() for k in redis.Redis.from_url(server.url).keys("*"))
    assert keys == [
        f"soniox:{SCOPE}:bucket:rest",
        f"soniox:{SCOPE}:budget:retry",
        f"soniox:{SCOPE}:lease:streams",
    ]
    assert all("must-not-reach" not in key for key in keys)


def _take_for(url: str, start: float, seconds: float, out: Any) -> None:
    """A worker process: from ``start`` (all alike), take from the shared bucket as fast as it
    is allowed, for ``seconds``."""
    state = RedisState(url, timeout_s=1.0)
    admitted = 0
    time.sleep(max(0.0, start - time.time()))
    end = start + seconds
    while True:
        grant = state.take(SCOPE, "fleet", rate=50, burst=5)
        if grant.wait_s:
            time.sleep(grant.wait_s)
        if time.time() >= end:
            break
        admitted += 1
    out.put(admitted)


def test_four_processes_share_one_rate(redis_state: RedisState, server: RedisServer) -> None:
    """4 processes taking as fast as allowed from one 50/s bucket (burst 5) for the same 2 s:
    together about 105 — the rate and the burst, plus at most the one turn each reserved before
    the end and used after it — not four times it."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start = time.time() + 4.0  # every worker spawned and ready by then
    workers = [
        context.Process(target=_take_for, args=(server.url, start, 2.0, out)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    total = sum(out.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=10)
    assert 50 * 2 * 0.85 <= total <= 50 * 2 + 5 + 4


def _hold_leases(url: str, holder: str, rounds: int, out: Any) -> None:
    """A worker process: take a slot (waiting as told), hold it briefly, give it back."""
    state = RedisState(url, timeout_s=1.0)
    spans: list[tuple[float, float]] = []
    for index in range(rounds):
        name = f"{holder}-{index}"
        while not (grant := state.lease(SCOPE, "streams", name, limit=2, ttl_s=5)).granted:
            time.sleep(min(0.01, grant.wait_s))
        start = time.time()
        time.sleep(0.02)
        end = time.time()
        state.release(SCOPE, "streams", name)
        spans.append((start, end))
    out.put(spans)


def test_six_processes_never_hold_more_than_the_limit(
    redis_state: RedisState, server: RedisServer
) -> None:
    """6 processes x 8 rounds on a semaphore of 2: at no instant more than 2 holders."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_hold_leases, args=(server.url, f"w{i}", 8, out)) for i in range(6)
    ]
    for worker in workers:
        worker.start()
    spans = [span for _ in workers for span in out.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=10)
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    held = peak = 0
    for _, step in events:
        held += step
        peak = max(peak, held)
    assert len(spans) == 48
    assert peak <= 2


# --- when Redis fails -------------------------------------------------------------------------


def test_a_dead_redis_fails_open_to_local_limits_warns_once_and_reattaches(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis killed: calls answer from this process at once (counted, one warning); Redis back
    on the same port: after retry_s, calls go to it again."""
    with RedisServer() as server:
        state = RedisState(server.url, retry_s=0.2)
        assert state.take(SCOPE, "rest", rate=100, burst=100).granted
        server.kill()
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="soniox"):
            grants = [state.take(SCOPE, "rest", rate=100, burst=100) for _ in range(20)]
        assert time.monotonic() - started < 1.0
        assert all(g.granted for g in grants)
        assert state.fallbacks == 20
        assert len([r for r in caplog.records if "fail_open" in r.getMessage()]) == 1
        server.start()
        time.sleep(0.3)
        state.take(SCOPE, "rest", rate=100, burst=100)
        assert state.fallbacks == 20
        assert state.available
        state.close()


def test_fail_closed_refuses_calls_while_redis_is_away() -> None:
    """on_failure='fail_closed': SharedStateUnavailableError, typed, quickly."""
    with RedisServer() as server:
        state = RedisState(server.url, on_failure="fail_closed")
        server.kill()
        with pytest.raises(SharedStateUnavailableError, match="fail_closed"):
            state.lease(SCOPE, "streams", "h", limit=1, ttl_s=1)
        with pytest.raises(SharedStateUnavailableError):
            state.adjust(SCOPE, "retry", -1, capacity=1)
        state.close()


def test_a_stalled_redis_never_holds_a_call_past_its_timeout(server: RedisServer) -> None:
    """Redis busy for a second (DEBUG SLEEP): a 50 ms-timeout call falls back within ~50 ms."""
    state = RedisState(server.url, timeout_s=0.05)
    state.ping()
    blocker = threading.Thread(
        target=lambda: redis.Redis.from_url(server.url).execute_command("DEBUG", "SLEEP", "1")
    )
    blocker.start()
    time.sleep(0.1)
    started = time.monotonic()
    grant = state.take(SCOPE, "rest", rate=10, burst=10)
    elapsed = time.monotonic() - started
    blocker.join()
    assert grant.granted
    assert elapsed < 0.3
    assert state.fallbacks == 1
    state.close()


def test_bad_settings_are_client_validation_errors(server: RedisServer) -> None:
    """An unknown failure policy, or a bucket without a rate: refused."""
    from soniox.errors import ClientValidationError

    with pytest.raises(ClientValidationError, match="on_failure"):
        RedisState(server.url, on_failure="ignore")  # type: ignore[arg-type]
    state: Callable[..., Grant] = RedisState(server.url).take
    with pytest.raises(ClientValidationError, match="rate"):
        state(SCOPE, "x", rate=0, burst=1)


def test_one_state_serves_event_loops_one_after_another(redis_state: RedisState) -> None:
    """asyncio.run twice with one RedisState (a process running several loops): each loop gets
    its own connections, so the second still reaches Redis — no fallback."""

    async def take() -> Grant:
        return await redis_state.atake(SCOPE, "loops", rate=1, burst=2)

    first = asyncio.run(take())
    second = asyncio.run(take())
    assert first.granted
    assert second.granted
    assert redis_state.fallbacks == 0
    assert asyncio.run(take()).wait_s > 0.0  # the third token is a turn: the count is shared
