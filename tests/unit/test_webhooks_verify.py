"""Webhooks (pure): constant-time verification, the no-secret policy, parsing, payloads."""

from __future__ import annotations

import hmac
import json
import warnings
from email.message import Message
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import (
    ClientValidationError,
    DecodeError,
    WebhookSignatureError,
    forget_secret,
    redact,
)
from soniox.resources.webhooks import (
    DEFAULT_WEBHOOK_HEADER,
    HEADER_ENV,
    SECRET_ENV,
    WebhookNotConfiguredError,
    Webhooks,
)
from soniox.types import TranscriptionStatus, WebhookAuthConfig

SECRET = "whsec-0123456789abcdef-very-secret"
BODY = b'{"id": "4f9f1bc6-3a2f-4a07-9d49-2d6a58e0d5b0", "status": "completed"}'


def hooks(**kwargs: Any) -> Webhooks:
    return Webhooks(SECRET, environ={}, **kwargs)


def test_the_right_header_passes() -> None:
    """The default header name with the configured secret verifies."""
    hooks().verify({DEFAULT_WEBHOOK_HEADER: SECRET})


@given(
    st.sampled_from(
        ["x-soniox-webhook-secret", "X-SONIOX-WEBHOOK-SECRET", "x-Soniox-webhook-SECRET"]
    )
)
def test_the_header_name_is_case_insensitive(name: str) -> None:
    """Any spelling of the header name is found."""
    hooks().verify({name: SECRET})


def test_a_wrong_value_is_refused_without_showing_either_value() -> None:
    """A mismatch raises WebhookSignatureError; neither secret appears in it."""
    with pytest.raises(WebhookSignatureError) as caught:
        hooks().verify({DEFAULT_WEBHOOK_HEADER: "guess-0123456789"})
    assert caught.value.header_name == DEFAULT_WEBHOOK_HEADER
    assert SECRET not in str(caught.value) + repr(caught.value)
    assert "guess-0123456789" not in str(caught.value)


def test_a_missing_header_is_refused() -> None:
    """No header at all raises WebhookSignatureError naming the header."""
    with pytest.raises(WebhookSignatureError, match=DEFAULT_WEBHOOK_HEADER):
        hooks().verify({"content-type": "application/json"})


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify() compares through hmac.compare_digest."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    hooks().verify({DEFAULT_WEBHOOK_HEADER: SECRET})
    assert calls == [(SECRET.encode(), SECRET.encode())]


def test_non_ascii_secrets_compare_correctly() -> None:
    """Secrets beyond ASCII work (compared as UTF-8 bytes)."""
    webhooks = Webhooks("clé-secrète-ü", environ={})
    webhooks.verify({DEFAULT_WEBHOOK_HEADER: "clé-secrète-ü"})
    with pytest.raises(WebhookSignatureError):
        webhooks.verify({DEFAULT_WEBHOOK_HEADER: "cle-secrete-u"})


