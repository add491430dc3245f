"""Chaos: every REST kind of operation, from a sync and an async client at once, under faults.

The emulator (loopback, in this process, so the oracle reads its store without going through the
faults) answers about ``--rate`` of the ``/v1/*`` requests with a fault — 5xx, 429 with and
without Retry-After, resets before and after processing, truncated bodies, latency, slow bodies
(``FaultPlan.chaos``) — while ``--operations`` operations run, half on a ``SonioxClient`` in a
thread pool and half on an ``AsyncSonioxClient`` in worker tasks. Each operation has its own
``client_reference_id``; when it ends, what it returned or raised is checked against the
emulator's store:

- **lost**: the SDK reported a failure (a typed error other than ``OutcomeUnknownError``) for a
  create, upload or delete that the server carried out — or a success for one it did not;
- **duplicate**: more than one job or file carries the operation's reference;
- **untyped**: an exception outside ``soniox.errors.SonioxError``;
- **leaked**: a job or file of an operation that cleans up after itself (``delete_after``, or an
  explicit delete that reported success) is still on the server;
- **unknown**: ``OutcomeUnknownError`` — not a failure, reported for the record.

Operations: ``upload`` (upload, delete), ``job`` (upload, create, wait, transcript, delete job and
file), ``transcribe`` (``transcribe_and_wait_with_tokens(..., delete_after=True)``), ``read``
(lists, counts, models), ``temp_key``. Whatever an operation leaves behind is removed from the
store after it is checked, so the listings stay small.

    python benchmarks/chaos.py                                  # 10,000 ops, 30 %, seeds 1 2 3
    python benchmarks/chaos.py --operations 300 --seeds 7 --profile testing --json
    python benchmarks/chaos.py --record                         # also writes docs/reliability.md

The exit code is 1 when anything was lost, duplicated, untyped or leaked. The short version of
this run is part of the test suite (tests/integration/test_chaos.py).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform
import random
import sys
import threading
import time
import uuid
import wave
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from _util import record_section, speechlike_pcm, table

from soniox import AsyncSonioxClient, PollingPolicy, SonioxClient, SonioxConfig, __version__
from soniox.emulator import Emulator, EmulatorConfig
from soniox.errors import OutcomeUnknownError, SonioxError

KINDS = ("upload", "job", "transcribe", "read", "temp_key")
WEIGHTS = (3, 2, 2, 2, 1)
FAST_POLL = PollingPolicy.fixed(0.05)
Step = Literal["upload", "create", "wait", "transcript", "delete_job", "delete_file", "call"]


def wav(seconds: float = 0.5) -> bytes:
    """A small WAV file the emulator decodes (speech-like tone bursts)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(speechlike_pcm(seconds))
    return buffer.getvalue()


AUDIO = wav()


@dataclass
class Outcome:
    """What one operation did: the step it reached, what it created, and how it ended."""

    kind: str
    reference: str
    client: str
    step: Step = "call"
    file_id: str | None = None
    job_id: str | None = None
    deleted_file: bool = False
    deleted_job: bool = False
    error: BaseException | None = None
    seconds: float = 0.0


@dataclass
class Tally:
    """The verdicts of a run."""

    operations: int = 0
    lost: list[str] = field(default_factory=list[str])
    duplicate: list[str] = field(default_factory=list[str])
    untyped: list[str] = field(default_factory=list[str])
    leaked: list[str] = field(default_factory=list[str])
    unknown: int = 0
    failed: Counter[str] = field(default_factory=Counter[str])
    kinds: Counter[str] = field(default_factory=Counter[str])
    requests: int = 0
    faults: int = 0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicate or self.untyped or self.leaked)


# --- the operations, written once as steps over a "do" callable per client kind --------------------


