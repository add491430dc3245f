"""The transcribe workflow: upload → create → wait → transcript → clean-up, as one flow.

:func:`transcribe_flow` is what every ``transcribe*`` / ``translate*`` helper of both clients runs.
Its clean-up guarantees (tested against the emulator, sync and async):

- every argument is checked *before* anything is uploaded;
- a file this flow uploaded is deleted if no job was created from it — whatever went wrong,
  including KeyboardInterrupt or task cancellation in the middle of the upload (the file is then
  found by its ``client_reference_id``);
- with ``delete_after=True`` the job and its file are deleted when the flow ends — on success,
  on a failed job, on a wait timeout, on KeyboardInterrupt and on cancellation. A job that is
  still ``processing`` cannot be deleted, so clean-up waits for it to end first (at most
  :data:`CLEANUP_WAIT_S`);
- with ``delete_after=False`` a job that exists is kept, and the error says which one (its id is
  on WaitTimeoutError / TranscriptionFailedError, and in a note on every other exception);
- an SDK error says exactly what stays on the server in ``error.left_on_server``
  (:class:`~soniox.errors.ServerObjects`: job and file ids; empty when nothing does). When the
  create's outcome is unknown (:class:`~soniox.errors.OutcomeUnknownError`) the uploaded file is
  kept, since the job may exist and need it.

Clean-up I/O runs :func:`~soniox.flows.effects.shielded`: under asyncio a second cancellation
cannot cut it short. Errors during clean-up never hide the original error (they are logged and
added to it as a note).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from soniox.errors import (
    ConflictError,
    OutcomeUnknownError,
    ServerObjects,
    SonioxError,
    WaitTimeoutError,
)
from soniox.middleware import Flow, get_clock, sleep
from soniox.types import File, Transcription, TranscriptionStatus, TranscriptionTranscript

from .effects import shielded
from .files import delete_file_flow, find_files_flow, upload_flow
from .payload import build_payload, check_one_source
from .pending import pending_quota_of
from .polling import PollingPolicy
from .protocol import ApiClient
from .reconcile import persist_flow
from .transcriptions import (
    StatusCallback,
    call_deadline,
    create_flow,
    delete_flow,
    failed_transcript_flow,
    find_by_reference_flow,
    get_transcript_flow,
    new_reference,
    wait_flow,
)
from .uploads import ProgressCallback, UploadSource

__all__ = [
    "CLEANUP_DEADLINE_S",
    "CLEANUP_WAIT_S",
    "TranscribeOutcome",
    "transcribe_flow",
    "cleanup_flow",
]

log = logging.getLogger("soniox.stt")

CLEANUP_DEADLINE_S: Final = 30.0
"""Budget of each clean-up request (retries included), whatever the client's deadline."""
CLEANUP_WAIT_S: Final = 120.0
"""How long clean-up waits for a ``processing`` job to end before it can be deleted."""
_PENDING_FILE_ID: Final = "pending-upload"
INTERRUPTED_LOOKUPS_S: Final = (0.0, 0.5, 1.5)
"""When an interrupted upload or create is looked for (seconds after the interruption): a body
sent whole may be stored a moment after the client stopped listening for the answer."""


@attrs.frozen
class TranscribeOutcome:
    """What the workflow produced: the job (finished when waited for) and, if asked, its
    transcript."""

    transcription: Transcription
    transcript: TranscriptionTranscript | None = None


@attrs.define
class _Progress:
    """How far the workflow got: what exists on the server and must not leak."""

    reference: str
    generated_reference: bool
    upload_started: float | None = None
    """Unix time the upload began (the file may be stored even though no answer arrived)."""
    uploaded: File | None = None
    create_started: float | None = None
    """Unix time the create began (its job may exist even though no answer arrived)."""
    job: Transcription | None = None


def _find_uploads(client: ApiClient, reference: str, since: float) -> Flow[list[str]]:
    found = yield from find_files_flow(client, reference, since=since)
    return [stored.id for stored in found]


def _look_again(find: Callable[[], Flow[list[str]]]) -> Flow[list[str]]:
    """Ids ``find`` reports, asked again at :data:`INTERRUPTED_LOOKUPS_S` until one is found."""
    waited = 0.0
    for at in INTERRUPTED_LOOKUPS_S:
        if at > waited:
            yield from sleep(at - waited)
            waited = at
        found = yield from find()
        if found:
            return found
    return []


