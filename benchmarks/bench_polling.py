"""Polling: adaptive ``wait()`` vs fixed 2 s and 5 s intervals, on a mix of job durations.

The emulator (thread mode, so its job records can be read directly) is configured so each job
takes a chosen wall time: ``queue_delay_s`` queued, then ``audio / processing_speed`` processing.
Job wall times are spread from 1 s to 60 s. Every audio file is uploaded once and one job per
policy is created from it; all jobs run at once, each awaited by ``client.stt.wait(id, poll=...)``.

Per job we measure:

- status requests: ``GET /v1/transcriptions/{id}`` entries in the emulator's journal;
- detection delay: the moment ``wait()`` returned minus the moment the emulator marked the job
  finished (its ``finished_at``; same machine, same wall clock).

The adaptive policy starts cold (nothing learned about the server's speed) in round 1, next to
the fixed policies; round 2 runs it again warm (with what round 1 taught it). Run:

    python benchmarks/bench_polling.py            # ~2.5 minutes
    python benchmarks/bench_polling.py --quick    # jobs of 1-12 s (a smoke run)

Results are printed as markdown and recorded in docs/performance.md; the per-job numbers go to
docs/data/polling.json (to ``$SONIOX_BENCH_DATA_DIR`` instead if set; a ``--quick`` run writes
them only then), from which ``python benchmarks/plots.py polling`` draws docs/img/polling.png:
status requests per job and detection delay against job wall time, one line per policy.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import time
import wave
from collections.abc import Sequence
from typing import Any

import attrs
from _util import record_data, record_section, speechlike_pcm, table

from soniox.client import AsyncSonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.flows.polling import PollingPolicy, processing_rates

QUEUE_DELAY_S = 0.5
PROCESSING_SPEED = 1.0  # audio seconds per wall second
SAMPLE_RATE = 8_000
JOBS = 24
SEED = 4


def job_mix(count: int, longest: float) -> list[float]:
    """Wall times spread evenly from 1 s to ``longest``: one per equal slice, at a seeded random
    point in it, so no policy's polling grid lines up with the job ends."""
    rng = random.Random(SEED)
    step = (longest - 1.0) / count
    return [round(1.0 + step * (i + rng.random()), 2) for i in range(count)]


@attrs.define
class JobResult:
    policy: str
    target_s: float
    requests: int
    delay_s: float


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(speechlike_pcm(seconds, SAMPLE_RATE))
    return out.getvalue()


async def run_round(
    emu: Emulator,
    client: AsyncSonioxClient,
    file_ids: Sequence[tuple[float, str]],
    policies: dict[str, PollingPolicy],
) -> list[JobResult]:
    async def one(name: str, policy: PollingPolicy, target: float, file_id: str) -> JobResult:
        job = await client.stt.create(file_id=file_id)
        await client.stt.wait(job.id, poll=policy)
        detected = time.time()
        record = emu.app.rest.store.get_transcription(job.id)
        assert record is not None
        assert record.finished_at is not None
        requests = len(emu.journal.entries(path=f"/v1/transcriptions/{job.id}", method="GET"))
        return JobResult(name, target, requests, detected - record.finished_at.timestamp())

    return await asyncio.gather(
        *[
            one(name, policy, target, file_id)
            for name, policy in policies.items()
            for target, file_id in file_ids
        ]
    )


def summarize(results: list[JobResult], names: Sequence[str]) -> list[list[object]]:
    by_name = {n: [r for r in results if r.policy == n] for n in names}
    base = by_name["fixed 2 s"]
    base_requests = sum(r.requests for r in base) / len(base)
    rows: list[list[object]] = []
    for name in names:
        group = by_name[name]
        requests = sum(r.requests for r in group) / len(group)
        delays = sorted(r.delay_s for r in group)
        rows.append(
            [
                name,
                len(group),
                f"{requests:.1f}",
                f"{(1 - requests / base_requests) * 100:+.0f} %" if name != "fixed 2 s" else "—",
                f"{statistics.median(delays):.2f}",
                f"{statistics.mean(delays):.2f}",
                f"{delays[int(0.9 * (len(delays) - 1))]:.2f}",
                f"{delays[-1]:.2f}",
            ]
        )
    return rows


