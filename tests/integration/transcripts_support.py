"""Helpers for the transcript and CLI tests: a completed job on the emulator, made with plain HTTP."""

from __future__ import annotations

import io
import math
import time
import wave
from typing import Any

import httpx

from soniox.emulator import Emulator


def tone_wav(seconds: float = 3.0, *, rate: int = 8_000) -> bytes:
    """Mono s16 WAV: 300 ms tones of changing pitch between 200 ms pauses (speech-like)."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        slot = int(t / 0.5)
        value = (
            int(9000 * math.sin(2 * math.pi * (300 + 90 * (slot % 7)) * t)) if t % 0.5 < 0.3 else 0
        )
        frames += value.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def completed_job(
    emu: Emulator, audio: bytes, *, filename: str = "audio.wav", **options: Any
) -> str:
    """Upload ``audio``, create a transcription with ``options``, wait until it completes."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers, timeout=30) as http:
        uploaded = http.post("/files", files={"file": (filename, audio, "audio/wav")})
        uploaded.raise_for_status()
        body = {"model": "stt-async-v4", "file_id": uploaded.json()["id"], **options}
        created = http.post("/transcriptions", json=body)
        created.raise_for_status()
        job_id: str = created.json()["id"]
        deadline = time.monotonic() + 30
        while True:
            status = http.get(f"/transcriptions/{job_id}").json()["status"]
            if status in ("completed", "error"):
                return job_id
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {status}")
            time.sleep(0.01)


def pending_job(emu: Emulator, audio: bytes) -> str:
    """A transcription that stays queued long enough to ask for its transcript (409)."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers, timeout=30) as http:
        uploaded = http.post("/files", files={"file": ("a.wav", audio, "audio/wav")})
        uploaded.raise_for_status()
        created = http.post(
            "/transcriptions", json={"model": "stt-async-v4", "file_id": uploaded.json()["id"]}
        )
        created.raise_for_status()
        job_id: str = created.json()["id"]
        return job_id
