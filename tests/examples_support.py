"""Run the scripts in examples/ as a user would: a subprocess, its own output, its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from soniox.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(
    script: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    """Run an example and return its stdout; it must exit 0.

    ``SONIOX_*`` variables of this process are dropped, so without ``env`` the example starts
    its own emulator; :func:`env_for` points it at a running one instead.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("SONIOX_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=base | (env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def env_for(emulator: Emulator) -> dict[str, str]:
    """Point an example at a running emulator through the environment."""
    return {"SONIOX_API_KEY": emulator.api_key, "SONIOX_API_BASE_URL": emulator.rest_base_url}
