"""``client.stt`` jobs: create, get, list, count, delete, destroy, wait, get_transcript."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
from compat_support import CompatEmulator, SideServer, deviation

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxError, SonioxNotFoundError, SonioxValidationError
from soniox.types import (
    CreateTranscriptionConfig,
    Transcription,
    TranscriptionTranscript,
)

FAST = {"interval_sec": 0.02, "timeout_sec": 10}


# create -----------------------------------------------------------------------------------------
def test_create_from_file_id(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``create(file_id=, client_reference_id=)`` starts a job on the default async model."""
    file_id = emu.upload(wav, filename="talk.wav")["id"]
    job = client.stt.create(file_id=file_id, client_reference_id="job-1")
    assert isinstance(job, Transcription)
    assert job.status in ("queued", "processing")
    assert job.model == "stt-async-v5"
    assert (job.file_id, job.filename, job.client_reference_id) == (file_id, "talk.wav", "job-1")
    assert job.audio_url is None
    assert isinstance(job.created_at, datetime)
    assert emu.transcription_ids() == {job.id}


@deviation("a reference is generated so a create whose answer is lost is found, not resent")
def test_create_without_reference_leaves_it_unset(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """Without ``client_reference_id`` the job has none: the SDK does not invent one."""
    job = client.stt.create(file_id=emu.upload(wav)["id"])
    assert job.client_reference_id is None
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["client_reference_id"] is None


def test_create_with_model_and_config(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``model=`` and a CreateTranscriptionConfig reach the server and come back on the job."""
    file_id = emu.upload(wav)["id"]
    config = CreateTranscriptionConfig(
        language_hints=["en", "de"],
        enable_speaker_diarization=True,
        enable_language_identification=True,
    )
    job = client.stt.create(model="stt-async-v4", file_id=file_id, config=config)
    assert job.model == "stt-async-v4"
    assert job.language_hints == ["en", "de"]
    assert job.enable_speaker_diarization is True
    assert job.enable_language_identification is True
    stored = emu.transcription(job.id)
    assert stored is not None
    assert stored["language_hints"] == ["en", "de"]


def test_create_from_audio_url(client: SonioxClient, side: SideServer) -> None:
    """``create(audio_url=)`` names the job after the URL's file and completes."""
    url = side.audio_url("lecture")
    job = client.stt.create(audio_url=url)
    assert (job.audio_url, job.file_id, job.filename) == (url, None, "lecture.wav")
    assert client.stt.wait(job.id, **FAST).status == "completed"


def test_create_with_both_sources_is_refused_locally(
    client: SonioxClient, emu: CompatEmulator
) -> None:
    """``file_id`` and ``audio_url`` together raise SonioxValidationError before any request."""
    with pytest.raises(SonioxValidationError):
        client.stt.create(file_id=str(uuid.uuid4()), audio_url="https://example.test/a.wav")
    assert emu.journal(path="/v1/transcriptions") == []


# get, list, count -------------------------------------------------------------------------------
def test_get_and_get_or_none(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``get`` returns the job; ``get_or_none`` returns None for an unknown id."""
    job_id = emu.create(emu.upload(wav)["id"], client_reference_id="g")["id"]
    fetched = client.stt.get(job_id)
    assert (fetched.id, fetched.client_reference_id) == (job_id, "g")
    found = client.stt.get_or_none(job_id)
    assert found is not None
    assert found.id == job_id
    assert client.stt.get_or_none(str(uuid.uuid4())) is None
    with pytest.raises(SonioxNotFoundError):
        client.stt.get(str(uuid.uuid4()))


def test_list_with_limit_and_cursor(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``list(limit=, cursor=)`` pages through every job once."""
    file_id = emu.upload(wav)["id"]
    ids = {emu.create(file_id)["id"] for _ in range(3)}
    first = client.stt.list(limit=2)
    assert len(first.transcriptions) == 2
    assert first.next_page_cursor
    second = client.stt.list(limit=2, cursor=first.next_page_cursor)
    assert second.next_page_cursor is None
    assert {t.id for t in first.transcriptions + second.transcriptions} == ids


def test_list_all_and_count(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``list_all(limit=)`` yields every job; ``count()`` totals them."""
    file_id = emu.upload(wav)["id"]
    ids = {emu.create(file_id)["id"] for _ in range(3)}
    listed = list(client.stt.list_all(limit=1))
    assert all(isinstance(t, Transcription) for t in listed)
    assert sorted(t.id for t in listed) == sorted(ids)
    counts = client.stt.count()
    assert (counts.total, counts.public_api, counts.playground) == (3, 3, 0)


# delete, destroy --------------------------------------------------------------------------------
def test_delete_keeps_the_file(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete`` removes the job; its uploaded file stays."""
    file_id = emu.upload(wav)["id"]
    job_id = emu.wait_done(emu.create(file_id)["id"])["id"]
    assert client.stt.delete(job_id) is None
    assert emu.transcription(job_id) is None
    assert emu.file_ids() == {file_id}
    with pytest.raises(SonioxNotFoundError):
        client.stt.delete(job_id)


def test_delete_if_exists(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete_if_exists`` deletes a job and ignores a missing one."""
    job_id = emu.wait_done(emu.create(emu.upload(wav)["id"])["id"])["id"]
    client.stt.delete_if_exists(job_id)
    client.stt.delete_if_exists(job_id)
    assert emu.transcription_ids() == set()


def test_delete_all(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete_all(1)`` removes every job and leaves the files."""
    file_id = emu.upload(wav)["id"]
    for _ in range(3):
        emu.wait_done(emu.create(file_id)["id"])
    client.stt.delete_all(1)
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == {file_id}


def test_destroy_removes_job_and_file(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``destroy`` deletes the job and the file it was created from."""
    keep = emu.upload(wav)["id"]
    file_id = emu.upload(wav)["id"]
    job_id = emu.wait_done(emu.create(file_id)["id"])["id"]
    client.stt.destroy(job_id)
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == {keep}


def test_destroy_all(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``destroy_all()`` deletes every job and every file they used."""
    unrelated = emu.upload(wav)["id"]
    for _ in range(3):
        emu.wait_done(emu.create(emu.upload(wav)["id"])["id"])
    client.stt.destroy_all()
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == {unrelated}


# wait -------------------------------------------------------------------------------------------
def test_wait_returns_the_completed_job(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``wait(id, interval_sec=, timeout_sec=)`` polls until completed and returns the job."""
    job = client.stt.create(file_id=emu.upload(wav)["id"])
    done = client.stt.wait(job.id, interval_sec=0.02, timeout_sec=10)
    assert isinstance(done, Transcription)
    assert (done.id, done.status, done.audio_duration_ms) == (job.id, "completed", 2000)
    assert done.error_type is None


def test_wait_times_out_with_timeout_error(client: SonioxClient, side: SideServer) -> None:
    """A job still unfinished after ``timeout_sec`` raises the built-in TimeoutError."""
    url, _release = side.gated_audio_url()
    job = client.stt.create(audio_url=url)
    with pytest.raises(TimeoutError):
        client.stt.wait(job.id, interval_sec=0.02, timeout_sec=0.2)
    assert client.stt.get(job.id).status == "queued"


def test_wait_returns_a_failed_job(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """A job that ends in ``error`` is returned by ``wait`` (not raised), with its error fields."""
    emu.job_error("audio_decode_failed", "The audio could not be decoded.")
    job = client.stt.create(file_id=emu.upload(wav)["id"])
    done = client.stt.wait(job.id, **FAST)
    assert done.status == "error"
    assert done.error_type == "audio_decode_failed"
    assert done.error_message == "The audio could not be decoded."


# get_transcript ---------------------------------------------------------------------------------
def test_get_transcript_tokens(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """The transcript carries the job id, its text and timed tokens with confidence."""
    job = client.stt.create(file_id=emu.upload(wav)["id"])
    client.stt.wait(job.id, **FAST)
    transcript = client.stt.get_transcript(job.id)
    assert isinstance(transcript, TranscriptionTranscript)
    assert transcript.id == job.id
    assert len(transcript.tokens) == 8
    assert transcript.text == "".join(t.text for t in transcript.tokens)
    starts = [t.start_ms for t in transcript.tokens]
    assert starts == sorted(starts)
    for token in transcript.tokens:
        assert token.text.strip()
        assert token.start_ms is not None
        assert token.end_ms is not None
        assert 0 <= token.start_ms < token.end_ms <= 2000
        assert token.confidence is not None
        assert 0.0 <= token.confidence <= 1.0
        assert token.speaker is None  # diarization was not asked for
        assert token.language is None  # nor language identification


def test_get_transcript_with_speakers_and_languages(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """With diarization and language identification every token has a speaker and a language."""
    config = CreateTranscriptionConfig(
        enable_speaker_diarization=True, enable_language_identification=True
    )
    job = client.stt.create(file_id=emu.upload(wav)["id"], config=config)
    client.stt.wait(job.id, **FAST)
    tokens = client.stt.get_transcript(job.id).tokens
    assert tokens
    assert all(t.speaker for t in tokens)
    assert all(t.language == "en" for t in tokens)


def test_get_transcript_of_missing_job(client: SonioxClient) -> None:
    """A transcript of an unknown job raises SonioxNotFoundError, a SonioxError."""
    with pytest.raises(SonioxNotFoundError) as caught:
        client.stt.get_transcript(str(uuid.uuid4()))
    assert isinstance(caught.value, SonioxError)


# Async ------------------------------------------------------------------------------------------
def test_async_create_wait_and_transcript(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes
) -> None:
    """Async ``create`` with config, ``wait`` and ``get_transcript``."""
    file_id = emu.upload(wav)["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            config = CreateTranscriptionConfig(language_hints=["en"])
            job = await client.stt.create(file_id=file_id, client_reference_id="a-1", config=config)
            assert (job.file_id, job.client_reference_id, job.language_hints) == (
                file_id,
                "a-1",
                ["en"],
            )
            done = await client.stt.wait(job.id, interval_sec=0.02, timeout_sec=10)
            assert done.status == "completed"
            transcript = await client.stt.get_transcript(job.id)
            assert transcript.id == job.id
            assert len(transcript.tokens) == 8

    asyncio.run(main())


def test_async_get_list_and_count(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """Async ``get``, ``get_or_none``, ``list``, ``async for`` over ``list_all``, ``count``."""
    file_id = emu.upload(wav)["id"]
    ids = {emu.create(file_id)["id"] for _ in range(3)}

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            some = next(iter(ids))
            assert (await client.stt.get(some)).id == some
            assert await client.stt.get_or_none(str(uuid.uuid4())) is None
            page = await client.stt.list(limit=2)
            assert len(page.transcriptions) == 2
            rest = await client.stt.list(limit=2, cursor=page.next_page_cursor)
            assert {t.id for t in page.transcriptions + rest.transcriptions} == ids
            assert sorted([t.id async for t in client.stt.list_all(limit=2)]) == sorted(ids)
            assert (await client.stt.count()).total == 3

    asyncio.run(main())


def test_async_wait_timeout_and_failed_job(
    conn: dict[str, str], emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """Async ``wait`` raises TimeoutError when unfinished and returns a job that failed."""
    url, _release = side.gated_audio_url()
    file_id = emu.upload(wav)["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            stuck = await client.stt.create(audio_url=url)
            with pytest.raises(TimeoutError):
                await client.stt.wait(stuck.id, interval_sec=0.02, timeout_sec=0.2)
            emu.job_error("internal_error", "Something broke.")
            failing = await client.stt.create(file_id=file_id)
            done = await client.stt.wait(failing.id, interval_sec=0.02, timeout_sec=10)
            assert (done.status, done.error_type, done.error_message) == (
                "error",
                "internal_error",
                "Something broke.",
            )

    asyncio.run(main())


def test_async_deletes_and_destroys(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """Async ``delete``, ``delete_if_exists``, ``destroy``, ``delete_all`` and ``destroy_all``."""
    shared = emu.upload(wav)["id"]
    a = emu.wait_done(emu.create(shared)["id"])["id"]
    own_file = emu.upload(wav)["id"]
    b = emu.wait_done(emu.create(own_file)["id"])["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            await client.stt.delete(a)
            assert emu.transcription(a) is None
            await client.stt.delete_if_exists(a)
            await client.stt.destroy(b)
            assert emu.transcription_ids() == set()
            assert emu.file_ids() == {shared}
            emu.wait_done(emu.create(shared)["id"])
            await client.stt.delete_all()
            assert emu.transcription_ids() == set()
            assert emu.file_ids() == {shared}
            emu.wait_done(emu.create(shared)["id"])
            await client.stt.destroy_all(1)
            assert emu.transcription_ids() == set()
            assert emu.file_ids() == set()

    asyncio.run(main())
