"""The cache tier shared through Redis: a completed transcript one process fetched is served to
the others from Redis, bounded in bytes across all of them, dropped everywhere when the job is
deleted, and a Redis that is away is only a miss."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import soniox.data
from redis_support import RedisServer, free_port
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import AuthenticationError, ClientValidationError, NotFoundError
from soniox.middleware.cache import Cache
from soniox.shared import RedisCache, RedisState

AUDIO = (Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes()
FAST = {"queue_delay_s": 0.0, "processing_speed": 1000.0, "min_processing_s": 0.01}


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


@pytest.fixture
def state(server: RedisServer) -> Iterator[RedisState]:
    """A RedisState on a fresh database (the keys of one test never meet another's)."""
    redis.Redis.from_url(server.url).flushall()
    found = RedisState(server.url, timeout_s=0.5)
    yield found
    found.close()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(**FAST) as running:
        yield running


def config_for(emu: Emulator, url: str, **extra: Any) -> SonioxConfig:
    options: dict[str, Any] = {
        "api_key": emu.api_key,
        "base_url": emu.rest_base_url,
        "middleware": ("headers", "cache", "retry"),
        "shared_state": url,
        "cache_shared_max_bytes": 8 * 2**20,
        **extra,
    }
    return SonioxConfig.testing(**options)


def transcript_fetches(emu: Emulator, job_id: str) -> int:
    """GETs of the job's transcript the emulator answered."""
    return len(emu.journal.entries(path=f"/v1/transcriptions/{job_id}/transcript", method="GET"))


def completed_job(emu: Emulator) -> str:
    with SonioxClient(api_key=emu.api_key, base_url=emu.rest_base_url) as client:
        return client.stt.transcribe(file=AUDIO, wait=True).id


# --- the store ------------------------------------------------------------------------------------


def test_a_blob_put_is_found_by_another_state_on_the_same_redis(state: RedisState) -> None:
    """What one process puts, another (its own RedisState) finds, with its age and TTL left."""
    first = RedisCache(state, max_bytes=10_000)
    other = RedisCache(RedisState(state.url), max_bytes=10_000)
    miss = first.get("n1")
    assert miss.hit is None
    assert first.put("n1", b"body", ttl_s=30, tags=["transcriptions/a"], generation=miss.generation)
    found = other.get("n1").hit
    assert found is not None
    assert found.value == b"body"
    assert 29 < found.ttl_left_s <= 30
    assert found.age_s < 1


def test_the_least_recently_used_entry_goes_first_when_bytes_run_out(state: RedisState) -> None:
    """Three 100-byte entries in 250 bytes: the one not read since it was put is evicted."""
    cache = RedisCache(state, max_bytes=250)
    for name in ("a", "b"):
        cache.put(name, b"x" * 99, ttl_s=30, tags=[], generation=cache.get(name).generation)
    assert cache.get("a").hit is not None  # a is now more recent than b
    cache.put("c", b"x" * 99, ttl_s=30, tags=[], generation=cache.get("c").generation)
    assert cache.get("b").hit is None
    assert cache.get("a").hit is not None
    assert cache.get("c").hit is not None
    usage = cache.usage()
    assert (usage.entries, usage.bytes, usage.evictions) == (2, 200, 1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    puts=st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=400)),
        max_size=30,
    )
)
def test_the_tier_never_holds_more_than_its_bytes(
    state: RedisState, puts: list[tuple[str, int]]
) -> None:
    """Whatever is put, in any order and size, the bytes counted equal the entries' sizes and
    stay within max_bytes; an entry larger than the bound is refused."""
    state.client.flushall()
    cache = RedisCache(state, max_bytes=1000)
    for name, size in puts:
        kept = cache.put(
            name, b"x" * size, ttl_s=30, tags=[], generation=cache.get(name).generation
        )
        assert kept == (size + len(name) <= 1000)
        sizes = {
            k.decode(): int(v) for k, v in state.client.hgetall("{soniox:cache}:sizes").items()
        }
        usage = cache.usage()
        assert usage.bytes == sum(sizes.values()) <= 1000
        assert usage.entries == len(sizes)


