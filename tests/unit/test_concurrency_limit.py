"""Concurrency cap: permits for threads and tasks, FIFO hand-over, release on every exit path,
cancellation and deadlines (bounded real waits of milliseconds)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError, DeadlineExceededError, RequestNotSentError
from soniox.flows.effects import cancellable
from soniox.middleware import Flow, Stack, build_stack, run_async, run_sync
from soniox.middleware.cancel import CancelScope, FlowCancelled
from soniox.middleware.concurrency import AcquirePermit, ConcurrencyLimit, PermitPool
from soniox.middleware.driver import Stepper
from soniox.middleware.engine import Effect
from soniox.transport import (
    SYSTEM_CLOCK,
    URL,
    FakeClock,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
    Transport,
)

BASE = URL.parse("http://127.0.0.1:9/v1")


def req(deadline: float | None = None) -> Request:
    return Request("GET", BASE.join("/models"), options=RequestOptions(deadline=deadline))


class InFlight:
    """Counts attempts in progress in the handler and keeps the peak."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def wait_until(predicate: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


# --- the cap ---------------------------------------------------------------------------------


def test_at_most_limit_attempts_are_in_flight_across_threads() -> None:
    """Ten threads, cap 3: never more than three in the transport at once, and three do run."""
    seen = InFlight()

    def handler(_request: Request) -> Reply:
        seen.enter()
        time.sleep(0.005)
        seen.leave()
        return Reply(200)

    limit = ConcurrencyLimit(3)
    stack, transport = Stack([limit]), InMemoryTransport(handler, clock=SYSTEM_CLOCK)
    threads = [
        threading.Thread(target=lambda: [stack.run(req(), transport) for _ in range(4)])
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen.peak == 3
    assert limit.pool is not None
    assert (limit.pool.in_use, limit.pool.waiting) == (0, 0)


def test_at_most_limit_attempts_are_in_flight_across_tasks() -> None:
    """Twenty tasks, cap 3: never more than three in the transport at once."""
    seen = InFlight()

    async def handler(_request: Request) -> Reply:
        seen.enter()
        await asyncio.sleep(0.002)
        seen.leave()
        return Reply(200)

    stack, transport = Stack([ConcurrencyLimit(3)]), InMemoryTransport(handler, clock=FakeClock())

    async def main() -> None:
        await asyncio.gather(*(stack.arun(req(), transport) for _ in range(20)))

    asyncio.run(main())
    assert seen.peak == 3


def test_a_failing_attempt_gives_its_permit_back() -> None:
    """A transport error leaves no permit held."""
    limit = ConcurrencyLimit(1)
    transport = InMemoryTransport.sequence([RequestNotSentError("refused")])
    for _ in range(3):
        with pytest.raises(RequestNotSentError):
            Stack([limit]).run(req(), transport)
    assert limit.pool is not None
    assert limit.pool.in_use == 0


class Park(Effect):
    """Never answered: lets a test stop a flow in the middle of its attempt."""

    def run(self, transport: Transport) -> Any:
        raise AssertionError("not driven")

    async def arun(self, transport: Transport) -> Any:
        raise AssertionError("not driven")


def test_closing_a_flow_mid_attempt_gives_its_permit_back() -> None:
    """GeneratorExit (a driver leaving the flow unfinished) releases the permit too."""
    limit = ConcurrencyLimit(1)

    def terminal(_request: Request) -> Flow[Any]:
        yield Park()

    step = Stepper(Stack([limit]).handler(terminal)(req()))
    assert limit.pool is not None
    assert limit.pool.in_use == 1
    step.close()
    assert limit.pool.in_use == 0


# --- waiting --------------------------------------------------------------------------------------


def test_waiters_are_served_first_come_first_served() -> None:
    """Queued in the order A, B, C, they get the permit in that order."""
    pool = PermitPool(1)
    order: list[str] = []

    async def main() -> None:
        await pool.aacquire()

        async def task(name: str) -> None:
            await pool.aacquire()
            order.append(name)
            await asyncio.sleep(0)
            pool.release()

        tasks = []
        for name in "ABC":
            tasks.append(asyncio.create_task(task(name)))
            await asyncio.sleep(0)  # let it queue
        assert pool.waiting == 3
        pool.release()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert order == ["A", "B", "C"]
    assert pool.in_use == 0


def test_a_newcomer_cannot_overtake_the_queue() -> None:
    """While someone waits, try_acquire refuses even when the permit is being handed over."""
    pool = PermitPool(1)
    assert pool.try_acquire()
    waiter = threading.Thread(target=pool.acquire)
    waiter.start()
    wait_until(lambda: pool.waiting == 1)
    pool.release()  # handed to the waiter, never back to the pool
    assert not pool.try_acquire()
    waiter.join()
    pool.release()
    assert pool.in_use == 0


def test_a_batch_cancel_wakes_a_waiting_thread() -> None:
    """A flow blocked on a permit gets FlowCancelled as soon as its scope is cancelled."""
    pool = PermitPool(1)
    pool.acquire()
    scope = CancelScope()
    outcome: list[BaseException] = []

    def flow() -> Flow[None]:
        yield AcquirePermit(pool)

    def worker() -> None:
        try:
            run_sync(cancellable(flow(), scope), InMemoryTransport())
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    wait_until(lambda: pool.waiting == 1)
    started = time.monotonic()
    scope.cancel()
    thread.join(5)
    assert time.monotonic() - started < 1
    assert isinstance(outcome[0], FlowCancelled)
    assert (pool.in_use, pool.waiting) == (1, 0)


def test_a_cancelled_task_leaves_the_queue() -> None:
    """Task cancellation while waiting: no permit taken, no place kept."""
    pool = PermitPool(1)

    async def main() -> None:
        await pool.aacquire()
        task = asyncio.create_task(pool.aacquire())
        await asyncio.sleep(0)
        assert pool.waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.waiting == 0
        pool.release()

    asyncio.run(main())
    assert pool.in_use == 0


def test_a_permit_handed_to_a_task_cancelled_at_that_moment_is_passed_on() -> None:
    """Released to A, A is cancelled before it wakes: the permit goes on to B, not lost."""
    pool = PermitPool(1)

    async def main() -> None:
        await pool.aacquire()
        a = asyncio.create_task(pool.aacquire())
        b = asyncio.create_task(pool.aacquire())
        await asyncio.sleep(0)
        pool.release()  # granted to A; its wake-up is only scheduled
        a.cancel()
        with pytest.raises(asyncio.CancelledError):
            await a
        await asyncio.wait_for(b, 1)  # B has it
        assert pool.in_use == 1
        pool.release()

    asyncio.run(main())
    assert (pool.in_use, pool.waiting) == (0, 0)


def test_a_thread_release_wakes_a_task_on_its_loop() -> None:
    """One pool for threads and loops: a permit freed by a thread reaches a waiting task."""
    pool = PermitPool(1)
    pool.acquire()

    async def main() -> None:
        threading.Timer(0.02, pool.release).start()
        await asyncio.wait_for(pool.aacquire(), 2)
        pool.release()

    asyncio.run(main())
    assert pool.in_use == 0


def test_the_deadline_bounds_a_threads_wait() -> None:
    """Permit busy, 50 ms left: DeadlineExceededError after ~50 ms, out of the queue."""
    pool = PermitPool(1)
    pool.acquire()
    limit = ConcurrencyLimit(1)
    limit.pool = pool
    transport = InMemoryTransport(clock=SYSTEM_CLOCK)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="permit"):
        Stack([limit]).run(req(deadline=SYSTEM_CLOCK.now() + 0.05), transport)
    assert 0.04 <= time.monotonic() - started < 1
    assert (pool.in_use, pool.waiting) == (1, 0)


