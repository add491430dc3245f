"""Realtime latency and chunk size: first-token latency through a session vs raw websockets, and
what the chunk size costs in client CPU and in latency.

The emulator runs in a subprocess. Audio is 16 kHz mono 16-bit PCM, speech-like (its first burst
starts at 0 ms), sent **paced at real time** for the latency rows (as a microphone would) and
unpaced for the CPU rows.

* **First-token latency**: from the start of the speech to the first result carrying a token,
  and to the first final one. A live source has its first chunk only once it is recorded, so
  the chunk's length is part of it; the final also waits for the recognizer (the emulator's
  engine settles a 240 ms window after a finality lag). The number to read for the client is
  the session's *overhead* over raw websockets doing the same exchange by hand.
* **Tokens per second**: final tokens delivered per wall second for unpaced audio.
* **Chunk size**: 20 to 500 ms chunks — client CPU per audio minute (unpaced) and first-token
  latency (paced). The default chunk of ``transcribe()`` / ``stream()`` is chosen from this
  table.

Run ``python benchmarks/bench_realtime_latency.py`` (``--quick``: fewer rounds, records
nothing); results go to docs/performance.md, "Realtime: latency and chunk size", and the
chunk-size study, every round, to docs/data/realtime_chunk_size.json (to
``$SONIOX_BENCH_DATA_DIR`` instead if set; a ``--quick`` or ``--no-record`` run writes it only
then), from which ``python benchmarks/plots.py realtime_chunk_size`` draws
docs/img/realtime_chunk_size.png: first-token and first-final latency (median, whiskers over the
rounds) against the chunk size, next to the client CPU per audio minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from _util import median, record_data, record_section, speechlike_pcm, table
from websockets.sync.client import connect

from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.types import RealtimeSTTConfig

RATE = 16_000
BYTES_PER_MS = RATE * 2 // 1000
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=RATE, num_channels=1
)  # type: ignore[arg-type]


def chunked(audio: bytes, chunk_ms: int) -> list[bytes]:
    size = chunk_ms * BYTES_PER_MS
    return [audio[i : i + size] for i in range(0, len(audio), size)]


def paced(send: Callable[[bytes], None], chunks: list[bytes], chunk_ms: int, start: float) -> None:
    for index, chunk in enumerate(chunks):
        delay = start + index * chunk_ms / 1000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(chunk)


Latency = tuple[float, float]
"""Seconds from the start of the speech to the first token (any), and to the first final."""


def raw_first_token(url: str, key: str, chunks: list[bytes], chunk_ms: int) -> Latency:
    """First-token latencies, raw websockets."""
    with connect(
        url, additional_headers={"Authorization": f"Bearer {key}"}, compression=None
    ) as ws:
        ws.send(json.dumps(CONFIG.wire()))
        start = time.perf_counter()

        def send() -> None:
            paced(ws.send, chunks, chunk_ms, start)
            ws.send("")

        sender = threading.Thread(target=send)
        sender.start()
        first = final = 0.0
        while True:
            message = json.loads(ws.recv())
            now = time.perf_counter() - start
            if not first and message["tokens"]:
                first = now
            if not final and any(t["is_final"] for t in message["tokens"]):
                final = now
            if message.get("finished"):
                break
        sender.join()
    # A live source has its first chunk only once it is recorded: time counts from the speech.
    return first + chunk_ms / 1000, final + chunk_ms / 1000


def ours_first_token(client: SonioxClient, chunks: list[bytes], chunk_ms: int) -> Latency:
    """First-token latencies, RealtimeSTTSession."""
    with client.realtime.stt.connect(config=CONFIG) as session:
        start = time.perf_counter()

        def send() -> None:
            paced(session.send_byte_chunk, chunks, chunk_ms, start)
            session.finish()

        sender = threading.Thread(target=send)
        sender.start()
        first = final = 0.0
        for event in session.receive_events():
            now = time.perf_counter() - start
            if not first and event.tokens:
                first = now
            if not final and any(t.is_final for t in event.tokens):
                final = now
        sender.join()
    return first + chunk_ms / 1000, final + chunk_ms / 1000


def ours_unpaced(client: SonioxClient, chunks: list[bytes]) -> tuple[float, float, int]:
    """(client CPU s, wall s, final tokens) for unpaced audio through a session."""
    c0, t0 = time.process_time(), time.perf_counter()
    finals = 0
    with client.realtime.stt.connect(config=CONFIG) as session:
        sender = threading.Thread(target=session.send_bytes, args=(chunks,))
        sender.start()
        for event in session.receive_events():
            finals += sum(1 for t in event.tokens if t.is_final)
        sender.join()
    return time.process_time() - c0, time.perf_counter() - t0, finals


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds = 3 if args.quick else 9
    short = speechlike_pcm(2.0)  # the latency runs: two seconds of audio, paced
    long = speechlike_pcm(300.0)  # the CPU runs: five minutes, unpaced
    sizes = [20, 40, 60, 120, 240, 500]
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        raw: list[Latency] = []
        ours: list[Latency] = []
        for _ in range(rounds):
            raw.append(raw_first_token(emu.ws_url, emu.api_key, chunked(short, 120), 120))
            ours.append(ours_first_token(client, chunked(short, 120), 120))
        per_size: dict[int, tuple[float, float, float, float]] = {}
        per_size_rounds: dict[int, list[Latency]] = {}
        for size in sizes:
            latencies = [
                ours_first_token(client, chunked(short, size), size) for _ in range(rounds)
            ]
            per_size_rounds[size] = latencies
            runs = [ours_unpaced(client, chunked(long, size)) for _ in range(max(1, rounds // 3))]
            cpu = median([r[0] for r in runs]) / (len(long) / BYTES_PER_MS / 60_000)
            tokens_per_s = median([r[2] / r[1] for r in runs])
            per_size[size] = (
                median([lat[0] for lat in latencies]) * 1000,
                median([lat[1] for lat in latencies]) * 1000,
                cpu,
                tokens_per_s,
            )

    def ms(values: list[Latency], index: int) -> float:
        return median([v[index] for v in values]) * 1000

    latency_table = table(
        [
            "client (120 ms chunks, paced)",
            "first token ms",
            "overhead",
            "first final ms",
            "overhead",
        ],
        [
            ["raw websockets (sync)", f"{ms(raw, 0):.1f}", "-", f"{ms(raw, 1):.1f}", "-"],
            [
                "RealtimeSTTSession (sync)",
                f"{ms(ours, 0):.1f}",
                f"{ms(ours, 0) - ms(raw, 0):+.1f}",
                f"{ms(ours, 1):.1f}",
                f"{ms(ours, 1) - ms(raw, 1):+.1f}",
            ],
        ],
    )
    size_table = table(
        [
            "chunk ms",
            "first token ms (paced)",
            "first final ms (paced)",
            "client CPU s per audio minute (unpaced)",
            "final tokens per wall s (unpaced)",
        ],
        [
            [str(size), f"{first:.1f}", f"{final:.1f}", f"{cpu:.3f}", f"{tps:,.0f}"]
            for size, (first, final, cpu, tps) in per_size.items()
        ],
    )
    env = (
        f"Python {platform.python_version()}; latency: 2 s of audio, {rounds} rounds per row "
        f"(median); CPU: 5 min of audio per run, median of {max(1, rounds // 3)}; emulator in a "
        "subprocess, loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_realtime_latency.py` (all rows from one run). "
        "Latencies count from the start of the speech, as a live source lives it: the first "
        "chunk exists only once it is recorded (its length), then goes out; *first token* is "
        "the first result with a token (non-final: the emulator guesses from a partial "
        "window), *first final* the first settled one (a whole 240 ms window plus the "
        "engine's finality lag). What the session adds is the overhead over raw websockets "
        "doing the same exchange by hand.\n\n"
        f"{latency_table}\n\n{size_table}\n\n{env}\n\n"
        "Choosing the chunk: a smaller chunk gets the first token out sooner (it is recorded "
        "sooner) but costs more client CPU per audio minute (more frames, more messages) and "
        "does not bring the first final forward much, which waits for the recognizer's window; "
        "a larger one saves CPU and delays every result by its own length. `transcribe()` / "
        "`stream()` send 120 ms chunks (3,840 bytes of 16 kHz mono PCM), the official examples' "
        "size, as the table's compromise."
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Realtime: latency and chunk size", body)
    if not (args.quick or args.no_record) or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        cpu_runs = max(1, rounds // 3)
        path = record_data(
            "realtime_chunk_size",
            title="Realtime chunk size: latency from the start of the speech, and client CPU",
            command="python benchmarks/bench_realtime_latency.py",
            data={
                "rounds": rounds,
                "latency_audio_s": len(short) / BYTES_PER_MS / 1000,
                "cpu_audio_s": len(long) / BYTES_PER_MS / 1000,
                "cpu_runs": cpu_runs,
                "default_chunk_ms": 120,
                "sizes": [
                    {
                        "chunk_ms": size,
                        "first_token_ms": [
                            round(lat[0] * 1000, 2) for lat in per_size_rounds[size]
                        ],
                        "first_final_ms": [
                            round(lat[1] * 1000, 2) for lat in per_size_rounds[size]
                        ],
                        "first_token_median_ms": round(first, 2),
                        "first_final_median_ms": round(final, 2),
                        "cpu_s_per_audio_min": round(cpu, 4),
                        "final_tokens_per_s": round(tps, 1),
                    }
                    for size, (first, final, cpu, tps) in per_size.items()
                ],
                "reference": {
                    "chunk_ms": 120,
                    "raw_first_token_ms": [round(lat[0] * 1000, 2) for lat in raw],
                    "raw_first_final_ms": [round(lat[1] * 1000, 2) for lat in raw],
                    "session_first_token_ms": [round(lat[0] * 1000, 2) for lat in ours],
                    "session_first_final_ms": [round(lat[1] * 1000, 2) for lat in ours],
                },
            },
        )
        print(f"data: {path}")


def plot(data: dict[str, Any], fig: Any) -> None:
    """Latency against the chunk size (left: first token and first final, paced, median with
    whiskers over the rounds; the chunk's own length for reference) and the client CPU per audio
    minute (right, unpaced); the default chunk marked on both."""
    latency_ax = fig.add_subplot(1, 2, 1)
    cpu_ax = fig.add_subplot(1, 2, 2, sharex=latency_ax)
    sizes: list[dict[str, Any]] = data["sizes"]
    chunks = [s["chunk_ms"] for s in sizes]
    for key, label, marker in (
        ("first_token", "first token (non-final)", "o"),
        ("first_final", "first final token", "s"),
    ):
        medians = [statistics.median(s[f"{key}_ms"]) for s in sizes]
        low = [m - min(s[f"{key}_ms"]) for m, s in zip(medians, sizes, strict=True)]
        high = [max(s[f"{key}_ms"]) - m for m, s in zip(medians, sizes, strict=True)]
        latency_ax.errorbar(
            chunks,
            medians,
            yerr=[low, high],
            marker=marker,
            markersize=4,
            linewidth=1.3,
            capsize=3,
            label=f"{label}, median",
        )
    reference: dict[str, Any] = data["reference"]
    latency_ax.plot(
        [reference["chunk_ms"]] * 2,
        [
            statistics.median(reference["raw_first_token_ms"]),
            statistics.median(reference["raw_first_final_ms"]),
        ],
        linestyle="none",
        marker="x",
        markersize=7,
        color="black",
        label=f"raw websockets, {reference['chunk_ms']} ms chunks (by hand)",
    )
    latency_ax.plot(
        chunks,
        chunks,
        color="lightgrey",
        linewidth=4,
        zorder=1,
        label="the chunk's own length (recording it)",
    )
    latency_ax.set_ylabel(f"ms from the start of the speech (paced; {data['rounds']} rounds)")
    latency_ax.set_title("latency (whiskers: min-max over the rounds)", fontsize=9)
    runs = data["cpu_runs"]
    cpu_ax.plot(
        chunks,
        [s["cpu_s_per_audio_min"] for s in sizes],
        marker="D",
        markersize=4,
        linewidth=1.3,
        color="tab:red",
        label=f"client CPU (median of {runs} run{'s' if runs > 1 else ''})",
    )
    cpu_ax.set_ylabel("client CPU s per audio minute (unpaced)")
    cpu_ax.set_title(f"client cost ({data['cpu_audio_s'] / 60:g} min of audio per run)", fontsize=9)
    default = data["default_chunk_ms"]
    for ax in (latency_ax, cpu_ax):
        ax.axvline(default, color="grey", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xticks(chunks)
        ax.set_xticklabels([str(c) for c in chunks])
        ax.minorticks_off()
        ax.set_xlabel(f"audio chunk size (ms; dashed: the default, {default} ms)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    latency_ax.legend(loc="center left", bbox_to_anchor=(0.0, 0.55), fontsize=7.5)
    cpu_ax.legend(loc="upper right", fontsize=7.5)


if __name__ == "__main__":
    main()
