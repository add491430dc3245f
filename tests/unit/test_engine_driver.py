"""The one driver: Stepper, the relay combinator, cancel scopes and blocking effects."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeAlias

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.flows.effects import Shield, Shielded, Unshield, cancellable, shielded
from soniox.middleware import Effect, Flow, Sleep, run_async, run_sync, sleep
from soniox.middleware.cancel import (
    CancelScope,
    FlowCancelled,
    interruptible_sleep,
    interruptible_wait,
)
from soniox.middleware.driver import Stepper, relay
from soniox.transport import SYSTEM_CLOCK, FakeClock, InMemoryTransport, Transport

# --- toy effects ---------------------------------------------------------------------------


class Boom(Exception):
    """What a failing toy effect raises."""


@attrs.frozen
class Answer(Effect):
    """Answers ``value``."""

    value: Any

    def run(self, transport: Transport) -> Any:
        return self.value

    async def arun(self, transport: Transport) -> Any:
        return self.value


@attrs.frozen
class Fail(Effect):
    """Raises Boom(message)."""

    message: str

    def run(self, transport: Transport) -> Any:
        raise Boom(self.message)

    async def arun(self, transport: Transport) -> Any:
        raise Boom(self.message)


class Permits:
    """A toy permit pool on a condition, like the rate limiter the next issue adds."""

    def __init__(self, free: int) -> None:
        self.condition = threading.Condition()
        self.free = free
        self.waiting = threading.Event()


@attrs.frozen
class TakePermit(Effect):
    """A blocking effect written against the cancel helpers only: no driver knows it."""

    pool: Permits = attrs.field(eq=False)

    def run(self, transport: Transport) -> str:
        pool = self.pool
        with pool.condition:
            pool.waiting.set()
            if not interruptible_wait(pool.condition, lambda: pool.free > 0, timeout=10):
                raise TimeoutError("no permit and no cancel within 10 s")
            pool.free -= 1
        return "permit"

    async def arun(self, transport: Transport) -> str:
        raise AssertionError("sync only")


@attrs.frozen
class AwaitShared(Effect):
    """Waits for a result another flow computes (a shared concurrent.futures.Future)."""

    future: Future[str] = attrs.field(eq=False)

    def run(self, transport: Transport) -> str:
        condition = threading.Condition()

        def done(_future: Future[str]) -> None:
            with condition:
                condition.notify_all()

        self.future.add_done_callback(done)
        with condition:
            if not interruptible_wait(condition, self.future.done, timeout=10):
                raise TimeoutError("no result and no cancel within 10 s")
        return self.future.result()

    async def arun(self, transport: Transport) -> str:
        raise AssertionError("sync only")


def transport(clock: Any = None) -> InMemoryTransport:
    return InMemoryTransport(clock=clock if clock is not None else FakeClock())


def cleans_up(cleaned: list[str]) -> Flow[None]:
    """Waits at one effect; its finally notes that it ran."""
    try:
        yield Answer(1)
    finally:
        cleaned.append("finally")


def cancel_when(event: threading.Event, scope: CancelScope) -> threading.Thread:
    """Another thread that cancels ``scope`` once ``event`` says the flow is waiting."""

    def canceller() -> None:
        event.wait(10)
        scope.cancel()

    thread = threading.Thread(target=canceller)
    thread.start()
    return thread


# --- Stepper -------------------------------------------------------------------------------


def test_a_stepper_starts_its_flow_and_keeps_the_result() -> None:
    """Stepper(flow) runs to the first effect; the flow's return value becomes ``result``."""

    def flow() -> Flow[int]:
        got = yield Answer(1)
        return got + 1

    step: Stepper[Effect, int] = Stepper(flow())
    assert step.effect == Answer(1)
    step.value = 41
    step.resume()
    assert step.effect is None
    assert step.result == 42


def test_a_with_block_throws_its_exception_into_the_flow() -> None:
    """What the block raises reaches the flow at its yield, not the code around the block."""

    def flow() -> Flow[str]:
        try:
            yield Answer(1)
        except Boom as exc:
            return f"caught {exc}"
        return "not raised"

    step: Stepper[Effect, str] = Stepper(flow())
    with step:
        raise Boom("x")
    assert step.effect is None
    assert step.result == "caught x"


def test_the_flows_own_exception_propagates_from_the_stepper() -> None:
    """An exception the flow does not handle leaves resume() (the driver's caller sees it)."""

    def flow() -> Flow[None]:
        yield Answer(1)
        raise Boom("from the flow")

    step: Stepper[Effect, None] = Stepper(flow())
    with pytest.raises(Boom, match="from the flow"):
        step.resume()


