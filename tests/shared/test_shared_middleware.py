"""Middleware state shared by processes through Redis: four worker processes on one key keep
the key's rate together, where four per-process limits overshoot the server's; two clients draw
on one retry budget."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from redis_support import RedisServer
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import RateLimitError, ServerError
from soniox.middleware.rate_limit import RateLimit
from soniox.middleware.retry import Retry
from soniox.shared import RedisState

RATE = 5.0
BURST = 2
SECONDS = 3.0


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


def _worker(base_url: str, api_key: str, shared: str | None, start: float, out: Any) -> None:
    """From ``start`` (all workers alike), call GET /models as fast as the client's limit
    allows for SECONDS: (ok, 429s)."""
    config = SonioxConfig.testing(
        api_key=api_key,
        base_url=base_url,
        middleware=("headers", "rate_limit"),
        rate_limit_per_second=RATE,
        rate_limit_burst=BURST,
        shared_state=shared,
    )
    ok = refused = 0
    with SonioxClient(config=config) as client:
        time.sleep(max(0.0, start - time.time()))
        end = start + SECONDS
        while time.time() < end:
            try:
                client.models.list()
                ok += 1
            except RateLimitError:
                refused += 1
    out.put((ok, refused))


def run_fleet(emu: Emulator, shared: str | None) -> tuple[int, int]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start = time.time() + 4.0  # every worker spawned and ready by then
    workers = [
        context.Process(target=_worker, args=(emu.rest_base_url, emu.api_key, shared, start, out))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    return sum(r[0] for r in results), sum(r[1] for r in results)


def test_four_processes_with_a_shared_limit_meet_no_429(server: RedisServer) -> None:
    """Emulator: 24 requests a minute per key. Four processes limited to 5/s (burst 2) each, for
    3 s: sharing the limit through Redis they send 17 together (plus at most one turn each
    reserved before the end and sent after it) and none is refused; each on its own they send
    about four times that, and the server refuses the excess."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator(rest_requests_per_minute=24) as emu:
        shared_ok, shared_refused = run_fleet(emu, server.url)
        assert shared_refused == 0
        assert RATE * SECONDS * 0.8 <= shared_ok <= RATE * SECONDS + BURST + 4
    with Emulator(rest_requests_per_minute=24) as emu:
        alone_ok, alone_refused = run_fleet(emu, None)
        assert alone_ok == 24
        assert alone_refused > 24


def test_the_rate_limit_middleware_takes_the_shared_state_from_the_config(
    server: RedisServer,
) -> None:
    """shared_state='redis://…' gives the rate_limit middleware a RedisState and the key's
    digest as its scope (the same object for every client of those settings)."""
    config = SonioxConfig.testing(
        api_key="sk-some-key",
        middleware=("headers", "retry", "rate_limit"),
        rate_limit_per_second=1.0,
        shared_state=server.url,
    )
    with SonioxClient(config=config) as one, SonioxClient(config=config) as two:
        limits = [c.stack.get("rate_limit") for c in (one, two)]
    first, second = limits
    assert isinstance(first, RateLimit)
    assert isinstance(second, RateLimit)
    assert isinstance(first.shared, RedisState)
    assert first.shared is second.shared
    assert "sk-some-key" not in first.scope


