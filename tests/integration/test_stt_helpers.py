"""client.stt's workflow helpers against the emulator over loopback, sync and async: transcribe*,
translate*, webhooks, delete_after clean-up (errors, timeouts, Ctrl-C, cancellation) and batches."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _api_modes import Api
from stt_support import (
    FAST_POLL,
    HookSink,
    leftovers,
    max_overlap,
    serve_bytes,
)
from transcripts_support import tone_wav

from soniox.client import AsyncSonioxClient
from soniox.emulator import Emulator
from soniox.errors import (
    ClientValidationError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    ServerObjects,
    SourceNotFoundError,
    TranscriptionFailedError,
    WaitTimeoutError,
)
from soniox.flows.batch import BatchResult
from soniox.types import (
    Transcription,
    TranscriptionStatus,
    TranscriptionTranscript,
    TranslationStatus,
)

WAV = tone_wav(1.0)
LONG_WAV = tone_wav(10.0)
"""160 kB: several upload chunks, so an interruption can land mid-body."""


@pytest.fixture
def audio_path(tmp_path: Path) -> Path:
    path = tmp_path / "meeting.wav"
    path.write_bytes(WAV)
    return path


@pytest.fixture
def sink() -> Iterator[HookSink]:
    receiver = HookSink()
    yield receiver
    receiver.close()


def stored_job(emu: Emulator, transcription_id: str) -> Any:
    """The emulator's record of a job (what the API received)."""
    return next(t for t in emu.app.rest.store.transcriptions() if t.id == transcription_id)


# --- transcribe ---------------------------------------------------------------------------------


def test_transcribe_uploads_a_path_and_creates_the_job(
    api: Api, emulator: Emulator, audio_path: Path
) -> None:
    """transcribe(file=path) uploads with progress and returns the created job without waiting."""
    seen: list[tuple[int, int | None]] = []
    job: Transcription = api(
        lambda c: c.stt.transcribe(file=audio_path, progress=lambda s, t: seen.append((s, t)))
    )
    assert job.status in (TranscriptionStatus.QUEUED, TranscriptionStatus.PROCESSING)
    assert job.filename == "meeting.wav"
    assert seen[-1] == (len(WAV), len(WAV))
    assert [f.id for f in emulator.app.rest.store.files()] == [job.file_id]


def test_transcribe_with_wait_returns_the_finished_job(api: Api) -> None:
    """transcribe(..., wait=True) also waits for the job."""
    job: Transcription = api(lambda c: c.stt.transcribe(file=WAV, wait=True, poll=FAST_POLL))
    assert job.status == TranscriptionStatus.COMPLETED


def test_transcribe_from_url(api: Api) -> None:
    """transcribe_from_url() makes a job the emulator downloads from a local server."""
    with serve_bytes(WAV, "interview.wav") as url:
        job: Transcription = api(lambda c: c.stt.transcribe_from_url(audio_url=url))
        done: Transcription = api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    assert (job.audio_url, job.filename) == (url, "interview.wav")
    assert done.status == TranscriptionStatus.COMPLETED


def test_transcribe_from_file_id(api: Api) -> None:
    """transcribe_from_file_id() makes a job for an uploaded file, with the given options."""
    file_id: str = api(lambda c: c.files.upload(WAV, filename="a.wav")).id
    job: Transcription = api(
        lambda c: c.stt.transcribe_from_file_id(file_id=file_id, language_hints=["de"])
    )
    assert (job.file_id, job.language_hints) == (file_id, ["de"])


def test_transcribe_from_file_object(api: Api, emulator: Emulator) -> None:
    """transcribe_from_file() (alias transcribe_file) uploads a file object under its filename."""
    job: Transcription = api(
        lambda c: c.stt.transcribe_from_file(file=io.BytesIO(WAV), filename="call.wav")
    )
    alias: Transcription = api(lambda c: c.stt.transcribe_file(file=WAV, filename="b.wav"))
    assert (job.filename, alias.filename) == ("call.wav", "b.wav")
    assert leftovers(emulator) == (2, 2)


