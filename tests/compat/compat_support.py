"""Plumbing for the compatibility suite; nothing here touches the SDK under test.

The suite runs unchanged on the official ``soniox`` 2.10.0 and on this project's package, so
this module only uses the standard library and httpx: it starts (or reaches) an emulator, talks
to its admin API (``/_emulator/faults``, ``/_emulator/journal``) and to its REST API directly to
check and reset server state, generates test audio, and serves audio URLs and webhook targets.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import queue
import subprocess
import tempfile
import threading
import time
import uuid
import wave
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

THIS_SDK = importlib.util.find_spec("soniox") is not None and (
    importlib.util.find_spec("soniox.flows") is not None
)
"""True when the package under test is this project's (it has ``soniox.flows``), not the
official wheel."""


def deviation(reason: str) -> pytest.MarkDecorator:
    """Marks a test of official behaviour this package deliberately does differently: it must
    fail here (strict xfail, so a change is noticed) and pass on the official SDK. ``reason``
    says why; docs/migration.md lists every such difference."""
    return pytest.mark.xfail(THIS_SDK, reason=f"documented difference: {reason}", strict=True)


FAST_CONFIG: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 0,
    "queue_delay_s": 0.01,
    "processing_speed": 1000.0,
    "min_processing_s": 0.01,
    "webhook_retry_delay_s": 0.05,
    "webhook_timeout_s": 2.0,
}
"""Emulator settings that finish a 2-second job in a few tens of milliseconds."""

PYTHON_ENV = "SONIOX_COMPAT_EMULATOR_PYTHON"
"""A python that has this project's package: the emulator runs there in a child process."""

STARTUP_TIMEOUT_S = 30.0


