"""``client.webhooks``: verify_signature, unwrap and webhook_payload, for both clients."""

from __future__ import annotations

import asyncio
import inspect
import json

import httpx
import pytest
from compat_support import CompatEmulator, SideServer

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import InvalidWebhookSignatureError, SonioxError
from soniox.types import CreateTranscriptionConfig, WebhookAuthConfig, WebhookEvent

BODY = json.dumps({"id": "8f0c5d8e-0b8a-4c47-9d7e-3f3c1d7a2b10", "status": "completed"})


@pytest.fixture
def secret_client(emu: CompatEmulator) -> SonioxClient:
    return SonioxClient(
        api_key=emu.api_key, api_base_url=emu.rest_base_url, webhook_secret="s3cret"
    )


def test_verify_signature_with_the_client_secret(secret_client: SonioxClient) -> None:
    """The default header X-Soniox-Webhook-Secret must carry the client's ``webhook_secret``."""
    webhooks = secret_client.webhooks
    assert webhooks.verify_signature({"X-Soniox-Webhook-Secret": "s3cret"}) is None
    with pytest.raises(InvalidWebhookSignatureError):
        webhooks.verify_signature({"X-Soniox-Webhook-Secret": "guess"})
    with pytest.raises(InvalidWebhookSignatureError):
        webhooks.verify_signature({})


def test_header_names_match_case_insensitively(secret_client: SonioxClient) -> None:
    """Header names are compared case-insensitively, in a dict or a framework's header mapping."""
    secret_client.webhooks.verify_signature({"x-soniox-webhook-secret": "s3cret"})
    secret_client.webhooks.verify_signature(httpx.Headers({"X-SONIOX-WEBHOOK-SECRET": "s3cret"}))


def test_custom_header_name_from_the_client(emu: CompatEmulator) -> None:
    """``webhook_signature_header=`` moves the secret to another header."""
    with SonioxClient(
        api_key=emu.api_key,
        api_base_url=emu.rest_base_url,
        webhook_secret="s3cret",
        webhook_signature_header="X-My-Hook",
    ) as client:
        client.webhooks.verify_signature({"X-My-Hook": "s3cret"})
        with pytest.raises(InvalidWebhookSignatureError):
            client.webhooks.verify_signature({"X-Soniox-Webhook-Secret": "s3cret"})


def test_secret_and_header_from_the_environment(
    emu: CompatEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SONIOX_API_WEBHOOK_SECRET and SONIOX_API_WEBHOOK_HEADER configure a client given neither."""
    monkeypatch.setenv("SONIOX_API_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("SONIOX_API_WEBHOOK_HEADER", "X-Env-Hook")
    with SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url) as client:
        event = client.webhooks.unwrap(BODY, {"X-Env-Hook": "from-env"})
        assert event.status == "completed"
        with pytest.raises(InvalidWebhookSignatureError):
            client.webhooks.unwrap(BODY, {"X-Env-Hook": "other"})
        assert client.webhooks.webhook_payload("https://example.test/hook") == {
            "webhook_url": "https://example.test/hook",
            "webhook_auth_header_name": "X-Env-Hook",
            "webhook_auth_header_value": "from-env",
        }


def test_secret_from_the_environment_with_the_default_header(
    emu: CompatEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SONIOX_API_WEBHOOK_SECRET alone uses the default X-Soniox-Webhook-Secret header."""
    monkeypatch.setenv("SONIOX_API_WEBHOOK_SECRET", "env-only")
    with SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url) as client:
        client.webhooks.verify_signature({"X-Soniox-Webhook-Secret": "env-only"})
        with pytest.raises(InvalidWebhookSignatureError):
            client.webhooks.verify_signature({"X-Soniox-Webhook-Secret": "nope"})


def test_explicit_auth_config_wins(secret_client: SonioxClient) -> None:
    """``auth=WebhookAuthConfig(name=, value=)`` replaces the client's own secret."""
    auth = WebhookAuthConfig(name="Authorization", value="Bearer hook-token")
    secret_client.webhooks.verify_signature({"authorization": "Bearer hook-token"}, auth=auth)
    with pytest.raises(InvalidWebhookSignatureError):
        secret_client.webhooks.verify_signature({"X-Soniox-Webhook-Secret": "s3cret"}, auth=auth)


