"""State shared by many processes: token buckets, leased semaphores and bounded counters, in
this process (:class:`LocalState`) or on Redis (:class:`RedisState`, extra ``redis``: redis-py
is imported only when a ``RedisState`` is made), and a byte-bounded cache tier shared on Redis
(:class:`RedisCache`)."""

from __future__ import annotations

from .base import INFINITE, Grant, LocalState, SharedState, scope_of
from .redis import FailurePolicy, RedisState
from .redis_cache import BlobHit, BlobLookup, RedisCache, StoreUsage

__all__ = [
    "INFINITE",
    "BlobHit",
    "BlobLookup",
    "RedisCache",
    "StoreUsage",
    "FailurePolicy",
    "Grant",
    "LocalState",
    "RedisState",
    "SharedState",
    "scope_of",
]
