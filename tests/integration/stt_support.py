"""Helpers for the stt tests: audio, local HTTP servers (audio_url, webhooks), emulator state."""

from __future__ import annotations

import http.server
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from soniox.emulator import Emulator, JournalEntry
from soniox.flows.polling import PollingPolicy


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
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{name}"
    finally:
        server.shutdown()
        server.server_close()


# --- emulator timings, polling, waiting -------------------------------------------------------

FAST_JOBS: dict[str, Any] = {
    "queue_delay_s": 0.01,
    "processing_speed": 1000.0,
    "min_processing_s": 0.01,
    "webhook_retry_delay_s": 0.05,
}
"""The ``emulator`` fixture's timings (tests/conftest.py), for emulators a module shares."""
QUEUED_JOBS: dict[str, Any] = {"queue_delay_s": 60.0}
"""Jobs stay ``queued`` for the whole test (transcript 409, wait timeouts, interruptions)."""
PROCESSING_JOBS: dict[str, Any] = {"queue_delay_s": 0.0, "min_processing_s": 60.0}
"""Jobs reach ``processing`` at once and stay there (delete 409)."""

FAST_POLL = PollingPolicy(first_delay=0.05, max_delay=0.2)
"""Waits in tests poll every 50-200 ms."""

MISSING_ID = "00000000-0000-4000-8000-000000000000"


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0, what: str = "") -> None:
    """Block until ``condition()`` holds (AssertionError after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.01)


def job_statuses(emu: Emulator) -> list[str]:
    """The status of every transcription the emulator stores."""
    return [str(t.status) for t in emu.app.rest.store.transcriptions()]


def settle(emu: Emulator) -> None:
    """Wait until no stored job is queued or processing (so delete_all cannot meet a 409)."""
    wait_until(lambda: not {"queued", "processing"} & set(job_statuses(emu)), what="jobs to finish")


def max_overlap(entries: list[JournalEntry]) -> int:
    """The largest number of the journal's requests that were in progress at one moment."""
    edges: list[tuple[float, int]] = []
    for entry in entries:
        edges.append((entry.started_at, 1))
        edges.append((entry.started_at + (entry.duration_s or 0.0), -1))
    peak = current = 0
    for _, step in sorted(edges):
        current += step
        peak = max(peak, current)
    return peak


class HookSink:
    """A local HTTP server that records each webhook call (headers and JSON body) and says 200."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[dict[str, str], dict[str, Any]]] = queue.Queue()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.calls.put((headers, json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/stt"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