class Runner:
    """Runs the steps of an operation with one client kind (``call`` performs one SDK call)."""

    def __init__(self, name: str, call: Callable[[Callable[[Any], Any]], Awaitable[Any]]):
        self.name = name
        self.call = call

    async def run(self, kind: str, reference: str) -> Outcome:
        outcome = Outcome(kind, reference, self.name)
        started = time.perf_counter()
        try:
            await getattr(self, f"_{kind}")(outcome)
        except BaseException as error:  # judged by the oracle, never swallowed unseen
            outcome.error = error
        outcome.seconds = time.perf_counter() - started
        return outcome

    async def _upload(self, o: Outcome) -> None:
        o.step = "upload"
        file = await self.call(lambda c: c.files.upload(AUDIO, client_reference_id=o.reference))
        o.file_id = file.id
        o.step = "delete_file"
        await self.call(lambda c: c.files.delete(file.id))
        o.deleted_file = True

    async def _job(self, o: Outcome) -> None:
        o.step = "upload"
        file = await self.call(lambda c: c.files.upload(AUDIO, client_reference_id=o.reference))
        o.file_id = file.id
        o.step = "create"
        job = await self.call(
            lambda c: c.stt.create(file_id=file.id, client_reference_id=o.reference)
        )
        o.job_id = job.id
        o.step = "wait"
        await self.call(lambda c: c.stt.wait(job.id, poll=FAST_POLL, timeout=30))
        o.step = "transcript"
        await self.call(lambda c: c.stt.get_transcript(job.id))
        o.step = "delete_job"
        await self.call(lambda c: c.stt.delete(job.id))
        o.deleted_job = True
        o.step = "delete_file"
        await self.call(lambda c: c.files.delete(file.id))
        o.deleted_file = True

    async def _transcribe(self, o: Outcome) -> None:
        o.step = "call"
        await self.call(
            lambda c: c.stt.transcribe_and_wait_with_tokens(
                file=AUDIO,
                client_reference_id=o.reference,
                delete_after=True,
                poll=FAST_POLL,
                timeout=30,
            )
        )

    async def _read(self, o: Outcome) -> None:
        o.step = "call"
        await self.call(lambda c: c.models.list())
        await self.call(lambda c: c.files.list(limit=5))
        await self.call(lambda c: c.stt.count())

    async def _temp_key(self, o: Outcome) -> None:
        o.step = "call"
        await self.call(
            lambda c: c.auth.create_temporary_api_key(
                usage_type="transcribe_websocket", expires_in_seconds=60, client_reference_id="x"
            )
        )


# --- the oracle ---------------------------------------------------------------------------------


