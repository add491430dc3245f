"""Clients over the in-memory transport: per-call options, error mapping, one flow for both."""

from __future__ import annotations

import asyncio
import json

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import (
    ClientValidationError,
    DeadlineExceededError,
    NotFoundError,
    RateLimitError,
)
from soniox.middleware import Stack
from soniox.transport import (
    FakeClock,
    HttpcoreTransport,
    InMemoryTransport,
    Reply,
    Request,
    Timeout,
)

KEY = "sk-unit-0123456789abcdef"
MODELS = {
    "models": [
        {
            "id": "stt-async-v4",
            "aliased_model_id": None,
            "name": "Speech-to-Text Async v4",
            "context_version": 2,
            "transcription_mode": "async",
            "languages": [{"code": "en", "name": "English"}],
            "supports_language_hints_strict": True,
            "supports_max_endpoint_delay": False,
            "translation_targets": [],
            "two_way_translation_pairs": [],
            "one_way_translation": None,
            "two_way_translation": None,
            "a_field_from_the_future": 1,
        }
    ]
}


def client(transport: InMemoryTransport, **config: object) -> SonioxClient:
    cfg = SonioxConfig.testing(api_key=KEY, base_url="http://127.0.0.1:9/v1", **config)
    return SonioxClient(config=cfg, transport=transport)


def models_transport(clock: FakeClock | None = None) -> InMemoryTransport:
    return InMemoryTransport(lambda r: Reply(200, json_body=MODELS), clock=clock)


def test_models_list_returns_typed_models() -> None:
    """models.list() parses the body into Model objects (unknown fields tolerated)."""
    models = client(models_transport()).models.list().models
    assert [m.id for m in models] == ["stt-async-v4"]
    assert models[0].languages[0].code == "en"


def test_async_client_runs_the_same_operation() -> None:
    """AsyncSonioxClient.models.list() gives the same result through the async driver."""

    async def main() -> list[str]:
        cfg = SonioxConfig.testing(api_key=KEY, base_url="http://127.0.0.1:9/v1")
        async with AsyncSonioxClient(config=cfg, transport=models_transport()) as ac:
            return [m.id for m in (await ac.models.list()).models]

    assert asyncio.run(main()) == ["stt-async-v4"]


def test_requests_go_to_the_base_url_with_auth() -> None:
    """The path joins the configured base URL; the headers middleware adds the key."""
    transport = models_transport()
    client(transport).models.list()
    sent = transport.requests[0]
    assert str(sent.url) == "http://127.0.0.1:9/v1/models"
    assert sent.headers.get("authorization") == f"Bearer {KEY}"
    assert sent.options.operation == "models.list"


def test_request_returns_error_answers_as_the_official_sdk_does() -> None:
    """client.request() hands back a 404 (httpx semantics); the typed error is one call away."""
    body = b'{"error_type": "file_not_found", "message": "gone", "request_id": "r1"}'
    transport = InMemoryTransport(lambda r: Reply(404, content=body))
    response = client(transport).request("GET", "/files/x")
    assert (response.status_code, response.json()["request_id"]) == (404, "r1")


def test_error_statuses_raise_typed_errors() -> None:
    """A 404 answer becomes NotFoundError with the body's details."""
    body = b'{"error_type": "file_not_found", "message": "gone", "request_id": "r1"}'
    transport = InMemoryTransport(lambda r: Reply(404, content=body))
    with pytest.raises(NotFoundError) as caught:
        client(transport).request("GET", "/files/x").raise_for_status()
    assert (caught.value.error_type, caught.value.request_id) == ("file_not_found", "r1")


def test_exhausted_retries_raise_the_last_status() -> None:
    """Three 429s with max_retries=2: RateLimitError after three attempts."""
    transport = InMemoryTransport.sequence([Reply(429)], clock=FakeClock())
    with pytest.raises(RateLimitError):
        client(transport).request("GET", "/models").raise_for_status()
    assert len(transport.requests) == 3


def test_with_options_max_retries_zero_disables_retries() -> None:
    """A per-call override reaches the retry middleware."""
    transport = InMemoryTransport.sequence([Reply(503), Reply(200)], clock=FakeClock())
    with pytest.raises(Exception, match="503"):
        client(transport).with_options(max_retries=0).request("GET", "/models").raise_for_status()
    assert len(transport.requests) == 1


