"""The async transcription lifecycle: ``queued`` -> ``processing`` -> ``completed`` | ``error``.

Each job is one asyncio task. While the job is ``queued`` (at least ``queue_delay_s``) its audio
is obtained (an uploaded file was already linked into the job's private storage when the job was
created; an ``audio_url`` is really fetched with httpx, ``audio_url_timeout_s`` per operation)
and recognized by the engine off the event loop: in a worker thread, or — for an engine whose
decoder holds the GIL (pocketsphinx) — in a child process that is killed when the job is
deleted or the emulator stops (``engines/file_worker.py``). The job then stays ``processing`` for
``max(min_processing_s, audio_seconds / processing_speed)`` with ``audio_duration_ms`` set, and
ends ``completed`` (transcript stored, usage recorded) or ``error``. A webhook is sent when it
ends, if the client asked for one.

Failure ``error_type`` values chosen by the emulator (the API documents none for jobs):
``audio_download_failed`` (the URL could not be fetched), ``audio_decode_failed`` (the engine
could not understand the audio), ``internal_error`` (an engine bug), or whatever a ``job_error``
fault specifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from pathlib import Path

import attrs
import httpx

from .catalog import resolve_async_model
from .config import EmulatorConfig
from .engines.base import AudioDecodeError, FileTranscript, RecognitionEngine, RecognitionOptions
from .engines.file_worker import WorkerStopped, isolates_file_jobs, transcribe_file_isolated
from .errors import DEFAULT_MESSAGES
from .store import StoredTranscription, TranscriptionStatus
from .timefmt import utc_now
from .usage import UsageLedger
from .webhooks import WebhookDelivery, WebhookSender

__all__ = ["AudioFetchFailed", "JobFailure", "JobRunner", "copy_into_job"]

log = logging.getLogger("soniox.emulator.jobs")

_JOB_ERROR_MESSAGE = "The transcription failed. Please try again."


@attrs.frozen
class JobFailure:
    """Why a job ends in ``error`` (both strings end up on the ``Transcription``)."""

    error_type: str
    message: str

    @classmethod
    def injected(cls, error_type: str | None, message: str | None) -> JobFailure:
        """The failure a ``job_error`` fault asks for, with sensible defaults."""
        kind = error_type or "internal_error"
        return cls(kind, message or DEFAULT_MESSAGES.get(kind, _JOB_ERROR_MESSAGE))


class AudioFetchFailed(Exception):
    """``audio_url`` could not be downloaded; the message is shown to the API user."""


def copy_into_job(source: Path, destination: Path) -> None:
    """Give a job its own reference to an uploaded file (a hard link, else a copy), so
    deleting the file afterwards does not break the job."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


