"""The response cache: reuse answers that cannot have changed, bounded in bytes.

What may be kept, for how long and under which key is decided by the pure functions of
:mod:`~soniox.middleware.cache_policy` (transcripts of completed jobs, finished jobs, file
metadata and the model lists; a pending job's status only for a fraction of a second; nothing
else); this module obeys them and holds the bytes.

**Where it sits.** ``headers → tracing → metrics → cache → dedup → retry → concurrency →
rate_limit → logging → transport`` (the production profile's). Inside ``headers``, because the key needs the credential the request
will really carry — a key provider's current key, a per-call ``x-api-key`` from
``with_options(extra_headers=...)`` — which only exists once ``headers`` has run; resolving the
key from the config instead would be wrong for both (and would call a provider twice). (Placed
outside ``headers`` by mistake it still separates per-call keys: the key also hashes the
request's unmerged ``extra_headers``.) Outside ``dedup``, ``rate_limit`` and ``retry``: a hit
costs no synchronisation, no permit and no attempt; a miss is collapsed with identical
concurrent misses by ``dedup`` and retried as one call. Inside ``metrics`` and ``tracing``, so
they hear every lookup (below) and see hits as fast calls.

**Storage.** :class:`CacheStore` is the small interface a backend implements — ``get``, ``put``
(refused if anything was invalidated since the lookup: a GET that raced a DELETE never stores
the old state), ``invalidate(tags)``, ``clear``, ``usage`` — over values that hold no live
object (:class:`CachedResponse`: status, headers, body bytes, times, tags). The methods are called
synchronously from the thread that drives the request (or that iterates a streamed body); a
networked backend keeps them short (its own pool, timeouts). :class:`MemoryStore` is the
in-process one: an LRU bounded in bytes — body, headers, URL and a per-entry overhead — so a
flood of distinct URLs evicts the least recently used instead of growing; a body larger than
``max_entry_bytes`` is never kept.

**A shared tier.** Answers that never change — a completed job's transcript — can also live in
Redis for every process on the key (:class:`~soniox.shared.RedisCache`, bounded in bytes, LRU;
``SonioxConfig.cache_shared_max_bytes``): a miss here looks there before the server, a hit there
is kept here too, a fetched answer is put there, and a write on the item drops it there as well.
Those round trips are :class:`SharedCacheCall` effects, so the async client awaits them; a
streamed body is put once it has arrived whole. Names are :func:`~.cache_policy.shared_name`
digests, the same in every process; a Redis that is away is only a miss.

**Answers.** A hit is a fresh :class:`~soniox.transport.Response` every time (its own object,
``request`` the asking one, an ``Age`` header), sharing the immutable body bytes. A streamed
answer (``stream=True``: the transcript token reader) is kept only when it fits
``max_entry_bytes``: it is passed through untouched while a copy of its chunks is collected,
and kept once the body has arrived whole; a larger one, or one stopped early or cut off, is not
kept (the reader's resume logic is unaffected). A hit of a streamed request is an already-read
response, which the reader iterates the same way.

**Invalidation.** A POST, PUT, PATCH or DELETE drops the entries of its item and collection
(:func:`~soniox.middleware.cache_policy.invalidation_tags`) before it is sent and again after
it answered, for every credential: ``client.stt.delete(id)`` makes the next ``get(id)`` go to
the server.

**hishel** (``pip install hishel``, an RFC 9111 cache with a sans-I/O core) was considered as
the storage and semantics core and not used: (1) its decisions are HTTP's — ``Cache-Control``,
``ETag``, heuristics — and the Soniox API sends none of these, while ours come from the route and
the job status in the body, so nothing of its state machine would apply; (2) as an RFC private
cache it keys by URL, not by credential, and two API keys must never share an entry; (3) its
storages are SQLite-, file- or dict-backed pairs split into sync and async twin classes, with no
byte bound and no LRU, while one middleware object here serves both drivers and must stay
bounded; (4) tag invalidation and single-flight are outside its scope. Adopting it would mean
converting every request and response both ways to use none of its logic.

Observers outside it (``metrics``, ``tracing``) hear each lookup as a
:func:`~soniox.middleware.observe.cache_lookup` note (hit or miss).

``client.cache`` (both clients) is the ``Cache`` of the client's stack — ``stats`` and
``clear()`` — or :data:`NO_CACHE`, a disabled stand-in with the same surface (zero stats, a
``clear()`` that does nothing), so code that clears or reads the cache works under any profile.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Final, Protocol, TypeAlias
from urllib.parse import urlsplit

import attrs
import msgspec

from soniox.config import DEFAULT_BASE_URL, SonioxConfig
from soniox.errors import ClientValidationError
from soniox.middleware.cache_policy import (
    DEFAULT_HASHER,
    WRITE_METHODS,
    CacheKey,
    CacheRules,
    CredentialHasher,
    Route,
    invalidation_tags,
    request_directives,
    request_key,
    route_of,
    shared_name,
    ttl_for,
)
from soniox.middleware.engine import CallNext, Effect, Flow, get_clock
from soniox.middleware.observe import cache_lookup
from soniox.middleware.state import shared_state_for
from soniox.shared import BlobLookup, RedisCache, RedisState, StoreUsage
from soniox.transport.base import Clock, Transport
from soniox.transport.request import Headers, Request
from soniox.transport.response import Response, ResponseNotReadError

__all__ = [
    "Cache",
    "CacheHandle",
    "CacheStats",
    "CacheStore",
    "CachedResponse",
    "DisabledCache",
    "MemoryStore",
    "StoreUsage",
    "NO_CACHE",
    "SHAREABLE_RULES",
    "SharedCacheCall",
    "ENTRY_OVERHEAD",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRY_BYTES",
    "find_cache",
]

DEFAULT_MAX_BYTES: Final = 64 * 2**20
DEFAULT_MAX_ENTRY_BYTES: Final = 8 * 2**20
SHAREABLE_RULES: Final = frozenset({"transcripts", "files"})
"""Route rules whose answers may go to the shared tier: items that never change once they exist
(a completed job's transcript, a file's metadata), dropped by a write on the item."""
ENTRY_OVERHEAD: Final = 1024
"""Bytes counted per entry on top of its body, headers and URL: the Python objects around them
(measured: ~0.9 KiB for a small answer), so many tiny entries are bounded too."""


def _byte_count(owner: str, field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ClientValidationError(
            f"{owner}.{field} must be a whole number of bytes >= 0, got {value!r}", field=field
        )
    return value


# --- entries and storage ------------------------------------------------------------------------


@attrs.frozen(repr=False)
class CachedResponse:
    """One kept answer: plain values only (a store may serialise it)."""

    status: int
    headers: Headers
    content: bytes
    http_version: str
    stored_at: float
    """On the transport clock (monotonic seconds)."""
    ttl: float
    tags: tuple[str, ...]
    size: int
    """Bytes it is counted for: body, headers, URL and :data:`ENTRY_OVERHEAD`."""

    @classmethod
    def of(
        cls,
        key: CacheKey,
        response: Response,
        content: bytes,
        *,
        now: float,
        ttl: float,
        tags: tuple[str, ...],
    ) -> CachedResponse:
        headers = response.headers
        size = _entry_size(key, headers.items, content)
        return cls(response.status, headers, content, response.http_version, now, ttl, tags, size)

    @property
    def expires_at(self) -> float:
        return self.stored_at + self.ttl

    def response(self, request: Request, now: float) -> Response:
        """A fresh, read :class:`Response` for ``request`` (the body bytes are shared)."""
        age = str(max(0, int(now - self.stored_at)))
        return Response(
            self.status,
            request,
            self.http_version,
            0.0,
            headers=self.headers.set("age", age),
            content=self.content,
            closed=True,
        )

    def __repr__(self) -> str:
        return (
            f"CachedResponse({self.status}, {len(self.content)} bytes, ttl={self.ttl:g}s, "
            f"tags={list(self.tags)})"
        )

    def encode(self) -> bytes:
        """The entry as the shared tier keeps it (MessagePack; times are the tier's own)."""
        return msgspec.msgpack.encode(
            (_WIRE_VERSION, self.status, self.headers.items, self.content, self.http_version)
        )

    @classmethod
    def decode(
        cls,
        key: CacheKey,
        blob: bytes,
        *,
        now: float,
        age: float,
        ttl_left: float,
        tags: tuple[str, ...],
    ) -> CachedResponse:
        """An entry the shared tier returned, ``age`` seconds old with ``ttl_left`` to go
        (ValueError if the blob is not one this version wrote)."""
        try:
            wire = msgspec.msgpack.decode(blob, type=_Wire)
        except msgspec.DecodeError as error:
            raise ValueError(f"not a shared cache entry: {error}") from None
        version, status, items, content, http_version = wire
        if version != _WIRE_VERSION:
            raise ValueError(f"shared cache entry of version {version}")
        headers = Headers(tuple((name, value) for name, value in items))
        size = _entry_size(key, headers.items, content)
        return cls(status, headers, content, http_version, now - age, age + ttl_left, tags, size)


def _entry_size(key: CacheKey, items: tuple[tuple[str, str], ...], content: bytes) -> int:
    """The bytes an entry is counted for: body, headers, URL and :data:`ENTRY_OVERHEAD`."""
    return len(content) + sum(len(n) + len(v) for n, v in items) + len(key.url) + ENTRY_OVERHEAD


_WIRE_VERSION: Final = 1
_Wire: TypeAlias = tuple[int, int, list[tuple[str, str]], bytes, str]


class CacheStore(Protocol):
    """Where kept answers live. Thread-safe; every method is short (no waiting on others)."""

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`invalidate` and :meth:`clear`."""
        ...

    def get(self, key: CacheKey, now: float) -> CachedResponse | None:
        """The entry of ``key`` unless absent or expired at ``now`` (an expired one is dropped)."""
        ...

    def put(self, key: CacheKey, entry: CachedResponse, *, generation: int) -> bool:
        """Keep ``entry``, unless something was invalidated since ``generation`` was read or
        it can never fit; True if kept."""
        ...

    def invalidate(self, tags: Iterable[str]) -> int:
        """Drop every entry carrying one of ``tags``; returns how many."""
        ...

    def clear(self) -> None: ...

    def usage(self) -> StoreUsage: ...


_Slot: TypeAlias = tuple[str, str, str]
"""A :class:`CacheKey` as :class:`MemoryStore` keeps it: (method, url, credential)."""
_Kept: TypeAlias = tuple[
    int, tuple[tuple[str, str], ...], bytes, str, float, float, tuple[str, ...], int
]
"""A :class:`CachedResponse` as :class:`MemoryStore` keeps it: its fields in order."""


def _slot(key: CacheKey) -> _Slot:
    return (key.method, key.url, key.credential)


def _kept(entry: CachedResponse) -> _Kept:
    return (
        entry.status,
        entry.headers.items,
        entry.content,
        entry.http_version,
        entry.stored_at,
        entry.ttl,
        entry.tags,
        entry.size,
    )


class MemoryStore:
    """An in-process LRU bounded by ``max_bytes`` (as :attr:`CachedResponse.size` counts).

    Entries are held as plain tuples of strings, numbers and bytes, not as the objects the
    interface trades in: the garbage collector stops tracking such tuples, so a full store
    (tens of thousands of small answers at the default 64 MiB) adds nothing to every later
    collection pass — held as objects, they cost the whole client a few microseconds per call.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = _byte_count("MemoryStore", "max_bytes", max_bytes)
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Slot, _Kept] = OrderedDict()
        self._tags: dict[str, set[_Slot]] = {}
        self._bytes = 0
        self._evictions = 0
        self._expired = 0
        self._invalidated = 0
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: CacheKey, now: float) -> CachedResponse | None:
        slot = _slot(key)
        with self._lock:
            kept = self._entries.get(slot)
            if kept is None:
                return None
            if now >= kept[4] + kept[5]:
                self._drop(slot, kept)
                self._expired += 1
                return None
            self._entries.move_to_end(slot)
        status, items, content, version, stored_at, ttl, tags, size = kept
        return CachedResponse(status, Headers(items), content, version, stored_at, ttl, tags, size)

    def put(self, key: CacheKey, entry: CachedResponse, *, generation: int) -> bool:
        if entry.size > self.max_bytes:
            return False
        slot, kept = _slot(key), _kept(entry)
        with self._lock:
            if generation != self._generation:
                return False
            entries = self._entries
            old = entries.get(slot)
            if old is not None:
                self._drop(slot, old)
            entries[slot] = kept
            self._bytes += entry.size
            for tag in entry.tags:
                self._tags.setdefault(tag, set()).add(slot)
            while self._bytes > self.max_bytes:
                oldest, dropped = next(iter(entries.items()))
                self._drop(oldest, dropped)
                self._evictions += 1
            return True

    def invalidate(self, tags: Iterable[str]) -> int:
        dropped = 0
        with self._lock:
            self._generation += 1
            for tag in tags:
                for slot in list(self._tags.get(tag, ())):
                    kept = self._entries.get(slot)
                    if kept is not None:
                        self._drop(slot, kept)
                        dropped += 1
            self._invalidated += dropped
        return dropped

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._tags.clear()
            self._bytes = 0

    def usage(self) -> StoreUsage:
        with self._lock:
            return StoreUsage(
                len(self._entries),
                self._bytes,
                self.max_bytes,
                self._evictions,
                self._expired,
                self._invalidated,
            )

    def _drop(self, slot: _Slot, kept: _Kept) -> None:
        """Forget ``slot`` (holding the lock)."""
        del self._entries[slot]
        self._bytes -= kept[7]
        for tag in kept[6]:
            slots = self._tags.get(tag)
            if slots is not None:
                slots.discard(slot)
                if not slots:
                    del self._tags[tag]

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._entries)} entries, {self._bytes}/{self.max_bytes} bytes)"


