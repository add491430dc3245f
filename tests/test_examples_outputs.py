"""What the examples print and where they write (issue 11 §4): a note when the words are the
deterministic engine's stand-ins, and files never dropped into the current directory."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples_support import env_for, run_example
from soniox.emulator import Emulator

NOTE = "deterministic engine"


def test_an_example_on_its_own_emulator_says_why_the_words_are_nonsense(tmp_path: Path) -> None:
    """transcribe_file.py without a key: the local emulator's stand-in words come with a note."""
    out = run_example("transcribe_file.py", cwd=tmp_path)
    assert "using a local emulator" in out
    assert NOTE in out
    assert "stand-in words" in out


def test_an_example_pointed_at_a_local_server_says_so_too(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Pointed at a loopback URL (an emulator started elsewhere), the note is there as well."""
    out = run_example("transcribe_file.py", env=env_for(emulator), cwd=tmp_path)
    assert NOTE in out


@pytest.fixture(scope="module")
def cli_emulator() -> Iterator[dict[str, Any]]:
    """`soniox emulator --ready-json`, as the plain-client examples' docs start it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "soniox", "emulator", "--port", "0", "--ready-json"],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_plain_client_examples_note_the_stand_in_words(cli_emulator: dict[str, Any]) -> None:
    """emulator_rest_flow.py and emulator_realtime.py against a local emulator: the note."""
    key = cli_emulator["api_key"]
    rest = run_example(
        "emulator_rest_flow.py", "--base-url", cli_emulator["rest_base_url"], "--api-key", key
    )
    realtime = run_example(
        "emulator_realtime.py", "--ws-url", cli_emulator["ws_url"], "--api-key", key
    )
    assert NOTE in rest
    assert NOTE in realtime


def _written_dir(out: str, pattern: str) -> Path:
    found = re.search(pattern, out)
    assert found is not None, out
    return Path(found.group(1)).parent


def test_subtitles_default_to_a_temporary_directory(tmp_path: Path) -> None:
    """Without --out-dir nothing lands in the current directory: a new temporary one, named."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = run_example("subtitles.py", cwd=cwd)
    assert list(cwd.iterdir()) == []
    where = _written_dir(out, r"wrote (\S+\.srt) and ")
    try:
        assert where.name.startswith("soniox-subtitles-")
        assert sorted(p.name for p in where.iterdir()) == ["sample-en.srt", "sample-en.vtt"]
    finally:
        shutil.rmtree(where)


def test_stream_tokens_defaults_to_a_temporary_directory(tmp_path: Path) -> None:
    """Without --srt the SRT goes to a new temporary directory, not the current one."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = run_example("stream_tokens.py", cwd=cwd)
    assert list(cwd.iterdir()) == []
    where = _written_dir(out, r"cues to (\S+\.srt);")
    try:
        assert where.name.startswith("soniox-stream-tokens-")
        assert (where / "streamed.srt").read_text().startswith("1\n")
    finally:
        shutil.rmtree(where)