def _find_jobs(client: ApiClient, reference: str, since: float) -> Flow[list[str]]:
    found = yield from find_by_reference_flow(client, reference, since=since)
    return [job.id for job in found]


def _delete_job(client: ApiClient, transcription_id: str) -> Flow[None]:
    """Delete a job, waiting first for a ``processing`` one to end (it cannot be deleted)."""
    try:
        yield from delete_flow(client, transcription_id, missing_ok=True)
        return
    except ConflictError:
        log.info(
            "transcription %s is processing; waiting for it to end to delete it", transcription_id
        )
    yield from wait_flow(client, transcription_id, timeout=CLEANUP_WAIT_S, raise_on_error=False)
    yield from delete_flow(client, transcription_id, missing_ok=True)


def cleanup_flow(
    client: ApiClient, *, transcription_ids: tuple[str, ...], file_ids: tuple[str, ...]
) -> Flow[None]:
    """Delete the files (first: always possible) and then the jobs; every step is attempted
    even if an earlier one fails — each one persistently, through transient failures, for up to
    :data:`CLEANUP_DEADLINE_S` in all — and the first failure is raised at the end."""
    view = client.with_options(deadline=CLEANUP_DEADLINE_S)
    clock = yield from get_clock()
    deadline = clock.now() + CLEANUP_DEADLINE_S
    first: Exception | None = None
    for file_id in file_ids:
        try:
            delete = functools.partial(delete_file_flow, view, file_id, missing_ok=True)
            yield from persist_flow(delete, deadline=deadline)
        except Exception as exc:
            first = first or exc
    for transcription_id in transcription_ids:
        try:
            yield from persist_flow(
                functools.partial(_delete_job, view, transcription_id), deadline=deadline
            )
        except Exception as exc:
            first = first or exc
    if first is not None:
        raise first


def _after_failure(
    client: ApiClient, state: _Progress, delete_after: bool, error: BaseException
) -> Flow[None]:
    """Clean up after ``error``; never raises an Exception (problems become notes on ``error``).

    An SDK error also gets ``left_on_server``: exactly what stays on the server afterwards."""
    job = state.job
    file_ids: list[str] = []
    kept_files: list[str] = []
    create_unknown = isinstance(error, OutcomeUnknownError) and error.operation == "stt.create"
    if state.uploaded is not None:
        if create_unknown:
            # The job may exist and be reading this file: keep it; the error says how to check.
            kept_files.append(state.uploaded.id)
            error.add_note(
                f"file {state.uploaded.id} is kept: the transcription created from it may exist"
            )
        elif job is None or delete_after:
            file_ids.append(state.uploaded.id)
        else:
            kept_files.append(state.uploaded.id)
    elif state.upload_started is not None and not isinstance(error, Exception):
        # Interrupted mid-upload: the server may have stored the file anyway.
        try:
            reference, since = state.reference, state.upload_started
            found = yield from shielded(
                _look_again(lambda: _find_uploads(client, reference, since))
            )
        except Exception as exc:
            found = []
            error.add_note(f"could not check for a stored upload ({type(exc).__name__}: {exc})")
        file_ids.extend(found)
    if job is not None and delete_after and job.file_id and job.file_id not in file_ids:
        file_ids.append(job.file_id)
    doomed = job.id if (job is not None and delete_after) else None
    orphans: list[str] = []
    if job is None and state.create_started is not None and not isinstance(error, Exception):
        # Interrupted mid-create: the job may exist, and the caller never got its id.
        if state.generated_reference:
            try:
                reference, since = state.reference, state.create_started
                orphans = yield from shielded(
                    _look_again(lambda: _find_jobs(client, reference, since))
                )
            except Exception as exc:
                error.add_note(f"could not check for a created job ({type(exc).__name__}: {exc})")
        else:
            error.add_note(
                "interrupted while creating the transcription: it may exist; look for "
                f"client_reference_id={state.reference!r} in stt.list()"
            )
    kept_jobs = [job.id] if job is not None and not delete_after else []
    doomed_jobs = [doomed, *orphans] if doomed else orphans
    if file_ids or doomed_jobs:
        try:
            yield from shielded(
                cleanup_flow(client, transcription_ids=tuple(doomed_jobs), file_ids=tuple(file_ids))
            )
        except Exception as exc:
            log.warning("clean-up after %s failed: %s", type(error).__name__, exc)
            error.add_note(
                f"clean-up failed ({type(exc).__name__}: {exc}); left behind: "
                f"transcriptions={doomed_jobs}, files={file_ids}"
            )
            kept_jobs += doomed_jobs
            kept_files += file_ids
        else:
            error.add_note(f"cleaned up: deleted transcriptions={doomed_jobs}, files={file_ids}")
    if isinstance(error, SonioxError):
        error.left_on_server = ServerObjects(tuple(kept_jobs), tuple(kept_files))
    if job is not None and not delete_after and not isinstance(error, WaitTimeoutError):
        error.add_note(
            f"transcription {job.id} was created and is kept (delete_after=False); remove it "
            f"with stt.destroy({job.id!r})"
        )


