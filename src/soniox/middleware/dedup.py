"""In-flight de-duplication: identical concurrent GETs share one upstream request.

The first of several identical GETs in flight at once — same :class:`CacheKey`: method, URL and
credential digest, so two API keys never share — is the *leader*: it runs the rest of the stack
(retries included) as usual. The others are *followers*: each yields a :class:`JoinFlight`
effect, a wait on the leader's :class:`Flight` (a shared future), and gets a fresh
:class:`~soniox.transport.Response` of its own sharing the read body bytes — or the leader's
exception, the same object raised in every follower (as ``concurrent.futures`` does). A
hundred tasks asking for the same transcript cost one request.

**Where it sits.** ``cache → dedup → retry → concurrency → rate_limit``: inside ``cache`` (a
hit never waits for anyone), outside ``retry`` (one retry schedule serves everyone) and the
limits inside it (followers take no permit or token); inside ``headers``, whose credential is part of the key.

**Waiting, in both drivers.** The sync shell waits through
:func:`~soniox.middleware.cancel.interruptible_wait` on the flight's condition, so a batch's
:class:`~soniox.middleware.cancel.CancelScope` wakes it at once; the async shell awaits a future
of its own, created on its own event loop and completed thread-safely by the leader, so threads,
tasks and even several event loops can share one flight. A follower's wait is bounded by its
call's deadline (:class:`~soniox.errors.DeadlineExceededError`).

**Cancellation is per waiter.** Each follower waits on its own future: cancelling one (a task
cancelled, a scope cancelled) ends only that wait, never the leader's request or the other
followers (the effect of ``asyncio.shield`` without a shared task to shield). If the *leader* is
cancelled (or interrupted) before it has an answer, its flight is abandoned and its followers
race to lead a new one — one more request, no error they did not cause.

**What is shared.** Only GETs without ``stream=True``: a streamed body can be read once, by one
caller, so those pass through. The leader's answer is shared whatever its status (an error
status is each caller's typed error after the stack). A follower in the leader's own thread
(the sync driver re-entered, say from an event hook) would wait for itself: it sends its own
request instead.

Observers outside it (``metrics``, ``tracing``) hear a follower as a
:func:`~soniox.middleware.observe.dedup_joined` note, and time its :class:`JoinFlight` as a wait
of reason ``"dedup"`` (its ``wait_reason``).

Each stack has its own ``Dedup`` (the registry builds one per client): requests of different
clients never share a flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import ClassVar, Final

import attrs

from soniox.errors import DeadlineExceededError
from soniox.middleware.cache_policy import DEFAULT_HASHER, CacheKey, CredentialHasher, request_key
from soniox.middleware.cancel import interruptible_wait
from soniox.middleware.engine import CallNext, Effect, Flow
from soniox.middleware.observe import dedup_joined
from soniox.transport.base import Transport
from soniox.transport.request import Request
from soniox.transport.response import Response, ResponseNotReadError

__all__ = ["Dedup", "DedupStats", "Flight", "JoinFlight"]


class Flight:
    """One leader's request, awaited by its followers: a future any thread or loop can wait on.

    Settled once: with the leader's response (:meth:`succeed`), its exception (:meth:`fail`), or
    abandoned (:meth:`abandon`: the leader was cancelled; followers try again).
    """

    __slots__ = (
        "_condition",
        "_done",
        "_error",
        "_lock",
        "_loops",
        "_response",
        "abandoned",
        "owner",
    )

    def __init__(self) -> None:
        # Most flights have no follower: the condition (a costly object) is made by the first
        # thread that waits, over this lock.
        self._lock = threading.Lock()
        self._condition: threading.Condition | None = None
        self._done = False
        self._response: Response | None = None
        self._error: BaseException | None = None
        self._loops: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.abandoned = False
        self.owner = threading.get_ident()
        """The thread whose driver runs the leader."""

    @property
    def done(self) -> bool:
        return self._done

    # --- settling (the leader) --------------------------------------------------------------
    def succeed(self, response: Response) -> None:
        try:
            response.content  # noqa: B018 - only a read body can be shared
        except ResponseNotReadError:
            self.abandon()
        else:
            self._settle(response, None, abandoned=False)

    def fail(self, error: BaseException) -> None:
        self._settle(None, error, abandoned=False)

    def abandon(self) -> None:
        self._settle(None, None, abandoned=True)

    def _settle(
        self, response: Response | None, error: BaseException | None, *, abandoned: bool
    ) -> None:
        with self._lock:
            if self._done:
                return
            self._response, self._error, self.abandoned = response, error, abandoned
            self._done = True
            if self._condition is not None:
                self._condition.notify_all()
            loops, self._loops = self._loops, []
        if not loops:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, future in loops:
            if loop is running:
                _release(future)
            else:
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                    loop.call_soon_threadsafe(_release, future)

    # --- waiting (the followers) ------------------------------------------------------------
    def wait(self, timeout: float | None) -> bool:
        """Block until settled (True) or ``timeout`` passed (False); a cancelled
        :class:`~soniox.middleware.cancel.CancelScope` raises ``FlowCancelled``."""
        with self._lock:
            condition = self._condition
            if condition is None:
                condition = self._condition = threading.Condition(self._lock)
            return interruptible_wait(condition, lambda: self._done, timeout)

    async def await_settled(self, limit: float | None) -> bool:
        """:meth:`wait` for asyncio (``limit``: seconds, None: none): a future of this
        waiter's own, so cancelling it touches nobody else."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            if self._done:
                return True
            self._loops.append(entry)
        try:
            async with asyncio.timeout(limit):
                await future
        except TimeoutError:
            return self._done
        finally:
            with self._lock:
                if entry in self._loops:
                    self._loops.remove(entry)
        return True

    def outcome(self, request: Request) -> Response:
        """The shared answer as ``request``'s own response, or the shared exception raised."""
        if self._error is not None:
            raise self._error
        shared = self._response
        assert shared is not None
        return Response(
            shared.status,
            request,
            shared.http_version,
            shared.elapsed,
            headers=shared.headers,
            content=shared.content,
            closed=True,
        )

    def __repr__(self) -> str:
        state = "abandoned" if self.abandoned else ("settled" if self._done else "in flight")
        return f"Flight({state})"


