"""Pre-connected realtime links: first-token latency with and without, over loopback TLS; and
what permessage-deflate would do to audio.

* **Pre-connect**: a voice bot's call arrives at t0; the time to its first token includes the
  TCP + TLS + WebSocket handshake when the session connects on demand, and not when a link was
  opened before (``connect_idle`` + ``start_session``, or a client pool behind ``connect``).
  Each round: 2 s of speech-like 16 kHz PCM paced at real time in 120 ms chunks; the emulator
  (a subprocess) serves TLS on loopback. Rows: raw websockets connecting on demand, our
  session on demand, a pre-connected link, the client's pool. Medians of interleaved rounds;
  *enter* is t0 → the session ready for audio.
* **permessage-deflate**: the compression ratio and the CPU per audio minute of compressing
  audio frames with the extension's settings (raw deflate, 15-bit window, a context kept across
  frames), on real speech (the bundled sample) and on the speech-like signal.

Run ``python benchmarks/bench_realtime_preconnect.py`` (``--quick``: fewer rounds, records
nothing); results go to docs/performance.md, "Realtime: pre-connected links".
"""

from __future__ import annotations

import argparse
import json
import platform
import ssl
import threading
import time
import wave
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

from _util import median, record_section, speechlike_pcm, table
from websockets.sync.client import connect

import soniox.data
from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.realtime import RealtimeSTTSession
from soniox.types import RealtimeSTTConfig

RATE = 16_000
BYTES_PER_MS = RATE * 2 // 1000
CHUNK_MS = 120
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=RATE, num_channels=1
)  # type: ignore[arg-type]
Timing = tuple[float, float]
"""Seconds from t0 to the session being ready, and to the first token."""


def chunks_of(audio: bytes) -> list[bytes]:
    size = CHUNK_MS * BYTES_PER_MS
    return [audio[i : i + size] for i in range(0, len(audio), size)]


def paced(send: Callable[[bytes], None], chunks: list[bytes], start: float) -> None:
    for index, chunk in enumerate(chunks):
        delay = start + index * CHUNK_MS / 1000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(chunk)


def raw_on_demand(url: str, key: str, context: ssl.SSLContext, chunks: list[bytes]) -> Timing:
    t0 = time.perf_counter()
    with connect(
        url, additional_headers={"Authorization": f"Bearer {key}"}, compression=None, ssl=context
    ) as ws:
        ws.send(json.dumps(CONFIG.wire()))
        ready = time.perf_counter() - t0
        start = time.perf_counter()

        def send() -> None:
            paced(ws.send, chunks, start)
            ws.send("")

        sender = threading.Thread(target=send)
        sender.start()
        first = 0.0
        while True:
            message = json.loads(ws.recv())
            if not first and message["tokens"]:
                first = time.perf_counter() - t0
            if message.get("finished"):
                break
        sender.join()
    return ready, first


def through(
    open_session: Callable[[], AbstractContextManager[RealtimeSTTSession]], chunks: list[bytes]
) -> Timing:
    t0 = time.perf_counter()
    with open_session() as session:
        ready = time.perf_counter() - t0
        start = time.perf_counter()

        def send() -> None:
            paced(session.send_byte_chunk, chunks, start)
            session.finish()

        sender = threading.Thread(target=send)
        sender.start()
        first = 0.0
        for event in session.receive_events():
            if not first and event.tokens:
                first = time.perf_counter() - t0
        sender.join()
    return ready, first


def deflate_cost(audio: bytes) -> tuple[float, float]:
    """(compressed / original, CPU s per audio minute) for permessage-deflate on 120 ms frames."""
    frames = chunks_of(audio)
    compressor = zlib.compressobj(wbits=-15)
    c0 = time.process_time()
    size = 0
    for frame in frames:
        size += len(compressor.compress(frame) + compressor.flush(zlib.Z_SYNC_FLUSH))
    cpu = time.process_time() - c0
    minutes = len(audio) / BYTES_PER_MS / 60_000
    return size / len(audio), cpu / minutes


