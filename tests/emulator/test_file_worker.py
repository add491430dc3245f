"""File recognition in a child process (``engines/file_worker.py``), for engines holding the GIL.

PocketSphinx decodes a whole utterance (up to 30 s of speech) in one C call that keeps the GIL:
in the emulator's process that froze the server — and, in thread mode, the host program, which
then could not even handle Ctrl-C (issue 11: ``soniox demo`` on long audio ignored Ctrl-C for
~40 s). The worker protocol is checked with the deterministic engine (always available); the
rest needs the ``emulator-asr`` extra.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.emulator.engines import AudioDecodeError, RecognitionOptions, create_engine
from soniox.emulator.engines.file_worker import isolates_file_jobs, transcribe_file_isolated

WORKER = "soniox.emulator.engines.file_worker"

without_pocketsphinx = pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx is not installed (pip install 'soniox-transport[emulator-asr]')",
)


def _tone(path: Path, seconds: int) -> Path:
    rate = 16_000
    period = b"\x00\x20" * 20 + b"\x00\xe0" * 20
    frames = (period * (seconds * rate // 40 + 1))[: 2 * seconds * rate]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def _workers() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if WORKER in " ".join(child.cmdline())
    ]


def _wait_for_worker(timeout: float = 20.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while not (found := _workers()):
        assert time.monotonic() < deadline, "no recognition worker started"
        time.sleep(0.05)
    return found


# --- the protocol (deterministic engine: no extra needed) ----------------------------------------


def test_the_worker_returns_what_the_engine_returns(tmp_path: Path) -> None:
    """Tokens, timings, options (translation, diarization) survive the round trip exactly."""
    options = RecognitionOptions(
        model="stt-async-v5",
        language_hints=("en", "de"),
        enable_speaker_diarization=True,
        enable_language_identification=True,
        translation={"type": "one_way", "target_language": "de"},
    )
    audio = _tone(tmp_path / "a.wav", 3)
    isolated = asyncio.run(transcribe_file_isolated("deterministic", audio, options))
    assert isolated == create_engine("deterministic").transcribe_file(audio, options)
    assert isolated.tokens


def test_an_undecodable_file_is_an_audio_decode_error(tmp_path: Path) -> None:
    """The engine's AudioDecodeError comes back as one, with its message."""
    raw = tmp_path / "a.raw"
    raw.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(AudioDecodeError, match="convert the file"):
        asyncio.run(transcribe_file_isolated("deterministic", raw, RecognitionOptions()))


def test_only_engines_that_hold_the_gil_are_isolated() -> None:
    assert not isolates_file_jobs(create_engine("deterministic"))


# --- pocketsphinx in the emulator ----------------------------------------------------------------


@pytest.fixture
def asr() -> Iterator[Emulator]:
    with Emulator(engine="pocketsphinx") as emu:
        yield emu


def _client(emu: Emulator) -> httpx.Client:
    return httpx.Client(
        base_url=emu.rest_base_url,
        headers={"Authorization": f"Bearer {emu.api_key}"},
        trust_env=False,
        timeout=10,
    )


def _start_long_job(emu: Emulator, http: httpx.Client, tmp_path: Path) -> str:
    audio = _tone(tmp_path / "long.wav", 120)  # minutes of decoding on a slow machine
    with audio.open("rb") as fh:
        uploaded = http.post("/files", files={"file": ("long.wav", fh, "audio/wav")})
    body = {"model": "stt-async-v5", "file_id": uploaded.raise_for_status().json()["id"]}
    job_id: str = http.post("/transcriptions", json=body).raise_for_status().json()["id"]
    return job_id


