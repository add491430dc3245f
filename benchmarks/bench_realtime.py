"""Realtime client cost: streaming an hour of audio through a session vs raw websockets.

The emulator runs in a subprocess, so this process's CPU time (``time.process_time()``, all its
threads) is the client's alone. Both contenders send the same audio — 16 kHz mono 16-bit PCM,
speech-like (tone bursts and pauses), in 120 ms frames of 3,840 bytes, unpaced — to the same
emulator and read every result until ``finished``:

* **raw websockets** (``websockets.sync.client``): the config frame, the audio frames from a
  thread, the end-of-audio frame; the main thread reads and ``json.loads`` each message;
* **RealtimeSTTSession** (``client.realtime.stt.connect``): the official pattern — audio from a
  thread (``send_bytes``), ``receive_events()`` here — with everything the session does on top:
  the audio ledger kept for an exact resume, events decoded into typed ``RealtimeEvent`` values
  and shifted onto the stream's clock, the keepalive thread.

Rounds alternate the contenders; a cell is the median. Message decode is timed apart: one
typical result message (two final and three non-final tokens) decoded by ``RealtimeEvent`` (one
msgspec pass) and by ``json.loads`` alone (the floor of any JSON approach).
Run ``python benchmarks/bench_realtime.py`` (``--quick``: 2 minutes of audio, records nothing).
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time
import timeit
from collections.abc import Callable

from _util import median, record_section, speechlike_pcm, table
from websockets.sync.client import connect

from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.types import RealtimeEvent, RealtimeSTTConfig

FRAME = 3840  # 120 ms of 16 kHz mono 16-bit PCM
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=16_000, num_channels=1
)  # type: ignore[arg-type]
MESSAGE = json.dumps(
    {
        "tokens": [
            {"text": " hello", "start_ms": 1200, "end_ms": 1440, "confidence": 0.97,
             "is_final": True, "speaker": "1", "language": "en"},
            {"text": " world", "start_ms": 1440, "end_ms": 1680, "confidence": 0.93,
             "is_final": True, "speaker": "1", "language": "en"},
            {"text": " how", "start_ms": 1680, "end_ms": 1920, "confidence": 0.81,
             "is_final": False, "speaker": "1", "language": "en"},
            {"text": " are", "start_ms": 1920, "end_ms": 2160, "confidence": 0.78,
             "is_final": False, "speaker": "1", "language": "en"},
            {"text": " you", "start_ms": 2160, "end_ms": 2400, "confidence": 0.74,
             "is_final": False, "speaker": "1", "language": "en"},
        ],
        "final_audio_proc_ms": 1680,
        "total_audio_proc_ms": 2400,
    }
).encode()  # fmt: skip


def frames(audio: bytes) -> list[bytes]:
    return [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]


def raw_websockets(url: str, key: str, chunks: list[bytes]) -> int:
    """The floor: a bare sync websockets client doing the protocol by hand."""
    finals = 0
    with connect(
        url,
        additional_headers={"Authorization": f"Bearer {key}"},
        compression=None,
        max_size=None,
    ) as ws:
        ws.send(json.dumps(CONFIG.wire()))

        def send() -> None:
            for chunk in chunks:
                ws.send(chunk)
            ws.send("")

        sender = threading.Thread(target=send)
        sender.start()
        while True:
            message = json.loads(ws.recv())
            finals += sum(1 for t in message["tokens"] if t["is_final"])
            if message.get("finished"):
                break
        sender.join()
    return finals


def session(client: SonioxClient, chunks: list[bytes]) -> int:
    """RealtimeSTTSession, the official usage pattern."""
    finals = 0
    with client.realtime.stt.connect(config=CONFIG) as stream:
        sender = threading.Thread(target=stream.send_bytes, args=(chunks,))
        sender.start()
        for event in stream.receive_events():
            finals += sum(1 for t in event.tokens if t.is_final)
        sender.join()
    return finals


def timed(run: Callable[[], int]) -> tuple[float, float, int]:
    c0, t0 = time.process_time(), time.perf_counter()
    finals = run()
    return time.process_time() - c0, time.perf_counter() - t0, finals


def decode_us() -> tuple[float, float]:
    n = 20_000
    ours = min(timeit.repeat(lambda: RealtimeEvent.validate_event(MESSAGE), number=n, repeat=5))
    floor = min(timeit.repeat(lambda: json.loads(MESSAGE), number=n, repeat=5))
    return ours / n * 1e6, floor / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes of audio; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    minutes = 2 if args.quick else 60
    rounds = 1 if args.quick else 5
    chunks = frames(speechlike_pcm(minutes * 60.0))
    cpu: dict[str, list[float]] = {"raw": [], "ours": []}
    wall: dict[str, list[float]] = {"raw": [], "ours": []}
    finals: dict[str, set[int]] = {"raw": set(), "ours": set()}
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        contenders: dict[str, Callable[[], int]] = {
            "raw": lambda: raw_websockets(emu.ws_url, emu.api_key, chunks),
            "ours": lambda: session(client, chunks),
        }
        for run in contenders.values():  # warm-up
            run()
        for index in range(rounds):
            order = list(contenders) if index % 2 == 0 else list(reversed(contenders))
            for name in order:
                used, elapsed, count = timed(contenders[name])
                cpu[name].append(used)
                wall[name].append(elapsed)
                finals[name].add(count)
    ours_us, floor_us = decode_us()
    raw_cpu, ours_cpu = median(cpu["raw"]), median(cpu["ours"])
    ratios = sorted(o / r for o, r in zip(cpu["ours"], cpu["raw"], strict=True))
    rows = [
        [
            "raw websockets (sync), json.loads",
            f"{raw_cpu:.2f} ({min(cpu['raw']):.2f}-{max(cpu['raw']):.2f})",
            "1.00x",
            f"{median(wall['raw']):.1f}",
            ", ".join(map(str, sorted(finals["raw"]))),
        ],
        [
            "RealtimeSTTSession (sync), typed events",
            f"{ours_cpu:.2f} ({min(cpu['ours']):.2f}-{max(cpu['ours']):.2f})",
            f"{ours_cpu / raw_cpu:.2f}x (rounds: {ratios[0]:.2f}-{ratios[-1]:.2f}x)",
            f"{median(wall['ours']):.1f}",
            ", ".join(map(str, sorted(finals["ours"]))),
        ],
    ]
    stream_table = table(
        [
            "client (stream, all results read)",
            "client CPU s (range)",
            "vs raw",
            "wall s",
            "final tokens",
        ],
        rows,
    )
    decode_table = table(
        ["decoder (one result message, 5 tokens)", "µs per message"],
        [
            ["`RealtimeEvent.validate_event` (msgspec, typed)", f"{ours_us:.2f}"],
            ["`json.loads` (dicts, untyped; the floor)", f"{floor_us:.2f}"],
        ],
    )
    env = (
        f"Python {platform.python_version()}; {minutes} min of 16 kHz mono PCM in "
        f"{len(chunks):,} frames of {FRAME} bytes, unpaced; {rounds} rounds (median) after a "
        "warm-up, contenders alternating; emulator in a subprocess, loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_realtime.py` (all rows from one run). Target: a "
        "session's client CPU <= 1.2x raw websockets sending the same frames; message decode "
        "<= 2 µs (the official SDK's pydantic model: 13.4 µs per the issue).\n\n"
        f"{stream_table}\n\n{decode_table}\n\n{env}\n\n"
        "What the session does on top of raw websockets: the config checked, every chunk "
        "recorded by the audio ledger (kept until the server's final watermark passes it, for "
        "an exact resume), every message decoded into a typed event and its timestamps shifted "
        "onto the stream's clock, the keepalive thread, and one lock per call so that threads "
        "can send and receive at once — the whole default realtime chain (observe: a timestamp "
        "per chunk, a hook per event, a metrics record per session; buffer, keepalive, health, "
        "reconnect). Both contenders read the same number of final tokens. "
        "Both run a sending thread beside the receiving one, so their CPU time includes the "
        "threads' contention on the GIL and websockets' connection lock, which moves from run to "
        "run: the per-round ratios show the spread."
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Realtime: client cost", body)


if __name__ == "__main__":
    main()
