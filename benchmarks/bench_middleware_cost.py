"""Middleware cost: CPU per call of each middleware alone, of the stacks, and of tracing.

The emulator runs in a subprocess (as in bench_transport.py), so this process's CPU time
(``time.process_time()``) is the client's alone. Every variant sends the same sequential
``GET /v1/models`` through ``SonioxClient.request`` (which also opens the ``request``
operation), each with a **unique query** (``?n=<counter>``, ignored by the server) so a cache
or dedup middleware measures a miss that goes out, not a dictionary hit.

Variants, each on the bare transport (an empty stack; the key sent as a request header):

* every middleware the registry holds, alone, built by its factory from
  ``SonioxConfig.production()`` (so ``metrics`` records in memory, ``tracing`` finds no tracer
  provider — no OpenTelemetry SDK configured — and steps aside);
* ``metrics`` with the Prometheus sink (a private registry) and with the OpenTelemetry sink (no
  SDK: the API's no-op instruments);
* ``tracing`` with the OpenTelemetry SDK: a private ``TracerProvider``, a
  ``SimpleSpanProcessor`` and an ``InMemorySpanExporter`` (cleared between rounds) — one
  INTERNAL and one CLIENT span per call, ``traceparent`` injected;
* the production stack as ``SonioxConfig.production()`` builds it at the time of the run, that
  stack with ``tracing`` + ``metrics`` outermost (no SDK), and the same with the SDK.

Each variant is measured twice: on the in-memory transport (a canned answer, no sockets: the
middleware's own CPU, precisely) and over loopback against the emulator (the end-to-end call,
where socket work dominates). Variants run interleaved, round by round, after a warm-up; a
cell is the median over rounds of the per-call mean. Run ``python benchmarks/bench_middleware_cost.py`` (``--quick`` for a smoke
run, which records nothing); results go to docs/performance.md, "Middleware cost", and as data
to docs/data/middleware_cost.json (``SONIOX_BENCH_DATA_DIR`` elsewhere; with it set, a
``--quick`` or ``--no-record`` run writes its data there too), from which ``plot`` below draws
the figure ``middleware_cost`` (``python benchmarks/plots.py middleware_cost``): the CPU each
variant adds to a call over the empty stack, µs, in memory and over loopback side by side.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import time
from collections.abc import Callable
from typing import Any

from _util import median, record_data, record_section, table
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.middleware import (
    Metrics,
    OpenTelemetryMetrics,
    PrometheusMetrics,
    Stack,
    Tracing,
    build_stack,
    registry,
)
from soniox.transport import SYSTEM_CLOCK, InMemoryTransport, Reply, Transport

PATH = "/models"
BARE = "bare transport (empty stack)"
OFFLINE = "http://127.0.0.1:9/v1"
MODELS: dict[str, list[object]] = {"models": []}
_unique = itertools.count().__next__


def variants(config: SonioxConfig, provider: TracerProvider) -> dict[str, Callable[[], Stack]]:
    """Stack makers by row label (a fresh stack per client)."""
    made: dict[str, Callable[[], Stack]] = {BARE: Stack}
    for name in registry.names:
        made[f"`{name}` alone"] = lambda name=name: Stack([registry.factory(name)(config)])
    made["`metrics` alone, Prometheus sink"] = lambda: Stack(
        [Metrics(PrometheusMetrics(CollectorRegistry()))]
    )
    made["`metrics` alone, OpenTelemetry sink (no SDK)"] = lambda: Stack(
        [Metrics(OpenTelemetryMetrics())]
    )
    made["`tracing` alone, OpenTelemetry SDK + in-memory exporter"] = lambda: Stack(
        [Tracing(tracer_provider=provider)]
    )
    made["production stack"] = lambda: build_stack(config)

    def observed(sdk: bool) -> Stack:
        stack = build_stack(config)
        stack.insert(0, Metrics(), name="metrics") if "metrics" not in stack else None
        tracing = Tracing(tracer_provider=provider) if sdk else Tracing()
        if "tracing" in stack:
            stack.replace("tracing", tracing)
        else:
            stack.insert(0, tracing, name="tracing")
        return stack

    made["production + `tracing` + `metrics` (no SDK)"] = lambda: observed(False)
    made["production + `tracing` (SDK, in-memory) + `metrics`"] = lambda: observed(True)
    return made


def measure(
    config: SonioxConfig,
    transport: Callable[[], Transport | None],
    rounds: int,
    per_round: int,
    warmup: int,
) -> dict[str, dict[str, float]]:
    """Every variant's client (on ``transport()``; None: the network), interleaved: by label,
    the median over rounds of the per-call mean CPU and wall time, µs (``cpu_us``, ``wall_us``)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    auth = {"authorization": f"Bearer {config.api_key}"}

    clients: dict[str, SonioxClient] = {}
    calls: dict[str, Callable[[], object]] = {}
    for label, make in variants(config, provider).items():
        try:
            client = SonioxClient(config=config, stack=make(), transport=transport())
        except Exception as error:  # a middleware being written elsewhere may not build yet
            print(f"skipped {label}: {type(error).__name__}: {error}")
            continue
        clients[label] = client

        def call(client: SonioxClient = client) -> object:
            return client.request("GET", PATH, params={"n": _unique()}, headers=auth).content

        calls[label] = call

    for label, fn in list(calls.items()):  # warm up: connections, caches, imports
        try:
            for _ in range(warmup):
                fn()
        except Exception as error:
            print(f"skipped {label}: {type(error).__name__}: {error}")
            del calls[label]
    cpu: dict[str, list[float]] = {label: [] for label in calls}
    wall: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(rounds):
        exporter.clear()
        gc.collect()
        for label, fn in calls.items():
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(per_round):
                fn()
            t1, c1 = time.perf_counter(), time.process_time()
            cpu[label].append((c1 - c0) / per_round * 1e6)
            wall[label].append((t1 - t0) / per_round * 1e6)
    for client in clients.values():
        client.close()
    provider.shutdown()

    return {
        label: {"cpu_us": median(cpu[label]), "wall_us": median(wall[label])} for label in calls
    }


