"""Rate-limit accuracy: 50 requests/s configured, offered far more, for 20 s, against the emulator.

A client whose stack is ``headers → rate_limit → logging`` (``rate_limit_per_second=50``,
``rate_limit_burst=5``) is driven by 8 threads (``SonioxClient``) or 8 tasks
(``AsyncSonioxClient``) calling ``models.list()`` back to back — far more than the limit lets
through. Each worker first makes one warm-up call (so connections are open), then the bucket is
left to refill, and the measured phase runs for 20 s. The emulator runs in its own process.

- achieved rate: on the emulator's journal (server-side start times), the requests after the
  first ``burst`` over the time they took (``(N - burst) / (t_last - t_first)``; exact pacing
  gives the configured rate);
- the token-bucket envelope: the most requests in any interval ``[t_i, t_j]`` beyond
  ``rate * (t_j - t_i)`` — a limiter that never exceeds its burst keeps it <= ``burst``. Client
  side (when each attempt left the stack for the transport: the limiter's own output) and
  server side (loopback and scheduling jitter added);
- the most requests the server saw in any 1 s window (<= rate + burst).

Run:

    python benchmarks/bench_rate_limit.py            # ~50 s
    python benchmarks/bench_rate_limit.py --quick    # 3 s per client kind (a smoke run)

Results are printed as markdown and recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import attrs
from _util import record_section, table

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.transport import Request

RATE = 50.0
BURST = 5
WORKERS = 8
PATH = "/v1/models"


def config_for(emulator: Emulator) -> SonioxConfig:
    return SonioxConfig.production(
        api_key=emulator.api_key,
        base_url=emulator.rest_base_url,
        middleware=("headers", "rate_limit", "logging"),
        rate_limit_per_second=RATE,
        rate_limit_burst=BURST,
    )


class SendTimes:
    """The innermost layer: when each attempt left the stack for the transport."""

    name = "send_times"

    def __init__(self, emulator: Emulator, seconds: float) -> None:
        self.emulator = emulator
        self.seconds = seconds
        self.times: list[float] = []
        self.stop = 0.0

    def on_request(self, request: Request) -> Request:
        self.times.append(time.monotonic())
        return request

    def start_measuring(self) -> None:
        """After the warm-up: let the bucket refill, forget the warm-up, set the end."""
        time.sleep(2 * BURST / RATE)
        self.emulator.journal.clear()
        self.times.clear()
        self.stop = time.monotonic() + self.seconds


def drive_sync(config: SonioxConfig, sent: SendTimes) -> None:
    """8 threads of one ``SonioxClient``: a warm-up call each, then back to back."""
    with SonioxClient(config=config) as client:
        client.stack.append(sent)
        barrier = threading.Barrier(WORKERS, action=sent.start_measuring)

        def worker() -> None:
            client.models.list()
            barrier.wait()
            while time.monotonic() < sent.stop:
                client.models.list()

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def drive_async(config: SonioxConfig, sent: SendTimes) -> None:
    """8 tasks of one ``AsyncSonioxClient``: a warm-up call each, then back to back."""

    async def run() -> None:
        async with AsyncSonioxClient(config=config) as client:
            client.stack.append(sent)
            await asyncio.gather(*(client.models.list() for _ in range(WORKERS)))
            sent.start_measuring()

            async def worker() -> None:
                while time.monotonic() < sent.stop:
                    await client.models.list()

            await asyncio.gather(*(worker() for _ in range(WORKERS)))

    asyncio.run(run())


@attrs.frozen
class Accuracy:
    requests: int
    span_s: float
    achieved: float
    envelope: float
    max_per_second: int


def accuracy(starts: Sequence[float]) -> Accuracy:
    times = sorted(starts)
    n = len(times)
    span = times[-1] - times[0]
    achieved = (n - BURST) / span
    # Most requests in any [t_i, t_j] beyond rate * (t_j - t_i): the max over j of
    # (j + 1 - rate * t_j) - min over i <= j of (i - rate * t_i).
    envelope, lowest = 0.0, float("inf")
    for j, t in enumerate(times):
        lowest = min(lowest, j - RATE * t)
        envelope = max(envelope, (j + 1 - RATE * t) - lowest)
    most, i = 0, 0
    for j, t in enumerate(times):
        while t - times[i] >= 1.0:
            i += 1
        most = max(most, j - i + 1)
    return Accuracy(n, span, achieved, envelope, most)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds

    drivers: tuple[tuple[str, Callable[[SonioxConfig, SendTimes], None]], ...] = (
        ("SonioxClient, 8 threads", drive_sync),
        ("AsyncSonioxClient, 8 tasks", drive_async),
    )
    rows: list[list[object]] = []
    worst = worst_envelope = 0.0
    for kind, drive in drivers:
        with Emulator(mode="subprocess") as emulator:
            sent = SendTimes(emulator, seconds)
            drive(config_for(emulator), sent)
            starts = [e.started_at for e in emulator.journal.entries(path=PATH)]
        server, client = accuracy(starts), accuracy(sent.times)
        error = (server.achieved - RATE) / RATE * 100
        worst = max(worst, abs(error))
        worst_envelope = max(worst_envelope, client.envelope)
        rows.append(
            [
                kind,
                f"{server.requests} in {server.span_s:.2f} s",
                f"{server.achieved:.2f}/s ({error:+.2f} %)",
                f"{client.envelope:.2f}",
                f"{server.envelope:.2f}",
                f"{server.max_per_second}",
            ]
        )
    headers = [
        "client",
        "requests at the server",
        "achieved rate (server side)",
        f"most beyond rate·t, client side (burst {BURST})",
        "same, server side",
        f"most in any 1 s, server side (rate + burst = {RATE + BURST:g})",
    ]
    text = table(headers, rows)
    print(text)
    print(f"\nworst deviation from {RATE:g}/s: {worst:.2f} % (target: within ±2 %)")
    print(f"largest client-side envelope: {worst_envelope:.2f} (burst {BURST})")
    if args.quick:
        return
    body = f"""`python benchmarks/bench_rate_limit.py` — a client configured with
`rate_limit_per_second={RATE:g}`, `rate_limit_burst={BURST}` (stack `headers → rate_limit →
logging`), {WORKERS} threads or tasks calling `models.list()` back to back — far more than the
limit lets through — for {seconds:g} s, after a warm-up call each (connections open) and a
pause (the bucket full), against the emulator in its own process. Achieved rate: on the
emulator's journal (server-side start times), the requests after the first burst over the
time they took. "Most beyond rate·t": the token-bucket envelope — the most requests in any
interval beyond rate * its length; a limiter that never exceeds its burst keeps it <= {BURST}.
Client side = when each attempt left the stack for the transport (the limiter's own output);
server side = when the emulator saw it (loopback and scheduling jitter added).

{text}

Worst deviation from the configured rate: {worst:.2f} % (target ±2 %); the limiter's own output
never goes beyond its burst (client side <= {BURST}). Server side a little more can show: a
request delayed in transit followed by one on time looks, to the server, like part of a request
early — loopback and scheduling jitter, not the limiter. The limiter takes each token when it is
asked and sleeps until it is due on the transport clock, so concurrent callers queue in order
and a late wake-up of one does not shift the others' turns."""
    record_section("performance.md", "Rate-limit accuracy: 50 requests/s for 20 s", body)


if __name__ == "__main__":
    main()
