"""Rate limit, concurrency cap and retry budget over loopback against the emulator, with the sync
and the async client: the journal is the oracle, every test bounded to a few seconds."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from stt_support import max_overlap

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import DeadlineExceededError, RateLimitWaitError, ServiceUnavailableError
from soniox.middleware import RateLimit, Retry

T = TypeVar("T")
Client = Any  # SonioxClient | AsyncSonioxClient: the scenarios call both the same way
Pause = Callable[[float], Awaitable[None]]


def config_for(emulator: Emulator, *middleware: str, **knobs: Any) -> SonioxConfig:
    return SonioxConfig.testing(
        api_key=emulator.api_key,
        base_url=emulator.rest_base_url,
        middleware=("headers", *middleware, "logging"),
        **knobs,
    )


async def settle(value: Any) -> Any:
    """A sync client's result as is, an async client's awaited."""
    return await value if inspect.isawaitable(value) else value


def scenario(mode: str, config: SonioxConfig, body: Callable[[Client, Pause], Awaitable[T]]) -> T:
    """Run ``body(client, pause)`` with a fresh client of ``mode``; ``pause`` sleeps the way
    that client's callers would (blocking, or awaited)."""
    if mode == "sync":

        async def block(seconds: float) -> None:
            time.sleep(seconds)

        with SonioxClient(config=config) as client:
            return asyncio.run(body(client, block))

    async def main() -> T:
        async with AsyncSonioxClient(config=config) as client:
            return await body(client, asyncio.sleep)

    return asyncio.run(main())


def started(emulator: Emulator, path: str) -> list[float]:
    return [e.started_at for e in emulator.journal.entries(path=path)]


# --- adaptive: a 429 storm slows the whole client ---------------------------------------------------


def test_a_429_storm_slows_every_call_of_the_client(emulator: Emulator, mode: str) -> None:
    """Paced at ~20/s, then five 429s on /v1/models: the rate is cut to a few per second, and
    the next calls to /v1/files, through another view of the client, are held to it too."""
    config = config_for(emulator, "retry", "rate_limit", rate_limit_adaptive=True, max_retries=6)

    async def body(client: Client, pause: Pause) -> tuple[float | None, float]:
        for _ in range(30):  # ~1.5 s at ~20/s: the meter measures the send rate
            await settle(client.files.list())
            await pause(0.05)
        emulator.faults.fail("/v1/models", status=429, times=5)
        await settle(client.models.list())  # five 429s, then the answer
        limit = client.stack["rate_limit"]
        assert isinstance(limit, RateLimit)
        rate = limit.snapshot().adaptive_rate
        view = client.with_options(timeout=5)
        begun = time.monotonic()
        for _ in range(6):
            await settle(view.files.list())
        return rate, time.monotonic() - begun

    rate, took = scenario(mode, config, body)
    assert [e.status for e in emulator.journal.entries(path="/v1/models")] == [429] * 5 + [200]
    assert rate is not None
    assert rate < 6.0  # 0.7**5 of ~20/s is ~3.4/s
    after = started(emulator, "/v1/files")[-6:]
    assert after[-1] - after[0] >= 0.5  # unthrottled, six calls take a few milliseconds
    assert took < 10


# --- deadlines ---------------------------------------------------------------------------------


def test_a_deadline_shorter_than_the_wait_raises_the_typed_error_at_once(
    emulator: Emulator, mode: str
) -> None:
    """0.5 req/s, burst 1: the second call, with a 1 s deadline, would wait 2 s — it fails in
    milliseconds with RateLimitWaitError(wait≈2) and is never sent."""
    config = config_for(emulator, "retry", "rate_limit", rate_limit_per_second=0.5)

    async def body(client: Client, pause: Pause) -> tuple[RateLimitWaitError, float]:
        await settle(client.models.list())
        begun = time.monotonic()
        with pytest.raises(RateLimitWaitError) as caught:
            await settle(client.with_options(deadline=1.0).models.list())
        return caught.value, time.monotonic() - begun

    error, took = scenario(mode, config, body)
    assert isinstance(error, DeadlineExceededError)
    assert took < 0.5
    assert error.wait == pytest.approx(2.0, abs=0.2)
    assert error.limit == "client"
    assert len(emulator.journal.entries(path="/v1/models")) == 1


def test_a_route_limit_holds_only_its_route(emulator: Emulator, mode: str) -> None:
    """A limit on GET /v1/files refuses a second listing within its deadline while model
    listings go straight through."""
    config = config_for(
        emulator, "retry", "rate_limit", rate_limit_routes={"GET /v1/files": (0.2, 1)}
    )

    async def body(client: Client, pause: Pause) -> str | None:
        quick = client.with_options(deadline=2.0)
        await settle(quick.files.list())
        for _ in range(5):
            await settle(quick.models.list())
        with pytest.raises(RateLimitWaitError) as caught:
            await settle(quick.files.list())
        return caught.value.limit

    assert scenario(mode, config, body) == "GET /v1/files"
    assert len(emulator.journal.entries(path="/v1/files")) == 1
    assert len(emulator.journal.entries(path="/v1/models")) == 5


# --- the concurrency cap -------------------------------------------------------------------------


def test_the_concurrency_cap_holds_on_the_wire(emulator: Emulator, mode: str) -> None:
    """Eight calls at once with a 100 ms answer and max_concurrent_calls=2: the emulator never
    has more than two of them in progress."""
    emulator.faults.inject("latency", "/v1/models", delay_s=0.1, times=None)
    config = config_for(emulator, "retry", "concurrency", max_concurrent_calls=2)
    if mode == "sync":
        with SonioxClient(config=config) as client:
            threads = [threading.Thread(target=client.models.list) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
    else:

        async def main() -> None:
            async with AsyncSonioxClient(config=config) as client:
                await asyncio.gather(*(client.models.list() for _ in range(8)))

        asyncio.run(main())
    entries = emulator.journal.entries(path="/v1/models")
    assert [e.status for e in entries] == [200] * 8
    assert max_overlap(entries) == 2


# --- the retry budget ----------------------------------------------------------------------------


def test_an_exhausted_budget_stops_retries_under_a_persistent_503(
    emulator: Emulator, mode: str
) -> None:
    """Budget 20, retries cost 5: the first call makes four retries and surfaces its 503 marked
    retry_budget_exhausted; the next fails after one request; successes refill it."""
    emulator.faults.fail("/v1/models", status=503, times=None)
    config = config_for(emulator, "retry", retry_budget=20, max_retries=10)

    async def body(client: Client, pause: Pause) -> list[Any]:
        seen: list[Any] = []
        for _ in range(2):
            with pytest.raises(ServiceUnavailableError) as caught:
                await settle(client.models.list())
            seen.append(caught.value)
        emulator.faults.clear()
        for _ in range(5):
            await settle(client.models.list())
        retry = client.stack["retry"]
        assert isinstance(retry, Retry)
        seen.append(retry.budget_left())
        return seen

    first, second, left = scenario(mode, config, body)
    assert first.retry_budget_exhausted
    assert second.retry_budget_exhausted
    assert any("retry budget is exhausted" in note for note in first.__notes__)
    statuses = [e.status for e in emulator.journal.entries(path="/v1/models")]
    assert statuses == [503] * 5 + [503] + [200] * 5
    assert left == 5  # each success paid back one token