def test_the_deadline_bounds_a_tasks_wait() -> None:
    """The same under the async driver."""
    limit = ConcurrencyLimit(1)
    assert limit.pool is not None
    pool = limit.pool
    transport = InMemoryTransport(clock=SYSTEM_CLOCK)

    async def main() -> None:
        await pool.aacquire()
        with pytest.raises(DeadlineExceededError):
            await Stack([limit]).arun(req(deadline=SYSTEM_CLOCK.now() + 0.05), transport)

    asyncio.run(main())
    assert (pool.in_use, pool.waiting) == (1, 0)


_task_plans = st.lists(
    st.tuples(st.integers(0, 4), st.integers(1, 6), st.one_of(st.none(), st.integers(0, 8))),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(1, 4), plans=_task_plans)
def test_whatever_is_cancelled_the_cap_holds_and_every_permit_comes_back(
    limit: int, plans: list[tuple[int, int, int | None]]
) -> None:
    """Tasks start, hold a permit for some loop turns and some are cancelled at any point:
    in flight never exceeds the cap, and afterwards no permit is held nor waiter queued."""
    seen = InFlight()

    async def handler(_request: Request) -> Reply:
        seen.enter()
        try:
            for _ in range(hold[id(_request)]):
                await asyncio.sleep(0)
        finally:
            seen.leave()
        return Reply(200)

    hold: dict[int, int] = {}
    concurrency = ConcurrencyLimit(limit)
    stack = Stack([concurrency])
    transport = InMemoryTransport(handler, clock=FakeClock())

    async def main() -> None:
        tasks: list[tuple[asyncio.Task[Any], int | None]] = []
        for delay, turns, cancel_at in plans:
            for _ in range(delay):
                await asyncio.sleep(0)
            request = req()
            hold[id(request)] = turns
            tasks.append((asyncio.create_task(stack.arun(request, transport)), cancel_at))
        for turn in range(10):
            for task, cancel_at in tasks:
                if cancel_at == turn:
                    task.cancel()
            await asyncio.sleep(0)
        await asyncio.gather(*(task for task, _ in tasks), return_exceptions=True)

    asyncio.run(main())
    assert seen.peak <= limit
    assert concurrency.pool is not None
    assert (concurrency.pool.in_use, concurrency.pool.waiting) == (0, 0)