def test_transcribe_file_with_webhook_delivers_the_event(api: Api, sink: HookSink) -> None:
    """The emulator posts {id, status} to the webhook with the configured auth header."""
    secret = "hook-secret-0123456789"
    job: Transcription = api(
        lambda c: c.stt.transcribe_file_with_webhook(
            file=WAV,
            webhook_url=sink.url,
            webhook_auth_header_name="X-Soniox-Hook",
            webhook_auth_header_value=secret,
        )
    )
    headers, body = sink.calls.get(timeout=10)
    assert body == {"id": job.id, "status": "completed"}
    assert headers["x-soniox-hook"] == secret
    assert job.webhook_url == sink.url
    assert job.webhook_auth_header_value != secret


def test_transcribe_and_wait(api: Api, audio_path: Path) -> None:
    """transcribe_and_wait() returns the completed job, made with the given options."""
    job: Transcription = api(
        lambda c: c.stt.transcribe_and_wait(
            file=audio_path, enable_speaker_diarization=True, poll=FAST_POLL
        )
    )
    assert (job.status, job.filename) == (TranscriptionStatus.COMPLETED, "meeting.wav")
    assert job.enable_speaker_diarization


def test_transcribe_and_wait_takes_the_official_sdks_wait_names(api: Api) -> None:
    """wait_interval_sec= and wait_timeout_sec= work as in the official SDK."""
    job: Transcription = api(
        lambda c: c.stt.transcribe_and_wait(file=WAV, wait_interval_sec=0.05, wait_timeout_sec=10)
    )
    assert job.status == TranscriptionStatus.COMPLETED


def test_transcribe_and_wait_with_tokens(api: Api) -> None:
    """transcribe_and_wait_with_tokens() returns the job's typed transcript."""
    transcript: TranscriptionTranscript = api(
        lambda c: c.stt.transcribe_and_wait_with_tokens(file=WAV, poll=FAST_POLL)
    )
    again: TranscriptionTranscript = api(lambda c: c.stt.get_transcript(transcript.id))
    assert transcript.tokens
    assert transcript == again


# --- translate ----------------------------------------------------------------------------------


def test_translate_one_way(api: Api, emulator: Emulator) -> None:
    """translate(to=, source=) sends a one-way translation, a strict hint and language id."""
    job: Transcription = api(lambda c: c.stt.translate(file=WAV, to="de", source="en"))
    record = stored_job(emulator, job.id)
    assert record.translation == {"type": "one_way", "target_language": "de"}
    assert (record.language_hints, record.language_hints_strict) == (("en",), True)
    assert job.enable_language_identification


def test_translate_two_way(api: Api, emulator: Emulator) -> None:
    """translate(between=(a, b)) sends a two-way translation."""
    job: Transcription = api(lambda c: c.stt.translate(file=WAV, between=("en", "es")))
    record = stored_job(emulator, job.id)
    assert record.translation == {"type": "two_way", "language_a": "en", "language_b": "es"}
    assert job.enable_language_identification


TRANSLATE_VARIANTS: dict[str, Any] = {
    "from_url": lambda c, url, file_id: c.stt.translate_from_url(audio_url=url, to="fr"),
    "from_file_id": lambda c, url, file_id: c.stt.translate_from_file_id(file_id=file_id, to="fr"),
    "from_file": lambda c, url, file_id: c.stt.translate_from_file(file=WAV, to="fr"),
}


@pytest.mark.parametrize("variant", TRANSLATE_VARIANTS)
def test_translate_variants(api: Api, emulator: Emulator, variant: str) -> None:
    """translate_from_url / _from_file_id / _from_file create a one-way translating job."""
    call = TRANSLATE_VARIANTS[variant]
    file_id: str = api(lambda c: c.files.upload(WAV)).id
    with serve_bytes(WAV) as url:
        job: Transcription = api(lambda c: call(c, url, file_id))
        api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    assert stored_job(emulator, job.id).translation == {
        "type": "one_way",
        "target_language": "fr",
    }


def test_translate_and_wait(api: Api) -> None:
    """translate_and_wait() returns the completed translating job."""
    job: Transcription = api(lambda c: c.stt.translate_and_wait(file=WAV, to="de", poll=FAST_POLL))
    assert job.status == TranscriptionStatus.COMPLETED


