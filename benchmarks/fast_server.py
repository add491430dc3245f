"""A fast loopback server with canned Soniox answers, so a benchmark measures the client.

The emulator is a faithful but pure-Python server (about 1,000 small requests per second), so
against it a client's throughput is the emulator's. This server answers the small GETs from
bytes made once at start-up, with a plain ASGI callable (no framework, no routing table, no
auth check, no JSON work per request):

* ``GET /v1/models`` and ``GET /v1/tts-models``: the emulator's catalogue
  (:mod:`soniox.emulator.catalog`, the same bytes the emulator sends);
* ``GET /v1/files/{id}``: a file, ``GET /v1/transcriptions/{id}``: a completed
  transcription, shaped by the emulator's own ``to_json`` with ``{id}`` spliced in;
* anything else: the API's error body (404, or 405 for another method).

The query string is ignored, so a benchmark can make every URL unique (to get past a cache or
in-flight de-duplication) and still get the canned answer.

Two protocol engines, each in this one process (one worker):

* ``--http 1``: HTTP/1.1 by uvicorn with httptools (C parser), on uvloop when it is installed;
* ``--http 2``: HTTP/2 over cleartext with prior knowledge (h2c, what ``httpx`` and the SDK
  speak to an ``http://`` URL with HTTP/1.1 turned off) by granian, whose HTTP/2 framing is
  Rust (hyper). The pure-Python choice, hypercorn, spends more CPU per request than the
  client under test and broke the connection (GOAWAY PROTOCOL_ERROR) at 100 concurrent h2c
  streams from httpx.

Loopback only. It prints one JSON line on stdout once it accepts connections (``url``,
``rest_base_url``, ``http``, ``server``, ``pid``) and stops when its standard input closes (the
parent that started it is gone) or after ``--timeout`` seconds, whichever comes first::

    python benchmarks/fast_server.py --http 1 --timeout 600

:class:`FastServer` starts it as a subprocess from a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any

from soniox.emulator.catalog import models_json, tts_models_json
from soniox.emulator.errors import api_error_body
from soniox.emulator.store import StoredFile, StoredTranscription

__all__ = ["FastServer", "build_app", "main"]

HOST = "127.0.0.1"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PLACEHOLDER = "@@ID@@"


def _dump(payload: object) -> bytes:
    # As the emulator writes its answers (rest.py's _json): compact, UTF-8.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _templates() -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    """The JSON of a file and of a completed transcription, split around their id."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    file = StoredFile(
        id=_PLACEHOLDER,
        seq=1,
        filename="meeting.wav",
        size=1_920_044,
        created_at=created,
        path=Path("meeting.wav"),
    )
    job = StoredTranscription(
        id=_PLACEHOLDER,
        seq=1,
        created_at=created,
        model="stt-async-v5",
        filename="meeting.wav",
        file_id="0b6f3c4e-1d7a-4f7e-9a52-3c2f1e0d9b8a",
        status="completed",
        audio_duration_ms=60_000,
    )
    parts: list[tuple[bytes, bytes]] = []
    for obj in (file.to_json(), job.to_json()):
        head, tail = _dump(obj).split(_PLACEHOLDER.encode())
        parts.append((head, tail))
    return parts[0], parts[1]


def _error(status: int, error_type: str, message: str) -> bytes:
    return _dump(api_error_body(status, error_type, message, "fast-server"))


