"""`soniox demo`: the README's first command transcribes the bundled sample, no API key needed."""

from __future__ import annotations

import importlib.util
import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import wave
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


# --- Ctrl-C (issue 11 §4) -------------------------------------------------------------------------


def _long_wav(path: Path, seconds: int) -> Path:
    """A voiced 400 Hz square-ish tone, 16 kHz mono: every engine hears something in it."""
    rate = 16_000
    period = b"\x00\x20" * 20 + b"\x00\xe0" * 20
    frames = (period * (seconds * rate // 40 + 1))[: 2 * seconds * rate]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


class _Demo:
    """`python -m soniox demo AUDIO` in a subprocess, with its own TMPDIR and its stdout read
    line by line in a thread (so every wait here is bounded)."""

    def __init__(self, audio: Path, engine: str, tmp: Path) -> None:
        self.tmp = tmp
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "soniox", "demo", str(audio), "--engine", engine],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [self.lines.put(x) for x in stdout], daemon=True).start()

    def wait_for_line(self, fragment: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if fragment in line:
                return

    def interrupt(self, presses: int, gap: float) -> tuple[int, str, float]:
        """Send SIGINT ``presses`` times; (exit code, stderr, seconds from the first press)."""
        started = time.monotonic()
        for press in range(presses):
            if press:
                time.sleep(gap)
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
        elapsed = time.monotonic() - started
        assert self.process.stderr is not None
        return code, self.process.stderr.read(), elapsed


PRESSES = [(1, 0.0), (2, 0.05), (2, 0.4)]
"""One Ctrl-C; a quick double Ctrl-C (the second lands while stopping or exiting); two, a
moment apart."""

INTERRUPTED = (130, -signal.SIGINT)
"""Exit 130; or, when the second Ctrl-C lands after the clean-up, while the interpreter exits,
killed by SIGINT — which a shell reports as 130 too."""


@pytest.mark.parametrize(("presses", "gap"), PRESSES, ids=["once", "twice-fast", "twice"])
def test_ctrl_c_ends_the_demo_at_once_and_cleans_up(
    tmp_path: Path, presses: int, gap: float
) -> None:
    """Ctrl-C while the job of a long recording is processing: exit 130 within ~2 s (the SDK's
    delete_after would wait for the processing job to end: seconds for 15 minutes of audio),
    the emulator stopped and its soniox-emulator-* directory removed — also on a double
    Ctrl-C — and no traceback."""
    audio = _long_wav(tmp_path / "long.wav", 900)
    demo = _Demo(audio, "deterministic", tmp_path / "tmp")
    demo.wait_for_line(": processing", timeout=60)
    code, err, elapsed = demo.interrupt(presses, gap)
    assert code in INTERRUPTED, err
    assert elapsed < 2.0 + gap
    assert "Traceback" not in err
    assert "interrupted; the emulator is stopped and its temporary files removed" in err
    assert list(demo.tmp.iterdir()) == []


@pytest.mark.asr
@pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx not installed (extra soniox-transport[emulator-asr])",
)
@pytest.mark.parametrize(("presses", "gap"), PRESSES[:2], ids=["once", "twice-fast"])
def test_ctrl_c_during_offline_recognition(tmp_path: Path, presses: int, gap: float) -> None:
    """The reported case: pocketsphinx on a long recording. Its decoder holds the GIL for
    a whole utterance; it now runs in a child process, so Ctrl-C is handled at once, and that
    child is gone too."""
    import psutil

    audio = _long_wav(tmp_path / "long.wav", 120)
    demo = _Demo(audio, "pocketsphinx", tmp_path / "tmp")
    demo.wait_for_line(": queued", timeout=60)
    parent = psutil.Process(demo.process.pid)
    deadline = time.monotonic() + 20
    workers: list[psutil.Process] = []
    while not workers:
        assert time.monotonic() < deadline, "no recognition worker started"
        workers = [
            child
            for child in parent.children(recursive=True)
            if "soniox.emulator.engines.file_worker" in " ".join(child.cmdline())
        ]
        time.sleep(0.05)
    time.sleep(1.0)  # the decoder is busy now
    code, err, elapsed = demo.interrupt(presses, gap)
    assert code in INTERRUPTED, err
    assert elapsed < 2.0 + gap
    assert "Traceback" not in err
    assert list(demo.tmp.iterdir()) == []
    for worker in workers:
        worker.wait(timeout=5)  # raises if it is still running
