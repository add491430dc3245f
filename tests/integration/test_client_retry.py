"""Retry and Retry-After over loopback under emulator fault plans: sync and async, h1 and h2."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import (
    RateLimitError,
    ReadTimeoutError,
    ResponseLostError,
    ServerError,
    ServiceUnavailableError,
)

Op = Callable[[Any], Any]
TEMP_KEY = "/auth/temporary-api-key"
TEMP_KEY_BODY = {"usage_type": "transcribe_websocket", "expires_in_seconds": 60}


@pytest.fixture(params=[False, True], ids=["h1", "h2"])
def config(request: pytest.FixtureRequest, emulator: Emulator) -> SonioxConfig:
    return SonioxConfig.testing(
        api_key=emulator.api_key, base_url=emulator.rest_base_url, http2=request.param
    )


def invoke(mode: str, config: SonioxConfig, op: Op, **options: Any) -> Any:
    """Run ``op(client)`` on a fresh sync or async client (async: awaited on a new loop)."""
    if mode == "sync":
        with SonioxClient(config=config) as client:
            return op(client.with_options(**options) if options else client)

    async def main() -> Any:
        async with AsyncSonioxClient(config=config) as client:
            return await op(client.with_options(**options) if options else client)

    return asyncio.run(main())


def list_models(client: Any) -> Any:
    return client.models.list()


def create_temp_key(client: Any) -> Any:
    """A POST through the stack that raises its error status (client.request() returns it)."""
    flow = client.request_flow("POST", TEMP_KEY, json=TEMP_KEY_BODY)
    return client.arun(flow) if isinstance(client, AsyncSonioxClient) else client.run(flow)


def statuses(emu: Emulator, path: str, method: str = "GET") -> list[int | None]:
    return [e.status for e in emu.journal.entries(path=path, method=method)]


def test_a_503_is_retried_to_success(emulator: Emulator, mode: str, config: SonioxConfig) -> None:
    """One 503 then the real answer: the caller gets models, the server saw two requests."""
    emulator.faults.fail("/v1/models", status=503)
    models = invoke(mode, config, list_models)
    assert models
    assert statuses(emulator, "/v1/models") == [503, 200]


def test_exhausted_retries_raise_the_last_error(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """Three 503s with max_retries=2: ServiceUnavailableError after exactly three requests."""
    emulator.faults.fail("/v1/models", status=503, times=10)
    with pytest.raises(ServiceUnavailableError):
        invoke(mode, config, list_models)
    assert statuses(emulator, "/v1/models") == [503, 503, 503]


def test_retry_after_ms_is_waited_out(emulator: Emulator, mode: str, config: SonioxConfig) -> None:
    """A 429 with retry-after-ms: 150 delays the retry by at least 150 ms."""
    emulator.faults.fail("/v1/models", status=429, retry_after_ms=150)
    started = time.monotonic()
    invoke(mode, config, list_models)
    entries = emulator.journal.entries(path="/v1/models")
    assert [e.status for e in entries] == [429, 200]
    assert entries[1].started_at - entries[0].started_at >= 0.15
    assert time.monotonic() - started < 5


def test_retry_after_seconds_is_waited_out(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """A 503 with Retry-After: 1 (within the testing cap of 1 s) waits one second."""
    emulator.faults.fail("/v1/models", status=503, retry_after=1)
    invoke(mode, config, list_models)
    entries = emulator.journal.entries(path="/v1/models")
    assert entries[1].started_at - entries[0].started_at >= 1.0


def test_retry_after_over_the_cap_fails_fast(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """Retry-After: 30 with a 1 s cap: RateLimitError at once, retry_after=30, one request."""
    emulator.faults.fail("/v1/models", status=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        invoke(mode, config, list_models)
    assert time.monotonic() - started < 2
    assert caught.value.retry_after == 30
    assert caught.value.request_id
    assert statuses(emulator, "/v1/models") == [429]


def test_reset_before_processing_a_get_is_retried(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """A reset connection on an idempotent GET is retried on a new connection."""
    emulator.faults.inject("reset_before", "/v1/models")
    assert invoke(mode, config, list_models)
    entries = emulator.journal.entries(path="/v1/models")
    assert [e.outcome for e in entries] == ["reset", "completed"]


def test_truncated_body_on_a_get_is_retried(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """A body cut short is a lost response; the GET is sent again."""
    emulator.faults.inject("truncate", "/v1/models", after_bytes=100)
    assert invoke(mode, config, list_models)
    outcomes = [e.outcome for e in emulator.journal.entries(path="/v1/models")]
    assert outcomes[0] == "truncated"
    assert outcomes[-1] == "completed"


def test_a_post_reset_after_processing_is_not_retried(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """The server acted, then the connection died: a POST is not resent (no duplicate)."""
    emulator.faults.inject("reset_after", "/v1/auth/temporary-api-key", method="POST")
    with pytest.raises(ResponseLostError):
        invoke(mode, config, create_temp_key)
    assert len(emulator.journal.entries(path="/v1/auth/temporary-api-key")) == 1


def test_a_post_with_an_idempotency_key_is_retried_after_a_reset(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """With an idempotency key the same lost POST is safe to send again."""
    emulator.faults.inject("reset_after", "/v1/auth/temporary-api-key", method="POST")
    response = invoke(mode, config, create_temp_key, idempotency_key="key-1")
    assert response.status == 201
    assert len(emulator.journal.entries(path="/v1/auth/temporary-api-key")) == 2


def test_a_post_500_is_not_retried(emulator: Emulator, mode: str, config: SonioxConfig) -> None:
    """A 5xx on a POST may hide a side effect: raised after one request."""
    emulator.faults.fail("/v1/auth/temporary-api-key", status=500, method="POST")
    with pytest.raises(ServerError):
        invoke(mode, config, create_temp_key)
    assert statuses(emulator, "/v1/auth/temporary-api-key", "POST") == [500]


def test_a_post_429_is_retried(emulator: Emulator, mode: str, config: SonioxConfig) -> None:
    """A throttled POST was refused unprocessed: retried, created once."""
    emulator.faults.fail("/v1/auth/temporary-api-key", status=429, method="POST", retry_after_ms=10)
    assert invoke(mode, config, create_temp_key).status == 201
    assert statuses(emulator, "/v1/auth/temporary-api-key", "POST") == [429, 201]


def test_a_slow_answer_times_out_and_is_retried(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """Latency past the read timeout raises ReadTimeoutError for the attempt; the retry wins."""
    emulator.faults.inject("latency", "/v1/models", delay_s=1.0)
    assert invoke(mode, config.evolve(read_timeout=0.3), list_models)
    assert len(emulator.journal.entries(path="/v1/models")) == 2


def test_read_timeouts_surface_when_every_attempt_is_slow(
    emulator: Emulator, mode: str, config: SonioxConfig
) -> None:
    """Each attempt timing out ends in ReadTimeoutError after max_retries + 1 attempts."""
    emulator.faults.inject("latency", "/v1/models", delay_s=1.0, times=5)
    with pytest.raises(ReadTimeoutError):
        invoke(mode, config.evolve(read_timeout=0.2, max_retries=1), list_models)
