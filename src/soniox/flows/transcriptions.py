"""Flows for ``/v1/transcriptions``: one implementation of every job operation, sync and async.

Two of them are more than one request:

- :func:`create_flow` makes ``POST /transcriptions`` *exactly once*. The call is not idempotent:
  when its answer is lost (:class:`~soniox.errors.ResponseLostError`) or it failed with a 5xx, the
  job may exist anyway. So every create carries a ``client_reference_id`` (``sdk-<uuid4>`` when
  the caller gave none); before sending again the flow lists the recent jobs and adopts the one
  with that reference. Only when there is none does it send again (up to the client's
  ``max_retries``, with backoff), and if a resend still raced an earlier attempt, the duplicate
  is deleted and the oldest job kept.
- :func:`wait_flow` polls with a :class:`~soniox.flows.polling.PollingPolicy` until the job is
  ``completed`` (returned) or ``error`` (:class:`~soniox.errors.TranscriptionFailedError`), or
  the wait's deadline passes (:class:`~soniox.errors.WaitTimeoutError`).
"""

from __future__ import annotations

import itertools
import logging
import random
import uuid
from collections.abc import Callable
from typing import Final, cast

import attrs

from soniox.errors import (
    ClientValidationError,
    ConflictError,
    DeadlineExceededError,
    NotFoundError,
    OutcomeUnknownError,
    ResponseLostError,
    ServerError,
    TranscriptionFailedError,
    WaitTimeoutError,
)
from soniox.middleware import Backoff, Flow, get_clock, sleep
from soniox.transport.request import Request
from soniox.types import (
    CreateTranscriptionPayload,
    GetTranscriptionsCountResponse,
    GetTranscriptionsResponse,
    Transcription,
    TranscriptionStatus,
    TranscriptionTranscript,
    loads,
)

from .checks import id_path
from .deletion import delete_resource_flow
from .files import delete_file_flow
from .pages import Listing, PageFlow, all_items_flow, list_page_flow, page_walker
from .pending import pending_quota_of
from .polling import (
    Phase,
    PollingPolicy,
    PollState,
    ProcessingRates,
    processing_rates,
)
from .protocol import ApiClient
from .reconcile import look_up_flow

__all__ = [
    "RECONCILE_SLACK_S",
    "StatusCallback",
    "count_flow",
    "create_flow",
    "failed_error",
    "failed_transcript_flow",
    "delete_all_flow",
    "delete_flow",
    "destroy_all_flow",
    "destroy_flow",
    "find_by_reference_flow",
    "get_flow",
    "get_transcript_flow",
    "list_flow",
    "page_flow",
    "wait_flow",
    "new_reference",
]

log = logging.getLogger("soniox.stt")

RECONCILE_SLACK_S: Final = 300.0
"""How far a job's ``created_at`` may precede the create's start (clock skew) and still be
adopted as this create's job."""
_RECONCILE_PAGE: Final = 100
TRANSCRIPTIONS: Final = Listing(
    "/transcriptions", GetTranscriptionsResponse, lambda page: page.transcriptions, "stt.list"
)
"""``GET /transcriptions``, newest first."""
_RECONCILE: Final = attrs.evolve(TRANSCRIPTIONS, operation="stt.create.reconcile")
_RNG = random.Random()

StatusCallback = Callable[[Transcription], None]
"""Called with the job after every status poll of a wait (progress displays)."""


def new_reference() -> str:
    """A fresh ``client_reference_id`` (``sdk-<uuid4>``) to reconcile a lost create with."""
    return f"sdk-{uuid.uuid4()}"


def _path(transcription_id: str) -> str:
    return id_path("/transcriptions", transcription_id, "transcription_id")


# --- single requests ---------------------------------------------------------------------------