def test_two_clients_draw_on_one_shared_retry_budget(server: RedisServer) -> None:
    """A budget of 10 tokens, 5 a retry, shared through Redis: what one client's retries spend
    (and its success pays back) is what the other sees, and when the other has spent the rest
    its next failure surfaces at once, unretried — one quota for the fleet."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator() as emu:

        def client() -> SonioxClient:
            return SonioxClient(
                config=SonioxConfig.testing(
                    api_key=emu.api_key,
                    base_url=emu.rest_base_url,
                    retry_budget=10,
                    retry_cost=5,
                    shared_state=server.url,
                )
            )

        first, second = client(), client()
        retries = [c.stack.get("retry") for c in (first, second)]
        assert all(isinstance(r, Retry) and r.shared is not None for r in retries)
        emu.faults.fail("/v1/models", status=500, times=2)
        first.models.list()  # two 500s retried (10 tokens), then the answer (5 paid back)
        second_retry = second.stack.get("retry")
        assert isinstance(second_retry, Retry)
        assert second_retry.budget_left() == 5  # the other client's spending, seen here
        emu.faults.fail("/v1/models", status=500, times=2)
        with pytest.raises(ServerError) as caught:
            second.models.list()  # one retry (the last 5 tokens), then no token anywhere
        assert caught.value.retry_budget_exhausted
        assert second_retry.budget_left() == 0
        first.close()
        second.close()


def test_a_throttle_one_client_sees_cuts_the_others_rate(server: RedisServer) -> None:
    """Adaptive rate on, limits shared: one client gets a 429 — its rate is cut — and the
    other, which never saw one, cuts its own rate at its next call; without sharing it does not."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator() as emu:

        def client(shared: str | None) -> SonioxClient:
            return SonioxClient(
                config=SonioxConfig.testing(
                    api_key=emu.api_key,
                    base_url=emu.rest_base_url,
                    middleware=("headers", "retry", "rate_limit"),
                    rate_limit_per_second=1000.0,
                    rate_limit_adaptive=True,
                    shared_state=shared,
                )
            )

        def limiter(c: SonioxClient) -> RateLimit:
            found = c.stack.get("rate_limit")
            assert isinstance(found, RateLimit)
            return found

        for shared, expect_cut in ((server.url, True), (None, False)):
            first, second = client(shared), client(shared)
            second.models.list()  # looks at the fleet's throttles once: none
            time.sleep(0.15)
            emu.faults.fail("/v1/models", status=429, retry_after=0, times=1)
            first.models.list()  # a 429 (retried): this client's rate is cut
            assert limiter(first).snapshot().adaptive_rate is not None
            assert limiter(second).snapshot().adaptive_rate is None
            time.sleep(0.15)
            second.models.list()
            assert (limiter(second).snapshot().adaptive_rate is not None) is expect_cut
            first.close()
            second.close()


def test_the_async_client_takes_its_turns_from_redis_without_blocking_its_loop(
    server: RedisServer,
) -> None:
    """AsyncSonioxClient with shared_state: the bucket and the budget are awaited effects —
    calls go through, the shared bucket's key appears, and the loop keeps ticking meanwhile."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator() as emu:

        async def main() -> int:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.005)
                    ticks += 1

            beat = asyncio.create_task(ticker())
            config = SonioxConfig.testing(
                api_key=emu.api_key,
                base_url=emu.rest_base_url,
                middleware=("headers", "retry", "rate_limit"),
                rate_limit_per_second=20.0,
                rate_limit_burst=1,
                retry_budget=10,
                shared_state=server.url,
            )
            async with AsyncSonioxClient(config=config) as client:
                await asyncio.gather(*(client.models.list() for _ in range(6)))
            beat.cancel()
            return ticks

        ticks = asyncio.run(main())
    keys = [k.decode() for k in redis.Redis.from_url(server.url).keys("*")]
    assert any(key.endswith(":bucket:client") for key in keys)
    assert ticks >= 20  # six calls at 20/s: ~0.25 s of turns, the loop free throughout


def test_calls_answered_without_redis_are_counted_in_the_clients_metrics() -> None:
    """Redis gone (fail_open): calls go on, and client.metrics.snapshot() counts the shared
    state's fallbacks."""
    with RedisServer() as dead, Emulator() as emu:
        config = SonioxConfig.testing(
            api_key=emu.api_key,
            base_url=emu.rest_base_url,
            middleware=("headers", "metrics", "retry", "rate_limit"),
            rate_limit_per_second=100.0,
            shared_state=dead.url,
            shared_state_prefix="fallbacks-test",  # its own RedisState, not another test's
        )
        dead.kill()
        with SonioxClient(config=config) as client:
            for _ in range(3):
                client.models.list()
            assert client.metrics.snapshot().shared_state_fallbacks >= 3
