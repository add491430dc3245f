"""Shared state on Redis, for limits that hold across processes and machines.

Each operation of :class:`~.base.SharedState` is one Lua script — atomic on the server, timed by
the server's clock (``TIME``), so workers with drifting clocks still agree:

* the token bucket: a hash ``{tokens, at}``, refilled and taken in one step;
* leases: a sorted set of holders scored by their expiry (expired ones removed on every call);
* the bounded counter: a string, changed only if it stays within its bounds.

Keys: ``{prefix}:{scope}:{kind}:{name}`` — ``scope`` a digest of the API key, never the key
itself — and each expires once unused (no clean-up job). Every call has a short timeout
(``timeout_s``, 50 ms by default). When Redis fails or is slow, ``on_failure`` decides:
``"fail_open"`` (the default) answers from this process's own :class:`~.base.LocalState` —
limits per process, as without Redis — warns once on the ``soniox`` logger, counts it
(:attr:`RedisState.fallbacks`) and tries Redis again after ``retry_s``, re-attaching when it is
back; ``"fail_closed"`` raises :class:`~soniox.errors.SharedStateUnavailableError`. A call
never hangs on Redis. Needs the ``redis`` extra (``redis-py``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeVar

from soniox.errors import ClientValidationError, SharedStateUnavailableError

from .base import INFINITE, Grant, LocalState

__all__ = ["FailurePolicy", "RedisState"]

FailurePolicy = Literal["fail_open", "fail_closed"]
T = TypeVar("T")
_log = logging.getLogger("soniox")

_TAKE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, max_wait = tonumber(ARGV[3]), tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local wait = 0
if tokens < cost then wait = (cost - tokens) / rate end
local granted = 1
if max_wait >= 0 and wait > max_wait then granted = 0 else tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate + wait) * 1000) + 60000)
return {granted, tostring(wait)}
"""

