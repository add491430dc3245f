"""The stt examples, run as a user runs them (separate processes) against the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from examples_support import EXAMPLES, env_for, run_example
from soniox.client import SonioxClient
from soniox.emulator import Emulator


def left_behind(emulator: Emulator) -> tuple[int, int]:
    """(files, transcriptions) still stored on the emulator."""
    with SonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url) as client:
        return client.files.count().total, client.stt.count().total


def text_line(out: str, label: str) -> str:
    """The text after ``label`` on its line of ``out``."""
    found = re.search(rf"^\s*{re.escape(label)}\s*(.*)$", out, re.M)
    assert found is not None, out
    return found.group(1).strip()


def test_transcribe_file_prints_text_and_deletes_everything(emulator: Emulator) -> None:
    """transcribe_file.py uploads, waits, prints the text, and leaves no job or file behind."""
    out = run_example("transcribe_file.py", env=env_for(emulator))
    assert "uploaded sample-en.wav (162,476 bytes)" in out
    assert re.search(r"job \S+: completed", out)
    assert len(text_line(out, "text:").split()) > 5
    assert re.search(r"job \S+ deleted: True", out)
    assert left_behind(emulator) == (0, 0)


def test_transcribe_file_with_speakers_starts_its_own_emulator() -> None:
    """Without a key the example starts an emulator; --speakers labels the text."""
    out = run_example("transcribe_file.py", "--speakers")
    assert "using a local emulator" in out
    assert "Speaker 1:" in out


def test_transcribe_file_reports_a_missing_file(tmp_path: Path) -> None:
    """A missing path ends the example with a one-line message, not a traceback."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SONIOX_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "transcribe_file.py"), str(tmp_path / "nope.wav")],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"no such file: {tmp_path / 'nope.wav'}"


def test_transcribe_url_serves_the_sample_to_the_emulator() -> None:
    """transcribe_url.py serves the sample over HTTP; the emulator fetches and transcribes it."""
    out = run_example("transcribe_url.py")
    assert re.search(r"serving the bundled sample at http://127\.0\.0\.1:\d+/sample-en\.wav", out)
    assert re.search(r"created job \S+ for sample-en\.wav", out)
    assert re.search(r"completed, 5\.\d s of audio", out)
    assert len(text_line(out, "text:").split()) > 5
    assert "deleted job " in out


def test_transcribe_url_shows_a_failed_download(emulator: Emulator) -> None:
    """A URL that cannot be fetched gives a typed job failure, and the job is still deleted."""
    url = emulator.rest_base_url + "/nothing.wav"  # answers 404
    out = run_example("transcribe_url.py", url, env=env_for(emulator))
    assert "transcription failed: audio_download_failed: " in out
    assert left_behind(emulator) == (0, 0)


def test_translate_prints_one_way_and_two_way(emulator: Emulator) -> None:
    """translate.py prints each translation beside the original, in the requested languages."""
    out = run_example("translate.py", "--to", "fr", "--between", "en", "es", env=env_for(emulator))
    one_way, two_way = out.split("two-way, between en and es:")
    assert "one-way, into fr:" in one_way
    for section, target in ((one_way, "fr"), (two_way, "es")):
        original = text_line(section, "original (en):")
        translated = text_line(section, f"translation ({target}):")
        # The emulator's stand-in translation spells every word backwards.
        assert translated.split() == [word[::-1] for word in original.split()]
        assert original
    assert left_behind(emulator) == (0, 0)


def test_transcribe_many_reports_each_item(emulator: Emulator) -> None:
    """transcribe_many.py: progress per item, a typed error for the missing file, no leftovers."""
    out = run_example("transcribe_many.py", "--concurrency", "3", env=env_for(emulator))
    progress = re.findall(r"^\[(\d)/6\] item (\d) (ok|failed: \w+)", out, re.M)
    assert [done for done, _, _ in progress] == ["1", "2", "3", "4", "5", "6"]
    assert sorted(item for _, item, _ in progress) == ["0", "1", "2", "3", "4", "5"]
    assert ("4", "failed: SourceNotFoundError") in {(item, how) for _, item, how in progress}
    assert "4: does-not-exist.wav: SourceNotFoundError: " in out
    assert "2: <162476 bytes>: 17 words" in out
    assert "5 transcribed, 1 failed" in out
    assert len(emulator.journal.entries(path="/v1/transcriptions", method="POST")) == 5
    assert left_behind(emulator) == (0, 0)


def test_async_transcribe_streams_tokens_and_cleans_up_after_cancellation(
    emulator: Emulator,
) -> None:
    """async_transcribe.py: tokens, the same tokens streamed, and a cancelled job cleaned up."""
    out = run_example("async_transcribe.py", "--cancel-after", "0.2", env=env_for(emulator))
    transcribed = re.search(r"transcribed sample-en\.wav as (\S+): (.+)$", out, re.M)
    assert transcribed is not None
    streamed = re.search(r"streamed (\d+) tokens: speaker", out)
    assert streamed is not None
    assert int(streamed.group(1)) == len(transcribed.group(2).split())
    assert f"destroyed {transcribed.group(1)}" in out
    assert "cancelled after 0.2 s" in out
    assert "left behind: 0 file(s), 0 job(s)" in out
    assert left_behind(emulator) == (0, 0)


def test_wait_polling_learns_and_polls_less_when_warm() -> None:
    """wait_polling.py: blind delays grow, the learned speed saves polls, timeouts keep the job."""
    for _attempt in range(2):  # timing on a loaded machine can defeat one run's prediction
        out = run_example("wait_polling.py")
        counts = [int(n) for n in re.findall(r"^  (\d+) polls, ", out, re.M)]
        assert len(counts) == 3
        cold, warm, _fixed = counts
        if warm <= cold:
            break
    assert warm <= cold
    assert re.search(r"learned: \d\.\d{3} s per audio second", out)
    cold_gaps = [
        float(g)
        for g in re.findall(r"\(\+(\d\.\d\d) s\)", out.split("2. warm")[0].split("1. cold")[1])
    ]
    assert cold_gaps[-1] > 2 * cold_gaps[0]  # blind delays grow
    assert re.search(r"WaitTimeoutError: job \S+ is kept \(last seen (queued|processing)\)", out)
    assert "waited again: completed" in out
    assert "deleted 4 jobs and file " in out
