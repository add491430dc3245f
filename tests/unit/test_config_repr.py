"""``repr(SonioxConfig)`` stays readable: the retried statuses as ranges (issue 11 §4)."""

from __future__ import annotations

import re

from soniox import SonioxConfig


def _statuses(config: SonioxConfig) -> str:
    found = re.search(r"retry_statuses=(\{[^}]*\})", repr(config))
    assert found is not None
    return found.group(1)


def test_the_default_statuses_read_as_ranges() -> None:
    """Not a hundred integers: ``{408, 429, 500-599}``."""
    assert _statuses(SonioxConfig()) == "{408, 429, 500-599}"
    assert len(repr(SonioxConfig())) < 1200


def test_short_runs_stay_numbers_and_the_value_is_unchanged() -> None:
    """Two neighbours are listed, three or more become a range; the field itself is intact."""
    config = SonioxConfig(retry_statuses={503, 429, 502, 500, 520, 521, 522})
    assert _statuses(config) == "{429, 500, 502, 503, 520-522}"
    assert config.retry_statuses == frozenset({429, 500, 502, 503, 520, 521, 522})
    assert _statuses(SonioxConfig(retry_statuses=())) == "{}"
