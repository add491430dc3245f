"""The stt flows on a fake clock and an in-memory API: wait, create-exactly-once, checks, effects."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import (
    ClientValidationError,
    ResponseLostError,
    TranscriptionFailedError,
    WaitTimeoutError,
)
from soniox.flows.effects import CancelScope, FlowCancelled, cancellable, shielded
from soniox.flows.payload import (
    CreateTranscriptionConfig,
    build_payload,
    check_one_source,
    merge_options,
    translate_options,
)
from soniox.flows.polling import PollingPolicy, ProcessingRates
from soniox.flows.transcriptions import create_flow, wait_flow
from soniox.middleware import Flow, sleep
from soniox.middleware.engine import Effect, run_async
from soniox.transport import FakeClock, InMemoryTransport, Reply, Request, Transport
from soniox.types import CreateTranscriptionPayload, TranscriptionStatus

KEY = "sk-unit-0123456789abcdef"
BASE = "http://127.0.0.1:9/v1"


class FakeJobs:
    """A tiny transcriptions API on a fake clock: jobs end ``ends_after`` seconds after creation."""

    def __init__(self, clock: FakeClock, *, ends_after: float = 3.0, outcome: str = "completed"):
        self.clock = clock
        self.transport = InMemoryTransport(self, clock=clock)
        self.ends_after = ends_after
        self.outcome = outcome
        self.jobs: list[dict[str, Any]] = []
        self.born: dict[str, float] = {}
        self.lose_next_create = False
        self.polls = 0

    def _status(self, job: dict[str, Any]) -> dict[str, Any]:
        age = self.clock.now() - self.born[job["id"]]
        status = "queued" if age < 0.5 else "processing" if age < self.ends_after else self.outcome
        extra: dict[str, Any] = {"status": status}
        if status != "queued":
            extra["audio_duration_ms"] = 10_000
        if status == "error":
            extra |= {"error_type": "audio_decode_failed", "error_message": "Bad audio."}
        return job | extra

    def __call__(self, request: Request) -> Reply:
        path = request.url.path.removeprefix("/v1")
        if request.method == "POST" and path == "/transcriptions":
            body = json.loads(request.body or b"{}")  # type: ignore[arg-type]
            job = {
                "id": str(uuid.uuid4()),
                "status": "queued",
                "created_at": datetime.fromtimestamp(self.clock.wall(), UTC).isoformat(),
                "model": body["model"],
                "filename": "audio.wav",
                "client_reference_id": body.get("client_reference_id"),
                "file_id": body.get("file_id"),
            }
            self.jobs.append(job)
            self.born[job["id"]] = self.clock.now()
            if self.lose_next_create:
                self.lose_next_create = False
                raise ResponseLostError("connection reset after the request was sent")
            return Reply(201, json_body=job)
        if request.method == "GET" and path == "/transcriptions":
            page = [self._status(j) for j in self.jobs[::-1]]
            return Reply(200, json_body={"transcriptions": page, "next_page_cursor": None})
        if request.method == "GET":
            self.polls += 1
            job_id = path.rsplit("/", 1)[1]
            job = next(j for j in self.jobs if j["id"] == job_id)
            return Reply(200, json_body=self._status(job))
        if request.method == "DELETE":
            job_id = path.rsplit("/", 1)[1]
            self.jobs = [j for j in self.jobs if j["id"] != job_id]
            return Reply(204)
        raise AssertionError(f"unexpected {request.method} {path}")


def make(**kwargs: Any) -> tuple[SonioxClient, FakeJobs, FakeClock]:
    clock = FakeClock()
    api = FakeJobs(clock, **kwargs)
    config = SonioxConfig.testing(api_key=KEY, base_url=BASE)
    return SonioxClient(config=config, transport=api.transport), api, clock


def payload(reference: str | None = None) -> CreateTranscriptionPayload:
    return build_payload(
        model="stt-async-v5",
        file_id=str(uuid.uuid4()),
        audio_url=None,
        client_reference_id=reference,
        options={},
    )


# --- wait -----------------------------------------------------------------------------------------


def test_wait_returns_the_completed_job() -> None:
    """wait_flow polls until completed and returns the typed job."""
    client, api, clock = make(ends_after=3.0)
    job = client.run(create_flow(client, payload()))
    done = client.run(wait_flow(client, job.id, rates=ProcessingRates()))
    assert done.status == TranscriptionStatus.COMPLETED
    assert clock.now() - api.born[job.id] >= 3.0


def test_wait_with_the_create_answer_skips_the_first_poll() -> None:
    """initial= uses the create response instead of polling at once."""
    client, api, _ = make(ends_after=0.2)
    job = client.run(create_flow(client, payload()))
    client.run(wait_flow(client, job.id, initial=job, policy=PollingPolicy.fixed(1.0)))
    assert api.polls == 1


def test_a_failed_job_raises_transcription_failed_error() -> None:
    """A job ending in error raises TranscriptionFailedError with its error fields."""
    client, _, _ = make(ends_after=1.0, outcome="error")
    job = client.run(create_flow(client, payload()))
    with pytest.raises(TranscriptionFailedError) as caught:
        client.run(wait_flow(client, job.id))
    error = caught.value
    assert (error.transcription_id, error.error_type) == (job.id, "audio_decode_failed")
    assert error.error_message == "Bad audio."
    assert error.transcription is not None
    assert "audio_decode_failed" in str(error)


def test_raise_on_error_false_returns_the_failed_job() -> None:
    """raise_on_error=False returns the job in status error (official SDK behaviour)."""
    client, _, _ = make(ends_after=1.0, outcome="error")
    job = client.run(create_flow(client, payload()))
    failed = client.run(wait_flow(client, job.id, raise_on_error=False))
    assert failed.status == TranscriptionStatus.ERROR


def test_wait_timeout_never_sleeps_past_the_deadline() -> None:
    """A job that outlasts timeout= raises WaitTimeoutError; no sleep ends past the deadline."""
    client, _, clock = make(ends_after=1_000.0)
    job = client.run(create_flow(client, payload()))
    start = clock.now()
    with pytest.raises(WaitTimeoutError) as caught:
        client.run(wait_flow(client, job.id, timeout=7.5))
    assert caught.value.transcription_id == job.id
    assert caught.value.transcription is not None
    assert isinstance(caught.value, TimeoutError)
    assert clock.now() - start <= 7.5 + 1e-6


def test_the_client_deadline_bounds_a_wait() -> None:
    """Without timeout=, with_options(deadline=) is the budget of the whole wait."""
    client, _, clock = make(ends_after=1_000.0)
    job = client.run(create_flow(client, payload()))
    start = clock.now()
    quick = client.with_options(deadline=4.0)
    with pytest.raises(WaitTimeoutError):
        quick.run(wait_flow(quick, job.id))
    assert clock.now() - start <= 4.0 + 1e-6


def test_a_learned_rate_cuts_the_polls() -> None:
    """As the server's speed is learned, waits for the same kind of job need fewer polls."""
    client, api, _ = make(ends_after=30.0)
    rates = ProcessingRates()
    rng = random.Random(5)
    polls: list[int] = []
    for _ in range(10):
        job = client.run(create_flow(client, payload()))
        before = api.polls
        client.run(wait_flow(client, job.id, rates=rates, initial=job, rng=rng))
        polls.append(api.polls - before)
    assert rates.rate(BASE) is not None
    assert polls[0] >= 8
    assert max(polls[-3:]) <= polls[0] // 2, polls