def test_close_runs_the_finally_of_an_unfinished_flow() -> None:
    """A flow left at a yield is closed by the stepper: its finally runs now."""
    cleaned: list[str] = []
    step: Stepper[Effect, None] = Stepper(cleans_up(cleaned))
    step.close()
    assert cleaned == ["finally"]


# --- drivers and relay: one behaviour, property-tested --------------------------------------

steps = st.lists(st.tuples(st.booleans(), st.booleans()), max_size=8)
"""Per effect: (the effect fails, the flow catches the failure)."""


def scripted(script: list[tuple[bool, bool]], raise_at_end: bool, log: list[str]) -> Flow[str]:
    try:
        for i, (fails, catches) in enumerate(script):
            try:
                got = yield (Fail(f"e{i}") if fails else Answer(i))
                log.append(f"got {got}")
            except Boom as exc:
                log.append(f"caught {exc}")
                if not catches:
                    raise
        if raise_at_end:
            raise Boom("end")
        return f"done after {len(script)}"
    finally:
        log.append("finally")


Way: TypeAlias = Callable[[Flow[str]], str]


def outcome(run: Way, script: list[tuple[bool, bool]], raise_at_end: bool) -> tuple[Any, ...]:
    """(result or error, log, the flow's final state) of one way of running the script."""
    log: list[str] = []
    flow = scripted(script, raise_at_end, log)
    try:
        result: Any = ("returned", run(flow))
    except Boom as exc:
        result = ("raised", str(exc))
    return result, log, inspect.getgeneratorstate(flow)


def identity(effect: Effect) -> Flow[Any]:
    return (yield effect)


@settings(max_examples=100, deadline=None)
@given(script=steps, raise_at_end=st.booleans())
def test_every_way_of_driving_a_flow_gives_the_same_outcome(
    script: list[tuple[bool, bool]], raise_at_end: bool
) -> None:
    """run_sync, run_async and a transparent relay: same result or error, log, closed flow."""
    t = transport()
    ways: list[Way] = [
        lambda f: run_sync(f, t),
        lambda f: asyncio.run(run_async(f, t)),
        lambda f: run_sync(relay(f, identity), t),
        lambda f: asyncio.run(run_async(relay(f, identity), t)),
    ]
    results = [outcome(way, script, raise_at_end) for way in ways]
    assert all(r == results[0] for r in results)
    assert results[0][2] == inspect.GEN_CLOSED
    assert results[0][1][-1] == "finally"


# --- relay ---------------------------------------------------------------------------------


def test_a_relay_policy_can_change_the_result_an_effect_returns() -> None:
    """``around`` performs the effect on the flow's behalf; what it returns is what the flow gets."""

    def doubled(effect: Effect) -> Flow[Any]:
        value = yield effect
        return value * 2

    def flow() -> Flow[int]:
        a = yield Answer(2)
        b = yield Answer(5)
        return a + b

    assert run_sync(relay(flow(), doubled), transport()) == 14


def test_a_relay_policy_that_raises_throws_into_the_flow() -> None:
    """Raising in ``around`` instead of yielding throws into the flow, which may go on."""
    performed: list[Effect] = []

    def refuse_failures(effect: Effect) -> Flow[Any]:
        if isinstance(effect, Fail):
            raise Boom("refused")
        performed.append(effect)
        return (yield effect)

    def flow() -> Flow[str]:
        try:
            yield Fail("never performed")
        except Boom as exc:
            got = yield Answer(str(exc))
            return got
        return "not raised"

    assert run_sync(relay(flow(), refuse_failures), transport()) == "refused"
    assert performed == [Answer("refused")]


def test_closing_a_relay_closes_the_wrapped_flow() -> None:
    """A relay abandoned at a yield passes the close on: the wrapped flow's finally runs."""
    cleaned: list[str] = []
    relayed = relay(cleans_up(cleaned), identity)
    assert next(relayed) == Answer(1)
    relayed.close()
    assert cleaned == ["finally"]


# --- cancel scopes -------------------------------------------------------------------------


def test_cancel_calls_each_registered_waker_once() -> None:
    """Wakers registered by blocked effects run on cancel; a second cancel calls nothing."""
    scope = CancelScope()
    calls: list[str] = []
    with scope.waking(lambda: calls.append("a")), scope.waking(lambda: calls.append("b")):
        scope.cancel()
        scope.cancel()
    assert sorted(calls) == ["a", "b"]
    assert scope.cancelled


def test_a_waker_is_forgotten_when_its_block_ends() -> None:
    """A wait that is over is not woken by a later cancel."""
    scope = CancelScope()
    calls: list[str] = []
    with scope.waking(lambda: calls.append("late")):
        pass
    scope.cancel()
    assert calls == []


