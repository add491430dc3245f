"""A cap on calls in flight: :class:`PermitPool`, the :class:`AcquirePermit` effect, and the
:class:`ConcurrencyLimit` middleware.

An attempt takes a permit before it goes on and gives it back however it ends — an answer, an
error, a cancellation, an interrupt, or its flow being closed (``finally``). With a free permit
and nobody queued the middleware takes it in place (a lock and a counter, no effect). Otherwise
it yields :class:`AcquirePermit`, the one blocking effect here, written for both drivers:

- sync (``run``): waits on a :class:`threading.Condition` through
  :func:`~soniox.middleware.cancel.interruptible_wait`, so a batch cancel
  (:class:`~soniox.middleware.cancel.CancelScope`) wakes it with ``FlowCancelled``;
- async (``arun``): awaits an :class:`asyncio.Future` on the caller's loop, so a task
  cancellation ends it.

Waiters queue first-come first-served; a released permit is handed to the first waiter
directly (it never returns to the pool in between, so a newcomer cannot overtake the queue).
One pool serves threads and event loops at once: a permit handed to a task on another loop
wakes it with ``call_soon_threadsafe``. A waiter that is cancelled or times out just as it is
handed a permit passes it on, so no permit is ever lost. The call's deadline bounds the wait
(:class:`~soniox.errors.DeadlineExceededError`); measured on real time, as any blocking wait.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import ClassVar

import attrs

from soniox.errors import ClientValidationError, DeadlineExceededError
from soniox.middleware.cancel import interruptible_wait
from soniox.middleware.engine import CallNext, Effect, Flow
from soniox.transport.base import Transport
from soniox.transport.request import Request
from soniox.transport.response import Response

__all__ = ["PermitPool", "AcquirePermit", "ConcurrencyLimit"]


class _Waiter:
    """One queued acquirer: a thread (``condition``) or a task (``future`` on ``loop``)."""

    __slots__ = ("condition", "future", "granted", "loop")

    def __init__(
        self,
        condition: threading.Condition | None = None,
        future: asyncio.Future[None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.condition = condition
        self.future = future
        self.loop = loop
        self.granted = False


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class PermitPool:
    """``limit`` permits for threads and tasks alike; FIFO hand-over (see the module doc)."""

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ClientValidationError(
                f"max_concurrent_calls must be a whole number >= 1, got {limit!r}",
                field="max_concurrent_calls",
            )
        self.limit = limit
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiters: collections.deque[_Waiter] = collections.deque()

    @property
    def in_use(self) -> int:
        """Permits held now."""
        return self._in_use

    @property
    def waiting(self) -> int:
        """Acquirers queued now."""
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a permit if one is free and nobody is queued before us."""
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return True
            return False

    def release(self) -> None:
        """Give a permit back: to the first waiter that can still take it, else to the pool."""
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.condition is not None:
                waiter.granted = True
                waiter.condition.notify()
                return
            assert waiter.future is not None
            assert waiter.loop is not None
            if waiter.future.done():  # cancelled, or its loop is gone: next one
                continue
            try:
                waiter.loop.call_soon_threadsafe(_resolve, waiter.future)
            except RuntimeError:  # its loop is closed: nobody will wake up there
                continue
            waiter.granted = True
            return
        self._in_use -= 1

    def _settle(self, waiter: _Waiter) -> bool:
        """After a wait ended early (cancel, timeout, interrupt; holding the lock): True if
        ``waiter`` got a permit meanwhile, else it leaves the queue."""
        if waiter.granted:
            return True
        self._waiters.remove(waiter)  # not granted, so still queued
        return False

    def acquire(self, timeout: float | None = None) -> None:
        """Block until a permit is ours (``timeout`` seconds at most: DeadlineExceededError);
        a cancel of the current scope raises ``FlowCancelled`` instead."""
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return
            waiter = _Waiter(condition=threading.Condition(self._lock))
            self._waiters.append(waiter)
            condition = waiter.condition
            assert condition is not None
            try:
                got = interruptible_wait(condition, lambda: waiter.granted, timeout)
            except BaseException:
                if self._settle(waiter):
                    self._release_locked()  # ours, but we are leaving: hand it on
                raise
            if not got and not self._settle(waiter):
                raise _timed_out(timeout)

    async def aacquire(self, within: float | None = None) -> None:
        """:meth:`acquire` for a task (``within`` seconds at most): a cancellation ends the
        wait and is re-raised."""
        with self._lock:
            if self._in_use < self.limit and not self._waiters:
                self._in_use += 1
                return
            loop = asyncio.get_running_loop()
            waiter = _Waiter(future=loop.create_future(), loop=loop)
            self._waiters.append(waiter)
        assert waiter.future is not None
        try:
            async with asyncio.timeout(within):
                await waiter.future
        except TimeoutError:
            with self._lock:
                if self._settle(waiter):
                    return
            raise _timed_out(within) from None
        except BaseException:
            with self._lock:
                if self._settle(waiter):
                    self._release_locked()
            raise

    def __repr__(self) -> str:
        return f"PermitPool({self._in_use}/{self.limit} in use, {len(self._waiters)} waiting)"


def _timed_out(timeout: float | None) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"the call's deadline ran out waiting for one of the client's concurrent-call permits "
        f"({timeout or 0:.3g}s)",
        timeout=timeout,
    )


@attrs.frozen
class AcquirePermit(Effect):
    """Take a permit of ``pool``, waiting until the call's ``deadline`` (on the transport clock)
    at most; the result is None."""

    pool: PermitPool = attrs.field(eq=False)
    deadline: float | None = None
    wait_reason: ClassVar[str] = "concurrency"
    """Observers (metrics, tracing) time this effect as a wait of this reason."""

    def _timeout(self, transport: Transport) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - transport.clock.now()
        if left <= 0:
            raise _timed_out(0.0)
        return left

    def run(self, transport: Transport) -> None:
        self.pool.acquire(self._timeout(transport))

    async def arun(self, transport: Transport) -> None:
        await self.pool.aacquire(self._timeout(transport))


class ConcurrencyLimit:
    """At most ``limit`` attempts in flight through this client at once (None: no cap).

    Inside ``retry`` it counts attempts, so a call sleeping between retries holds no permit. The
    permit is given back when the stack returns the answer (a streamed body still being read
    does not hold it).
    """

    name = "concurrency"

    def __init__(self, limit: int | None = None) -> None:
        self.pool: PermitPool | None = None if limit is None else PermitPool(limit)

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        pool = self.pool
        if pool is None:
            return call_next(request)
        return self._limited(pool, request, call_next)

    @staticmethod
    def _limited(pool: PermitPool, request: Request, call_next: CallNext) -> Flow[Response]:
        if not pool.try_acquire():
            yield AcquirePermit(pool, request.options.deadline)
        try:
            return (yield from call_next(request))
        finally:
            pool.release()

    def __repr__(self) -> str:
        return f"ConcurrencyLimit({'no cap' if self.pool is None else self.pool})"
