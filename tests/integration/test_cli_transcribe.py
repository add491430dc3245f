"""`soniox transcribe` in-process against the emulator: formats, options, every exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from soniox.cli import main
from soniox.data import sample_path
from soniox.emulator import Emulator

SAMPLE = str(sample_path())


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, with SONIOX_API_KEY / SONIOX_API_BASE_URL pointing at it."""
    monkeypatch.setenv("SONIOX_API_KEY", emulator.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emulator.rest_base_url)
    monkeypatch.setenv("SONIOX_PROFILE", "testing")
    return emulator


def server_state(emu: Emulator) -> dict[str, list[dict[str, Any]]]:
    """The files and jobs the emulator holds right now."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers) as http:
        return {
            "files": http.get("/files").json()["files"],
            "jobs": http.get("/transcriptions").json()["transcriptions"],
        }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["transcribe", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_the_transcript_and_cleans_up(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Default: text on stdout, progress on stderr, nothing left on the server."""
    code, out, err = run(capsys, SAMPLE)
    assert code == 0, err
    assert out.strip()
    assert "\n" not in out.strip()
    assert "uploading" in err
    assert "completed" in err
    assert server_state(env) == {"files": [], "jobs": []}


def test_keep_leaves_the_file_and_the_job(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """--keep skips the clean-up; --model and --language-hint reach the job."""
    code, _, err = run(
        capsys, SAMPLE, "--keep", "--model", "stt-async-v4", "--language-hint", "en",
        "--language-hint", "de",
    )  # fmt: skip
    assert code == 0, err
    state = server_state(env)
    assert len(state["files"]) == 1
    (job,) = state["jobs"]
    assert job["model"] == "stt-async-v4"
    assert job["language_hints"] == ["en", "de"]


def test_json_format_is_the_api_transcript(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json prints the transcript object (id, text, tokens)."""
    code, out, _ = run(capsys, SAMPLE, "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert set(body) == {"id", "text", "tokens"}
    assert body["tokens"][0]["start_ms"] >= 0


SRT_TIME = re.compile(r"^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$", re.M)


def test_srt_with_speakers(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--format srt --speakers prints numbered cues labelled by speaker."""
    code, out, _ = run(capsys, SAMPLE, "--format", "srt", "--speakers")
    assert code == 0
    assert out.startswith("1\n")
    assert SRT_TIME.search(out)
    assert "Speaker " in out


def test_vtt_of_a_translation(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--translate-to makes a translating job; the subtitles show the translation."""
    code, out, _ = run(capsys, SAMPLE, "--format", "vtt", "--translate-to", "de")
    assert code == 0
    assert out.startswith("WEBVTT\n\n00:")
    code, original, _ = run(capsys, SAMPLE)
    # The emulator's pseudo-translation spells each word backwards.
    first = original.split()[0]
    assert first[::-1] in out


def test_speakers_as_text_paragraphs(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--speakers with text prints 'Speaker N:' paragraphs."""
    code, out, _ = run(capsys, SAMPLE, "--speakers")
    assert code == 0
    assert all(p.startswith("Speaker ") for p in out.strip().split("\n\n"))


def test_several_files_into_an_output_dir(
    env: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """-o DIR writes one file per input, named after it."""
    other = tmp_path / "second.wav"
    other.write_bytes(Path(SAMPLE).read_bytes())
    code, out, err = run(capsys, SAMPLE, str(other), "-f", "srt", "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert out == ""
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["sample-en.srt", "second.srt"]
    assert (tmp_path / "out" / "second.srt").read_text().startswith("1\n")


def test_several_files_to_stdout_have_headers(
    env: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two inputs print two headed sections; JSON prints an array."""
    other = tmp_path / "b.wav"
    other.write_bytes(Path(SAMPLE).read_bytes())
    code, out, _ = run(capsys, SAMPLE, str(other), "-q")
    assert code == 0
    assert out.count("==> ") == 2
    code, out, _ = run(capsys, SAMPLE, str(other), "-q", "-f", "json")
    assert [len(t["tokens"]) > 0 for t in json.loads(out)] == [True, True]


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server with the sample at /talk.wav."""
    (tmp_path / "talk.wav").write_bytes(Path(SAMPLE).read_bytes())
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/talk.wav"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_is_transcribed_without_upload(
    env: Emulator, capsys: pytest.CaptureFixture[str], audio_server: str
) -> None:
    """An http(s) PATH becomes audio_url: no upload, same transcript."""
    code, out, err = run(capsys, audio_server, "-q")
    assert code == 0, err
    code, local, _ = run(capsys, SAMPLE, "-q")
    assert out == local
    assert not env.journal.entries(path="/v1/files", method="POST")[1:]


# --- exit codes ----------------------------------------------------------------------------------


def test_missing_api_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No key anywhere: exit 2 and how to set one."""
    monkeypatch.delenv("SONIOX_API_KEY", raising=False)
    code, _, err = run(capsys, SAMPLE)
    assert code == 2
    assert "SONIOX_API_KEY" in err
    assert "--api-key" in err


def test_api_key_and_base_url_flags_win(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--api-key / --base-url work without the environment."""
    monkeypatch.delenv("SONIOX_API_KEY", raising=False)
    monkeypatch.setenv("SONIOX_API_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, err = run(
        capsys, SAMPLE, "--api-key", emulator.api_key, "--base-url", emulator.rest_base_url
    )
    assert code == 0, err
    assert out.strip()


def test_missing_file_is_a_usage_error(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist: exit 2 before anything is sent."""
    code, _, err = run(capsys, SAMPLE, "/nonexistent/talk.wav")
    assert code == 2
    assert "no such file: /nonexistent/talk.wav" in err
    assert not env.journal.entries()


def test_validation_errors_are_listed(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """400: exit 1 with status, error_type, message, request id and each field problem."""
    code, _, err = run(capsys, SAMPLE, "--model", "no-such-model")
    assert code == 1
    assert "API error 400 invalid_request" in err
    assert "request id:" in err
    assert "model" in err.split("request id:")[1]
    assert server_state(env) == {"files": [], "jobs": []}


def test_a_wrong_key_is_an_api_error(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """401: exit 1, the key never shown."""
    monkeypatch.setenv("SONIOX_API_KEY", "wrong-key-0123456789abcdef")
    code, _, err = run(capsys, SAMPLE)
    assert code == 1
    assert "API error 401" in err
    assert "wrong-key-0123456789abcdef" not in err


def test_rate_limited_beyond_retries_is_an_api_error(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """429 on every attempt: exit 1 with the status."""
    env.faults.fail("/v1/files", status=429, retry_after=0, times=None)
    code, _, err = run(capsys, SAMPLE)
    assert code == 1
    assert "API error 429" in err


def test_a_failed_job_exits_1(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """A job ending in error: exit 1 with its error, and still cleaned up."""
    env.faults.inject("job_error", "/v1/transcriptions", method="POST", message="bad audio")
    code, _, err = run(capsys, SAMPLE)
    assert code == 1
    (line,) = [line for line in err.splitlines() if line.startswith("soniox transcribe:")]
    assert re.fullmatch(
        r"soniox transcribe: transcription \S+ failed \(internal_error\): bad audio", line
    )
    assert server_state(env) == {"files": [], "jobs": []}


def test_one_failure_does_not_stop_the_others(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two inputs, the first job fails: the second still prints, exit 1."""
    env.faults.inject("job_error", "/v1/transcriptions", method="POST")
    code, out, err = run(capsys, SAMPLE, SAMPLE)
    assert code == 1
    assert out.count("==> ") == 1
    assert re.search(r"transcription \S+ failed \(internal_error\)", err)


def test_ctrl_c_exits_130_and_cleans_up(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """KeyboardInterrupt while waiting: exit 130, the upload and the job are deleted."""

    def interrupt(self: object, job: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("soniox.cli.transcribe._Tracker.status", interrupt)
    code, _, err = run(capsys, SAMPLE)
    assert code == 130
    assert "interrupted" in err
    assert server_state(env) == {"files": [], "jobs": []}


def test_ctrl_c_with_keep_names_what_was_left(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --keep the job stays, and the message says how to delete it."""
    from soniox.cli.transcribe import _Tracker  # pyright: ignore[reportPrivateUsage]

    original = _Tracker.status

    def interrupt(self: _Tracker, job: Any) -> None:
        original(self, job)
        raise KeyboardInterrupt

    monkeypatch.setattr(_Tracker, "status", interrupt)
    code, _, err = run(capsys, SAMPLE, "--keep")
    assert code == 130
    (job,) = server_state(env)["jobs"]
    assert job["id"] in err
    assert "soniox jobs rm" in err


def test_the_console_script_runs_end_to_end(emulator: Emulator, tmp_path: Path) -> None:
    """The installed `soniox` script transcribes to SRT; a missing key exits 2."""
    script = Path(sys.executable).with_name("soniox")
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    env = dict(
        os.environ, SONIOX_API_KEY=emulator.api_key, SONIOX_API_BASE_URL=emulator.rest_base_url
    )
    done = subprocess.run(
        [str(script), "transcribe", SAMPLE, "--format", "srt"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1\n00:")
    env.pop("SONIOX_API_KEY")
    done = subprocess.run(
        [str(script), "models"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "SONIOX_API_KEY" in done.stderr