@pytest.mark.parametrize("bad", [0, -1.0])
def test_wait_rejects_a_non_positive_timeout(bad: float) -> None:
    """timeout must be > 0."""
    client, _, _ = make()
    with pytest.raises(ClientValidationError) as caught:
        client.run(wait_flow(client, "x", timeout=bad))
    assert caught.value.field == "timeout"


# --- create, exactly once --------------------------------------------------------------------------


def test_create_generates_a_reference() -> None:
    """A create without client_reference_id sends a generated sdk-<uuid4>."""
    client, _, _ = make()
    job = client.run(create_flow(client, payload()))
    assert job.client_reference_id is not None
    assert job.client_reference_id.startswith("sdk-")


def test_a_lost_create_answer_adopts_the_job_by_reference() -> None:
    """The job created behind a lost answer is found and returned; no second POST."""
    client, api, _ = make()
    api.lose_next_create = True
    job = client.run(create_flow(client, payload("mine-1")))
    assert [j["id"] for j in api.jobs] == [job.id]
    posts = [r for r in api.transport.requests if r.method == "POST"]
    assert len(posts) == 1


def test_a_create_lost_before_processing_is_resent() -> None:
    """A create that never reached the API (nothing with the reference) is sent again."""
    client, api, _ = make()
    original = api.__call__

    calls = {"n": 0}

    def flaky(request: Request) -> Reply:
        if request.method == "POST" and calls["n"] == 0:
            calls["n"] += 1
            raise ResponseLostError("reset before processing")
        return original(request)

    api.transport._handler = flaky  # pyright: ignore[reportPrivateUsage]
    job = client.run(create_flow(client, payload()))
    assert [j["id"] for j in api.jobs] == [job.id]


