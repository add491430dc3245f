"""A 200,000-token transcript from the emulator: raw httpx vs typed vs streamed, side by side.

The emulator runs in a subprocess with its deterministic engine cut to 10 ms windows
(``EmulatorConfig.engine_window_ms``), so ~35 minutes of generated 8 kHz audio (a tone whose
pitch and loudness keep changing: nearly every window is "speech", two loudness levels make two
speakers) yields >= 200,000 tokens with speaker and language fields. One job is transcribed,
then each contender fetches ``GET /v1/transcriptions/{id}/transcript``:

- ``httpx .json()``: ``httpx.Client.get(...).json()`` — plain dicts, what most code does;
- ``typed get_transcript``: ``client.stt.get_transcript(id)`` — the whole body parsed into
  ``TranscriptionTranscript`` (msgspec Structs) through the middleware stack;
- ``streamed iter_tokens``: ``iter_transcript_tokens(client, id)`` — every token consumed
  and dropped as it is parsed from the arriving chunks;
- (reference, not shipped) ``ijson items_coro``: the same stream parsed with ijson's C backend
  into dicts, then ``msgspec.convert`` into tokens — the obvious alternative to our parser.

The SDK clients run with ``cache_ttl_transcripts=0``: the cache would otherwise answer every
fetch after the first of a body up to 8 MiB (``cache_max_entry_bytes``) from memory, and keep a
copy of such a body even when it is streamed; above 8 MiB it never keeps one. Each contender
runs in its own fresh subprocess: ``median s`` is the wall time of a full fetch (median of
``--repeat`` runs; the emulator's own time to serialize the body is included and the same for
all), ``client CPU s`` the CPU time of the client process alone (median), ``peak
RSS Δ`` the resident high-water mark (VmHWM, reset just before) during the first fetch minus
RSS just before it (so C buffers count), ``tracemalloc peak`` the Python allocations at their
peak during one more fetch. Linux.

The same is measured over a sweep of sizes, halving from ``--tokens`` (``--sweep`` sizes: 25,000,
50,000, 100,000 and 200,000 tokens by default; every size is its own job, cut from the start of
the same audio). The table is the largest size; the sweep is recorded as data in
docs/data/transcript_parse.json (per contender and size: wall and client CPU ms, peak RSS Δ and
tracemalloc peak MiB), and ``python benchmarks/plots.py transcript_parse`` draws it (``plot``
below) into docs/img/transcript_parse.png: time and peak memory against transcript size, one
line per contender. ``--quick`` (20,000 tokens, 3 runs) prints only, and writes the data when
$SONIOX_BENCH_DATA_DIR is set (there, not to docs/).

    python benchmarks/bench_transcript.py                   # >= 200,000 tokens, 5 runs, records
    python benchmarks/bench_transcript.py --quick           # 20,000 tokens, 3 runs, prints
    python benchmarks/bench_transcript.py --tokens 20000 --repeat 3 --no-write
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from _util import median, record_data, record_section, table

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.transcripts import iter_transcript_tokens
from soniox.types import TranscriptionTranscript, TranscriptionTranscriptToken, loads

HEADING = "Transcript: 200,000 tokens, typed and streamed"
RATE = 8_000
WINDOW_MS = 10
TOKENS_PER_SECOND = 116  # measured: ~1.16 tokens per 10 ms window (long words split in two)


def write_wav(path: Path, seconds: float) -> None:
    """Mono s16 8 kHz: a tone gliding between 180 and 900 Hz, loud and soft every 3 s."""
    total = int(seconds * RATE)
    block = RATE  # one second at a time: flat memory
    phase = 0.0
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        for first in range(0, total, block):
            frames = bytearray()
            for i in range(first, min(first + block, total)):
                t = i / RATE
                freq = 540 + 360 * math.sin(2 * math.pi * t / 7.3)
                phase += 2 * math.pi * freq / RATE
                amplitude = 2_400 if int(t / 3) % 2 else 6_000
                frames += struct.pack("<h", int(amplitude * math.sin(phase)))
            wav.writeframes(bytes(frames))


def seconds_for(tokens: int) -> float:
    """Seconds of the generated audio that yield at least ``tokens`` tokens."""
    return tokens / TOKENS_PER_SECOND * 1.02 + 1


def cut_wav(source: Path, target: Path, seconds: float) -> None:
    """The first ``seconds`` of ``source``: a smaller transcript from the same audio."""
    with wave.open(str(source), "rb") as src, wave.open(str(target), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(int(seconds * RATE)))


def make_job(emu: Emulator, tokens: int, workdir: Path) -> tuple[str, int, int]:
    """Transcribe enough audio for ``tokens`` tokens; returns (id, token count, body bytes).

    The audio is cut from ``workdir/long.wav`` when that is long enough (written otherwise)."""
    seconds = seconds_for(tokens)
    source, audio = workdir / "long.wav", workdir / "cut.wav"
    if not source.exists():
        write_wav(source, seconds)
    with wave.open(str(source), "rb") as src:
        long_enough = src.getnframes() >= int(seconds * RATE)
    if long_enough:
        cut_wav(source, audio, seconds)
    else:
        write_wav(audio, seconds)
    headers = {"authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.rest_base_url, headers=headers, timeout=600) as http:
        with audio.open("rb") as fh:
            uploaded = http.post("/files", files={"file": ("long.wav", fh, "audio/wav")})
        audio.unlink()
        uploaded.raise_for_status()
        created = http.post(
            "/transcriptions",
            json={
                "model": "stt-async-v4",
                "file_id": uploaded.json()["id"],
                "enable_speaker_diarization": True,
                "enable_language_identification": True,
            },
        )
        created.raise_for_status()
        job_id: str = created.json()["id"]
        while (status := http.get(f"/transcriptions/{job_id}").json()["status"]) not in (
            "completed",
            "error",
        ):
            time.sleep(0.2)
        if status != "completed":
            raise RuntimeError(f"the benchmark job ended in {status}")
        body = http.get(f"/transcriptions/{job_id}/transcript").content
    count = len(json.loads(body)["tokens"])
    return job_id, count, len(body)


# --- contenders (run in the child) ---------------------------------------------------------------


def _raw_httpx(base_url: str, api_key: str, job_id: str) -> Callable[[], object]:
    http = httpx.Client(headers={"authorization": f"Bearer {api_key}"}, timeout=600)
    url = f"{base_url}/transcriptions/{job_id}/transcript"

    def run() -> object:
        return http.get(url).json()

    return run


def _client(base_url: str, api_key: str) -> SonioxClient:
    # No transcript cache: it would answer the repeated fetches of a body up to
    # cache_max_entry_bytes (8 MiB) from memory, and keep a copy of a streamed one.
    config = SonioxConfig(
        api_key=api_key, base_url=base_url, read_timeout=600, cache_ttl_transcripts=0
    )
    return SonioxClient(config=config)


def _typed(base_url: str, api_key: str, job_id: str) -> Callable[[], object]:
    client = _client(base_url, api_key)
    stt: Any = getattr(client, "stt", None)
    if stt is not None and hasattr(stt, "get_transcript"):
        return lambda: stt.get_transcript(job_id)
    path = f"/transcriptions/{job_id}/transcript"
    return lambda: loads(client.request("GET", path).content, TranscriptionTranscript)


def _streamed(base_url: str, api_key: str, job_id: str) -> Callable[[], object]:
    client = _client(base_url, api_key)

    def run() -> object:
        n = 0
        for _ in iter_transcript_tokens(client, job_id):
            n += 1
        return n

    return run


def _ijson(base_url: str, api_key: str, job_id: str) -> Callable[[], object]:
    import ijson  # type: ignore[import-untyped]
    import msgspec

    http = httpx.Client(headers={"authorization": f"Bearer {api_key}"}, timeout=600)
    url = f"{base_url}/transcriptions/{job_id}/transcript"
    as_tokens = list[TranscriptionTranscriptToken]

    def run() -> object:
        n = 0
        items = ijson.sendable_list()
        coro = ijson.items_coro(items, "tokens.item", use_float=True)
        with http.stream("GET", url) as response:
            for chunk in response.iter_bytes():
                coro.send(chunk)
                if items:
                    n += len(msgspec.convert(items, as_tokens, strict=False))
                    del items[:]
        coro.close()
        return n

    return run


CONTENDERS: dict[str, Callable[[str, str, str], Callable[[], object]]] = {
    "httpx `.json()` (baseline)": _raw_httpx,
    "**typed** `client.stt.get_transcript(id)`": _typed,
    "**streamed** `iter_transcript_tokens(client, id)`": _streamed,
    "ijson `items_coro` → Structs (reference, not used)": _ijson,
}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(name: str, base_url: str, api_key: str, jobs: str, repeat: int) -> None:
    """One contender in a fresh process: memory of the first fetch, then timing, then tracemalloc.

    It first fetches a small transcript the same way, so lazy imports, caches and the
    connection are in place before anything is measured.
    """
    small_id, job_id = jobs.split(",")
    CONTENDERS[name](base_url, api_key, small_id)()
    run = CONTENDERS[name](base_url, api_key, job_id)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = run()
    walls, cpus = [time.perf_counter() - t0], [time.process_time() - cpu0]
    rss = max(0, _status_kib("VmHWM") - before) / 1024
    del result
    for _ in range(repeat - 1):
        gc.collect()
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = run()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - cpu0)
        del result
    gc.collect()
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    print(
        json.dumps({"wall": median(walls), "cpu": median(cpus), "rss": rss, "trace": peak / 2**20})
    )


def measure(name: str, emu: Emulator, jobs: str, repeat: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            name,
            emu.rest_base_url,
            emu.api_key,
            jobs,
            str(repeat),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--sweep", type=int, default=4, help="sizes measured, halving from --tokens (1: only it)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--quick", action="store_true", help="20,000 tokens, 3 runs, print only")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, base_url, api_key, jobs, repeat = args.child
        child(name, base_url, api_key, jobs, int(repeat))
        return 0
    if args.quick:
        args.tokens, args.repeat, args.no_write = 20_000, 3, True
    sizes = sorted({max(1_000, args.tokens >> k) for k in range(max(1, args.sweep))})

    contenders = list(CONTENDERS)
    try:
        import ijson  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        contenders.remove("ijson `items_coro` → Structs (reference, not used)")

    config: dict[str, Any] = {
        "engine_window_ms": WINDOW_MS,
        "queue_delay_s": 0.0,
        "processing_speed": 1e6,
        "min_processing_s": 0.0,
    }
    sweep: list[tuple[int, int, dict[str, dict[str, float]]]] = []  # (tokens, bytes, rows)
    with tempfile.TemporaryDirectory() as tmp, Emulator(mode="subprocess", **config) as emu:
        started = time.perf_counter()
        write_wav(Path(tmp) / "long.wav", seconds_for(max(sizes)))  # every job is cut from it
        small_id, _, _ = make_job(emu, 500, Path(tmp))
        for tokens in sizes:
            job_id, count, size = make_job(emu, tokens, Path(tmp))
            jobs = f"{small_id},{job_id}"
            print(
                f"job ready: {count:,} tokens, {size / 2**20:.1f} MiB body "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
            rows: dict[str, dict[str, float]] = {}
            for name in contenders:
                rows[name] = measure(name, emu, jobs, args.repeat)
                print(f"measured: {name}: {rows[name]}", file=sys.stderr)
            sweep.append((count, size, rows))
    count, size, rows = sweep[-1]  # the table is the largest size

    if len(sweep) > 1:
        print(sweep_table(sweep, contenders) + "\n")
    base = rows[contenders[0]]
    cells = [
        [
            name,
            f"{r['wall']:.2f}",
            f"{r['wall'] / base['wall']:.2f}x",
            f"{r['cpu']:.2f}",
            f"{r['cpu'] / base['cpu']:.2f}x",
            f"{r['rss']:.1f}",
            f"{r['trace']:.1f}",
        ]
        for name, r in rows.items()
    ]
    headers = [
        "contender",
        "median s (wall)",
        "vs httpx",
        "client CPU s",
        "vs httpx",
        "peak RSS Δ MiB",
        "tracemalloc peak MiB",
    ]
    setup = (
        f"`python benchmarks/bench_transcript.py` — {count:,} tokens (speaker + language on "
        f"each), body {size / 2**20:.1f} MiB, emulator in a subprocess over loopback HTTP/1.1; "
        f"median of {args.repeat} fetches per contender, each contender in a fresh process; "
        f"Python {platform.python_version()}, httpx {httpx.__version__}; "
        f"{platform.machine()}, {psutil.cpu_count()} cores."
    )
    streamed = rows["**streamed** `iter_transcript_tokens(client, id)`"]
    notes = (
        "*median s* is the wall time of one whole fetch, including the emulator building and "
        "sending the body (the same work for every contender); *client CPU s* is the client "
        "process alone. *peak RSS Δ*: resident high-water mark (VmHWM, reset first) during the "
        "first fetch minus RSS just before it; *tracemalloc peak*: Python allocations at their "
        "peak during one fetch. The streamed iterator keeps memory flat — "
        f"{streamed['rss']:.1f} MiB RSS Δ, {streamed['trace']:.1f} MiB traced, whatever the "
        "transcript's length — because it decodes each arriving chunk's complete tokens with "
        "one msgspec call and drops them once consumed; ijson (C backend) is shown for "
        "comparison: it builds a dict per token and is several times slower."
    )
    text = "\n\n".join([setup, table(headers, cells), notes])
    print(text)
    record = not args.no_write and args.tokens == 200_000
    if record:
        record_section("performance.md", HEADING, text)
    if record or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        path = record_data(
            "transcript_parse",
            title="Transcript fetch + parse: time and peak memory against transcript size",
            command="python benchmarks/bench_transcript.py",
            data=figure_data(sweep, contenders, args.repeat),
        )
        print(f"data: {path}", file=sys.stderr)
    return 0


def plain(name: str) -> str:
    """A contender's name without its markdown (for the legend)."""
    return name.replace("**", "").replace("`", "")


