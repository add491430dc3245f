"""The transport contract, and the clock it owns.

Whatever does I/O also owns time: ``now()``, ``sleep()`` and ``asleep()`` live on the transport's
:class:`Clock`, so a test that swaps in :class:`FakeClock` runs a whole retry schedule (backoff,
Retry-After, deadlines) in microseconds without real waiting.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable

import attrs

from soniox.errors import (
    ConnectTimeoutError,
    DeadlineExceededError,
    ReadTimeoutError,
    SonioxTimeoutError,
    WriteTimeoutError,
)

from .request import Request, Timeout
from .response import Response

__all__ = [
    "Clock",
    "SystemClock",
    "FakeClock",
    "Transport",
    "SYSTEM_CLOCK",
    "attempt_timeout",
    "timeout_error",
]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time for deadlines, wall time for HTTP dates, and the two ways to wait."""

    def now(self) -> float:
        """Monotonic seconds; deadlines are expressed on this scale."""
        ...

    def wall(self) -> float:
        """Unix time, to measure ``Retry-After: <HTTP-date>`` against."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Sleep ``seconds``, or less once ``event`` is set; True if it was (interruptible sleep)."""
        ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.sleep``, ``asyncio.sleep``."""

    __slots__ = ()

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


@attrs.define
class FakeClock:
    """A clock for tests: sleeping advances time instantly and is recorded in ``sleeps``."""

    start: float = 1_000.0
    wall_start: float = 1_700_000_000.0
    _now: float = attrs.field(init=False)
    sleeps: list[float] = attrs.field(factory=lambda: list[float](), init=False)

    def __attrs_post_init__(self) -> None:
        self._now = self.start

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self.wall_start + (self._now - self.start)

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep (simulated work or latency)."""
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Sleep (instantly, recorded) unless ``event`` is already set."""
        if not event.is_set():
            self.sleep(seconds)
        return event.is_set()

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)

    @property
    def slept(self) -> float:
        """Total seconds slept."""
        return sum(self.sleeps)


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns its response, sync or async; owns connections and time.

    Implementations raise :class:`~soniox.errors.TransportError` subclasses for failures below
    HTTP — :class:`~soniox.errors.RequestNotSentError` when the request certainly never reached
    the server, :class:`~soniox.errors.ResponseLostError` when it may have been processed — and
    return every HTTP status as a :class:`Response` (turning statuses into errors is the client's
    job, after the middleware have seen them).
    """

    @property
    def clock(self) -> Clock: ...

    def send(self, request: Request) -> Response: ...

    async def asend(self, request: Request) -> Response: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


def attempt_timeout(request: Request, default: Timeout, clock: Clock) -> tuple[Timeout, Timeout]:
    """``(limits for this attempt, limits before the deadline clamped them)``.

    The per-attempt timeout is clamped to what is left of the call's deadline; an attempt that
    would start with no time left raises :class:`~soniox.errors.DeadlineExceededError` without
    sending anything.
    """
    options = request.options
    timeout = options.timeout or default
    deadline = options.deadline
    if deadline is None:
        return timeout, timeout
    remaining = deadline - clock.now()
    if remaining <= 0:
        raise DeadlineExceededError(
            f"the call's deadline passed before attempt {request.attempt} of "
            f"{request.method} {request.path} could start"
        )
    return timeout.clamp(remaining), timeout


def timeout_error(
    request: Request, phase: str, limits: tuple[Timeout, Timeout]
) -> SonioxTimeoutError:
    """The error for a ``phase`` (connect/pool/read/write) that ran out of time.

    When the deadline clamped that phase's limit, the deadline is what ran out.
    """
    clamped, original = limits
    limit: float | None = getattr(clamped, phase)
    where = f"{request.method} {request.path} (attempt {request.attempt})"
    if limit != getattr(original, phase):
        return DeadlineExceededError(
            f"the call's deadline ran out during {phase}: {where}", timeout=limit
        )
    shown = "?" if limit is None else f"{limit:g}s"
    url = str(request.url)
    if phase in ("connect", "pool"):
        what = "waiting for a free connection" if phase == "pool" else "connecting"
        return ConnectTimeoutError(
            f"timed out {what} after {shown}: {where}",
            method=request.method,
            url=url,
            timeout=limit,
        )
    cls = WriteTimeoutError if phase == "write" else ReadTimeoutError
    return cls(
        f"{phase} timed out after {shown}: {where}", method=request.method, url=url, timeout=limit
    )
