"""Running a scenario against a fresh HttpcoreTransport, through its sync ``send`` or its
``asend``: what the native-lane tests (HTTP/1.1 and HTTP/2) share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from soniox.transport import HttpcoreTransport, Request, Timeout
from soniox.transport.response import Response

T = TypeVar("T")
Send = Callable[[Request], Awaitable[Response]]
LIMITS = Timeout(connect=2.0, read=2.0, write=2.0, pool=2.0)


def run(
    mode: str,
    scenario: Callable[[HttpcoreTransport, Send], Awaitable[T]],
    timeout: Timeout = LIMITS,
    **options: Any,
) -> T:
    """Run ``scenario`` with a fresh transport whose ``send`` is the sync one (blocking the
    loop, which only sleeps meanwhile) or ``asend``; the transport is closed after."""
    transport = HttpcoreTransport(timeout=timeout, **options)

    async def send_sync(request: Request) -> Response:
        return transport.send(request)

    async def main() -> T:
        try:
            return await scenario(transport, transport.asend if mode == "async" else send_sync)
        finally:
            await transport.aclose()

    return asyncio.run(main())


async def read_body(mode: str, response: Response) -> bytes:
    """A streamed body, read chunk by chunk the way ``mode`` does."""
    if mode == "async":
        return b"".join([chunk async for chunk in response.aiter_bytes()])
    return b"".join(response.iter_bytes())
