"""client.stt's job operations against the emulator over loopback, with the sync and the async
client: create, get, list, count, delete, destroy, transcripts, wait, and exactly-once create."""

from __future__ import annotations

from typing import Any

import pytest
from _api_modes import Api
from stt_support import (
    FAST_POLL,
    MISSING_ID,
    creates,
    leftovers,
    serve_bytes,
    wait_until,
)
from transcripts_support import tone_wav

from soniox.emulator import Emulator
from soniox.errors import (
    ClientValidationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TranscriptionFailedError,
    WaitTimeoutError,
)
from soniox.resources.stt import DEFAULT_MODEL
from soniox.types import (
    GetTranscriptionsResponse,
    Transcription,
    TranscriptionStatus,
    TranscriptionTranscript,
    TranscriptionTranscriptToken,
)

WAV = tone_wav(1.0)


def upload(api: Api, name: str = "tone.wav") -> str:
    file_id: str = api(lambda c: c.files.upload(WAV, filename=name)).id
    return file_id


def create(api: Api, **options: Any) -> Transcription:
    file_id = upload(api)
    job: Transcription = api(lambda c: c.stt.create(file_id=file_id, **options))
    return job


def finished(api: Api, **options: Any) -> Transcription:
    job = create(api, **options)
    done: Transcription = api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    return done


def processing_job(api: Api) -> Transcription:
    job = create(api)
    wait_until(
        lambda: api(lambda c: c.stt.get(job.id)).status == TranscriptionStatus.PROCESSING,
        what="the job to start processing",
    )
    return job


def stt_posts(emu: Emulator) -> list[tuple[str, int | None]]:
    entries = emu.journal.entries(path="/v1/transcriptions", method="POST")
    return [(e.outcome, e.status) for e in entries]


# --- create -------------------------------------------------------------------------------------


def test_create_from_a_file_id(api: Api, emulator: Emulator) -> None:
    """create(file_id=...) makes one job for the file, with the default model and the options."""
    file_id = upload(api)
    job: Transcription = api(
        lambda c: c.stt.create(
            file_id=file_id,
            client_reference_id="order-17",
            language_hints=["en", "de"],
            enable_speaker_diarization=True,
        )
    )
    assert (job.file_id, job.filename, job.model) == (file_id, "tone.wav", DEFAULT_MODEL)
    assert job.status in (TranscriptionStatus.QUEUED, TranscriptionStatus.PROCESSING)
    assert (job.client_reference_id, job.language_hints) == ("order-17", ["en", "de"])
    assert job.enable_speaker_diarization
    assert creates(emulator) == 1


def test_create_from_an_audio_url(api: Api) -> None:
    """create(audio_url=...) makes a job that the emulator fetches from a local server."""
    with serve_bytes(WAV, "call.wav") as url:
        job: Transcription = api(lambda c: c.stt.create(audio_url=url))
        done: Transcription = api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    assert (job.audio_url, job.file_id, job.filename) == (url, None, "call.wav")
    assert done.status == TranscriptionStatus.COMPLETED
    assert done.audio_duration_ms == 1000


# --- reading ------------------------------------------------------------------------------------


def test_get_returns_the_job(api: Api) -> None:
    """get() returns the typed job as stored."""
    job = create(api, client_reference_id="get-me")
    got: Transcription = api(lambda c: c.stt.get(job.id))
    assert (got.id, got.file_id, got.client_reference_id) == (job.id, job.file_id, "get-me")


def test_get_or_none_is_none_for_a_missing_job(api: Api) -> None:
    """get_or_none() turns the 404 of a missing job into None."""
    assert api(lambda c: c.stt.get_or_none(MISSING_ID)) is None


def test_get_or_none_returns_an_existing_job(api: Api) -> None:
    """get_or_none() returns a job that exists."""
    job = create(api)
    assert api(lambda c: c.stt.get_or_none(job.id)).id == job.id


def test_list_gives_a_page_and_a_cursor(api: Api) -> None:
    """list(limit=2) over three jobs: two, newest first, then the last one and no cursor."""
    ids = [create(api).id for _ in range(3)]
    first: GetTranscriptionsResponse = api(lambda c: c.stt.list(limit=2))
    assert [j.id for j in first.transcriptions] == ids[:0:-1]
    assert first.next_page_cursor
    rest: GetTranscriptionsResponse = api(
        lambda c: c.stt.list(limit=2, cursor=first.next_page_cursor)
    )
    assert [j.id for j in rest.transcriptions] == [ids[0]]
    assert rest.next_page_cursor is None


