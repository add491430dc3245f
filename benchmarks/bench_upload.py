"""Upload a 1 GiB file: throughput and client memory, raw httpx vs ``client.files.upload(path)``.

The emulator runs in a subprocess (it stores each upload in its temporary directory; every file
is deleted right after). The 1 GiB source is a sparse file, so reading it costs no disk I/O and
the numbers are about the client and the loopback. Each measured upload runs in a *fresh* client
process, so one variant's freed buffers cannot hide the next one's peak; inside it a psutil
sampler thread (``_util.RssSampler`` with a timeline, on its own pid, every 5 ms) records the peak RSS above the
baseline taken after a warm-up upload, and the RSS over time (the highest sample in each 20 ms).

Variants, interleaved round by round:
  1. raw ``httpx.Client().post(url, files={"file": open(path, "rb")})`` (httpx streams files)
  2. ``SonioxClient.files.upload(path)``
  3. ``AsyncSonioxClient.files.upload(path)``

Run ``python benchmarks/bench_upload.py`` (``--quick``: 256 MiB, 1 round). Results are printed
as markdown and recorded in docs/performance.md under "Upload: 1 GiB from disk", and as data in
docs/data/upload_memory.json: per variant the rate, CPU and peak of every round, and the RSS
timeline of its median-peak round. ``python benchmarks/plots.py upload_memory`` draws that
timeline (``plot`` below) into docs/img/upload_memory.png: RSS above the baseline against time,
one line per variant. A quick run records the data only when $SONIOX_BENCH_DATA_DIR is set (and
writes it there).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _util import RssSampler, median, record_data, record_section, table

GIB = 1 << 30
VARIANTS = {
    "raw-httpx": "raw httpx.Client, files= (streamed)",
    "sync": "SonioxClient.files.upload(path)",
    "async": "AsyncSonioxClient.files.upload(path)",
}
SAMPLE_S = 0.005  # how often the sampler reads RSS (the peak)
BUCKET_S = 0.02  # the timeline keeps the highest sample in each window this long
TARGET_MIB = 2.0  # files.upload(path): under 2 MiB above the baseline while sending 1 GiB


# --- child: one measured upload -------------------------------------------------------------------


def child(variant: str, base_url: str, api_key: str, path: str) -> None:
    """Warm up, then upload ``path`` once while sampling this process's RSS; print JSON."""
    from soniox.client import AsyncSonioxClient, SonioxClient
    from soniox.config import SonioxConfig

    config = SonioxConfig.production(api_key=api_key, base_url=base_url)
    warm = Path(path).with_suffix(".warm")
    warm.write_bytes(os.urandom(1 << 20))
    headers = {"authorization": f"Bearer {api_key}"}
    timeout = httpx.Timeout(600.0)

    if variant == "raw-httpx":
        client = httpx.Client(timeout=timeout)

        def upload(source: str) -> str:
            with open(source, "rb") as handle:
                response = client.post(
                    base_url + "/files",
                    files={"file": (Path(source).name, handle)},
                    headers=headers,
                )
            response.raise_for_status()
            client.delete(f"{base_url}/files/{response.json()['id']}", headers=headers)
            return str(response.json()["size"])

        run = upload
    elif variant == "sync":
        soniox = SonioxClient(config=config)

        def run(source: str) -> str:
            stored = soniox.files.upload(source)
            soniox.files.delete(stored.id)
            return str(stored.size)

    else:
        loop = asyncio.new_event_loop()
        asoniox = AsyncSonioxClient(config=config)

        async def aupload(source: str) -> str:
            stored = await asoniox.files.upload(source)
            await asoniox.files.delete(stored.id)
            return str(stored.size)

        def run(source: str) -> str:
            return loop.run_until_complete(aupload(source))

    run(str(warm))  # connections, imports, first-use caches
    warm.unlink()
    gc.collect()
    with RssSampler(os.getpid(), SAMPLE_S, BUCKET_S) as rss:
        started, cpu_started = time.perf_counter(), time.process_time()
        size = run(path)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = {
        "seconds": elapsed,
        "cpu": cpu,
        "rss_mib": rss.delta_mib,
        "size": int(size),
        "timeline": rss.timeline(),
    }
    print(json.dumps(result))


# --- parent: the emulator, the file, the rounds -------------------------------------------------


