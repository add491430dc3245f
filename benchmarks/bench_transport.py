"""Transport overhead: our client vs raw httpx, per request (sync) and in throughput (async).

The emulator runs in a subprocess, so the client's CPU time is measured alone and the two
processes do not share a GIL. All variants hit the same small GET (``/v1/models``) over
loopback in one run, interleaved round by round so drift hits every variant alike. Every URL is
unique (``?n=<counter>``, ignored by the server): the production stack caches the model list
and collapses identical in-flight GETs, which would measure dictionary look-ups, not requests.

Sync, sequential (per request, median over rounds):
  1. raw ``httpx.Client`` (HTTP/1.1, keep-alive)
  2. ``SonioxClient`` with an empty middleware stack
  3. ``SonioxClient`` with the production stack (what ``SonioxConfig.production()`` builds)
  4. (3) plus the typed parse of the body (``GetModelsResponse``), for reference

Async, 100 concurrent GETs per round (requests per second):
  1. raw ``httpx.AsyncClient`` (HTTP/1.1, default limits)
  2. raw ``httpx.AsyncClient(http1=False, http2=True)`` (h2c), for reference
  3. ``AsyncSonioxClient``, production stack, HTTP/1.1, for reference
  4. ``AsyncSonioxClient``, production stack, ``http2=True``

Async, concurrency sweep (requests per second at 1, 4, 16 and 64 requests in flight): the same
four clients under steady load — ``c`` tasks, each sending its share of the cell's requests
back to back over the one shared client — every (level, client) cell interleaved round by
round (the client order rotated each round), the median over rounds. The emulator, one
pure-Python process, is the ceiling the lines run into; HTTP/2 is h2c (prior knowledge).

Run ``python benchmarks/bench_transport.py`` (``--quick`` for a smoke run). Results are printed
as markdown and recorded in docs/performance.md under "Transport overhead"; the sweep also goes
as data to docs/data/transport_concurrency.json (``SONIOX_BENCH_DATA_DIR`` elsewhere; with it
set, a ``--quick`` or ``--no-record`` run writes its data there too), from which ``plot`` below
draws the figure ``transport_concurrency`` (``python benchmarks/plots.py
transport_concurrency``): requests per second against concurrency, a line per client and
protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _util import median, record_data, record_section, table

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.middleware import Stack
from soniox.types import GetModelsResponse, loads

PATH = "/models"
LEVELS = (1, 4, 16, 64)
"""Requests in flight, for the concurrency sweep."""
_counter = itertools.count()


def _unique() -> int:
    return next(_counter)


def sync_rows(emu: Emulator, rounds: int, per_round: int) -> list[list[str]]:
    url = emu.rest_base_url + PATH
    auth = {"authorization": f"Bearer {emu.api_key}"}
    config = SonioxConfig.production(api_key=emu.api_key, base_url=emu.rest_base_url)

    raw = httpx.Client()
    empty = SonioxClient(config=config, stack=Stack())
    prod = SonioxClient(config=config)

    def typed() -> object:
        return loads(prod.request("GET", PATH, params={"n": _unique()}).content, GetModelsResponse)

    variants: dict[str, Callable[[], object]] = {
        "raw httpx.Client": lambda: raw.get(f"{url}?n={_unique()}", headers=auth).content,
        "SonioxClient, empty stack": lambda: (
            empty.request("GET", PATH, params={"n": _unique()}, headers=auth).content
        ),
        "SonioxClient, production stack": lambda: (
            prod.request("GET", PATH, params={"n": _unique()}).content
        ),
        "production stack + typed parse (GetModelsResponse)": typed,
    }
    for fn in variants.values():  # warm up: connections, caches, imports
        for _ in range(200):
            fn()
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    gc.collect()
    for _ in range(rounds):
        for name, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(per_round):
                fn()
            t1, c1 = time.perf_counter(), time.process_time()
            wall[name].append((t1 - t0) / per_round * 1e6)
            cpu[name].append((c1 - c0) / per_round * 1e6)
    raw.close()
    empty.close()
    prod.close()

    base_wall = median(wall["raw httpx.Client"])
    base_cpu = median(cpu["raw httpx.Client"])
    rows: list[list[str]] = []
    for name in variants:
        w, c = median(wall[name]), median(cpu[name])
        rows.append([name, f"{w:.0f}", f"{w / base_wall:.2f}x", f"{c:.0f}", f"{c / base_cpu:.2f}x"])
    return rows


async def _rate(fn: Callable[[], Awaitable[object]], rounds: int, concurrency: int) -> float:
    for _ in range(2):  # warm-up rounds
        await asyncio.gather(*[fn() for _ in range(concurrency)])
    t0 = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*[fn() for _ in range(concurrency)])
    return rounds * concurrency / (time.perf_counter() - t0)


async def async_rows(emu: Emulator, rounds: int, concurrency: int) -> list[list[str]]:
    url = emu.rest_base_url + PATH
    auth = {"authorization": f"Bearer {emu.api_key}"}
    h2_config = SonioxConfig.production(api_key=emu.api_key, base_url=emu.rest_base_url, http2=True)
    results: list[tuple[str, float]] = []

    async def raw(name: str, client: httpx.AsyncClient) -> None:
        async with client:

            async def get() -> object:
                return (await client.get(f"{url}?n={_unique()}", headers=auth)).content

            results.append((name, await _rate(get, rounds, concurrency)))

    async def ours(name: str, config: SonioxConfig) -> None:
        async with AsyncSonioxClient(config=config) as client:

            async def get() -> object:
                return (await client.request("GET", PATH, params={"n": _unique()})).content

            results.append((name, await _rate(get, rounds, concurrency)))

    await raw("raw httpx.AsyncClient (HTTP/1.1, default limits)", httpx.AsyncClient())
    # Plain-text HTTP/2 needs prior knowledge: with http1 on, httpx speaks HTTP/1.1 to http://.
    await raw("raw httpx.AsyncClient, HTTP/2 (h2c)", httpx.AsyncClient(http1=False, http2=True))
    await ours("AsyncSonioxClient, production stack, HTTP/1.1", h2_config.evolve(http2=False))
    await ours("AsyncSonioxClient, production stack, HTTP/2", h2_config)
    base = results[0][1]
    return [[name, f"{rate:.0f}", f"{rate / base:.2f}x"] for name, rate in results]


async def _steady(fn: Callable[[], Awaitable[object]], concurrency: int, total: int) -> float:
    """Requests per second with ``concurrency`` tasks sending ``total`` requests back to back."""
    share = max(1, total // concurrency)

    async def worker() -> None:
        for _ in range(share):
            await fn()

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return share * concurrency / (time.perf_counter() - t0)


SWEEP: tuple[tuple[str, str, str], ...] = (
    ("AsyncSonioxClient (production stack), HTTP/1.1", "AsyncSonioxClient", "HTTP/1.1"),
    ("AsyncSonioxClient (production stack), HTTP/2", "AsyncSonioxClient", "HTTP/2"),
    ("raw httpx.AsyncClient, HTTP/1.1", "httpx.AsyncClient", "HTTP/1.1"),
    ("raw httpx.AsyncClient, HTTP/2 (h2c)", "httpx.AsyncClient", "HTTP/2"),
)
"""The sweep's contenders: (label, client, protocol); ours with the production stack."""