def _release(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_ALONE: Final = object()
""":class:`JoinFlight`'s answer when waiting would mean waiting for oneself."""


@attrs.frozen
class JoinFlight(Effect):
    """Wait for ``flight`` to settle (no longer than until ``deadline``, on the transport
    clock); the result is the flight, or :data:`_ALONE` for a follower in the leader's thread."""

    flight: Flight = attrs.field(eq=False)
    deadline: float | None = None
    wait_reason: ClassVar[str] = "dedup"
    """Observers (``metrics``) time this effect as a wait of this reason."""

    def _timeout(self, transport: Transport) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - transport.clock.now()
        if left <= 0:
            raise self._late()
        return left

    def _late(self) -> DeadlineExceededError:
        return DeadlineExceededError(
            "the call's deadline passed while it waited for an identical request in flight"
        )

    def run(self, transport: Transport) -> object:
        flight = self.flight
        if flight.owner == threading.get_ident() and not flight.done:
            return _ALONE
        if not flight.wait(self._timeout(transport)):
            raise self._late()
        return flight

    async def arun(self, transport: Transport) -> object:
        if not await self.flight.await_settled(self._timeout(transport)):
            raise self._late()
        return self.flight


@attrs.frozen
class DedupStats:
    """How many GETs led a flight, how many shared one, how many flights were abandoned."""

    leaders: int = 0
    shared: int = 0
    """Followers answered by a leader's request (requests saved)."""
    abandoned: int = 0
    in_flight: int = 0


class Dedup:
    """Single-flight for GETs: identical concurrent requests share one upstream request."""

    name = "dedup"

    def __init__(self, *, hasher: CredentialHasher | None = None) -> None:
        self._hasher = hasher if hasher is not None else DEFAULT_HASHER
        self._lock = threading.Lock()
        self._flights: dict[CacheKey, Flight] = {}
        self._leaders = 0
        self._shared = 0
        self._abandoned = 0

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        if request.method != "GET" or request.options.stream:
            return (yield from call_next(request))
        key = request_key(request, self._hasher)
        flights = self._flights
        while True:
            with self._lock:
                flight = flights.get(key)
                if flight is None:
                    flight = flights[key] = Flight()
                    self._leaders += 1
                    break
            joined = yield JoinFlight(flight, request.options.deadline)
            if joined is _ALONE:
                return (yield from call_next(request))
            if not flight.abandoned:
                with self._lock:
                    self._shared += 1
                yield from dedup_joined()
                return flight.outcome(request)
        return (yield from self._lead(key, flight, request, call_next))

    def _lead(
        self, key: CacheKey, flight: Flight, request: Request, call_next: CallNext
    ) -> Flow[Response]:
        try:
            response = yield from call_next(request)
        except Exception as error:
            self._land(key, flight)
            flight.fail(error)
            raise
        except BaseException:  # cancelled or interrupted: the followers try again
            self._land(key, flight)
            flight.abandon()
            with self._lock:
                self._abandoned += 1
            raise
        self._land(key, flight)
        flight.succeed(response)
        return response

    def _land(self, key: CacheKey, flight: Flight) -> None:
        """Take ``flight`` off the board: identical GETs from now on start a new one."""
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]

    @property
    def stats(self) -> DedupStats:
        with self._lock:
            return DedupStats(self._leaders, self._shared, self._abandoned, len(self._flights))

    def __repr__(self) -> str:
        return f"Dedup({len(self._flights)} in flight)"