def by_length(results: list[JobResult], names: Sequence[str]) -> list[list[object]]:
    buckets = (("1-5 s", 0, 5), ("6-20 s", 5.5, 20), ("21-60 s", 20.5, 61))
    rows: list[list[object]] = []
    for name in names:
        row: list[object] = [name]
        for _, low, high in buckets:
            group = [r for r in results if r.policy == name and low <= r.target_s <= high]
            if not group:
                row.append("—")
                continue
            requests = sum(r.requests for r in group) / len(group)
            delay = statistics.median(r.delay_s for r in group)
            row.append(f"{requests:.1f} req / {delay:.2f} s")
        rows.append(row)
    return rows


def figure_data(
    results: list[JobResult],
    names: Sequence[str],
    adaptive: PollingPolicy,
    learned: tuple[float, float] | None,
    wall: float,
) -> dict[str, object]:
    """What ``plot`` draws (docs/data/polling.json): per policy, every job's wall time, status
    requests and detection delay, sorted by wall time; plus the set-up."""
    policies: list[dict[str, object]] = []
    for name in names:
        group = sorted((r for r in results if r.policy == name), key=lambda r: r.target_s)
        policies.append(
            {
                "name": name,
                "wall_s": [r.target_s for r in group],
                "requests": [r.requests for r in group],
                "delay_s": [round(r.delay_s, 3) for r in group],
                "mean_requests": round(statistics.fmean(r.requests for r in group), 2),
                "median_delay_s": round(statistics.median(r.delay_s for r in group), 3),
            }
        )
    return {
        "queue_delay_s": QUEUE_DELAY_S,
        "processing_speed": PROCESSING_SPEED,
        "jobs_per_policy": len(results) // len(names),
        "adaptive": {
            "first_delay_s": adaptive.first_delay,
            "growth": adaptive.growth,
            "jitter": adaptive.jitter,
            "max_delay_s": adaptive.max_delay,
        },
        "learned": None if learned is None else {"rate": learned[0], "spread": learned[1]},
        "wall_time_s": round(wall, 1),
        "policies": policies,
    }


def plot(data: dict[str, Any], fig: Any) -> None:
    """Status requests per job (left) and detection delay (right) against job wall time."""
    requests_ax = fig.add_subplot(1, 2, 1)
    delay_ax = fig.add_subplot(1, 2, 2, sharex=requests_ax)
    markers = "osD^v"
    for i, policy in enumerate(data["policies"]):
        marker = markers[i % len(markers)]
        label = (
            f"{policy['name']}: {policy['mean_requests']:.1f} req/job, "
            f"median delay {policy['median_delay_s']:.2f} s"
        )
        requests_ax.plot(
            policy["wall_s"],
            policy["requests"],
            label=label,
            marker=marker,
            markersize=3.5,
            linewidth=1.2,
            linestyle="--" if policy["name"].startswith("fixed") else "-",
        )
        delay_ax.plot(
            policy["wall_s"], policy["delay_s"], marker=marker, markersize=4, linestyle="none"
        )
    requests_ax.set_title("status polls: GET /v1/transcriptions/{id}", fontsize=9)
    requests_ax.set_ylabel("requests per job")
    delay_ax.set_title("detection delay: job finished → wait() returned", fontsize=9)
    delay_ax.set_ylabel("delay (s)")
    for ax in (requests_ax, delay_ax):
        ax.set_xlabel("job wall time (s): queued + processing")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    requests_ax.legend(loc="upper left", fontsize=7.5)