def test_translate_and_wait_with_tokens(api: Api) -> None:
    """The transcript holds original and translated tokens, told apart by translation_status."""
    transcript: TranscriptionTranscript = api(
        lambda c: c.stt.translate_and_wait_with_tokens(
            file=WAV, between=("en", "es"), poll=FAST_POLL
        )
    )
    kinds = {t.translation_status for t in transcript.tokens}
    assert kinds == {TranslationStatus.ORIGINAL, TranslationStatus.TRANSLATION}
    translated = [t for t in transcript.tokens if t.translation_status == "translation"]
    assert {t.language for t in translated} == {"es"}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"to": "german"}, "to"),
        ({"to": "de", "between": ("en", "es")}, "between"),
        ({"between": ("en", "en")}, "translation.language_b"),
        ({"source": "en"}, "to"),
    ],
)
def test_translate_refuses_bad_arguments_before_uploading(
    api: Api, emulator: Emulator, arguments: dict[str, Any], field: str
) -> None:
    """Bad translation arguments raise ClientValidationError; nothing is uploaded."""
    with pytest.raises(ClientValidationError) as caught:
        api(lambda c: c.stt.translate_and_wait(file=WAV, **arguments))
    assert caught.value.field == field
    assert emulator.journal.entries() == []


def test_a_bad_model_after_upload_shows_the_validation_error_and_removes_the_file(
    api: Api, emulator: Emulator
) -> None:
    """The server's 400 on create lists the field problem; the upload made for it is deleted."""
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.stt.transcribe_from_file(file=WAV, model="no-such-model"))
    assert "body.payload.model: Invalid model" in str(caught.value)
    assert leftovers(emulator) == (0, 0)


# --- delete_after: nothing leaks (issue point 6) -------------------------------------------------


def test_delete_after_leaves_nothing_on_success(api: Api, emulator: Emulator) -> None:
    """The transcript is returned, then job and file are gone."""
    transcript: TranscriptionTranscript = api(
        lambda c: c.stt.transcribe_and_wait_with_tokens(file=WAV, delete_after=True, poll=FAST_POLL)
    )
    assert transcript.tokens
    assert leftovers(emulator) == (0, 0)


def test_delete_after_leaves_nothing_on_a_failed_job(api: Api, emulator: Emulator) -> None:
    """A job ending in error is returned (as officially) and deleted with its file."""
    emulator.faults.inject("job_error", "/v1/transcriptions")
    job = api(lambda c: c.stt.transcribe_and_wait(file=WAV, delete_after=True, poll=FAST_POLL))
    assert (job.status, job.error_type) == ("error", "internal_error")
    assert leftovers(emulator) == (0, 0)


def test_without_delete_after_a_failed_job_is_kept(api: Api, emulator: Emulator) -> None:
    """delete_after=False keeps the failed job and its file, and returns the job."""
    emulator.faults.inject("job_error", "/v1/transcriptions")
    job = api(lambda c: c.stt.transcribe_and_wait(file=WAV, poll=FAST_POLL))
    assert job.status == "error"
    assert [t.id for t in emulator.app.rest.store.transcriptions()] == [job.id]
    assert leftovers(emulator) == (1, 1)


def test_a_failed_job_has_no_transcript_and_says_why(api: Api, emulator: Emulator) -> None:
    """…_with_tokens on a failed job raises TranscriptionFailedError carrying the API's 409
    (a ConflictError, as the official SDK surfaces) and the job's own error; delete_after
    still cleans up."""
    emulator.faults.inject("job_error", "/v1/transcriptions")
    with pytest.raises(TranscriptionFailedError) as caught:
        api(
            lambda c: c.stt.transcribe_and_wait_with_tokens(
                file=WAV, delete_after=True, poll=FAST_POLL
            )
        )
    assert (caught.value.status_code, caught.value.error_type) == (409, "internal_error")
    assert caught.value.api_error is not None
    assert caught.value.api_error.error_type == "transcription_invalid_state"
    assert leftovers(emulator) == (0, 0)


