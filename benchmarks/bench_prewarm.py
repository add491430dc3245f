"""Pre-warm: the first request's latency over loopback TLS, with and without pre-warmed connections.

The emulator runs in a subprocess with its TLS port (a generated certificate; the client trusts
its CA through ``verify=emu.ssl_context()``, one context for the whole run so that loading it is
not measured). Each round makes fresh clients and times, with ``time.perf_counter``, the first
``GET /v1/models`` of each:

* **cold**: nothing before it — the request pays TCP connect, the TLS handshake and the pool's
  set-up;
* **prewarm()**: ``client.prewarm()`` first (timed apart: what it costs at start-up), then the
  request, which finds an idle connection;
* **prewarm_connections=2**: the config knob, which starts pre-warming beside the first call
  (a thread): that call connects as a cold one does, the calls after it find the pool filled;

for HTTP/1.1 and HTTP/2 (ALPN), and the async client's cold vs ``aprewarm()`` (HTTP/1.1).
Cells are medians over rounds (milliseconds). Run ``python benchmarks/bench_prewarm.py``
(``--quick`` for a smoke run, which records nothing); results go to docs/performance.md,
"Pre-warm: first request over TLS".
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import ssl
import time
from collections.abc import Callable

from _util import median, record_section, table

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator

PATH = "/models"


def first_request(
    config: SonioxConfig, warm: Callable[[SonioxClient], object] | None
) -> tuple[float, float]:
    """(ms of the warm-up, ms of the first request) with a fresh client."""
    with SonioxClient(config=config) as client:
        t0 = time.perf_counter()
        if warm is not None:
            warm(client)
        t1 = time.perf_counter()
        client.request("GET", PATH).read()
        t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000


async def afirst_request(config: SonioxConfig, warm: bool) -> tuple[float, float]:
    async with AsyncSonioxClient(config=config) as client:
        t0 = time.perf_counter()
        if warm:
            await client.aprewarm()
        t1 = time.perf_counter()
        await (await client.request("GET", PATH)).aread()
        t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000


def measure(emu: Emulator, context: ssl.SSLContext, rounds: int) -> list[list[str]]:
    base = SonioxConfig.production(
        api_key=emu.api_key, base_url=emu.tls_rest_base_url, verify=context
    )
    cases: dict[str, Callable[[], tuple[float, float]]] = {}
    for http2 in (False, True):
        protocol = "HTTP/2" if http2 else "HTTP/1.1"
        config = base.evolve(http2=http2)
        cases[f"sync, {protocol}, cold"] = lambda c=config: first_request(c, None)
        cases[f"sync, {protocol}, prewarm() first"] = lambda c=config: first_request(
            c, SonioxClient.prewarm
        )
        cases[f"sync, {protocol}, prewarm_connections=2 (beside the first call)"] = (
            lambda c=config: first_request(c.evolve(prewarm_connections=2), None)
        )
    cases["async, HTTP/1.1, cold"] = lambda: asyncio.run(afirst_request(base, False))
    cases["async, HTTP/1.1, aprewarm() first"] = lambda: asyncio.run(afirst_request(base, True))

    for run in cases.values():  # warm up imports and the server
        for _ in range(3):
            run()
    warmups: dict[str, list[float]] = {label: [] for label in cases}
    firsts: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(rounds):
        for label, run in cases.items():
            warm, first = run()
            warmups[label].append(warm)
            firsts[label].append(first)

    rows: list[list[str]] = []
    cold: dict[str, float] = {}
    for label in cases:
        kind = label.rsplit(",", 1)[0]
        first = median(firsts[label])
        if label.endswith("cold"):
            cold[kind] = first
        base_ms = cold.get(kind, first)
        warm = median(warmups[label])
        rows.append(
            [
                label,
                f"{first:.2f}",
                f"{first / base_ms:.2f}x",
                f"{warm:.2f}" if warm >= 0.005 else "-",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    rounds = 5 if args.quick else 40
    with Emulator(mode="subprocess", tls=True) as emu:
        context = emu.ssl_context()
        rows = measure(emu, context, rounds)
    result = table(
        ["client, protocol, pre-warm", "first request ms", "vs cold", "pre-warm ms (before)"],
        rows,
    )
    env = (
        f"Python {platform.python_version()}, OpenSSL {ssl.OPENSSL_VERSION.split()[1]}, "
        f"{rounds} rounds (median), emulator in a subprocess, loopback TLS 1.3 (its TLS port)."
    )
    body = (
        "Measured by `python benchmarks/bench_prewarm.py`: the first `GET /v1/models` of a "
        "fresh client, in milliseconds.\n\n"
        f"{result}\n\n{env}\n\n"
        "A pre-warmed connection has done its TCP connect and TLS handshake (and the pool is "
        "made), so the first request costs what any request on a kept-alive connection costs. "
        "`prewarm()` itself takes about one cold connection's time plus a short listen for the "
        "server's TLS 1.3 session tickets (1.5x the handshake, at least 10 ms; without it "
        "httpcore would take the unread tickets for a server hang-up and drop the idle "
        "connection): call it at start-up, off the request path. `prewarm_connections=N` "
        "starts pre-warming beside the first call instead: that call is a cold one, the burst "
        "that follows finds N connections. Over a real network the handshake is one or two "
        "round trips, so the gain is that much larger than on loopback. (The client is given "
        "an `SSLContext` of its own here, so the HTTP/2 rows ride httpcore + h2: the native "
        "HTTP/2 lane steps aside for a context it cannot copy.)"
    )
    print(body)
    if not (args.quick or args.no_record):
        record_section("performance.md", "Pre-warm: first request over TLS", body)


if __name__ == "__main__":
    main()