def test_list_all_walks_every_page(api: Api, emulator: Emulator) -> None:
    """list_all(limit=2) yields all five jobs over three GET requests."""
    ids = [create(api).id for _ in range(5)]
    emulator.journal.clear()
    every: list[Transcription] = api(lambda c: c.stt.list_all(limit=2))
    assert [j.id for j in every] == ids[::-1]
    assert len(emulator.journal.entries(path="/v1/transcriptions", method="GET")) == 3


def test_count(api: Api) -> None:
    """count() reports the stored jobs."""
    for _ in range(2):
        create(api)
    counts = api(lambda c: c.stt.count())
    assert (counts.total, counts.public_api, counts.playground) == (2, 2, 0)


# --- deleting -----------------------------------------------------------------------------------


def test_delete_removes_the_job_but_not_its_file(api: Api, emulator: Emulator) -> None:
    """delete() removes the job (a second delete is NotFoundError); the upload stays."""
    job = finished(api)
    assert api(lambda c: c.stt.delete(job.id)) is None
    assert api(lambda c: c.stt.get_or_none(job.id)) is None
    with pytest.raises(NotFoundError):
        api(lambda c: c.stt.delete(job.id))
    assert leftovers(emulator) == (0, 1)


def test_delete_if_exists_says_whether_it_deleted(api: Api) -> None:
    """delete_if_exists() is True for a job it deleted and False when there is none."""
    job = finished(api)
    assert api(lambda c: c.stt.delete_if_exists(job.id)) is True
    assert api(lambda c: c.stt.delete_if_exists(job.id)) is False


def test_delete_all_returns_how_many_it_deleted(api: Api, emulator: Emulator) -> None:
    """delete_all(limit=2) deletes three finished jobs over two pages; their files stay."""
    for _ in range(3):
        finished(api)
    assert api(lambda c: c.stt.delete_all(limit=2)) == 3
    assert leftovers(emulator) == (0, 3)


def test_destroy_deletes_the_job_and_its_file(api: Api, emulator: Emulator) -> None:
    """destroy() removes the job and the uploaded file it was made from."""
    job = finished(api)
    other = finished(api)
    assert api(lambda c: c.stt.destroy(job.id)) is None
    assert leftovers(emulator) == (1, 1)
    assert api(lambda c: c.files.get_or_none(job.file_id)) is None
    assert api(lambda c: c.stt.get(other.id)).id == other.id


def test_destroy_all_deletes_every_job_and_file(api: Api, emulator: Emulator) -> None:
    """destroy_all() removes jobs from files and from URLs, and the files; returns the jobs."""
    for _ in range(2):
        finished(api)
    with serve_bytes(WAV) as url:
        job: Transcription = api(lambda c: c.stt.create(audio_url=url))
        api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    assert api(lambda c: c.stt.destroy_all(limit=2)) == 3
    assert leftovers(emulator) == (0, 0)


def test_delete_of_a_processing_job_is_conflict(mode: str, processing: Emulator) -> None:
    """delete() of a processing job is ConflictError with the server's message."""
    api = Api.for_emulator(mode, processing)
    job = processing_job(api)
    with pytest.raises(ConflictError) as caught:
        api(lambda c: c.stt.delete(job.id))
    assert caught.value.status == 409
    assert "Cannot delete transcription with processing status." in str(caught.value)


def test_delete_all_stops_at_a_processing_job(mode: str, processing: Emulator) -> None:
    """delete_all() raises ConflictError when it meets a processing job (official SDK)."""
    api = Api.for_emulator(mode, processing)
    processing_job(api)
    with pytest.raises(ConflictError):
        api(lambda c: c.stt.delete_all())


def test_destroy_of_a_processing_job_is_conflict_and_keeps_the_file(
    mode: str, processing: Emulator
) -> None:
    """destroy() of a processing job raises ConflictError before touching its file."""
    api = Api.for_emulator(mode, processing)
    job = processing_job(api)
    with pytest.raises(ConflictError):
        api(lambda c: c.stt.destroy(job.id))
    assert leftovers(processing) == (1, 1)


