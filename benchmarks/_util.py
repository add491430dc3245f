"""Small helpers shared by the benchmark scripts: tables, medians, RSS sampling, test audio."""

from __future__ import annotations

import math
import statistics
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

DOCS = Path(__file__).resolve().parents[1] / "docs"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def record_section(doc: str, heading: str, body: str) -> None:
    """Replace (or append) the ``## heading`` section of ``docs/<doc>`` with ``body``."""
    path = DOCS / doc
    text = path.read_text() if path.exists() else "# Performance\n"
    marker = f"## {heading}\n"
    section = f"{marker}\n{body.strip()}\n\n"
    if marker in text:
        start = text.index(marker)
        nxt = text.find("\n## ", start + len(marker))
        end = len(text) if nxt == -1 else nxt + 1
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


class RssSampler:
    """Samples a process's resident set size in a background thread: the peak, and — with
    ``bucket_s`` — the RSS over time as the highest sample in each window that long (so no spike
    falls between two points)."""

    def __init__(self, pid: int, interval_s: float = 0.02, bucket_s: float | None = None) -> None:
        self._proc = psutil.Process(pid)
        self._interval = interval_s
        self._bucket = bucket_s
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        self._buckets: dict[int, int] = {}
        self._t0 = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._proc.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            if self._bucket is not None:
                slot = int((time.perf_counter() - self._t0) / self._bucket)
                self._buckets[slot] = max(self._buckets.get(slot, 0), rss)
            time.sleep(self._interval)

    def __enter__(self) -> RssSampler:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.baseline) / 2**20

    def timeline(self) -> dict[str, object]:
        """Seconds since sampling started (each window's start) and RSS in MiB (needs
        ``bucket_s``)."""
        bucket = self._bucket or 0.0
        slots = sorted(self._buckets)
        return {
            "baseline_mib": round(self.baseline / 2**20, 3),
            "t_s": [round(slot * bucket, 3) for slot in slots],
            "rss_mib": [round(self._buckets[slot] / 2**20, 3) for slot in slots],
        }


def speechlike_pcm(seconds: float, sample_rate: int = 16_000) -> bytes:
    """16-bit mono PCM: 0.7 s tone bursts (pitch cycling over 7 s) separated by 0.3 s of silence."""
    cycle = bytearray()
    for i in range(7 * sample_rate):
        t = i / sample_rate
        value = int(8000 * math.sin(2 * math.pi * (200 + 40 * int(t)) * t)) if t % 1.0 < 0.7 else 0
        cycle += struct.pack("<h", value)
    total = int(seconds * sample_rate) * 2
    reps = total // len(cycle) + 1
    return (bytes(cycle) * reps)[:total]


# --- results as data, for the plots (benchmarks/plots.py) and the results page -------------------

DATA = DOCS / "data"
"""Where benchmarks write their results as JSON: ``docs/data/<name>.json``."""


def machine() -> dict[str, object]:
    """What the numbers were measured on: OS, CPU, cores, memory, Python."""
    import os
    import platform

    return {
        "os": f"{platform.system()} {platform.release()}",
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """The versions of the SDK and the libraries a result depends on."""
    from importlib import metadata

    found: dict[str, str] = {}
    for name in ("soniox-transport", "httpx", "httpcore", "h2", "websockets", "msgspec", "redis"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def record_data(name: str, *, title: str, command: str, data: dict[str, object]) -> Path:
    """Write a benchmark's results to ``docs/data/<name>.json`` with the machine, the versions,
    the date and the command that regenerates them; ``python benchmarks/plots.py`` draws them."""
    import datetime
    import json
    import os

    target = Path(os.environ.get("SONIOX_BENCH_DATA_DIR") or DATA)
    target.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "title": title,
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "versions": versions(),
        "data": data,
    }
    path = target / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    return path
