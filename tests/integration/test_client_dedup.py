"""In-flight de-duplication end to end: concurrent identical GETs against the emulator's journal."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from transcripts_support import completed_job, tone_wav

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import ServerError

DEDUP = ("headers", "dedup", "retry", "logging")
"""Dedup alone (no cache), so every shared answer is a shared request, not a cache hit."""


def config(emu: Emulator, **overrides: Any) -> SonioxConfig:
    values: dict[str, Any] = {
        "api_key": emu.api_key,
        "base_url": emu.rest_base_url,
        "middleware": DEDUP,
        "max_connections": 100,
        "max_keepalive_connections": 100,
    }
    return SonioxConfig.testing(**(values | overrides))


@pytest.fixture
def job(emulator: Emulator) -> str:
    job_id = completed_job(emulator, tone_wav(3.0))
    emulator.journal.clear()
    return job_id


def transcript_path(job_id: str) -> str:
    return f"/v1/transcriptions/{job_id}/transcript"


def hold(emu: Emulator, job_id: str, seconds: float = 0.5) -> None:
    """The first transcript request waits ``seconds`` at the server: everyone else joins it."""
    emu.faults.inject("latency", transcript_path(job_id), delay_s=seconds)


def test_100_concurrent_async_gets_are_one_request(emulator: Emulator, job: str) -> None:
    """100 tasks fetching the same transcript: 1 request in the journal, 100 equal answers."""
    hold(emulator, job, 0.2)

    async def main() -> list[Any]:
        async with AsyncSonioxClient(config=config(emulator)) as client:
            return await asyncio.gather(*[client.stt.get_transcript(job) for _ in range(100)])

    results = asyncio.run(main())
    assert len(results) == 100
    assert all(result == results[0] for result in results)
    assert len(emulator.journal.entries(path=transcript_path(job))) == 1


def test_100_concurrent_sync_threads_are_one_request(emulator: Emulator, job: str) -> None:
    """100 threads fetching the same transcript while the first is in flight: 1 request."""
    hold(emulator, job)
    with SonioxClient(config=config(emulator)) as client, ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda _: client.stt.get_transcript(job), range(100)))
    assert all(result == results[0] for result in results)
    assert len(emulator.journal.entries(path=transcript_path(job))) == 1


def test_an_error_reaches_every_waiter(emulator: Emulator, job: str) -> None:
    """A 500 on the route (through every retry): each of 20 tasks gets ServerError, from the
    one leader's three attempts."""
    hold(emulator, job, 0.2)
    emulator.faults.fail(transcript_path(job), status=500, times=None)

    async def main() -> list[Any]:
        async with AsyncSonioxClient(config=config(emulator)) as client:
            calls = [client.stt.get_transcript(job) for _ in range(20)]
            return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, ServerError) for outcome in outcomes)
    assert len(emulator.journal.entries(path=transcript_path(job))) == 3  # 1 try + 2 retries


def test_one_cancelled_waiter_leaves_the_others_their_answer(emulator: Emulator, job: str) -> None:
    """Cancelling one of 10 waiting tasks: the other 9 get the transcript from 1 request."""
    hold(emulator, job, 0.3)

    async def main() -> tuple[list[Any], bool]:
        async with AsyncSonioxClient(config=config(emulator)) as client:
            tasks = [asyncio.ensure_future(client.stt.get_transcript(job)) for _ in range(10)]
            await asyncio.sleep(0.1)
            tasks[5].cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            return outcomes, tasks[5].cancelled()

    outcomes, cancelled = asyncio.run(main())
    assert cancelled
    answers = [o for i, o in enumerate(outcomes) if i != 5]
    assert all(answer == answers[0] and answer.tokens for answer in answers)
    assert len(emulator.journal.entries(path=transcript_path(job))) == 1


def test_sequential_gets_are_not_held_back(emulator: Emulator, job: str) -> None:
    """Dedup only joins requests in flight: three calls one after another are three requests."""
    with SonioxClient(config=config(emulator)) as client:
        for _ in range(3):
            client.stt.get_transcript(job)
    assert len(emulator.journal.entries(path=transcript_path(job))) == 3
