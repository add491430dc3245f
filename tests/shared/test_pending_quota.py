"""The pending-transcription quota: transcriptions of one key lease a slot before their create
and give it back once the job has started — so a batch wider than the account's pending limit,
in one client or in several sharing Redis, never meets the server's 429."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import soniox.data
from redis_support import RedisServer
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import RateLimitWaitError
from soniox.flows.pending import PENDING, pending_quota_for
from soniox.shared import LocalState, scope_of

AUDIO = (Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes()
SLOW_START = {"queue_delay_s": 0.4, "processing_speed": 1000.0, "min_processing_s": 0.01}
"""Jobs wait 0.4 s before they start: long enough for a wide batch to fill the pending slots."""


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


def client_for(emu: Emulator, limit: int | None, shared: str | None = None) -> SonioxClient:
    return SonioxClient(
        config=SonioxConfig.testing(
            api_key=emu.api_key,
            base_url=emu.rest_base_url,
            max_retries=0,  # a 429 surfaces: the test counts them
            pending_transcriptions_limit=limit,
            shared_state=shared,
        )
    )


def refused_creates(emu: Emulator) -> int:
    return sum(
        1
        for entry in emu.journal.entries(path="/v1/transcriptions", method="POST")
        if entry.status == 429
    )


def hold_every_slot(config: SonioxConfig, seconds: float) -> None:
    """Lease all the key's pending slots to holders elsewhere, for ``seconds``."""
    quota = pending_quota_for(config)
    assert quota is not None
    for i in range(quota.limit):
        assert quota.state.lease(
            quota.scope, PENDING, f"elsewhere-{i}", limit=quota.limit, ttl_s=seconds
        ).granted


def test_a_batch_wider_than_the_pending_limit_meets_no_429() -> None:
    """8 items at once, the emulator allowing 3 pending: with pending_transcriptions_limit=3
    all succeed and no create is refused; without it, creates are refused."""
    with Emulator(max_pending_transcriptions=3, **SLOW_START) as emu:
        results = client_for(emu, 3).stt.transcribe_many([AUDIO] * 8, concurrency=8)
        assert [r.error for r in results] == [None] * 8
        assert refused_creates(emu) == 0
    # Without the limit: jobs wait 3 s before starting, so the 8 creates surely meet 3 pending
    # ones however slowly the uploads go on a loaded machine.
    with Emulator(max_pending_transcriptions=3, **(SLOW_START | {"queue_delay_s": 3.0})) as emu:
        results = client_for(emu, None).stt.transcribe_many([AUDIO] * 8, concurrency=8)
        assert refused_creates(emu) > 0
        assert any(r.error is not None for r in results)


def test_two_clients_share_the_pending_slots_through_redis(server: RedisServer) -> None:
    """Two clients (threads here, processes alike) with 4 items each on a limit of 3 shared
    through Redis: every item done, no 429, and no slot left held."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator(max_pending_transcriptions=3, **SLOW_START) as emu:
        clients = [client_for(emu, 3, server.url) for _ in range(2)]
        outcomes: list[list[object]] = []

        def batch(client: SonioxClient) -> None:
            results = client.stt.transcribe_many([AUDIO] * 4, concurrency=4)
            outcomes.append([r.error for r in results])

        threads = [threading.Thread(target=batch, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes == [[None] * 4, [None] * 4]
        assert refused_creates(emu) == 0
        quota = pending_quota_for(clients[0].config)
        assert quota is not None
        assert quota.scope == scope_of(emu.api_key)
        held = redis.Redis.from_url(server.url).zcard(f"soniox:{quota.scope}:lease:{PENDING}")
        assert held == 0


def test_async_clients_share_the_pending_slots_through_redis(server: RedisServer) -> None:
    """Two async clients, 4 items each, on a limit of 3 shared through Redis (leases awaited,
    not blocking the loop): every item done, no 429, the waits in the metrics, no slot held."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator(max_pending_transcriptions=3, **SLOW_START) as emu:

        async def scenario() -> tuple[list[list[object]], float]:
            configs = [client_for(emu, 3, server.url).config for _ in range(2)]
            hold_every_slot(configs[0], 0.5)  # so every item waits, however fast uploads are
            async with (
                AsyncSonioxClient(config=configs[0]) as first,
                AsyncSonioxClient(config=configs[1]) as second,
            ):
                batches = await asyncio.gather(
                    *(c.stt.transcribe_many([AUDIO] * 4, concurrency=4) for c in (first, second))
                )
                waited = sum(c.metrics.snapshot().waits.get(PENDING, 0.0) for c in (first, second))
            return [[r.error for r in batch] for batch in batches], waited

        outcomes, waited = asyncio.run(scenario())
        assert outcomes == [[None] * 4, [None] * 4]
        assert refused_creates(emu) == 0
        assert waited >= 8 * 0.3
        held = redis.Redis.from_url(server.url).zcard(
            f"soniox:{scope_of(emu.api_key)}:lease:{PENDING}"
        )
        assert held == 0


def test_the_time_spent_waiting_for_slots_shows_in_the_clients_metrics() -> None:
    """A batch that had to wait for pending slots reports those seconds as waits of reason
    pending_transcriptions in client.metrics.snapshot()."""
    with Emulator(max_pending_transcriptions=2, **SLOW_START) as emu:
        client = client_for(emu, 2)
        hold_every_slot(client.config, 0.5)  # so every item waits, however fast uploads are
        results = client.stt.transcribe_many([AUDIO] * 6, concurrency=6)
        assert [r.error for r in results] == [None] * 6
        assert client.metrics.snapshot().waits.get(PENDING, 0.0) >= 6 * 0.3


def test_waiting_for_a_slot_respects_the_calls_deadline() -> None:
    """Every slot held elsewhere and a 0.3 s deadline: RateLimitWaitError, nothing created."""
    with Emulator(**SLOW_START) as emu:
        client = client_for(emu, 1)
        quota = pending_quota_for(client.config)
        assert quota is not None
        assert quota.state.lease(quota.scope, PENDING, "elsewhere", limit=1, ttl_s=30).granted
        with pytest.raises(RateLimitWaitError, match="pending-transcription"):
            client.with_options(deadline=0.3).stt.transcribe(file=AUDIO, wait=True)
        assert refused_creates(emu) == 0
        assert not emu.journal.entries(path="/v1/transcriptions", method="POST")
        quota.state.release(quota.scope, PENDING, "elsewhere")


def test_a_wait_after_a_separate_create_frees_the_jobs_slot() -> None:
    """transcribe(wait=False) leases a slot under the job's reference; a later stt.wait for the
    job — here the same client, in general anyone — frees it once the job has started."""
    with Emulator(**SLOW_START) as emu:
        client = client_for(emu, 2)
        quota = pending_quota_for(client.config)
        assert quota is not None
        job = client.stt.transcribe(file=AUDIO)
        assert isinstance(quota.state, LocalState)
        assert quota.state.held(quota.scope, PENDING) >= 1
        client.stt.wait(job.id)
        assert quota.state.held(quota.scope, PENDING) == 0