def test_delete_after_leaves_nothing_on_a_wait_timeout(mode: str, queued: Emulator) -> None:
    """A wait that times out raises WaitTimeoutError and still deletes job and file."""
    api = Api.for_emulator(mode, queued)
    with pytest.raises(WaitTimeoutError) as caught:
        api(
            lambda c: c.stt.transcribe_and_wait(
                file=WAV, delete_after=True, timeout=0.2, poll=FAST_POLL
            )
        )
    assert caught.value.transcription_id is not None
    assert leftovers(queued) == (0, 0)
    assert caught.value.left_on_server == ServerObjects()


def test_a_kept_job_is_named_in_left_on_server(mode: str, queued: Emulator) -> None:
    """Without delete_after, the error says exactly which job and file stay on the server."""
    api = Api.for_emulator(mode, queued)
    with pytest.raises(WaitTimeoutError) as caught:
        api(lambda c: c.stt.transcribe_and_wait(file=WAV, timeout=0.2, poll=FAST_POLL))
    left = caught.value.left_on_server
    assert left is not None
    stored = queued.app.rest.store
    assert left.transcription_ids == tuple(t.id for t in stored.transcriptions())
    assert left.file_ids == tuple(f.id for f in stored.files())
    assert len(left.transcription_ids) == len(left.file_ids) == 1


@pytest.mark.parametrize(
    ("status", "error"), [(429, RateLimitError), (500, ServerError)], ids=["429", "500"]
)
def test_delete_after_leaves_nothing_on_an_api_error_after_upload(
    api: Api, emulator: Emulator, status: int, error: type[Exception]
) -> None:
    """Create fails (retries off) after the upload: the error surfaces and the file is deleted."""
    emulator.faults.fail("/v1/transcriptions", method="POST", status=status)
    with pytest.raises(error):
        api(
            lambda c: c.with_options(max_retries=0).stt.transcribe_and_wait(
                file=WAV, delete_after=True, poll=FAST_POLL
            )
        )
    assert leftovers(emulator) == (0, 0)


def _interrupt(_: object) -> None:
    raise KeyboardInterrupt


def test_keyboard_interrupt_while_waiting_leaves_nothing(queued: Emulator) -> None:
    """Ctrl-C raised from on_status during the wait: job and file are deleted, Ctrl-C propagates."""
    api = Api.for_emulator("sync", queued)
    with pytest.raises(KeyboardInterrupt):
        api(
            lambda c: c.stt.transcribe_and_wait(
                file=WAV, delete_after=True, poll=FAST_POLL, on_status=_interrupt
            )
        )
    assert leftovers(queued) == (0, 0)
    assert len(queued.journal.entries(path="/v1/transcriptions", method="POST")) == 1


def test_keyboard_interrupt_during_the_upload_leaves_nothing(emulator: Emulator) -> None:
    """Ctrl-C raised from the progress callback mid-upload: no file is left and no job made."""

    def progress(sent: int, total: int | None) -> None:
        if 0 < sent < (total or 0):
            raise KeyboardInterrupt

    api = Api.for_emulator("sync", emulator)
    with pytest.raises(KeyboardInterrupt):
        api(
            lambda c: c.stt.transcribe_and_wait(
                file=LONG_WAV, delete_after=True, poll=FAST_POLL, progress=progress
            )
        )
    assert leftovers(emulator) == (0, 0)
    assert emulator.journal.entries(path="/v1/transcriptions", method="POST") == []
    uploads = emulator.journal.entries(path="/v1/files", method="POST")
    assert [e.request_bytes < len(LONG_WAV) for e in uploads] == [True]  # stopped mid-body


def test_cancelling_the_task_while_waiting_leaves_nothing(queued: Emulator) -> None:
    """asyncio cancellation mid-wait: CancelledError propagates after job and file are deleted."""
    config = Api.for_emulator("async", queued).config

    async def main() -> None:
        async with AsyncSonioxClient(config=config) as client:
            waiting = asyncio.Event()
            task = asyncio.ensure_future(
                client.stt.transcribe_and_wait(
                    file=WAV,
                    delete_after=True,
                    poll=FAST_POLL,
                    on_status=lambda job: waiting.set(),
                )
            )
            await waiting.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert leftovers(queued) == (0, 0)


