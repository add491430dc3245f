"""The clients themselves: constructor keywords, the API key, context managers, ``request()``."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest
from compat_support import CompatEmulator, deviation

import soniox.client
from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxError, SonioxValidationError

ALL_KEYWORDS = {
    "websocket_base_url": "wss://stt-rt.example.test/transcribe-websocket",
    "tts_api_base_url": "https://tts-rt.example.test",
    "tts_websocket_base_url": "wss://tts-rt.example.test/tts-websocket",
    "timeout_sec": 12.5,
    "webhook_secret": "hook-secret",
    "webhook_signature_header": "X-Hook-Auth",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# Constructor ----------------------------------------------------------------------------------
def test_constructor_accepts_every_official_keyword(emu: CompatEmulator) -> None:
    """SonioxClient takes all eight official keywords, keeps them as attributes, and works."""
    with SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url, **ALL_KEYWORDS) as c:
        assert c.api_key == emu.api_key
        assert c.api_base_url == emu.rest_base_url
        assert c.websocket_base_url == ALL_KEYWORDS["websocket_base_url"]
        assert c.tts_api_base_url == ALL_KEYWORDS["tts_api_base_url"]
        assert c.tts_websocket_base_url == ALL_KEYWORDS["tts_websocket_base_url"]
        assert c.timeout_sec == 12.5
        assert c.webhook_secret == "hook-secret"
        assert c.webhook_signature_header == "X-Hook-Auth"
        assert any(m.id == "stt-async-v5" for m in c.models.list().models)


def test_async_constructor_accepts_every_official_keyword(emu: CompatEmulator) -> None:
    """AsyncSonioxClient takes all eight official keywords, keeps them, and works."""

    async def main() -> None:
        async with AsyncSonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, **ALL_KEYWORDS
        ) as c:
            assert c.api_key == emu.api_key
            assert c.api_base_url == emu.rest_base_url
            assert c.websocket_base_url == ALL_KEYWORDS["websocket_base_url"]
            assert c.tts_api_base_url == ALL_KEYWORDS["tts_api_base_url"]
            assert c.tts_websocket_base_url == ALL_KEYWORDS["tts_websocket_base_url"]
            assert c.timeout_sec == 12.5
            assert c.webhook_secret == "hook-secret"
            assert c.webhook_signature_header == "X-Hook-Auth"
            models = await c.models.list()
            assert any(m.id == "stt-async-v5" for m in models.models)

    asyncio.run(main())


def test_async_client_takes_the_key_positionally(emu: CompatEmulator) -> None:
    """AsyncSonioxClient's first positional parameter is the API key, as in the official SDK."""

    async def main() -> None:
        c = AsyncSonioxClient(emu.api_key, emu.rest_base_url)
        try:
            assert c.api_key == emu.api_key
            assert (await c.models.list()).models
        finally:
            await c.aclose()

    asyncio.run(main())


@deviation("the production profile reads for 60 s (and connects within 5 s)")
def test_the_default_timeout_is_30_seconds() -> None:
    """Without ``timeout_sec`` the clients wait 30 s."""
    for client_class in (SonioxClient, AsyncSonioxClient):
        assert client_class(api_key="any-key").timeout_sec == 30.0


def test_defaults_point_at_soniox_production() -> None:
    """Without overrides the clients target the production hosts, no webhook secret."""
    for client_class in (SonioxClient, AsyncSonioxClient):
        c = client_class(api_key="any-key")
        assert c.api_base_url == "https://api.soniox.com/v1"
        assert c.websocket_base_url == "wss://stt-rt.soniox.com/transcribe-websocket"
        assert c.tts_api_base_url == "https://tts-rt.soniox.com"
        assert c.tts_websocket_base_url == "wss://tts-rt.soniox.com/tts-websocket"
        assert c.webhook_secret is None
        assert c.webhook_signature_header is None
        if isinstance(c, SonioxClient):
            c.close()
        else:
            asyncio.run(c.aclose())


def test_clients_are_importable_from_soniox_client() -> None:
    """``from soniox.client import SonioxClient`` names the same classes as ``from soniox``."""
    assert soniox.client.SonioxClient is SonioxClient
    assert soniox.client.AsyncSonioxClient is AsyncSonioxClient