@pytest.mark.asr
@without_pocketsphinx
def test_the_server_answers_while_recognizing_and_a_delete_kills_the_worker(
    asr: Emulator, tmp_path: Path
) -> None:
    """During recognition every request is answered at once; deleting the queued job ends
    its worker process."""
    with _client(asr) as http:
        job_id = _start_long_job(asr, http, tmp_path)
        workers = _wait_for_worker()
        time.sleep(1.0)  # well into the first utterance
        for _ in range(5):
            started = time.monotonic()
            assert http.get("/models").status_code == 200
            assert time.monotonic() - started < 0.5
            assert http.get(f"/transcriptions/{job_id}").json()["status"] == "queued"
        assert http.delete(f"/transcriptions/{job_id}").status_code == 204
    for worker in workers:
        worker.wait(timeout=5)


@pytest.mark.asr
@without_pocketsphinx
def test_stopping_the_emulator_ends_a_recognition_at_once(tmp_path: Path) -> None:
    """stop() returns promptly, the worker is gone and the storage removed."""
    emu = Emulator(engine="pocketsphinx").start()
    try:
        with _client(emu) as http:
            _start_long_job(emu, http, tmp_path)
        workers = _wait_for_worker()
        storage = emu.storage_dir
    finally:
        started = time.monotonic()
        emu.stop()
    assert time.monotonic() - started < 3.0
    assert not storage.exists()
    for worker in workers:
        worker.wait(timeout=5)


@pytest.mark.asr
@without_pocketsphinx
def test_a_job_through_the_worker_hears_the_sample(asr: Emulator) -> None:
    """The words of the bundled sample, as the in-process engine hears them."""
    with _client(asr) as http:
        with sample_path().open("rb") as fh:
            uploaded = http.post("/files", files={"file": ("s.wav", fh, "audio/wav")})
        body = {"model": "stt-async-v5", "file_id": uploaded.raise_for_status().json()["id"]}
        job_id = http.post("/transcriptions", json=body).raise_for_status().json()["id"]
        deadline = time.monotonic() + 60
        while (job := http.get(f"/transcriptions/{job_id}").json())["status"] not in (
            "completed",
            "error",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["status"] == "completed", job
        transcript = http.get(f"/transcriptions/{job_id}/transcript").json()
    expected = create_engine("pocketsphinx").transcribe_file(sample_path(), RecognitionOptions())
    assert transcript["text"] == expected.text
    assert "robot" in transcript["text"]


@pytest.mark.asr
@pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx is not installed (pip install 'soniox-transport[emulator-asr]')",
)
def test_a_worker_ended_by_ctrl_c_fails_its_job_with_one_log_line(
    asr: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Ctrl-C at the terminal reaches the worker too (same process group): its job ends in
    ``error``, logged as one warning, without a traceback."""
    with _client(asr) as http:
        job_id = _start_long_job(asr, http, tmp_path)
        (worker,) = _wait_for_worker()
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=5)
        deadline = time.monotonic() + 10
        while (job := http.get(f"/transcriptions/{job_id}").json())["status"] != "error":
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
    assert job["error_type"] == "internal_error"
    records = [r for r in caplog.records if r.name == "soniox.emulator.jobs"]
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.WARNING, None)]
    # Usually "(signal 2)"; a Ctrl-C landing while the worker's interpreter still starts may
    # end it otherwise: either way one line.
    assert "recognition worker ended without an answer" in records[0].getMessage()


@pytest.mark.asr
@pytest.mark.skipif(
    importlib.util.find_spec("pocketsphinx") is None,
    reason="pocketsphinx is not installed (pip install 'soniox-transport[emulator-asr]')",
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_dies_with_an_emulator_killed_without_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL on a subprocess emulator gives it no chance to stop its worker: the kernel
    ends the worker with it (no orphan decoding minutes of audio)."""
    temp = tmp_path / "tmp"  # what the killed child cannot remove stays in the test's directory
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    emu = Emulator(mode="subprocess", engine="pocketsphinx", storage_dir=str(tmp_path / "s"))
    emu.start()
    try:
        with _client(emu) as http:
            _start_long_job(emu, http, tmp_path)
        workers = _wait_for_worker()
        psutil.Process(emu.pid).kill()
        for worker in workers:
            worker.wait(timeout=5)
    finally:
        emu.stop()
