"""A voice bot's first word sooner: realtime links opened before the call, and the chain that
carries each session.

    python examples/realtime_preconnect.py

Runs against a local emulator over TLS. Three calls, three ways: a session that connects when
the call comes (the handshake on the first-token path), one on a link opened earlier and kept
alive with keepalives (``connect_idle`` → ``start_session``), and one on a link from the
client's own pool (``stt_connection_pool_size=1``: ``connect()`` takes it, the pool refills
itself). Each prints how long it took from the call to being ready for audio, then the chain a
session runs through and what the client's metrics recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import soniox.data
from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.realtime import RealtimeSTTSession
from soniox.types import RealtimeSTTConfig
from soniox.utils import start_audio_thread, stream_audio

SAMPLE = Path(soniox.data.__file__).parent / "sample-en.wav"
CONFIG = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")


def call(name: str, begin: Callable[[], AbstractContextManager[RealtimeSTTSession]]) -> None:
    """A call arrives: begin its session, stream the sample, print the transcript."""
    arrived = time.perf_counter()
    with begin() as session:
        ready_ms = (time.perf_counter() - arrived) * 1000
        sender = start_audio_thread(session, stream_audio(SAMPLE, chunk_size_bytes=3840))
        words = [t.text for e in session.receive_events() for t in e.tokens if t.is_final]
        sender.join()
    print(f"{name:<28} ready in {ready_ms:5.1f} ms: {''.join(words).strip()[:40]}…")


def main() -> None:
    with Emulator(tls=True) as emu:
        client = SonioxClient(
            api_key=emu.api_key,
            api_base_url=emu.tls_rest_base_url,
            websocket_base_url=emu.tls_ws_url,
            verify=emu.ssl_context(),
            stt_connection_pool_size=1,
        )
        stt = client.realtime.stt
        stt.warmup_connection_pool()  # the client's link, open before any call
        call("on demand", lambda: stt.connect(config=CONFIG, use_connection_pool=False))

        link = stt.connect_idle().open()  # a link of our own, idle until the call
        link.start_idle_keepalive(interval_sec=5.0)
        call("pre-connected link", lambda: link.start_session(config=CONFIG))

        call("client pool", lambda: stt.connect(config=CONFIG))

        session = stt.connect(config=CONFIG, use_connection_pool=False)
        print(session.chain)
        realtime = client.metrics.snapshot().realtime
        print(
            f"{realtime.sessions} sessions, {realtime.final_tokens} final tokens, first token "
            f"p50 {realtime.first_token.p50 * 1000:.1f} ms, connect p50 "
            f"{realtime.connect.p50 * 1000:.1f} ms"
        )
        client.close()


if __name__ == "__main__":
    main()