def test_an_invalidated_tag_drops_its_entries_and_refuses_a_racing_put(state: RedisState) -> None:
    """Invalidating ``transcriptions/a`` drops its entry, and a put whose lookup came before
    the invalidation is refused (it may carry the deleted state)."""
    cache = RedisCache(state, max_bytes=10_000)
    before = cache.get("n").generation
    cache.put("n", b"old", ttl_s=30, tags=["transcriptions/a"], generation=before)
    racing = cache.get("m").generation
    assert cache.invalidate(["transcriptions/a"]) == 1
    assert cache.get("n").hit is None
    assert not cache.put("m", b"stale", ttl_s=30, tags=["transcriptions/a"], generation=racing)
    assert cache.usage().invalidated == 1


def test_expired_entries_give_their_bytes_back(state: RedisState) -> None:
    """An entry past its TTL is a miss and its bytes are no longer counted."""
    cache = RedisCache(state, max_bytes=10_000)
    cache.put("short", b"x" * 100, ttl_s=0.05, tags=[], generation=cache.get("short").generation)
    time.sleep(0.1)
    assert cache.get("short").hit is None
    assert cache.usage().bytes == 0


def test_a_redis_that_is_away_is_a_miss_under_either_policy() -> None:
    """Nothing listening: lookups miss, puts are skipped, nothing raises (a cache is never a
    requirement), even under fail_closed."""
    port = free_port()
    for policy in ("fail_open", "fail_closed"):
        cache = RedisCache(
            RedisState(f"redis://127.0.0.1:{port}/0", on_failure=policy), max_bytes=1000
        )
        assert cache.get("n").hit is None
        assert not cache.put("n", b"x", ttl_s=1, tags=[], generation="0")
        assert cache.invalidate(["transcriptions/a"]) == 0
        assert cache.usage().entries == 0


def test_the_async_operations_match_the_sync_ones(state: RedisState) -> None:
    """aget / aput / ainvalidate do what get / put / invalidate do."""
    cache = RedisCache(state, max_bytes=10_000)

    async def scenario() -> None:
        lookup = await cache.aget("n")
        assert await cache.aput("n", b"v", ttl_s=30, tags=["files/f"], generation=lookup.generation)
        found = await cache.aget("n")
        assert found.hit is not None
        assert found.hit.value == b"v"
        assert await cache.ainvalidate(["files/f"]) == 1
        assert (await cache.aget("n")).hit is None

    asyncio.run(scenario())


# --- the middleware ------------------------------------------------------------------------------


def test_a_transcript_one_client_fetched_is_served_to_another_from_redis(
    emu: Emulator, state: RedisState
) -> None:
    """Two clients with their own in-process caches: the second's get_transcript never reaches
    the server, and its stats say the hit came from the shared tier."""
    job = completed_job(emu)
    with SonioxClient(config=config_for(emu, state.url)) as first:
        text = first.stt.get_transcript(job).text
        assert first.cache.stats.shared_stores == 1
    with SonioxClient(config=config_for(emu, state.url)) as second:
        assert second.stt.get_transcript(job).text == text
        assert second.cache.stats.shared_hits == 1
        assert second.stt.get_transcript(job).text == text  # now from its own memory
        assert second.cache.stats.shared_hits == 1
        usage = second.cache.shared_usage()
        assert usage is not None
        assert usage.entries == 1
    assert transcript_fetches(emu, job) == 1


def test_a_streamed_transcript_is_shared_once_read_whole(emu: Emulator, state: RedisState) -> None:
    """iter_tokens (a streamed body) puts the transcript in the shared tier once it arrived
    whole; another client's get_transcript is then served from Redis."""
    job = completed_job(emu)
    with SonioxClient(config=config_for(emu, state.url)) as first:
        tokens = list(first.stt.iter_tokens(job))
        assert first.cache.stats.shared_stores == 1
    with SonioxClient(config=config_for(emu, state.url)) as second:
        assert [t.text for t in second.stt.get_transcript(job).tokens] == [t.text for t in tokens]
        assert second.cache.stats.shared_hits == 1
    assert transcript_fetches(emu, job) == 1


def test_deleting_a_job_drops_its_transcript_from_the_shared_tier(
    emu: Emulator, state: RedisState
) -> None:
    """A client that deletes the job drops the shared entry: a third client asking for the
    transcript reaches the server (and learns it is gone)."""
    job = completed_job(emu)
    with SonioxClient(config=config_for(emu, state.url)) as first:
        first.stt.get_transcript(job)
    with SonioxClient(config=config_for(emu, state.url)) as deleter:
        deleter.stt.delete(job)
    with SonioxClient(config=config_for(emu, state.url)) as third:
        with pytest.raises(NotFoundError):
            third.stt.get_transcript(job)
        assert third.cache.stats.shared_hits == 0


