"""`soniox files`, `soniox jobs`, `soniox models` in-process against the emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from transcripts_support import completed_job, tone_wav

from soniox.cli import main
from soniox.emulator import Emulator

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, with SONIOX_API_KEY / SONIOX_API_BASE_URL pointing at it."""
    monkeypatch.setenv("SONIOX_API_KEY", emulator.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emulator.rest_base_url)
    monkeypatch.setenv("SONIOX_PROFILE", "testing")
    return emulator


def http(emu: Emulator) -> httpx.Client:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    return httpx.Client(base_url=emu.rest_base_url, headers=headers)


def upload(emu: Emulator, name: str = "a.wav") -> str:
    with http(emu) as client:
        response = client.post("/files", files={"file": (name, tone_wav(1.0), "audio/wav")})
        response.raise_for_status()
        file_id: str = response.json()["id"]
        return file_id


def state(emu: Emulator) -> tuple[list[str], list[str]]:
    with http(emu) as client:
        files = [f["id"] for f in client.get("/files").json()["files"]]
        jobs = [j["id"] for j in client.get("/transcriptions").json()["transcriptions"]]
    return files, jobs


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- files ---------------------------------------------------------------------------------------


def test_files_ls_shows_a_table(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """One row per uploaded file, under a header."""
    file_id = upload(env, "talk.wav")
    code, out, _ = run(capsys, "files", "ls")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:3] == ["ID", "FILENAME", "BYTES"]
    assert row.split()[:2] == [file_id, "talk.wav"]


def test_files_ls_json_lines(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one API object per line."""
    ids = {upload(env), upload(env)}
    code, out, _ = run(capsys, "files", "ls", "--json")
    assert code == 0
    assert {json.loads(line)["id"] for line in out.splitlines()} == ids


def test_files_rm_deletes_each_id(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """rm ID ID deletes both and says so."""
    a, b, c = upload(env), upload(env), upload(env)
    code, _, err = run(capsys, "files", "rm", a, b)
    assert code == 0
    assert f"deleted file {a}" in err
    assert state(env)[0] == [c]


def test_files_rm_unknown_id_exits_1_but_deletes_the_rest(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """404 for one id: reported with its status; the other id is still deleted."""
    a = upload(env)
    code, _, err = run(capsys, "files", "rm", MISSING, a)
    assert code == 1
    assert "API error 404 file_not_found" in err
    assert state(env)[0] == []


def test_files_rm_all(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--all deletes every file (no prompt when not on a terminal)."""
    for _ in range(3):
        upload(env)
    code, _, err = run(capsys, "files", "rm", "--all")
    assert code == 0
    assert "deleted 3 file(s)" in err
    assert state(env)[0] == []


@pytest.mark.parametrize("argv", [["files", "rm"], ["files", "rm", "--all", MISSING]])
def test_files_rm_needs_ids_or_all(
    env: Emulator, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Neither or both of ids and --all: a usage error (exit 2), nothing sent."""
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "--all" in err
    assert not env.journal.entries(method="DELETE")


# --- jobs ----------------------------------------------------------------------------------------


def test_jobs_ls_and_rm(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """ls lists the job with its status; rm deletes it and keeps its file."""
    job = completed_job(env, tone_wav(1.0))
    code, out, _ = run(capsys, "jobs", "ls")
    assert code == 0
    assert out.splitlines()[1].split()[:2] == [job, "completed"]
    code, _, _ = run(capsys, "jobs", "rm", job)
    assert code == 0
    files, jobs = state(env)
    assert jobs == []
    assert len(files) == 1


def test_jobs_ls_json(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--json lines carry the job's fields."""
    job = completed_job(env, tone_wav(1.0))
    code, out, _ = run(capsys, "jobs", "ls", "--json")
    assert code == 0
    (line,) = out.splitlines()
    assert json.loads(line)["id"] == job


def test_jobs_rm_with_file(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """--with-file deletes the job's upload too; --all --with-file empties both."""
    job = completed_job(env, tone_wav(1.0))
    completed_job(env, tone_wav(1.0))
    assert run(capsys, "jobs", "rm", "--with-file", job)[0] == 0
    assert [len(x) for x in state(env)] == [1, 1]
    code, _, err = run(capsys, "jobs", "rm", "--all", "--with-file")
    assert code == 0
    assert "deleted 1 job(s)" in err
    assert state(env) == ([], [])


@pytest.fixture
def slow_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator whose jobs stay 'processing' for seconds."""
    with Emulator(queue_delay_s=0.0, processing_speed=0.5, min_processing_s=5.0) as emu:
        monkeypatch.setenv("SONIOX_API_KEY", emu.api_key)
        monkeypatch.setenv("SONIOX_API_BASE_URL", emu.rest_base_url)
        monkeypatch.setenv("SONIOX_PROFILE", "testing")
        yield emu


def test_deleting_a_processing_job_is_a_conflict(
    slow_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """409: exit 1 with the status and the API's reason."""
    file_id = upload(slow_env)
    with http(slow_env) as client:
        job: dict[str, Any] = client.post(
            "/transcriptions", json={"model": "stt-async-v4", "file_id": file_id}
        ).json()
        deadline = time.monotonic() + 5
        while client.get(f"/transcriptions/{job['id']}").json()["status"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.01)
    code, _, err = run(capsys, "jobs", "rm", job["id"])
    assert code == 1
    assert "API error 409 transcription_invalid_state" in err


# --- models and errors ---------------------------------------------------------------------------


def test_models_table_and_json(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """models prints the async and realtime models; --json one object per line."""
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "stt-async-v5" in out
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0
    assert {json.loads(line)["id"] for line in out.splitlines()} >= {"stt-async-v5"}


@pytest.mark.parametrize("argv", [["models"], ["files", "ls"], ["jobs", "ls"]])
def test_a_wrong_key_exits_1(
    env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    """401 on any command: exit 1, 'API error 401'."""
    monkeypatch.setenv("SONIOX_API_KEY", "wrong-key-0123456789abcdef")
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert "API error 401" in err


@pytest.mark.parametrize("argv", [["models"], ["files", "ls"], ["jobs", "rm", "--all"]])
def test_no_key_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """No key: exit 2 with the hint, on every API command."""
    monkeypatch.delenv("SONIOX_API_KEY", raising=False)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "export SONIOX_API_KEY" in err


def test_rate_limit_on_listing_exits_1(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """429 after the retries: exit 1 with the status."""
    env.faults.fail("/v1/models", status=429, retry_after=0, times=None)
    code, _, err = run(capsys, "models")
    assert code == 1
    assert "API error 429" in err


def test_a_bad_setting_is_a_usage_error(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid SONIOX_* value: exit 2, naming it."""
    monkeypatch.setenv("SONIOX_PROFILE", "turbo")
    code, _, err = run(capsys, "models")
    assert code == 2
    assert "SONIOX_PROFILE" in err


def test_without_a_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Bare `soniox`: usage on stderr, exit 2; `soniox files` needs an action."""
    assert main([]) == 2
    assert "transcribe" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["files"])
    assert caught.value.code == 2
