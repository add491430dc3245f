"""``python -m soniox.emulator [options]``: the same as ``soniox emulator [options]``."""

from __future__ import annotations

from soniox.emulator.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
