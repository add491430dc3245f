"""What a new user hit with the `soniox` command (issue 11 §4), each reproduced here.

Pipes closed by their reader, a wrong key, a directory, a failed job, the advice for raw audio,
``--timeout``, an empty transcript and Ctrl-C during clean-up — against a loopback emulator,
subprocesses bounded by timeouts.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from soniox.cli import main
from soniox.client import SonioxClient
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.errors import AuthenticationError

SAMPLE = str(sample_path())
WRONG_KEY = "wrong-key-0123456789abcdef"


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, with SONIOX_API_KEY / SONIOX_API_BASE_URL pointing at it."""
    monkeypatch.setenv("SONIOX_API_KEY", emulator.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emulator.rest_base_url)
    monkeypatch.setenv("SONIOX_PROFILE", "testing")
    return emulator


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def server_state(emu: Emulator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers, trust_env=False) as http:
        files = http.get("/files").json()["files"]
        jobs = http.get("/transcriptions").json()["transcriptions"]
    return files, jobs


def wav_file(path: Path, seconds: float, *, silent: bool = False) -> Path:
    """Mono 16 kHz WAV: silence, or a square-ish tone (voiced for every engine)."""
    rate = 16_000
    if silent:
        frames = bytes(2 * int(seconds * rate))
    else:
        period = b"\x00\x20" * 20 + b"\x00\xe0" * 20  # +8192 / -8192, 400 Hz
        frames = (period * (int(seconds * rate) // 40 + 1))[: 2 * int(seconds * rate)]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def cli_env(emu: Emulator, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SONIOX_")}
    return base | {
        "SONIOX_API_KEY": emu.api_key,
        "SONIOX_API_BASE_URL": emu.rest_base_url,
        "SONIOX_PROFILE": "testing",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


SONIOX = [sys.executable, "-m", "soniox"]


# --- a closed stdout: `soniox models --json | head -1` ------------------------------------------


def _upload_and_create(emu: Emulator) -> None:
    """Something for `files ls` and `jobs ls` to list."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers, trust_env=False) as http:
        with sample_path().open("rb") as fh:
            uploaded = http.post("/files", files={"file": ("a.wav", fh, "audio/wav")})
        body = {"model": "stt-async-v5", "file_id": uploaded.raise_for_status().json()["id"]}
        http.post("/transcriptions", json=body).raise_for_status()


@pytest.mark.parametrize(
    "command",
    [["models", "--json"], ["models"], ["files", "ls", "--json"], ["jobs", "ls", "--json"]],
    ids=["models-json", "models-table", "files-ls", "jobs-ls"],
)
def test_a_reader_that_went_away_ends_the_command_quietly(
    emulator: Emulator, command: list[str]
) -> None:
    """stdout whose reader is gone (as after `| head -1`): exit 141 (128 + SIGPIPE, what a
    Unix tool killed by SIGPIPE reports), nothing on stderr — no BrokenPipeError traceback."""
    _upload_and_create(emulator)
    reader, writer = socket.socketpair()
    reader.close()  # deterministic: the very first write meets a closed pipe
    with writer:
        done = subprocess.run(
            [*SONIOX, *command],
            stdout=writer.fileno(),
            stderr=subprocess.PIPE,
            env=cli_env(emulator),
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


def test_head_1_in_a_shell_pipeline(emulator: Emulator) -> None:
    """The real pipeline: one line out, no traceback whatever the timing."""
    done = subprocess.run(
        ["/bin/sh", "-c", f"'{sys.executable}' -m soniox models --json | head -1"],
        capture_output=True,
        env=cli_env(emulator),
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1
    assert '"id": "stt-' in done.stdout
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr


# --- a wrong key: no "uploaded" before the 401 --------------------------------------------------


def test_a_wrong_key_never_claims_the_file_was_uploaded(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The 401 arrives after the body was streamed: all bytes sent is not "uploaded"."""
    monkeypatch.setenv("SONIOX_API_KEY", WRONG_KEY)
    code, _, err = run(capsys, "transcribe", SAMPLE)
    assert code == 1
    assert "API error 401 unauthenticated" in err
    assert "uploading" in err
    assert "uploaded" not in err


def test_uploaded_is_printed_once_the_server_accepted_the_file(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the right key: uploading, uploaded, then the job's statuses, in that order."""
    code, _, err = run(capsys, "transcribe", SAMPLE)
    assert code == 0, err
    lines = [line.split(": ", 1)[1] for line in err.splitlines() if line.startswith(SAMPLE)]
    assert lines[:3] == ["uploading (158.7 KiB)", "uploaded", "queued"]


def test_errors_offer_status_code_as_httpx_and_openai_do(env: Emulator) -> None:
    """`.status_code` (httpx, openai-python) and `.status` are the same number."""
    with SonioxClient(api_key=WRONG_KEY, base_url=env.rest_base_url) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.files.list()
        response = client.request("GET", "/models")
    assert caught.value.status_code == caught.value.status == 401
    assert response.status_code == response.status == 401


# --- paths --------------------------------------------------------------------------------------


def test_a_directory_is_named_as_one(
    env: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A directory is not "no such file": exit 2, nothing sent."""
    code, _, err = run(capsys, "transcribe", str(tmp_path))
    assert code == 2
    assert f"{tmp_path} is a directory" in err
    assert "no such file" not in err
    assert not env.journal.entries()
    code, _, err = run(capsys, "demo", str(tmp_path))
    assert code == 2
    assert f"{tmp_path} is a directory" in err


# --- a failed job: said once, with advice the user can act on ------------------------------------


def test_a_failed_transcription_says_failed_once(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """One message: the job, its error type and its message."""
    env.faults.inject("job_error", "/v1/transcriptions", method="POST", message="bad audio")
    code, _, err = run(capsys, "transcribe", SAMPLE)
    assert code == 1
    (message,) = [line for line in err.splitlines() if line.startswith("soniox transcribe:")]
    assert message.count("failed") == 1
    assert re.fullmatch(
        r"soniox transcribe: transcription [0-9a-f-]{36} failed \(internal_error\): bad audio",
        message,
    )


def test_raw_audio_advice_names_only_what_the_user_can_do(
    env: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Headerless audio: the async API has no audio_format / sample_rate / num_channels (the
    create request has no such fields, and the CLI no such flags), so the advice is to convert
    the file, not to set them."""
    raw = tmp_path / "talk.raw"
    raw.write_bytes(bytes(range(256)) * 400)
    code, _, err = run(capsys, "transcribe", str(raw))
    assert code == 1
    assert "audio_decode_failed" in err
    assert "convert the file" in err
    for setting in ("audio_format", "sample_rate", "num_channels"):
        assert setting not in err
    assert len(re.findall(r"\bfailed\b", err)) == 1


# --- --timeout ----------------------------------------------------------------------------------


@pytest.fixture
def slow() -> Iterator[Emulator]:
    """Jobs stay queued (deletable) for the whole test."""
    with Emulator(queue_delay_s=60.0) as emu:
        yield emu


def _point_at(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONIOX_API_KEY", emu.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emu.rest_base_url)
    monkeypatch.setenv("SONIOX_PROFILE", "testing")


def test_timeout_says_the_job_was_deleted_not_to_delete_it(
    slow: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--timeout: the job and the upload are already gone; the message says so."""
    _point_at(slow, monkeypatch)
    code, _, err = run(capsys, "transcribe", SAMPLE, "--timeout", "0.3")
    assert code == 1
    assert "gave up waiting after 0.3 s (--timeout)" in err
    assert "and its upload were deleted" in err
    assert "delete it" not in err
    assert server_state(slow) == ([], [])


def test_timeout_with_keep_says_how_to_delete_it(
    slow: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--timeout --keep: the job stays; the message names it and the command that deletes it."""
    _point_at(slow, monkeypatch)
    code, _, err = run(capsys, "transcribe", SAMPLE, "--timeout", "0.3", "--keep")
    assert code == 1
    _, jobs = server_state(slow)
    (job,) = jobs
    assert f"soniox jobs rm --with-file {job['id']}" in err
    assert "kept on the server (--keep)" in err


# --- an empty transcript ------------------------------------------------------------------------


def test_an_empty_transcript_says_no_speech_was_found(
    env: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Silence: exit 0, an empty result on stdout and a hint on stderr."""
    silent = wav_file(tmp_path / "quiet.wav", 2.0, silent=True)
    code, out, err = run(capsys, "transcribe", str(silent))
    assert code == 0, err
    assert out.strip() == ""
    assert "no speech found" in err
    code, _, err = run(capsys, "transcribe", SAMPLE)
    assert "no speech found" not in err


# --- Ctrl-C while the clean-up waits for a processing job ----------------------------------------


@pytest.fixture
def processing_for_a_while() -> Iterator[Emulator]:
    """Jobs reach ``processing`` at once and stay there ~3 s (a processing job cannot be
    deleted, so the clean-up after Ctrl-C has to wait for it)."""
    with Emulator(queue_delay_s=0.0, processing_speed=2.0, min_processing_s=0.0) as emu:
        yield emu


def _wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _processing(emu: Emulator) -> bool:
    _, jobs = server_state(emu)
    return any(job["status"] == "processing" for job in jobs)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_says_at_once_what_it_cleans_up(
    processing_for_a_while: Emulator, tmp_path: Path, presses: int
) -> None:
    """The first Ctrl-C prints what the clean-up will do the moment it is pressed; it then
    deletes everything once the job ends. A second Ctrl-C ends the command at once and says
    what may be left on the server and the command that deletes it."""
    emu = processing_for_a_while
    audio = wav_file(tmp_path / "talk.wav", 6.0)
    process = subprocess.Popen(
        [*SONIOX, "transcribe", str(audio)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(emu),
        text=True,
    )
    try:
        _wait_until(lambda: _processing(emu), 30)
        process.send_signal(signal.SIGINT)
        if presses == 2:
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            started = time.monotonic()
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: deleting this run's upload and job" in err
    files, jobs = server_state(emu)
    if presses == 1:
        assert "the uploads and jobs of this run were deleted" in err
        assert (files, jobs) == ([], [])
    else:
        assert time.monotonic() - started < 2.5
        (job,) = jobs
        assert job["status"] == "processing"
        assert f"soniox jobs rm --with-file {job['id']}" in err
        assert "interrupted again" in err
