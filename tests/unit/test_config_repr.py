"""``repr(SonioxConfig)`` stays readable: the retried statuses as ranges (issue 11 §4)."""

from __future__ import annotations

import re

from soniox import SonioxConfig


def _statuses(config: SonioxConfig) -> str:
    found = re.search(r"retry_statuses=(\{[^}]*\})", repr(config))
    assert found is not None
    return found.group(1)


def test_statuses_read_as_ranges() -> None:
    """Not a hundred integers: ``{408, 409, 429, 500-599}``."""
    config = SonioxConfig(retry_statuses={408, 409, 429, *range(500, 600)})
    assert _statuses(config) == "{408, 409, 429, 500-599}"


def test_the_default_repr_names_the_profile_and_the_stack_only() -> None:
    """``SonioxConfig()`` reads as its profile and stack; every default is left out."""
    assert repr(SonioxConfig()) == (
        "SonioxConfig(profile='production', middleware=('headers', 'tracing', 'metrics', "
        "'cache', 'dedup', 'retry', 'concurrency', 'rate_limit', 'logging'))"
    )


def test_the_repr_lists_what_differs_from_the_defaults() -> None:
    """A changed knob appears, an unchanged one doesn't; the key shows as ``'***'``."""
    text = repr(SonioxConfig(api_key="sk-secret-value", read_timeout=3.0))
    assert "read_timeout=3.0" in text
    assert "api_key='***'" in text
    assert "sk-secret-value" not in text
    assert "connect_timeout" not in text


def test_every_profile_repr_stays_short() -> None:
    """Even the profile that changes most fits in a long log line."""
    for name in ("production", "realtime", "cost", "development", "testing"):
        assert len(repr(getattr(SonioxConfig, name)())) < 700


def test_short_runs_stay_numbers_and_the_value_is_unchanged() -> None:
    """Two neighbours are listed, three or more become a range; the field itself is intact."""
    config = SonioxConfig(retry_statuses={503, 429, 502, 500, 520, 521, 522})
    assert _statuses(config) == "{429, 500, 502, 503, 520-522}"
    assert config.retry_statuses == frozenset({429, 500, 502, 503, 520, 521, 522})
    assert _statuses(SonioxConfig(retry_statuses=())) == "{}"