class JobRunner:
    """Runs and cancels job tasks; owns the HTTP client used to fetch ``audio_url``."""

    def __init__(
        self,
        *,
        config: EmulatorConfig,
        engine: RecognitionEngine,
        usage: UsageLedger,
        webhooks: WebhookSender,
        jobs_dir: Path,
    ) -> None:
        self._config = config
        self._engine = engine
        self._usage = usage
        self._webhooks = webhooks
        self.jobs_dir = jobs_dir
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"JobRunner({len(self._tasks)} running, engine={self._engine.name!r})"

    def audio_path(self, transcription_id: str) -> Path:
        return self.jobs_dir / f"{transcription_id}.audio"

    def start(self, record: StoredTranscription, injected: JobFailure | None = None) -> None:
        task = asyncio.get_running_loop().create_task(
            self._guarded(record, injected), name=f"soniox-emulator-job-{record.id}"
        )
        self._tasks[record.id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tasks.get(record.id) is done:
                del self._tasks[record.id]

        task.add_done_callback(forget)

    def cancel(self, record: StoredTranscription) -> None:
        """Stop a job (it is being deleted) and drop its audio."""
        task = self._tasks.pop(record.id, None)
        if task is not None:
            task.cancel()
        self._discard_audio(record)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        # Cancelled jobs never reach their own clean-up; nothing else uses these copies.
        if self.jobs_dir.is_dir():
            for leftover in self.jobs_dir.glob("*.audio"):
                self._unlink(leftover)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # The lifecycle -----------------------------------------------------------------------------
    async def _guarded(self, record: StoredTranscription, injected: JobFailure | None) -> None:
        try:
            await self._run(record, injected)
        except Exception:
            # A bug here must not leave the job stuck in a non-terminal state.
            log.exception("job %s crashed", record.id)
            if not record.is_terminal:
                record.error_type = "internal_error"
                record.error_message = DEFAULT_MESSAGES["internal_error"]
                record.status = TranscriptionStatus.ERROR
                record.finished_at = utc_now()
                self._discard_audio(record)

    async def _run(self, record: StoredTranscription, injected: JobFailure | None) -> None:
        loop = asyncio.get_running_loop()
        queued_until = loop.time() + self._config.queue_delay_s
        transcript: FileTranscript | None = None
        failure: JobFailure | None = None
        try:
            transcript = await self._recognize(record)
        except AudioFetchFailed as exc:
            failure = JobFailure("audio_download_failed", str(exc))
        except AudioDecodeError as exc:
            failure = JobFailure("audio_decode_failed", str(exc) or "Audio could not be decoded.")
        except WorkerStopped as exc:  # Ctrl-C at the terminal, killed, crashed: one line
            log.warning("transcription %s: %s", record.id, exc)
            failure = JobFailure("internal_error", DEFAULT_MESSAGES["internal_error"])
        except Exception:
            log.exception("engine failed on transcription %s", record.id)
            failure = JobFailure("internal_error", DEFAULT_MESSAGES["internal_error"])
        await asyncio.sleep(max(0.0, queued_until - loop.time()))

        record.status = TranscriptionStatus.PROCESSING
        record.processing_started_at = utc_now()
        record.audio_duration_ms = transcript.audio_duration_ms if transcript is not None else 0
        processing_s = self._config.min_processing_s
        if transcript is not None:
            audio_s = transcript.audio_duration_ms / 1000
            processing_s = max(processing_s, audio_s / self._config.processing_speed)
        await asyncio.sleep(processing_s)

        failure = injected or failure
        record.finished_at = utc_now()
        if failure is None and transcript is not None:
            record.tokens = list(transcript.tokens)
            record.text = transcript.text
            record.status = TranscriptionStatus.COMPLETED
            self._record_usage(record, transcript)
        else:
            failure = failure or JobFailure("internal_error", DEFAULT_MESSAGES["internal_error"])
            record.error_type = failure.error_type
            record.error_message = failure.message
            record.status = TranscriptionStatus.ERROR
        self._discard_audio(record)
        self._notify(record)

    async def _recognize(self, record: StoredTranscription) -> FileTranscript:
        if record.audio_path is None:
            if record.audio_url is None:
                raise AudioFetchFailed("The transcription has no audio.")
            destination = self.audio_path(record.id)
            await self._fetch(record.audio_url, destination)
            record.audio_path = destination
        model = resolve_async_model(record.model)
        options = RecognitionOptions(
            model=model.id if model is not None else record.model,
            language_hints=record.language_hints or (),
            enable_speaker_diarization=record.enable_speaker_diarization,
            enable_language_identification=record.enable_language_identification,
            translation=record.translation,
        )
        if isolates_file_jobs(self._engine):
            # Its decoder holds the GIL for seconds at a time: in this process it would freeze
            # the event loop (and a thread-mode host). A child process is killed on cancel.
            return await transcribe_file_isolated(self._engine.name, record.audio_path, options)
        return await asyncio.to_thread(self._engine.transcribe_file, record.audio_path, options)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._config.audio_url_timeout_s,
                follow_redirects=True,
                trust_env=False,
                headers={"user-agent": "soniox-emulator-fetch"},
            )
        return self._client

    async def _fetch(self, url: str, destination: Path) -> None:
        limit = self._config.max_upload_bytes
        try:
            async with self._http().stream("GET", url) as response:
                if not response.is_success:
                    raise AudioFetchFailed(
                        f"Failed to download audio from URL (HTTP {response.status_code})."
                    )
                size = 0
                with destination.open("wb") as sink:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise AudioFetchFailed(
                                "Audio at URL exceeds maximum file size "
                                f"(maximum is {limit} bytes)."
                            )
                        sink.write(chunk)
        except AudioFetchFailed:
            self._unlink(destination)
            raise
        except httpx.TimeoutException:
            self._unlink(destination)
            raise AudioFetchFailed(
                "Failed to download audio from URL "
                f"(timed out after {self._config.audio_url_timeout_s:g} s)."
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            self._unlink(destination)
            raise AudioFetchFailed(
                f"Failed to download audio from URL ({type(exc).__name__})."
            ) from None

    # Endings -----------------------------------------------------------------------------------
    def _record_usage(self, record: StoredTranscription, transcript: FileTranscript) -> None:
        model = resolve_async_model(record.model)
        self._usage.record(
            model=model.id if model is not None else record.model,
            mode="async",
            start_time=record.processing_started_at or record.created_at,
            end_time=record.finished_at or utc_now(),
            input_audio_duration_ms=transcript.audio_duration_ms,
            output_text_tokens=len(transcript.tokens),
            client_reference_id=record.client_reference_id,
        )

    def _notify(self, record: StoredTranscription) -> None:
        if record.webhook_url is None:
            return

        def remember(status_code: int) -> None:
            record.webhook_status_code = status_code

        self._webhooks.dispatch(
            WebhookDelivery(
                transcription_id=record.id,
                status=record.status,
                url=record.webhook_url,
                header_name=record.webhook_auth_header_name,
                header_value=record.webhook_auth_header_value,
            ),
            remember,
        )

    def _discard_audio(self, record: StoredTranscription) -> None:
        # The canonical path too: a cancelled download may have left a partial file there.
        self._unlink(self.audio_path(record.id))
        if record.audio_path is not None:
            self._unlink(record.audio_path)
            record.audio_path = None

    @staticmethod
    def _unlink(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
