"""Helpers for the stt tests: audio, a local HTTP server for audio_url, what the emulator holds."""

from __future__ import annotations

import http.server
import io
import math
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from soniox.emulator import Emulator


def tone_wav(seconds: float = 1.0, *, rate: int = 8_000) -> bytes:
    """Mono s16 WAV of 300 ms tones between 200 ms pauses (the engines hear words in it)."""
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


def leftovers(emu: Emulator) -> tuple[int, int]:
    """(transcriptions, files) the emulator still stores."""
    store = emu.app.rest.store
    return len(store.transcriptions()), len(store.files())


def creates(emu: Emulator) -> int:
    """How many POST /v1/transcriptions reached the emulator."""
    return len(emu.journal.entries(path="/v1/transcriptions", method="POST"))


@contextmanager
def serve_bytes(body: bytes, name: str = "audio.wav") -> Iterator[str]:
    """Serve ``body`` at ``http://127.0.0.1:PORT/<name>`` (for audio_url) until the block ends."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != f"/{name}":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "audio/wav")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{name}"
    finally:
        server.shutdown()
        server.server_close()
