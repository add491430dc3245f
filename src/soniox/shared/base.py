"""What limiters shared by many processes need from a store, and the in-process store.

Three operations, each atomic wherever the state lives:

* :meth:`SharedState.take` — a token bucket (``rate`` per second, up to ``burst``): take ``cost``
  tokens and get the seconds to wait before using them (0: now). A take whose wait would pass
  ``max_wait`` reserves nothing and says how long it would have been (``granted=False``), so a
  deadline-aware caller can refuse early. Reserving ahead is what keeps N processes together
  within the rate: each is told when its turn is.
* :meth:`SharedState.lease` / :meth:`SharedState.release` — a counting semaphore whose slots
  are leases with an expiry: ``holder`` holds one of ``limit`` slots for ``ttl_s`` (renewed by
  leasing again); a crashed holder's lease expires. A full semaphore answers when the soonest
  lease ends.
* :meth:`SharedState.adjust` — a bounded counter (a retry budget): add ``delta`` if the result
  stays within ``[0, capacity]`` (a withdrawal that would go below 0 is refused).
* :meth:`SharedState.signal` / :meth:`SharedState.signals` — an event counter: a throttle one
  process saw, which the others notice and react to.

Names are scoped: ``scope`` is the account's digest (:func:`scope_of`), never the API key.
:class:`LocalState` keeps all of it in this process (what a single process needs, and the
fallback when a shared store is unreachable); :class:`~.redis.RedisState` shares it.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

import attrs

__all__ = ["INFINITE", "Grant", "LocalState", "SharedState", "scope_of"]

INFINITE: Final = math.inf


def scope_of(api_key: str) -> str:
    """The scope an API key's shared state lives under: a digest, so the key never reaches
    the store (and two keys never share limits)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:20]


@attrs.frozen
class Grant:
    """A store's answer: ``granted`` (a bucket's tokens reserved, a lease held) and the seconds
    to wait — before using the tokens when granted, else until a retry might succeed."""

    granted: bool
    wait_s: float = 0.0


@runtime_checkable
class SharedState(Protocol):
    """Buckets, leases and bounded counters, atomic per name (see the module docstring)."""

    def take(
        self,
        scope: str,
        name: str,
        *,
        rate: float,
        burst: float,
        cost: float = 1.0,
        max_wait: float = INFINITE,
    ) -> Grant: ...

    async def atake(
        self,
        scope: str,
        name: str,
        *,
        rate: float,
        burst: float,
        cost: float = 1.0,
        max_wait: float = INFINITE,
    ) -> Grant: ...

    def lease(self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float) -> Grant: ...

    async def alease(
        self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float
    ) -> Grant: ...

    def release(self, scope: str, name: str, holder: str) -> None: ...

    async def arelease(self, scope: str, name: str, holder: str) -> None: ...

    def adjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool: ...

    async def aadjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool: ...

    def level(self, scope: str, name: str, *, capacity: float) -> float:
        """A bounded counter's value now (``capacity`` if it was never changed)."""
        ...

    def signal(self, scope: str, name: str) -> int:
        """Raise an event counter (a throttle seen): its new value."""
        ...

    async def asignal(self, scope: str, name: str) -> int: ...

    def signals(self, scope: str, name: str) -> int:
        """An event counter's value (0 if never raised)."""
        ...

    async def asignals(self, scope: str, name: str) -> int: ...


@attrs.define
class _Bucket:
    tokens: float
    at: float


class LocalState:
    """The shared-state operations for this process alone (a dict under a lock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._leases: dict[tuple[str, str], dict[str, float]] = {}
        self._counters: dict[tuple[str, str], float] = {}
        self._events: dict[tuple[str, str], int] = {}

    def __repr__(self) -> str:
        return (
            f"LocalState({len(self._buckets)} buckets, {len(self._leases)} semaphores, "
            f"{len(self._counters)} counters)"
        )

    def take(
        self,
        scope: str,
        name: str,
        *,
        rate: float,
        burst: float,
        cost: float = 1.0,
        max_wait: float = INFINITE,
    ) -> Grant:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((scope, name))
            if bucket is None:
                bucket = self._buckets[(scope, name)] = _Bucket(burst, now)
            return bucket_take(bucket, now, rate, burst, cost, max_wait)

    async def atake(
        self,
        scope: str,
        name: str,
        *,
        rate: float,
        burst: float,
        cost: float = 1.0,
        max_wait: float = INFINITE,
    ) -> Grant:
        return self.take(scope, name, rate=rate, burst=burst, cost=cost, max_wait=max_wait)

    def lease(self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float) -> Grant:
        with self._lock:
            now = self._clock()
            held = self._leases.setdefault((scope, name), {})
            for other, until in list(held.items()):
                if until <= now:
                    del held[other]
            if holder in held or len(held) < limit:
                held[holder] = now + ttl_s
                return Grant(True)
            return Grant(False, max(0.0, min(held.values()) - now))

    async def alease(
        self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float
    ) -> Grant:
        return self.lease(scope, name, holder, limit=limit, ttl_s=ttl_s)

    def release(self, scope: str, name: str, holder: str) -> None:
        with self._lock:
            self._leases.get((scope, name), {}).pop(holder, None)

    async def arelease(self, scope: str, name: str, holder: str) -> None:
        self.release(scope, name, holder)

    def adjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool:
        with self._lock:
            value = self._counters.get((scope, name), capacity) + delta
            if value < 0:
                return False
            self._counters[(scope, name)] = min(capacity, value)
            return True

    async def aadjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool:
        return self.adjust(scope, name, delta, capacity=capacity)

    def level(self, scope: str, name: str, *, capacity: float) -> float:
        with self._lock:
            return self._counters.get((scope, name), capacity)

    def signal(self, scope: str, name: str) -> int:
        with self._lock:
            value = self._events[(scope, name)] = self._events.get((scope, name), 0) + 1
            return value

    async def asignal(self, scope: str, name: str) -> int:
        return self.signal(scope, name)

    def signals(self, scope: str, name: str) -> int:
        with self._lock:
            return self._events.get((scope, name), 0)

    async def asignals(self, scope: str, name: str) -> int:
        return self.signals(scope, name)

    def held(self, scope: str, name: str) -> int:
        """Leases held now (expired ones not counted)."""
        with self._lock:
            now = self._clock()
            return sum(1 for until in self._leases.get((scope, name), {}).values() if until > now)


def bucket_take(
    bucket: _Bucket, now: float, rate: float, burst: float, cost: float, max_wait: float
) -> Grant:
    """The token bucket's one step, as the Redis script does it (refill, then reserve)."""
    tokens = min(burst, bucket.tokens + max(0.0, now - bucket.at) * rate)
    wait = 0.0 if tokens >= cost else (cost - tokens) / rate
    bucket.at = now
    if wait > max_wait:
        bucket.tokens = tokens
        return Grant(False, wait)
    bucket.tokens = tokens - cost
    return Grant(True, wait)
