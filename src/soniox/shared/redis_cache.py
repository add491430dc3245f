"""A cache shared by processes on Redis: a least-recently-used store of blobs bounded in bytes.

The response cache (:mod:`soniox.middleware.cache`) keeps answers in each process. What never
changes — a completed job's transcript — is worth sharing: a fleet of workers fetching the same
transcripts then asks the API once. :class:`RedisCache` is that shared tier; it holds opaque
blobs (the middleware serialises its entries) under names that are digests, with *tags* for
invalidation, and is bounded by ``max_bytes`` across all processes.

Structures, all under the hash tag ``{prefix:cache}`` (one slot, so the scripts stay atomic
on a cluster too), changed only by Lua scripts on the server's clock:

* ``…:v:<name>`` — a hash ``{v: blob, at: ms}`` expiring with the entry's TTL;
* ``…:lru`` — names scored by their last use, in microseconds (the eviction order);
* ``…:exp`` — names scored by their expiry (swept on every put, so expired entries give their
  bytes back without a clean-up job);
* ``…:sizes`` / ``…:total`` — each entry's counted bytes and their sum, kept ``<= max_bytes``
  by evicting the least recently used on every put;
* ``…:tag:<tag>`` — the names carrying a tag (``transcriptions/<id>``), for invalidation;
* ``…:gen`` — bumped by every invalidation: a put that started before one is refused, so an
  answer fetched while its resource was deleted is never shared;
* ``…:stats`` — evictions, expirations, invalidations.

A cache is an optimisation, never a requirement: when Redis fails or is slow, a lookup is a miss
and a put is skipped — under either failure policy of the :class:`~.redis.RedisState` it runs on
(counted in its ``fallbacks`` under ``fail_open``). Nothing secret is stored: names are digests
made by the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar

import attrs

from soniox.errors import ClientValidationError, SharedStateUnavailableError

from .redis import RedisState

__all__ = ["BlobHit", "BlobLookup", "RedisCache", "StoreUsage"]

T = TypeVar("T")

_FORGET: Final = """
local function forget(m)
  local s = tonumber(redis.call('HGET', KEYS[4], m))
  if s then
    redis.call('DECRBY', KEYS[5], s)
    redis.call('HDEL', KEYS[4], m)
  end
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], m)
  return redis.call('DEL', ARGV[1] .. m)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local used = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

_GET: Final = (
    _FORGET
    + """
local gen = redis.call('GET', KEYS[1]) or '0'
local key = ARGV[1] .. ARGV[2]
local v = redis.call('HMGET', key, 'v', 'at')
if not v[1] then
  if redis.call('HEXISTS', KEYS[4], ARGV[2]) == 1 then forget(ARGV[2]) end
  return {0, gen}
end
redis.call('ZADD', KEYS[2], used, ARGV[2])
return {1, gen, v[1], tostring(now - tonumber(v[2])), tostring(redis.call('PTTL', key))}
"""
)

_PUT: Final = (
    _FORGET
    + """
local m, size = ARGV[2], tonumber(ARGV[4])
local ttl, max_bytes = tonumber(ARGV[5]), tonumber(ARGV[6])
if size > max_bytes or ttl <= 0 then return 0 end
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[7] then return 0 end
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 64)) do
  forget(old)
  redis.call('HINCRBY', KEYS[6], 'expired', 1)
end
forget(m)
local key = ARGV[1] .. m
redis.call('HSET', key, 'v', ARGV[3], 'at', now)
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', KEYS[2], used, m)
redis.call('ZADD', KEYS[3], now + ttl, m)
redis.call('HSET', KEYS[4], m, size)
local total = redis.call('INCRBY', KEYS[5], size)
for i = 7, #KEYS do
  redis.call('SADD', KEYS[i], m)
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
while total > max_bytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then break end
  forget(oldest)
  redis.call('HINCRBY', KEYS[6], 'evictions', 1)
  total = tonumber(redis.call('GET', KEYS[5])) or 0
end
return 1
"""
)

_INVALIDATE: Final = (
    _FORGET
    + """
redis.call('INCR', KEYS[1])
local n = 0
for i = 7, #KEYS do
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do n = n + forget(m) end
  redis.call('DEL', KEYS[i])
end
if n > 0 then redis.call('HINCRBY', KEYS[6], 'invalidated', n) end
return n
"""
)

_CLEAR: Final = (
    _FORGET
    + """
redis.call('INCR', KEYS[1])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do forget(m) end
redis.call('DEL', KEYS[5])
return 1
"""
)


@attrs.frozen(repr=False)
class BlobHit:
    """A kept blob, how old it is and how long it stays (seconds, on Redis's clock)."""

    value: bytes
    age_s: float
    ttl_left_s: float

    def __repr__(self) -> str:
        return f"BlobHit({len(self.value)} bytes, age={self.age_s:g}s, left={self.ttl_left_s:g}s)"


@attrs.frozen
class BlobLookup:
    """A lookup's answer: the hit (None: a miss) and the generation to pass to a later put."""

    hit: BlobHit | None
    generation: str = "0"


MISS: Final = BlobLookup(None, "")
"""The answer while Redis is away (its generation matches nothing, so no put follows)."""


@attrs.frozen
class StoreUsage:
    """What a cache store holds and has dropped (the shared tier: all processes together)."""

    entries: int = 0
    bytes: int = 0
    max_bytes: int = 0
    evictions: int = 0
    """Entries dropped to stay within ``max_bytes`` (least recently used first)."""
    expired: int = 0
    """Entries found past their TTL (and dropped)."""
    invalidated: int = 0
    """Entries dropped by writes (POST / PUT / PATCH / DELETE) on their resource."""


