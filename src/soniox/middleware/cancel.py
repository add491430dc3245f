"""Cancellation that reaches a flow while one of its effects blocks: :class:`CancelScope`.

One thread calls :meth:`CancelScope.cancel`; the flows run under that scope (the sync driver,
each effect relayed by :func:`~soniox.flows.effects.cancellable`) get :class:`FlowCancelled`
at once, even while blocked: a blocking effect waits through :func:`interruptible_sleep` or
:func:`interruptible_wait`, which wake on a cancel and raise instead of returning — so a wait
for a permit or a shared result never "returns" without one. A new blocking effect needs only
these helpers (or :meth:`CancelScope.waking` for a wait of its own); no driver changes.

The scope an effect runs under is a context variable, set by :meth:`CancelScope.active` around
the effect's ``run``. Outside any scope the helpers simply block.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from contextvars import ContextVar

from soniox.transport.base import Clock

__all__ = [
    "FlowCancelled",
    "CancelScope",
    "current_scope",
    "interruptible_sleep",
    "interruptible_wait",
]


class FlowCancelled(BaseException):
    """Thrown into a flow whose :class:`CancelScope` was cancelled (a BaseException, like
    KeyboardInterrupt, so ``except Exception`` in user callbacks does not swallow it)."""


_CURRENT: ContextVar[CancelScope | None] = ContextVar("soniox_cancel_scope", default=None)


class CancelScope:
    """A cancellation requested once, from any thread, and noticed by whatever blocks under it.

    ``cancelled`` says whether it was requested; :meth:`waking` registers a callback that
    :meth:`cancel` calls, so a wait on a condition, an event or a future can be cut short;
    :meth:`sleep` and :meth:`wait` are such waits, raising :class:`FlowCancelled`.
    """

    __slots__ = ("_cancelled", "_lock", "_wakers")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._wakers: dict[object, Callable[[], None]] = {}

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Request cancellation and wake every waiter (idempotent, thread-safe)."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            wakers = list(self._wakers.values())
            self._wakers.clear()
        for wake in wakers:
            wake()

    def check(self) -> None:
        """Raise :class:`FlowCancelled` if cancellation was requested."""
        if self._cancelled:
            raise FlowCancelled("the flow was cancelled")

    @contextmanager
    def waking(self, wake: Callable[[], None]) -> Generator[None]:
        """While the block runs, a :meth:`cancel` calls ``wake`` (in the cancelling thread).

        A cancel that came before the block calls nothing: check :attr:`cancelled` inside it,
        after registering, so no cancel falls between the check and the wait.
        """
        key = object()
        with self._lock:
            self._wakers[key] = wake
        try:
            yield
        finally:
            with self._lock:
                self._wakers.pop(key, None)

    @contextmanager
    def active(self) -> Generator[CancelScope]:
        """Make this the scope the helpers consult, for the duration of the block."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def sleep(self, clock: Clock, seconds: float) -> None:
        """Sleep ``seconds`` on ``clock``; a cancel ends it early with :class:`FlowCancelled`."""
        woken = threading.Event()
        with self.waking(woken.set):
            self.check()
            clock.wait(woken, seconds)
        self.check()

    def wait(
        self,
        condition: threading.Condition,
        predicate: Callable[[], bool],
        timeout: float | None = None,
    ) -> bool:
        """``condition.wait_for(predicate, timeout)`` that a cancel ends with
        :class:`FlowCancelled`. Call it holding ``condition``; the cancel notifies it from the
        cancelling thread (which must not hold a non-reentrant lock of ``condition`` then)."""

        def wake() -> None:
            with condition:
                condition.notify_all()

        with self.waking(wake):
            ready = condition.wait_for(lambda: self._cancelled or predicate(), timeout)
        self.check()
        return ready


def current_scope() -> CancelScope | None:
    """The scope the running effect was started under, if any."""
    return _CURRENT.get()


def interruptible_sleep(clock: Clock, seconds: float) -> None:
    """``clock.sleep(seconds)``, cut short with :class:`FlowCancelled` by the current scope."""
    scope = _CURRENT.get()
    if scope is None:
        clock.sleep(seconds)
    else:
        scope.sleep(clock, seconds)


def interruptible_wait(
    condition: threading.Condition, predicate: Callable[[], bool], timeout: float | None = None
) -> bool:
    """``condition.wait_for(predicate, timeout)`` (holding ``condition``), cut short with
    :class:`FlowCancelled` by the current scope. Returns the predicate's last value."""
    scope = _CURRENT.get()
    if scope is None:
        return condition.wait_for(predicate, timeout)
    return scope.wait(condition, predicate, timeout)