# --- transcripts --------------------------------------------------------------------------------


def test_get_transcript_is_typed(api: Api) -> None:
    """get_transcript() returns text and typed tokens (with speakers when diarization is on)."""
    job = finished(api, enable_speaker_diarization=True)
    transcript: TranscriptionTranscript = api(lambda c: c.stt.get_transcript(job.id))
    assert transcript.id == job.id
    assert transcript.tokens
    assert all(isinstance(t, TranscriptionTranscriptToken) for t in transcript.tokens)
    assert transcript.text == "".join(t.text for t in transcript.tokens).lstrip()
    assert not transcript.text.startswith(" ")  # as the API's: the tokens keep their spaces
    assert all(t.speaker is not None and t.end_ms >= t.start_ms for t in transcript.tokens)


def test_iter_tokens_streams_the_same_tokens(api: Api) -> None:
    """iter_tokens() yields exactly get_transcript()'s tokens, in order."""
    job = finished(api, enable_language_identification=True)
    whole: TranscriptionTranscript = api(lambda c: c.stt.get_transcript(job.id))
    streamed: list[TranscriptionTranscriptToken] = api(lambda c: c.stt.iter_tokens(job.id))
    assert streamed == whole.tokens


def test_get_transcript_of_a_queued_job_is_conflict(mode: str, queued: Emulator) -> None:
    """Before the job completes the transcript is ConflictError (409 transcription_invalid_state)."""
    api = Api.for_emulator(mode, queued)
    job = create(api)
    with pytest.raises(ConflictError) as caught:
        api(lambda c: c.stt.get_transcript(job.id))
    assert caught.value.error_type == "transcription_invalid_state"
    assert "Can only get transcript with completed status." in str(caught.value)


def test_iter_tokens_of_a_queued_job_is_conflict(mode: str, queued: Emulator) -> None:
    """iter_tokens() of a job that is not completed raises ConflictError."""
    api = Api.for_emulator(mode, queued)
    job = create(api)
    with pytest.raises(ConflictError):
        api(lambda c: c.stt.iter_tokens(job.id))


def test_get_transcript_of_a_failed_job_is_conflict(api: Api, emulator: Emulator) -> None:
    """A failed job has no transcript: ConflictError 'File transcription has failed.'."""
    emulator.faults.inject("job_error", "/v1/transcriptions")
    job = create(api)
    api(lambda c: c.stt.wait(job.id, poll=FAST_POLL, raise_on_error=False))
    with pytest.raises(ConflictError) as caught:
        api(lambda c: c.stt.get_transcript(job.id))
    assert "File transcription has failed." in str(caught.value)


# --- wait ---------------------------------------------------------------------------------------


def test_wait_returns_the_completed_job(api: Api) -> None:
    """wait() polls until completed; on_status sees each state, the last one completed."""
    job = create(api)
    seen: list[str] = []
    done: Transcription = api(
        lambda c: c.stt.wait(job.id, poll=FAST_POLL, on_status=lambda j: seen.append(j.status))
    )
    assert (done.id, done.status, done.audio_duration_ms) == (
        job.id,
        TranscriptionStatus.COMPLETED,
        1000,
    )
    assert seen[-1] == TranscriptionStatus.COMPLETED


def test_wait_accepts_the_official_sdks_interval_and_timeout(api: Api) -> None:
    """interval_sec= (fixed polling) and timeout_sec= work as in the official SDK."""
    job = create(api)
    done: Transcription = api(lambda c: c.stt.wait(job.id, interval_sec=0.05, timeout_sec=10))
    assert done.status == TranscriptionStatus.COMPLETED


def test_wait_returns_a_failed_job_as_the_official_sdk_does(api: Api, emulator: Emulator) -> None:
    """By default wait() returns a job that ended in error, its error fields set."""
    emulator.faults.inject(
        "job_error", "/v1/transcriptions", error_type="audio_decode_failed", message="Bad audio."
    )
    job = create(api)
    failed = api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    assert (failed.id, failed.status, failed.error_type) == (job.id, "error", "audio_decode_failed")
    assert failed.error_message == "Bad audio."