def _lookup(answer: Any) -> BlobLookup:
    found, generation = int(answer[0]), _text(answer[1])
    if not found:
        return BlobLookup(None, generation)
    value, age_ms, left_ms = answer[2], float(answer[3]), float(answer[4])
    hit = BlobHit(bytes(value), max(0.0, age_ms / 1000), max(0.0, left_ms / 1000))
    return BlobLookup(hit, generation)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCache:
    """A byte-bounded LRU of blobs shared through ``state``'s Redis (see the module docstring)."""

    def __init__(self, state: RedisState, *, max_bytes: int) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ClientValidationError(
                f"RedisCache.max_bytes must be a whole number of bytes > 0, got {max_bytes!r}",
                field="max_bytes",
            )
        self.state = state
        self.max_bytes = max_bytes
        base = "{" + state.prefix + ":cache}"
        self._values = f"{base}:v:"
        self._tags = f"{base}:tag:"
        self._keys = [f"{base}:{part}" for part in ("gen", "lru", "exp", "sizes", "total", "stats")]

    def __repr__(self) -> str:
        return f"RedisCache(prefix={self.state.prefix!r}, max_bytes={self.max_bytes})"

    # --- lookups ------------------------------------------------------------------------------
    def get(self, name: str) -> BlobLookup:
        """The blob kept under ``name`` (refreshing its place in the LRU), or a miss."""
        return self._guard(
            lambda: _lookup(self.state.script("cache_get", _GET)(**self._get_args(name))), MISS
        )

    async def aget(self, name: str) -> BlobLookup:
        async def remote() -> BlobLookup:
            script = self.state.ascript("cache_get", _GET)
            return _lookup(await script(**self._get_args(name)))

        return await self._aguard(remote, MISS)

    # --- puts ---------------------------------------------------------------------------------
    def put(
        self, name: str, value: bytes, *, ttl_s: float, tags: Iterable[str], generation: str
    ) -> bool:
        """Keep ``value`` for ``ttl_s`` unless it alone exceeds ``max_bytes`` or something was
        invalidated since the lookup that returned ``generation``; evicts the least recently
        used to stay within ``max_bytes``. True if kept."""
        args = self._put_args(name, value, ttl_s, tags, generation)
        if args is None:
            return False
        return self._guard(lambda: bool(self.state.script("cache_put", _PUT)(**args)), False)

    async def aput(
        self, name: str, value: bytes, *, ttl_s: float, tags: Iterable[str], generation: str
    ) -> bool:
        args = self._put_args(name, value, ttl_s, tags, generation)
        if args is None:
            return False
        found = args

        async def remote() -> bool:
            return bool(await self.state.ascript("cache_put", _PUT)(**found))

        return await self._aguard(remote, False)

    # --- invalidation -------------------------------------------------------------------------
    def invalidate(self, tags: Iterable[str]) -> int:
        """Drop every entry carrying one of ``tags`` (in every process); how many."""
        keys = self._keys + [self._tags + tag for tag in tags]
        return self._guard(
            lambda: int(
                self.state.script("cache_invalidate", _INVALIDATE)(keys=keys, args=[self._values])
            ),
            0,
        )

    async def ainvalidate(self, tags: Iterable[str]) -> int:
        keys = self._keys + [self._tags + tag for tag in tags]

        async def remote() -> int:
            script = self.state.ascript("cache_invalidate", _INVALIDATE)
            return int(await script(keys=keys, args=[self._values]))

        return await self._aguard(remote, 0)

    def clear(self) -> None:
        """Drop every entry of the shared tier (for all processes)."""
        self._guard(
            lambda: self.state.script("cache_clear", _CLEAR)(keys=self._keys, args=[self._values]),
            None,
        )

    def usage(self) -> StoreUsage:
        """Entries, bytes and drops now (zeros while Redis is away)."""

        def remote() -> StoreUsage:
            client: Any = self.state.client
            pipe = client.pipeline(transaction=False)
            pipe.zcard(self._keys[1])
            pipe.get(self._keys[4])
            pipe.hgetall(self._keys[5])
            entries, total, stats = pipe.execute()
            counts = {_text(name): int(value) for name, value in stats.items()}
            return StoreUsage(
                int(entries),
                int(total or 0),
                self.max_bytes,
                counts.get("evictions", 0),
                counts.get("expired", 0),
                counts.get("invalidated", 0),
            )

        return self._guard(remote, StoreUsage(max_bytes=self.max_bytes))

    # --- helpers ------------------------------------------------------------------------------
    def _get_args(self, name: str) -> dict[str, list[Any]]:
        return {"keys": self._keys, "args": [self._values, name]}

    def _put_args(
        self, name: str, value: bytes, ttl_s: float, tags: Iterable[str], generation: str
    ) -> dict[str, list[Any]] | None:
        ttl_ms = round(ttl_s * 1000)
        size = len(value) + len(name)
        if ttl_ms <= 0 or size > self.max_bytes or not generation:
            return None
        keys = self._keys + [self._tags + tag for tag in tags]
        return {
            "keys": keys,
            "args": [self._values, name, value, size, ttl_ms, self.max_bytes, generation],
        }

    def _guard(self, remote: Callable[[], T], miss: T) -> T:
        try:
            return self.state.run(remote, lambda: miss)
        except SharedStateUnavailableError:
            return miss

    async def _aguard(self, remote: Callable[[], Awaitable[T]], miss: T) -> T:
        try:
            return await self.state.arun(remote, lambda: miss)
        except SharedStateUnavailableError:
            return miss
