"""iter_transcript_tokens / aiter_transcript_tokens against the emulator, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from transcripts_support import completed_job, tone_wav

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import (
    AuthenticationError,
    ClientValidationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ResponseLostError,
)
from soniox.middleware import user_agent
from soniox.transcripts import aiter_transcript_tokens, iter_transcript_tokens
from soniox.types import TranscriptionTranscript, TranscriptionTranscriptToken, loads

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def audio() -> bytes:
    return tone_wav(20.0)


@pytest.fixture
def job(emulator: Emulator, audio: bytes) -> str:
    return completed_job(emulator, audio, enable_speaker_diarization=True)


def config(emu: Emulator, **overrides: Any) -> SonioxConfig:
    values: dict[str, Any] = {"api_key": emu.api_key, "base_url": emu.rest_base_url}
    return SonioxConfig.testing(**(values | overrides))


def whole(emu: Emulator, job_id: str) -> TranscriptionTranscript:
    with SonioxClient(config=config(emu)) as client:
        body = client.request("GET", f"/transcriptions/{job_id}/transcript").content
    return loads(body, TranscriptionTranscript)


def collect(
    emu: Emulator, job_id: str, mode: str, **kwargs: Any
) -> tuple[list[TranscriptionTranscriptToken], dict[str, Any]]:
    """All tokens and the stream's id/text/count/resumes, with the sync or the async client."""
    cfg = config(emu, **kwargs.pop("config", {}))
    if mode == "sync":
        with (
            SonioxClient(config=cfg) as client,
            iter_transcript_tokens(client, job_id, **kwargs) as stream,
        ):
            tokens = list(stream)
            return tokens, _info(stream)

    async def main() -> tuple[list[TranscriptionTranscriptToken], dict[str, Any]]:
        async with (
            AsyncSonioxClient(config=cfg) as client,
            aiter_transcript_tokens(client, job_id, **kwargs) as stream,
        ):
            tokens = [t async for t in stream]
            return tokens, _info(stream)

    return asyncio.run(main())


def _info(stream: Any) -> dict[str, Any]:
    return {"id": stream.id, "text": stream.text, "count": stream.count, "resumes": stream.resumes}


modes = pytest.mark.parametrize("mode", ["sync", "async"])


@modes
def test_streamed_tokens_equal_the_whole_transcript(
    emulator: Emulator, job: str, mode: str
) -> None:
    """Every token, typed, in order: the same as parsing the whole body."""
    expected = whole(emulator, job)
    tokens, info = collect(emulator, job, mode, keep_text=True)
    assert tokens == expected.tokens
    assert len(tokens) > 50
    assert info["count"] == len(tokens)
    assert info["id"] == expected.id
    assert info["text"] == expected.text


@modes
def test_text_is_only_kept_on_request(emulator: Emulator, job: str, mode: str) -> None:
    """By default the text is skipped (flat memory); the id is always known."""
    _, info = collect(emulator, job, mode)
    assert info["text"] is None
    assert info["id"] == job


@modes
def test_the_request_goes_through_the_middleware_stack(
    emulator: Emulator, job: str, mode: str
) -> None:
    """The GET carries the stack's auth and User-Agent."""
    collect(emulator, job, mode)
    entry = emulator.journal.entries(path=f"/v1/transcriptions/{job}/transcript")[-1]
    assert entry.auth == "bearer"
    assert entry.header("user-agent") == user_agent()


@modes
def test_a_dropped_body_resumes_and_skips_what_was_yielded(
    emulator: Emulator, job: str, mode: str
) -> None:
    """A connection cut mid-body re-requests and continues without duplicates."""
    expected = whole(emulator, job)
    emulator.faults.inject(
        "truncate", f"/v1/transcriptions/{job}/transcript", method="GET", after_bytes=2500
    )
    tokens, info = collect(emulator, job, mode)
    assert tokens == expected.tokens
    assert info["resumes"] == 1


