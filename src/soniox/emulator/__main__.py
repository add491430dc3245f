"""``python -m soniox.emulator [options]``: the same as ``soniox emulator [options]``."""

from __future__ import annotations

import sys

from soniox.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["emulator", *sys.argv[1:]]))
