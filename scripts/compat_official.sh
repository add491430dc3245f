#!/usr/bin/env bash
# Run the compatibility suite (tests/compat) against the OFFICIAL soniox SDK 2.10.0.
#
# tests/compat is user code written for the official SDK; it is the specification this project's
# package must meet as a drop-in replacement. This script proves the specification faithful: it
# installs the official wheel into a throw-away virtualenv (it cannot share .venv: both
# distributions are imported as `soniox`) and runs the suite there, against this project's
# emulator started as a child process from .venv.
#
#   scripts/compat_official.sh                 # all compat tests
#   scripts/compat_official.sh -k webhooks -x  # extra arguments go to pytest
#
# Environment:
#   SONIOX_COMPAT_OFFICIAL_VENV   reuse (or create once) this virtualenv instead of a temporary one
#   SONIOX_COMPAT_EMULATOR_PYTHON the python that runs the emulator (default: .venv/bin/python)
#   PYTHON                        the interpreter that creates the virtualenv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OFFICIAL_VERSION="2.10.0"
EMULATOR_PYTHON="${SONIOX_COMPAT_EMULATOR_PYTHON:-$ROOT/.venv/bin/python}"

if [[ ! -x "$EMULATOR_PYTHON" ]]; then
    echo "compat_official: no emulator python at $EMULATOR_PYTHON" >&2
    echo "  set up .venv first (see README.md) or set SONIOX_COMPAT_EMULATOR_PYTHON" >&2
    exit 2
fi
if ! "$EMULATOR_PYTHON" -c "import soniox.emulator.runner" 2>/dev/null; then
    echo "compat_official: $EMULATOR_PYTHON cannot import soniox.emulator (emulator extra missing?)" >&2
    exit 2
fi

if [[ -n "${SONIOX_COMPAT_OFFICIAL_VENV:-}" ]]; then
    VENV="$SONIOX_COMPAT_OFFICIAL_VENV"
else
    VENV="$(mktemp -d "${TMPDIR:-/tmp}/soniox-official.XXXXXX")"
    trap 'rm -rf "$VENV"' EXIT
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('soniox') != '$OFFICIAL_VERSION')" 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "soniox==$OFFICIAL_VERSION" pytest pytest-timeout
fi

# The SDK under test must be the official wheel, never this project's package.
"$VENV/bin/python" - <<EOF
import importlib.metadata, importlib.util, sys
import soniox
version = importlib.metadata.version("soniox")
if version != "$OFFICIAL_VERSION" or importlib.util.find_spec("soniox.emulator") is not None:
    sys.exit(f"compat_official: {soniox.__file__} is not the official soniox $OFFICIAL_VERSION")
print(f"compat_official: official soniox {version} at {soniox.__file__}")
EOF

cd "$ROOT"
# --confcutdir keeps pytest from loading tests/conftest.py, which imports this project's package.
env -u PYTHONPATH SONIOX_COMPAT_EMULATOR_PYTHON="$EMULATOR_PYTHON" \
    "$VENV/bin/pytest" tests/compat --confcutdir=tests/compat -p no:cacheprovider "$@"
