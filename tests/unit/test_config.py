"""SonioxConfig: defaults, validation messages, the environment, and the profiles' stacks."""

from __future__ import annotations

import pytest

from soniox.config import PRODUCTION_STACK, PROFILES, SonioxConfig
from soniox.errors import ClientValidationError, forget_secret, redact
from soniox.flows.polling import DEFAULT_POLLING, PollingPolicy
from soniox.middleware import Retry, build_stack, registry, retry_policy

KEY = "sk-test-0123456789abcdef"


def test_defaults_are_the_production_profile() -> None:
    """SonioxConfig() and SonioxConfig.production() are the same settings."""
    assert SonioxConfig() == SonioxConfig.production()


def test_default_endpoints_are_the_public_api() -> None:
    """Unset endpoints resolve to REST at api.soniox.com/v1, realtime at stt-rt.soniox.com."""
    config = SonioxConfig().with_environment({})
    assert config.base_url == "https://api.soniox.com/v1"
    assert config.websocket_url == "wss://stt-rt.soniox.com/transcribe-websocket"


def test_with_environment_fills_only_what_is_unset() -> None:
    """Key and endpoints come from the environment unless the config sets them."""
    env = {
        "SONIOX_API_KEY": KEY,
        "SONIOX_API_BASE_URL": "http://127.0.0.1:9/v1",
        "SONIOX_WEBSOCKET_URL": "ws://127.0.0.1:9/ws",
    }
    filled = SonioxConfig.testing().with_environment(env)
    assert (filled.api_key, filled.base_url, filled.websocket_url) == (
        KEY,
        "http://127.0.0.1:9/v1",
        "ws://127.0.0.1:9/ws",
    )
    mine = SonioxConfig(api_key="mine-0123456789", base_url="https://eu.example/v1")
    kept = mine.with_environment(env)
    assert (kept.api_key, kept.base_url) == ("mine-0123456789", "https://eu.example/v1")


def test_a_key_provider_is_not_overridden_by_the_environment() -> None:
    """With api_key_provider set, SONIOX_API_KEY is not read."""
    config = SonioxConfig(api_key_provider=lambda: KEY).with_environment(
        {"SONIOX_API_KEY": "x" * 12}
    )
    assert config.api_key is None


def test_repr_hides_the_api_key() -> None:
    """The key is shown as *** in repr."""
    text = repr(SonioxConfig(api_key=KEY))
    assert KEY not in text
    assert "api_key='***'" in text


def test_the_webhook_secret_is_hidden_and_registered() -> None:
    """The webhook secret shows as *** and is registered for redaction: any text masks it."""
    secret = "whsec-config-1029384756"
    try:
        config = SonioxConfig(webhook_secret=secret)
        assert secret not in repr(config)
        assert "webhook_secret='***'" in repr(config)
        assert redact(f"echo {secret}") == "echo ***"
    finally:
        forget_secret(secret)


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("read_timeout", -1, "seconds > 0, or None"),
        ("max_connections", 0, "whole number >= 1"),
        ("max_retries", -2, "0 disables retries"),
        ("backoff_factor", 0.5, ">= 1"),
        ("base_url", "api.soniox.com", "absolute http or https URL"),
        ("websocket_url", "https://x", "ws or wss"),
        ("retry_statuses", [600], "between 100 and 599"),
        ("middleware", ["headers", ""], "middleware names"),
        ("middleware", ["retry", "retry"], "without duplicates"),
        ("api_key", "  ", "non-empty"),
    ],
)
def test_invalid_values_say_which_field_and_what_to_use(
    field: str, value: object, hint: str
) -> None:
    """Every validation error names the field and what would be accepted."""
    with pytest.raises(ClientValidationError, match=hint) as caught:
        SonioxConfig(**{field: value})
    assert caught.value.field == field


def test_evolve_validates_too() -> None:
    """Changed copies are checked like new ones."""
    with pytest.raises(ClientValidationError):
        SonioxConfig().evolve(max_retries=-1)


def test_from_env_reads_key_and_urls() -> None:
    """SONIOX_API_KEY and the base URLs come from the environment."""
    config = SonioxConfig.from_env(
        {
            "SONIOX_API_KEY": KEY,
            "SONIOX_API_BASE_URL": "http://127.0.0.1:8080/v1",
            "SONIOX_WEBSOCKET_URL": "ws://127.0.0.1:8080/transcribe-websocket",
        }
    )
    assert config.api_key == KEY
    assert config.base_url == "http://127.0.0.1:8080/v1"
    assert config.websocket_url == "ws://127.0.0.1:8080/transcribe-websocket"


