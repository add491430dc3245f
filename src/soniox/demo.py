"""``soniox demo``: transcribe the bundled sample against the embedded emulator, no API key needed.

It runs the whole async flow a real user runs — upload, create, poll, fetch the transcript,
clean up — over real loopback sockets. With the ``emulator-asr`` extra installed the emulator
uses its offline pocketsphinx engine, so the words printed are the words spoken in the sample;
otherwise its deterministic engine prints stand-in words (and says so).

Until the SDK's client lands, the flow speaks plain HTTP with httpx.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["run_demo"]


def _engine_name() -> str:
    return "pocketsphinx" if importlib.util.find_spec("pocketsphinx") else "deterministic"


def run_demo(audio: Path | None = None, *, engine: str | None = None, out: Any = None) -> str:
    """Run the demo and return the transcript text (also printed to ``out``, default stdout)."""
    from .data import sample_path
    from .emulator import Emulator

    stream = out if out is not None else sys.stdout
    path = audio if audio is not None else sample_path()
    engine = engine or _engine_name()
    with Emulator(engine=engine) as emu:
        print(f"Emulator running at {emu.rest_base_url} (engine: {engine})", file=stream)
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client(base_url=emu.rest_base_url, headers=headers, timeout=60) as http:
            with path.open("rb") as fh:
                uploaded = http.post("/files", files={"file": (path.name, fh, "audio/wav")})
            uploaded.raise_for_status()
            file_id = uploaded.json()["id"]
            print(f"Uploaded {path.name} as file {file_id}", file=stream)
            created = http.post(
                "/transcriptions", json={"model": "stt-async-v5", "file_id": file_id}
            )
            created.raise_for_status()
            job_id = created.json()["id"]
            status = created.json()["status"]
            deadline = time.monotonic() + 120
            delay = 0.05
            while status in ("queued", "processing"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"transcription {job_id} still {status} after 120 s")
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)
                polled = http.get(f"/transcriptions/{job_id}")
                polled.raise_for_status()
                status = polled.json()["status"]
            if status != "completed":
                raise RuntimeError(f"transcription {job_id} ended in status {status!r}")
            transcript = http.get(f"/transcriptions/{job_id}/transcript")
            transcript.raise_for_status()
            text: str = transcript.json()["text"].strip()
            http.delete(f"/transcriptions/{job_id}").raise_for_status()
            http.delete(f"/files/{file_id}").raise_for_status()
    print(f"Transcript: {text}", file=stream)
    if engine == "deterministic":
        print(
            "(deterministic stand-in words; install soniox-transport[emulator-asr] for real speech)",
            file=stream,
        )
    return text
