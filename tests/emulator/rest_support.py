"""Helpers for the REST tests: test audio, tiny loopback HTTP servers, a spec-checking client."""

from __future__ import annotations

import io
import json
import math
import threading
import time
import wave
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import httpx
from openapi_check import OpenApiChecker

from soniox.emulator import Emulator

FAST: dict[str, Any] = {
    "queue_delay_s": 0.01,
    "processing_speed": 1000.0,
    "min_processing_s": 0.01,
    "webhook_retry_delay_s": 0.05,
}
"""Job and webhook timings that keep lifecycle tests in the tens of milliseconds."""


def make_wav(seconds: float = 2.0, *, rate: int = 16_000) -> bytes:
    """16 kHz mono s16le WAV: 300 ms tones of changing pitch separated by 200 ms of silence."""
    frames = bytearray()
    total = int(seconds * rate)
    for i in range(total):
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


def multipart_stream(
    chunks: Iterator[bytes], filename: str, fields: dict[str, str] | None = None
) -> tuple[dict[str, str], Iterator[bytes]]:
    """A ``multipart/form-data`` body generated on the fly around ``chunks`` (sent chunked)."""
    boundary = "rest-test-boundary-7e1c"

    def body() -> Iterator[bytes]:
        for name, value in (fields or {}).items():
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        yield from chunks
        yield f"\r\n--{boundary}--\r\n".encode()

    return {"content-type": f"multipart/form-data; boundary={boundary}"}, body()


@attrs.define
class Received:
    """One request a :class:`LocalServer` received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class LocalServer:
    """A loopback HTTP server in a thread: serves ``routes`` (path -> (status, body)) and
    answers anything else with ``default_status``; records every request."""

    routes: dict[str, tuple[int, bytes]] = attrs.field(factory=dict)
    default_status: int = 200
    received: list[Received] = attrs.field(factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.received.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                status, payload = owner.routes.get(self.path, (owner.default_status, b"ok"))
                self.send_response(status)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.02), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.requests()
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"expected {count} request(s), got {len(self.requests())}")


class Api:
    """An httpx client for the emulator that validates every response against the spec.

    ``call(method, template, **path_params, ...)`` fills ``{name}`` placeholders, sends the
    request, checks status + body against the OpenAPI operation, and returns the response.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        checker: OpenApiChecker,
        *,
        http2: bool = False,
    ) -> None:
        self.checker = checker
        self.client = httpx.Client(
            base_url=base_url.removesuffix("/v1"),
            headers={"authorization": f"Bearer {api_key}"},
            http1=not http2,
            http2=http2,
            timeout=10.0,
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        method: str,
        template: str,
        *,
        path_params: dict[str, str] | None = None,
        expect: int | None = None,
        allow_undocumented_error: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        path = template.format(**(path_params or {}))
        response = self.client.request(method, path, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        self.checker.check(
            method,
            template,
            response.status_code,
            response.content,
            response.headers.get("content-type"),
            allow_undocumented_error=allow_undocumented_error,
        )
        return response

    def upload(
        self, content: bytes | Iterator[bytes], filename: str = "audio.wav", **data: str
    ) -> dict[str, Any]:
        if isinstance(content, bytes):
            files = {"file": (filename, content, "audio/wav")}
            response = self.call("POST", "/v1/files", expect=201, files=files, data=data or None)
        else:
            headers, body = multipart_stream(content, filename, data)
            response = self.call("POST", "/v1/files", expect=201, content=body, headers=headers)
        return response.json()

    def create(self, **payload: Any) -> dict[str, Any]:
        payload.setdefault("model", "stt-async-v5")
        response = self.call("POST", "/v1/transcriptions", expect=201, json=payload)
        return response.json()

    def get(self, transcription_id: str) -> dict[str, Any]:
        response = self.call(
            "GET",
            "/v1/transcriptions/{transcription_id}",
            path_params={"transcription_id": transcription_id},
            expect=200,
        )
        return response.json()

    def wait(
        self,
        transcription_id: str,
        until: Callable[[dict[str, Any]], bool] = lambda t: t["status"] in ("completed", "error"),
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(transcription_id)
            if until(current):
                return current
            assert time.monotonic() < deadline, f"timed out waiting; last state {current}"
            time.sleep(0.01)


def error_body(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.content)
    return body


EmulatorFactory = Callable[..., tuple[Emulator, "Api"]]
"""What the ``make_emulator`` fixture returns: start an emulator with config overrides."""
