"""HTTP/2 GOAWAY after N streams: what the server never processed is retried, nothing twice.

A small loopback h2c server (h2 library, one thread per connection) answers ``per_connection``
streams, then sends GOAWAY with ``last_stream_id`` = the last answered stream and closes
gracefully, as servers with a max-requests-per-connection setting do. It records the body of
every request it processed, so the tests can check the transport's classification against the
truth: a request the server never processed is retried (even a POST), and one it did process is
never sent twice.

It also covers the httpcore 1.0 race the transport's HTTP/2 pools fix (encode/httpcore
discussion #1041, PR #1054): when a stream's response and the GOAWAY arrive in the same read,
stock httpcore fails that stream although its answer arrived — with 60 concurrent POSTs here,
10-16 of them per run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import pytest

from soniox.client import AsyncSonioxClient
from soniox.config import SonioxConfig

KEY = "goaway-test-key-0123456789"


class GoawayServer:
    """Plain-text HTTP/2 server that closes each connection with GOAWAY after N answers."""

    def __init__(self, per_connection: int) -> None:
        self.per_connection = per_connection
        self.processed: Counter[int] = Counter()
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.port = int(self._sock.getsockname()[1])

    def __enter__(self) -> GoawayServer:
        thread = threading.Thread(target=self._accept, name="goaway-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _may_close(self, opened: set[int], answered: set[int]) -> bool:
        """Enough answers, and none missing below the last one (GOAWAY's promise holds)."""
        if len(answered) < self.per_connection:
            return False
        last = max(answered)
        return all(stream in answered for stream in opened if stream < last)

    def _answer(self, h2conn: h2.connection.H2Connection, stream_id: int, body: bytes) -> None:
        number = int(json.loads(body or b'{"n": -1}')["n"])
        with self._lock:
            self.processed[number] += 1
        h2conn.send_headers(stream_id, [(":status", "200"), ("content-length", "2")])
        h2conn.send_data(stream_id, b"ok", end_stream=True)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        sock.sendall(h2conn.data_to_send())
        opened: set[int] = set()
        answered: set[int] = set()
        bodies: dict[int, bytes] = {}
        try:
            while not self._stop.is_set() and not self._may_close(opened, answered):
                data = sock.recv(65536)
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        opened.add(event.stream_id)
                        bodies[event.stream_id] = b""
                    elif isinstance(event, h2.events.DataReceived):
                        bodies[event.stream_id] += event.data
                        h2conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded) and not self._may_close(
                        opened, answered
                    ):
                        self._answer(h2conn, event.stream_id, bodies[event.stream_id])
                        answered.add(event.stream_id)
                sock.sendall(h2conn.data_to_send())
            h2conn.close_connection(last_stream_id=max(answered, default=0))
            sock.sendall(h2conn.data_to_send())
            # Graceful close, as real servers do: stop sending, drain what the client still
            # sends (so the kernel does not answer it with RST), close once the client does.
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(2)
            while sock.recv(65536):
                pass
        except OSError:
            return
        finally:
            sock.close()


@pytest.fixture
def server() -> Iterator[GoawayServer]:
    with GoawayServer(per_connection=7) as srv:
        yield srv


def _config(server: GoawayServer) -> SonioxConfig:
    return SonioxConfig.testing(
        api_key=KEY, base_url=f"http://127.0.0.1:{server.port}/v1", http2=True, max_retries=20
    )


async def _burst(config: SonioxConfig, method: str, count: int) -> list[int | Exception]:
    async with AsyncSonioxClient(config=config) as client:
        calls = [client.request(method, "/echo", json={"n": i}) for i in range(count)]
        results = await asyncio.gather(*calls, return_exceptions=True)
    return [r if isinstance(r, Exception) else r.status for r in results]  # type: ignore[misc]


def test_unprocessed_posts_are_retried_and_nothing_runs_twice(
    server: GoawayServer, caplog: pytest.LogCaptureFixture
) -> None:
    """60 concurrent POSTs over GOAWAY-cycled connections: all succeed, each processed exactly
    once, and every retry was of a request the server never processed."""
    caplog.set_level(logging.DEBUG, logger="soniox")
    results = asyncio.run(_burst(_config(server), "POST", 60))

    assert results == [200] * 60
    assert server.connections > 60 // server.per_connection
    assert server.processed == Counter(range(60))  # each POST ran exactly once
    retries = [r for r in caplog.records if hasattr(r, "retry_in_s")]
    assert all("RequestNotSentError" in r.reason for r in retries)  # type: ignore[attr-defined]


def test_concurrent_gets_all_succeed_across_goaways(server: GoawayServer) -> None:
    """Idempotent calls ride through every GOAWAY (the transparent and the retried kinds)."""
    assert asyncio.run(_burst(_config(server), "GET", 60)) == [200] * 60
