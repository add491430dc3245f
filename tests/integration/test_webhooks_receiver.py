"""Webhooks end to end: the emulator calls a local receiver that verifies with client.webhooks."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from _api_modes import MODES, Api

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.errors import WebhookSignatureError
from soniox.resources.webhooks import Webhooks
from soniox.types import TranscriptionStatus, WebhookEvent

SECRET = "whsec-integration-0123456789"


class Receiver:
    """A threaded local HTTP server answering 200 to verified webhooks, 401 to others."""

    def __init__(self, webhooks: Webhooks) -> None:
        self.events: queue.Queue[WebhookEvent] = queue.Queue()
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    receiver.events.put(webhooks.unwrap(body, self.headers))
                    self.send_response(200)
                except WebhookSignatureError:
                    receiver.refused += 1
                    self.send_response(401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?job=7"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(Webhooks(SECRET, environ={}))
    yield server
    server.close()


def create_job(emulator: Emulator, webhook_fields: dict[str, str]) -> str:
    with SonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url) as client:
        file_id = client.files.upload(sample_path()).id
        job = client.request(
            "POST",
            "/transcriptions",
            json={"model": "stt-async-v4", "file_id": file_id, **webhook_fields},
        )
        return str(job.json()["id"])


@pytest.mark.parametrize("mode", MODES)
def test_the_emulators_webhook_is_verified_and_parsed(
    emulator: Emulator, receiver: Receiver, mode: str
) -> None:
    """webhook_payload() on the sending side, unwrap() on the receiving side: the event arrives."""
    fields = Api.for_emulator(mode, emulator)(
        lambda c: c.webhooks.with_secret(SECRET).webhook_payload(receiver.url)
    )
    job_id = create_job(emulator, fields)
    event = receiver.events.get(timeout=10)
    assert event.id == job_id
    assert event.status is TranscriptionStatus.COMPLETED
    assert receiver.refused == 0


def test_a_failed_job_is_reported_as_error(emulator: Emulator, receiver: Receiver) -> None:
    """A job that fails sends status error."""
    emulator.faults.inject("job_error", "/v1/transcriptions", message="decoder exploded")
    job_id = create_job(emulator, Webhooks(SECRET, environ={}).webhook_payload(receiver.url))
    event = receiver.events.get(timeout=10)
    assert (event.id, event.status) == (job_id, TranscriptionStatus.ERROR)


def test_a_wrong_secret_is_refused_and_the_api_records_401(
    emulator: Emulator, receiver: Receiver
) -> None:
    """A sender with another secret is refused every time; the job's webhook_status_code is 401."""
    job_id = create_job(
        emulator, Webhooks("another-secret-xyz", environ={}).webhook_payload(receiver.url)
    )
    with SonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url) as client:
        deadline = time.monotonic() + 10
        while True:
            job = client.request("GET", f"/transcriptions/{job_id}").json()
            if job.get("webhook_status_code") is not None and receiver.refused >= 3:
                break
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert job["webhook_status_code"] == 401
    assert receiver.events.empty()


def test_both_clients_carry_a_webhooks_helper(emulator: Emulator) -> None:
    """client.webhooks is the same pure helper on both clients."""
    with SonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url) as client:
        assert isinstance(client.webhooks, Webhooks)
    async_client = AsyncSonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url)
    assert isinstance(async_client.webhooks, Webhooks)