async def sweep(
    emu: Emulator, levels: tuple[int, ...], rounds: int, per_cell: int
) -> dict[str, list[float]]:
    """Requests per second of every contender at every level: label → a median per level."""
    url = emu.rest_base_url + PATH
    auth = {"authorization": f"Bearer {emu.api_key}"}
    h1_config = SonioxConfig.production(api_key=emu.api_key, base_url=emu.rest_base_url)
    ours = {
        "HTTP/1.1": AsyncSonioxClient(config=h1_config),
        "HTTP/2": AsyncSonioxClient(config=h1_config.evolve(http2=True)),
    }
    # Plain-text HTTP/2 needs prior knowledge: with http1 on, httpx speaks HTTP/1.1 to http://.
    raw = {
        "HTTP/1.1": httpx.AsyncClient(),
        "HTTP/2": httpx.AsyncClient(http1=False, http2=True),
    }

    def ours_get(client: AsyncSonioxClient) -> Callable[[], Awaitable[object]]:
        async def get() -> object:
            return (await client.request("GET", PATH, params={"n": _unique()})).content

        return get

    def raw_get(client: httpx.AsyncClient) -> Callable[[], Awaitable[object]]:
        async def get() -> object:
            return (await client.get(f"{url}?n={_unique()}", headers=auth)).content

        return get

    fns = {
        label: ours_get(ours[protocol]) if kind == "AsyncSonioxClient" else raw_get(raw[protocol])
        for label, kind, protocol in SWEEP
    }
    rates: dict[str, dict[int, list[float]]] = {
        label: {level: [] for level in levels} for label in fns
    }
    try:
        for fn in fns.values():  # warm up: connections, caches, imports
            await _steady(fn, max(levels), 2 * max(levels))
        order = list(fns)
        for r in range(rounds):
            gc.collect()
            for level in levels:
                for label in order[r % len(order) :] + order[: r % len(order)]:
                    rates[label][level].append(await _steady(fns[label], level, per_cell))
    finally:
        for client in ours.values():
            await client.aclose()
        for client in raw.values():
            await client.aclose()
    return {label: [median(rates[label][level]) for level in levels] for label in fns}