def test_duplicates_from_a_racing_resend_are_deleted() -> None:
    """If a resend still raced the first attempt, the oldest job is kept, the other deleted."""
    client, api, _ = make()
    reference = "race-1"
    calls = {"n": 0}
    original = api.__call__

    def racing(request: Request) -> Reply:
        if request.method == "POST" and calls["n"] == 0:
            calls["n"] += 1
            raise ResponseLostError("slow server: will create the job after we looked")
        if request.method == "POST" and calls["n"] == 1:
            calls["n"] += 1
            original(request)  # the first attempt lands now
        return original(request)

    api.transport._handler = racing  # pyright: ignore[reportPrivateUsage]
    job = client.run(create_flow(client, payload(reference)))
    assert [j["id"] for j in api.jobs] == [job.id]


def test_create_gives_up_after_max_retries() -> None:
    """With max_retries=0 a lost, unconfirmed create raises ResponseLostError with a note."""
    client, api, _ = make()

    def always_lost(request: Request) -> Reply:
        if request.method == "POST":
            raise ResponseLostError("reset")
        return Reply(200, json_body={"transcriptions": [], "next_page_cursor": None})

    api.transport._handler = always_lost  # pyright: ignore[reportPrivateUsage]
    quick = client.with_options(max_retries=0)
    with pytest.raises(ResponseLostError) as caught:
        quick.run(create_flow(quick, payload("gone-1")))
    assert any("gone-1" in note for note in caught.value.__notes__)


# --- payload checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sources", "field"),
    [
        ({}, "file"),
        ({"file_id": "a", "audio_url": "https://x/a.wav"}, "audio_url"),
        ({"file": b"x", "file_id": "a"}, "file_id"),
        ({"audio_url": "ftp://x/a.wav"}, "audio_url"),
    ],
)
def test_exactly_one_audio_source(sources: dict[str, Any], field: str) -> None:
    """file / file_id / audio_url: exactly one, checked before anything is sent."""
    with pytest.raises(ClientValidationError) as caught:
        check_one_source(**sources)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"language_hints": ["en", "EN"]}, "language_hints[1]"),
        ({"language_hints": "en"}, "language_hints"),
        ({"language_hints": ["eng"]}, "language_hints[0]"),
        ({"enable_speaker_diarization": "yes"}, "enable_speaker_diarization"),
        ({"translation": {"type": "one_way"}}, "translation.target_language"),
        (
            {"translation": {"type": "two_way", "language_a": "en", "language_b": "en"}},
            "translation.language_b",
        ),
        ({"translation": {"type": "sideways"}}, "translation.type"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        (
            {"webhook_url": "https://h/x", "webhook_auth_header_name": "X-Key"},
            "webhook_auth_header_value",
        ),
        ({"context": 42}, "context"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, Any], field: str) -> None:
    """Each bad option raises ClientValidationError naming it."""
    with pytest.raises(ClientValidationError) as caught:
        build_payload(
            model="stt-async-v5",
            file_id="f",
            audio_url=None,
            client_reference_id=None,
            options=options,
        )
    assert caught.value.field == field


def test_config_and_keywords_merge_with_keywords_winning() -> None:
    """CreateTranscriptionConfig fields are used; keyword options override them."""
    config = CreateTranscriptionConfig(language_hints=["en"], enable_speaker_diarization=True)
    merged = merge_options(config, {"language_hints": ["de"]})
    assert merged == {"language_hints": ["de"], "enable_speaker_diarization": True}
    with pytest.raises(ClientValidationError) as caught:
        merge_options(None, {"speakers": True})
    assert caught.value.field == "speakers"


