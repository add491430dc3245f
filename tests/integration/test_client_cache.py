"""The cache middleware end to end against the emulator, with the sync and the async client."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import pytest
from stt_support import FAST_JOBS
from transcripts_support import completed_job, pending_job, tone_wav

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.emulator.faults import Fault
from soniox.errors import AuthenticationError, NotFoundError

CACHED = ("headers", "cache", "dedup", "retry", "logging")
KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-0123456789abcdef"

Call = Callable[[Any], Any]


def config(emu: Emulator, **overrides: Any) -> SonioxConfig:
    values: dict[str, Any] = {
        "api_key": emu.api_key,
        "base_url": emu.rest_base_url,
        "middleware": CACHED,
    }
    return SonioxConfig.testing(**(values | overrides))


def in_one_client(mode: str, cfg: SonioxConfig, *calls: Call) -> list[Any]:
    """Each call in turn on one client of ``mode``; exceptions are returned, not raised."""
    results: list[Any] = []
    if mode == "sync":
        with SonioxClient(config=cfg) as client:
            for call in calls:
                try:
                    results.append(call(client))
                except Exception as exc:
                    results.append(exc)
        return results

    async def main() -> None:
        async with AsyncSonioxClient(config=cfg) as client:
            for call in calls:
                try:
                    result = call(client)
                    results.append(await result if inspect.isawaitable(result) else result)
                except Exception as exc:
                    results.append(exc)

    asyncio.run(main())
    return results


def hits(emu: Emulator, path: str, method: str = "GET") -> int:
    return len(emu.journal.entries(path=path, method=method))


@pytest.fixture(scope="module")
def audio() -> bytes:
    return tone_wav(3.0)


@pytest.fixture
def job(emulator: Emulator, audio: bytes) -> str:
    job_id = completed_job(emulator, audio)
    emulator.journal.clear()
    return job_id


def test_a_transcript_fetched_twice_is_one_request(mode: str, emulator: Emulator, job: str) -> None:
    """get_transcript twice: the second comes from the cache; the client's stats say so."""
    first, second, stats = in_one_client(
        mode,
        config(emulator),
        lambda c: c.stt.get_transcript(job),
        lambda c: c.stt.get_transcript(job),
        lambda c: c.cache.stats,
    )
    assert first == second
    assert hits(emulator, f"/v1/transcriptions/{job}/transcript") == 1
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


def test_a_streamed_transcript_is_cached_once_read_whole(
    mode: str, emulator: Emulator, job: str
) -> None:
    """iter_tokens twice: the second stream reads the cached body; the tokens are the same."""
    if mode == "sync":
        with SonioxClient(config=config(emulator)) as client:
            streams = [list(client.stt.iter_tokens(job)) for _ in range(2)]
    else:

        async def main() -> list[list[Any]]:
            async with AsyncSonioxClient(config=config(emulator)) as client:
                return [[token async for token in client.stt.iter_tokens(job)] for _ in range(2)]

        streams = asyncio.run(main())
    assert streams[0]
    assert streams[0] == streams[1]
    assert hits(emulator, f"/v1/transcriptions/{job}/transcript") == 1


def test_a_finished_job_is_reused(mode: str, emulator: Emulator, job: str) -> None:
    """stt.get of a completed job twice: one request."""
    first, second = in_one_client(
        mode, config(emulator), lambda c: c.stt.get(job), lambda c: c.stt.get(job)
    )
    assert first == second
    assert str(first.status) == "completed"
    assert hits(emulator, f"/v1/transcriptions/{job}") == 1


def test_a_processing_jobs_status_is_not_kept_past_the_short_ttl(
    processing: Emulator, audio: bytes
) -> None:
    """While processing: reused within cache_ttl_pending_jobs (0.3 s), asked again after it."""
    job_id = pending_job(processing, audio)
    path = f"/v1/transcriptions/{job_id}"
    with SonioxClient(config=config(processing, cache_ttl_pending_jobs=0.3)) as client:
        started = time.monotonic()
        client.stt.get(job_id)
        processing.journal.clear()
        client.stt.get(job_id)
        if time.monotonic() - started < 0.3:  # (a slow machine may take longer: then no claim)
            assert hits(processing, path) == 0
        time.sleep(0.35)
        processing.journal.clear()
        assert str(client.stt.get(job_id).status) in ("queued", "processing")
    assert hits(processing, path) == 1