def cells(results: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each variant's CPU per call, what it adds to the empty stack's and the ratio to it."""
    bare = results[BARE]["cpu_us"]
    return {
        label: {
            "cpu_us": round(cell["cpu_us"], 2),
            "added_us": round(cell["cpu_us"] - bare, 2),
            "ratio": round(cell["cpu_us"] / bare, 3),
            "wall_us": round(cell["wall_us"], 1),
        }
        for label, cell in results.items()
    }


def rows(results: dict[str, dict[str, float]], wall: bool) -> list[list[str]]:
    out: list[list[str]] = []
    for label, cell in cells(results).items():
        row = [label, f"{cell['cpu_us']:.1f}", f"{cell['added_us']:+.1f}", f"{cell['ratio']:.2f}x"]
        out.append([*row, f"{cell['wall_us']:.0f}"] if wall else row)
    return out


def plot(data: dict[str, Any], fig: Any) -> None:
    """The figure ``middleware_cost``: what each variant adds to a call's CPU over the empty
    stack (µs, median of rounds), in memory and over loopback, as horizontal bars."""
    shown: list[dict[str, Any]] = [row for row in data["rows"] if row["variant"] != data["bare"]]
    bare = next(row for row in data["rows"] if row["variant"] == data["bare"])
    labels = [str(row["variant"]).replace("`", "") for row in shown]
    ax = fig.add_subplot(1, 1, 1)
    height = 0.38
    lanes = (
        ("in_memory", "in memory (no sockets): the middleware's own CPU", "tab:blue", -height / 2),
        ("loopback", "over loopback to the emulator (socket work, noise)", "tab:gray", height / 2),
    )
    for key, label, color, shift in lanes:
        ys = [i + shift for i, row in enumerate(shown) if row.get(key)]
        added = [float(row[key]["added_us"]) for row in shown if row.get(key)]
        if bare.get(key):
            label += f"; empty stack {float(bare[key]['cpu_us']):.0f} µs"
        bars = ax.barh(
            ys,
            added,
            height=height,
            color=color,
            label=label,
            alpha=0.9 if key == "in_memory" else 0.55,
        )
        if key == "in_memory":
            ax.bar_label(bars, fmt="%+.1f", fontsize=7, padding=2)
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.set_ylim(len(shown) - 0.5, -2.4)  # top down, with headroom for the legend
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(
        f"CPU added per call vs the empty stack (µs, median of rounds; {data['client']} client)"
    )
    ax.margins(x=0.12)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds, per_round = (3, 100) if args.quick else (15, 400)
    memory_rounds, memory_per_round = (3, 1000) if args.quick else (15, 5000)
    headers = ["stack (sequential GET /v1/models)", "CPU µs/call", "vs bare", "CPU ratio"]

    reply = Reply(200, json_body=MODELS)
    offline = SonioxConfig.production(api_key="sk-bench-0123456789abcdef", base_url=OFFLINE)
    own = measure(
        offline,
        lambda: InMemoryTransport(lambda _request: reply, clock=SYSTEM_CLOCK),
        memory_rounds,
        memory_per_round,
        2000,
    )
    with Emulator(mode="subprocess") as emu:
        config = SonioxConfig.production(api_key=emu.api_key, base_url=emu.rest_base_url)
        wire = measure(config, lambda: None, rounds, per_round, 100)
    production = SonioxConfig.production().middleware
    in_memory = table(headers, rows(own, wall=False))
    on_the_wire = table([*headers, "wall µs"], rows(wire, wall=True))
    env = (
        f"Python {platform.python_version()}, sync client; in memory {memory_rounds} rounds x "
        f"{memory_per_round} calls, over loopback {rounds} rounds x {per_round} calls (emulator "
        f"in a subprocess); production stack = {' → '.join(production)}."
    )
    body = (
        "Measured by `python benchmarks/bench_middleware_cost.py` (each table from one run): "
        'the client process\'s CPU per call, median of per-round means; "vs bare" is the '
        "difference to the empty stack, the middleware's own cost. The first table runs on the "
        "in-memory transport (a canned answer, no sockets), which isolates the middleware's "
        "CPU; the second goes over loopback to the emulator, where a request's own socket work "
        "(~130 µs of CPU on this machine, on the native HTTP/1.1 lane), the shared machine's "
        "noise (tens of µs between rounds) and the garbage collector (its full passes grow "
        "with what the cache holds) blur most rows.\n\n"
        f"In memory:\n\n{in_memory}\n\nOver loopback:\n\n{on_the_wire}\n\n{env}\n\n"
        "Without an OpenTelemetry SDK (or with one whose provider is not set), `tracing` costs a "
        "provider look-up per call and per operation; with the SDK, the cost is the SDK's "
        "(two spans per call, their attributes, `traceparent` injection, the span processor). "
        "`metrics` relays the call's effects to see each attempt, wait and report, builds "
        "three frozen records (attempt, call, operation) and hands them to its sinks: the "
        "in-memory one takes a lock and appends a duration, Prometheus updates labelled "
        "children."
    )
    print(body)
    recording = not (args.quick or args.no_record)
    if recording:
        record_section("performance.md", "Middleware cost", body)
    if recording or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        mine, theirs = cells(own), cells(wire)
        in_memory_cell = ("cpu_us", "added_us", "ratio")
        record_data(
            "middleware_cost",
            title="Middleware cost: CPU each middleware adds to a call (sync client)",
            command="python benchmarks/bench_middleware_cost.py",
            data={
                "client": "sync",
                "call": "SonioxClient.request GET /v1/models, a unique query per call",
                "statistic": "median over rounds of the per-call mean, client process CPU",
                "unit": "µs",
                "bare": BARE,
                "production_stack": list(production),
                "in_memory": {"rounds": memory_rounds, "calls_per_round": memory_per_round},
                "loopback": {"rounds": rounds, "calls_per_round": per_round},
                "rows": [
                    {
                        "variant": label,
                        "in_memory": (
                            {k: mine[label][k] for k in in_memory_cell} if label in mine else None
                        ),
                        "loopback": theirs.get(label),
                    }
                    for label in dict.fromkeys([*mine, *theirs])
                ],
            },
        )


if __name__ == "__main__":
    main()