def real_speech() -> bytes:
    with wave.open(str(Path(soniox.data.__file__).parent / "sample-en.wav")) as w:
        return w.readframes(w.getnframes())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds = 3 if args.quick else 11
    chunks = chunks_of(speechlike_pcm(2.0))
    rows: dict[str, list[Timing]] = {
        "raw websockets, on demand": [],
        "session, on demand (connect)": [],
        "pre-connected link (connect_idle → start_session)": [],
        "client pool (stt_connection_pool_size=1, connect)": [],
    }
    with Emulator(mode="subprocess", tls=True) as emu:
        context = emu.ssl_context()
        client = SonioxClient(
            api_key=emu.api_key,
            api_base_url=emu.tls_rest_base_url,
            websocket_base_url=emu.tls_ws_url,
            verify=context,
        )
        pooled = SonioxClient(
            api_key=emu.api_key,
            api_base_url=emu.tls_rest_base_url,
            websocket_base_url=emu.tls_ws_url,
            verify=context,
            stt_connection_pool_size=1,
        )
        stt, pool_stt = client.realtime.stt, pooled.realtime.stt
        pool_stt.warmup_connection_pool()
        for _ in range(rounds):
            rows["raw websockets, on demand"].append(
                raw_on_demand(emu.tls_ws_url, emu.api_key, context, chunks)
            )
            rows["session, on demand (connect)"].append(
                through(lambda: stt.connect(config=CONFIG), chunks)
            )
            link = stt.connect_idle().open()
            link.start_idle_keepalive()
            time.sleep(0.2)  # the link waits for its call

            rows["pre-connected link (connect_idle → start_session)"].append(
                through(partial(link.start_session, config=CONFIG), chunks)
            )
            pool = pool_stt.connection_pool
            while pool.idle_count < 1:  # the pool refills in the background
                time.sleep(0.01)
            time.sleep(0.2)
            rows["client pool (stt_connection_pool_size=1, connect)"].append(
                through(lambda: pool_stt.connect(config=CONFIG), chunks)
            )
        client.close()
        pooled.close()

    base = median([t[1] for t in rows["session, on demand (connect)"]]) * 1000
    latency_table = table(
        [
            "client (TLS loopback, 120 ms chunks, paced)",
            "ready ms",
            "first token ms",
            "vs on demand",
        ],
        [
            [
                name,
                f"{median([t[0] for t in values]) * 1000:.1f}",
                f"{median([t[1] for t in values]) * 1000:.1f}",
                f"{median([t[1] for t in values]) * 1000 - base:+.1f}",
            ]
            for name, values in rows.items()
        ],
    )
    speech_ratio, speech_cpu = deflate_cost(real_speech() * 12)
    synth_ratio, synth_cpu = deflate_cost(speechlike_pcm(60.0))
    deflate_table = table(
        ["audio (16 kHz mono PCM, 120 ms frames)", "deflated size", "CPU s per audio minute"],
        [
            ["real speech (sample-en.wav)", f"{speech_ratio:.1%}", f"{speech_cpu:.4f}"],
            ["speech-like signal", f"{synth_ratio:.1%}", f"{synth_cpu:.4f}"],
        ],
    )
    env = (
        f"Python {platform.python_version()}, {rounds} interleaved rounds per row (median); "
        "emulator in a subprocess with TLS on loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_realtime_preconnect.py` (one run). A call "
        "arrives at t0; *ready* is t0 → the session can take audio, *first token* t0 → the "
        "first result with a token (the audio itself needs ~120 ms of recording plus the "
        "recognizer's time, the same in every row). On loopback the handshake is all CPU — "
        "TCP, TLS 1.3, the WebSocket upgrade, the server's key check — and the pre-connected "
        "rows skip it; over a real network add the round trips it takes (TCP 1, TLS 1, "
        "WebSocket 1: three RTTs, 150 ms at 50 ms RTT).\n\n"
        f"{latency_table}\n\n{env}\n\n"
        "permessage-deflate on audio frames (our sessions turn the extension off):\n\n"
        f"{deflate_table}\n\n"
        f"Real speech deflates to {speech_ratio:.0%} of its size at {speech_cpu:.3f} s of CPU "
        "per audio minute — more than a whole session costs the client per audio minute (the "
        "chunk-size table above) — on every frame and again on the server, for a stream of "
        "256 kbit/s that any link carries. (The periodic speech-like signal compresses far "
        "better than speech: the first row is the one to read.) Compression stays off; for "
        "narrow links, send a compressed format (Opus, MP3) instead: the server decodes it."
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Realtime: pre-connected links", body)


if __name__ == "__main__":
    main()
