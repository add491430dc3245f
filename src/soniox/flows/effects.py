"""Flow combinators for clean-up that must finish, and for batches that must stop.

Both are policies over :func:`~soniox.middleware.driver.relay` (``yield from shielded(f)``): the
relay steps the wrapped flow and hands each of its effects to the policy, which yields it, or a
wrapper of it, to the driver — or throws into the flow instead. The drivers stay unchanged.

- :func:`shielded` runs clean-up I/O that a cancellation must not cut short: each effect is
  wrapped in :class:`Shielded`, whose async shell runs it behind :func:`asyncio.shield` and
  holds a task cancellation back until the wrapped flow is done; then :class:`Unshield`
  re-raises it. The sync driver runs the effects as usual (a second Ctrl-C still interrupts a
  blocking call: that is the user's choice).
- :func:`cancellable` lets another thread stop a flow run by the sync driver (batch workers):
  once its :class:`~soniox.middleware.cancel.CancelScope` is cancelled, :class:`FlowCancelled`
  is thrown into the flow at its next effect — or raised by the blocking effect it is waiting
  in (a sleep, a permit, a shared result), which the cancel wakes — once; the flow's
  ``finally`` / ``except`` clean-up then runs with working I/O.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import attrs

from soniox.middleware.cancel import CancelScope, FlowCancelled
from soniox.middleware.driver import relay
from soniox.middleware.engine import Effect, Flow
from soniox.transport.base import Transport

__all__ = [
    "FlowCancelled",
    "CancelScope",
    "Shield",
    "Shielded",
    "Unshield",
    "Interruptible",
    "shielded",
    "cancellable",
]

T = TypeVar("T")


@attrs.frozen
class _Wrapper(Effect):
    """Performs ``effect``; a subclass changes how, in one of the two shells."""

    effect: Effect

    def run(self, transport: Transport) -> Any:
        return self.effect.run(transport)

    async def arun(self, transport: Transport) -> Any:
        return await self.effect.arun(transport)


@attrs.define
class Shield:
    """The relay policy of one :func:`shielded` flow, and the cancellation it holds back."""

    held: BaseException | None = None

    def around(self, effect: Effect) -> Flow[Any]:
        return (yield Shielded(effect, self))


@attrs.frozen
class Shielded(_Wrapper):
    """Run ``effect`` to completion even if the awaiting task is cancelled meanwhile."""

    shield: Shield = attrs.field(eq=False)

    async def arun(self, transport: Transport) -> Any:
        task = asyncio.ensure_future(self.effect.arun(transport))
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError as cancelled:
                if task.cancelled():  # the step itself was cancelled, not its caller
                    raise
                self.shield.held = cancelled
                if task.done():  # the caller was cancelled just as the step finished
                    return task.result()


@attrs.frozen
class Unshield(Effect):
    """After a shielded flow: re-raise the cancellation its shield held back (async shell)."""

    shield: Shield = attrs.field(eq=False)

    def run(self, transport: Transport) -> None:
        """Nothing: the sync shell holds nothing back."""

    async def arun(self, transport: Transport) -> None:
        held, self.shield.held = self.shield.held, None
        if held is not None:
            raise held


def shielded(flow: Flow[T]) -> Flow[T]:
    """``flow`` with every effect shielded from cancellation; a cancellation that arrived
    meanwhile is raised once ``flow`` has finished."""
    shield = Shield()
    result = yield from relay(flow, shield.around)
    if shield.held is not None:
        yield Unshield(shield)
    return result


@attrs.frozen
class Interruptible(_Wrapper):
    """Run ``effect`` with ``scope`` current, so a cancel wakes a blocking wait inside it (the
    sync shell; under asyncio, cancel the task instead)."""

    scope: CancelScope = attrs.field(eq=False)

    def run(self, transport: Transport) -> Any:
        with self.scope.active():
            return self.effect.run(transport)


@attrs.define
class _Cancellation:
    """The policy of one :func:`cancellable` flow: throws :class:`FlowCancelled` into it once."""

    scope: CancelScope
    delivered: bool = False

    def around(self, effect: Effect) -> Flow[Any]:
        if self.delivered or isinstance(effect, Shielded | Unshield):
            return (yield effect)  # clean-up after the cancellation, shielded steps: as they are
        if self.scope.cancelled:
            self.delivered = True
            raise FlowCancelled("the flow was cancelled")
        try:
            return (yield Interruptible(effect, self.scope))
        except FlowCancelled:
            self.delivered = True  # a blocking wait was cut short: that was the cancellation
            raise


def cancellable(flow: Flow[T], scope: CancelScope) -> Flow[T]:
    """``flow``, stopped with :class:`FlowCancelled` once ``scope`` is cancelled: at its next
    effect, or at once in a blocking one (the sync driver's sleeps, waits).

    The cancellation is thrown once, never into a :func:`shielded` effect (it waits for the
    shielded part to finish); the effects of the flow's clean-up then run normally.
    """
    return relay(flow, _Cancellation(scope).around)
