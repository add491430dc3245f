"""``client.stt`` helpers: transcribe*, transcribe_and_wait*, translate*, webhook transcriptions."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from compat_support import CompatEmulator, SideServer

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxConflictError, SonioxValidationError
from soniox.types import (
    CreateTranscriptionConfig,
    Transcription,
    TranscriptionTranscript,
    WebhookAuthConfig,
)

WAIT = {"wait_interval_sec": 0.02, "wait_timeout_sec": 10}


# transcribe -------------------------------------------------------------------------------------
def test_transcribe_a_local_file(client: SonioxClient, emu: CompatEmulator, wav_path: Path) -> None:
    """``transcribe(file=path, client_reference_id=)`` uploads, then creates; both carry the id."""
    job = client.stt.transcribe(file=wav_path, client_reference_id="batch-3")
    assert isinstance(job, Transcription)
    assert job.file_id is not None
    assert job.filename == "meeting.wav"
    assert job.client_reference_id == "batch-3"
    stored_file = emu.file(job.file_id)
    assert stored_file is not None
    assert stored_file["client_reference_id"] == "batch-3"
    assert emu.transcription_ids() == {job.id}


def test_transcribe_bytes_with_filename(client: SonioxClient, wav: bytes) -> None:
    """``transcribe(file=bytes, filename=)`` names the upload."""
    job = client.stt.transcribe(file=wav, filename="memo.wav")
    assert job.filename == "memo.wav"


def test_transcribe_a_file_id(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``transcribe(file_id=)`` uses the uploaded file without uploading again."""
    file_id = emu.upload(wav)["id"]
    job = client.stt.transcribe(file_id=file_id, model="stt-async-v5")
    assert job.file_id == file_id
    assert emu.file_ids() == {file_id}


def test_transcribe_a_url(client: SonioxClient, side: SideServer) -> None:
    """``transcribe(audio_url=)`` creates a job from the URL."""
    url = side.audio_url("podcast")
    job = client.stt.transcribe(audio_url=url)
    assert (job.audio_url, job.filename) == (url, "podcast.wav")


def test_transcribe_needs_exactly_one_source(client: SonioxClient, wav: bytes) -> None:
    """No source, or a file together with a URL, raises SonioxValidationError."""
    with pytest.raises(SonioxValidationError):
        client.stt.transcribe()
    with pytest.raises(SonioxValidationError):
        client.stt.transcribe(file=wav, audio_url="https://example.test/a.wav")
    with pytest.raises(SonioxValidationError):
        client.stt.transcribe(file_id="f", audio_url="https://example.test/a.wav")


