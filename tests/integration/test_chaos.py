"""The chaos run (benchmarks/chaos.py): every REST operation under faults, nothing lost.

The short version runs in every suite: a few hundred operations from a sync and an async client
at once, 30 % of the requests faulted, three seeds. The full run (10,000 operations per seed,
production profile) is a soak test: ``pytest --run-soak``, or the script itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"


def chaos(*args: str, timeout: float) -> list[dict[str, Any]]:
    """Run the chaos script (its own process, like a user would) and read its JSON lines."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=SCRIPT.parent,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    return lines


def assert_nothing_lost(run: dict[str, Any]) -> None:
    verdicts = {name: run[name] for name in ("lost", "duplicate", "untyped", "leaked")}
    assert verdicts == {"lost": [], "duplicate": [], "untyped": [], "leaked": []}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_short_chaos_run_loses_nothing(seed: int) -> None:
    """400 operations of every kind at 30 % faults: 0 lost, 0 duplicate, 0 untyped, 0 leaked."""
    [run] = chaos("--operations", "400", "--seeds", str(seed), "--profile", "testing", timeout=120)
    assert run["operations"] == 400
    assert set(run["kinds"]) == {"upload", "job", "transcribe", "read", "temp_key"}
    assert run["faults"] >= 0.2 * run["requests"]
    assert_nothing_lost(run)


@pytest.mark.soak
@pytest.mark.timeout(7200)
def test_the_full_chaos_run_loses_nothing() -> None:
    """10,000 operations per seed through the production profile, 30 % faults, three seeds."""
    runs = chaos("--operations", "10000", "--seeds", "1", "2", "3", timeout=7000)
    assert [run["operations"] for run in runs] == [10_000] * 3
    for run in runs:
        assert_nothing_lost(run)
