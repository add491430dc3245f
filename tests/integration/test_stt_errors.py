"""Every public method of client.stt, sync and async, through the error paths that apply to it:
401 (wrong key), 429 (retries off: RateLimitError with retry_after; retries on: success), 404
for a missing job, and the server's 400 validation errors for a bad model or file id.

One emulator serves the whole module (these tests only read what they create themselves); every
test starts with an empty fault plan and journal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from _api_modes import MODES, Api
from stt_support import (
    FAST_JOBS,
    FAST_POLL,
    MISSING_ID,
    serve_bytes,
    settle,
)
from transcripts_support import tone_wav

from soniox.emulator import Emulator
from soniox.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from soniox.flows.batch import BatchResult
from soniox.resources.stt import DEFAULT_MODEL
from soniox.types import Transcription

WAV = tone_wav(1.0)
HOOK = "http://127.0.0.1:9/hook"
"""A webhook nobody listens on (the emulator's delivery fails quietly)."""


@attrs.frozen
class Ctx:
    """What a call works on: an existing (or missing) job and file, an audio URL, a model."""

    job_id: str = MISSING_ID
    file_id: str = MISSING_ID
    url: str = "http://127.0.0.1:9/audio.wav"
    model: str = DEFAULT_MODEL


Call = Callable[[Any, Ctx], Any]

EVERY_METHOD: dict[str, Call] = {
    "create": lambda c, x: c.stt.create(file_id=x.file_id, model=x.model),
    "get": lambda c, x: c.stt.get(x.job_id),
    "get_or_none": lambda c, x: c.stt.get_or_none(x.job_id),
    "list": lambda c, x: c.stt.list(),
    "list_all": lambda c, x: c.stt.list_all(),
    "count": lambda c, x: c.stt.count(),
    "delete": lambda c, x: c.stt.delete(x.job_id),
    "delete_if_exists": lambda c, x: c.stt.delete_if_exists(x.job_id),
    "delete_all": lambda c, x: c.stt.delete_all(),
    "destroy": lambda c, x: c.stt.destroy(x.job_id),
    "destroy_all": lambda c, x: c.stt.destroy_all(),
    "get_transcript": lambda c, x: c.stt.get_transcript(x.job_id),
    "iter_tokens": lambda c, x: c.stt.iter_tokens(x.job_id),
    "wait": lambda c, x: c.stt.wait(x.job_id, poll=FAST_POLL),
    "transcribe": lambda c, x: c.stt.transcribe(file=WAV, model=x.model),
    "transcribe_from_url": lambda c, x: c.stt.transcribe_from_url(audio_url=x.url, model=x.model),
    "transcribe_from_file_id": lambda c, x: c.stt.transcribe_from_file_id(
        file_id=x.file_id, model=x.model
    ),
    "transcribe_from_file": lambda c, x: c.stt.transcribe_from_file(file=WAV, model=x.model),
    "transcribe_file": lambda c, x: c.stt.transcribe_file(file=WAV, model=x.model),
    "transcribe_file_with_webhook": lambda c, x: c.stt.transcribe_file_with_webhook(
        file=WAV, webhook_url=HOOK, model=x.model
    ),
    "transcribe_and_wait": lambda c, x: c.stt.transcribe_and_wait(
        audio_url=x.url, model=x.model, delete_after=True, poll=FAST_POLL
    ),
    "transcribe_and_wait_with_tokens": lambda c, x: c.stt.transcribe_and_wait_with_tokens(
        file=WAV, model=x.model, delete_after=True, poll=FAST_POLL
    ),
    "translate": lambda c, x: c.stt.translate(file_id=x.file_id, to="de", model=x.model),
    "translate_from_url": lambda c, x: c.stt.translate_from_url(
        audio_url=x.url, to="de", model=x.model
    ),
    "translate_from_file_id": lambda c, x: c.stt.translate_from_file_id(
        file_id=x.file_id, between=("en", "es"), model=x.model
    ),
    "translate_from_file": lambda c, x: c.stt.translate_from_file(file=WAV, to="de", model=x.model),
    "translate_and_wait": lambda c, x: c.stt.translate_and_wait(
        file=WAV, to="de", model=x.model, delete_after=True, poll=FAST_POLL
    ),
    "translate_and_wait_with_tokens": lambda c, x: c.stt.translate_and_wait_with_tokens(
        file_id=x.file_id, between=("en", "es"), model=x.model, poll=FAST_POLL
    ),
    "transcribe_many": lambda c, x: c.stt.transcribe_many(
        [WAV, {"file_id": x.file_id}], model=x.model, poll=FAST_POLL
    ),
}

CREATING = ["create"] + [name for name in EVERY_METHOD if name.startswith("trans")]
"""The methods that create a job (and so send a model)."""
BY_FILE_ID = ["create", "transcribe_from_file_id", "translate", "translate_from_file_id"]
BY_JOB_ID = ["get", "delete", "destroy", "get_transcript", "iter_tokens", "wait"]


def run(api: Api, name: str, ctx: Ctx) -> Any:
    """Call method ``name``; a batch re-raises its first item error, so all methods read alike."""
    result = api(lambda c: EVERY_METHOD[name](c, ctx))
    if name == "transcribe_many":
        batch: list[BatchResult] = result
        for item in batch:
            item.unwrap()
    return result


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(**FAST_JOBS) as emu:
        yield emu


@pytest.fixture(scope="module")
def audio_url() -> Iterator[str]:
    with serve_bytes(WAV) as url:
        yield url


@pytest.fixture(autouse=True)
def clean_slate(shared: Emulator) -> None:
    shared.faults.clear()
    settle(shared)
    shared.journal.clear()


@pytest.fixture(params=MODES)
def api(request: pytest.FixtureRequest, shared: Emulator) -> Api:
    return Api.for_emulator(str(request.param), shared)


@pytest.fixture
def real(api: Api, shared: Emulator, audio_url: str) -> Ctx:
    """A completed job, its file, and a served audio URL."""
    file_id: str = api(lambda c: c.files.upload(WAV, filename="ctx.wav")).id
    job: Transcription = api(lambda c: c.stt.create(file_id=file_id))
    api(lambda c: c.stt.wait(job.id, poll=FAST_POLL))
    shared.journal.clear()
    return Ctx(job_id=job.id, file_id=file_id, url=audio_url)


def statuses(emu: Emulator) -> list[int | None]:
    return [e.status for e in emu.journal.entries()]


# --- 401 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", EVERY_METHOD)
def test_every_method_maps_401(shared: Emulator, method: str, mode: str) -> None:
    """A wrong API key is AuthenticationError (status 401) from every method."""
    wrong = Api.for_emulator(mode, shared, api_key="wrong-key-0123456789abcdef")
    with pytest.raises(AuthenticationError) as caught:
        run(wrong, method, Ctx())
    assert caught.value.status == 401
    assert "wrong-key-0123456789abcdef" not in str(caught.value)


# --- 429 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_every_method_maps_429_without_retries(api: Api, shared: Emulator, method: str) -> None:
    """With max_retries=0 a 429 on the method's first request is RateLimitError with retry_after."""
    shared.faults.fail("/v1/*", status=429, retry_after=2)
    no_retries = Api(api.mode, api.config.evolve(max_retries=0))
    with pytest.raises(RateLimitError) as caught:
        run(no_retries, method, Ctx())
    assert (caught.value.status, caught.value.retry_after) == (429, 2)
    assert statuses(shared)[0] == 429
    assert statuses(shared).count(429) == 1


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_every_method_succeeds_after_a_429_with_retries(
    api: Api, shared: Emulator, real: Ctx, method: str
) -> None:
    """With retries on, a 429 on the method's first request is retried and the call succeeds."""
    shared.faults.fail("/v1/*", status=429, retry_after=0)
    run(api, method, real)
    trail = statuses(shared)
    assert trail[0] == 429
    assert 429 not in trail[1:]


# --- 404 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", BY_JOB_ID)
def test_every_job_method_maps_404(api: Api, method: str) -> None:
    """A missing job is NotFoundError (transcription_not_found) wherever a job id is taken."""
    with pytest.raises(NotFoundError) as caught:
        run(api, method, Ctx())
    assert (caught.value.status, caught.value.error_type) == (404, "transcription_not_found")


# --- 400: the server's validation errors, shown in the message -----------------------------------


@pytest.mark.parametrize("method", BY_FILE_ID)
def test_a_missing_file_id_is_400_file_not_found(api: Api, method: str) -> None:
    """A file_id naming no file is InvalidRequestError showing body.payload.file_id's problem."""
    with pytest.raises(InvalidRequestError) as caught:
        run(api, method, Ctx())
    assert "body.payload.file_id: File not found" in str(caught.value)


@pytest.mark.parametrize("method", CREATING)
def test_every_creating_method_shows_the_servers_validation_errors(
    api: Api, shared: Emulator, real: Ctx, method: str
) -> None:
    """An unknown model is the server's 400, listed in the message; no upload is left behind."""
    files_before = len(shared.app.rest.store.files())
    with pytest.raises(InvalidRequestError) as caught:
        run(api, method, attrs.evolve(real, model="stt-async-nope"))
    assert "body.payload.model: Invalid model" in str(caught.value)
    assert caught.value.validation_errors[0].location == "body.payload.model"
    assert len(shared.app.rest.store.files()) == files_before


def test_the_tables_cover_every_public_method() -> None:
    """EVERY_METHOD names each public method of Stt and AsyncStt (a new one must be added)."""
    from soniox.resources.stt import AsyncStt, Stt

    for namespace in (Stt, AsyncStt):
        public = {name for name in dir(namespace) if not name.startswith("_")}
        assert public == set(EVERY_METHOD)