def test_cancelling_the_task_during_the_upload_leaves_nothing(emulator: Emulator) -> None:
    """asyncio cancellation while the body is being sent: no file is left and no job made."""
    config = Api.for_emulator("async", emulator).config

    async def main() -> None:
        async with AsyncSonioxClient(config=config) as client:
            task: asyncio.Future[Transcription] | None = None

            def progress(sent: int, total: int | None) -> None:
                if 0 < sent < (total or 0) and task is not None:
                    task.cancel()

            task = asyncio.ensure_future(
                client.stt.transcribe_and_wait(
                    file=LONG_WAV, delete_after=True, poll=FAST_POLL, progress=progress
                )
            )
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert leftovers(emulator) == (0, 0)
    assert emulator.journal.entries(path="/v1/transcriptions", method="POST") == []
    uploads = emulator.journal.entries(path="/v1/files", method="POST")
    assert [e.request_bytes < len(LONG_WAV) for e in uploads] == [True]  # stopped mid-body


def test_cancelling_after_the_body_was_sent_still_finds_the_upload(emulator: Emulator) -> None:
    """asyncio cancellation after the whole body went out, before the server stored it: the
    late-stored file is found by its reference and deleted."""
    emulator.faults.inject("latency", "/v1/files", method="POST", delay_s=0.3)
    config = Api.for_emulator("async", emulator).config

    async def main() -> None:
        async with AsyncSonioxClient(config=config) as client:
            task = asyncio.ensure_future(
                client.stt.transcribe_and_wait(file=WAV, delete_after=True, poll=FAST_POLL)
            )
            await asyncio.sleep(0.1)  # the small body is sent; the server is still "storing"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    uploads = emulator.journal.entries(path="/v1/files", method="POST")
    assert [e.status for e in uploads] == [201]  # stored after the client stopped listening
    assert leftovers(emulator) == (0, 0)
    assert emulator.journal.entries(path="/v1/transcriptions", method="POST") == []


# --- transcribe_many ----------------------------------------------------------------------------


def write_sources(tmp_path: Path, count: int) -> list[Path]:
    paths = [tmp_path / f"item-{i}.wav" for i in range(count)]
    for path in paths:
        path.write_bytes(WAV)
    return paths


def test_transcribe_many_returns_results_in_order(api: Api, tmp_path: Path) -> None:
    """One completed result per source, in the order of the sources."""
    paths = write_sources(tmp_path, 4)
    results: list[BatchResult] = api(
        lambda c: c.stt.transcribe_many(paths, concurrency=2, poll=FAST_POLL)
    )
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.source for r in results] == [str(p) for p in paths]
    assert all(r.ok for r in results)
    jobs = [r.transcription for r in results if r.transcription is not None]
    assert [j.filename for j in jobs] == [p.name for p in paths]
    assert {j.status for j in jobs} == {TranscriptionStatus.COMPLETED}


def test_transcribe_many_with_tokens_returns_transcripts(api: Api) -> None:
    """with_tokens=True puts each item's transcript in its result."""
    results: list[BatchResult] = api(
        lambda c: c.stt.transcribe_many([WAV, WAV], with_tokens=True, poll=FAST_POLL)
    )
    assert all(isinstance(r.value, TranscriptionTranscript) and r.value.tokens for r in results)


def test_one_failing_item_does_not_sink_the_batch(
    api: Api, emulator: Emulator, tmp_path: Path
) -> None:
    """Missing path, failed job and bad model give typed errors; the other items complete."""
    good = write_sources(tmp_path, 1)[0]
    emulator.faults.inject("job_error", "/v1/transcriptions", nth=2)
    with serve_bytes(WAV) as url:
        sources: list[Any] = [
            good,
            tmp_path / "missing.wav",
            WAV,  # the second create: ends in error
            {"file": WAV, "model": "no-such-model"},
            url,
        ]
        results: list[BatchResult] = api(
            lambda c: c.stt.transcribe_many(sources, concurrency=1, poll=FAST_POLL)
        )
    kinds = [type(r.error) if r.error is not None else None for r in results]
    assert kinds == [
        None,
        SourceNotFoundError,  # also a FileNotFoundError
        TranscriptionFailedError,
        InvalidRequestError,
        None,
    ]
    assert "body.payload.model: Invalid model" in str(results[3].error)
    assert results[4].transcription is not None
    assert results[4].transcription.status == TranscriptionStatus.COMPLETED