# --- stats and the client's handle -----------------------------------------------------------------


@attrs.frozen
class CacheStats:
    """A snapshot of a cache: lookups, what was kept, what it holds."""

    hits: int = 0
    misses: int = 0
    """Lookups of a cacheable GET that found nothing fresh (the request went upstream)."""
    bypassed: int = 0
    """GETs the rules never keep (listings, usage …): not looked up."""
    stores: int = 0
    entries: int = 0
    bytes: int = 0
    max_bytes: int = 0
    evictions: int = 0
    expired: int = 0
    invalidated: int = 0
    shared_hits: int = 0
    """Hits served by the shared tier (counted in ``hits`` too): another process fetched it."""
    shared_stores: int = 0
    """Answers this process put in the shared tier."""

    @property
    def hit_ratio(self) -> float:
        """Hits over lookups (0 before the first)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class CacheHandle(Protocol):
    """What ``client.cache`` offers, whether or not the stack has a cache."""

    @property
    def enabled(self) -> bool: ...

    @property
    def stats(self) -> CacheStats: ...

    def clear(self) -> None: ...

    def shared_usage(self) -> StoreUsage | None:
        """What the shared tier holds (all processes), None without one."""
        ...


class DisabledCache:
    """``client.cache`` when the stack has no ``cache``: zero stats, ``clear()`` does nothing."""

    @property
    def enabled(self) -> bool:
        return False

    @property
    def stats(self) -> CacheStats:
        return CacheStats()

    def clear(self) -> None:
        """Nothing to clear."""

    def shared_usage(self) -> StoreUsage | None:
        return None

    def __repr__(self) -> str:
        return "DisabledCache()"


NO_CACHE: Final = DisabledCache()


def find_cache(middleware: Iterable[object]) -> CacheHandle:
    """The first :class:`Cache` among ``middleware`` (a stack), else :data:`NO_CACHE`."""
    for item in middleware:
        if isinstance(item, Cache):
            return item
    return NO_CACHE


# --- the middleware --------------------------------------------------------------------------------


@attrs.frozen
class SharedCacheCall(Effect):
    """A shared-tier operation as an effect: the sync driver calls ``call``, the async one
    awaits ``acall``, so a Redis round trip never blocks an event loop."""

    call: Callable[[], Any] = attrs.field(eq=False)
    acall: Callable[[], Awaitable[Any]] = attrs.field(eq=False)
    what: str = ""

    def run(self, transport: Transport) -> Any:
        return self.call()

    async def arun(self, transport: Transport) -> Any:
        return await self.acall()


@attrs.frozen
class _Share:
    """Where a miss's answer goes in the shared tier: its name and the lookup's generation."""

    tier: RedisCache = attrs.field(eq=False)
    name: str
    generation: str

    def put_of(self, entry: CachedResponse) -> tuple[str, bytes, dict[str, Any]]:
        """The tier's ``put`` arguments for ``entry``."""
        terms = {"ttl_s": entry.ttl, "tags": entry.tags, "generation": self.generation}
        return self.name, entry.encode(), terms