def measure(variant: str, base_url: str, api_key: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, base_url, api_key, str(path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 MiB, one round (smoke run)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument("--child", nargs=4, metavar=("VARIANT", "URL", "KEY", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from soniox.emulator import Emulator

    size = GIB // 4 if args.quick else GIB
    rounds = 1 if args.quick else args.rounds
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, Emulator(mode="subprocess") as emu:
        path = Path(tmp) / "one-gib.wav"
        with path.open("wb") as handle:
            handle.truncate(size)  # sparse: no disk used
        with path.open("rb") as handle:  # fill the page cache once, so no variant pays for it
            for _ in iter(lambda: handle.read(1 << 20), b""):
                pass
        order = list(VARIANTS)
        for n in range(rounds):
            for variant in order[n % len(order) :] + order[: n % len(order)]:  # rotate
                result = measure(variant, emu.rest_base_url, emu.api_key, path)
                assert result["size"] == size, result
                results[variant].append(result)
                print(
                    f"round {n + 1} {variant:>9}: {size / 2**20 / result['seconds']:7.1f} MiB/s, "
                    f"CPU {result['cpu']:.2f} s, peak RSS +{result['rss_mib']:.2f} MiB",
                    file=sys.stderr,
                )

    base = median([size / 2**20 / r["seconds"] for r in results["raw-httpx"]])
    rows: list[list[str]] = []
    for variant, label in VARIANTS.items():
        rates = [size / 2**20 / r["seconds"] for r in results[variant]]
        peaks = [r["rss_mib"] for r in results[variant]]
        cpu = median([r["cpu"] * GIB / size for r in results[variant]])
        rows.append(
            [
                label,
                f"{median(rates):.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}",
                f"{median(rates) / base:.2f}x",
                f"{cpu:.2f}",
                f"{median(peaks):.2f}",
                f"{max(peaks):.2f}",
            ]
        )
    headers = [
        f"client (upload {size / 2**20:.0f} MiB, HTTP/1.1)",
        "MiB/s (median)",
        "(range)",
        "vs raw httpx",
        "client CPU s/GiB (median)",
        "peak RSS above baseline, MiB (median)",
        "(worst)",
    ]
    env = (
        f"Python {platform.python_version()}, httpx {httpx.__version__}, {rounds} round(s), "
        "each upload in a fresh client process, variant order rotated per round; emulator in a "
        "subprocess, loopback; sparse source file read once beforehand (page cache, no disk)."
    )
    body = (
        "Measured by `python benchmarks/bench_upload.py` (all rows from one run). Target: "
        "`files.upload(path)` under 2 MiB above the client's baseline RSS while sending 1 GiB.\n\n"
        f"{table(headers, rows)}\n\n{env}\n\n"
        "Why memory stays flat: the body is a generator over the file (64 KiB reads) framed by "
        "a few hundred bytes of multipart head and tail; nothing is buffered beyond the chunk "
        "in flight and h11's copy of it. Content-Length is computed from the file size, so the "
        "request is plain HTTP/1.1 with no chunked framing, and a retry re-opens the path. "
        "Throughput: both clients end in the same httpcore/h11 write loop (64 KiB socket "
        "writes); a profile of a 256 MiB upload puts ~90 % of the client's time in "
        "`socket.send` for both, and the SDK's own framing and progress bookkeeping at about "
        "10 ms per 256 MiB. The emulator (one Python process parsing multipart) is the "
        "bottleneck, and on this shared 2-core machine each row swings widely between rounds "
        "(see the range), so differences between the medians are within that noise."
    )
    print(body)
    record = not args.no_record and not args.quick
    if record:
        record_section("performance.md", "Upload: 1 GiB from disk", body)
    if record or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        path = record_data(
            "upload_memory",
            title=f"Upload memory: client RSS while sending {size / 2**20:.0f} MiB from disk",
            command="python benchmarks/bench_upload.py",
            data=figure_data(results, size, rounds),
        )
        print(f"data: {path}", file=sys.stderr)


def figure_data(
    results: dict[str, list[dict[str, Any]]], size: int, rounds: int
) -> dict[str, object]:
    """Per variant: every round's rate, CPU and peak, and the RSS timeline of the round whose
    peak is the median one (the representative run, not the best or the worst)."""
    contenders: list[dict[str, Any]] = []
    for variant, label in VARIANTS.items():
        runs = results[variant]
        pick = sorted(range(len(runs)), key=lambda i: runs[i]["rss_mib"])[len(runs) // 2]
        contenders.append(
            {
                "key": variant,
                "label": label,
                "mib_per_s": [round(size / 2**20 / r["seconds"], 1) for r in runs],
                "cpu_s": [round(r["cpu"], 3) for r in runs],
                "peak_mib": [round(r["rss_mib"], 3) for r in runs],
                "timeline": {
                    "round": pick + 1,
                    "seconds": round(runs[pick]["seconds"], 3),
                    **runs[pick]["timeline"],
                },
            }
        )
    return {
        "size_mib": round(size / 2**20),
        "rounds": rounds,
        "sample_interval_s": SAMPLE_S,
        "bucket_s": BUCKET_S,
        "target_mib": TARGET_MIB,
        "timeline_note": "t = 0 when the measured upload starts (after a warm-up upload); "
        "each point is the highest RSS sampled in its window; the round with the median peak",
        "contenders": contenders,
    }


def plot(data: dict[str, Any], fig: Any) -> None:
    """RSS above the process's baseline against time during the upload, one line per variant."""
    ax = fig.add_subplot(1, 1, 1)
    top = data["target_mib"]
    for contender in data["contenders"]:
        timeline = contender["timeline"]
        base = timeline["baseline_mib"]
        above = [rss - base for rss in timeline["rss_mib"]]
        top = max(top, *above)
        label = (
            f"{contender['label']}: peak +{max(above):.2f} MiB, "
            f"{timeline['seconds']:.1f} s (baseline {base:.0f} MiB)"
        )
        ax.plot(timeline["t_s"], above, label=label, linewidth=1.4, drawstyle="steps-post")
    ax.axhline(
        data["target_mib"],
        color="0.4",
        linestyle="--",
        linewidth=1,
        label=f"target: under {data['target_mib']:g} MiB above baseline",
    )
    ax.set_title(
        f"{data['size_mib']} MiB sparse file over loopback HTTP/1.1, each client in a fresh "
        "process; the median-peak round of each",
        fontsize=9,
    )
    ax.set_xlabel("time since the upload started (s)")
    ax.set_ylabel("client RSS above its baseline (MiB)")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.05 * top, 1.25 * top)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)


if __name__ == "__main__":
    main()
