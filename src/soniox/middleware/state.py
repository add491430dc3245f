"""Where limiter state lives: one small interface, so the state can later be shared by processes.

The rate limiter's buckets and adaptive rate (:mod:`.rate_limit`) and the retry budget
(:mod:`.retry_budget`) are plain attrs objects changed by pure functions of the policy objects.
They are kept in a :class:`StateStore` under a key and changed only through one operation::

    result = store.update(key, initial, change)

atomically: take the state stored under ``key`` (or make it with ``initial()``), let ``change``
mutate it and return a result, keep the changed state. :class:`LocalStateStore` — a dict under a
lock — is what every client uses today; it makes a client's state shared by all its threads, its
tasks and its ``with_options`` views (they share its stack, hence its middleware and their
store), and by nothing else.

A networked store (Redis, a later issue) implements the same two methods, e.g. with
``WATCH``/``MULTI`` around a read, ``change`` and a write. Two rules keep that possible:
``change`` may run more than once (an optimistic store retries on a conflict), so it touches
nothing but the state it is given; and states are attrs classes of plain fields, so they
serialise. Middleware reach a store through :func:`update_state`: a plain call for the local
store (no trip through the driver), an :class:`UpdateState` effect for any other, so the async
client awaits :meth:`StateStore.aupdate` instead of blocking its loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final, Generic, Protocol, TypeVar, cast, runtime_checkable

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.middleware.engine import Effect, Flow
from soniox.shared import (
    INFINITE,
    FailurePolicy,
    Grant,
    LocalState,
    RedisState,
    SharedState,
    scope_of,
)
from soniox.transport.base import Transport

__all__ = [
    "LocalStateStore",
    "SharedAdjust",
    "SharedLease",
    "SharedSignal",
    "SharedTake",
    "StateStore",
    "UpdateState",
    "shared_adjust",
    "shared_lease",
    "shared_release",
    "shared_signal",
    "shared_state_for",
    "quota_state_for",
    "PROCESS_STATE",
    "shared_take",
    "update_state",
]

S = TypeVar("S")
R = TypeVar("R")


@runtime_checkable
class StateStore(Protocol):
    """Keyed limiter state, changed atomically (see the module docstring for the two rules)."""

    def update(self, key: str, initial: Callable[[], S], change: Callable[[S], R]) -> R:
        """Apply ``change`` to the state under ``key`` (made by ``initial()`` if absent)."""
        ...

    async def aupdate(self, key: str, initial: Callable[[], S], change: Callable[[S], R]) -> R:
        """:meth:`update` for the async client (a networked store awaits its I/O here)."""
        ...


class LocalStateStore:
    """This process's store: states in a dict, every change under one lock (threads and tasks
    alike; a change never awaits, so it is atomic for asyncio too)."""

    __slots__ = ("_lock", "_states")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, Any] = {}

    def update(self, key: str, initial: Callable[[], S], change: Callable[[S], R]) -> R:
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = initial()
            return change(cast(S, state))

    async def aupdate(self, key: str, initial: Callable[[], S], change: Callable[[S], R]) -> R:
        return self.update(key, initial, change)

    def get(self, key: str) -> Any:
        """The state under ``key`` (None if none was made yet): for inspection and tests. It is
        the live object: read it, do not change it outside :meth:`update`."""
        with self._lock:
            return self._states.get(key)

    def __repr__(self) -> str:
        with self._lock:
            keys = sorted(self._states)
        return f"LocalStateStore({', '.join(keys)})"


@attrs.frozen
class UpdateState(Effect, Generic[S, R]):
    """``store.update(key, initial, change)`` as an effect: awaited under the async driver."""

    store: StateStore = attrs.field(eq=False)
    key: str
    initial: Callable[[], S] = attrs.field(eq=False)
    change: Callable[[S], R] = attrs.field(eq=False)

    def run(self, transport: Transport) -> R:
        return self.store.update(self.key, self.initial, self.change)

    async def arun(self, transport: Transport) -> R:
        return await self.store.aupdate(self.key, self.initial, self.change)


def update_state(
    store: StateStore, key: str, initial: Callable[[], S], change: Callable[[S], R]
) -> Flow[R]:
    """``result = yield from update_state(store, key, initial, change)``: the local store is
    called in place; any other store's update is an :class:`UpdateState` effect."""
    if type(store) is LocalStateStore:
        return store.update(key, initial, change)
    result: R = yield UpdateState(store, key, initial, change)
    return result


@attrs.frozen
class SharedTake(Effect):
    """A shared token bucket's take (:meth:`soniox.shared.SharedState.take`) as an effect: the
    sync driver calls it, the async one awaits it, so a Redis round trip never blocks a loop."""

    state: SharedState = attrs.field(eq=False)
    scope: str
    name: str
    rate: float
    burst: float
    max_wait: float = INFINITE

    def run(self, transport: Transport) -> Grant:
        return self.state.take(
            self.scope, self.name, rate=self.rate, burst=self.burst, max_wait=self.max_wait
        )

    async def arun(self, transport: Transport) -> Grant:
        return await self.state.atake(
            self.scope, self.name, rate=self.rate, burst=self.burst, max_wait=self.max_wait
        )


def shared_take(
    state: SharedState, scope: str, name: str, rate: float, burst: float, max_wait: float
) -> Flow[Grant]:
    """``grant = yield from shared_take(...)``: in place for a :class:`LocalState`, an effect
    for any other store."""
    if type(state) is LocalState:
        return state.take(scope, name, rate=rate, burst=burst, max_wait=max_wait)
    grant: Grant = yield SharedTake(state, scope, name, rate, burst, max_wait)
    return grant