def test_wait_raise_on_error_raises_transcription_failed_error(
    api: Api, emulator: Emulator
) -> None:
    """raise_on_error=True turns a job ending in error into TranscriptionFailedError."""
    emulator.faults.inject(
        "job_error", "/v1/transcriptions", error_type="audio_decode_failed", message="Bad audio."
    )
    job = create(api)
    with pytest.raises(TranscriptionFailedError) as caught:
        api(lambda c: c.stt.wait(job.id, poll=FAST_POLL, raise_on_error=True))
    failure = caught.value
    assert (failure.transcription_id, failure.error_type) == (job.id, "audio_decode_failed")
    assert failure.error_message == "Bad audio."
    assert "Bad audio." in str(failure)


def test_wait_timeout_raises_wait_timeout_error_naming_the_job(mode: str, queued: Emulator) -> None:
    """A job that outlasts timeout= raises WaitTimeoutError (a TimeoutError) with its id."""
    api = Api.for_emulator(mode, queued)
    job = create(api)
    with pytest.raises(WaitTimeoutError) as caught:
        api(lambda c: c.stt.wait(job.id, poll=FAST_POLL, timeout=0.3))
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.transcription_id == job.id
    assert caught.value.transcription is not None
    assert api(lambda c: c.stt.get(job.id)).status == TranscriptionStatus.QUEUED


# --- 400: what the server validates and what the client checks first -----------------------------


def test_an_unknown_model_shows_the_servers_validation_errors(api: Api) -> None:
    """The server's 400 for an unknown model is InvalidRequestError listing the field problem."""
    file_id = upload(api)
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.stt.create(file_id=file_id, model="stt-async-nope"))
    error = caught.value
    assert (error.status, error.error_type) == (400, "invalid_request")
    assert [(v.location, v.message) for v in error.validation_errors] == [
        ("body.payload.model", "Invalid model")
    ]
    assert "body.payload.model: Invalid model" in str(error)


def test_an_unknown_file_id_shows_file_not_found(api: Api) -> None:
    """A file_id that names no file is the server's 400 'File not found' at body.payload.file_id."""
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.stt.create(file_id=MISSING_ID))
    assert "body.payload.file_id: File not found" in str(caught.value)


BAD_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "language hint": (
        lambda c: c.stt.create(audio_url="http://127.0.0.1:9/a.wav", language_hints=["english"]),
        "language_hints[0]",
    ),
    "two sources": (
        lambda c: c.stt.create(file_id=MISSING_ID, audio_url="http://127.0.0.1:9/a.wav"),
        "audio_url",
    ),
    "no source": (lambda c: c.stt.create(), "file"),
    "audio_url scheme": (lambda c: c.stt.create(audio_url="ftp://host/a.wav"), "audio_url"),
    "webhook header without value": (
        lambda c: c.stt.create(
            file_id=MISSING_ID,
            webhook_url="http://127.0.0.1:9/hook",
            webhook_auth_header_name="X-Secret",
        ),
        "webhook_auth_header_value",
    ),
    "unknown option": (lambda c: c.stt.create(file_id=MISSING_ID, speakers=True), "speakers"),
    "list limit": (lambda c: c.stt.list(limit=0), "limit"),
    "empty id": (lambda c: c.stt.get(""), "transcription_id"),
    "wait timeout": (lambda c: c.stt.wait(MISSING_ID, timeout=0), "timeout"),
    "wait poll and interval": (
        lambda c: c.stt.wait(MISSING_ID, poll=FAST_POLL, interval_sec=1),
        "interval_sec",
    ),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_sending(api: Api, emulator: Emulator, case: str) -> None:
    """Arguments the API would refuse raise ClientValidationError naming the field; nothing is sent."""
    call, field = BAD_ARGUMENTS[case]
    with pytest.raises(ClientValidationError) as caught:
        api(call)
    assert caught.value.field == field
    assert emulator.journal.entries() == []


def test_a_bad_cursor_is_invalid_request(api: Api) -> None:
    """A garbage cursor is the server's 400 invalid_cursor."""
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.stt.list(cursor="not-a-cursor"))
    assert caught.value.error_type == "invalid_cursor"


# --- exactly-once create (issue point 5) ---------------------------------------------------------