class Cache:
    """Serves fresh kept answers, keeps new ones as the rules allow, drops them on writes.

    With a ``shared`` tier (:class:`~soniox.shared.RedisCache`), answers of ``shared_rules``
    (a completed job's transcript) a process does not hold are looked up there before going to
    the server, and put there when fetched: a fleet of workers asks for each once.
    """

    name = "cache"

    def __init__(
        self,
        store: CacheStore | None = None,
        *,
        rules: CacheRules | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        base_path: str = "/v1",
        hasher: CredentialHasher | None = None,
        shared: RedisCache | None = None,
        shared_rules: Iterable[str] = ("transcripts",),
    ) -> None:
        """``store`` (default: a :class:`MemoryStore` of ``max_bytes``); ``rules``: the TTLs;
        ``max_entry_bytes``: the largest body kept, streamed or not; ``base_path``: the API's
        path prefix, stripped before routes are matched; ``shared``: a tier shared by
        processes for the routes of ``shared_rules`` (of :data:`SHAREABLE_RULES`)."""
        max_bytes = _byte_count("Cache", "max_bytes", max_bytes)
        self.max_entry_bytes = _byte_count("Cache", "max_entry_bytes", max_entry_bytes)
        self.store: CacheStore = store if store is not None else MemoryStore(max_bytes)
        self.rules = rules if rules is not None else CacheRules()
        self.base_path = base_path
        self._hasher = hasher if hasher is not None else DEFAULT_HASHER
        shared_rules = frozenset(shared_rules)
        if not shared_rules <= SHAREABLE_RULES:
            raise ClientValidationError(
                f"Cache.shared_rules may name {sorted(SHAREABLE_RULES)}, "
                f"got {sorted(shared_rules)}",
                field="shared_rules",
            )
        self.shared_tier = shared
        self.shared_rules = shared_rules
        self._shared_collections = frozenset(
            "transcriptions" if rule == "transcripts" else "files" for rule in shared_rules
        )
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._bypassed = 0
        self._stores = 0
        self._shared_hits = 0
        self._shared_stores = 0

    @property
    def shared(self) -> RedisState | None:
        """The shared state the tier lives on (its fallbacks show in the client's metrics)."""
        return None if self.shared_tier is None else self.shared_tier.state

    @classmethod
    def from_config(cls, config: SonioxConfig) -> Cache:
        """The cache ``config``'s ``cache_*`` knobs describe (the registry's ``cache``); with
        ``cache_shared_max_bytes``, a shared tier on ``shared_state``'s Redis."""
        return cls(
            rules=CacheRules(
                models=config.cache_ttl_models,
                files=config.cache_ttl_files,
                transcripts=config.cache_ttl_transcripts,
                finished_jobs=config.cache_ttl_finished_jobs,
                pending_jobs=config.cache_ttl_pending_jobs,
            ),
            max_bytes=config.cache_max_bytes,
            max_entry_bytes=config.cache_max_entry_bytes,
            base_path=urlsplit(config.base_url or DEFAULT_BASE_URL).path,
            shared=_shared_tier_for(config),
        )

    # --- the request path ------------------------------------------------------------------
    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        method = request.method
        if method != "GET":
            if method not in WRITE_METHODS:
                return (yield from call_next(request))
            return (yield from self._write(request, call_next))
        route = route_of(request.url.path, self.base_path)
        if not self.rules.may_keep(route):
            with self._lock:
                self._bypassed += 1
            return (yield from call_next(request))
        serve, keep = request_directives(request.headers)
        key = request_key(request, self._hasher)
        clock = yield from get_clock()
        store = self.store
        generation = store.generation
        share: _Share | None = None
        if serve:
            entry = store.get(key, clock.now())
            if entry is not None:
                with self._lock:
                    self._hits += 1
                yield from cache_lookup(hit=True)
                return entry.response(request, clock.now())
            tier = self.shared_tier
            if tier is not None and route.rule in self.shared_rules:
                name = shared_name(request)
                lookup: BlobLookup = yield SharedCacheCall(
                    lambda: tier.get(name), lambda: tier.aget(name), "get"
                )
                entry = self._shared_hit(key, route, lookup, clock, generation)
                if entry is not None:
                    yield from cache_lookup(hit=True)
                    return entry.response(request, clock.now())
                share = _Share(tier, name, lookup.generation)
        with self._lock:
            self._misses += 1
        yield from cache_lookup(hit=False)
        response = yield from call_next(request)
        if not keep or response.status != 200:
            return response
        try:
            content = response.content
        except ResponseNotReadError:
            return self._tee(response, key, route, clock, generation, share)
        entry = self._keep(key, route, response, content, clock, generation)
        if entry is not None and share is not None:
            shared, kept = share, entry
            yield SharedCacheCall(
                lambda: self.put_shared(shared, kept), lambda: self.aput_shared(shared, kept), "put"
            )
        return response

    def _shared_hit(
        self, key: CacheKey, route: Route, lookup: BlobLookup, clock: Clock, generation: int
    ) -> CachedResponse | None:
        """The entry the shared tier answered (kept here too), else None."""
        hit = lookup.hit
        if hit is None:
            return None
        try:
            entry = CachedResponse.decode(
                key,
                hit.value,
                now=clock.now(),
                age=hit.age_s,
                ttl_left=hit.ttl_left_s,
                tags=route.tags,
            )
        except ValueError:
            return None  # another version's entry: fetched again, and replaced
        with self._lock:
            self._hits += 1
            self._shared_hits += 1
        if len(entry.content) <= self.max_entry_bytes:
            self.store.put(key, entry, generation=generation)
        return entry

    def _write(self, request: Request, call_next: CallNext) -> Flow[Response]:
        """A write: its resource's entries go before it is sent and again once it answered
        (a GET that raced it may have kept the old state meanwhile) — here and, for an item
        the shared tier may hold, there too."""
        tags = invalidation_tags(route_of(request.url.path, self.base_path))
        if not tags:
            return (yield from call_next(request))
        yield from self._invalidate(tags)
        try:
            response = yield from call_next(request)
        except Exception:
            yield from self._invalidate(tags)
            raise
        except BaseException:
            self.store.invalidate(tags)  # closed or cancelled: no more effects
            raise
        yield from self._invalidate(tags)
        return response

    def _invalidate(self, tags: tuple[str, ...]) -> Flow[None]:
        self.store.invalidate(tags)
        tier = self.shared_tier
        if tier is None:
            return
        shared_tags = self._shared_tags(tags)
        if shared_tags:
            yield SharedCacheCall(
                lambda: tier.invalidate(shared_tags),
                lambda: tier.ainvalidate(shared_tags),
                "invalidate",
            )

    def _shared_tags(self, tags: tuple[str, ...]) -> tuple[str, ...]:
        """The item tags among ``tags`` the shared tier may hold entries under."""
        return tuple(
            tag for tag in tags if "/" in tag and tag.split("/", 1)[0] in self._shared_collections
        )

    def _keep(
        self,
        key: CacheKey,
        route: Route,
        response: Response,
        body: bytes,
        clock: Clock,
        generation: int,
    ) -> CachedResponse | None:
        """Keep ``body`` here if the rules allow; the entry (None: not keepable)."""
        if len(body) > self.max_entry_bytes:
            return None
        ttl = ttl_for(self.rules, route, response.status, response.headers, body)
        if ttl <= 0:
            return None
        entry = CachedResponse.of(key, response, body, now=clock.now(), ttl=ttl, tags=route.tags)
        if self.store.put(key, entry, generation=generation):
            with self._lock:
                self._stores += 1
        return entry

    def put_shared(self, share: _Share, entry: CachedResponse) -> bool:
        """Put ``entry`` in the shared tier where ``share`` says (True: kept)."""
        name, blob, terms = share.put_of(entry)
        return self._shared_stored(share.tier.put(name, blob, **terms))

    async def aput_shared(self, share: _Share, entry: CachedResponse) -> bool:
        """:meth:`put_shared`, awaited."""
        name, blob, terms = share.put_of(entry)
        return self._shared_stored(await share.tier.aput(name, blob, **terms))

    def _shared_stored(self, stored: bool) -> bool:
        if stored:
            with self._lock:
                self._shared_stores += 1
        return stored

    def _tee(
        self,
        response: Response,
        key: CacheKey,
        route: Route,
        clock: Clock,
        generation: int,
        share: _Share | None,
    ) -> Response:
        """``response`` still streaming: the same chunks, a copy kept if the body fits."""
        length = response.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_entry_bytes):
            return response

        def keep(body: bytes) -> CachedResponse | None:
            return self._keep(key, route, response, body, clock, generation)

        return Response(
            response.status,
            response.request,
            response.http_version,
            response.elapsed,
            headers=response.headers,
            stream=_Tee(response, self.max_entry_bytes, keep, self, share),
            on_close=response.close,
            on_aclose=response.aclose,
        )

    # --- the handle ------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return True

    @property
    def stats(self) -> CacheStats:
        usage = self.store.usage()
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                bypassed=self._bypassed,
                stores=self._stores,
                entries=usage.entries,
                bytes=usage.bytes,
                max_bytes=usage.max_bytes,
                evictions=usage.evictions,
                expired=usage.expired,
                invalidated=usage.invalidated,
                shared_hits=self._shared_hits,
                shared_stores=self._shared_stores,
            )

    def clear(self) -> None:
        """Drop every entry of this process (the counters stay; a shared tier is left to the
        others: ``cache.shared_tier.clear()`` empties it for all)."""
        self.store.clear()

    def shared_usage(self) -> StoreUsage | None:
        """What the shared tier holds (all processes), None without one."""
        return None if self.shared_tier is None else self.shared_tier.usage()

    def __repr__(self) -> str:
        usage = self.store.usage()
        shared = "" if self.shared_tier is None else f", shared={self.shared_tier!r}"
        return (
            f"Cache({usage.entries} entries, {usage.bytes}/{usage.max_bytes} bytes, "
            f"max_entry_bytes={self.max_entry_bytes}{shared})"
        )