def test_transcribe_from_url_file_id_and_file(
    client: SonioxClient, emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """The three ``transcribe_from_*`` helpers each start one job."""
    by_url = client.stt.transcribe_from_url(audio_url=side.audio_url("u"))
    file_id = emu.upload(wav)["id"]
    by_id = client.stt.transcribe_from_file_id(file_id=file_id, client_reference_id="by-id")
    by_file = client.stt.transcribe_from_file(
        file=wav, filename="by-file.wav", client_reference_id="by-file"
    )
    assert by_url.filename == "u.wav"
    assert (by_id.file_id, by_id.client_reference_id) == (file_id, "by-id")
    assert (by_file.filename, by_file.client_reference_id) == ("by-file.wav", "by-file")
    assert emu.transcription_ids() == {by_url.id, by_id.id, by_file.id}


# transcribe_and_wait ----------------------------------------------------------------------------
def test_transcribe_and_wait_keeps_job_and_file(
    client: SonioxClient, emu: CompatEmulator, wav_path: Path
) -> None:
    """``transcribe_and_wait`` returns the completed job; without delete_after both stay."""
    job = client.stt.transcribe_and_wait(file=wav_path, **WAIT)
    assert job.status == "completed"
    assert emu.transcription_ids() == {job.id}
    assert job.file_id is not None
    assert emu.file_ids() == {job.file_id}


def test_transcribe_and_wait_delete_after(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``delete_after=True`` removes the job and its uploaded file once it completed."""
    job = client.stt.transcribe_and_wait(file=wav, filename="gone.wav", delete_after=True, **WAIT)
    assert (job.status, job.filename) == ("completed", "gone.wav")
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == set()


def test_transcribe_and_wait_url_delete_after(
    client: SonioxClient, emu: CompatEmulator, side: SideServer
) -> None:
    """``delete_after=True`` on a URL job removes the job (there is no file)."""
    job = client.stt.transcribe_and_wait(audio_url=side.audio_url(), delete_after=True, **WAIT)
    assert job.status == "completed"
    assert emu.transcription_ids() == set()


def test_transcribe_and_wait_timeout(client: SonioxClient, side: SideServer) -> None:
    """``wait_timeout_sec`` bounds the wait with TimeoutError."""
    url, _release = side.gated_audio_url()
    with pytest.raises(TimeoutError):
        client.stt.transcribe_and_wait(audio_url=url, wait_interval_sec=0.02, wait_timeout_sec=0.2)


def test_transcribe_and_wait_returns_a_failed_job(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """A job ending in ``error`` comes back from ``transcribe_and_wait`` with its error fields."""
    emu.job_error("audio_decode_failed", "Bad audio.")
    job = client.stt.transcribe_and_wait(file=wav, **WAIT)
    assert (job.status, job.error_type, job.error_message) == (
        "error",
        "audio_decode_failed",
        "Bad audio.",
    )


def test_transcribe_and_wait_with_tokens(
    client: SonioxClient, emu: CompatEmulator, wav_path: Path
) -> None:
    """``transcribe_and_wait_with_tokens(delete_after=True)`` returns the transcript, leaves nothing."""
    transcript = client.stt.transcribe_and_wait_with_tokens(
        file=wav_path, delete_after=True, **WAIT
    )
    assert isinstance(transcript, TranscriptionTranscript)
    assert len(transcript.tokens) == 8
    assert transcript.text.strip()
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == set()


def test_transcribe_and_wait_with_tokens_keeps_by_default(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """Without delete_after the transcript's job stays on the server."""
    file_id = emu.upload(wav)["id"]
    transcript = client.stt.transcribe_and_wait_with_tokens(file_id=file_id, **WAIT)
    assert emu.transcription_ids() == {transcript.id}
    assert emu.file_ids() == {file_id}


def test_transcribe_and_wait_with_tokens_of_a_failed_job(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """A failed job has no transcript: SonioxConflictError (409) from the transcript call."""
    emu.job_error("audio_decode_failed", "Bad audio.")
    with pytest.raises(SonioxConflictError) as caught:
        client.stt.transcribe_and_wait_with_tokens(file=wav, **WAIT)
    assert caught.value.status_code == 409


# translate --------------------------------------------------------------------------------------
def test_translate_one_way(client: SonioxClient, wav: bytes) -> None:
    """``translate(to="es")`` turns on language identification and yields Spanish tokens."""
    job = client.stt.translate(to="es", file=wav)
    assert job.enable_language_identification is True
    client.stt.wait(job.id, interval_sec=0.02, timeout_sec=10)
    tokens = client.stt.get_transcript(job.id).tokens
    translated = [t for t in tokens if t.translation_status == "translation"]
    assert translated
    assert {t.language for t in translated} == {"es"}
    assert {t.language for t in tokens if t.translation_status == "original"} == {"en"}


def test_translate_with_source_sets_the_hint(client: SonioxClient, wav: bytes) -> None:
    """``source="en"`` becomes the job's language hint."""
    job = client.stt.translate(to="de", source="en", file=wav)
    assert job.language_hints == ["en"]


def test_translate_two_way(client: SonioxClient, wav: bytes) -> None:
    """``between=("en", "fr")`` translates both ways."""
    transcript = client.stt.translate_and_wait_with_tokens(between=("en", "fr"), file=wav, **WAIT)
    languages = {t.language for t in transcript.tokens}
    assert {"en", "fr"} <= languages


def test_translate_needs_exactly_one_direction(client: SonioxClient, wav: bytes) -> None:
    """Neither or both of ``to``/``between``, or ``source`` with ``between``: SonioxValidationError."""
    with pytest.raises(SonioxValidationError):
        client.stt.translate(file=wav)
    with pytest.raises(SonioxValidationError):
        client.stt.translate(to="es", between=("en", "es"), file=wav)
    with pytest.raises(SonioxValidationError):
        client.stt.translate(between=("en", "es"), source="en", file=wav)


def test_translate_from_url_file_id_and_file(
    client: SonioxClient, emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """The three ``translate_from_*`` helpers each start a translating job."""
    file_id = emu.upload(wav)["id"]
    jobs = [
        client.stt.translate_from_url(audio_url=side.audio_url(), to="es"),
        client.stt.translate_from_file_id(file_id=file_id, to="es", client_reference_id="t"),
        client.stt.translate_from_file(file=wav, filename="t.wav", between=("en", "es")),
    ]
    assert all(j.enable_language_identification for j in jobs)
    assert jobs[1].client_reference_id == "t"
    assert jobs[2].filename == "t.wav"
    assert emu.transcription_ids() == {j.id for j in jobs}


def test_translate_keeps_the_callers_config(client: SonioxClient, wav: bytes) -> None:
    """A config passed to ``translate`` keeps its own settings and is not modified."""
    config = CreateTranscriptionConfig(enable_speaker_diarization=True)
    job = client.stt.translate(to="es", file=wav, config=config)
    assert job.enable_speaker_diarization is True
    assert config.translation is None


def test_translate_and_wait_delete_after(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``translate_and_wait(delete_after=True)`` returns the completed job and cleans up."""
    job = client.stt.translate_and_wait(to="es", file=wav, delete_after=True, **WAIT)
    assert job.status == "completed"
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == set()


# Webhook transcriptions -------------------------------------------------------------------------
def test_transcribe_file_with_webhook_auth(
    client: SonioxClient, side: SideServer, wav: bytes
) -> None:
    """The webhook call carries the configured header; ``unwrap`` with the same auth parses it."""
    auth = WebhookAuthConfig(name="X-Hook-Token", value="tok-123")
    url = side.webhook_url()
    job = client.stt.transcribe_file_with_webhook(
        file=wav, webhook_url=url, webhook_auth=auth, client_reference_id="wh"
    )
    assert job.webhook_url == url
    assert job.webhook_auth_header_name == "X-Hook-Token"
    assert job.webhook_auth_header_value != "tok-123"  # the API masks it
    assert job.client_reference_id == "wh"
    call = side.wait_for_post(url)
    assert call.headers.get("X-Hook-Token") == "tok-123"
    assert json.loads(call.body) == {"id": job.id, "status": "completed"}
    event = client.webhooks.unwrap(call.body, call.headers, auth=auth)
    assert (event.id, event.status) == (job.id, "completed")
    deadline = time.monotonic() + 10
    while client.stt.get(job.id).webhook_status_code is None:  # recorded once the call returned
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert client.stt.get(job.id).webhook_status_code == 200


def test_transcribe_file_with_webhook_uses_the_client_secret(
    emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """With ``webhook_secret=`` on the client the call carries X-Soniox-Webhook-Secret."""
    url = side.webhook_url()
    with SonioxClient(
        api_key=emu.api_key, api_base_url=emu.rest_base_url, webhook_secret="s3cret"
    ) as client:
        job = client.stt.transcribe_file_with_webhook(file=wav, webhook_url=url)
        assert job.webhook_auth_header_name == "X-Soniox-Webhook-Secret"
        call = side.wait_for_post(url)
        assert call.headers.get("X-Soniox-Webhook-Secret") == "s3cret"
        assert client.webhooks.unwrap(call.body, call.headers).id == job.id


def test_webhook_reports_a_failed_job(
    client: SonioxClient, emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """A job ending in ``error`` calls the webhook with status ``error``."""
    emu.job_error("audio_decode_failed", "Bad audio.")
    url = side.webhook_url()
    job = client.stt.transcribe_file_with_webhook(file=wav, webhook_url=url)
    call = side.wait_for_post(url)
    event = client.webhooks.unwrap(call.body.decode(), call.headers)
    assert (event.id, event.status) == (job.id, "error")


# Async ------------------------------------------------------------------------------------------
def test_async_transcribe_variants(
    conn: dict[str, str], emu: CompatEmulator, side: SideServer, wav: bytes, wav_path: Path
) -> None:
    """Async ``transcribe`` from a path, a file id and a URL, and the ``transcribe_from_*`` helpers."""
    file_id = emu.upload(wav)["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            jobs = [
                await client.stt.transcribe(file=wav_path, client_reference_id="p"),
                await client.stt.transcribe(file_id=file_id),
                await client.stt.transcribe(audio_url=side.audio_url("x")),
                await client.stt.transcribe_from_url(audio_url=side.audio_url("y")),
                await client.stt.transcribe_from_file_id(file_id=file_id),
                await client.stt.transcribe_from_file(file=wav, filename="z.wav"),
            ]
            assert [j.filename for j in jobs] == [
                "meeting.wav",
                "seed.wav",
                "x.wav",
                "y.wav",
                "seed.wav",
                "z.wav",
            ]
            assert jobs[0].client_reference_id == "p"
            with pytest.raises(SonioxValidationError):
                await client.stt.transcribe()

    asyncio.run(main())
    assert len(emu.transcription_ids()) == 6


def test_async_transcribe_and_wait_delete_after(
    conn: dict[str, str], emu: CompatEmulator, wav_path: Path
) -> None:
    """Async ``transcribe_and_wait(delete_after=True)`` returns the job and cleans up."""

    async def main() -> Transcription:
        async with AsyncSonioxClient(**conn) as client:
            return await client.stt.transcribe_and_wait(file=wav_path, delete_after=True, **WAIT)

    job = asyncio.run(main())
    assert job.status == "completed"
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == set()


def test_async_transcribe_and_wait_with_tokens(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes
) -> None:
    """Async ``transcribe_and_wait_with_tokens`` returns the transcript; delete_after cleans up."""

    async def main() -> TranscriptionTranscript:
        async with AsyncSonioxClient(**conn) as client:
            return await client.stt.transcribe_and_wait_with_tokens(
                file=wav, delete_after=True, **WAIT
            )

    transcript = asyncio.run(main())
    assert len(transcript.tokens) == 8
    assert emu.transcription_ids() == set()
    assert emu.file_ids() == set()


def test_async_translate_variants(
    conn: dict[str, str], emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """Async ``translate``, ``translate_from_*``, ``translate_and_wait*``."""
    file_id = emu.upload(wav)["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            job = await client.stt.translate(to="es", source="en", file_id=file_id)
            assert (job.language_hints, job.enable_language_identification) == (["en"], True)
            await client.stt.translate_from_url(audio_url=side.audio_url(), to="es")
            await client.stt.translate_from_file_id(file_id=file_id, between=("en", "es"))
            await client.stt.translate_from_file(file=wav, to="es")
            done = await client.stt.translate_and_wait(to="es", file_id=file_id, **WAIT)
            assert done.status == "completed"
            transcript = await client.stt.translate_and_wait_with_tokens(
                to="es", file_id=file_id, **WAIT
            )
            assert "es" in {t.language for t in transcript.tokens}
            with pytest.raises(SonioxValidationError):
                await client.stt.translate(file_id=file_id)

    asyncio.run(main())


def test_async_transcribe_file_with_webhook(
    emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """Async ``transcribe_file_with_webhook``; the async client's ``webhooks`` calls are plain calls."""
    url = side.webhook_url()

    async def main() -> Transcription:
        async with AsyncSonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, webhook_secret="a-secret"
        ) as client:
            job = await client.stt.transcribe_file_with_webhook(file=wav, webhook_url=url)
            call = side.wait_for_post(url)
            event = client.webhooks.unwrap(call.body, call.headers)
            assert event.id == job.id
            return job

    job = asyncio.run(main())
    assert side.posts(url)[0].headers.get("X-Soniox-Webhook-Secret") == "a-secret"
    assert job.webhook_url == url