def get_flow(
    client: ApiClient, transcription_id: str, *, missing_ok: bool = False
) -> Flow[Transcription | None]:
    """``GET /transcriptions/{id}``; with ``missing_ok`` a 404 gives None."""
    path = _path(transcription_id)
    try:
        response = yield from client.request_flow("GET", path, operation="stt.get")
    except NotFoundError:
        if missing_ok:
            return None
        raise
    return loads(response.content, Transcription)


def list_flow(
    client: ApiClient, limit: int = 100, cursor: str | None = None
) -> Flow[GetTranscriptionsResponse]:
    """``GET /transcriptions``: one page (``limit`` 1..1000) and the next cursor."""
    return (yield from list_page_flow(client, TRANSCRIPTIONS, limit=limit, cursor=cursor))


def page_flow(client: ApiClient, limit: int = 100) -> PageFlow[Transcription]:
    """The page flow that ``list_all`` walks."""
    return page_walker(client, TRANSCRIPTIONS, limit=limit)


def count_flow(client: ApiClient) -> Flow[GetTranscriptionsCountResponse]:
    """``GET /transcriptions/count``."""
    response = yield from client.request_flow("GET", "/transcriptions/count", operation="stt.count")
    return loads(response.content, GetTranscriptionsCountResponse)


def delete_flow(
    client: ApiClient, transcription_id: str, *, missing_ok: bool = False
) -> Flow[bool]:
    """``DELETE /transcriptions/{id}``: True once gone; False if already missing and
    ``missing_ok``. A job still ``processing`` cannot be deleted (ConflictError).

    A 404 on a *retried* attempt means an earlier attempt deleted it and its answer was lost.
    """
    return (
        yield from delete_resource_flow(
            client, _path(transcription_id), operation="stt.delete", missing_ok=missing_ok
        )
    )


def get_transcript_flow(client: ApiClient, transcription_id: str) -> Flow[TranscriptionTranscript]:
    """``GET /transcriptions/{id}/transcript``, decoded straight from the bytes (msgspec tokens).
    ConflictError until the job is ``completed``."""
    response = yield from client.request_flow(
        "GET", _path(transcription_id) + "/transcript", operation="stt.get_transcript"
    )
    return loads(response.content, TranscriptionTranscript)


def delete_all_flow(client: ApiClient, limit: int = 1000) -> Flow[int]:
    """Delete every job; returns how many this call deleted. Jobs are listed first, then
    deleted (the cursor walk is never disturbed); a ``processing`` job stops it with
    ConflictError, as in the official SDK."""
    deleted = 0
    for job in (yield from all_items_flow(page_flow(client, limit))):
        if (yield from delete_flow(client, job.id, missing_ok=True)):
            deleted += 1
    return deleted


def destroy_flow(client: ApiClient, transcription_id: str) -> Flow[None]:
    """Delete a job and the uploaded file it was made from (if any, and if still there)."""
    job = yield from get_flow(client, transcription_id)
    assert job is not None
    yield from delete_flow(client, transcription_id)
    if job.file_id:
        yield from delete_file_flow(client, job.file_id, missing_ok=True)


def destroy_all_flow(client: ApiClient, limit: int = 1000) -> Flow[int]:
    """:func:`destroy_flow` for every job; returns how many jobs were deleted."""
    deleted = 0
    for job in (yield from all_items_flow(page_flow(client, limit))):
        if (yield from delete_flow(client, job.id, missing_ok=True)):
            deleted += 1
        if job.file_id:
            yield from delete_file_flow(client, job.file_id, missing_ok=True)
    return deleted


# --- create, exactly once ------------------------------------------------------------------------


def _with_deadline(request: Request, deadline: float | None) -> Request:
    if deadline is None:
        return request
    current = request.options.deadline
    if current is not None and current <= deadline:
        return request
    return request.evolve(options=attrs.evolve(request.options, deadline=deadline))