def _shared_tier_for(config: SonioxConfig) -> RedisCache | None:
    """The shared tier ``config`` asks for (``cache_shared_max_bytes`` on ``shared_state``)."""
    if not config.cache_shared_max_bytes:
        return None
    found = shared_state_for(config)
    if found is None or not isinstance(found[0], RedisState):
        raise ClientValidationError(
            "SonioxConfig.cache_shared_max_bytes needs shared_state: a redis:// URL or a "
            "soniox.shared.RedisState",
            field="cache_shared_max_bytes",
        )
    return RedisCache(found[0], max_bytes=config.cache_shared_max_bytes)


class _Collector:
    """The chunks of a body while it stays within ``limit`` bytes (then nothing)."""

    __slots__ = ("_chunks", "_left")

    def __init__(self, limit: int) -> None:
        self._chunks: list[bytes] | None = []
        self._left = limit

    def add(self, chunk: bytes) -> None:
        chunks = self._chunks
        if chunks is None:
            return
        self._left -= len(chunk)
        if self._left < 0:
            self._chunks = None
        else:
            chunks.append(chunk)

    def body(self) -> bytes | None:
        """The whole body, if it fitted."""
        return None if self._chunks is None else b"".join(self._chunks)


class _Tee:
    """A streamed body passed through chunk by chunk; ``keep`` gets a copy once it arrived
    whole within ``limit`` bytes (and the shared tier, if ``share``). Stopped early or broken
    off, nothing is kept."""

    __slots__ = ("_cache", "_keep", "_limit", "_share", "_source")

    def __init__(
        self,
        source: Response,
        limit: int,
        keep: Callable[[bytes], CachedResponse | None],
        cache: Cache,
        share: _Share | None,
    ) -> None:
        self._source = source
        self._limit = limit
        self._keep = keep
        self._cache = cache
        self._share = share

    def __iter__(self) -> Iterator[bytes]:
        collector = _Collector(self._limit)
        for chunk in self._source.iter_bytes():
            collector.add(chunk)
            yield chunk
        entry = self._done(collector)
        if entry is not None and self._share is not None:
            self._cache.put_shared(self._share, entry)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        collector = _Collector(self._limit)
        async for chunk in self._source.aiter_bytes():
            collector.add(chunk)
            yield chunk
        entry = self._done(collector)
        if entry is not None and self._share is not None:
            await self._cache.aput_shared(self._share, entry)

    def _done(self, collector: _Collector) -> CachedResponse | None:
        body = collector.body()
        return None if body is None else self._keep(body)
