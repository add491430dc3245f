"""The transcript examples, run as a user runs them (separate processes) against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

from examples_support import run_example
from soniox.emulator import Emulator

SRT_TIME = re.compile(r"^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$", re.M)
VTT_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$", re.M)


def test_subtitles_writes_srt_and_vtt(tmp_path: Path) -> None:
    """subtitles.py transcribes the sample with speakers and writes both subtitle files."""
    out = run_example("subtitles.py", "--out-dir", str(tmp_path))
    assert "Speaker " in out
    srt = (tmp_path / "sample-en.srt").read_text()
    vtt = (tmp_path / "sample-en.vtt").read_text()
    assert srt.startswith("1\n")
    assert SRT_TIME.search(srt)
    assert vtt.startswith("WEBVTT\n\n")
    assert VTT_TIME.search(vtt)
    assert "<v Speaker " in vtt


def test_subtitles_of_a_translation_against_a_given_emulator(
    emulator: Emulator, tmp_path: Path
) -> None:
    """--translate-to writes the translation as subtitles; the job is deleted afterwards."""
    env = {"SONIOX_API_KEY": emulator.api_key, "SONIOX_API_BASE_URL": emulator.rest_base_url}
    run_example("subtitles.py", "--out-dir", str(tmp_path), "--translate-to", "de", env=env)
    assert SRT_TIME.search((tmp_path / "sample-en.srt").read_text())
    assert emulator.journal.entries(method="DELETE")


def test_stream_tokens_streams_and_writes_cues(tmp_path: Path) -> None:
    """stream_tokens.py streams every token, writes an SRT cue by cue, and cleans up."""
    out = run_example("stream_tokens.py", "--srt", str(tmp_path / "s.srt"))
    streamed = re.search(r"streamed (\d+) tokens", out)
    assert streamed is not None
    assert int(streamed.group(1)) > 0
    assert "deleted " in out
    assert SRT_TIME.search((tmp_path / "s.srt").read_text())
