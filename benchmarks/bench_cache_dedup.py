"""Cache and in-flight dedup: upstream requests and latency, with and without each middleware.

The emulator runs in a subprocess (its work does not share the client's interpreter) and holds
one completed job whose transcript is a few hundred kilobytes. Two measurements:

- **Dedup**: 100 concurrent identical ``client.stt.get_transcript(id)`` calls — asyncio tasks on
  one ``AsyncSonioxClient``, and threads on one ``SonioxClient`` — with the stack
  ``headers → dedup → retry → logging`` against the same stack without ``dedup``. Per round:
  the upstream requests the emulator's journal recorded, and each call's latency from the
  moment the 100 were started. Medians over the rounds.
- **Cache**: one transcript fetched again and again through ``headers → cache → dedup → retry →
  logging``, alternating a miss (``client.cache.clear()`` first) and a hit; medians of each,
  for the raw call through the stack (``client.request``) and for the typed
  ``client.stt.get_transcript`` (which adds the msgspec parse to both).

Run:

    python benchmarks/bench_cache_dedup.py           # ~1 minute
    python benchmarks/bench_cache_dedup.py --quick   # a smoke run

Results are printed as markdown and recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import platform
import statistics
import sys
import time
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _util import median, record_section, speechlike_pcm, table

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.flows.polling import PollingPolicy

HEADING = "Cache and dedup"
CONCURRENT = 100
PLAIN = ("headers", "retry", "logging")
DEDUP = ("headers", "dedup", "retry", "logging")
CACHED = ("headers", "cache", "dedup", "retry", "logging")
SAMPLE_RATE = 8_000


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(speechlike_pcm(seconds, SAMPLE_RATE))
    return out.getvalue()


def config(emu: Emulator, middleware: tuple[str, ...]) -> SonioxConfig:
    return SonioxConfig.production(
        api_key=emu.api_key,
        base_url=emu.rest_base_url,
        middleware=middleware,
        max_connections=CONCURRENT,
        max_keepalive_connections=CONCURRENT,
    )


def make_job(emu: Emulator, seconds: float) -> tuple[str, int, int]:
    """A completed job: (id, tokens, transcript bytes)."""
    with SonioxClient(config=config(emu, PLAIN)) as client:
        job = client.stt.transcribe_and_wait(
            file=wav(seconds), filename="bench.wav", poll=PollingPolicy(first_delay=0.1)
        )
        body = client.request("GET", f"/transcriptions/{job.id}/transcript").content
        tokens = len(client.stt.get_transcript(job.id).tokens)
    return job.id, tokens, len(body)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Rounds:
    """Per-round upstream counts and latency percentiles of one contender."""

    def __init__(self) -> None:
        self.upstream: list[int] = []
        self.p50: list[float] = []
        self.p90: list[float] = []
        self.last: list[float] = []

    def add(self, upstream: int, latencies: Sequence[float]) -> None:
        self.upstream.append(upstream)
        self.p50.append(percentile(latencies, 0.5))
        self.p90.append(percentile(latencies, 0.9))
        self.last.append(max(latencies))

    def row(self, label: str, baseline: Rounds | None) -> list[object]:
        ms = [1000 * median(values) for values in (self.p50, self.p90, self.last)]
        ratio = "—" if baseline is None else f"{median(self.last) / median(baseline.last):.2f}x"
        return [label, f"{median(self.upstream):g}", *(f"{v:.1f}" for v in ms), ratio]


def upstream(emu: Emulator, path: str) -> int:
    return len(emu.journal.entries(path=path, method="GET"))


async def async_rounds(emu: Emulator, job_id: str, n: int) -> tuple[Rounds, Rounds]:
    """(no dedup, dedup): each round runs both, in alternating order (a busy machine slows
    both alike); round 0 warms the pools up and is not counted."""
    path = f"/v1/transcriptions/{job_id}/transcript"
    plain, shared = Rounds(), Rounds()
    async with (
        AsyncSonioxClient(config=config(emu, PLAIN)) as without,
        AsyncSonioxClient(config=config(emu, DEDUP)) as with_dedup,
    ):
        pairs = [(without, plain), (with_dedup, shared)]
        for index in range(n + 1):
            for client, rounds in pairs if index % 2 else pairs[::-1]:
                emu.journal.clear()
                started = time.perf_counter()

                async def one(
                    client: AsyncSonioxClient = client, started: float = started
                ) -> float:
                    await client.stt.get_transcript(job_id)
                    return time.perf_counter() - started

                latencies = await asyncio.gather(*[one() for _ in range(CONCURRENT)])
                if index:
                    rounds.add(upstream(emu, path), latencies)
    return plain, shared


def thread_rounds(emu: Emulator, job_id: str, n: int) -> tuple[Rounds, Rounds]:
    """:func:`async_rounds` with 100 threads calling one ``SonioxClient``."""
    path = f"/v1/transcriptions/{job_id}/transcript"
    plain, shared = Rounds(), Rounds()
    with (
        SonioxClient(config=config(emu, PLAIN)) as without,
        SonioxClient(config=config(emu, DEDUP)) as with_dedup,
        ThreadPoolExecutor(CONCURRENT) as pool,
    ):
        pairs = [(without, plain), (with_dedup, shared)]
        for index in range(n + 1):
            for client, rounds in pairs if index % 2 else pairs[::-1]:
                emu.journal.clear()
                started = time.perf_counter()

                def one(_: int, client: SonioxClient = client, started: float = started) -> float:
                    client.stt.get_transcript(job_id)
                    return time.perf_counter() - started

                latencies = list(pool.map(one, range(CONCURRENT)))
                if index:
                    rounds.add(upstream(emu, path), latencies)
    return plain, shared


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def cache_latency(emu: Emulator, job_id: str, n: int) -> list[list[object]]:
    path = f"/transcriptions/{job_id}/transcript"
    rows: list[list[object]] = []
    with SonioxClient(config=config(emu, CACHED)) as client:
        contenders: list[tuple[str, Callable[[], Any]]] = [
            ("`client.request` (stack + transport)", lambda: client.request("GET", path)),
            (
                "`client.stt.get_transcript` (+ typed parse)",
                lambda: client.stt.get_transcript(job_id),
            ),
        ]
        for label, call in contenders:
            misses: list[float] = []
            hits: list[float] = []
            for index in range(n + 1):
                client.cache.clear()
                miss = timed(call)
                hit = timed(call)
                if index:
                    misses.append(miss)
                    hits.append(hit)
            miss_ms, hit_ms = 1000 * median(misses), 1000 * median(hits)
            rows.append(
                [
                    label,
                    f"{miss_ms:.3f}",
                    f"{hit_ms:.3f}",
                    f"{miss_ms / hit_ms:.0f}x",
                    f"{statistics.quantiles(hits, n=10)[-1] * 1000:.3f}",
                ]
            )
        stats = client.cache.stats
        assert stats.hits >= n, stats
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, a short transcript")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15
    repeats = 30 if args.quick else 300
    seconds = 60.0 if args.quick else 600.0
    wall = time.perf_counter()
    with Emulator(mode="subprocess", queue_delay_s=0.0, processing_speed=1000.0) as emu:
        job_id, tokens, size = make_job(emu, seconds)
        dedup_rows: list[list[object]] = []
        plain, shared = asyncio.run(async_rounds(emu, job_id, rounds))
        dedup_rows.append(plain.row("asyncio tasks, no dedup", None))
        dedup_rows.append(shared.row("asyncio tasks, **dedup**", plain))
        plain_threads, shared_threads = thread_rounds(emu, job_id, rounds)
        dedup_rows.append(plain_threads.row("threads, no dedup", None))
        dedup_rows.append(shared_threads.row("threads, **dedup**", plain_threads))
        cache_rows = cache_latency(emu, job_id, repeats)
    wall = time.perf_counter() - wall

    dedup_table = table(
        [
            "callers (100 at once)",
            "upstream requests",
            "p50 ms",
            "p90 ms",
            "last ms",
            "last vs no dedup",
        ],
        dedup_rows,
    )
    cache_table = table(["call", "miss ms", "hit ms", "miss / hit", "hit p90 ms"], cache_rows)
    text = f"""
