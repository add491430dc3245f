"""``python -m soniox`` is the ``soniox`` command."""

import sys

from soniox.cli import main

if __name__ == "__main__":
    sys.exit(main())