def find_by_reference_flow(
    client: ApiClient,
    reference: str,
    *,
    since: float,
    deadline: float | None = None,
) -> Flow[list[Transcription]]:
    """Jobs carrying ``reference`` created after ``since`` (Unix time, minus the skew slack),
    oldest first. Walks the listing newest first and stops at the first page that reaches
    older jobs (a listing in another order is walked to its end)."""
    cutoff = since - RECONCILE_SLACK_S
    found: list[Transcription] = []
    pages = page_walker(client, _RECONCILE, limit=_RECONCILE_PAGE, deadline=deadline)
    cursor: str | None = None
    while True:
        page = yield from pages(cursor)
        stamps = [job.created_at.timestamp() for job in page.items]
        found.extend(
            job
            for job, stamp in zip(page.items, stamps, strict=True)
            if job.client_reference_id == reference and stamp >= cutoff
        )
        newest_first = all(a >= b for a, b in itertools.pairwise(stamps))
        cursor = page.next_page_cursor
        if not cursor or (newest_first and stamps and stamps[-1] < cutoff):
            found.sort(key=lambda job: job.created_at)
            return found


def _keep_oldest(
    client: ApiClient, candidates: list[Transcription], deadline: float | None
) -> Flow[Transcription]:
    """Adopt the oldest of jobs sharing one reference; delete the rest (duplicates a resend
    created while an earlier attempt was still being processed)."""
    keep = candidates[0]
    for extra in candidates[1:]:
        try:
            yield from delete_flow(client, extra.id, missing_ok=True)
            log.warning("deleted duplicate transcription %s (kept %s)", extra.id, keep.id)
        except ConflictError:
            log.warning(
                "duplicate transcription %s is processing and could not be deleted", extra.id
            )
    return keep


def _look_up(
    client: ApiClient, reference: str, since: float, deadline: float | None
) -> Flow[list[Transcription]]:
    """The jobs a create with ``reference`` made, asked until the listing answers (see
    :func:`~soniox.flows.reconcile.look_up_flow`): OutcomeUnknownError if it never does."""
    return (
        yield from look_up_flow(
            lambda: find_by_reference_flow(client, reference, since=since, deadline=deadline),
            deadline=deadline,
            operation="stt.create",
            client_reference_id=reference,
            recovery=f"stt.list_all() (look for client_reference_id={reference!r})",
        )
    )


def create_flow(client: ApiClient, payload: CreateTranscriptionPayload) -> Flow[Transcription]:
    """``POST /transcriptions`` exactly once (see the module docs)."""
    reference = payload.client_reference_id
    if reference is None:
        reference = new_reference()
        payload = attrs.evolve(payload, client_reference_id=reference)
    clock = yield from get_clock()
    started = clock.wall()
    request = client.build_request("POST", "/transcriptions", json=payload, operation="stt.create")
    deadline = request.options.deadline
    limit = request.options.max_retries
    resends = client.config.max_retries if limit is None else limit
    backoff = Backoff(
        client.config.backoff_base, client.config.backoff_factor, client.config.backoff_cap
    )
    resent = 0
    while True:
        try:
            response = yield from client.call(request)
        except (ResponseLostError, ServerError) as failure:
            # The job may exist: give a slow server a moment, then look before resending.
            delay = backoff.delay(resent, _RNG)
            if deadline is not None and clock.now() + delay >= deadline:
                delay = 0.0
            yield from sleep(delay)
            found = yield from _look_up(client, reference, started, deadline)
            if found:
                log.info(
                    "create's answer was lost (%s); adopted transcription %s by "
                    "client_reference_id",
                    type(failure).__name__,
                    found[0].id,
                )
                return (yield from _keep_oldest(client, found, deadline))
            if resent >= resends or (deadline is not None and clock.now() >= deadline):
                failure.add_note(
                    f"no transcription with client_reference_id={reference!r} was found, and "
                    f"resending gave up after {resent} resend(s)"
                )
                raise
            resent += 1
            request = client.build_request(
                "POST", "/transcriptions", json=payload, operation="stt.create"
            )
            continue
        created = loads(response.content, Transcription)
        if resent == 0:
            return created
        # A resend succeeded: an earlier attempt may have landed after we looked.
        try:
            found = yield from _look_up(client, reference, started, deadline)
        except OutcomeUnknownError:
            log.warning(
                "transcription %s created, but whether an earlier attempt also created one "
                "could not be checked (client_reference_id=%r)",
                created.id,
                reference,
            )
            return created
        if len(found) > 1:
            return (yield from _keep_oldest(client, found, deadline))
        return created


