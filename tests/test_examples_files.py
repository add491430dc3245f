"""The files, auth, usage and webhook examples, run as a user runs them (separate processes)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from examples_support import run_example
from soniox.emulator import Emulator


def test_files_upload_against_a_given_emulator(emulator: Emulator, tmp_path: Path) -> None:
    """files_upload.py uploads with a progress bar, lists, and deletes, configured by env."""
    audio = tmp_path / "meeting.wav"
    audio.write_bytes(os.urandom(300_000))
    out = run_example(
        "files_upload.py",
        str(audio),
        env={"SONIOX_API_KEY": emulator.api_key, "SONIOX_API_BASE_URL": emulator.rest_base_url},
    )
    assert "100%" in out
    assert "uploaded meeting.wav (300,000 bytes)" in out
    assert "get_or_none now gives None" in out
    assert len(emulator.journal.entries(path="/v1/files", method="POST")) == 2


def test_files_upload_starts_its_own_emulator() -> None:
    """Without a key the example runs against an emulator it starts itself."""
    out = run_example("files_upload.py")
    assert "using a local emulator" in out
    assert "uploaded sample-en.wav" in out


def test_temporary_key_example(emulator: Emulator) -> None:
    """temporary_key.py prints a masked repr and shows the local range check."""
    out = run_example(
        "temporary_key.py", "--api-key", emulator.api_key, "--base-url", emulator.rest_base_url
    )
    assert "api_key='***'" in out
    assert "refused locally" in out
    assert re.search(r"temp:[A-Za-z0-9_-]{6,}", out) is None  # the key itself is never printed


def test_usage_example() -> None:
    """usage.py shows a summary, logs and limits after one job on its own emulator."""
    out = run_example("usage.py")
    assert "1 request(s)" in out
    assert "ref=usage-demo" in out
    assert "project cap: none" in out


@pytest.mark.parametrize("secret", [None, "whsec-from-the-environment-123"])
def test_webhook_receiver_gets_the_emulators_call(secret: str | None) -> None:
    """webhook_receiver.py refuses a forged POST and receives the real webhook for its job."""
    env = {"SONIOX_API_WEBHOOK_SECRET": secret} if secret else None
    out = run_example("webhook_receiver.py", "--timeout", "30", env=env)
    assert "forged request answered 401" in out
    created = re.search(r"transcription (\S+) created", out)
    assert created is not None
    assert f"webhook: transcription {created.group(1)} completed" in out
    assert "transcript: " in out