def build_app() -> ASGIApp:
    """The ASGI callable: every answer is prepared here, a request only picks one."""
    static = {
        "/v1/models": _dump(models_json()),
        "/v1/tts-models": _dump(tts_models_json()),
    }
    (file_head, file_tail), (job_head, job_tail) = _templates()
    prefixed = (("/v1/files/", file_head, file_tail), ("/v1/transcriptions/", job_head, job_tail))
    not_found = _error(404, "not_found", "Not found.")
    not_allowed = _error(405, "method_not_allowed", "Method not allowed.")
    content_type = (b"content-type", b"application/json")

    def answer(method: str, path: str) -> tuple[int, bytes]:
        if method != "GET":
            return 405, not_allowed
        body = static.get(path)
        if body is not None:
            return 200, body
        for prefix, head, tail in prefixed:
            if path.startswith(prefix):
                ident = path[len(prefix) :]
                if _ID.fullmatch(ident):
                    return 200, head + ident.encode() + tail
        return 404, not_found

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off in both servers; nothing else is served
            return
        status, body = answer(scope["method"], scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [content_type, (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _announce(port: int, http: str, server: str) -> None:
    url = f"http://{HOST}:{port}"
    info = {
        "url": url,
        "rest_base_url": url + "/v1",
        "http": http,
        "server": server,
        "pid": os.getpid(),
    }
    print(json.dumps(info), flush=True)


def _lifeline(stop: Callable[[], None], timeout_s: float) -> None:
    """Call ``stop`` when standard input closes or ``timeout_s`` has passed."""

    def watch_stdin() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read holds its lock,
        # and the interpreter aborts at exit when the timeout stops the server first.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        stop()

    threading.Thread(target=watch_stdin, name="fast-server-lifeline", daemon=True).start()
    timer = threading.Timer(timeout_s, stop)
    timer.daemon = True
    timer.start()


def _serve_http1(app: ASGIApp, timeout_s: float) -> None:
    import uvicorn

    if importlib.util.find_spec("uvloop") is not None:
        loop, with_loop = "uvloop", f", uvloop {_version('uvloop')}"
    else:
        loop, with_loop = "asyncio", ""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http="httptools",
        loop=loop,
        lifespan="off",
        ws="none",
        interface="asgi3",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        backlog=1024,
        timeout_keep_alive=3600,  # idle keep-alive connections stay open for the whole run
    )
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True  # polled by uvicorn's main loop every 0.1 s

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            name = f"uvicorn {_version('uvicorn')} (httptools {_version('httptools')}{with_loop})"
            _announce(port, "1.1", name)
            _lifeline(stop, timeout_s)
        await task

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(serve())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return True
        time.sleep(0.02)
    return False


def _serve_http2(app: ASGIApp, timeout_s: float) -> None:
    import logging

    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    logging.getLogger("granian").setLevel(logging.ERROR)  # "embedded server is experimental"
    # granian binds by address and port (no socket hand-over), so take a port the kernel just
    # had free; loopback only, and a collision fails the start loudly.
    port = _free_port()
    server = Server(
        app,
        address=HOST,
        port=port,
        interface=Interfaces.ASGINL,  # ASGI without lifespan
        http=HTTPModes.http2,  # HTTP/2 only: h2c with prior knowledge on a plain socket
        websockets=False,
        backlog=1024,
        log_enabled=False,
    )

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(server.serve())
        ready = await loop.run_in_executor(None, _wait_listening, port, 10.0)
        if not ready or task.done():
            task.cancel()
            raise SystemExit(f"fast_server: granian did not start listening on port {port}")
        _announce(port, "2", f"granian {_version('granian')} (h2c, prior knowledge)")

        def stop() -> None:
            loop.call_soon_threadsafe(server.stop)

        _lifeline(stop, timeout_s)
        await task

    asyncio.run(serve())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--http", choices=("1", "2"), default="1", help="protocol (default: 1)")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="stop after this many seconds (900)"
    )
    args = parser.parse_args(argv)
    app = build_app()
    if args.http == "1":
        _serve_http1(app, args.timeout)
    else:
        _serve_http2(app, args.timeout)


class FastServer:
    """``with FastServer(http="1") as server:`` runs this script in a subprocess; the server
    stops when the block ends (its standard input closes), or when this process dies."""

    def __init__(self, http: str = "1", timeout_s: float = 900.0) -> None:
        self._args = [sys.executable, __file__, "--http", http, "--timeout", str(timeout_s)]
        self._proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    @property
    def rest_base_url(self) -> str:
        return str(self.info["rest_base_url"])

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    @property
    def server(self) -> str:
        return str(self.info["server"])

    def start(self) -> FastServer:
        proc = subprocess.Popen(self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._proc = proc
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"fast_server exited before it was ready: {self._args}")
        self.info = json.loads(line)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> FastServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    main()