# --- wait -----------------------------------------------------------------------------------------


@attrs.define
class _Sightings:
    """When the waiting loop saw which status (transport clock), to bracket the moments the job
    started and stopped processing."""

    created: float | None = None
    """When the job was created, on the transport clock (from ``created_at``)."""
    last_queued: float | None = None
    first_processing: float | None = None
    last_processing: float | None = None

    def saw(self, job: Transcription, now: float, wall: float) -> None:
        if self.created is None:
            self.created = now - max(0.0, wall - job.created_at.timestamp())
        if job.status == TranscriptionStatus.QUEUED:
            self.last_queued = now
        elif job.status == TranscriptionStatus.PROCESSING:
            if self.first_processing is None:
                self.first_processing = now
            self.last_processing = now

    def _start_bracket(self) -> tuple[float, float] | None:
        """The interval processing started in (None: never seen processing)."""
        if self.first_processing is None:
            return None
        low = self.last_queued if self.last_queued is not None else self.created
        low = self.first_processing if low is None else min(low, self.first_processing)
        return low, self.first_processing

    def processing_elapsed(self, now: float) -> float | None:
        """Estimated seconds the job has been processing (from the middle of the bracket)."""
        bracket = self._start_bracket()
        return None if bracket is None else max(0.0, now - sum(bracket) / 2)

    def processing_took(self, finished_seen: float) -> tuple[float, float] | None:
        """Bounds of the processing time of a job first seen finished at ``finished_seen``."""
        bracket = self._start_bracket()
        if bracket is None or self.last_processing is None:
            return None
        return self.last_processing - bracket[1], finished_seen - bracket[0]


def call_deadline(client: ApiClient) -> float | None:
    """The absolute deadline a call made now would get from the client's options."""
    return client.build_request("GET", "/transcriptions").options.deadline


def _timed_out(
    transcription_id: str,
    last: Transcription | None,
    waited: float,
    timeout: float | None,
) -> WaitTimeoutError:
    status = last.status if last is not None else "unknown"
    return WaitTimeoutError(
        f"transcription {transcription_id} is still {status} after waiting {waited:.1f}s; it "
        "may still finish (wait again to get it)",
        timeout=timeout,
        transcription_id=transcription_id,
        transcription=last,
    )


def failed_error(
    job: Transcription, answer: ConflictError | None = None
) -> TranscriptionFailedError:
    """The error for a job that ended in ``error``; ``answer`` is the API's 409 to the request
    for its transcript, when one was made (its status, body and request id are kept)."""
    return TranscriptionFailedError(
        f"transcription {job.id} failed: {job.error_type or 'error'}: "
        f"{job.error_message or 'no message'}",
        transcription_id=job.id,
        error_type=job.error_type,
        error_message=job.error_message,
        transcription=job,
        answer=answer,
    )


def failed_transcript_flow(client: ApiClient, job: Transcription) -> Flow[TranscriptionTranscript]:
    """The transcript of a job that ended in ``error``: asked for, as the official SDK does, so
    the API's own 409 is what the caller's ``except SonioxConflictError`` sees — raised as
    :class:`~soniox.errors.TranscriptionFailedError`, which is one, with the job's error."""
    try:
        return (yield from get_transcript_flow(client, job.id))
    except ConflictError as answer:
        raise failed_error(job, answer) from answer


