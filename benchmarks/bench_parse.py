"""Typed parse of a large transcript: soniox.types.loads against json.loads and friends.

Builds a ``GET /v1/transcriptions/{id}/transcript`` body of 200,000 tokens in memory (text,
start_ms, end_ms, confidence, speaker, language, as with diarization and language ID on), then
measures, in one run, each contender:

- time: median of N in-process runs (``gc.collect()`` before each, the result dropped after);
- tracemalloc peak: Python allocations at their peak during one parse, in this process;
- peak RSS delta: in a fresh subprocess per contender, the kernel's resident high-water mark
  (VmHWM, reset just before) after one parse minus the resident size just before it (imports and
  warm-up done), so C-level buffers count and earlier contenders cannot blur the number. Linux.

Ratios are against ``json.loads`` (what ``httpx.Response.json()`` does). Run:

    python benchmarks/bench_parse.py          # 200,000 tokens, N=7, writes docs/performance.md
    python benchmarks/bench_parse.py --tokens 20000 --repeat 5 --no-write --check
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attrs
import cattrs
import msgspec
import psutil
from _util import median, record_section, table

from soniox.types import TranscriptionTranscript, loads

try:  # optional: only for comparison rows (not a dependency of the SDK)
    import orjson
except ImportError:  # pragma: no cover
    orjson = None

HEADING = "Typed parse of a 200,000-token transcript"


# Attrs mirrors of the transcript model, for the contenders that cannot use msgspec Structs.
@attrs.define(frozen=True, kw_only=True)
class AttrsToken:
    text: str
    start_ms: int
    end_ms: int
    confidence: float
    speaker: str | None = None
    language: str | None = None
    is_audio_event: bool | None = None
    translation_status: str | None = None
    source_language: str | None = None


@attrs.define(frozen=True, kw_only=True)
class AttrsTranscript:
    id: str
    text: str
    tokens: list[AttrsToken]


def make_body(n_tokens: int, seed: int = 7) -> bytes:
    """A transcript body with ``n_tokens`` sub-word tokens, three speakers, two languages."""
    rng = random.Random(seed)
    pieces = [" the", " a", " trans", "cript", "ion", " of", " speech", " hel", "lo", " world"]
    pieces += [" Soniox", " to", "day", ",", ".", " we", " test", " pars", "ing", " fast"]
    tokens: list[dict[str, Any]] = []
    t = 0
    for _ in range(n_tokens):
        length = rng.randint(40, 420)
        tokens.append(
            {
                "text": rng.choice(pieces),
                "start_ms": t,
                "end_ms": t + length,
                "confidence": round(rng.uniform(0.5, 1.0), 4),
                "speaker": str(rng.randint(1, 3)),
                "language": rng.choice(("en", "en", "en", "de")),
            }
        )
        t += length + rng.randint(0, 60)
    text = "".join(tok["text"] for tok in tokens)
    body = {"id": "19b6d61d-02db-4c25-bc71-b4094dc310c8", "text": text, "tokens": tokens}
    return json.dumps(body, separators=(",", ":")).encode()


def _contenders() -> dict[str, Callable[[bytes], object]]:
    naive = cattrs.Converter()
    tuned = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    to_attrs = msgspec.json.Decoder(AttrsTranscript)
    found: dict[str, Callable[[bytes], object]] = {"json.loads (baseline)": json.loads}
    if orjson is not None:
        found["orjson.loads"] = orjson.loads
    found["naive cattrs: json.loads + default Converter → attrs"] = lambda b: naive.structure(
        json.loads(b), AttrsTranscript
    )
    if orjson is not None:
        fast_loads = orjson.loads
        found["tuned cattrs: orjson + Converter without detailed validation → attrs"] = lambda b: (
            tuned.structure(fast_loads(b), AttrsTranscript)
        )
    found["msgspec straight into attrs tokens"] = to_attrs.decode
    found["**soniox.types.loads → TranscriptionTranscript**"] = lambda b: loads(
        b, TranscriptionTranscript
    )
    return found


def time_median(fn: Callable[[bytes], object], body: bytes, repeat: int) -> float:
    times: list[float] = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn(body)
        times.append(time.perf_counter() - start)
        del result
    return median(times)


def tracemalloc_peak(fn: Callable[[bytes], object], body: bytes) -> float:
    gc.collect()
    tracemalloc.start()
    result = fn(body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 2**20


def _proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(name: str, path: str) -> None:
    """Subprocess side: parse once, print the peak RSS growth in MiB.

    The peak is the kernel's high-water mark (VmHWM), reset just before the parse through
    /proc/self/clear_refs; getrusage's ru_maxrss would still carry the parent's size from fork.
    """
    body = Path(path).read_bytes()
    fn = _contenders()[name]
    fn(make_body(50))  # warm up: lazy imports, decoder and hook caches
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    before = _proc_status_kib("VmRSS")
    result = fn(body)
    peak = _proc_status_kib("VmHWM")
    del result
    print(max(0, peak - before) / 1024)


def rss_delta(name: str, path: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--body", path],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--check", action="store_true", help="exit 1 unless our parse wins")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.body)
        return 0

    body = make_body(args.tokens)
    gc.collect()
    contenders = _contenders()
    rows: list[dict[str, float]] = []
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        tmp.write(body)
        tmp.flush()
        for name, fn in contenders.items():
            rows.append(
                {
                    "time": time_median(fn, body, args.repeat),
                    "trace": tracemalloc_peak(fn, body),
                    "rss": rss_delta(name, tmp.name),
                }
            )
            print(f"measured: {name}", file=sys.stderr)

    base = rows[0]
    cells = [
        [
            name,
            f"{r['time'] * 1000:.0f}",
            f"{r['time'] / base['time']:.2f}x",
            f"{r['trace']:.0f}",
            f"{r['trace'] / base['trace']:.2f}x",
            f"{r['rss']:.0f}",
            f"{r['rss'] / base['rss']:.2f}x" if base["rss"] else "-",
        ]
        for name, r in zip(contenders, rows, strict=True)
    ]
    headers = [
        "contender",
        "median ms",
        "time vs json.loads",
        "tracemalloc peak MiB",
        "vs json.loads",
        "peak RSS Δ MiB (own process)",
        "vs json.loads",
    ]
    ours = rows[-1]
    ok = (
        ours["time"] <= 0.5 * base["time"]
        and ours["trace"] < base["trace"]
        and (ours["rss"] < base["rss"])
    )
    setup = (
        f"{args.tokens:,} tokens, body {len(body) / 2**20:.1f} MiB; median of {args.repeat} runs; "
        f"Python {platform.python_version()}, msgspec {msgspec.__version__}, "
        f"cattrs {version('cattrs')}, attrs {version('attrs')}, "
        f"orjson {version('orjson') if orjson is not None else 'absent'}; "
        f"{platform.machine()}, {psutil.cpu_count()} cores."
    )
    text = "\n\n".join(
        [
            "`python benchmarks/bench_parse.py` — " + setup,
            table(headers, cells),
            "Time is wall clock in this process. *tracemalloc peak* counts Python allocations "
            "during one parse; *peak RSS Δ* is the resident high-water mark (VmHWM, reset "
            "first) during one parse minus RSS just before it, in a fresh subprocess per "
            "contender (it also sees C buffers, e.g. orjson's parse arena). The attrs rows show "
            "why transcript tokens are msgspec Structs: no attrs-based path beats plain "
            "`json.loads`, while decoding straight into GC-untracked Structs never builds the "
            "intermediate dicts.",
            "Target (at most half of json.loads' time, less memory): "
            f"**{'met' if ok else 'NOT met'}**.",
        ]
    )
    print(text)
    if not args.no_write and args.tokens == 200_000:
        record_section("performance.md", HEADING, text)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