def sweep_table(sweep: list[tuple[int, int, dict[str, dict[str, float]]]], names: list[str]) -> str:
    """Markdown: one row per contender, one column per size: wall ms and peak RSS Δ MiB."""
    headers = ["contender: wall ms (median), peak RSS Δ MiB"]
    headers += [f"{count:,} tokens ({size / 2**20:.1f} MiB)" for count, size, _ in sweep]
    cells = [
        [name]
        + [f"{rows[name]['wall'] * 1000:.0f} ms, {rows[name]['rss']:.1f}" for *_, rows in sweep]
        for name in names
    ]
    return table(headers, cells)


def figure_data(
    sweep: list[tuple[int, int, dict[str, dict[str, float]]]], names: list[str], repeat: int
) -> dict[str, object]:
    """Sizes (tokens, body MiB) and, per contender, one value per size for each measure."""
    return {
        "repeat": repeat,
        "tokens": [count for count, _, _ in sweep],
        "body_mib": [round(size / 2**20, 2) for _, size, _ in sweep],
        "measures": {
            "wall_ms": "median wall time of one fetch + parse (emulator serialising included)",
            "cpu_ms": "median CPU time of the client process for one fetch + parse",
            "rss_mib": "peak RSS Δ: VmHWM (reset first) during the first fetch minus RSS before",
            "tracemalloc_mib": "tracemalloc peak during one fetch",
        },
        "contenders": [
            {
                "name": plain(name),
                "wall_ms": [round(rows[name]["wall"] * 1000, 1) for *_, rows in sweep],
                "cpu_ms": [round(rows[name]["cpu"] * 1000, 1) for *_, rows in sweep],
                "rss_mib": [round(rows[name]["rss"], 2) for *_, rows in sweep],
                "tracemalloc_mib": [round(rows[name]["trace"], 2) for *_, rows in sweep],
            }
            for name in names
        ],
    }