def test_no_secret_is_accepted_with_a_logged_warning_as_officially(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without any secret the request passes (official behaviour); one log warning per object,
    and no ``warnings`` warning that ``-W error`` could turn into a failure."""
    webhooks = Webhooks(environ={})
    with warnings.catch_warnings(), caplog.at_level("WARNING", logger="soniox.webhooks"):
        warnings.simplefilter("error")
        webhooks.verify({})
        webhooks.verify({})
    assert [r.getMessage().startswith("accepting a webhook") for r in caplog.records] == [True]


def test_require_secret_refuses_when_none_is_configured() -> None:
    """require_secret=True turns the missing secret into WebhookNotConfiguredError."""
    with pytest.raises(WebhookNotConfiguredError) as caught:
        Webhooks(environ={}, require_secret=True).verify({})
    assert isinstance(caught.value, ClientValidationError)
    assert SECRET_ENV in str(caught.value)


def test_a_per_call_auth_config_is_checked_even_without_a_secret() -> None:
    """``auth=WebhookAuthConfig(...)`` (the official argument) wins over the configuration."""
    auth = WebhookAuthConfig(name="X-Hook", value=SECRET)
    Webhooks(environ={}).verify({"x-hook": SECRET}, auth=auth)
    with pytest.raises(WebhookSignatureError):
        hooks().verify({DEFAULT_WEBHOOK_HEADER: SECRET}, auth=auth)


def test_webhook_payload_uses_a_per_call_auth_config() -> None:
    """webhook_payload(url, auth=...) sends that header and value."""
    auth = WebhookAuthConfig(name="X-Hook", value=SECRET)
    fields = Webhooks(environ={}).webhook_payload("https://example.com/hook", auth=auth)
    assert fields["webhook_auth_header_name"] == "X-Hook"
    assert fields["webhook_auth_header_value"] == SECRET
    assert SECRET not in repr(auth)


@pytest.mark.parametrize("where", ["argument", "environment", "auth"])
def test_every_secret_is_registered_for_redaction(where: str) -> None:
    """The secret given, read from the environment, or passed per call is masked in any text
    once the webhooks object has it (a receiver's error page, a log line, a message)."""
    secret = f"whsec-{where}-5a6b7c8d9e"
    try:
        if where == "argument":
            Webhooks(secret, environ={})
        elif where == "environment":
            Webhooks(environ={SECRET_ENV: secret}).verify({DEFAULT_WEBHOOK_HEADER: secret})
        else:
            auth = WebhookAuthConfig(name="X-Hook", value=secret)
            Webhooks(environ={}).verify({"x-hook": secret}, auth=auth)
        assert redact(f"got {secret}") == "got ***"
    finally:
        forget_secret(secret)


def test_the_environment_configures_name_and_secret() -> None:
    """SONIOX_API_WEBHOOK_HEADER / _SECRET are read when no arguments are given."""
    webhooks = Webhooks(environ={HEADER_ENV: "X-Hook-Auth", SECRET_ENV: SECRET})
    assert webhooks.header_name == "X-Hook-Auth"
    webhooks.verify({"x-hook-auth": SECRET})
    with pytest.raises(WebhookSignatureError):
        webhooks.verify({DEFAULT_WEBHOOK_HEADER: SECRET})


def test_arguments_win_over_the_environment() -> None:
    """An explicit secret and header name override the environment."""
    webhooks = Webhooks(SECRET, "X-Mine", environ={HEADER_ENV: "X-Env", SECRET_ENV: "other"})
    webhooks.verify({"X-Mine": SECRET})


def test_headers_in_any_common_form() -> None:
    """A dict, an HTTPMessage-like object and (name, value) pairs all work."""
    message = Message()
    message[DEFAULT_WEBHOOK_HEADER] = SECRET
    hooks().verify(message)
    hooks().verify([("X-Soniox-Webhook-Secret", SECRET)])


def test_unwrap_parses_bytes_text_and_mappings() -> None:
    """unwrap() gives a typed WebhookEvent from raw or parsed JSON."""
    headers = {DEFAULT_WEBHOOK_HEADER: SECRET}
    for payload in (BODY, BODY.decode(), json.loads(BODY), bytearray(BODY)):
        event = hooks().unwrap(payload, headers)
        assert event.status is TranscriptionStatus.COMPLETED
        assert event.id == "4f9f1bc6-3a2f-4a07-9d49-2d6a58e0d5b0"


def test_unwrap_verifies_before_parsing() -> None:
    """A forged request is refused even when its body is valid."""
    with pytest.raises(WebhookSignatureError):
        hooks().unwrap(BODY, {DEFAULT_WEBHOOK_HEADER: "forged"})


def test_an_unknown_status_parses_as_a_future_value() -> None:
    """A status added to the API later is kept, marked unknown."""
    event = hooks().unwrap(b'{"id": "j1", "status": "archived"}', {DEFAULT_WEBHOOK_HEADER: SECRET})
    assert event.status == "archived"
    assert not event.status.is_known


@pytest.mark.parametrize(
    "body",
    [b'{"id": "", "status": "completed"}', b'{"status": "error"}', b"not json", b'{"id": 5}'],
)
def test_malformed_bodies_raise_decode_error(body: bytes) -> None:
    """An empty or missing id, or a body that is not the event, is a DecodeError."""
    with pytest.raises(DecodeError):
        hooks().unwrap(body, {DEFAULT_WEBHOOK_HEADER: SECRET})


def test_webhook_payload_carries_the_auth_header() -> None:
    """webhook_payload() gives the three create fields verify() expects."""
    assert hooks().webhook_payload("https://example.com/hook?job=1") == {
        "webhook_url": "https://example.com/hook?job=1",
        "webhook_auth_header_name": DEFAULT_WEBHOOK_HEADER,
        "webhook_auth_header_value": SECRET,
    }


def test_webhook_payload_without_a_secret_has_only_the_url() -> None:
    """No secret: only webhook_url."""
    assert Webhooks(environ={}).webhook_payload("http://127.0.0.1:8000/") == {
        "webhook_url": "http://127.0.0.1:8000/"
    }


@pytest.mark.parametrize("url", ["example.com/hook", "ftp://example.com/", ""])
def test_webhook_payload_refuses_a_url_that_is_not_http(url: str) -> None:
    """A relative or non-http URL fails client-side."""
    with pytest.raises(ClientValidationError) as caught:
        hooks().webhook_payload(url)
    assert caught.value.field == "webhook_url"


def test_repr_never_shows_the_secret() -> None:
    """repr says whether a secret is configured, never what it is."""
    text = repr(hooks())
    assert SECRET not in text
    assert "configured" in text


def test_with_secret_returns_a_configured_copy() -> None:
    """with_secret() configures a new object and leaves the original alone."""
    plain = Webhooks(environ={})
    configured = plain.with_secret(SECRET)
    assert configured.configured
    assert not plain.configured


def test_an_empty_secret_argument_is_refused() -> None:
    """Webhooks(secret="") would verify nothing: refused."""
    with pytest.raises(ClientValidationError):
        Webhooks("")
