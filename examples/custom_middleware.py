"""Write your own middleware, register it by name, and put it in a config's stack.

    python examples/custom_middleware.py          # against a local emulator
    SONIOX_API_KEY=... python examples/custom_middleware.py

``Timing`` is an *around* middleware: a generator that sees the request, hands it on with
``yield from call_next(request)`` and sees the outcome. Written once, it runs under the blocking
and the asyncio client alike. Registered under a name, a config can list it like a built-in.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _connect import add_connection_args, async_soniox_client, soniox_client

from soniox import SonioxConfig
from soniox.middleware import CallNext, Flow, register_middleware
from soniox.transport import Request, Response


class Timing:
    """Records how long each attempt took and what it answered (innermost: per attempt)."""

    name = "timing"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, float]] = []

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        started = time.perf_counter()
        response = yield from call_next(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.seen.append((request.method, request.url.path, response.status, elapsed_ms))
        return response

    def __repr__(self) -> str:
        return f"Timing({len(self.seen)} attempts seen)"


@register_middleware("timing")
def make_timing(config: SonioxConfig) -> Timing:
    """The factory a config's ``middleware=(..., "timing")`` calls when a client is built."""
    return Timing()


def report(stack_text: str, timing: object) -> None:
    print(stack_text)
    assert isinstance(timing, Timing)
    for method, path, status, ms in timing.seen:
        print(f"{method} {path} -> {status} in {ms:.1f} ms")


async def run_async(args: argparse.Namespace, config: SonioxConfig) -> None:
    async with async_soniox_client(args.api_key, args.base_url, config=config) as client:
        await client.models.list()
        report(f"async: {client.stack!r}", client.stack["timing"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()
    config = SonioxConfig.production(middleware=("headers", "retry", "timing", "logging"))
    with soniox_client(args.api_key, args.base_url, config=config) as client:
        client.models.list()
        client.files.list(limit=5)
        report(str(client.stack), client.stack["timing"])
    asyncio.run(run_async(args, config))


if __name__ == "__main__":
    main()