def plot(data: dict[str, Any], fig: Any) -> None:
    """Time (left) and peak memory (right) against transcript size, one line per contender:
    wall time solid and client CPU dashed; peak RSS Δ."""
    time_ax = fig.add_subplot(1, 2, 1)
    memory_ax = fig.add_subplot(1, 2, 2, sharex=time_ax)
    thousands = [tokens / 1000 for tokens in data["tokens"]]
    markers = "osD^v"
    for i, contender in enumerate(data["contenders"]):
        marker = markers[i % len(markers)]
        (line,) = time_ax.plot(
            thousands, contender["wall_ms"], marker=marker, markersize=4, label=contender["name"]
        )
        color = line.get_color()
        time_ax.plot(thousands, contender["cpu_ms"], color=color, linestyle="--", linewidth=1)
        memory_ax.plot(thousands, contender["rss_mib"], color=color, marker=marker, markersize=4)
    time_ax.plot([], [], color="0.3", label="solid: wall time (fetch + parse)")
    time_ax.plot([], [], color="0.3", linestyle="--", linewidth=1, label="dashed: client CPU")
    time_ax.set_ylabel("time per fetch (ms, median)")
    memory_ax.set_ylabel("peak RSS above the baseline during one fetch (MiB)")
    mib_per_token = data["body_mib"][-1] / data["tokens"][-1] * 1000

    def to_mib(k: Any) -> Any:  # thousand tokens → body MiB (arrays from matplotlib)
        return k * mib_per_token

    def to_tokens(m: Any) -> Any:
        return m / mib_per_token

    for ax in (time_ax, memory_ax):
        ax.set_xlabel("transcript size (thousand tokens)")
        ax.set_xlim(left=0)
        ax.set_ylim(-0.02 * ax.get_ylim()[1], None)  # a line at 0 stays visible
        ax.grid(alpha=0.3)
        top = ax.secondary_xaxis("top", functions=(to_mib, to_tokens))
        top.set_xlabel("JSON body (MiB)", fontsize=8)
        top.tick_params(labelsize=8)
    time_ax.legend(loc="upper left", fontsize=7)


if __name__ == "__main__":
    raise SystemExit(main())
