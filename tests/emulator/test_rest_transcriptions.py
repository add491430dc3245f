"""Transcriptions API over real sockets: lifecycle, transcript, deletion rules, faults, caps."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from rest_support import Api, EmulatorFactory, LocalServer, error_body, make_wav

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]

SLOW_JOBS: dict[str, Any] = {"queue_delay_s": 0.4, "min_processing_s": 0.8}
"""Timings long enough to observe ``queued`` and ``processing`` from the test."""


def _tid(transcription_id: str) -> dict[str, str]:
    return {"transcription_id": transcription_id}


def test_job_goes_queued_processing_completed_with_a_transcript(
    make_emulator: EmulatorFactory,
) -> None:
    """Created ``queued``; ``processing`` with audio_duration_ms set; then ``completed``."""
    _emu, client = make_emulator(**SLOW_JOBS)
    file_id = client.upload(make_wav(2.0))["id"]
    created = client.create(file_id=file_id, client_reference_id="job-1")
    assert created["status"] == "queued"
    assert created["audio_duration_ms"] is None
    assert created["filename"] == "audio.wav"
    assert created["file_id"] == file_id
    processing = client.wait(created["id"], lambda t: t["status"] != "queued")
    assert processing["status"] == "processing"
    assert processing["audio_duration_ms"] == 2000
    done = client.wait(created["id"])
    assert done["status"] == "completed"
    assert done["error_type"] is None
    assert done["error_message"] is None
    transcript = client.call(
        "GET",
        "/v1/transcriptions/{transcription_id}/transcript",
        path_params=_tid(created["id"]),
        expect=200,
    ).json()
    assert transcript["id"] == created["id"]
    assert transcript["tokens"]
    # As the API's example ("Hel", "lo" -> "Hello"): ``text`` is the tokens joined and starts
    # with the first word; later tokens keep their leading spaces.
    assert not transcript["tokens"][0]["text"].startswith(" ")
    assert any(t["text"].startswith(" ") for t in transcript["tokens"][1:])
    assert not transcript["text"].startswith(" ")
    assert transcript["text"] == "".join(t["text"] for t in transcript["tokens"])


def test_transcript_before_completion_is_a_409(make_emulator: EmulatorFactory) -> None:
    """While queued, the transcript is 409 "Can only get transcript with completed status."."""
    _emu, client = make_emulator(queue_delay_s=5.0)
    created = client.create(file_id=client.upload(make_wav(1.0))["id"])
    response = client.call(
        "GET",
        "/v1/transcriptions/{transcription_id}/transcript",
        path_params=_tid(created["id"]),
        expect=409,
    )
    body = error_body(response)
    assert body["error_type"] == "transcription_invalid_state"
    assert body["message"] == "Can only get transcript with completed status."


def test_deleting_a_processing_job_is_a_409(make_emulator: EmulatorFactory) -> None:
    """DELETE while ``processing`` is 409 "Cannot delete transcription with processing status."."""
    _emu, client = make_emulator(queue_delay_s=0.0, min_processing_s=1.0)
    created = client.create(file_id=client.upload(make_wav(1.0))["id"])
    client.wait(created["id"], lambda t: t["status"] == "processing")
    response = client.call(
        "DELETE",
        "/v1/transcriptions/{transcription_id}",
        path_params=_tid(created["id"]),
        expect=409,
    )
    body = error_body(response)
    assert body["error_type"] == "transcription_invalid_state"
    assert body["message"] == "Cannot delete transcription with processing status."


def test_deleting_a_queued_job_cancels_it(make_emulator: EmulatorFactory) -> None:
    """DELETE while ``queued`` is 204 and the job is gone (404 afterwards)."""
    _emu, client = make_emulator(queue_delay_s=5.0)
    created = client.create(file_id=client.upload(make_wav(1.0))["id"])
    params = _tid(created["id"])
    client.call("DELETE", "/v1/transcriptions/{transcription_id}", path_params=params, expect=204)
    client.call("GET", "/v1/transcriptions/{transcription_id}", path_params=params, expect=404)


def test_completed_job_is_deleted_but_its_file_stays(api: Api) -> None:
    """Deleting a finished transcription gives 204 and leaves the uploaded file in place."""
    file_id = api.upload(make_wav(1.0))["id"]
    created = api.create(file_id=file_id)
    api.wait(created["id"])
    deleted = api.call(
        "DELETE",
        "/v1/transcriptions/{transcription_id}",
        path_params=_tid(created["id"]),
        expect=204,
    )
    assert deleted.content == b""
    api.call("GET", "/v1/files/{file_id}", path_params={"file_id": file_id}, expect=200)
    assert api.call("GET", "/v1/transcriptions/count", expect=200).json()["total"] == 0


def test_job_still_completes_when_its_file_is_deleted_meanwhile(
    make_emulator: EmulatorFactory,
) -> None:
    """A job keeps its own reference to the audio: deleting the file after create is harmless."""
    _emu, client = make_emulator(queue_delay_s=0.2)
    file_id = client.upload(make_wav(1.0))["id"]
    created = client.create(file_id=file_id)
    client.call("DELETE", "/v1/files/{file_id}", path_params={"file_id": file_id}, expect=204)
    assert client.wait(created["id"])["status"] == "completed"


def test_job_error_fault_fails_the_job_and_the_transcript_says_so(
    api: Api, emulator: Emulator
) -> None:
    """A fired ``job_error`` ends the job in ``error``; the transcript is 409 "...has failed."."""
    emulator.faults.inject(
        "job_error", "/v1/transcriptions", method="POST", error_type="internal_error"
    )
    created = api.create(file_id=api.upload(make_wav(1.0))["id"])
    done = api.wait(created["id"])
    assert done["status"] == "error"
    assert done["error_type"] == "internal_error"
    assert done["error_message"]
    response = api.call(
        "GET",
        "/v1/transcriptions/{transcription_id}/transcript",
        path_params=_tid(created["id"]),
        expect=409,
    )
    assert error_body(response)["message"] == "File transcription has failed."
    entry = emulator.journal.entries(path="/v1/transcriptions", method="POST")[-1]
    assert entry.faults == ["job_error#0"]
    assert entry.notes["transcription_id"] == created["id"]


def test_job_error_fault_message_is_used(api: Api, emulator: Emulator) -> None:
    """The fault's ``message`` becomes the job's ``error_message``; only the first job fails."""
    emulator.faults.inject("job_error", "/v1/transcriptions", message="boom")
    file_id = api.upload(make_wav(1.0))["id"]
    failed = api.wait(api.create(file_id=file_id)["id"])
    ok = api.wait(api.create(file_id=file_id)["id"])
    assert (failed["status"], failed["error_message"]) == ("error", "boom")
    assert ok["status"] == "completed"


def test_undecodable_audio_ends_in_error(api: Api) -> None:
    """Bytes that are not audio make the job end in ``error`` with ``audio_decode_failed``."""
    created = api.create(file_id=api.upload(b"this is not audio at all" * 10)["id"])
    done = api.wait(created["id"])
    assert done["status"] == "error"
    assert done["error_type"] == "audio_decode_failed"
    assert done["error_message"]


def test_audio_url_job_completes(api: Api) -> None:
    """An ``audio_url`` served by a local http.server is fetched and transcribed."""
    with LocalServer(routes={"/media/meeting.wav": (200, make_wav(1.5))}) as media:
        created = api.create(audio_url=f"{media.base_url}/media/meeting.wav")
        assert created["audio_url"].endswith("/media/meeting.wav")
        assert created["filename"] == "meeting.wav"
        assert created["file_id"] is None
        done = api.wait(created["id"])
        assert media.requests()[0].method == "GET"
    assert done["status"] == "completed"
    assert done["audio_duration_ms"] == 1500


def test_failing_audio_url_ends_in_error(api: Api) -> None:
    """An ``audio_url`` answering 404 makes the job end in ``error``."""
    with LocalServer(default_status=404) as media:
        created = api.create(audio_url=f"{media.base_url}/missing.wav")
        done = api.wait(created["id"])
    assert done["status"] == "error"
    assert done["error_type"] == "audio_download_failed"
    assert "404" in (done["error_message"] or "")


def test_unreachable_audio_url_ends_in_error(api: Api) -> None:
    """An ``audio_url`` nobody listens on makes the job end in ``error``."""
    with LocalServer() as media:
        url = f"{media.base_url}/gone.wav"
    done = api.wait(api.create(audio_url=url)["id"])
    assert done["status"] == "error"
    assert done["error_type"] == "audio_download_failed"


def test_webhook_secret_is_always_masked(api: Api) -> None:
    """``webhook_auth_header_value`` comes back masked from create, get and list."""
    secret = "top-secret-value-123"
    with LocalServer() as receiver:
        created = api.create(
            file_id=api.upload(make_wav(0.5))["id"],
            webhook_url=f"{receiver.base_url}/hook",
            webhook_auth_header_name="X-Hook",
            webhook_auth_header_value=secret,
        )
        fetched = api.wait(created["id"])
        listed = api.call("GET", "/v1/transcriptions", expect=200)
    for item in (created, fetched, listed.json()["transcriptions"][0]):
        assert item["webhook_auth_header_value"] == "******************"
        assert item["webhook_auth_header_name"] == "X-Hook"
    assert secret not in listed.text


def test_created_transcription_echoes_the_request(api: Api) -> None:
    """Options sent on create are echoed on the ``Transcription`` (booleans default to false)."""
    with LocalServer() as media:
        created = api.create(
            model="stt-async-v4",
            audio_url=f"{media.base_url}/a%20b.mp3?x=1",
            language_hints=["en", "sl"],
            enable_speaker_diarization=True,
            context={"terms": ["Soniox"], "general": [{"key": "domain", "value": "tests"}]},
        )
        api.wait(created["id"])
    assert created["model"] == "stt-async-v4"
    assert created["filename"] == "a b.mp3"
    assert created["language_hints"] == ["en", "sl"]
    assert created["enable_speaker_diarization"] is True
    assert created["enable_language_identification"] is False
    assert created["context"]["terms"] == ["Soniox"]
    assert created["webhook_auth_header_value"] is None


def test_diarization_and_language_identification_reach_the_tokens(api: Api) -> None:
    """With diarization and language identification on, tokens carry speaker and language."""
    created = api.create(
        file_id=api.upload(make_wav(1.0))["id"],
        enable_speaker_diarization=True,
        enable_language_identification=True,
        language_hints=["de"],
    )
    api.wait(created["id"])
    transcript = api.call(
        "GET",
        "/v1/transcriptions/{transcription_id}/transcript",
        path_params=_tid(created["id"]),
        expect=200,
    ).json()
    assert all(t.get("speaker") and t.get("language") == "de" for t in transcript["tokens"])


def test_unknown_transcription_is_404_everywhere(api: Api) -> None:
    """GET, DELETE and transcript of an unknown (or malformed) id are 404."""
    for transcription_id in (str(uuid.uuid4()), "123"):
        for method, template in (
            ("GET", "/v1/transcriptions/{transcription_id}"),
            ("DELETE", "/v1/transcriptions/{transcription_id}"),
            ("GET", "/v1/transcriptions/{transcription_id}/transcript"),
        ):
            response = api.call(method, template, path_params=_tid(transcription_id), expect=404)
            body = error_body(response)
            assert body["error_type"] == "transcription_not_found"
            assert body["message"] == "Transcription could not be found."


def test_transcriptions_count(api: Api) -> None:
    """The count endpoint reports every stored transcription as public_api."""
    file_id = api.upload(make_wav(0.5))["id"]
    api.create(file_id=file_id)
    api.create(file_id=file_id)
    count = api.call("GET", "/v1/transcriptions/count", expect=200).json()
    assert count == {"total": 2, "public_api": 2, "playground": 0}


def test_pending_cap_answers_429(make_emulator: EmulatorFactory) -> None:
    """More queued jobs than max_pending_transcriptions is 429 ``limit_exceeded``."""
    _emu, client = make_emulator(max_pending_transcriptions=2, queue_delay_s=5.0)
    file_id = client.upload(make_wav(0.5))["id"]
    client.create(file_id=file_id)
    client.create(file_id=file_id)
    response = client.call(
        "POST",
        "/v1/transcriptions",
        json={"model": "stt-async-v5", "file_id": file_id},
        expect=429,
        allow_undocumented_error=True,
    )
    body = error_body(response)
    assert body["error_type"] == "limit_exceeded"
    assert "pending transcriptions" in body["message"]
    assert "limit is 2" in body["message"]


def test_concurrent_creates_never_pass_the_pending_cap_together() -> None:
    """Eight creates at once against a cap of 3 (each copying its audio, an await inside the
    create): exactly 3 are accepted, the other 5 get 429."""
    with Emulator(max_pending_transcriptions=3, queue_delay_s=5.0) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        upload = httpx.post(
            f"{emu.rest_base_url}/files",
            headers=headers,
            files={"file": ("a.wav", make_wav(2.0), "audio/wav")},
            timeout=10,
        )
        body = {"model": "stt-async-v5", "file_id": upload.json()["id"]}

        async def creates() -> list[int]:
            async with httpx.AsyncClient(base_url=emu.rest_base_url, headers=headers) as http:
                answers = await asyncio.gather(
                    *(http.post("/transcriptions", json=body) for _ in range(8))
                )
            return sorted(answer.status_code for answer in answers)

        assert asyncio.run(creates()) == [201] * 3 + [429] * 5


def test_total_cap_answers_429_until_one_is_deleted(make_emulator: EmulatorFactory) -> None:
    """max_total_transcriptions counts finished jobs too; deleting one frees a slot."""
    _emu, client = make_emulator(max_total_transcriptions=1)
    file_id = client.upload(make_wav(0.5))["id"]
    first = client.create(file_id=file_id)
    client.wait(first["id"])
    payload = {"model": "stt-async-v5", "file_id": file_id}
    response = client.call(
        "POST", "/v1/transcriptions", json=payload, expect=429, allow_undocumented_error=True
    )
    assert "limit is 1" in error_body(response)["message"]
    client.call(
        "DELETE",
        "/v1/transcriptions/{transcription_id}",
        path_params=_tid(first["id"]),
        expect=204,
    )
    client.call("POST", "/v1/transcriptions", json=payload, expect=201)