def test_another_api_key_never_reads_a_shared_entry(emu: Emulator, state: RedisState) -> None:
    """The shared entry's name covers the credential: the same URL with another key misses."""
    job = completed_job(emu)
    with SonioxClient(config=config_for(emu, state.url)) as first:
        first.stt.get_transcript(job)
    other_key = emu.api_key + "-other"
    with SonioxClient(config=config_for(emu, state.url, api_key=other_key)) as other:
        with pytest.raises(AuthenticationError):  # the emulator does not know this key
            other.stt.get_transcript(job)
        assert other.cache.stats.shared_hits == 0


def test_no_api_key_reaches_redis(emu: Emulator, state: RedisState) -> None:
    """Every key and value the shared tier wrote is free of the API key."""
    job = completed_job(emu)
    with SonioxClient(config=config_for(emu, state.url)) as client:
        client.stt.get_transcript(job)
    raw = state.client
    secret = emu.api_key.encode()
    for key in raw.scan_iter("*"):
        assert secret not in key
        kind = raw.type(key)
        dumped = raw.dump(key) if kind != b"none" else b""
        assert secret not in (dumped or b"")


def test_the_async_client_shares_transcripts_too(emu: Emulator, state: RedisState) -> None:
    """The async client puts and reads the shared tier (awaiting Redis, not blocking)."""
    job = completed_job(emu)

    async def scenario() -> tuple[int, int]:
        async with AsyncSonioxClient(config=config_for(emu, state.url)) as first:
            await first.stt.get_transcript(job)
            stores = first.cache.stats.shared_stores
        async with AsyncSonioxClient(config=config_for(emu, state.url)) as second:
            await second.stt.get_transcript(job)
            return stores, second.cache.stats.shared_hits

    assert asyncio.run(scenario()) == (1, 1)
    assert transcript_fetches(emu, job) == 1


def test_a_redis_that_is_away_only_costs_the_shared_hits(emu: Emulator) -> None:
    """Shared tier on a Redis that does not answer: every call still succeeds from the
    server, and the fallbacks are counted in the client's metrics."""
    job = completed_job(emu)
    url = f"redis://127.0.0.1:{free_port()}/0"
    config = config_for(emu, url, middleware=("headers", "metrics", "cache", "retry"))
    with SonioxClient(config=config) as client:
        assert client.stt.get_transcript(job).text
        assert client.cache.stats.shared_hits == 0
        assert client.metrics.snapshot().shared_state_fallbacks >= 1


def test_a_shared_tier_without_shared_state_is_refused(emu: Emulator) -> None:
    """cache_shared_max_bytes with no shared_state: a clear, typed error naming the knob."""
    config = SonioxConfig.testing(
        api_key=emu.api_key,
        base_url=emu.rest_base_url,
        middleware=("headers", "cache"),
        cache_shared_max_bytes=1000,
    )
    with pytest.raises(ClientValidationError, match="cache_shared_max_bytes"):
        Cache.from_config(config)


def test_only_immutable_routes_may_be_shared() -> None:
    """Job statuses change: naming them as shared rules is refused."""
    with pytest.raises(ClientValidationError, match="shared_rules"):
        Cache(shared_rules=("jobs",))


def _fetch_all(base_url: str, api_key: str, url: str, jobs: list[str], out: Any) -> None:
    config = SonioxConfig.testing(
        api_key=api_key,
        base_url=base_url,
        middleware=("headers", "cache", "retry"),
        shared_state=url,
        cache_shared_max_bytes=8 * 2**20,
    )
    with SonioxClient(config=config) as client:
        for job in jobs:
            client.stt.get_transcript(job)
        out.put(client.cache.stats.shared_hits)


def test_worker_processes_fetch_each_transcript_from_the_server_once(
    emu: Emulator, state: RedisState
) -> None:
    """One process fetches three transcripts; three more processes then read all of them
    from Redis: the emulator answered each transcript once."""
    jobs = [completed_job(emu) for _ in range(3)]
    context = multiprocessing.get_context("spawn")
    out: Any = context.Queue()
    args = (emu.rest_base_url, emu.api_key, state.url, jobs, out)
    first = context.Process(target=_fetch_all, args=args)
    first.start()
    first.join(30)
    workers = [context.Process(target=_fetch_all, args=args) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    hits = sorted(out.get(timeout=5) for _ in range(4))
    assert hits == [0, 3, 3, 3]
    assert [transcript_fetches(emu, job) for job in jobs] == [1, 1, 1]
