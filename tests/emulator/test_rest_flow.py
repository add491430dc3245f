"""The whole async flow with plain httpx, over HTTP/1.1 and HTTP/2 (h2c prior knowledge)."""

from __future__ import annotations

import time

import httpx
import pytest
from openapi_check import OpenApiChecker
from rest_support import make_wav

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]


@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_upload_create_poll_transcript_delete(
    emulator: Emulator, checker: OpenApiChecker, http2: bool
) -> None:
    """Upload -> create -> poll -> transcript -> delete both, every response per the spec."""

    def check(response: httpx.Response, method: str, template: str, status: int) -> object:
        assert response.status_code == status, response.text
        assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        return checker.check(
            method, template, status, response.content, response.headers.get("content-type")
        )

    with httpx.Client(
        base_url=emulator.rest_base_url,
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        http1=not http2,
        http2=http2,
        trust_env=False,
        timeout=10,
    ) as client:
        uploaded = client.post("/files", files={"file": ("call.wav", make_wav(3.0))})
        file = check(uploaded, "POST", "/v1/files", 201)
        assert isinstance(file, dict)
        created = client.post(
            "/transcriptions", json={"model": "stt-async-v5", "file_id": file["id"]}
        )
        job = check(created, "POST", "/v1/transcriptions", 201)
        assert isinstance(job, dict)
        status = job["status"]
        deadline = time.monotonic() + 10
        while status in ("queued", "processing"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
            polled = client.get(f"/transcriptions/{job['id']}")
            status = check(polled, "GET", "/v1/transcriptions/{transcription_id}", 200)["status"]  # type: ignore[index]
        assert status == "completed"
        transcript = check(
            client.get(f"/transcriptions/{job['id']}/transcript"),
            "GET",
            "/v1/transcriptions/{transcription_id}/transcript",
            200,
        )
        assert isinstance(transcript, dict)
        assert transcript["text"].strip()
        check(
            client.delete(f"/transcriptions/{job['id']}"),
            "DELETE",
            "/v1/transcriptions/{transcription_id}",
            204,
        )
        check(client.delete(f"/files/{file['id']}"), "DELETE", "/v1/files/{file_id}", 204)
        count = check(client.get("/files/count"), "GET", "/v1/files/count", 200)
        assert count == {"total": 0, "public_api": 0, "playground": 0}

    versions = {e.http_version for e in emulator.journal.entries(protocol="http")}
    assert versions == {"2" if http2 else "1.1"}