class Oracle:
    """Judges each finished operation against the emulator's store, then clears what it left."""

    def __init__(self, emu: Emulator) -> None:
        self.store = emu.app.rest.store
        self.tally = Tally()
        self.lock = threading.Lock()

    def judge(self, o: Outcome) -> None:
        files = [f for f in self.store.files() if f.client_reference_id == o.reference]
        jobs = [t for t in self.store.transcriptions() if t.client_reference_id == o.reference]
        label = f"{o.client}:{o.kind}:{o.reference}"
        with self.lock:
            t = self.tally
            t.operations += 1
            t.kinds[o.kind] += 1
            error = o.error
            if error is not None and not isinstance(error, SonioxError):
                t.untyped.append(f"{label} at {o.step}: {type(error).__name__}: {error}")
            if isinstance(error, OutcomeUnknownError):
                t.unknown += 1
            elif error is not None:
                t.failed[f"{o.kind}@{o.step}: {type(error).__name__}"] += 1
            if len(files) > 1 or len(jobs) > 1:
                t.duplicate.append(f"{label}: {len(files)} files, {len(jobs)} jobs")
            self._lost(o, files, jobs, label)
            self._leaked(o, files, jobs, label)
        for stored in files:
            self.store.remove_file(stored.id)
        for job in jobs:
            self.store.remove_transcription(job.id)

    def _lost(self, o: Outcome, files: list[Any], jobs: list[Any], label: str) -> None:
        error = o.error
        if isinstance(error, OutcomeUnknownError) or o.kind in ("read", "temp_key"):
            return
        failed_step = o.step if error is not None else None
        t = self.tally
        # A create or upload reported failed while the server has it.
        if failed_step == "upload" and files:
            t.lost.append(f"{label}: upload failed ({type(error).__name__}) but the file exists")
        if failed_step == "create" and jobs:
            t.lost.append(f"{label}: create failed ({type(error).__name__}) but the job exists")
        # A delete reported failed while the object is gone.
        if failed_step == "delete_file" and o.file_id and not any(f.id == o.file_id for f in files):
            t.lost.append(f"{label}: delete failed ({type(error).__name__}) but the file is gone")
        if failed_step == "delete_job" and o.job_id and not any(j.id == o.job_id for j in jobs):
            t.lost.append(f"{label}: delete failed ({type(error).__name__}) but the job is gone")
        # A success for something the server does not have (an id that was never stored).
        file_kept = any(f.id == o.file_id for f in files)
        if o.file_id and not (o.deleted_file or file_kept or failed_step == "delete_file"):
            t.lost.append(f"{label}: upload returned {o.file_id}, which the server lacks")
        job_kept = any(j.id == o.job_id for j in jobs)
        if o.job_id and not (o.deleted_job or job_kept or failed_step == "delete_job"):
            t.lost.append(f"{label}: create returned {o.job_id}, which the server lacks")

    def _leaked(self, o: Outcome, files: list[Any], jobs: list[Any], label: str) -> None:
        t = self.tally
        unknown = isinstance(o.error, OutcomeUnknownError)
        if o.kind == "transcribe" and not unknown and (files or jobs):
            t.leaked.append(
                f"{label}: delete_after left {len(files)} files, {len(jobs)} jobs "
                f"(ended with {type(o.error).__name__ if o.error else 'success'}: {o.error})"
            )
        if o.deleted_file and any(f.id == o.file_id for f in files):
            t.leaked.append(f"{label}: files.delete succeeded but the file is still there")
        if o.deleted_job and any(j.id == o.job_id for j in jobs):
            t.leaked.append(f"{label}: stt.delete succeeded but the job is still there")


# --- the run ------------------------------------------------------------------------------------


def plan(operations: int, seed: int) -> list[tuple[str, str]]:
    """The operations to run: (kind, reference), in a seeded order."""
    rng = random.Random(seed)
    kinds = rng.choices(KINDS, weights=WEIGHTS, k=operations)
    return [
        (kind, f"chaos-{seed}-{i}-{uuid.UUID(int=rng.getrandbits(128))}")
        for i, kind in enumerate(kinds)
    ]


def run(
    operations: int,
    rate: float,
    seed: int,
    profile: str,
    sync_workers: int,
    async_workers: int,
    adaptive: bool = True,
) -> Tally:
    """One chaos run; returns its tally."""
    config = EmulatorConfig(
        queue_delay_s=0.0,
        processing_speed=5000.0,
        min_processing_s=0.005,
        max_files=100_000,
        max_pending_transcriptions=100_000,
        max_total_transcriptions=100_000,
        journal_max_entries=1_000,
    )
    ops = plan(operations, seed)
    sync_ops, async_ops = ops[0::2], ops[1::2]
    with Emulator(config=config) as emu:
        emu.faults.chaos(rate, seed=seed, delay_s=0.01)
        client_config = getattr(SonioxConfig, profile)(
            api_key=emu.api_key, base_url=emu.rest_base_url
        )
        if not adaptive:
            client_config = client_config.evolve(rate_limit_adaptive=False)
        oracle = Oracle(emu)
        started = time.perf_counter()
        with SonioxClient(config=client_config) as sync_client:

            async def sync_call(fn: Callable[[Any], Any]) -> Any:
                return fn(sync_client)

            sync_runner = Runner("sync", sync_call)

            def sync_op(item: tuple[str, str]) -> None:
                oracle.judge(asyncio.run(sync_runner.run(*item)))

            async def main() -> None:
                async with AsyncSonioxClient(config=client_config) as async_client:

                    async def async_call(fn: Callable[[Any], Any]) -> Any:
                        return await fn(async_client)

                    async_runner = Runner("async", async_call)
                    queue = iter(async_ops)

                    async def worker() -> None:
                        for item in queue:
                            oracle.judge(await async_runner.run(*item))

                    await asyncio.gather(*(worker() for _ in range(async_workers)))

            with ThreadPoolExecutor(max_workers=sync_workers) as pool:
                sync_done = pool.map(sync_op, sync_ops)
                asyncio.run(main())
                list(sync_done)
        tally = oracle.tally
        tally.seconds = time.perf_counter() - started
        snapshot = emu.faults.snapshot()
        tally.requests = max((rule["matched"] for rule in snapshot), default=0)
        tally.faults = sum(rule["fired"] for rule in snapshot)
    return tally


