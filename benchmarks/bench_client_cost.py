"""Client cost: CPU per request of our clients vs raw httpx, against a fast loopback server.

"Transport overhead" (bench_transport.py) runs against the emulator, a pure-Python server at
about 1,000 requests per second, so its concurrency rows show the emulator. Here the server is
``fast_server.py`` (uvicorn + httptools for HTTP/1.1, granian for h2c; canned answers, a
subprocess per protocol), which spends a fraction of the client's CPU per request, and the
measure is the client process's own CPU time per request (``time.process_time()``: every thread
of this process, nothing of the server's).

Scenarios, each with the sync and the async client kind:

* **1**: one request at a time;
* **100 concurrent**: 100 workers, each sending its share of the round's requests back to back
  over one shared client — asyncio tasks for the async clients, threads for the sync ones
  (a blocking client's concurrency *is* threads: that is how a service shares a
  ``httpx.Client`` / ``SonioxClient``; GIL hand-offs are part of what it costs). Steady load,
  not bursts. Every client keeps its default pool (100 connections, 20 kept alive, 5 s: the
  same numbers in httpx and ``SonioxConfig``); as the client, not the server, is the
  bottleneck, a request holds a connection only part of its time and the pool settles at
  about 20 connections without opening new ones.

Contenders (``GET /v1/models``, a 9.4 KB JSON body, read whole):

* ``http.client`` (stdlib; the HTTP/1.1 floor; sync, one at a time only), and for HTTP/2 the
  ``h2`` state machine on a bare socket (the library httpcore and every pure-Python HTTP/2
  client uses, validation off; no client around it: the floor any of them pays);
* raw ``httpx.Client`` / ``httpx.AsyncClient`` (HTTP/1.1; HTTP/2 with prior knowledge), the
  reference of every ratio, and the same plus ``.json()``;
* ``SonioxClient`` / ``AsyncSonioxClient`` with an empty stack (HTTP/1.1);
* the same with the production stack (whatever ``SonioxConfig.production()`` builds at the
  time of the run; ``--middleware a,b,c`` measures a named stack instead), HTTP/1.1 and
  HTTP/2, with the typed parse (``GetModelsResponse``, what ``models.list()`` returns), and
  with HTTP/1.1 carried by httpcore + h11 instead of the native lane (``native_http1=False``:
  what the engine alone is worth).

**Every URL is unique** (``?n=<counter>``; the server ignores the query): the production stack
caches the model list and collapses identical in-flight GETs, which would turn repeated
identical GETs into dictionary look-ups and hide the transport path this measures. A unique URL
makes each call a cache miss that goes to the server (its look-up, store and eviction
included): the cost of a request that really goes out. Raw httpx and ``http.client`` get the
same query, in the URL string; our clients get it as ``params=``.

A call that raises is counted and the load goes on; the table marks such cells and a note
names the errors (sync HTTP/2 under 100 threads: httpcore's sync HTTP/2 connection encodes
request headers outside its write lock, so threads race on the shared HPACK encoder, and the
server answers the corrupted header blocks with PROTOCOL_ERROR and closes the connection; raw
httpx has this race, our HTTP/2 pools serialise h2 per connection — ``_http2_pools``).

Variants run interleaved, round by round (the order rotated each round), after a warm-up;
each cell is the median over rounds of CPU µs per request, and its ratio is to raw httpx of
the same client kind, scenario and protocol. Throughput (wall) is printed for reference.

Run ``python benchmarks/bench_client_cost.py`` (``--quick`` for a smoke run, ``--record`` to
write docs/performance.md's "Client cost (fast server)" section, ``--profile`` for a cProfile
of the sync production stack, one request at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import http.client
import itertools
import os
import platform
import pstats
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import httpx
from _util import median, record_section, table
from fast_server import FastServer

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.middleware import Flow, Stack
from soniox.types import GetModelsResponse, loads

PATH = "/models"
API_KEY = "fast-server-ignores-keys"  # the canned server checks no key
WORKERS = 100
TARGET = 0.5

Kind = Literal["sync", "async"]
Protocol = Literal["1.1", "2"]
SCENARIOS: tuple[tuple[Kind, int], ...] = (
    ("sync", 1),
    ("sync", WORKERS),
    ("async", 1),
    ("async", WORKERS),
)

_unique = itertools.count().__next__
"""The next query number (itertools.count is atomic under the GIL: safe from 100 threads)."""


@dataclass(frozen=True)
class Row:
    """A contender: a table row."""

    label: str
    protocol: Protocol


FLOOR = Row("`http.client` (stdlib; the floor)", "1.1")
RAW = Row("raw httpx", "1.1")
RAW_JSON = Row("raw httpx + `.json()`", "1.1")
EMPTY = Row("SonioxClient, empty stack", "1.1")
PROD = Row("SonioxClient, production stack", "1.1")
PROD_TYPED = Row("production stack + typed parse (`GetModelsResponse`)", "1.1")
PROD_HTTPCORE = Row("production stack, HTTP/1.1 over httpcore (`native_http1=False`)", "1.1")
FLOOR_H2 = Row("`h2` state machine on a bare socket (httpcore's HTTP/2 floor)", "2")
RAW_H2 = Row("raw httpx", "2")
EMPTY_H2 = Row("SonioxClient, empty stack", "2")
PROD_H2 = Row("SonioxClient, production stack", "2")
PROD_H2_HTTPCORE = Row("production stack, HTTP/2 over httpcore + h2 (`native_http2=False`)", "2")
ROWS = (
    FLOOR,
    RAW,
    RAW_JSON,
    EMPTY,
    PROD,
    PROD_TYPED,
    PROD_HTTPCORE,
    FLOOR_H2,
    RAW_H2,
    EMPTY_H2,
    PROD_H2,
    PROD_H2_HTTPCORE,
)
FLOORS = (FLOOR, FLOOR_H2)


def _expect(row: Row, status: int, http_version: str) -> None:
    """Refuse to measure a contender that does not get the canned 200 in its protocol."""
    wanted = f"HTTP/{row.protocol}"
    if status != 200 or http_version != wanted:
        raise RuntimeError(f"{row.label}: got {status} over {http_version}, wanted 200 {wanted}")


def reference(row: Row) -> Row:
    """The raw httpx row a row's ratio is taken against (same protocol)."""
    return RAW_H2 if row.protocol == "2" else RAW


