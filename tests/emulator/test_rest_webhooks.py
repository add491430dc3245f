"""Webhook delivery over real sockets to a loopback receiver: payload, auth header, retries."""

from __future__ import annotations

import json
import time

from rest_support import Api, EmulatorFactory, LocalServer, make_wav

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]


def test_webhook_is_delivered_with_the_auth_header(api: Api) -> None:
    """On completion the receiver gets ``{"id", "status"}`` with the configured header."""
    with LocalServer() as receiver:
        created = api.create(
            file_id=api.upload(make_wav(0.5))["id"],
            webhook_url=f"{receiver.base_url}/hooks/soniox?job=42",
            webhook_auth_header_name="X-Webhook-Secret",
            webhook_auth_header_value="s3cr3t",
        )
        [delivery] = receiver.wait_for(1)
    assert delivery.method == "POST"
    assert delivery.path == "/hooks/soniox?job=42"
    assert delivery.headers["x-webhook-secret"] == "s3cr3t"
    assert delivery.headers["content-type"] == "application/json"
    assert json.loads(delivery.body) == {"id": created["id"], "status": "completed"}
    done = api.wait(created["id"], lambda t: t["webhook_status_code"] is not None)
    assert done["webhook_status_code"] == 200


def test_webhook_reports_a_failed_job(api: Api, emulator: Emulator) -> None:
    """A job that ends in ``error`` is announced with ``status: error``."""
    emulator.faults.inject("job_error", "/v1/transcriptions")
    with LocalServer() as receiver:
        created = api.create(
            file_id=api.upload(make_wav(0.5))["id"], webhook_url=f"{receiver.base_url}/hook"
        )
        [delivery] = receiver.wait_for(1)
    assert json.loads(delivery.body) == {"id": created["id"], "status": "error"}
    assert "x-webhook-secret" not in delivery.headers


def test_failing_receiver_is_retried_and_its_status_recorded(
    make_emulator: EmulatorFactory,
) -> None:
    """A receiver answering 500 gets ``webhook_attempts`` tries; 500 is recorded."""
    _emu, client = make_emulator(webhook_attempts=3, webhook_retry_delay_s=0.02)
    with LocalServer(default_status=500) as receiver:
        created = client.create(
            file_id=client.upload(make_wav(0.5))["id"], webhook_url=f"{receiver.base_url}/h"
        )
        deliveries = receiver.wait_for(3)
        done = client.wait(created["id"], lambda t: t["webhook_status_code"] is not None)
    assert len(deliveries) == 3
    assert all(json.loads(d.body)["id"] == created["id"] for d in deliveries)
    assert done["webhook_status_code"] == 500


def test_retry_stops_at_the_first_success(make_emulator: EmulatorFactory) -> None:
    """A receiver that recovers gets no further attempts and its 2xx status is recorded."""
    _emu, client = make_emulator(webhook_attempts=5, webhook_retry_delay_s=0.2)
    with LocalServer(default_status=503) as receiver:
        created = client.create(
            file_id=client.upload(make_wav(0.5))["id"], webhook_url=f"{receiver.base_url}/h"
        )
        receiver.wait_for(1)
        receiver.default_status = 204
        client.wait(created["id"], lambda t: t["webhook_status_code"] == 204)
        attempts = len(receiver.requests())
    assert 2 <= attempts < 5


def test_unreachable_receiver_leaves_the_status_null(make_emulator: EmulatorFactory) -> None:
    """When no attempt gets an HTTP answer ``webhook_status_code`` stays null."""
    emu, client = make_emulator(webhook_attempts=2, webhook_retry_delay_s=0.01)
    with LocalServer() as receiver:
        url = f"{receiver.base_url}/gone"
    created = client.create(file_id=client.upload(make_wav(0.5))["id"], webhook_url=url)
    assert client.wait(created["id"])["status"] == "completed"
    deadline = time.monotonic() + 5
    while emu.app.rest.webhooks.pending and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emu.app.rest.webhooks.pending == 0
    assert client.get(created["id"])["webhook_status_code"] is None