def test_outside_any_scope_the_helpers_just_block() -> None:
    """No scope current: a plain clock sleep and a plain condition wait."""
    clock = FakeClock()
    interruptible_sleep(clock, 2.0)
    condition = threading.Condition()
    with condition:
        assert interruptible_wait(condition, lambda: True) is True
        assert interruptible_wait(condition, lambda: False, timeout=0) is False
    assert clock.sleeps == [2.0]


def test_a_sleep_under_a_cancelled_scope_raises_without_waiting() -> None:
    """Sleep under an active, cancelled scope raises FlowCancelled; the fake clock never moves."""
    scope, clock = CancelScope(), FakeClock()
    with scope.active():
        Sleep(3.0).run(transport(clock))
        scope.cancel()
        with pytest.raises(FlowCancelled):
            Sleep(1_000).run(transport(clock))
    assert clock.sleeps == [3.0]


def test_a_cancel_wakes_a_real_sleep_promptly() -> None:
    """On the system clock a 60 s sleep ends as soon as another thread cancels."""
    scope = CancelScope()
    seen: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield from sleep(60)
        except FlowCancelled:
            seen.append("cancelled")
            raise

    timer = threading.Timer(0.05, scope.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(FlowCancelled):
        run_sync(cancellable(flow(), scope), transport(SYSTEM_CLOCK))
    timer.join()
    assert time.monotonic() - started < 5
    assert seen == ["cancelled"]


def test_a_cancel_wakes_a_new_kind_of_blocking_effect() -> None:
    """A permit wait the drivers never heard of: the cancel wakes it, FlowCancelled reaches the
    flow, and its clean-up still runs effects — even a blocking one, which now completes."""
    empty, spare = Permits(0), Permits(1)
    scope = CancelScope()
    seen: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield TakePermit(empty)
            seen.append("not reached")
        except FlowCancelled:
            seen.append("cancelled")
            seen.append((yield TakePermit(spare)))
            seen.append((yield Answer("clean-up ran")))
            raise

    canceller = cancel_when(empty.waiting, scope)
    started = time.monotonic()
    with pytest.raises(FlowCancelled):
        run_sync(cancellable(flow(), scope), transport())
    canceller.join()
    assert time.monotonic() - started < 5
    assert seen == ["cancelled", "permit", "clean-up ran"]
    assert empty.free == 0


def test_a_cancel_wakes_a_wait_on_a_shared_future() -> None:
    """Waiting for a result another flow computes: the cancel ends the wait, not the future."""
    future: Future[str] = Future()
    scope = CancelScope()
    waiting = threading.Event()

    def flow() -> Flow[str]:
        waiting.set()
        return (yield AwaitShared(future))

    canceller = cancel_when(waiting, scope)
    with pytest.raises(FlowCancelled):
        run_sync(cancellable(flow(), scope), transport())
    canceller.join()
    assert not future.done()


def test_a_shared_future_that_completes_wakes_its_waiter() -> None:
    """The same wait returns the result when it arrives (no cancel)."""
    future: Future[str] = Future()
    timer = threading.Timer(0.02, future.set_result, args=("shared",))
    timer.start()

    def flow() -> Flow[str]:
        return (yield AwaitShared(future))

    assert run_sync(cancellable(flow(), CancelScope()), transport()) == "shared"
    timer.join()


def test_cancellable_also_stops_a_flow_under_the_async_driver() -> None:
    """Under asyncio the effects run as they are; a cancelled scope still stops the flow."""
    scope = CancelScope()

    def flow() -> Flow[str]:
        first = yield Answer("first")
        scope.cancel()
        yield Answer("second")
        return first

    with pytest.raises(FlowCancelled):
        asyncio.run(run_async(cancellable(flow(), scope), transport()))


# --- shielded ------------------------------------------------------------------------------


def test_shielded_yields_only_shielded_effects_to_a_sync_driver() -> None:
    """Nothing held back in the sync shell, so no Unshield: the flow's effects, each shielded."""

    def flow() -> Flow[int]:
        a = yield Answer(1)
        b = yield Answer(2)
        return a + b

    effects: list[Effect] = []

    def recording(effect: Effect) -> Flow[Any]:
        effects.append(effect)
        return (yield effect)

    assert run_sync(relay(shielded(flow()), recording), transport()) == 3
    assert [type(e) for e in effects] == [Shielded, Shielded]


def test_unshield_reraises_only_in_the_async_shell() -> None:
    """The held cancellation comes back through the async shell; the sync shell does nothing."""
    held = asyncio.CancelledError("held")
    final = Unshield(Shield(held=held))
    assert final.run(transport()) is None
    with pytest.raises(asyncio.CancelledError, match="held"):
        asyncio.run(final.arun(transport()))
