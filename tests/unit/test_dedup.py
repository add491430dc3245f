"""Single-flight GETs over an in-memory transport: sharing, errors, cancellation, deadlines."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from soniox.errors import DeadlineExceededError, ResponseLostError
from soniox.flows.effects import cancellable
from soniox.middleware import (
    CancelScope,
    Dedup,
    FlowCancelled,
    HeadersMiddleware,
    Stack,
    run_sync,
)
from soniox.middleware.dedup import _ALONE, Flight, JoinFlight
from soniox.middleware.driver import relay
from soniox.middleware.observe import Note
from soniox.transport import (
    SYSTEM_CLOCK,
    URL,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
)

BASE = URL.parse("http://127.0.0.1:9/v1")
BODY = Reply(200, content=b"body")


def get(path: str = "/transcriptions/t1/transcript", **options: Any) -> Request:
    return Request("GET", BASE.join(path), options=RequestOptions(**options))


def stack(dedup: Dedup | None = None, key: str = "k1") -> Stack:
    return Stack([HeadersMiddleware(key), dedup or Dedup()])


class Gate:
    """An async handler that holds every request until released (counts what reached it)."""

    def __init__(self, reply: Reply | BaseException = BODY) -> None:
        self.reply = reply
        self.open = asyncio.Event()

    async def __call__(self, request: Request) -> Reply:
        await self.open.wait()
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply


async def settle() -> None:
    """Let every ready task run up to its next real wait."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_100_concurrent_async_gets_make_one_request() -> None:
    """100 tasks asking the same URL at once: one transport request, 100 answers."""
    gate = Gate()
    net, chain = InMemoryTransport(gate), stack()

    async def main() -> list[bytes]:
        tasks = [asyncio.ensure_future(chain.arun(get(), net)) for _ in range(100)]
        await settle()
        gate.open.set()
        return [response.content for response in await asyncio.gather(*tasks)]

    assert asyncio.run(main()) == [b"body"] * 100
    assert len(net.requests) == 1


def test_every_waiter_gets_its_own_response_object() -> None:
    """Followers' responses are fresh objects carrying their own request; the bytes are shared."""
    gate = Gate()
    net, chain = InMemoryTransport(gate), stack()

    async def main() -> list[Any]:
        asks = [get(), get()]
        tasks = [asyncio.ensure_future(chain.arun(ask, net)) for ask in asks]
        await settle()
        gate.open.set()
        return [*await asyncio.gather(*tasks), *asks]

    leader, follower, _, ask_b = asyncio.run(main())
    assert leader is not follower
    assert follower.request.url == ask_b.url
    assert follower.request is not leader.request
    assert follower.content is leader.content


def test_concurrent_sync_threads_make_one_request() -> None:
    """20 threads asking at once while the first is in flight: one transport request."""
    released = threading.Event()

    def slow(request: Request) -> Reply:
        released.wait(5)
        return Reply(200, content=b"body")

    dedup = Dedup()
    net, chain = InMemoryTransport(slow), stack(dedup)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(chain.run, get(), net) for _ in range(20)]
        deadline = time.monotonic() + 5
        while dedup.stats.leaders < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # let the other threads reach their wait
        released.set()
        bodies = [future.result(5).content for future in futures]
    assert bodies == [b"body"] * 20
    assert len(net.requests) == 1
    assert dedup.stats.shared == 19


def test_an_error_reaches_every_waiter() -> None:
    """The leader's transport failure is raised in each of the 10 callers."""
    gate = Gate(ResponseLostError("connection reset"))
    net, chain = InMemoryTransport(gate), stack()

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(chain.arun(get(), net)) for _ in range(10)]
        await settle()
        gate.open.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, ResponseLostError) for outcome in outcomes)
    assert len(net.requests) == 1


def test_a_cancelled_follower_leaves_the_others_their_answer() -> None:
    """Cancelling one waiting task cancels neither the request nor the other waiters."""
    gate = Gate()
    net, chain = InMemoryTransport(gate), stack()

    async def main() -> tuple[list[Any], bool]:
        tasks = [asyncio.ensure_future(chain.arun(get(), net)) for _ in range(5)]
        await settle()
        tasks[2].cancel()
        await settle()
        gate.open.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        return outcomes, tasks[2].cancelled()

    outcomes, cancelled = asyncio.run(main())
    assert cancelled
    assert [o.content for i, o in enumerate(outcomes) if i != 2] == [b"body"] * 4
    assert len(net.requests) == 1