def wait_flow(
    client: ApiClient,
    transcription_id: str,
    *,
    timeout: float | None = None,
    policy: PollingPolicy | None = None,
    raise_on_error: bool = True,
    initial: Transcription | None = None,
    on_status: StatusCallback | None = None,
    rates: ProcessingRates | None = None,
    rng: random.Random | None = None,
    after_poll: Callable[[Transcription], Flow[None]] | None = None,
) -> Flow[Transcription]:
    """Poll ``GET /transcriptions/{id}`` until the job is ``completed`` or ``error``.

    ``timeout``: seconds for the whole wait (default: the client's ``deadline``, else none);
    ``policy``: when to poll (default: the config's ``poll_*`` knobs,
    :meth:`~soniox.flows.polling.PollingPolicy.from_config`);
    ``initial``: the job as just returned by create (saves the first poll); ``on_status``:
    called after every poll (``after_poll``: a flow run after every poll — a pending slot's
    renewal). A job ending in ``error`` raises TranscriptionFailedError unless
    ``raise_on_error`` is False.
    """
    _path(transcription_id)
    if timeout is not None and not timeout > 0:
        raise ClientValidationError(
            f"timeout must be > 0 seconds, got {timeout!r}", field="timeout"
        )
    policy = PollingPolicy.from_config(client.config) if policy is None else policy
    if not isinstance(cast(object, policy), PollingPolicy):
        raise ClientValidationError(
            f"poll must be a PollingPolicy, got {type(policy).__name__}", field="poll"
        )
    rates = processing_rates if rates is None else rates
    rng = _RNG if rng is None else rng
    if after_poll is None and (quota := pending_quota_of(client)) is not None:
        after_poll = quota.keeper()  # the job's pending slot, whoever created it
    key = str(client.config.base_url)  # the clients resolve it (with_environment)
    clock = yield from get_clock()
    started = clock.now()
    deadline = started + timeout if timeout is not None else call_deadline(client)
    sightings = _Sightings()
    job = initial
    last = initial
    previous: float | None = None
    phase: Phase | None = None
    hint_basis: float | None = None  # the rate the last hinted sleep was planned with
    while True:
        if job is None:
            request = _with_deadline(
                client.build_request("GET", _path(transcription_id), operation="stt.wait"),
                deadline,
            )
            try:
                response = yield from client.call(request)
            except DeadlineExceededError as exc:
                if deadline is not None and request.options.deadline == deadline:
                    raise _timed_out(
                        transcription_id, last, clock.now() - started, timeout
                    ) from exc
                raise
            job = loads(response.content, Transcription)
        last = job
        now = clock.now()
        status = str(job.status)
        sightings.saw(job, now, clock.wall())
        if on_status is not None:
            on_status(job)
        if after_poll is not None:
            yield from after_poll(job)
        if job.status == TranscriptionStatus.COMPLETED:
            took = sightings.processing_took(now)
            if policy.use_duration_hint and took is not None and job.audio_duration_ms:
                rates.observe(
                    key,
                    job.audio_duration_ms,
                    *took,
                    hinted=phase == "hinted",
                    basis=hint_basis if phase == "hinted" else None,
                )
            return job
        if job.status == TranscriptionStatus.ERROR:
            if raise_on_error:
                raise failed_error(job)
            return job
        expected = (
            rates.predict(key, job.audio_duration_ms)
            if policy.use_duration_hint and job.audio_duration_ms
            else None
        )
        state = PollState(
            now=now,
            status=status,
            audio_duration_ms=job.audio_duration_ms,
            expected_processing=None if expected is None else expected[0],
            processing_spread=0.0 if expected is None else expected[1],
            processing_elapsed=sightings.processing_elapsed(now),
            previous_delay=previous,
            phase=phase,
            deadline=deadline,
        )
        plan = policy.plan(state, rng)
        if plan is None:
            raise _timed_out(transcription_id, job, now - started, timeout)
        previous, phase = plan.delay, plan.phase
        if phase == "hinted" and expected is not None and job.audio_duration_ms:
            hint_basis = expected[0] * 1000.0 / job.audio_duration_ms
        yield from sleep(plan.delay)
        job = None
