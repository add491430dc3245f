"""models.list() end to end through the stack against the emulator; and its example script."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import AuthenticationError, RateLimitError
from soniox.middleware import user_agent
from soniox.types import Model, TTSModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("http2", [False, True], ids=["h1", "h2"])
def test_sync_models_list(emulator: Emulator, http2: bool) -> None:
    """SonioxClient.models.list() returns typed models over HTTP/1.1 and HTTP/2."""
    config = SonioxConfig(api_key=emulator.api_key, base_url=emulator.rest_base_url, http2=http2)
    with SonioxClient(config=config) as client:
        models = client.models.list().models
    assert models
    assert all(isinstance(m, Model) for m in models)
    entry = emulator.journal.entries(path="/v1/models")[0]
    assert entry.http_version == ("2" if http2 else "1.1")


@pytest.mark.parametrize("http2", [False, True], ids=["h1", "h2"])
def test_async_models_list(emulator: Emulator, http2: bool) -> None:
    """AsyncSonioxClient gives the same models through the async driver."""
    config = SonioxConfig(api_key=emulator.api_key, base_url=emulator.rest_base_url, http2=http2)

    async def main() -> list[str]:
        async with AsyncSonioxClient(config=config) as client:
            return [m.id for m in (await client.models.list()).models]

    with SonioxClient(config=config) as client:
        expected = [m.id for m in client.models.list().models]
    assert asyncio.run(main()) == expected


def test_requests_carry_bearer_auth_and_user_agent(emulator: Emulator) -> None:
    """The server sees the bearer key and the SDK's User-Agent."""
    config = SonioxConfig(api_key=emulator.api_key, base_url=emulator.rest_base_url)
    with SonioxClient(config=config) as client:
        client.models.list()
    entry = emulator.journal.entries(path="/v1/models")[0]
    assert entry.auth == "bearer"
    assert entry.header("user-agent") == user_agent()


def test_a_wrong_key_raises_authentication_error(emulator: Emulator) -> None:
    """401 from the server is AuthenticationError, not retried, without the key in it."""
    wrong = "wrong-key-0123456789abcdef"
    config = SonioxConfig.testing(api_key=wrong, base_url=emulator.rest_base_url)
    with SonioxClient(config=config) as client, pytest.raises(AuthenticationError) as caught:
        client.models.list()
    assert caught.value.status == 401
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)
    assert len(emulator.journal.entries(path="/v1/models")) == 1


def test_many_concurrent_calls_share_one_http2_connection(emulator: Emulator) -> None:
    """100 concurrent async calls all succeed over h2 (multiplexed; no cache or dedup, so each
    one reaches the server)."""
    config = SonioxConfig.testing(
        api_key=emulator.api_key, base_url=emulator.rest_base_url, http2=True, max_connections=100
    )

    async def main() -> int:
        async with AsyncSonioxClient(config=config) as client:
            results = await asyncio.gather(*[client.models.list() for _ in range(100)])
            return len(results)

    assert asyncio.run(main()) == 100
    entries = emulator.journal.entries(path="/v1/models")
    assert len(entries) == 100
    assert {e.http_version for e in entries} == {"2"}


def test_the_example_lists_models_against_the_emulator(emulator: Emulator) -> None:
    """examples/models_list.py prints one line per model, configured only by environment."""
    env = {
        **os.environ,
        "SONIOX_API_KEY": emulator.api_key,
        "SONIOX_API_BASE_URL": emulator.rest_base_url,
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "models_list.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    stt_part, tts_part = result.stdout.strip().split("\n\n")
    lines = stt_part.splitlines()
    with SonioxClient(config=SonioxConfig.from_env(env)) as client:
        ids = [m.id for m in client.models.list().models]
        tts_ids = [m.id for m in client.tts_models.list().models]
    assert [line.split()[0] for line in lines] == ids
    assert "languages" in lines[0]
    assert [line.split()[1] for line in tts_part.splitlines()] == tts_ids
    assert "voices: " in tts_part


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tts_models_list(emulator: Emulator, mode: str) -> None:
    """tts_models.list() returns the text-to-speech models with their voices, both clients."""
    config = SonioxConfig(api_key=emulator.api_key, base_url=emulator.rest_base_url)

    async def main() -> list[TTSModel]:
        async with AsyncSonioxClient(config=config) as client:
            return (await client.tts_models.list()).models

    if mode == "sync":
        with SonioxClient(config=config) as client:
            models = client.tts_models.list().models
    else:
        models = asyncio.run(main())
    assert models
    assert all(isinstance(m, TTSModel) and m.voices for m in models)
    assert [e.status for e in emulator.journal.entries(path="/v1/tts-models")] == [200]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/tts-models"])
def test_model_listings_raise_rate_limit_error_without_retries(
    emulator: Emulator, path: str
) -> None:
    """A 429 with retries off is RateLimitError carrying the server's Retry-After."""
    emulator.faults.fail(path, status=429, retry_after=2)
    config = SonioxConfig.testing(api_key=emulator.api_key, base_url=emulator.rest_base_url)
    with (
        SonioxClient(config=config.evolve(max_retries=0)) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        (client.models if path == "/v1/models" else client.tts_models).list()
    assert caught.value.retry_after == 2
