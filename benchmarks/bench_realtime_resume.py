"""Resume soak: one long realtime stream that loses its connection many times, and the final
transcript compared with the fault-free one, token for token (text, start_ms, end_ms).

The emulator (in a subprocess) is told to break connection k of the stream — a drop without a
close frame, or a 503 error frame — after a random number of frames (seeded), for k = 1 .. N.
The session reconnects each time (fresh connection, the config, the audio since the last final
watermark, timestamps shifted). Reported: whether every run's transcript equals the fault-free
one, the reconnections, and the wall time a reconnection adds (the faulty run's wall time minus
the fault-free one's, per reconnection).

The audio is paced (20x real time by default) as a live source is: the server keeps up, so what
a resume replays — the audio after the last final watermark — stays short. Unpaced, an hour of
audio would be sent long before the server finalized it, and every reconnection would replay
most of it.

Opt-in and bounded: ``python benchmarks/bench_realtime_resume.py`` (200 faults over 10 minutes
of audio at 20x, about 40 s; ``--faults N``, ``--minutes M``, ``--pace X``, ``--quick``: 20
faults, records nothing). Results go to docs/reliability.md, "Realtime resume soak".
"""

from __future__ import annotations

import argparse
import platform
import random
import threading
import time

from _util import record_section, speechlike_pcm, table

from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.realtime import ReconnectPolicy
from soniox.types import RealtimeSTTConfig

FRAME = 3840
CHUNK_S = 0.12
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=16_000, num_channels=1
)  # type: ignore[arg-type]
Final = tuple[str, int | None, int | None]


def run(client: SonioxClient, chunks: list[bytes], pace: float) -> tuple[list[Final], int, float]:
    """(final tokens, reconnections, wall s) of one stream, sent at ``pace`` x real time (a
    live source's way: the server keeps up, so the audio kept for a resume stays short)."""
    policy = ReconnectPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05)
    started = time.perf_counter()
    finals: list[Final] = []
    with client.realtime.stt.connect(config=CONFIG, reconnect=policy) as session:

        def send() -> None:
            for index, chunk in enumerate(chunks):
                delay = started + index * CHUNK_S / pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                session.send_byte_chunk(chunk)
            session.finish()

        sender = threading.Thread(target=send)
        sender.start()
        for event in session.receive_events():
            finals += [(t.text, t.start_ms, t.end_ms) for t in event.tokens if t.is_final]
        sender.join()
    return finals, session.reconnects, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pace", type=float, default=20.0, help="x real time (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 faults; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    faults = 20 if args.quick else args.faults
    audio = speechlike_pcm(args.minutes * 60)
    chunks = [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]
    rng = random.Random(args.seed)
    frames_per_connection = max(3, len(chunks) // (faults + 1))
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        clean, _, clean_wall = run(client, chunks, args.pace)
        kinds = {"ws_drop": 0, "ws_error 503": 0}
        for k in range(1, faults + 1):
            after = rng.randint(2, frames_per_connection)
            if rng.random() < 0.5:
                emu.faults.inject("ws_drop", "/transcribe-websocket", nth=k, after_frames=after)
                kinds["ws_drop"] += 1
            else:
                emu.faults.inject(
                    "ws_error", "/transcribe-websocket", nth=k, after_frames=after, error_code=503
                )
                kinds["ws_error 503"] += 1
        faulty, reconnects, faulty_wall = run(client, chunks, args.pace)
        emu.faults.clear()
    identical = faulty == clean
    added = (faulty_wall - clean_wall) / reconnects * 1000 if reconnects else 0.0
    result = table(
        ["run", "final tokens", "reconnections", "wall s", "identical to fault-free"],
        [
            ["fault-free", f"{len(clean):,}", "0", f"{clean_wall:.1f}", "-"],
            [
                f"{faults} faults ({kinds['ws_drop']} drops, {kinds['ws_error 503']} 503 frames)",
                f"{len(faulty):,}",
                str(reconnects),
                f"{faulty_wall:.1f}",
                "yes" if identical else "**NO**",
            ],
        ],
    )
    env = (
        f"Python {platform.python_version()}; {args.minutes:g} min of 16 kHz mono PCM in "
        f"{len(chunks):,} frames of {FRAME} bytes, sent at {args.pace:g}x real time; seed "
        f"{args.seed}; reconnection backoff 10-50 ms; emulator in a subprocess, loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_realtime_resume.py` (opt-in). One stream, "
        "broken again and again by the emulator (connection k drops, or gets a 503 error "
        "frame, after a random number of frames); the session resumes each time from the last "
        "final watermark.\n\n"
        f"{result}\n\n"
        f"Added wall time per reconnection: {max(0.0, added):.0f} ms — the backoff, a new "
        "connection, the config and the replayed audio since the watermark, which a paced "
        "stream absorbs: the sender is ahead of the server's watermark by less than the pacing "
        "leaves idle.\n\n"
        f"{env}"
    )
    print(body)
    if not identical:
        raise SystemExit("the transcript differs from the fault-free run")
    if not (args.quick or args.no_record):
        record_section("reliability.md", "Realtime resume soak", body)


if __name__ == "__main__":
    main()