# --- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_an_invalid_cap_fails_naming_the_field(bad: Any) -> None:
    """max_concurrent_calls must be a whole number >= 1, in the config and the middleware."""
    with pytest.raises(ClientValidationError) as caught:
        ConcurrencyLimit(bad)
    assert caught.value.field == "max_concurrent_calls"
    with pytest.raises(ClientValidationError) as caught:
        SonioxConfig(max_concurrent_calls=bad)
    assert caught.value.field == "max_concurrent_calls"


def test_the_registry_builds_the_cap_from_the_config() -> None:
    """max_concurrent_calls reaches the middleware; None passes requests through."""
    config = SonioxConfig(
        api_key="sk-unit-0123456789abcdef",
        middleware=("headers", "retry", "concurrency", "logging"),
        max_concurrent_calls=4,
    )
    limit = build_stack(config)["concurrency"]
    assert isinstance(limit, ConcurrencyLimit)
    assert limit.pool is not None
    assert limit.pool.limit == 4
    assert "0/4 in use" in repr(limit)
    sentinel: Any = object()
    assert ConcurrencyLimit(None).send(req(), lambda _request: sentinel) is sentinel


def test_the_permit_effect_runs_under_both_drivers() -> None:
    """AcquirePermit is one effect class: run() for threads, arun() for tasks."""
    pool = PermitPool(2)

    def flow() -> Flow[None]:
        yield AcquirePermit(pool)

    run_sync(flow(), InMemoryTransport())
    asyncio.run(run_async(flow(), InMemoryTransport()))
    assert pool.in_use == 2
