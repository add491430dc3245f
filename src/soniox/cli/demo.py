"""``soniox demo``: transcribe the bundled sample against the embedded emulator, no API key needed.

It runs what a real user runs, with the SDK itself: ``SonioxClient`` →
``client.stt.transcribe_and_wait_with_tokens(file=..., delete_after=True)`` — upload, create,
adaptive polling, transcript, clean-up — over real loopback sockets to a local emulator. With the
``emulator-asr`` extra installed the emulator uses its offline pocketsphinx engine, so the words
printed are the words spoken in the sample; otherwise its deterministic engine prints stand-in
words (and says so).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TextIO

__all__ = ["run_demo"]


def _engine_name() -> str:
    return "pocketsphinx" if importlib.util.find_spec("pocketsphinx") else "deterministic"


def run_demo(
    audio: Path | None = None, *, engine: str | None = None, out: TextIO | None = None
) -> str:
    """Run the demo and return the transcript text (also printed to ``out``, default stdout)."""
    from soniox.client import SonioxClient
    from soniox.config import SonioxConfig
    from soniox.data import sample_path
    from soniox.emulator import Emulator
    from soniox.transcripts import render_text
    from soniox.types import Transcription

    stream = out if out is not None else sys.stdout
    path = audio if audio is not None else sample_path()
    engine = engine or _engine_name()
    seen: list[str] = []

    def on_status(job: Transcription) -> None:
        status = str(job.status)
        if not seen or seen[-1] != status:
            seen.append(status)
            print(f"  job {job.id}: {status}", file=stream, flush=True)

    def on_upload(sent: int, total: int | None) -> None:
        if total is not None and sent >= total:
            print(f"  uploaded {path.name} ({sent:,} bytes)", file=stream, flush=True)

    with Emulator(engine=engine) as emu:
        print(f"Emulator running at {emu.rest_base_url} (engine: {engine})", file=stream)
        print(f"Transcribing {path.name} with the SDK client ...", file=stream, flush=True)
        config = SonioxConfig(api_key=emu.api_key, base_url=emu.rest_base_url)
        with SonioxClient(config=config) as client:
            transcript = client.stt.transcribe_and_wait_with_tokens(
                file=path, delete_after=True, progress=on_upload, on_status=on_status
            )
    text = render_text(transcript.tokens).strip()
    print(f"Transcript: {text}", file=stream)
    if engine == "deterministic":
        print(
            "(deterministic stand-in words; install soniox-transport[emulator-asr] for real speech)",
            file=stream,
        )
    return text
