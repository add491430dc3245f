"""Stepping a flow, written once: :class:`Stepper`, used by both drivers and by :func:`relay`.

Driving a flow means: start it, perform the effect it yields, resume it with the outcome — the
value, or the exception raised at its ``yield`` — until it returns (``StopIteration``) or raises.
:class:`Stepper` owns that protocol. What differs between the places that drive a flow is only
how one effect is performed, and each says just that:

- ``run_async`` awaits: ``with step: step.value = await effect.arun(transport)``;
- ``run_sync`` calls: the same block, spelt ``try: step.value = effect.run(transport)`` /
  ``except BaseException as error: step.resume(error)`` / ``else: step.resume()``, its hot path;
- :func:`relay` yields to the next driver out, letting a policy adapt the effect or throw.

Nothing here knows what an effect is, which keeps this module below the effects that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Generic, TypeAlias, TypeVar

__all__ = ["Stepper", "Around", "relay"]

Y = TypeVar("Y")
T = TypeVar("T")


class Stepper(Generic[Y, T]):
    """One flow being driven: the effect it waits on, and its result once it has returned.

    ``Stepper(flow)`` starts the flow. ``with step: step.value = <perform step.effect>`` resumes
    it with the block's outcome: the value it stored, or the exception it raised (thrown into
    the flow instead of leaving the block). An exception the flow raises propagates to the
    driver; :attr:`effect` is None once the flow has returned :attr:`result`.
    """

    __slots__ = ("_flow", "effect", "result", "value")

    effect: Y | None
    value: Any
    """What the current ``with step:`` block produced, sent into the flow when it ends."""
    result: T

    def __init__(self, flow: Generator[Y, Any, T]) -> None:
        self._flow = flow
        self.value = None
        self.resume()

    def resume(self, error: BaseException | None = None) -> None:
        """Send :attr:`value` into the flow, or raise ``error`` at its ``yield``, and note what
        it does next: yield another effect, or return."""
        flow = self._flow
        try:
            self.effect = flow.send(self.value) if error is None else flow.throw(error)
        except StopIteration as stop:
            self.effect = None
            self.result = stop.value

    def __enter__(self) -> Stepper[Y, T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        self.resume(error)
        return True

    def close(self) -> None:
        """Close the flow (its ``finally`` runs now) if a driver leaves it unfinished."""
        self._flow.close()


Around: TypeAlias = Callable[[Y], Generator[Y, Any, Any]]
"""A relay policy: performs one effect of the wrapped flow — yields it, or a wrapper of it, to
the driver and returns the result — or raises, and the exception is thrown into the flow."""


def relay(flow: Generator[Y, Any, T], around: Around[Y]) -> Generator[Y, Any, T]:
    """``flow``, re-yielded effect by effect through ``around`` (``yield from relay(f, p)``).

    The one combinator behind :func:`~soniox.flows.effects.shielded` and
    :func:`~soniox.flows.effects.cancellable`: what the driver answers, or throws, goes back to
    ``around`` and from there into ``flow``; closing the relay closes ``flow``.
    """
    step: Stepper[Y, T] = Stepper(flow)
    while (effect := step.effect) is not None:
        with step:
            step.value = yield from around(effect)
    return step.result