def test_a_delete_invalidates_the_cached_transcript(
    mode: str, emulator: Emulator, job: str
) -> None:
    """After stt.delete(id) the transcript is asked again (and is gone: 404)."""
    results = in_one_client(
        mode,
        config(emulator),
        lambda c: c.stt.get_transcript(job),
        lambda c: c.stt.delete(job),
        lambda c: c.stt.get_transcript(job),
    )
    assert isinstance(results[2], NotFoundError)
    assert hits(emulator, f"/v1/transcriptions/{job}/transcript") == 2


def test_a_file_delete_invalidates_its_metadata(
    mode: str, emulator: Emulator, audio: bytes
) -> None:
    """files.get is cached until files.delete of that file."""

    def upload(c: Any) -> Any:
        return c.files.upload(audio, filename="a.wav")

    uploaded = in_one_client(mode, config(emulator), upload)[0]
    emulator.journal.clear()
    results = in_one_client(
        mode,
        config(emulator),
        lambda c: c.files.get(uploaded.id),
        lambda c: c.files.get(uploaded.id),
        lambda c: c.files.delete(uploaded.id),
        lambda c: c.files.get_or_none(uploaded.id),
    )
    assert results[0] == results[1]
    assert results[3] is None
    assert hits(emulator, f"/v1/files/{uploaded.id}") == 2


@pytest.fixture
def two_keys() -> Any:
    with Emulator(api_keys=(KEY_A, KEY_B), **FAST_JOBS) as emu:
        yield emu


def test_two_api_keys_never_share_an_entry(two_keys: Emulator, audio: bytes) -> None:
    """One cache, two keys (a view with another Authorization): each key asks the server once;
    a wrong key gets its 401, never the cached transcript."""
    job_id = completed_job(two_keys, audio)
    two_keys.journal.clear()
    path = f"/v1/transcriptions/{job_id}/transcript"
    with SonioxClient(config=config(two_keys, api_key=KEY_A)) as client:
        as_b = client.with_options(extra_headers={"Authorization": f"Bearer {KEY_B}"})
        wrong = client.with_options(extra_headers={"Authorization": "Bearer wrong-key-012345678"})
        client.stt.get_transcript(job_id)
        as_b.stt.get_transcript(job_id)
        client.stt.get_transcript(job_id)
        as_b.stt.get_transcript(job_id)
        with pytest.raises(AuthenticationError):
            wrong.stt.get_transcript(job_id)
        assert client.cache.stats.entries == 2
    assert hits(two_keys, path) == 3


def test_a_response_marked_no_store_is_not_kept(emulator: Emulator) -> None:
    """A 200 carrying Cache-Control: no-store (a fault adds it) is asked again each time."""
    emulator.faults.add(
        Fault(
            kind="status",
            route="/v1/models",
            status=200,
            headers=(("cache-control", "no-store"),),
            times=None,
        )
    )
    with SonioxClient(config=config(emulator)) as client:
        for _ in range(2):
            response = client.request("GET", "/models")
            assert response.headers.get("cache-control") == "no-store"
        assert client.cache.stats.entries == 0
    assert hits(emulator, "/v1/models") == 2


def test_without_a_cache_in_the_stack_nothing_is_reused(emulator: Emulator, job: str) -> None:
    """The testing profile's own stack has no cache: two fetches, two requests."""
    cfg = config(emulator, middleware=("headers", "retry", "logging"))
    with SonioxClient(config=cfg) as client:
        client.stt.get_transcript(job)
        client.stt.get_transcript(job)
        assert not client.cache.enabled
    assert hits(emulator, f"/v1/transcriptions/{job}/transcript") == 2