def test_translate_options_follow_the_official_sdk() -> None:
    """to= is one-way, source= a strict hint, between= two-way; language id is forced on."""
    one = translate_options(to="de", source="en", between=None, options={})
    assert one["translation"].target_language == "de"  # type: ignore[union-attr]
    assert (one["language_hints"], one["language_hints_strict"]) == (["en"], True)
    assert one["enable_language_identification"] is True
    two = translate_options(to=None, source=None, between=("en", "es"), options={})
    assert two["translation"].language_b == "es"  # type: ignore[union-attr]
    for kwargs, field in [
        ({"to": None, "source": None, "between": None}, "to"),
        ({"to": "de", "source": None, "between": ("en", "es")}, "between"),
        ({"to": None, "source": "en", "between": ("en", "es")}, "source"),
        ({"to": "german", "source": None, "between": None}, "to"),
    ]:
        with pytest.raises(ClientValidationError) as caught:
            translate_options(options={}, **kwargs)
        assert caught.value.field == field


# --- effects -----------------------------------------------------------------------------------------


def test_shielded_cleanup_finishes_despite_a_second_cancellation() -> None:
    """A cancellation during shielded I/O waits for it, then re-raises CancelledError."""
    clock = FakeClock()
    finished: list[str] = []

    async def slow(_request: Request) -> Reply:
        await asyncio.sleep(0.05)
        finished.append("sent")
        return Reply(204)

    transport = InMemoryTransport(slow, clock=clock)  # type: ignore[arg-type]
    config = SonioxConfig.testing(api_key=KEY, base_url=BASE)

    def cleanup(client: AsyncSonioxClient) -> Flow[None]:
        yield from client.request_flow("DELETE", "/transcriptions/x")
        finished.append("done")

    async def main() -> None:
        async with AsyncSonioxClient(config=config, transport=transport) as client:
            task = asyncio.ensure_future(client.arun(shielded(cleanup(client))))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert finished == ["sent", "done"]


def test_cancellable_throws_into_the_flow_and_runs_its_cleanup() -> None:
    """Once the scope is cancelled, FlowCancelled reaches the flow; its cleanup effects still run."""
    client, _, clock = make()
    scope = CancelScope()
    seen: list[str] = []

    def long_wait() -> Flow[None]:
        try:
            scope.cancel()
            yield from sleep(1_000)
            seen.append("not reached")
        except FlowCancelled:
            yield from sleep(1.0)
            seen.append("cleaned")
            raise

    with pytest.raises(FlowCancelled):
        client.run(cancellable(long_wait(), scope))
    assert seen == ["cleaned"]
    assert clock.slept < 10


def test_cancellable_never_interrupts_a_shielded_cleanup() -> None:
    """A stop that arrives during shielded clean-up lets every clean-up step run first."""
    client, _, _ = make()
    scope = CancelScope()
    steps: list[str] = []

    def cleanup() -> Flow[None]:
        scope.cancel()  # the batch is stopped while the first delete is under way
        yield from sleep(0.1)
        steps.append("file deleted")
        yield from sleep(0.1)
        steps.append("job deleted")

    def item() -> Flow[None]:
        yield from shielded(cleanup())
        yield from sleep(1_000)
        steps.append("not reached")

    with pytest.raises(FlowCancelled):
        client.run(cancellable(item(), scope))
    assert steps == ["file deleted", "job deleted"]


def test_a_cancellation_racing_a_finished_shielded_step_loses_no_step() -> None:
    """Cancelled just as a shielded step finished: its result is kept and the next step runs."""
    steps: list[str] = []
    outer: list[asyncio.Task[None]] = []

    @attrs.frozen
    class Step(Effect):
        name: str
        cancel_caller: bool = False

        def run(self, transport: Transport) -> str:
            raise AssertionError("async only")

        async def arun(self, transport: Transport) -> str:
            if self.cancel_caller:
                outer[0].cancel()  # the caller is woken cancelled, with this step already done
            steps.append(self.name)
            return self.name

    def cleanup() -> Flow[None]:
        first = yield Step("delete file", cancel_caller=True)
        assert first == "delete file"
        yield Step("delete job")

    async def main() -> None:
        transport = InMemoryTransport(lambda request: Reply(204), clock=FakeClock())
        outer.append(asyncio.ensure_future(run_async(shielded(cleanup()), transport)))
        with pytest.raises(asyncio.CancelledError):
            await outer[0]

    asyncio.run(main())
    assert steps == ["delete file", "delete job"]
