"""Client-side rate limit, concurrency cap and retry budget: three knobs of a config, at work.

    python examples/rate_limit_and_budget.py          # against a local emulator
    SONIOX_API_KEY=... python examples/rate_limit_and_budget.py

1. Rate limit, 5 requests/s with a burst of 2: eight model listings go two at once, then one
   every 0.2 s — whichever thread, task or ``with_options`` view makes them.
2. Deadline-aware: a call whose turn would come after its deadline fails at once with
   ``RateLimitWaitError``, which says how long it would have had to wait.
3. Concurrency cap of 2: six listings started together never have more than two in flight.
4. Retry budget (always against a local emulator scripted to fail, since the real API does not
   fail on request): a budget of 15 pays for three retries; then a failure surfaces at once,
   marked ``retry_budget_exhausted``, and the next call is not retried at all.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

from _connect import add_connection_args, async_soniox_client, soniox_client

from soniox import SonioxClient, SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import RateLimitWaitError, ServiceUnavailableError
from soniox.middleware import CallNext, Flow
from soniox.transport import Request, Response

LIMITS = SonioxConfig.production(
    middleware=("headers", "retry", "concurrency", "rate_limit", "logging"),
    rate_limit_per_second=5.0,
    rate_limit_burst=2,
    max_concurrent_calls=2,
)


class InFlight:
    """Counts the attempts between the stack and the transport, and keeps the peak."""

    name = "in_flight"

    def __init__(self) -> None:
        self.now = self.peak = 0

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return (yield from call_next(request))
        finally:
            self.now -= 1


def rate_limit(client: SonioxClient) -> None:
    sent: list[float] = []
    for _ in range(8):
        client.models.list()
        sent.append(time.monotonic())
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    spaced = sum(gaps[1:]) / len(gaps[1:])
    print(f"rate limit: 8 calls, the first 2 at once, then one every {spaced:.1f} s")


def deadline(client: SonioxClient) -> None:
    started = time.monotonic()
    try:
        client.with_options(deadline=0.1).models.list()
    except RateLimitWaitError as error:
        took = time.monotonic() - started
        print(
            f"deadline: {type(error).__name__} after {took:.2f} s — it would have waited "
            f"{error.wait:.2f} s for the {error.limit!r} limit"
        )


async def concurrency(args: argparse.Namespace) -> None:
    async with async_soniox_client(args.api_key, args.base_url, config=LIMITS) as client:
        counter = InFlight()
        client.stack.append(counter)
        await asyncio.gather(*(client.models.list() for _ in range(6)))
        print(f"concurrency: 6 calls started together, at most {counter.peak} in flight")


def budget() -> None:
    with Emulator() as emulator:
        emulator.faults.fail("/v1/models", status=503, times=None)  # down until further notice
        config = SonioxConfig.testing(
            api_key=emulator.api_key,
            base_url=emulator.rest_base_url,
            max_retries=10,
            retry_budget=15,
        )
        with SonioxClient(config=config) as client:
            for call in ("first call", "next call"):
                before = len(emulator.journal.entries(path="/v1/models"))
                try:
                    client.models.list()
                except ServiceUnavailableError as error:
                    sent = len(emulator.journal.entries(path="/v1/models")) - before
                    print(
                        f"budget: {call}: {type(error).__name__} after {sent} request(s), "
                        f"retry_budget_exhausted={error.retry_budget_exhausted}"
                    )
            emulator.faults.clear()
            client.models.list()
            retry = client.stack["retry"]
            print(f"budget: back up; a success pays one token back: {retry.budget_left()} left")  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()
    with soniox_client(args.api_key, args.base_url, config=LIMITS) as client:
        print(client.stack)
        rate_limit(client)
        deadline(client)
    asyncio.run(concurrency(args))
    budget()


if __name__ == "__main__":
    main()