def make_wav(seconds: float = 2.0, *, rate: int = 16_000) -> bytes:
    """16 kHz mono s16le WAV: 300 ms tones of changing pitch separated by 200 ms of silence."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        slot = int(t / 0.5)
        in_tone = (t % 0.5) < 0.3
        freq = 300 + 90 * (slot % 7)
        value = int(9000 * math.sin(2 * math.pi * freq * t)) if in_tone else 0
        frames += value.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


# The emulator ------------------------------------------------------------------------------------
class CompatEmulator:
    """A running emulator seen over HTTP only: base URLs, key, faults, journal and raw state."""

    def __init__(self, url: str, api_key: str, how: str, stop: Callable[[], None]) -> None:
        self.url = url
        self.rest_base_url = url + "/v1"
        self.api_key = api_key
        self.how = how
        self._stop = stop
        self.admin = httpx.Client(base_url=url, timeout=10.0, trust_env=False)
        self.raw = httpx.Client(
            base_url=url,
            headers={"authorization": f"Bearer {api_key}"},
            timeout=10.0,
            trust_env=False,
        )

    def close(self) -> None:
        self.admin.close()
        self.raw.close()
        self._stop()

    # Faults ------------------------------------------------------------------------------------
    def add_fault(self, **fault: Any) -> None:
        response = self.admin.post("/_emulator/faults", json=fault)
        assert response.status_code == 201, response.text

    def fail(
        self,
        route: str,
        status: int,
        *,
        method: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer every matching request with ``status`` until the test ends (no firing cap, so
        a client that retries sees the same answer every time)."""
        fault: dict[str, Any] = {"kind": "status", "route": route, "status": status, "times": None}
        if method is not None:
            fault["method"] = method
        if error_type is not None:
            fault["error_type"] = error_type
        if message is not None:
            fault["message"] = message
        self.add_fault(**fault)

    def job_error(self, error_type: str, message: str) -> None:
        """The next transcription created ends in status ``error``."""
        self.add_fault(kind="job_error", error_type=error_type, message=message)

    def slow(self, route: str, delay_s: float) -> None:
        """Every matching request is answered ``delay_s`` late."""
        self.add_fault(kind="latency", route=route, delay_s=delay_s, times=None)

    def clear_faults(self) -> None:
        self.admin.delete("/_emulator/faults")

    # Journal -----------------------------------------------------------------------------------
    def journal(self, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("path", path), ("method", method)) if v}
        response = self.admin.get("/_emulator/journal", params=params)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries

    def clear_journal(self) -> None:
        self.admin.delete("/_emulator/journal")

    # Server state, read directly -----------------------------------------------------------------
    def _all(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            body = self.raw.get(path, params=params).raise_for_status().json()
            items += body[key]
            cursor = body["next_page_cursor"]
            if not cursor:
                return items

    def files(self) -> list[dict[str, Any]]:
        return self._all("/v1/files", "files")

    def file_ids(self) -> set[str]:
        return {f["id"] for f in self.files()}

    def transcriptions(self) -> list[dict[str, Any]]:
        return self._all("/v1/transcriptions", "transcriptions")

    def transcription_ids(self) -> set[str]:
        return {t["id"] for t in self.transcriptions()}

    def file(self, file_id: str) -> dict[str, Any] | None:
        response = self.raw.get(f"/v1/files/{file_id}")
        return None if response.status_code == 404 else response.raise_for_status().json()

    def transcription(self, transcription_id: str) -> dict[str, Any] | None:
        response = self.raw.get(f"/v1/transcriptions/{transcription_id}")
        return None if response.status_code == 404 else response.raise_for_status().json()

    def upload(self, content: bytes, filename: str = "seed.wav") -> dict[str, Any]:
        """Upload a file without the SDK (to set up state a test then reads through the SDK)."""
        files = {"file": (filename, content, "audio/wav")}
        body: dict[str, Any] = self.raw.post("/v1/files", files=files).raise_for_status().json()
        return body

    def create(self, file_id: str, **fields: Any) -> dict[str, Any]:
        """Create a transcription without the SDK."""
        payload = {"model": "stt-async-v5", "file_id": file_id, **fields}
        response = self.raw.post("/v1/transcriptions", json=payload)
        body: dict[str, Any] = response.raise_for_status().json()
        return body

    def wait_done(self, transcription_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = self.transcription(transcription_id)
            assert current is not None, f"transcription {transcription_id} vanished"
            if current["status"] in ("completed", "error"):
                return current
            assert time.monotonic() < deadline, f"job never finished: {current}"
            time.sleep(0.01)

    def wipe(self) -> None:
        """Remove every transcription and file (waiting out jobs that are processing)."""
        deadline = time.monotonic() + 10.0
        while True:
            busy = False
            for item in self.transcriptions():
                response = self.raw.delete(f"/v1/transcriptions/{item['id']}")
                if response.status_code == 409:
                    busy = True
            if not busy:
                break
            assert time.monotonic() < deadline, "transcriptions stayed in processing"
            time.sleep(0.02)
        for item in self.files():
            self.raw.delete(f"/v1/files/{item['id']}")


def _in_process() -> CompatEmulator | None:
    """This project's emulator in a thread, when the package under test is this project's."""
    try:
        from soniox.emulator import Emulator
    except ImportError:
        return None
    config = {k: v for k, v in FAST_CONFIG.items() if k not in ("host", "port")}
    emu = Emulator(**config).start()
    return CompatEmulator(emu.url, emu.api_key, "in-process (thread)", emu.stop)


def _read_line(stream: IO[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


CHILD_BOOTSTRAP = """
import json, os, sys
from soniox.emulator.runner import Emulator, config_from_json
config = config_from_json(json.loads(sys.stdin.readline()))
with Emulator(config) as emu:
    print(json.dumps({"url": emu.url, "api_key": emu.api_key, "pid": os.getpid()}), flush=True)
    sys.stdin.read()
"""
"""What the child runs: it loads only ``soniox.emulator`` (which imports nothing of the SDK,
so the child does not depend on the state of the SDK's other modules), takes its config from
stdin, prints one JSON line once listening, and serves until stdin closes."""


def _child_process(python: str) -> CompatEmulator:
    """The emulator in a child process of ``python``; its config travels on stdin, which then
    stays open as a lifeline (the child stops when it closes, even if this process dies)."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
    process = subprocess.Popen(
        [python, "-c", CHILD_BOOTSTRAP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(FAST_CONFIG) + "\n")
    process.stdin.flush()
    line = _read_line(process.stdout, STARTUP_TIMEOUT_S)
    if not line.strip():
        process.kill()
        process.wait(10)
        stderr.seek(0)
        tail = stderr.read()[-4000:].decode("utf-8", "replace")
        stderr.close()
        raise RuntimeError(f"the emulator child ({python}) did not start:\n{tail}")
    info = json.loads(line)

    def stop() -> None:
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
        stderr.close()

    return CompatEmulator(
        str(info["url"]), str(info["api_key"]), f"child process ({python}, pid {info['pid']})", stop
    )


def start_emulator() -> CompatEmulator:
    """The emulator for this session: a child process when :data:`PYTHON_ENV` names a python,
    else in this process when the ``soniox`` installed here is this project's package, else a
    child process of this repository's ``.venv``."""
    python = os.environ.get(PYTHON_ENV)
    if python:
        return _child_process(python)
    local = _in_process()
    if local is not None:
        return local
    fallback = REPO_ROOT / ".venv" / "bin" / "python"
    if fallback.exists():
        return _child_process(str(fallback))
    raise RuntimeError(
        f"no emulator: the soniox installed here has none; set {PYTHON_ENV} to a python "
        "that has the soniox-transport package with its emulator extra"
    )


# A loopback web server: audio URLs and webhook targets ---------------------------------------------
class Received:
    """One request the :class:`SideServer` received."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class SideServer:
    """A threaded loopback HTTP server standing in for the user's own web server.

    ``GET /audio/<name>.wav`` serves the test audio; ``GET /gated/<token>.wav`` holds the
    answer until :meth:`release` (so a transcription stays unfinished as long as a test needs);
    ``POST`` anywhere is recorded and answered 200 (a webhook receiver).
    """

    def __init__(self, audio: bytes) -> None:
        self._audio = audio
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._gates: dict[str, threading.Event] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/gated/"):
                    owner.gate_for(self.path.removeprefix("/gated/")).wait(30)
                if self.path.startswith(("/audio/", "/gated/")):
                    self._send(200, owner._audio, "audio/wav")
                else:
                    self._send(404, b"not here", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                with owner._lock:
                    owner._received.append(Received("POST", self.path, headers, body))
                self._send(200, b"ok", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.02), daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    def close(self) -> None:
        self.release_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def audio_url(self, name: str = "speech") -> str:
        return f"{self.base_url}/audio/{name}.wav"

    def gate_for(self, key: str) -> threading.Event:
        with self._lock:
            return self._gates.setdefault(key, threading.Event())

    def gated_audio_url(self) -> tuple[str, Callable[[], None]]:
        """An audio URL whose download waits until the returned function is called."""
        token = uuid.uuid4().hex
        gate = self.gate_for(f"{token}.wav")
        return f"{self.base_url}/gated/{token}.wav", gate.set

    def release_all(self) -> None:
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.set()

    def webhook_url(self) -> str:
        return f"{self.base_url}/hooks/{uuid.uuid4().hex}"

    def posts(self, url: str) -> list[Received]:
        path = url.removeprefix(self.base_url)
        with self._lock:
            return [r for r in self._received if r.path == path]

    def wait_for_post(self, url: str, timeout: float = 10.0) -> Received:
        deadline = time.monotonic() + timeout
        while True:
            got = self.posts(url)
            if got:
                return got[0]
            assert time.monotonic() < deadline, f"no webhook call reached {url}"
            time.sleep(0.01)
