"""Bundled sample audio for examples, tests and the emulator's demo.

``sample-en.wav``: "Hello from the emulator. This sentence was spoken by a robot." spoken by
espeak-ng, 16 kHz mono 16-bit PCM, about 5 seconds. Regenerate it with
``scripts/make_sample.sh``.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

__all__ = ["SAMPLE_EN", "SAMPLE_EN_TEXT", "sample_path"]

SAMPLE_EN = "sample-en.wav"
SAMPLE_EN_TEXT = "Hello from the emulator. This sentence was spoken by a robot."
"""What ``sample-en.wav`` says."""

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def sample_path(name: str = SAMPLE_EN) -> Path:
    """A filesystem path to a bundled sample (extracted to a temporary file for zipped installs)."""
    resource = resources.files(__name__).joinpath(name)
    if not resource.is_file():
        raise FileNotFoundError(f"no bundled sample named {name!r}")
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))