@attrs.frozen
class SharedAdjust(Effect):
    """A shared bounded counter's change (:meth:`soniox.shared.SharedState.adjust`) as an
    effect (awaited under the async driver)."""

    state: SharedState = attrs.field(eq=False)
    scope: str
    name: str
    delta: float
    capacity: float

    def run(self, transport: Transport) -> bool:
        return self.state.adjust(self.scope, self.name, self.delta, capacity=self.capacity)

    async def arun(self, transport: Transport) -> bool:
        return await self.state.aadjust(self.scope, self.name, self.delta, capacity=self.capacity)


def shared_adjust(
    state: SharedState, scope: str, name: str, delta: float, capacity: float
) -> Flow[bool]:
    """``ok = yield from shared_adjust(...)``: in place for a :class:`LocalState`, an effect
    for any other store."""
    if type(state) is LocalState:
        return state.adjust(scope, name, delta, capacity=capacity)
    ok: bool = yield SharedAdjust(state, scope, name, delta, capacity)
    return ok


@attrs.frozen
class SharedLease(Effect):
    """A shared semaphore's lease (:meth:`soniox.shared.SharedState.lease`) as an effect;
    ``release=True``: give it back instead."""

    state: SharedState = attrs.field(eq=False)
    scope: str
    name: str
    holder: str
    limit: int = 1
    ttl_s: float = 1.0
    release: bool = False

    def run(self, transport: Transport) -> Grant | None:
        if self.release:
            self.state.release(self.scope, self.name, self.holder)
            return None
        return self.state.lease(
            self.scope, self.name, self.holder, limit=self.limit, ttl_s=self.ttl_s
        )

    async def arun(self, transport: Transport) -> Grant | None:
        if self.release:
            await self.state.arelease(self.scope, self.name, self.holder)
            return None
        return await self.state.alease(
            self.scope, self.name, self.holder, limit=self.limit, ttl_s=self.ttl_s
        )


def shared_lease(
    state: SharedState, scope: str, name: str, holder: str, limit: int, ttl_s: float
) -> Flow[Grant]:
    """``grant = yield from shared_lease(...)`` (in place for a :class:`LocalState`)."""
    if type(state) is LocalState:
        return state.lease(scope, name, holder, limit=limit, ttl_s=ttl_s)
    grant = yield SharedLease(state, scope, name, holder, limit, ttl_s)
    assert isinstance(grant, Grant)
    return grant


def shared_release(state: SharedState, scope: str, name: str, holder: str) -> Flow[None]:
    """``yield from shared_release(...)``: give a lease back."""
    if type(state) is LocalState:
        state.release(scope, name, holder)
        return
    yield SharedLease(state, scope, name, holder, release=True)


@attrs.frozen
class SharedSignal(Effect):
    """An event counter raised (``raise_it``) or read, as an effect."""

    state: SharedState = attrs.field(eq=False)
    scope: str
    name: str
    raise_it: bool

    def run(self, transport: Transport) -> int:
        if self.raise_it:
            return self.state.signal(self.scope, self.name)
        return self.state.signals(self.scope, self.name)

    async def arun(self, transport: Transport) -> int:
        if self.raise_it:
            return await self.state.asignal(self.scope, self.name)
        return await self.state.asignals(self.scope, self.name)


def shared_signal(state: SharedState, scope: str, name: str, *, raise_it: bool) -> Flow[int]:
    """``count = yield from shared_signal(...)`` (in place for a :class:`LocalState`)."""
    if type(state) is LocalState:
        return state.signal(scope, name) if raise_it else state.signals(scope, name)
    count: int = yield SharedSignal(state, scope, name, raise_it)
    return count


_shared: dict[tuple[str, str, float, str], SharedState] = {}
_shared_lock = threading.Lock()


def shared_state_for(config: SonioxConfig) -> tuple[SharedState, str] | None:
    """The shared state a config names and the scope of its API key (None: not shared). A
    URL gives one :class:`~soniox.shared.RedisState` per process and settings, reused by every
    client made with it."""
    target = config.shared_state
    if target is None:
        return None
    key = config.api_key if isinstance(config.api_key, str) else ""
    scope = scope_of(key) if key else "shared"
    if isinstance(target, str):
        settings = (
            target,
            config.shared_state_prefix,
            config.shared_state_timeout,
            config.shared_state_on_failure,
        )
        with _shared_lock:
            found = _shared.get(settings)
            if found is None:
                found = _shared[settings] = RedisState(
                    target,
                    prefix=config.shared_state_prefix,
                    timeout_s=config.shared_state_timeout,
                    on_failure=cast("FailurePolicy", config.shared_state_on_failure),
                )
        return found, scope
    if not isinstance(target, SharedState):
        raise ClientValidationError(
            "SonioxConfig.shared_state must be a redis:// URL, a SharedState object or None",
            field="shared_state",
        )
    return target, scope


PROCESS_STATE: Final = LocalState()
"""Where quotas live when no shared state is configured: this process, all its clients."""


def quota_state_for(config: SonioxConfig) -> tuple[SharedState, str]:
    """Where a quota (pending transcriptions, realtime streams) lives: the config's shared
    state, else :data:`PROCESS_STATE` — one set of slots per key either way."""
    found = shared_state_for(config)
    if found is not None:
        return found
    key = config.api_key if isinstance(config.api_key, str) else ""
    return PROCESS_STATE, scope_of(key) if key else "local"