def transcribe_flow(
    client: ApiClient,
    *,
    model: str,
    file: UploadSource | None = None,
    file_id: str | None = None,
    audio_url: str | None = None,
    filename: str | None = None,
    client_reference_id: str | None = None,
    options: Mapping[str, Any] | None = None,
    wait: bool = False,
    fetch_transcript: bool = False,
    delete_after: bool = False,
    timeout: float | None = None,
    policy: PollingPolicy | None = None,
    progress: ProgressCallback | None = None,
    on_status: StatusCallback | None = None,
    raise_on_error: bool = True,
) -> Flow[TranscribeOutcome]:
    """Upload ``file`` (or use ``file_id`` / ``audio_url``), create the job, and — with
    ``wait`` — wait for it, fetch its transcript (``fetch_transcript``) and delete job and file
    (``delete_after``). A job that ends in ``error`` raises TranscriptionFailedError, unless
    ``raise_on_error`` is False and no transcript is asked for: then it is the outcome (the
    official SDK's ``transcribe_and_wait``). See the module docs for the clean-up guarantees."""
    check_one_source(file=file, file_id=file_id, audio_url=audio_url)
    reference = client_reference_id if client_reference_id is not None else new_reference()
    payload = build_payload(
        model=model,
        file_id=_PENDING_FILE_ID if file is not None else file_id,
        audio_url=audio_url,
        client_reference_id=reference,
        options=options or {},
    )
    if (fetch_transcript or delete_after) and not wait:
        wait = True
    state = _Progress(reference, client_reference_id is None)
    transcript: TranscriptionTranscript | None = None
    quota = pending_quota_of(client)
    leased = False
    try:
        if file is not None:
            clock = yield from get_clock()
            state.upload_started = clock.wall()
            state.uploaded = yield from upload_flow(
                client,
                file,
                filename=filename,
                client_reference_id=reference,
                progress=progress,
            )
            payload = attrs.evolve(payload, file_id=state.uploaded.id)
        clock = yield from get_clock()
        if quota is not None:  # a slot among the key's pending transcriptions, first
            yield from quota.acquire(reference, call_deadline(client))
            leased = True
        state.create_started = clock.wall()
        state.job = yield from create_flow(client, payload)
        if wait:
            state.job = yield from wait_flow(
                client,
                state.job.id,
                timeout=timeout,
                policy=policy,
                initial=state.job,
                on_status=on_status,
                raise_on_error=raise_on_error and not fetch_transcript,
                after_poll=None if quota is None else quota.keeper(reference),
            )
        if fetch_transcript:
            if state.job.status == TranscriptionStatus.ERROR:
                transcript = yield from failed_transcript_flow(client, state.job)
            else:
                transcript = yield from get_transcript_flow(client, state.job.id)
    except GeneratorExit:
        raise  # closed without being driven: no I/O is possible here
    except BaseException as error:
        if leased and quota is not None:
            yield from shielded(quota.release(reference))
        yield from _after_failure(client, state, delete_after, error)
        raise
    job = state.job
    if delete_after:
        try:
            yield from shielded(
                cleanup_flow(
                    client,
                    transcription_ids=(job.id,),
                    file_ids=(job.file_id,) if job.file_id else (),
                )
            )
        except Exception as exc:
            exc.add_note(f"transcription {job.id} completed, but deleting it (delete_after) failed")
            raise
    return TranscribeOutcome(job, transcript)
