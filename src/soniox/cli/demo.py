"""``soniox demo``: transcribe the bundled sample against the embedded emulator, no API key needed.

It runs what a real user runs, with the SDK itself: ``SonioxClient`` →
``client.stt.transcribe_and_wait_with_tokens(file=..., delete_after=True)`` — upload, create,
adaptive polling, transcript, clean-up — over real loopback sockets to a local emulator. With the
``emulator-asr`` extra installed the emulator uses its offline pocketsphinx engine, so the words
printed are the words spoken in the sample; otherwise its deterministic engine prints stand-in
words (and says so). Ctrl-C stops it within a fraction of a second, the emulator stopped and its
temporary files removed (also on a second Ctrl-C).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from soniox.types import TranscriptionTranscript

__all__ = ["run_demo"]

_POLL_S = 0.1
"""How often the waiting main thread wakes; Ctrl-C is handled at once anyway."""


def _engine_name() -> str:
    return "pocketsphinx" if importlib.util.find_spec("pocketsphinx") else "deterministic"


class _Background:
    """Runs the transcription in a daemon thread so Ctrl-C reaches the main thread at once.

    The demo's server is private and temporary: on Ctrl-C nothing on it needs deleting one by
    one (the SDK's ``delete_after`` clean-up would wait for a ``processing`` job to end); the
    main thread stops the emulator, which removes its storage, and returns. The thread's
    client then fails fast against the closed port, and prints nothing more.
    """

    def __init__(self, work: Callable[[], TranscriptionTranscript]) -> None:
        self._work = work
        self._done = threading.Event()
        self._result: TranscriptionTranscript | None = None
        self._error: BaseException | None = None
        self.abandoned = threading.Event()
        """Set once the main thread stopped waiting (Ctrl-C): callbacks stay quiet then."""

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc
        finally:
            self._done.set()

    def run(self) -> TranscriptionTranscript:
        """Start the work and wait for its result (or its exception)."""
        thread = threading.Thread(target=self._run, name="soniox-demo-transcribe", daemon=True)
        thread.start()
        try:
            while not self._done.wait(_POLL_S):
                pass
        except BaseException:
            self.abandoned.set()
            raise
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def run_demo(
    audio: Path | None = None, *, engine: str | None = None, out: TextIO | None = None
) -> str:
    """Run the demo and return the transcript text (also printed to ``out``, default stdout).

    Ctrl-C (KeyboardInterrupt) stops the emulator — its temporary storage removed — within a
    fraction of a second, whatever the transcription was doing, and is raised again.
    """
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
    background: _Background | None = None

    def say(text: str) -> None:
        if background is None or not background.abandoned.is_set():
            print(text, file=stream, flush=True)

    sent_bytes: list[int] = []

    def on_upload(sent: int, total: int | None) -> None:
        if total is not None and sent >= total:
            sent_bytes.append(sent)

    def on_status(job: Transcription) -> None:
        if sent_bytes:  # the server accepted the upload: a job was created from it
            say(f"  uploaded {path.name} ({sent_bytes[-1]:,} bytes)")
            sent_bytes.clear()
        status = str(job.status)
        if not seen or seen[-1] != status:
            seen.append(status)
            say(f"  job {job.id}: {status}")

    with Emulator(engine=engine) as emu:  # stopped (storage removed) on any exit, Ctrl-C too
        say(f"Emulator running at {emu.rest_base_url} (engine: {engine})")
        say(f"Transcribing {path.name} with the SDK client ... (Ctrl-C stops)")
        config = SonioxConfig(api_key=emu.api_key, base_url=emu.rest_base_url)

        def transcribe() -> TranscriptionTranscript:
            with SonioxClient(config=config) as client:
                return client.stt.transcribe_and_wait_with_tokens(
                    file=path, delete_after=True, progress=on_upload, on_status=on_status
                )

        background = _Background(transcribe)
        transcript = background.run()
    text = render_text(transcript.tokens).strip()
    print(f"Transcript: {text}" if text else "Transcript: (empty)", file=stream)
    if not text:
        print("(no speech was found in the audio)", file=stream)
    elif engine == "deterministic":
        print(
            "(deterministic stand-in words; install soniox-transport[emulator-asr] for real speech)",
            file=stream,
        )
    return text