@pytest.mark.parametrize("reference", ["order-42", None], ids=["given", "generated"])
def test_a_lost_create_answer_leaves_exactly_one_job(
    api: Api, emulator: Emulator, reference: str | None
) -> None:
    """The connection drops after the job was created: the call finds it by client_reference_id."""
    file_id = upload(api)
    emulator.faults.inject("reset_after", "/v1/transcriptions", method="POST")
    job: Transcription = api(lambda c: c.stt.create(file_id=file_id, client_reference_id=reference))
    if reference is None:
        assert (job.client_reference_id or "").startswith("sdk-")
    else:
        assert job.client_reference_id == reference
    assert stt_posts(emulator) == [("reset", 201)]
    lookups = emulator.journal.entries(path="/v1/transcriptions", method="GET")
    assert len(lookups) == 1
    assert "limit=100" in lookups[0].query
    assert lookups[0].seq > emulator.journal.entries(path="/v1/transcriptions")[0].seq
    assert [t.id for t in emulator.app.rest.store.transcriptions()] == [job.id]


def test_a_create_that_never_arrived_is_sent_again(api: Api, emulator: Emulator) -> None:
    """Reset before processing: the lookup finds nothing, the create is resent, one job exists."""
    file_id = upload(api)
    emulator.faults.inject("reset_before", "/v1/transcriptions", method="POST")
    job: Transcription = api(lambda c: c.stt.create(file_id=file_id))
    assert [outcome for outcome, _ in stt_posts(emulator)] == ["reset", "completed"]
    assert [t.id for t in emulator.app.rest.store.transcriptions()] == [job.id]


def test_a_500_on_create_is_looked_up_then_resent(api: Api, emulator: Emulator) -> None:
    """A 5xx may hide a created job: the flow looks it up, then resends; one job exists."""
    file_id = upload(api)
    emulator.faults.fail("/v1/transcriptions", method="POST", status=500)
    job: Transcription = api(lambda c: c.stt.create(file_id=file_id))
    trail = [(e.method, e.status) for e in emulator.journal.entries(path="/v1/transcriptions")]
    # look up, resend, then check that no earlier attempt landed after the lookup
    assert trail == [("POST", 500), ("GET", 200), ("POST", 201), ("GET", 200)]
    assert [t.id for t in emulator.app.rest.store.transcriptions()] == [job.id]


def test_a_500_on_create_without_retries_is_server_error(api: Api, emulator: Emulator) -> None:
    """With max_retries=0 a 5xx on create is ServerError after the lookup found nothing."""
    file_id = upload(api)
    emulator.faults.fail("/v1/transcriptions", method="POST", status=500)
    with pytest.raises(ServerError) as caught:
        api(lambda c: c.with_options(max_retries=0).stt.create(file_id=file_id))
    assert "client_reference_id" in "".join(caught.value.__notes__)
    assert leftovers(emulator) == (0, 1)


def test_a_429_on_create_is_retried_into_one_job(api: Api, emulator: Emulator) -> None:
    """A 429 was not processed: the retry creates the only job."""
    file_id = upload(api)
    emulator.faults.fail("/v1/transcriptions", method="POST", status=429, retry_after=0)
    api(lambda c: c.stt.create(file_id=file_id))
    assert [s for _, s in stt_posts(emulator)] == [429, 201]
    assert leftovers(emulator) == (1, 1)


def test_a_429_on_create_without_retries_is_rate_limit_error(api: Api, emulator: Emulator) -> None:
    """With retries off a 429 on create is RateLimitError carrying retry_after; no job exists."""
    file_id = upload(api)
    emulator.faults.fail("/v1/transcriptions", method="POST", status=429, retry_after=3)
    with pytest.raises(RateLimitError) as caught:
        api(lambda c: c.with_options(max_retries=0).stt.create(file_id=file_id))
    assert caught.value.retry_after == 3
    assert leftovers(emulator) == (0, 1)


def test_a_lost_create_answer_inside_transcribe_and_wait(api: Api, emulator: Emulator) -> None:
    """The whole workflow survives a lost create answer with one job and one file."""
    emulator.faults.inject("reset_after", "/v1/transcriptions", method="POST")
    transcript: TranscriptionTranscript = api(
        lambda c: c.stt.transcribe_and_wait_with_tokens(file=WAV, poll=FAST_POLL)
    )
    assert transcript.tokens
    assert creates(emulator) == 1
    assert leftovers(emulator) == (1, 1)