_LEASE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return {1, '0'}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring((tonumber(first[2]) - now) / 1000)}
"""

_ADJUST: Final = """
local capacity, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
local value = tonumber(redis.call('GET', KEYS[1])) or capacity
value = value + delta
if value < 0 then return 0 end
if value > capacity then value = capacity end
redis.call('SET', KEYS[1], tostring(value), 'PX', 3600000)
return 1
"""


def _grant(answer: Any) -> Grant:
    granted, wait = answer
    return Grant(bool(int(granted)), max(0.0, float(wait)))


class RedisState:
    """:class:`~.base.SharedState` on a Redis server at ``url`` (see the module docstring)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "soniox",
        timeout_s: float = 0.05,
        on_failure: FailurePolicy = "fail_open",
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if on_failure not in ("fail_open", "fail_closed"):
            raise ClientValidationError(
                f"on_failure must be 'fail_open' or 'fail_closed', got {on_failure!r}",
                field="on_failure",
            )
        if not timeout_s > 0:
            raise ClientValidationError("timeout_s must be > 0", field="timeout_s")
        try:
            import redis
            import redis.asyncio
        except ImportError as error:  # pragma: no cover - the extra is missing
            raise ClientValidationError(
                "RedisState needs the redis extra: pip install 'soniox-transport[redis]'",
                field="url",
            ) from error
        self.url = url
        self.prefix = prefix
        self.on_failure: FailurePolicy = on_failure
        self.retry_s = retry_s
        self._clock = clock
        options: dict[str, Any] = {
            "socket_timeout": timeout_s,
            "socket_connect_timeout": timeout_s,
            "retry_on_timeout": False,
        }
        self._redis: Any = redis.Redis.from_url(url, **options)
        self._options = options
        self._async_module: Any = redis.asyncio
        self._per_loop: weakref.WeakKeyDictionary[Any, tuple[Any, dict[str, Any]]] = (
            weakref.WeakKeyDictionary()
        )
        """An asyncio client (and its scripts) per event loop: a connection belongs to the loop
        that opened it, and a process may run several loops one after another."""
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError, TimeoutError)
        self._scripts = {name: self._redis.register_script(body) for name, body in _SCRIPTS}
        self.local = LocalState(clock)
        """What answers while Redis is away (``fail_open``)."""
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned = False
        self.fallbacks = 0
        """Calls answered by :attr:`local` because Redis failed or was slow."""

    def __repr__(self) -> str:  # the URL may carry a password: show its host only
        host = self.url.rsplit("@", 1)[-1]
        return (
            f"RedisState({host!r}, prefix={self.prefix!r}, {self.on_failure}, "
            f"fallbacks={self.fallbacks})"
        )

    @property
    def available(self) -> bool:
        """Whether calls go to Redis now (False while a failure's ``retry_s`` runs)."""
        return self._clock() >= self._down_until

    @property
    def client(self) -> Any:
        """The sync redis-py client (for structures beside the limits: the shared cache)."""
        return self._redis

    def key(self, scope: str, kind: str, name: str) -> str:
        return f"{self.prefix}:{scope}:{kind}:{name}"

    # --- the operations ---------------------------------------------------------------------
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
        args = _take_args(rate, burst, cost, max_wait)
        return self._call(
            lambda: _grant(
                self._scripts["take"](keys=[self.key(scope, "bucket", name)], args=args)
            ),
            lambda: self.local.take(
                scope, name, rate=rate, burst=burst, cost=cost, max_wait=max_wait
            ),
        )

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
        args = _take_args(rate, burst, cost, max_wait)

        async def remote() -> Grant:
            key = self.key(scope, "bucket", name)
            return _grant(await self._ascripts()["take"](keys=[key], args=args))

        return await self._acall(
            remote,
            lambda: self.local.take(
                scope, name, rate=rate, burst=burst, cost=cost, max_wait=max_wait
            ),
        )

    def lease(self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float) -> Grant:
        args = [holder, limit, max(1, round(ttl_s * 1000))]
        return self._call(
            lambda: _grant(
                self._scripts["lease"](keys=[self.key(scope, "lease", name)], args=args)
            ),
            lambda: self.local.lease(scope, name, holder, limit=limit, ttl_s=ttl_s),
        )

    async def alease(
        self, scope: str, name: str, holder: str, *, limit: int, ttl_s: float
    ) -> Grant:
        args = [holder, limit, max(1, round(ttl_s * 1000))]

        async def remote() -> Grant:
            key = self.key(scope, "lease", name)
            return _grant(await self._ascripts()["lease"](keys=[key], args=args))

        return await self._acall(
            remote, lambda: self.local.lease(scope, name, holder, limit=limit, ttl_s=ttl_s)
        )

    def release(self, scope: str, name: str, holder: str) -> None:
        key = self.key(scope, "lease", name)
        self._call(
            lambda: self._redis.zrem(key, holder),
            lambda: self.local.release(scope, name, holder),
        )
        self.local.release(scope, name, holder)  # a lease taken while Redis was away

    async def arelease(self, scope: str, name: str, holder: str) -> None:
        key = self.key(scope, "lease", name)

        async def remote() -> object:
            return await self._aredis().zrem(key, holder)

        await self._acall(remote, lambda: self.local.release(scope, name, holder))
        self.local.release(scope, name, holder)

    def adjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool:
        key = self.key(scope, "budget", name)
        return self._call(
            lambda: bool(self._scripts["adjust"](keys=[key], args=[capacity, delta])),
            lambda: self.local.adjust(scope, name, delta, capacity=capacity),
        )

    async def aadjust(self, scope: str, name: str, delta: float, *, capacity: float) -> bool:
        key = self.key(scope, "budget", name)

        async def remote() -> bool:
            return bool(await self._ascripts()["adjust"](keys=[key], args=[capacity, delta]))

        return await self._acall(
            remote, lambda: self.local.adjust(scope, name, delta, capacity=capacity)
        )

    def level(self, scope: str, name: str, *, capacity: float) -> float:
        key = self.key(scope, "budget", name)

        def remote() -> float:
            value = self._redis.get(key)
            return capacity if value is None else float(value)

        return self._call(remote, lambda: self.local.level(scope, name, capacity=capacity))

    def signal(self, scope: str, name: str) -> int:
        key = self.key(scope, "events", name)

        def remote() -> int:
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 86400)
            return int(pipe.execute()[0])

        return self._call(remote, lambda: self.local.signal(scope, name))

    async def asignal(self, scope: str, name: str) -> int:
        key = self.key(scope, "events", name)

        async def remote() -> int:
            pipe = self._aredis().pipeline()
            pipe.incr(key)
            pipe.expire(key, 86400)
            return int((await pipe.execute())[0])

        return await self._acall(remote, lambda: self.local.signal(scope, name))

    def signals(self, scope: str, name: str) -> int:
        key = self.key(scope, "events", name)
        return self._call(
            lambda: int(self._redis.get(key) or 0), lambda: self.local.signals(scope, name)
        )

    async def asignals(self, scope: str, name: str) -> int:
        key = self.key(scope, "events", name)

        async def remote() -> int:
            return int(await self._aredis().get(key) or 0)

        return await self._acall(remote, lambda: self.local.signals(scope, name))

    def ping(self) -> bool:
        """Whether Redis answers now (no fallback, no counting)."""
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def close(self) -> None:
        self._redis.close()

    async def aclose(self) -> None:
        """Close this event loop's connections."""
        found = self._per_loop.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found[0].aclose()

    def _for_loop(self) -> tuple[Any, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        found = self._per_loop.get(loop)
        if found is None:
            client = self._async_module.Redis.from_url(self.url, **self._options)
            scripts = {name: client.register_script(body) for name, body in _SCRIPTS}
            found = self._per_loop[loop] = (client, scripts)
        return found

    def _aredis(self) -> Any:
        return self._for_loop()[0]

    def _ascripts(self) -> dict[str, Any]:
        return self._for_loop()[1]

    # --- for other structures on the same server (the shared cache tier) ----------------------
    def script(self, name: str, body: str) -> Any:
        """A Lua script registered once on the sync client (called ``(keys=, args=)``)."""
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = self._redis.register_script(body)
        return found

    def ascript(self, name: str, body: str) -> Any:
        """:meth:`script` on this event loop's asyncio client (awaited)."""
        scripts = self._ascripts()
        found = scripts.get(name)
        if found is None:
            found = scripts[name] = self._aredis().register_script(body)
        return found

    def run(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        """``remote()`` against Redis under this state's timeout and failure policy, else
        ``local()`` (a fallback: counted, warned once; raises under ``fail_closed``)."""
        return self._call(remote, local)

    async def arun(self, remote: Callable[[], Awaitable[T]], local: Callable[[], T]) -> T:
        """:meth:`run` for asyncio."""
        return await self._acall(remote, local)

    # --- failure handling ---------------------------------------------------------------------
    def _call(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        if self.available:
            try:
                return remote()
            except self._errors as error:
                self._failed(error)
        return self._fallback(local)

    async def _acall(self, remote: Callable[[], Awaitable[T]], local: Callable[[], T]) -> T:
        if self.available:
            try:
                return await remote()
            except self._errors as error:
                self._failed(error)
        return self._fallback(local)

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._down_until = self._clock() + self.retry_s
            first = not self._warned
            self._warned = True
        if self.on_failure == "fail_closed":
            raise SharedStateUnavailableError(
                f"the shared state (Redis) failed: {type(error).__name__}; policy fail_closed"
            ) from error
        if first:
            _log.warning(
                "the shared state (Redis) failed (%s): limits are per process until it is "
                "back (policy fail_open; counted in RedisState.fallbacks)",
                type(error).__name__,
            )

    def _fallback(self, local: Callable[[], T]) -> T:
        if self.on_failure == "fail_closed":
            raise SharedStateUnavailableError(
                "the shared state (Redis) is unavailable; policy fail_closed"
            )
        with self._lock:
            self.fallbacks += 1
        return local()


_SCRIPTS: Final = (("take", _TAKE), ("lease", _LEASE), ("adjust", _ADJUST))


def _take_args(rate: float, burst: float, cost: float, max_wait: float) -> list[float]:
    if not rate > 0 or not burst > 0:
        raise ClientValidationError("a bucket needs rate > 0 and burst > 0", field="rate")
    return [rate, burst, cost, -1.0 if max_wait == INFINITE else max_wait]