def test_progress_is_called_once_per_item(api: Api) -> None:
    """progress(result, done, total) runs once per item, counting up to the total."""
    calls: list[tuple[int, int, int]] = []
    api(
        lambda c: c.stt.transcribe_many(
            [WAV] * 4,
            concurrency=2,
            poll=FAST_POLL,
            progress=lambda r, done, total: calls.append((r.index, done, total)),
        )
    )
    assert sorted(index for index, _, _ in calls) == [0, 1, 2, 3]
    assert [(done, total) for _, done, total in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_concurrency_is_bounded(api: Api, emulator: Emulator) -> None:
    """With concurrency=3, exactly three slowed-down uploads are ever in progress at once."""
    emulator.faults.inject("latency", "/v1/files", method="POST", delay_s=0.2, times=None)
    results: list[BatchResult] = api(
        lambda c: c.stt.transcribe_many([WAV] * 6, concurrency=3, poll=FAST_POLL)
    )
    assert all(r.ok for r in results)
    uploads = emulator.journal.entries(path="/v1/files", method="POST")
    assert len(uploads) == 6
    assert max_overlap(uploads) == 3


def test_transcribe_many_with_delete_after_leaves_nothing(
    api: Api, emulator: Emulator, tmp_path: Path
) -> None:
    """delete_after=True removes every job and file, failed items' included."""
    emulator.faults.inject("job_error", "/v1/transcriptions", nth=2)
    results: list[BatchResult] = api(
        lambda c: c.stt.transcribe_many(
            [WAV, WAV, WAV, tmp_path / "missing.wav"],
            concurrency=2,
            delete_after=True,
            poll=FAST_POLL,
        )
    )
    assert sum(isinstance(r.error, TranscriptionFailedError) for r in results) == 1
    assert isinstance(results[3].error, FileNotFoundError)
    assert leftovers(emulator) == (0, 0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.stt.transcribe_many([WAV], concurrency=0), "concurrency"),
        (lambda c: c.stt.transcribe_many("a.wav"), "sources"),
    ],
    ids=["concurrency", "one string"],
)
def test_transcribe_many_refuses_bad_arguments(
    api: Api, emulator: Emulator, call: Any, field: str
) -> None:
    """A bad batch argument raises ClientValidationError before anything is sent."""
    with pytest.raises(ClientValidationError) as caught:
        api(call)
    assert caught.value.field == field
    assert emulator.journal.entries() == []


def test_a_bad_batch_item_is_that_items_error(api: Api, emulator: Emulator) -> None:
    """An item with an unknown key fails alone with ClientValidationError; nothing is uploaded."""
    results: list[BatchResult] = api(
        lambda c: c.stt.transcribe_many([{"file": WAV, "speakers": 2}], poll=FAST_POLL)
    )
    assert isinstance(results[0].error, ClientValidationError)
    assert results[0].error.field == "speakers"
    assert emulator.journal.entries() == []


def test_keyboard_interrupt_in_a_batch_leaves_nothing(emulator: Emulator) -> None:
    """Ctrl-C from progress stops the batch; items in flight clean up; nothing leaks."""
    api = Api.for_emulator("sync", emulator)

    def progress(result: BatchResult, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api(
            lambda c: c.stt.transcribe_many(
                [WAV] * 6, concurrency=3, delete_after=True, poll=FAST_POLL, progress=progress
            )
        )
    assert leftovers(emulator) == (0, 0)


def test_cancelling_a_batch_leaves_nothing(queued: Emulator) -> None:
    """Cancelling an async batch mid-wait deletes the jobs and files of the items in flight."""
    config = Api.for_emulator("async", queued).config

    async def main() -> None:
        async with AsyncSonioxClient(config=config) as client:
            task = asyncio.ensure_future(
                client.stt.transcribe_many(
                    [WAV] * 4, concurrency=2, delete_after=True, poll=FAST_POLL
                )
            )
            while len(queued.app.rest.store.transcriptions()) < 2:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert leftovers(queued) == (0, 0)
