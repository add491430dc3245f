"""The sync HTTP/2 pool's h2 state, shared by threads (transport/_http2_pools.py)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from soniox.transport._http2_pools import (
    _SerialH2State,  # pyright: ignore[reportPrivateUsage]
)

THREADS = 50
STREAMS_EACH = 20


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can, so races show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _config(client: bool) -> h2.config.H2Configuration:
    return h2.config.H2Configuration(client_side=client, header_encoding=None)


@pytest.mark.usefixtures("busy_switching")
def test_threads_opening_streams_at_once_send_ids_in_order_and_decodable_headers() -> None:
    """1,000 streams from 50 threads: each id once, and every header block decodes to its own."""
    client = _SerialH2State(config=_config(True))
    client.initiate_connection()
    server = h2.connection.H2Connection(config=_config(False))
    many = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100_000}
    server.local_settings = h2.settings.Settings(client=False, initial_values=many)
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    sent: dict[int, bytes] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def open_streams(worker: int) -> None:
        start.wait()
        for i in range(STREAMS_EACH):
            marker = f"{worker}-{i}-{'x' * (i % 7)}".encode()
            try:
                stream_id = client.get_next_available_stream_id()
                client.send_headers(
                    stream_id,
                    [
                        (b":method", b"GET"),
                        (b":authority", b"example"),
                        (b":scheme", b"https"),
                        (b":path", b"/v1/models?m=" + marker),
                        (b"x-marker", marker),
                    ],
                    end_stream=True,
                )
            except BaseException as exc:
                failures.append(exc)
                return
            sent[stream_id] = marker

    workers = [threading.Thread(target=open_streams, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert failures == []
    received = {
        event.stream_id: dict(event.headers or [])[b"x-marker"]
        for event in server.receive_data(client.data_to_send())
        if isinstance(event, h2.events.RequestReceived)
    }
    assert len(sent) == THREADS * STREAMS_EACH
    assert received == sent


def test_a_stream_id_taken_without_headers_is_given_back() -> None:
    """A thread that took an id and failed before sending headers does not keep the lock."""
    state = _SerialH2State(config=_config(True))
    state.initiate_connection()
    state.get_next_available_stream_id()
    state.release_stream_id()
    other: list[int] = []
    thread = threading.Thread(target=lambda: other.append(state.get_next_available_stream_id()))
    thread.start()
    thread.join(timeout=5)
    assert other == [1]
