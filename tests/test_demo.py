"""`soniox demo`: the README's first command transcribes the bundled sample, no API key needed."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest

from soniox.cli import main
from soniox.cli.demo import run_demo


def test_demo_transcribes_the_sample_with_the_deterministic_engine() -> None:
    """The whole upload → create → poll → transcript → delete flow yields a transcript."""
    out = io.StringIO()
    text = run_demo(engine="deterministic", out=out)
    assert text
    assert "Transcript:" in out.getvalue()


@pytest.mark.asr
@pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx not installed (extra soniox-transport[emulator-asr])",
)
def test_demo_prints_the_words_spoken_in_the_sample() -> None:
    """With the offline engine the demo prints the sentence the sample speaks."""
    text = run_demo(engine="pocketsphinx", out=io.StringIO()).lower()
    assert "hello" in text
    assert "robot" in text


def test_demo_reports_a_missing_file_with_exit_code_2(tmp_path: Path) -> None:
    """A missing audio path is a usage error, not a traceback."""
    assert main(["demo", str(tmp_path / "nope.wav")]) == 2


def test_demo_console_script_runs_end_to_end() -> None:
    """`python -m soniox.cli demo` (what the README runs) exits 0 and prints a transcript."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from soniox.cli import main; sys.exit(main(['demo']))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Transcript:" in result.stdout
