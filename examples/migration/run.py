"""Run every migration pair — official-style code and its rewrite — against one local emulator.

    python examples/migration/run.py                     # all surfaces
    python examples/migration/run.py stt realtime        # some
    python examples/migration/run.py --before-python /path/to/official-venv/bin/python

Each surface has ``<surface>_before.py``, written for the official ``soniox`` SDK, and
``<surface>_after.py``, the same task with what this SDK adds. Neither knows about emulators: they
read ``SONIOX_API_KEY``, ``SONIOX_API_BASE_URL`` and ``SONIOX_WEBSOCKET_URL`` (and the recording from ``AUDIO_PATH``) like any user code;
this runner starts an emulator and points them at it. Both must succeed and print the same
``result:`` line — the rewrite does the same work. ``--before-python`` runs the *before* scripts
with another interpreter (one with the official SDK installed, say).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from soniox.data import sample_path
from soniox.emulator import Emulator

HERE = Path(__file__).resolve().parent
SURFACES = ("client", "files", "stt", "realtime", "errors", "webhooks", "account")


def run(python: str, script: Path, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [python, str(script)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout, done.stderr


def result_line(output: str) -> str | None:
    lines = [line for line in output.splitlines() if line.startswith("result: ")]
    return lines[-1] if lines else None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("surfaces", nargs="*", help=f"some of: {', '.join(SURFACES)}")
    parser.add_argument("--before-python", default=sys.executable)
    args = parser.parse_args()
    for surface in args.surfaces:
        if surface not in SURFACES:
            parser.error(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    surfaces: list[str] = args.surfaces or list(SURFACES)
    failed = 0
    with Emulator(processing_speed=1000.0, queue_delay_s=0.0) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SONIOX_")}
        env |= {
            "SONIOX_API_KEY": emu.api_key,
            "SONIOX_API_BASE_URL": emu.rest_base_url,
            "SONIOX_WEBSOCKET_URL": emu.ws_url,
            "AUDIO_PATH": str(sample_path()),
        }
        for surface in surfaces:
            outcomes: list[tuple[int, str | None]] = []
            for side, python in (("before", args.before_python), ("after", sys.executable)):
                code, out, err = run(python, HERE / f"{surface}_{side}.py", env)
                if code != 0:
                    print(f"{surface}_{side}.py failed ({code}):\n{err}", file=sys.stderr)
                outcomes.append((code, result_line(out)))
            same = outcomes[0] == outcomes[1] and outcomes[0][0] == 0 and outcomes[0][1] is not None
            failed += not same
            mark = "same result" if same else "DIFFERENT"
            print(f"{surface:<9} {mark}: {outcomes[1][1]}")
    print(f"{len(surfaces) - failed} of {len(surfaces)} surfaces: same result")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