`python benchmarks/bench_cache_dedup.py` — one completed job, transcript of {tokens:,} tokens
({size / 1024:.0f} KiB), emulator in a subprocess over loopback HTTP/1.1; Python
{platform.python_version()}; {platform.machine()}, 2 cores. Total wall time {wall:.0f} s. In each
round the contenders run back to back in alternating order, so load from other work on the
machine weighs on both alike: compare within a table, not across runs.

**Dedup** — {CONCURRENT} concurrent identical `client.stt.get_transcript(id)` calls started together,
{rounds} rounds per row (after a warm-up round), medians over the rounds. *Upstream requests*:
GETs of the transcript in the emulator's journal per round; *p50 / p90 / last*: the calls'
completion times from the moment the {CONCURRENT} were started (each includes its own typed parse).

{dedup_table}

**Cache** — one transcript fetched through `headers → cache → dedup → retry → logging`,
alternating a miss (`client.cache.clear()` first) and a hit, {repeats} pairs; medians.

{cache_table}

With dedup the server answers once per round, whatever the number of callers: the other 99
wait for that answer and each parses its own copy, so the last caller finishes when the one
request and the 100 parses are done instead of after 100 requests competing for the server.
Dedup joins only requests that overlap in time: the asyncio tasks all start before the first
answer arrives (one request); the pool's threads start over a few milliseconds, and a thread
that starts after an answer came back leads a new request (a handful per round).
A cache hit skips the network and the server entirely: what is left is building a fresh
`Response` around the kept bytes (and, for `get_transcript`, the typed parse).
"""
    print(text)
    if not args.no_record:
        record_section("performance.md", HEADING, text)
        print("recorded in docs/performance.md", file=sys.stderr)


if __name__ == "__main__":
    main()