def report(results: dict[int, Tally], rate: float, profile: str, adaptive: bool = True) -> str:
    rows = [
        [
            seed,
            f"{t.operations:,}",
            f"{t.requests:,}",
            f"{t.faults:,} ({t.faults / max(t.requests, 1):.0%})",
            len(t.lost),
            len(t.duplicate),
            len(t.untyped),
            len(t.leaked),
            t.unknown,
            sum(t.failed.values()),
            f"{t.seconds:.0f} s",
        ]
        for seed, t in results.items()
    ]
    headers = [
        "seed",
        "operations",
        "requests",
        "faults fired",
        "lost",
        "duplicate",
        "untyped",
        "leaked",
        "outcome unknown",
        "typed failures",
        "time",
    ]
    flag = "" if adaptive else " --no-adaptive"
    what = (
        f"profile `{profile}`"
        if adaptive
        else f"profile `{profile}` with its adaptive rate limit off (`rate_limit_adaptive=False`)"
    )
    lines = [
        f"Measured by `python benchmarks/chaos.py{flag}` ({what}, fault rate {rate:.0%} of "
        "`/v1/*` requests). Goal: 0 lost / 0 duplicate / 0 untyped / 0 leaked for every seed.",
        "",
        table(headers, rows),
        "",
        f"soniox-transport {__version__}, Python {platform.python_version()}, one sync client "
        "(thread pool) and one async client (worker tasks) at once against the emulator in the "
        "same process; a typed failure is an operation that gave up after its retries with a "
        "typed error and left the server as it said (counted, not a defect).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--profile", choices=("production", "cost", "realtime", "testing"), default="production"
    )
    parser.add_argument("--sync-workers", type=int, default=12)
    parser.add_argument("--async-workers", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print one JSON line per seed")
    parser.add_argument(
        "--no-adaptive",
        action="store_true",
        help="turn the profile's adaptive rate limit off: the chaos plan's random 429s (about "
        "7%% of requests) hold an adaptive client near its floor rate, ~20x slower",
    )
    parser.add_argument("--record", action="store_true", help="write docs/reliability.md")
    parser.add_argument(
        "--section",
        default="Chaos: operations under faults",
        help="the docs/reliability.md section --record writes",
    )
    args = parser.parse_args(argv)
    results: dict[int, Tally] = {}
    for seed in args.seeds:
        tally = run(
            args.operations,
            args.rate,
            seed,
            args.profile,
            args.sync_workers,
            args.async_workers,
            adaptive=not args.no_adaptive,
        )
        results[seed] = tally
        if args.json:
            print(
                json.dumps(
                    {
                        "seed": seed,
                        "operations": tally.operations,
                        "requests": tally.requests,
                        "faults": tally.faults,
                        "lost": tally.lost,
                        "duplicate": tally.duplicate,
                        "untyped": tally.untyped,
                        "leaked": tally.leaked,
                        "unknown": tally.unknown,
                        "failed": dict(tally.failed),
                        "kinds": dict(tally.kinds),
                        "seconds": round(tally.seconds, 2),
                    }
                ),
                flush=True,
            )
        else:
            for name in ("lost", "duplicate", "untyped", "leaked"):
                for line in getattr(tally, name)[:20]:
                    print(f"{name}: {line}", file=sys.stderr)
    text = report(results, args.rate, args.profile, adaptive=not args.no_adaptive)
    if not args.json:
        print(text)
    if args.record:
        record_section("reliability.md", args.section, text)
    return 0 if all(t.clean for t in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