async def main(quick: bool) -> None:
    mix = job_mix(10, 12.0) if quick else job_mix(JOBS, 60.0)
    adaptive = PollingPolicy()
    processing_rates.clear()
    with Emulator(
        queue_delay_s=QUEUE_DELAY_S,
        processing_speed=PROCESSING_SPEED,
        min_processing_s=0.05,
        max_pending_transcriptions=1000,
    ) as emu:
        config = SonioxConfig(api_key=emu.api_key, base_url=emu.rest_base_url)
        async with AsyncSonioxClient(config=config) as client:
            file_ids: list[tuple[float, str]] = []
            for target in mix:
                audio_s = max(0.1, (target - QUEUE_DELAY_S) * PROCESSING_SPEED)
                uploaded = await client.files.upload(wav(audio_s), filename=f"job-{target}s.wav")
                file_ids.append((target, uploaded.id))
            started = time.monotonic()
            round1 = await run_round(
                emu,
                client,
                file_ids,
                {
                    "fixed 2 s": PollingPolicy.fixed(2.0),
                    "fixed 5 s (official SDK)": PollingPolicy.fixed(5.0),
                    "adaptive, cold": adaptive,
                },
            )
            learned = processing_rates.rate(emu.rest_base_url)
            round2 = await run_round(emu, client, file_ids, {"adaptive, warm": adaptive})
            wall = time.monotonic() - started
    names = ["fixed 2 s", "fixed 5 s (official SDK)", "adaptive, cold", "adaptive, warm"]
    results = round1 + round2
    summary = table(
        [
            "policy",
            "jobs",
            "requests / job",
            "vs fixed 2 s",
            "median delay (s)",
            "mean delay (s)",
            "p90 delay (s)",
            "max delay (s)",
        ],
        summarize(results, names),
    )
    buckets = table(
        ["policy", "jobs of 1-5 s", "jobs of 6-20 s", "jobs of 21-60 s"], by_length(results, names)
    )
    p = adaptive
    learned_text = (
        "nothing"
        if learned is None
        else f"{learned[0]:.3f} wall s per audio s, spread {learned[1]:.1%}"
    )
    body = f"""`python benchmarks/bench_polling.py` — {len(mix)} jobs per policy with wall times of
{mix[0]}-{mix[-1]} s (emulator: `queue_delay_s={QUEUE_DELAY_S}`, `processing_speed={PROCESSING_SPEED}`,
so a job of T seconds holds T - {QUEUE_DELAY_S} s of audio; one job per equal slice of the range,
at a seeded random point in it), all in flight at once through one
`AsyncSonioxClient` over loopback. *Requests* are the status polls the emulator's journal recorded
per job; *delay* is the time from the emulator marking a job finished to `wait()` returning.
The adaptive policy (`PollingPolicy()`: first delay {p.first_delay:g} s, growth x{p.growth:g},
jitter {p.jitter:.0%}, cap {p.max_delay:g} s without a hint) runs cold in round 1 (alongside the
fixed policies: nothing learned at the start) and warm in round 2 (after round 1 it had learned
{learned_text}; the emulator's true rate is {1 / PROCESSING_SPEED:g}). Total wall time {wall:.0f} s.

{summary}

Median requests per job / median detection delay by job length:

{buckets}

Targets: at least 60 % fewer requests than fixed 2 s, median delay no worse than fixed 2 s.

The target is met once the policy knows the server's speed (warm: after jobs whose processing time
its polls bracketed closely; a process running only short jobs one at a time may never get there). It is not met cold, by the first jobs a process ever waits for: with nothing known
about when a job ends, every blind schedule trades requests against delay (a simulation of the
blind schedule alone over this mix: growth x1.5 / cap 10 s gives 8.6 requests per job at a 3.6 s
median delay; fixed 2 s gives 15.7 at 0.9 s). The cold row does better than blind because jobs
in flight learn from the ones that finish first. `processing_rates` is per process and per API
base URL; a short-lived process starts cold every time.
"""
    print(body)
    if not quick:
        record_section("performance.md", "Polling: adaptive vs fixed", body)
    if not quick or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        path = record_data(
            "polling",
            title="Polling: status requests per job, adaptive vs fixed interval",
            command="python benchmarks/bench_polling.py",
            data=figure_data(results, names, adaptive, learned, wall),
        )
        print(f"data: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="jobs of 1-12 s only")
    asyncio.run(main(parser.parse_args().quick))