def test_a_cancelled_leader_hands_the_request_to_a_follower() -> None:
    """The leader's task cancelled mid-request: a follower sends it again; all others answer."""
    gate = Gate()
    dedup = Dedup()
    net, chain = InMemoryTransport(gate), stack(dedup)

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(chain.arun(get(), net)) for _ in range(4)]
        await settle()
        tasks[0].cancel()
        await settle()
        gate.open.set()
        return await asyncio.gather(*tasks[1:])

    assert [r.content for r in asyncio.run(main())] == [b"body"] * 3
    assert len(net.requests) == 2
    assert dedup.stats.abandoned == 1


def test_a_cancel_scope_wakes_a_blocked_sync_follower() -> None:
    """A batch's cancel ends a thread's wait for a shared answer at once (FlowCancelled)."""
    released = threading.Event()

    def slow(request: Request) -> Reply:
        released.wait(5)
        return Reply(200, content=b"body")

    dedup = Dedup()
    net, chain = InMemoryTransport(slow), stack(dedup)
    scope = CancelScope()
    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(chain.run, get(), net)
        while dedup.stats.in_flight < 1:
            time.sleep(0.005)
        follower = pool.submit(run_sync, cancellable(chain.handler()(get()), scope), net)
        time.sleep(0.1)
        started = time.monotonic()
        scope.cancel()
        with pytest.raises(FlowCancelled):
            follower.result(5)
        waited = time.monotonic() - started
        released.set()
        assert leader.result(5).content == b"body"
    assert waited < 1.0


def test_a_follower_waits_no_longer_than_its_deadline() -> None:
    """A follower whose deadline passes before the leader answers gets DeadlineExceededError."""
    gate = Gate()
    net = InMemoryTransport(gate, clock=SYSTEM_CLOCK)
    chain = stack()

    async def main() -> Any:
        leader = asyncio.ensure_future(chain.arun(get(), net))
        await settle()
        late = get(deadline=SYSTEM_CLOCK.now() + 0.05)
        with pytest.raises(DeadlineExceededError):
            await chain.arun(late, net)
        gate.open.set()
        return await leader

    assert asyncio.run(main()).content == b"body"


def test_streamed_gets_and_writes_are_never_shared() -> None:
    """stream=True GETs and POSTs each go upstream on their own."""
    gate = Gate()
    net, chain = InMemoryTransport(gate), stack()

    async def main() -> None:
        asks = [get(stream=True), get(stream=True), Request("POST", BASE.join("/files"))] * 2
        tasks = [asyncio.ensure_future(chain.arun(ask, net)) for ask in asks]
        await settle()
        gate.open.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert len(net.requests) == 6


def test_two_api_keys_never_share_a_flight() -> None:
    """The same URL asked with k1 and k2 at once: two requests."""
    gate = Gate()
    net, dedup = InMemoryTransport(gate), Dedup()
    one, two = stack(dedup, "k1"), stack(dedup, "k2")

    async def main() -> None:
        tasks = [asyncio.ensure_future(s.arun(get(), net)) for s in (one, two, one, two)]
        await settle()
        gate.open.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert sorted(r.headers.get("authorization") or "" for r in net.requests) == [
        "Bearer k1",
        "Bearer k2",
    ]


def test_a_follower_in_the_leaders_own_thread_goes_alone() -> None:
    """Waiting in the thread that runs the leader would wait for itself: it is told to go alone."""
    assert JoinFlight(Flight()).run(InMemoryTransport()) is _ALONE


def test_observers_outside_hear_each_join_and_time_the_wait() -> None:
    """A follower yields a dedup note; its JoinFlight carries wait_reason "dedup"."""
    seen: list[object] = []

    class Watch:
        name = "watch"

        def send(self, request: Request, call_next: Any) -> Any:
            def around(effect: Any) -> Any:
                seen.append(effect)
                return (yield effect)

            return (yield from relay(call_next(request), around))

    gate = Gate()
    net = InMemoryTransport(gate)
    chain = Stack([HeadersMiddleware("k1"), Watch(), Dedup()])

    async def main() -> None:
        tasks = [asyncio.ensure_future(chain.arun(get(), net)) for _ in range(3)]
        await settle()
        gate.open.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    joins = [e for e in seen if isinstance(e, Note) and (e.kind, e.detail) == ("dedup", "join")]
    waits = [e for e in seen if getattr(e, "wait_reason", None) == "dedup"]
    assert (len(joins), len(waits)) == (2, 2)