@dataclass
class Variant:
    """One cell: a contender in one scenario, and its measurements."""

    row: Row
    kind: Kind
    workers: int
    call: Callable[[], object] | Callable[[], Awaitable[object]]
    cpu_us: list[float] = field(default_factory=list[float])
    rate: list[float] = field(default_factory=list[float])
    errors: list[Exception] = field(default_factory=list[Exception])
    """Calls that raised (the worker goes on; a cell with errors says so)."""


# --- the calls ---------------------------------------------------------------------------------


def _models_typed(client: SonioxClient | AsyncSonioxClient, n: int) -> Flow[GetModelsResponse]:
    """``models.list()``'s flow (resources/models.py) with a unique query; run inside
    ``stack.operation("models.list")``, as the namespace runs it."""
    response = yield from client.request_flow("GET", PATH, params={"n": n}, operation="models.list")
    return loads(response.content, GetModelsResponse)


class _H2Floor:
    """The HTTP/2 floor: ``h2``'s state machine (the one httpcore uses) on one blocking socket,
    one request at a time, header validation and normalisation off — no pool, no client, no
    HTTP library around it. What any pure-Python HTTP/2 client pays at least."""

    def __init__(self, url: str, auth: dict[str, str]) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self._sock = socket.create_connection((host, port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = h2.connection.H2Connection(
            h2.config.H2Configuration(
                client_side=True,
                header_encoding=None,
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
                validate_inbound_headers=False,
                normalize_inbound_headers=False,
            )
        )
        self._conn.initiate_connection()
        self._sock.sendall(self._conn.data_to_send())
        self._head = [
            (b":method", b"GET"),
            (b":authority", f"{host}:{port}".encode()),
            (b":scheme", b"http"),
        ]
        self._tail = [(k.encode(), v.encode()) for k, v in auth.items()]
        self._tail.append((b"accept-encoding", b"gzip, deflate"))
        self.first_status = self._get()[0]

    def _get(self) -> tuple[int, bytes]:
        conn, sock = self._conn, self._sock
        stream = conn.get_next_available_stream_id()
        path = (b":path", f"/v1{PATH}?n={_unique()}".encode())
        conn.send_headers(stream, [*self._head, path, *self._tail], end_stream=True)
        sock.sendall(conn.data_to_send())
        status, body, done = 0, list[bytes](), False
        while not done:
            for event in conn.receive_data(sock.recv(65536)):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers or [])[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body.append(event.data or b"")
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded):
                    done = True
            if out := conn.data_to_send():
                sock.sendall(out)
        return status, b"".join(body)

    def get(self) -> object:
        return self._get()[1]

    def close(self) -> None:
        self._sock.close()


@dataclass
class Clients:
    """Every client of the run, built once; :meth:`close` closes them."""

    urls: dict[Protocol, str]
    config: SonioxConfig
    loop: asyncio.AbstractEventLoop
    sync: list[httpx.Client | SonioxClient] = field(
        default_factory=list[httpx.Client | SonioxClient]
    )
    async_: list[httpx.AsyncClient | AsyncSonioxClient] = field(
        default_factory=list[httpx.AsyncClient | AsyncSonioxClient]
    )
    floors: list[http.client.HTTPConnection | _H2Floor] = field(
        default_factory=list[http.client.HTTPConnection | _H2Floor]
    )
    stack_repr: str = ""

    def ours_config(self, protocol: Protocol) -> SonioxConfig:
        return self.config.evolve(base_url=self.urls[protocol] + "/v1", http2=protocol == "2")

    def variants(self) -> list[Variant]:
        out: list[Variant] = []
        auth = {"authorization": f"Bearer {API_KEY}"}

        # http.client: one keep-alive connection, one request at a time.
        parts = urlsplit(self.urls["1.1"])
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        self.floors.append(conn)
        floor_path = f"/v1{PATH}?n="

        def floor() -> object:
            conn.request("GET", f"{floor_path}{_unique()}", headers=auth)
            return conn.getresponse().read()

        conn.request("GET", f"{floor_path}{_unique()}", headers=auth)
        first = conn.getresponse()
        first.read()
        _expect(FLOOR, first.status, f"HTTP/{first.version / 10:.1f}")

        h2_floor = _H2Floor(self.urls["2"], auth)
        self.floors.append(h2_floor)
        _expect(FLOOR_H2, h2_floor.first_status, "HTTP/2")

        for kind, workers in SCENARIOS:
            if kind == "sync" and workers == 1:
                out.append(Variant(FLOOR, kind, workers, floor))
                out.append(Variant(FLOOR_H2, kind, workers, h2_floor.get))
            for row in ROWS:
                if row not in FLOORS:
                    out.append(Variant(row, kind, workers, self._call(row, kind, auth)))
        return out

    def _call(
        self, row: Row, kind: Kind, auth: dict[str, str]
    ) -> Callable[[], object] | Callable[[], Awaitable[object]]:
        url = f"{self.urls[row.protocol]}/v1{PATH}?n="
        h2 = row.protocol == "2"
        if row in (RAW, RAW_JSON, RAW_H2):
            parse = row is RAW_JSON
            if kind == "sync":
                raw = httpx.Client(http1=not h2, http2=h2, headers=auth)
                self.sync.append(raw)
                first = raw.get(f"{url}{_unique()}")
                _expect(row, first.status_code, first.http_version)

                def raw_get() -> object:
                    response = raw.get(f"{url}{_unique()}")
                    return response.json() if parse else response.content

                return raw_get
            araw = httpx.AsyncClient(http1=not h2, http2=h2, headers=auth)
            self.async_.append(araw)
            afirst = self.loop.run_until_complete(araw.get(f"{url}{_unique()}"))
            _expect(row, afirst.status_code, afirst.http_version)

            async def araw_get() -> object:
                response = await araw.get(f"{url}{_unique()}")
                return response.json() if parse else response.content

            return araw_get

        config = self.ours_config(row.protocol)
        if row is PROD_HTTPCORE:
            config = config.evolve(native_http1=False)
        if row is PROD_H2_HTTPCORE:
            config = config.evolve(native_http2=False)
        empty = row in (EMPTY, EMPTY_H2)
        stack = Stack() if empty else None
        headers = auth if empty else None  # the empty stack has no headers middleware
        if kind == "sync":
            ours = SonioxClient(config=config, stack=stack)
            self.sync.append(ours)
            response = ours.request("GET", PATH, params={"n": _unique()}, headers=headers)
            _expect(row, response.status, response.http_version)
            if row is PROD:
                self.stack_repr = repr(ours.stack)
            if row is PROD_TYPED:

                def typed() -> object:
                    with ours.stack.operation("models.list"):  # as Models.list() runs it
                        return ours.run(_models_typed(ours, _unique()))

                return typed
            return lambda: (
                ours.request("GET", PATH, params={"n": _unique()}, headers=headers).content
            )
        aours = AsyncSonioxClient(config=config, stack=stack)
        self.async_.append(aours)
        aresponse = self.loop.run_until_complete(
            aours.request("GET", PATH, params={"n": _unique()}, headers=headers)
        )
        _expect(row, aresponse.status, aresponse.http_version)
        if row is PROD_TYPED:

            async def atyped() -> object:
                with aours.stack.operation("models.list"):  # as AsyncModels.list() runs it
                    return await aours.arun(_models_typed(aours, _unique()))

            return atyped

        async def aget() -> object:
            return (
                await aours.request("GET", PATH, params={"n": _unique()}, headers=headers)
            ).content

        return aget

    def close(self) -> None:
        for conn in self.floors:
            conn.close()
        for client in self.sync:
            client.close()
        for aclient in self.async_:
            self.loop.run_until_complete(aclient.aclose())


# --- running a round ---------------------------------------------------------------------------


class Runner:
    """Runs ``requests`` calls of a variant: in this thread, on 100 threads, or as tasks."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="bench-worker")

    def run(self, v: Variant, requests: int, errors: list[Exception]) -> tuple[float, float]:
        """Run the calls; (CPU µs per request, requests per second); failures go to
        ``errors``."""
        per_worker = max(1, requests // v.workers)
        total = per_worker * v.workers
        c0, t0 = time.process_time(), time.perf_counter()
        if v.kind == "sync":
            call = cast("Callable[[], object]", v.call)
            if v.workers == 1:
                _repeat(call, total, errors)
            else:
                done, _ = wait(
                    [self.pool.submit(_repeat, call, per_worker, errors) for _ in range(v.workers)]
                )
                for future in done:
                    future.result()
        else:
            acall = cast("Callable[[], Awaitable[object]]", v.call)
            self.loop.run_until_complete(_arepeat_all(acall, v.workers, per_worker, errors))
        t1, c1 = time.perf_counter(), time.process_time()
        return (c1 - c0) / total * 1e6, total / (t1 - t0)

    def close(self) -> None:
        self.pool.shutdown()


def _repeat(call: Callable[[], object], times: int, errors: list[Exception]) -> None:
    for _ in range(times):
        try:
            call()
        except Exception as exc:  # counted; the load goes on
            errors.append(exc)


async def _arepeat_all(
    call: Callable[[], Awaitable[object]], workers: int, times: int, errors: list[Exception]
) -> None:
    async def worker() -> None:
        for _ in range(times):
            try:
                await call()
            except Exception as exc:  # counted; the load goes on
                errors.append(exc)

    await asyncio.gather(*[worker() for _ in range(workers)])


def measure(
    variants: list[Variant], runner: Runner, rounds: int, sequential: int, concurrent: int
) -> None:
    """Warm every variant up, then ``rounds`` interleaved rounds (order rotated each round)."""
    for v in variants:
        runner.run(v, sequential if v.workers == 1 else concurrent, v.errors)
    gc.collect()
    for r in range(rounds):
        shift = r % len(variants)
        for v in variants[shift:] + variants[:shift]:
            cpu, rate = runner.run(v, sequential if v.workers == 1 else concurrent, v.errors)
            v.cpu_us.append(cpu)
            v.rate.append(rate)


# --- reporting ---------------------------------------------------------------------------------


def _scenario_header(kind: Kind, workers: int) -> str:
    if workers == 1:
        return f"{kind}, 1 at a time"
    unit = "threads" if kind == "sync" else "tasks"
    return f"{kind}, {workers} concurrent ({unit})"


def tables(variants: list[Variant]) -> tuple[str, str, dict[tuple[Kind, int, Protocol], float]]:
    """The CPU table, the throughput table, and the production stack's ratios."""
    cell = {(v.row, v.kind, v.workers): v for v in variants}
    ratios: dict[tuple[Kind, int, Protocol], float] = {}
    cpu_rows: list[list[str]] = []
    rate_rows: list[list[str]] = []
    for row in ROWS:
        label = f"{row.label}, HTTP/{row.protocol}"
        cpu_cells = [label]
        rate_cells = [label]
        for kind, workers in SCENARIOS:
            v = cell.get((row, kind, workers))
            if v is None:
                cpu_cells.append("—")
                rate_cells.append("—")
                continue
            base = median(cell[(reference(row), kind, workers)].cpu_us)
            if row in FLOORS:
                base = median(cell[(reference(row), kind, workers)].cpu_us)
            mine = median(v.cpu_us)
            ratio = mine / base
            if row in (PROD, PROD_H2):
                ratios[(kind, workers, row.protocol)] = ratio
            mark = f"**{ratio:.2f}x**" if row in (PROD, PROD_H2) else f"{ratio:.2f}x"
            failed = f", {len(v.errors)} failed" if v.errors else ""
            cpu_cells.append(f"{mine:.0f} ({mark}{failed})")
            rate_cells.append(f"{median(v.rate):.0f}")
        cpu_rows.append(cpu_cells)
        rate_rows.append(rate_cells)
    headers = ["client (GET /v1/models, unique URLs)"] + [
        _scenario_header(k, w) for k, w in SCENARIOS
    ]
    cpu_table = table(
        [h if i == 0 else h + ": CPU µs/req (vs raw httpx)" for i, h in enumerate(headers)],
        cpu_rows,
    )
    rate_table = table([h if i == 0 else h + ": req/s" for i, h in enumerate(headers)], rate_rows)
    return cpu_table, rate_table, ratios


def _failures(variants: list[Variant]) -> str:
    """A paragraph naming the cells whose calls failed (warm-up included), or nothing."""
    notes: list[str] = []
    for v in variants:
        if v.errors:
            kinds = sorted({f"{type(e).__name__}: {str(e)[:80]}" for e in v.errors})
            where = f"{v.row.label}, HTTP/{v.row.protocol}, {_scenario_header(v.kind, v.workers)}"
            notes.append(f"{where}: {len(v.errors)} calls failed ({'; '.join(kinds[:2])})")
    if not notes:
        return ""
    return "Failed calls (counted, not retried by the benchmark): " + ". ".join(notes) + ".\n\n"


def verdict(ratios: dict[tuple[Kind, int, Protocol], float]) -> str:
    """Met or not, per protocol, with the worst scenario of each."""
    parts: list[str] = []
    for protocol in ("1.1", "2"):
        mine = {k: r for k, r in ratios.items() if k[2] == protocol}
        if not mine:
            continue
        worst_key = max(mine, key=lambda k: mine[k])
        kind, workers, _ = worst_key
        misses = [k for k, r in mine.items() if r > TARGET]
        where = _scenario_header(kind, workers)
        state = (
            "**met** in every scenario"
            if not misses
            else f"**not met** in {len(misses)} of {len(mine)} scenarios"
        )
        parts.append(f"HTTP/{protocol} {state} (worst: {mine[worst_key]:.2f}x, {where})")
    return "; ".join(parts)


# --- profile -----------------------------------------------------------------------------------


def profile(urls: dict[Protocol, str], config: SonioxConfig, scenario: str, requests: int) -> None:
    """cProfile of the production stack over HTTP/1.1: ``sync`` one request at a time, or
    ``async`` with 100 concurrent tasks. Prints self time by package, the top functions, and
    the hottest of src/soniox."""
    config = config.evolve(base_url=urls["1.1"] + "/v1")
    # The default (wall) clock: a CPU clock costs a system call per event and inflates every
    # small function. So socket calls include waiting for the server; call counts are exact.
    # For CPU attribution use a sampler, e.g. ``py-spy record --gil``.
    prof = cProfile.Profile()
    failed: list[Exception] = []
    c0 = time.process_time()
    if scenario == "sync":
        with SonioxClient(config=config) as client:
            print(f"stack: {client.stack!r}")
            for _ in range(200):
                _ = client.request("GET", PATH, params={"n": _unique()}).content
            c0 = time.process_time()
            prof.enable()
            for _ in range(requests):
                _ = client.request("GET", PATH, params={"n": _unique()}).content
            prof.disable()
    else:

        async def run() -> float:
            async with AsyncSonioxClient(config=config) as client:
                print(f"stack: {client.stack!r}")

                async def get() -> object:
                    return (await client.request("GET", PATH, params={"n": _unique()})).content

                await _arepeat_all(get, WORKERS, 5, failed)
                start = time.process_time()
                prof.enable()
                await _arepeat_all(get, WORKERS, max(1, requests // WORKERS), failed)
                prof.disable()
                return start

        c0 = asyncio.run(run())
    if failed:
        print(f"{len(failed)} calls failed, first: {failed[0]!r}")
    cpu_us = (time.process_time() - c0) / requests * 1e6
    print(f"{requests} requests ({scenario}), {cpu_us:.0f} CPU µs/req under cProfile\n")
    stats = pstats.Stats(prof)
    raw_stats = cast("dict[tuple[str, int, str], tuple[Any, ...]]", vars(stats)["stats"])
    by_package: dict[str, float] = {}
    for (filename, _line, _name), entry in raw_stats.items():
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + float(entry[2])
    total = sum(by_package.values())
    print(
        table(
            ["self time in", "share", "µs/req (profiled)"],
            [
                [name, f"{t / total:.0%}", f"{t / requests * 1e6:.0f}"]
                for name, t in sorted(by_package.items(), key=lambda kv: -kv[1])
            ],
        )
    )
    print()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("tottime").print_stats("src/soniox", 25)


def _package(filename: str) -> str:
    """Where a profiled function lives: src/soniox, a site-package, the stdlib or C."""
    if filename == "~":
        return "C functions (socket calls, built-in methods)"
    if "/src/soniox/" in filename:
        return "src/soniox"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    return "stdlib (Python)"


# --- main ----------------------------------------------------------------------------------------


@dataclass
class Servers:
    h1: FastServer
    h2: FastServer

    def urls(self) -> dict[Protocol, str]:
        return {"1.1": str(self.h1.info["url"]), "2": str(self.h2.info["url"])}

    def __iter__(self) -> Iterator[FastServer]:
        return iter((self.h1, self.h2))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few, short rounds")
    parser.add_argument(
        "--record", action="store_true", help="write the section of docs/performance.md"
    )
    parser.add_argument(
        "--middleware",
        help="comma-separated middleware names for the 'production stack' rows "
        "(default: what SonioxConfig.production() builds)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="sync",
        choices=("sync", "async"),
        help="only profile the production stack (HTTP/1.1): sync one at a time (default), or "
        "async 100 concurrent",
    )
    args = parser.parse_args()
    if args.record and (args.quick or args.middleware or args.profile):
        parser.error("--record needs a full run of the production profile")
    rounds, sequential, concurrent = (3, 100, 200) if args.quick else (7, 300, 600)

    config = SonioxConfig.production(api_key=API_KEY)
    if args.middleware:
        config = config.evolve(
            middleware=tuple(n.strip() for n in args.middleware.split(",") if n.strip())
        )

    timeout_s = 600.0
    with (
        FastServer(http="1", timeout_s=timeout_s) as h1,
        FastServer(http="2", timeout_s=timeout_s) as h2,
    ):
        servers = Servers(h1, h2)
        if args.profile:
            profile(servers.urls(), config, args.profile, 500 if args.quick else 3000)
            return
        load_before = os.getloadavg()[0]
        loop = asyncio.new_event_loop()
        clients = Clients(servers.urls(), config, loop)
        runner = Runner(loop)
        try:
            variants = clients.variants()
            t0 = time.perf_counter()
            measure(variants, runner, rounds, sequential, concurrent)
            elapsed = time.perf_counter() - t0
        finally:
            clients.close()
            runner.close()
            loop.close()
        server_names = f"{h1.server}; {h2.server}"

    cpu_table, rate_table, ratios = tables(variants)
    failures = _failures(variants)
    stack = clients.stack_repr or "?"
    env = (
        f"Python {platform.python_version()}, httpx {httpx.__version__}, "
        f"httpcore {_version('httpcore')}, h2 {_version('h2')}; server: {server_names}, "
        f"each in its own process, loopback; client: this process, default asyncio loop; "
        f"{rounds} interleaved rounds after a warm-up, each of {sequential} requests "
        f"(one at a time) or {concurrent} ({WORKERS} workers); median of rounds; "
        f"{elapsed:.0f} s in all; load average (1 min) {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after; "
        f"x86_64, 2 cores shared with the server."
    )
    body = (
        "Measured by `python benchmarks/bench_client_cost.py` (all cells from one run) against "
        "`benchmarks/fast_server.py`, which answers from canned bytes, so the client's own CPU "
        "is what is measured (the emulator, at ~1,000 req/s, bounds the concurrency rows of "
        '"Transport overhead"). *CPU µs/req* is the client process\'s CPU time '
        "(`time.process_time()`, all its threads) per request; the ratio is to raw httpx of the "
        "same kind (`httpx.Client` for sync, `httpx.AsyncClient` for async), scenario and "
        "protocol. Sync concurrency is 100 threads sharing one client, async 100 tasks; every "
        "URL carries a unique `?n=` so the stack's cache and in-flight de-duplication cannot "
        "answer without the server (each call is a miss that goes out).\n\n"
        f"Production stack: `{stack}`.\n\n"
        f"Target: production stack <= {TARGET}x raw httpx CPU per request in every scenario, "
        f"HTTP/1.1 and HTTP/2: {verdict(ratios)}.\n\n"
        f"{cpu_table}\n\n{failures}"
        "Why HTTP/1.1 is cheap: it rides the SDK's own lane (`transport/h1.py`: blocking sockets "
        "or an asyncio protocol, llhttp through `httptools`), so a request's transport work is "
        "close to the `http.client` floor (the empty-stack row) and the middleware decide the "
        'rest — about twice their in-memory cost ("Middleware cost"): the same code, run '
        "between socket calls with the server on the same two cores (colder CPU caches, we "
        "think), and a cache that fills to its byte bound with every unique URL and evicts; "
        "the `native_http1=False` row is "
        "the same stack on httpcore + h11, the engine raw httpx uses. HTTP/2 rides the SDK's own "
        "lane too (`transport/h2.py` over the sans-IO `transport/h2_protocol.py`: frames read "
        "with one `struct` call, request header blocks encoded without HPACK's dynamic table "
        "and so remembered field by field, the server's blocks decoded by `hpack`): the "
        "empty-stack row costs less than the `h2` floor row — `h2`'s state machine alone on a "
        "bare socket, what httpcore, and so raw httpx, pay at least; the `native_http2=False` "
        "row is the same stack on httpcore + h2.\n\n"
        f"Throughput (wall, for reference):\n\n{rate_table}\n\n{env}"
    )
    print(body)
    if args.record:
        record_section("performance.md", "Client cost (fast server)", body)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()