def test_with_options_timeout_travels_on_the_request() -> None:
    """A per-call timeout is set on every request of that view."""
    transport = models_transport()
    client(transport).with_options(timeout=3).models.list()
    assert transport.requests[0].options.timeout == Timeout.of(3)


def test_with_options_deadline_is_absolute_per_call() -> None:
    """deadline=5 means 5 s from the start of each call, on the transport clock."""
    clock = FakeClock()
    transport = models_transport(clock)
    view = client(transport).with_options(deadline=5)
    view.models.list()
    clock.advance(100)
    view.models.list()
    first, second = (r.options.deadline for r in transport.requests)
    assert first == clock.start + 5
    assert second == clock.start + 105


def test_deadline_bounds_all_attempts_and_waits() -> None:
    """Slow failures stop at the deadline instead of running every retry."""
    clock = FakeClock()
    transport = InMemoryTransport(lambda r: Reply(503, latency=0.4), clock=clock)
    view = client(transport, max_retries=50).with_options(deadline=1.0)
    with pytest.raises(DeadlineExceededError):
        view.request("GET", "/models")
    assert clock.now() - clock.start <= 1.0 + 1e-9
    assert len(transport.requests) < 50


def test_with_options_idempotency_key_and_headers() -> None:
    """An idempotency key and extra headers are carried by every request of the view."""
    transport = models_transport()
    view = client(transport).with_options(idempotency_key="k-1", extra_headers={"x-a": "1"})
    view.request("POST", "/auth/temporary-api-key", json={"usage_type": "transcribe_websocket"})
    sent = transport.requests[0]
    assert sent.options.idempotency_key == "k-1"
    assert sent.idempotent
    assert sent.headers.get("x-a") == "1"
    assert sent.headers.get("content-type") == "application/json"
    assert json.loads(transport.bodies[0] or b"") == {"usage_type": "transcribe_websocket"}


def test_views_share_the_stack_and_transport() -> None:
    """with_options does not copy connections or middleware."""
    base = client(models_transport())
    view = base.with_options(timeout=1)
    assert view.stack is base.stack
    assert view.transport is base.transport


def test_closing_a_view_leaves_the_root_usable() -> None:
    """Only the root client owns the connections."""

    base = SonioxClient(config=SonioxConfig.testing(api_key=KEY))
    transport = base.transport
    assert isinstance(transport, HttpcoreTransport)
    base.with_options(timeout=1).close()
    assert not transport.is_closed
    base.close()
    assert transport.is_closed


def test_a_missing_key_is_reported_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key anywhere: ClientValidationError says where to put one."""
    monkeypatch.delenv("SONIOX_API_KEY", raising=False)
    with pytest.raises(ClientValidationError, match="SONIOX_API_KEY"):
        SonioxClient()


def test_the_stack_is_editable_through_the_client() -> None:
    """client.stack is the live stack: removing retry changes behaviour at once."""
    transport = InMemoryTransport.sequence([Reply(503), Reply(200)], clock=FakeClock())
    c = client(transport)
    c.stack.remove("retry")
    with pytest.raises(Exception, match="503"):
        c.request("GET", "/models").raise_for_status()


def test_a_custom_stack_replaces_the_profile_stack() -> None:
    """stack=Stack() sends requests as built (no headers, no retry)."""
    transport = models_transport()
    cfg = SonioxConfig.testing(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    SonioxClient(config=cfg, transport=transport, stack=Stack()).request("GET", "/models")
    assert "authorization" not in transport.requests[0].headers


def test_client_repr_shows_profile_and_stack_not_key() -> None:
    """repr is informative and never shows the key."""
    text = repr(client(models_transport()))
    assert "testing" in text
    assert "headers → tracing → metrics → retry → logging" in text
    assert KEY not in text


def test_flows_can_be_run_by_hand() -> None:
    """client.call(request) is a flow; client.run drives it (the building block of resources)."""
    c = client(models_transport())
    request: Request = c.build_request("GET", "/models")
    assert c.run(c.call(request)).status == 200