@modes
def test_a_body_dropped_too_often_raises_response_lost(
    emulator: Emulator, job: str, mode: str
) -> None:
    """Beyond max_resumes the ResponseLostError surfaces."""
    emulator.faults.inject(
        "truncate", f"/v1/transcriptions/{job}/transcript", after_bytes=2500, times=None
    )
    with pytest.raises(ResponseLostError):
        collect(emulator, job, mode, max_resumes=1)
    assert len(emulator.journal.entries(path=f"/v1/transcriptions/{job}/transcript")) == 2


@modes
def test_an_unknown_id_raises_not_found(emulator: Emulator, mode: str) -> None:
    """404 surfaces as NotFoundError on the first next()."""
    with pytest.raises(NotFoundError) as caught:
        collect(emulator, MISSING, mode)
    assert caught.value.status == 404


@modes
def test_a_failed_job_raises_conflict(emulator: Emulator, audio: bytes, mode: str) -> None:
    """409 (the job ended in error) surfaces as ConflictError."""
    emulator.faults.inject("job_error", "/v1/transcriptions", method="POST")
    failed = completed_job(emulator, audio)
    with pytest.raises(ConflictError) as caught:
        collect(emulator, failed, mode)
    assert caught.value.status == 409


@modes
def test_a_wrong_key_raises_authentication_error(emulator: Emulator, job: str, mode: str) -> None:
    """401 surfaces as AuthenticationError."""
    with pytest.raises(AuthenticationError):
        collect(emulator, job, mode, config={"api_key": "wrong-key-0123456789"})


@modes
def test_rate_limits_are_retried_by_the_stack(emulator: Emulator, job: str, mode: str) -> None:
    """A 429 before the body is retried like any GET; with retries off it raises."""
    route = f"/v1/transcriptions/{job}/transcript"
    emulator.faults.fail(route, status=429, retry_after=0)
    tokens, _ = collect(emulator, job, mode, config={"max_retries": 2})
    assert tokens
    emulator.faults.fail(route, status=429, retry_after=0)
    with pytest.raises(RateLimitError):
        collect(emulator, job, mode, config={"max_retries": 0})


def test_stopping_early_releases_the_connection(emulator: Emulator, job: str) -> None:
    """close() after a few tokens frees the connection for the next call."""
    with SonioxClient(config=config(emulator, max_connections=1)) as client:
        stream = iter_transcript_tokens(client, job)
        first = [next(stream) for _ in range(3)]
        stream.close()
        stream.close()
        assert first
        assert [t.text for t in iter_transcript_tokens(client, job)][:3] == [t.text for t in first]


def test_an_empty_id_is_rejected_before_sending(emulator: Emulator) -> None:
    """A blank id is a ClientValidationError, not a request to /transcriptions//transcript."""
    with SonioxClient(config=config(emulator)) as client, pytest.raises(ClientValidationError):
        iter_transcript_tokens(client, " ")


def test_async_stream_stops_early_with_aclose(emulator: Emulator, job: str) -> None:
    """aclose() mid-stream ends the iteration cleanly."""

    async def main() -> int:
        async with AsyncSonioxClient(config=config(emulator)) as client:
            stream = aiter_transcript_tokens(client, job)
            await anext(stream)
            await stream.aclose()
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
            return stream.count

    assert asyncio.run(main()) == 1


def test_a_smaller_engine_window_yields_more_tokens(audio: bytes) -> None:
    """EmulatorConfig.engine_window_ms (for long-transcript benchmarks) scales the token count."""
    counts: list[int] = []
    for window in (None, 40):
        with Emulator(engine_window_ms=window, queue_delay_s=0.0, min_processing_s=0.0) as emu:
            job_id = completed_job(emu, audio)
            with SonioxClient(config=config(emu)) as client:
                counts.append(sum(1 for _ in iter_transcript_tokens(client, job_id)))
    assert counts[1] > 2 * counts[0]
