"""Logging over loopback under fault plans: records per attempt and retry, nothing leaks."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator


@pytest.fixture(params=[False, True], ids=["h1", "h2"])
def config(request: pytest.FixtureRequest, emulator: Emulator) -> SonioxConfig:
    return SonioxConfig.testing(
        api_key=emulator.api_key, base_url=emulator.rest_base_url, http2=request.param
    )


def list_models(mode: str, config: SonioxConfig) -> Any:
    if mode == "sync":
        with SonioxClient(config=config) as client:
            return client.models.list()

    async def main() -> Any:
        async with AsyncSonioxClient(config=config) as client:
            return await client.models.list()

    return asyncio.run(main())


def soniox_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "soniox"]


def test_a_retried_call_logs_each_attempt_and_the_retry(
    emulator: Emulator, mode: str, config: SonioxConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """503 → retry → 200: response(503, attempt 1), retry, response(200, attempt 2)."""
    caplog.set_level(logging.DEBUG, logger="soniox")
    emulator.faults.fail("/v1/models", status=503)
    list_models(mode, config)
    records = soniox_records(caplog)
    events = [(getattr(r, "event", ""), getattr(r, "http_status", None)) for r in records]
    assert events == [
        ("soniox.http.response", 503),
        ("soniox.http.retry", None),
        ("soniox.http.response", 200),
    ]
    assert [getattr(r, "attempt", None) for r in records] == [1, 1, 2]


def test_records_carry_the_server_request_id_and_http_version(
    emulator: Emulator, mode: str, config: SonioxConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """The error body's request_id and the negotiated HTTP version are on the record."""
    caplog.set_level(logging.DEBUG, logger="soniox")
    emulator.faults.fail("/v1/models", status=503)
    list_models(mode, config)
    first = soniox_records(caplog)[0]
    entry = emulator.journal.entries(path="/v1/models")[0]
    assert first.request_id == entry.request_id  # type: ignore[attr-defined]
    expected = "HTTP/2" if config.http2 else "HTTP/1.1"
    assert first.http_version == expected  # type: ignore[attr-defined]


def test_a_dropped_connection_is_logged_as_an_error_then_retried(
    emulator: Emulator, mode: str, config: SonioxConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """A reset yields an error record (ResponseLostError), a retry record, then success."""
    caplog.set_level(logging.DEBUG, logger="soniox")
    emulator.faults.inject("reset_before", "/v1/models")
    list_models(mode, config)
    events = [getattr(r, "event", "") for r in soniox_records(caplog)]
    assert events == ["soniox.http.error", "soniox.http.retry", "soniox.http.response"]
    assert soniox_records(caplog)[0].error == "ResponseLostError"  # type: ignore[attr-defined]


def test_the_api_key_never_appears_in_log_output(
    emulator: Emulator, mode: str, config: SonioxConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing logged on the client's side (ours, httpcore's, h2/hpack's) shows the key.

    (The in-process emulator's own HPACK decoder logs what it receives, so records from its
    thread are not the client's and are skipped.)
    """
    caplog.set_level(logging.DEBUG)
    emulator.faults.fail("/v1/models", status=503)
    list_models(mode, config)
    ours = [r for r in caplog.records if r.threadName == threading.current_thread().name]
    assert any(r.name.startswith("hpack") for r in ours) == config.http2
    assert all(emulator.api_key not in r.getMessage() for r in ours)
    for record in soniox_records(caplog):
        assert emulator.api_key not in str(record.__dict__)
        headers = getattr(record, "request_headers", None)
        assert headers is None or headers["authorization"] == "<redacted>"


def test_quiet_by_default(
    emulator: Emulator, mode: str, config: SonioxConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """With the soniox logger at WARNING nothing is emitted, even with retries."""
    caplog.set_level(logging.WARNING)
    emulator.faults.fail("/v1/models", status=503)
    list_models(mode, config)
    assert soniox_records(caplog) == []