def test_unwrap_parses_bytes_and_str(secret_client: SonioxClient) -> None:
    """``unwrap`` verifies, then parses the body (bytes or str) into a WebhookEvent."""
    headers = {"X-Soniox-Webhook-Secret": "s3cret"}
    for body in (BODY, BODY.encode()):
        event = secret_client.webhooks.unwrap(body, headers)
        assert isinstance(event, WebhookEvent)
        assert (event.id, event.status) == ("8f0c5d8e-0b8a-4c47-9d7e-3f3c1d7a2b10", "completed")
    error_body = json.dumps({"id": "8f0c5d8e-0b8a-4c47-9d7e-3f3c1d7a2b10", "status": "error"})
    assert secret_client.webhooks.unwrap(error_body, headers).status == "error"


def test_unwrap_rejects_a_bad_signature(secret_client: SonioxClient) -> None:
    """A wrong secret: InvalidWebhookSignatureError, a SonioxError."""
    with pytest.raises(InvalidWebhookSignatureError) as caught:
        secret_client.webhooks.unwrap(BODY, {"X-Soniox-Webhook-Secret": "forged"})
    assert isinstance(caught.value, SonioxError)


def test_unwrap_without_a_configured_secret_only_parses(client: SonioxClient) -> None:
    """With no secret anywhere there is nothing to verify: ``unwrap`` just parses."""
    event = client.webhooks.unwrap(BODY, {})
    assert event.status == "completed"


def test_webhook_payload(secret_client: SonioxClient, client: SonioxClient) -> None:
    """``webhook_payload(url)`` gives the create fields, with the auth header when one is known."""
    url = "https://example.test/hook?job=7"
    assert secret_client.webhooks.webhook_payload(url) == {
        "webhook_url": url,
        "webhook_auth_header_name": "X-Soniox-Webhook-Secret",
        "webhook_auth_header_value": "s3cret",
    }
    assert client.webhooks.webhook_payload(url) == {"webhook_url": url}
    auth = WebhookAuthConfig(name="X-Other", value="v")
    assert client.webhooks.webhook_payload(url, auth=auth) == {
        "webhook_url": url,
        "webhook_auth_header_name": "X-Other",
        "webhook_auth_header_value": "v",
    }


def test_webhook_payload_feeds_a_create_config(
    secret_client: SonioxClient, emu: CompatEmulator, side: SideServer, wav: bytes
) -> None:
    """``CreateTranscriptionConfig(**webhook_payload(url))`` makes the job call back, verifiably."""
    url = side.webhook_url()
    config = CreateTranscriptionConfig(**secret_client.webhooks.webhook_payload(url))
    job = secret_client.stt.create(file_id=emu.upload(wav)["id"], config=config)
    assert job.webhook_url == url
    call = side.wait_for_post(url)
    event = secret_client.webhooks.unwrap(call.body, call.headers)
    assert (event.id, event.status) == (job.id, "completed")


def test_async_client_webhooks_are_plain_calls(emu: CompatEmulator) -> None:
    """On AsyncSonioxClient the webhook helpers are synchronous, as in the official SDK."""

    async def main() -> None:
        async with AsyncSonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, webhook_secret="s3cret"
        ) as client:
            headers = {"X-Soniox-Webhook-Secret": "s3cret"}
            checked = client.webhooks.verify_signature(headers)
            assert not inspect.isawaitable(checked)
            event = client.webhooks.unwrap(BODY, headers)
            assert not inspect.isawaitable(event)
            assert event.status == "completed"
            with pytest.raises(InvalidWebhookSignatureError):
                client.webhooks.unwrap(BODY, {"X-Soniox-Webhook-Secret": "no"})
            payload = client.webhooks.webhook_payload("https://example.test/h")
            assert payload["webhook_auth_header_value"] == "s3cret"

    asyncio.run(main())