def test_from_env_picks_a_profile_and_knobs() -> None:
    """SONIOX_PROFILE chooses the profile; SONIOX_HTTP2 / MAX_RETRIES / TIMEOUT adjust it."""
    config = SonioxConfig.from_env(
        {
            "SONIOX_PROFILE": "cost",
            "SONIOX_HTTP2": "0",
            "SONIOX_MAX_RETRIES": "7",
            "SONIOX_TIMEOUT": "12.5",
        }
    )
    assert config.profile == "cost"
    assert (config.http2, config.max_retries, config.read_timeout) == (False, 7, 12.5)


def test_from_env_overrides_win() -> None:
    """Keyword overrides beat the environment."""
    config = SonioxConfig.from_env({"SONIOX_API_KEY": KEY}, api_key="other-key-123")
    assert config.api_key == "other-key-123"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"SONIOX_PROFILE": "turbo"}, "SONIOX_PROFILE"),
        ({"SONIOX_HTTP2": "maybe"}, "SONIOX_HTTP2"),
        ({"SONIOX_MAX_RETRIES": "two"}, "SONIOX_MAX_RETRIES"),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], name: str) -> None:
    """A bad environment value is reported by its variable name."""
    with pytest.raises(ClientValidationError, match=name):
        SonioxConfig.from_env(env)


def test_empty_environment_means_no_key() -> None:
    """No SONIOX_API_KEY: the config has no key (the client reports it)."""
    assert SonioxConfig.from_env({}).api_key is None


@pytest.mark.parametrize(
    ("profile", "stack"),
    [
        ("production", list(PRODUCTION_STACK)),
        ("realtime", ["headers", "tracing", "metrics", "retry", "rate_limit", "logging"]),
        ("cost", list(PRODUCTION_STACK)),
        ("development", ["headers", "tracing", "metrics", "logging"]),
        ("testing", ["headers", "tracing", "metrics", "retry", "logging"]),
    ],
)
def test_each_profile_assembles_its_documented_stack(profile: str, stack: list[str]) -> None:
    """The stack a profile builds matches the one its docstring documents."""
    config = getattr(SonioxConfig, profile)(api_key=KEY)
    assert config.profile == profile
    assert build_stack(config).names == stack
    doc = getattr(SonioxConfig, profile).__doc__
    assert " → ".join(stack) + " → transport" in " ".join(doc.split())


def test_production_turns_every_middleware_family_on() -> None:
    """All nine built-ins, with a retry budget, the adaptive rate and a concurrency cap set."""
    config = SonioxConfig.production()
    assert set(config.middleware) == {
        "headers", "rate_limit", "concurrency", "retry", "cache",
        "dedup", "metrics", "tracing", "logging",
    }  # fmt: skip
    assert config.retry_budget == 500
    assert config.rate_limit_adaptive is True
    assert config.max_concurrent_calls == config.max_connections
    assert config.metrics_sink == "memory"


def test_the_cost_profile_polls_slowly() -> None:
    """cost() waits longer between polls than the default policy, from its poll_* knobs."""
    policy = PollingPolicy.from_config(SonioxConfig.cost())
    assert policy.first_delay > DEFAULT_POLLING.first_delay
    assert policy.max_delay > DEFAULT_POLLING.max_delay
    assert PollingPolicy.from_config(SonioxConfig()) is DEFAULT_POLLING


def test_a_poll_cap_below_the_first_delay_fails_at_construction() -> None:
    """poll_max_delay < poll_first_delay is refused, naming the field."""
    with pytest.raises(ClientValidationError) as caught:
        SonioxConfig(poll_first_delay=5.0, poll_max_delay=2.0)
    assert caught.value.field == "poll_max_delay"


def test_profiles_accept_overrides() -> None:
    """A profile is a starting point: keyword arguments replace its values."""
    assert SonioxConfig.cost(max_retries=1).max_retries == 1
    assert SonioxConfig.cost().http2 is True


def test_every_registered_builtin_builds() -> None:
    """build_stack can make each built-in name a config may list."""
    builtins = PRODUCTION_STACK
    assert set(builtins) <= set(registry.names)
    config = SonioxConfig(api_key=KEY, middleware=builtins)
    assert build_stack(config).names == list(builtins)


def test_every_profile_is_a_classmethod() -> None:
    """PROFILES lists only constructors that exist."""
    for name in PROFILES:
        assert isinstance(getattr(SonioxConfig, name)(), SonioxConfig)


def test_retry_knobs_flow_into_the_policy() -> None:
    """max_retries, backoff and the Retry-After cap reach the retry middleware."""
    config = SonioxConfig(max_retries=4, backoff_base=0.2, backoff_cap=3, retry_after_cap=9)
    policy = retry_policy(config)
    assert policy.max_retries == 4
    assert (policy.backoff.base, policy.backoff.cap) == (0.2, 3)
    assert policy.retry_after.cap == 9
    retry = build_stack(config)["retry"]
    assert isinstance(retry, Retry)
    assert retry.policy == policy