def test_api_key_from_environment(emu: CompatEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without api_key the sync client reads SONIOX_API_KEY."""
    monkeypatch.setenv("SONIOX_API_KEY", emu.api_key)
    with SonioxClient(api_base_url=emu.rest_base_url) as c:
        assert c.api_key == emu.api_key
        assert c.models.list().models


def test_async_api_key_from_environment(
    emu: CompatEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without api_key the async client reads SONIOX_API_KEY."""
    monkeypatch.setenv("SONIOX_API_KEY", emu.api_key)

    async def main() -> None:
        async with AsyncSonioxClient(api_base_url=emu.rest_base_url) as c:
            assert c.api_key == emu.api_key
            assert (await c.models.list()).models

    asyncio.run(main())


def test_explicit_key_wins_over_environment(
    emu: CompatEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An api_key argument is used even when SONIOX_API_KEY holds another key."""
    monkeypatch.setenv("SONIOX_API_KEY", "not-the-emulator-key")
    with SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url) as c:
        assert c.models.list().models


def test_missing_key_raises_validation_error() -> None:
    """No api_key and no SONIOX_API_KEY: SonioxValidationError "Please provide api_key"."""
    with pytest.raises(SonioxValidationError, match="Please provide api_key") as caught:
        SonioxClient()
    assert isinstance(caught.value, SonioxError)


def test_async_missing_key_raises_validation_error() -> None:
    """The async client refuses a missing key the same way."""
    with pytest.raises(SonioxValidationError, match="Please provide api_key"):
        AsyncSonioxClient()


# Context managers and closing -------------------------------------------------------------------
def test_with_block_yields_the_client(emu: CompatEmulator) -> None:
    """``with SonioxClient(...) as c`` binds the client itself; ``close()`` may follow."""
    client = SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url)
    with client as c:
        assert c is client
        assert c.files.count().total == 0
    client.close()  # closing twice is harmless


def test_close_without_with(emu: CompatEmulator) -> None:
    """A client used without ``with`` is released by ``close()``."""
    c = SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url)
    try:
        assert c.models.list().models
    finally:
        c.close()


def test_async_with_block_yields_the_client(conn: dict[str, str]) -> None:
    """``async with AsyncSonioxClient(...) as c`` binds the client itself."""

    async def main() -> None:
        client = AsyncSonioxClient(**conn)
        async with client as c:
            assert c is client
            assert (await c.files.count()).total == 0

    asyncio.run(main())


def test_async_aclose(conn: dict[str, str]) -> None:
    """An async client used without ``async with`` is released by ``aclose()``."""

    async def main() -> None:
        c = AsyncSonioxClient(**conn)
        try:
            assert (await c.models.list()).models
        finally:
            await c.aclose()

    asyncio.run(main())


# request() --------------------------------------------------------------------------------------
def test_request_returns_the_response(client: SonioxClient) -> None:
    """``client.request(method, path)`` resolves the path under the base URL and returns the response."""
    response = client.request("GET", "/models")
    assert response.status_code == 200
    assert "stt-async-v5" in {m["id"] for m in response.json()["models"]}


def test_request_sends_params_and_json(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``params=`` become the query string and ``json=`` the body."""
    emu.upload(wav)
    emu.upload(wav)
    page = client.request("GET", "/files", params={"limit": 1})
    assert page.status_code == 200
    assert len(page.json()["files"]) == 1
    assert page.json()["next_page_cursor"]
    created = client.request(
        "POST",
        "/auth/temporary-api-key",
        json={"usage_type": "transcribe_websocket", "expires_in_seconds": 60},
    )
    assert created.status_code == 201
    assert created.json()["api_key"]


def test_request_uploads_with_files_and_data(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``files=`` and ``data=`` make a multipart upload."""
    response = client.request(
        "POST",
        "/files",
        files={"file": ("raw.wav", wav)},
        data={"client_reference_id": "raw-upload"},
    )
    assert response.status_code == 201
    stored = emu.file(response.json()["id"])
    assert stored is not None
    assert (stored["filename"], stored["size"], stored["client_reference_id"]) == (
        "raw.wav",
        len(wav),
        "raw-upload",
    )


def test_request_returns_error_responses_without_raising(client: SonioxClient) -> None:
    """A 404 from ``request()`` comes back as a response, not an exception."""
    response = client.request("GET", f"/files/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["error_type"] == "file_not_found"


def test_async_request(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """``await client.request(...)`` sends params and json and returns the response."""
    emu.upload(wav)
    emu.upload(wav)

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as c:
            page = await c.request("GET", "/files", params={"limit": 1})
            assert page.status_code == 200
            assert len(page.json()["files"]) == 1
            created = await c.request(
                "POST",
                "/auth/temporary-api-key",
                json={"usage_type": "transcribe_websocket", "expires_in_seconds": 60},
            )
            assert created.status_code == 201
            assert created.json()["api_key"]

    asyncio.run(main())


def test_async_request_returns_error_responses(conn: dict[str, str]) -> None:
    """An error answer to ``await client.request(...)`` comes back as a response."""

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as c:
            missing = await c.request("GET", f"/transcriptions/{uuid.uuid4()}")
            assert missing.status_code == 404
            assert missing.json()["error_type"] == "transcription_not_found"

    asyncio.run(main())


# Extra keywords go to httpx; network failures are httpx's ----------------------------------------
def test_extra_keywords_reach_httpx(emu: CompatEmulator) -> None:
    """Unknown constructor keywords (here ``event_hooks=``) are passed on to ``httpx.Client``."""
    seen: list[str] = []

    def on_request(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    with SonioxClient(
        api_key=emu.api_key,
        api_base_url=emu.rest_base_url,
        event_hooks={"request": [on_request]},
    ) as c:
        c.models.list()
    assert seen == ["GET /v1/models"]


def test_async_extra_keywords_reach_httpx(emu: CompatEmulator) -> None:
    """Unknown constructor keywords are passed on to ``httpx.AsyncClient``."""
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    async def main() -> None:
        async with AsyncSonioxClient(
            api_key=emu.api_key,
            api_base_url=emu.rest_base_url,
            event_hooks={"request": [on_request]},
        ) as c:
            await c.models.list()

    asyncio.run(main())
    assert seen == ["GET /v1/models"]


def test_timeout_sec_bounds_a_slow_call(emu: CompatEmulator) -> None:
    """A call slower than ``timeout_sec`` raises httpx's timeout error."""
    emu.slow("/v1/models", 3.0)
    with (
        SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url, timeout_sec=0.3) as c,
        pytest.raises(httpx.TimeoutException),
    ):
        c.models.list()


def test_unreachable_server_raises_httpx_connect_error(emu: CompatEmulator) -> None:
    """Nothing listening at the base URL: httpx's ``ConnectError`` reaches the caller."""
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with (
        SonioxClient(api_key=emu.api_key, api_base_url=url) as c,
        pytest.raises(httpx.ConnectError),
    ):
        c.models.list()
