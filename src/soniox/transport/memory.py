"""A transport backed by a Python function: unit tests of one middleware need no sockets.

The handler receives each :class:`Request` and returns a :class:`Reply` (or a ready
:class:`Response`), or raises — typically a :class:`~soniox.errors.TransportError` subclass to
play a network failure. With a :class:`~soniox.transport.base.FakeClock` a whole retry schedule
runs instantly, and ``requests`` records what was sent.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeAlias

import attrs

from .base import Clock, FakeClock, attempt_timeout, timeout_error
from .request import Headers, Request, StreamBody, Timeout
from .response import Response

__all__ = ["Reply", "Handler", "InMemoryTransport"]


@attrs.frozen
class Reply:
    """What a handler answers: a status, headers and a body (``json_body`` is encoded)."""

    status: int = 200
    headers: Headers = attrs.field(default=Headers(), converter=Headers.of)
    content: bytes = b""
    json_body: Any = None
    latency: float = 0.0
    """Seconds the answer takes, on the transport clock."""


Outcome: TypeAlias = "Reply | Response | BaseException"
Handler: TypeAlias = "Callable[[Request], Reply | Response | Awaitable[Reply | Response]]"


class InMemoryTransport:
    """Answers requests by calling ``handler``; records every request in ``requests``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        clock: Clock | None = None,
        default_timeout: Timeout | None = None,
    ) -> None:
        self._handler: Handler = handler or (lambda _request: Reply(200))
        self._clock: Clock = clock if clock is not None else FakeClock()
        self._timeout = default_timeout or Timeout()
        self.requests: list[Request] = []
        self.bodies: list[bytes | None] = []
        self.closed = False

    @classmethod
    def sequence(
        cls, outcomes: Iterable[Outcome], *, clock: Clock | None = None
    ) -> InMemoryTransport:
        """A transport answering with ``outcomes`` in order (exceptions are raised); the last
        outcome repeats once the list runs out."""
        items: Sequence[Outcome] = list(outcomes)
        if not items:
            raise ValueError("InMemoryTransport.sequence needs at least one outcome")
        index = [0]

        def _handler(_request: Request) -> Reply | Response:
            outcome = items[min(index[0], len(items) - 1)]
            index[0] += 1
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return cls(_handler, clock=clock)

    @property
    def clock(self) -> Clock:
        return self._clock

    def _prepare(self, request: Request) -> tuple[Timeout, Timeout]:
        limits = attempt_timeout(request, self._timeout, self._clock)
        self.requests.append(request)
        return limits

    def _elapse(
        self, request: Request, result: Reply | Response, limits: tuple[Timeout, Timeout]
    ) -> None:
        """Play the reply's latency on the clock; past the read timeout it becomes a timeout."""
        latency = result.latency if isinstance(result, Reply) else 0.0
        if not latency:
            return
        limit = limits[0].read
        waited = latency if limit is None else min(latency, limit)
        if isinstance(self._clock, FakeClock):
            self._clock.advance(waited)
        else:
            self._clock.sleep(waited)
        if limit is not None and latency > limit:
            raise timeout_error(request, "read", limits)

    def _finish(self, request: Request, result: Reply | Response, started: float) -> Response:
        if isinstance(result, Response):
            return result
        response = Response.build(
            result.status,
            request,
            headers=result.headers,
            content=result.content,
            json_body=result.json_body,
        )
        response.elapsed = self._clock.now() - started
        return response

    def send(self, request: Request) -> Response:
        limits = self._prepare(request)
        self.bodies.append(_read_body(request))
        started = self._clock.now()
        result = self._handler(request)
        if inspect.isawaitable(result):
            raise TypeError("this handler is async: use asend()")
        self._elapse(request, result, limits)
        return self._finish(request, result, started)

    async def asend(self, request: Request) -> Response:
        limits = self._prepare(request)
        self.bodies.append(await _aread_body(request))
        started = self._clock.now()
        result = self._handler(request)
        if inspect.isawaitable(result):
            result = await result
        self._elapse(request, result, limits)
        return self._finish(request, result, started)

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"InMemoryTransport(requests={len(self.requests)}, clock={self._clock!r})"


def _read_body(request: Request) -> bytes | None:
    body = request.body
    if not isinstance(body, StreamBody):
        return body
    chunks = body.open()
    if not isinstance(chunks, Iterable):
        raise TypeError("an async body cannot be sent with send(): use asend()")
    return b"".join(chunks)


async def _aread_body(request: Request) -> bytes | None:
    body = request.body
    if not isinstance(body, StreamBody):
        return body
    chunks = body.open()
    if isinstance(chunks, Iterable):
        return b"".join(chunks)
    return b"".join([chunk async for chunk in chunks])
