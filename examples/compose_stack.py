"""Compose your own stack: start from a profile, take families out, put yours in by position.

    python examples/compose_stack.py          # against a local emulator
    SONIOX_API_KEY=... python examples/compose_stack.py

1. What a profile assembles: ``print(client.stack)`` — nine named middleware, outermost first.
2. A stack named in the config: the production stack without ``cache``, with a registered
   ``stamp`` middleware placed just inside ``headers`` (every request carries a tag).
3. Edits at run time, by name and position: a counter just *outside* ``retry`` sees each call
   once, one just *inside* it sees every attempt. Against a local emulator told to answer one
   503 first, the call is counted once and its attempts twice — and ``client.metrics`` saw the
   same retry.
"""

from __future__ import annotations

import argparse

from _connect import add_connection_args, soniox_client

from soniox import SonioxClient, SonioxConfig
from soniox.config import PRODUCTION_STACK
from soniox.emulator import Emulator
from soniox.middleware import CallNext, Flow, register_middleware
from soniox.transport import Request, Response


class Counter:
    """Counts the requests that pass its position in the stack."""

    def __init__(self) -> None:
        self.count = 0

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        self.count += 1
        return (yield from call_next(request))

    def __repr__(self) -> str:
        return f"Counter({self.count})"


class Stamp:
    """Adds a header naming the job that made the request (here: a fixed tag)."""

    name = "stamp"

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        return (yield from call_next(request.with_header("x-job-tag", self.tag)))

    def __repr__(self) -> str:
        return f"Stamp({self.tag!r})"


@register_middleware("stamp")
def make_stamp(config: SonioxConfig) -> Stamp:
    """Called with the client's config when a client is built from a config naming "stamp"."""
    return Stamp("nightly-batch")


def placed(stack: tuple[str, ...], name: str, *, after: str) -> tuple[str, ...]:
    """``stack`` with ``name`` inserted just inside ``after``."""
    at = stack.index(after) + 1
    return (*stack[:at], name, *stack[at:])


def counted_retries() -> None:
    """Outside retry: one call. Inside: every attempt. (A local emulator answers one 503.)"""
    with Emulator() as emulator:
        emulator.faults.fail("/v1/models", status=503, times=1)
        config = SonioxConfig.production(
            api_key=emulator.api_key, base_url=emulator.rest_base_url, backoff_base=0.01
        )
        with SonioxClient(config=config) as client:
            calls, attempts = Counter(), Counter()
            client.stack.insert_before("retry", calls, name="calls")
            client.stack.insert_after("retry", attempts, name="attempts")
            print(repr(client.stack))
            client.models.list()
            print(f"calls seen outside retry: {calls.count}, attempts inside: {attempts.count}")
            snapshot = client.metrics.snapshot()
            print(f"metrics: {snapshot.calls} call, {snapshot.attempts} attempts")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()

    print(SonioxConfig.production().middleware)
    stack = placed(tuple(n for n in PRODUCTION_STACK if n != "cache"), "stamp", after="headers")
    config = SonioxConfig.production(middleware=stack)
    with soniox_client(args.api_key, args.base_url, config=config) as client:
        print(client.stack)
        client.models.list()
        client.models.list()  # no cache in this stack: asked twice
        print(f"listings sent: {client.metrics.snapshot().attempts}")
    counted_retries()


if __name__ == "__main__":
    main()
