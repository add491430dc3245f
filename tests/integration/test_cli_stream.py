"""`soniox stream` against the emulator: a file, raw PCM on stdin, subtitles, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from soniox.cli import main
from soniox.data import sample_path
from soniox.emulator import Emulator

SAMPLE = str(sample_path())


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("SONIOX_API_KEY", emulator.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emulator.rest_base_url)
    monkeypatch.setenv("SONIOX_WEBSOCKET_URL", emulator.ws_url)
    return emulator


def test_a_file_prints_its_transcript_and_writes_subtitles(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stream FILE --fast --srt --vtt: the transcript on stdout, both subtitle files."""
    srt, vtt = tmp_path / "a.srt", tmp_path / "a.vtt"
    assert main(["stream", SAMPLE, "--fast", "--srt", str(srt), "--vtt", str(vtt)]) == 0
    text = capsys.readouterr().out.strip()
    assert len(text.split()) > 5
    assert srt.read_text().startswith("1\n00:00:")
    assert vtt.read_text().startswith("WEBVTT")


def test_raw_pcm_on_stdin_gives_the_same_words(env: Emulator) -> None:
    """stream - (16 kHz mono 16-bit PCM by default) transcribes what a file of it would."""
    environment = dict(os.environ)
    pcm = Path(SAMPLE).read_bytes()[44:]
    run = [sys.executable, "-m", "soniox", "stream"]
    from_stdin = subprocess.run(
        [*run, "-"], input=pcm, env=environment, capture_output=True, timeout=60, check=True
    )
    from_file = subprocess.run(
        [*run, SAMPLE, "--fast"], env=environment, capture_output=True, timeout=60, check=True
    )
    assert from_stdin.stdout == from_file.stdout
    assert from_stdin.stdout.strip()


def test_a_missing_file_is_a_usage_error(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 before anything is sent."""
    assert main(["stream", "/no/such/audio.wav"]) == 2
    assert "audio.wav" in capsys.readouterr().err


def test_a_refused_key_is_exit_code_1_with_the_reason(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad key: the server's 401 as a message, exit 1; the key never printed."""
    monkeypatch.setenv("SONIOX_API_KEY", "not-a-valid-key")
    assert main(["stream", SAMPLE, "--fast"]) == 1
    err = capsys.readouterr().err
    assert "401" in err
    assert "not-a-valid-key" not in err