def plot(data: dict[str, Any], fig: Any) -> None:
    """The figure ``transport_concurrency``: requests per second against requests in flight,
    a line per client and protocol (ours solid, raw httpx dashed; a colour per protocol)."""
    ax = fig.add_subplot(1, 1, 1)
    levels: list[int] = data["concurrency"]
    colors = {"HTTP/1.1": "tab:blue", "HTTP/2": "tab:orange"}
    for series in data["series"]:
        ours = series["client"] == "AsyncSonioxClient"
        ax.plot(
            levels,
            series["rps"],
            label=series["name"],
            color=colors.get(series["protocol"], "tab:gray"),
            linestyle="-" if ours else "--",
            marker="o" if ours else "s",
            linewidth=1.8 if ours else 1.2,
            markersize=5 if ours else 4,
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(levels, [str(level) for level in levels])
    ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.set_xlabel("concurrency (requests in flight, steady load)")
    ax.set_ylabel("throughput (requests/s, median of rounds)")
    ax.set_title(
        f"GET /v1/models against {data['server']}; {data['rounds']} rounds x "
        f"{data['requests_per_cell']} requests per point",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds, per_round, async_rounds = (5, 200, 5) if args.quick else (15, 500, 20)
    concurrency = 100
    sweep_rounds, per_cell = (2, 128) if args.quick else (5, 512)

    with Emulator(mode="subprocess") as emu:
        sync_table = table(
            [
                "client (sequential GET /v1/models)",
                "wall µs/req",
                "wall ratio",
                "CPU µs/req",
                "CPU ratio",
            ],
            sync_rows(emu, rounds, per_round),
        )
        async_table = table(
            [f"client ({concurrency} concurrent GETs)", "req/s", "vs raw AsyncClient"],
            asyncio.run(async_rows(emu, async_rounds, concurrency)),
        )
        swept = asyncio.run(sweep(emu, LEVELS, sweep_rounds, per_cell))
    sweep_table = table(
        ["client (steady load, req/s)", *[f"{level} in flight" for level in LEVELS]],
        [[label, *[f"{rate:.0f}" for rate in rates]] for label, rates in swept.items()],
    )
    env = (
        f"Python {platform.python_version()}, httpx {httpx.__version__}, "
        f"{rounds} rounds x {per_round} requests (sync, median of per-round means), "
        f"{async_rounds} rounds x {concurrency} concurrent (async); sweep {sweep_rounds} rounds "
        f"x {per_cell} requests per cell (median); emulator in a subprocess, loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_transport.py` (all rows from one run). "
        "Targets: production stack (every family on) <= 0.5x raw `httpx.Client` CPU per "
        "request; async >= 3x raw "
        "`httpx.AsyncClient` (HTTP/1.1, default limits) at 100 concurrent.\n\n"
        f"{sync_table}\n\n{async_table}\n\nConcurrency sweep (async, steady load: that many "
        "tasks sending back to back over one client; production stack for ours):\n\n"
        f"{sweep_table}\n\n{env}\n\n"
        "Why it is cheaper than raw httpx: HTTP/1.1 rides the SDK's own lane (sockets or an "
        "asyncio protocol, llhttp through `httptools`: a tenth of httpcore + h11's CPU per "
        "request; no per-request URL merging, cookie jar, auth/event-hook flows or response "
        "wrapping either); the middleware chain is built once per stack edit, a hook with only "
        "`on_request` costs one call, and response headers are decoded only when someone looks "
        "at them. The emulator, a pure-Python server, bounds the wall times; the client's own "
        'cost against a fast server is in "Client cost (fast server)". The async rows are '
        "bound by the emulator too (one pure-Python process), so they show how well each client "
        "keeps it busy: raw httpx over HTTP/1.1 opens up to 100 connections and the default "
        "keep-alive limit (20) closes 80 after every burst; HTTP/2 multiplexes on one "
        "connection (the emulator's side runs the pure-Python h2 library; ours, the SDK's own "
        "HTTP/2 lane), so the HTTP/2 rows move by about +-15 % between runs on this shared "
        "2-core machine."
    )
    print(body)
    if not args.no_record:
        record_section("performance.md", "Transport overhead", body)
    if not (args.quick or args.no_record) or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        record_data(
            "transport_concurrency",
            title="Concurrency throughput: HTTP/1.1 vs HTTP/2 (async clients)",
            command="python benchmarks/bench_transport.py",
            data={
                "request": "GET /v1/models, a unique query per request",
                "server": "the emulator (subprocess, loopback)",
                "load": "steady: c tasks sending back to back over one shared client",
                "statistic": "median over rounds of requests per second",
                "unit": "requests/s",
                "concurrency": list(LEVELS),
                "rounds": sweep_rounds,
                "requests_per_cell": per_cell,
                "series": [
                    {
                        "name": label,
                        "client": kind,
                        "protocol": protocol,
                        "stack": "production" if kind == "AsyncSonioxClient" else None,
                        "rps": [round(rate, 1) for rate in swept[label]],
                    }
                    for label, kind, protocol in SWEEP
                ],
            },
        )


if __name__ == "__main__":
    main()
