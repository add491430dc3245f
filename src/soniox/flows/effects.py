"""Flow combinators for clean-up that must finish, and for batches that must stop.

Both are generators that sit between a flow and its driver (``yield from shielded(f)``), so the
drivers in :mod:`soniox.middleware.engine` stay unchanged: the effect set is open, and these add
two effects of their own.

- :func:`shielded` runs clean-up I/O that a task cancellation must not cut short: under
  asyncio every effect of the wrapped flow runs in its own task behind :func:`asyncio.shield`,
  further cancellations are held back until the wrapped flow is done, and then re-raised as
  :class:`asyncio.CancelledError`. The sync driver runs the effects as usual (a second Ctrl-C
  still interrupts a blocking call: that is the user's choice).
- :func:`cancellable` lets another thread stop a flow run by the sync driver (batch workers):
  once ``event`` is set, :class:`FlowCancelled` is thrown into the flow at its next effect, so
  its ``finally`` / ``except`` clean-up runs with working I/O; sleeps wake early.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, TypeVar

import attrs

from soniox.middleware.engine import Effect, Flow, Sleep
from soniox.transport.base import Transport

__all__ = ["FlowCancelled", "Shielded", "shielded", "cancellable", "InterruptibleSleep"]

T = TypeVar("T")


class FlowCancelled(BaseException):
    """Thrown into a flow whose batch was cancelled (a BaseException, like KeyboardInterrupt,
    so ``except Exception`` in user callbacks does not swallow it)."""


@attrs.define
class _ShieldState:
    cancelled: bool = False


@attrs.frozen
class Shielded(Effect):
    """Run ``effect`` to completion even if the awaiting task is cancelled meanwhile."""

    effect: Effect
    state: _ShieldState = attrs.field(eq=False)

    def run(self, transport: Transport) -> Any:
        return self.effect.run(transport)

    async def arun(self, transport: Transport) -> Any:
        task = asyncio.ensure_future(self.effect.arun(transport))
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():  # the step itself was cancelled, not its caller
                    raise
                self.state.cancelled = True
                if task.done():  # the caller was cancelled just as the step finished
                    return task.result()


def shielded(flow: Flow[T]) -> Flow[T]:
    """``flow`` with every effect shielded from cancellation; a cancellation that arrived
    meanwhile is raised once ``flow`` has finished."""
    state = _ShieldState()
    try:
        effect = flow.send(None)
        while True:
            try:
                value = yield Shielded(effect, state)
            except BaseException as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(value)
    except StopIteration as stop:
        result: T = stop.value
    finally:
        flow.close()
    if state.cancelled:
        raise asyncio.CancelledError()
    return result


@attrs.frozen
class InterruptibleSleep(Effect):
    """Sleep on the transport clock in short slices, waking early once ``event`` is set."""

    seconds: float
    event: threading.Event = attrs.field(eq=False)
    slice: float = 0.1

    def run(self, transport: Transport) -> None:
        clock = transport.clock
        end = clock.now() + self.seconds
        while not self.event.is_set():
            left = end - clock.now()
            if left <= 0:
                return
            clock.sleep(min(self.slice, left))

    async def arun(self, transport: Transport) -> None:
        await transport.clock.asleep(self.seconds)


def cancellable(flow: Flow[T], event: threading.Event) -> Flow[T]:
    """``flow``, stopped with :class:`FlowCancelled` at its next effect once ``event`` is set.

    The cancellation is thrown once, never into a :func:`shielded` effect (it waits for the
    shielded part to finish); the effects of the flow's clean-up then run normally.
    """
    thrown = False
    try:
        effect = flow.send(None)
        while True:
            if not thrown and event.is_set() and not isinstance(effect, Shielded):
                # Clean-up runs shielded: the flow is stopped after it, not in the middle of it.
                thrown = True
                effect = flow.throw(FlowCancelled())
                continue
            if not thrown and type(effect) is Sleep:
                effect = InterruptibleSleep(effect.seconds, event)
            try:
                value = yield effect
            except BaseException as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(value)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        flow.close()
