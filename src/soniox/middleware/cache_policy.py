"""What the response cache may keep, for how long, under which key: pure functions, no I/O.

The :mod:`~soniox.middleware.cache` and :mod:`~soniox.middleware.dedup` middleware only obey
these decisions; hypothesis tests check them without sockets or clocks.

**Which answers are safe to reuse.** The Soniox API sends no ``Cache-Control``, ``ETag`` or
``Last-Modified``, so HTTP's own freshness rules would keep nothing. What makes an answer safe
is the API's own lifecycle (``shared/docs/soniox-api.md``), so the rules are per *route
template* (the path with ids replaced, below the base path ``/v1``):

============================================  ================================================
``GET /models``, ``GET /tts-models``           the model catalogue: changes on releases only
                                               (``models``, 1 h)
``GET /files/{id}``                            file metadata: never changes, until deleted
                                               (``files``, 10 min)
``GET /transcriptions/{id}/transcript``        a transcript exists only once the job is
                                               ``completed`` and never changes after
                                               (``transcripts``, 1 h)
``GET /transcriptions/{id}``, ``completed``    a finished job: only ``webhook_status_code`` can
or ``error``, webhook delivered (or none)      still change, and it won't once a webhook was
                                               accepted (``finished_jobs``, 60 s)
``GET /transcriptions/{id}``, ``queued`` or    changes any moment: kept only briefly, less than
``processing`` — or finished with its webhook  ``wait()``'s shortest regular poll interval, so
not yet accepted                               a wait never reads its own previous poll back
                                               (``pending_jobs``, 0.25 s)
every other GET: listings, counts, usage,      never: they change with every upload, job or
concurrency limits, usage logs                 second of use
============================================  ================================================

Only ``200`` answers are kept. On top of the route's TTL the server still has the last word: a
response ``Cache-Control: no-store`` / ``no-cache`` or ``Vary: *`` is not kept, and ``max-age``
shortens the TTL. A request can opt out too: ``Cache-Control: no-cache`` (or ``max-age=0``)
skips the lookup, ``no-store`` also skips keeping the answer (pass it with
``client.with_options(extra_headers={"cache-control": "no-cache"})``).

**Keys.** :class:`CacheKey` is method + origin + path + query + a keyed BLAKE2b digest of the
request's credential-bearing headers (``Authorization``, ``X-Api-Key`` … — whatever
:func:`~soniox.transport.request.is_credential_header` says). Two API keys never share an
entry, and the key itself is never stored: the digest is computed as the request passes, with a
secret drawn once per process (:class:`CredentialHasher`), so the in-process store cannot be used
to confirm a guessed key. The shared tier (Redis) names its entries by :func:`shared_name`, a
digest every process computes alike (:data:`SHARED_HASHER`): it never holds the key either.

**Invalidation.** Entries carry *tags*: an item's answers ``files/{id}`` or
``transcriptions/{id}`` (status and transcript alike), a collection's answers (listings,
counts) ``files`` / ``transcriptions``. A ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` drops the
tags of its route: an item's own and its collection's (``DELETE /files/{id}`` → ``files/{id}``,
``files``); a collection ``POST`` (an upload, a new job) only the collection's.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from typing import Any, Final, Literal

import attrs
import msgspec

from soniox.errors import ClientValidationError, redact
from soniox.transport.request import Headers, Request, is_credential_header

__all__ = [
    "CacheKey",
    "CacheRules",
    "CredentialHasher",
    "Route",
    "RuleName",
    "RULE_NAMES",
    "FINISHED_STATUSES",
    "WRITE_METHODS",
    "request_key",
    "route_of",
    "SHARED_HASHER",
    "shared_name",
    "cache_control",
    "request_directives",
    "response_ttl",
    "ttl_for",
    "invalidation_tags",
]

RuleName = Literal["models", "files", "transcripts", "finished_jobs", "pending_jobs"]
RULE_NAMES: Final[tuple[RuleName, ...]] = (
    "models",
    "files",
    "transcripts",
    "finished_jobs",
    "pending_jobs",
)
FINISHED_STATUSES: Final = frozenset({"completed", "error"})
"""A job in one of these never goes back to ``queued`` / ``processing``."""
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change a resource: they drop its entries (and its collection's)."""

_COLLECTION_ENDPOINTS: Final = frozenset({"count"})
"""Second segments that are collection endpoints, not ids (``/files/count``)."""


# --- keys -----------------------------------------------------------------------------------------


_credential_names: dict[str, bool] = {}
_CREDENTIAL_NAMES_MAX: Final = 1024


def _credentials(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The pairs of ``pairs`` whose name may carry a credential (names remembered, bounded)."""
    names = _credential_names
    kept: list[tuple[str, str]] = []
    for pair in pairs:
        name = pair[0]
        secret = names.get(name)
        if secret is None:
            secret = is_credential_header(name)
            if len(names) < _CREDENTIAL_NAMES_MAX:
                names[name] = secret
        if secret:
            kept.append(pair)
    return tuple(kept)


class CredentialHasher:
    """A keyed BLAKE2b digest of a request's credential headers (``Authorization`` …).

    The secret is drawn once per hasher (the module's default: once per process), so digests
    are comparable within the process and useless outside it. Nothing of the credential is kept.
    A store shared between processes (Redis, later) needs the same secret on every side: pass it
    explicitly then.
    """

    __slots__ = ("_last", "_last_digest", "_secret")

    def __init__(self, secret: bytes | None = None) -> None:
        if secret is not None and not 16 <= len(secret) <= 64:
            raise ClientValidationError(
                "CredentialHasher secret must be 16 to 64 bytes", field="secret"
            )
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._last_digest: tuple[object, str] | None = None
        self._last: tuple[Request, CacheKey] | None = None
        """The last request keyed, and its key: ``cache`` and ``dedup`` key the same request
        object one after the other (one tuple, replaced whole: safe across threads)."""

    def digest(self, headers: Headers, extra: tuple[tuple[str, str], ...] = ()) -> str:
        """32 hex digits naming the credentials ``headers`` — and ``extra``, a call's
        ``extra_headers`` not merged yet — carry (the same for none)."""
        carried = (_credentials(headers.items), _credentials(extra))
        last = self._last_digest
        if last is not None and last[0] == carried:
            return last[1]
        blake = hashlib.blake2b(key=self._secret, digest_size=16)
        for part, pairs in enumerate(carried):
            blake.update(b"|" * part)
            for name, value in pairs:
                blake.update(f"{len(name)}:{name}{len(value)}:".encode())
                blake.update(value.encode("utf-8", "surrogateescape"))
        digest = blake.hexdigest()
        # The last credentials and their digest (one tuple, replaced whole): a client sends
        # the same key call after call. Only this hasher holds it, as the request did.
        self._last_digest = (carried, digest)
        return digest

    def key_of(self, request: Request) -> CacheKey:
        """:func:`request_key` (remembered for the last request asked about)."""
        last = self._last
        if last is not None and last[0] is request:
            return last[1]
        url = request.url
        key = CacheKey(
            request.method,
            f"{url.scheme}://{url.netloc}{url.target}",
            self.digest(request.headers, request.options.extra_headers),
        )
        self._last = (request, key)
        return key

    def __repr__(self) -> str:
        return "CredentialHasher(<secret>)"


DEFAULT_HASHER: Final = CredentialHasher()


@attrs.frozen(cache_hash=True, repr=False)
class CacheKey:
    """What identifies a reusable answer: method, the full URL (origin, path, query) and a
    digest of the credential. Hashable; holds no secret."""

    method: str
    url: str
    """``scheme://host[:port]/path?query``."""
    credential: str
    """:meth:`CredentialHasher.digest` of the request's credential headers."""

    def __repr__(self) -> str:
        return redact(f"CacheKey({self.method} {self.url}, credential={self.credential[:8]}…)")


SHARED_HASHER: Final = CredentialHasher(secret=b"soniox shared cache tier, v1")
"""The credential digest of the shared tier: every process must compute the same one without
being configured, so its key is fixed — a domain-separated hash, like the shared state's
scopes. It hides the credential; it does not make guessing one harder (API keys are long random
strings, which is what protects them)."""


def shared_name(request: Request) -> str:
    """The name of ``request``'s answer in the shared tier: a digest of method, URL and
    credential (:data:`SHARED_HASHER`), the same in every process."""
    key = SHARED_HASHER.key_of(request)
    return hashlib.blake2b(
        f"{key.method} {key.url} {key.credential}".encode(), digest_size=16
    ).hexdigest()


def request_key(request: Request, hasher: CredentialHasher = DEFAULT_HASHER) -> CacheKey:
    """The :class:`CacheKey` of ``request``: the credential headers it carries, and those of
    its ``extra_headers`` (so a per-call key is told apart even outside ``headers``)."""
    return hasher.key_of(request)


# --- routes -------------------------------------------------------------------------------------


@attrs.frozen
class Route:
    """A request path seen as the API's route template, with what identifies its resource."""

    template: str
    """``/transcriptions/{id}/transcript``; ids replaced, below the base path."""
    collection: str | None = None
    """The first segment (``files``, ``transcriptions``); None for ``/``."""
    item: str | None = None
    """``collection/id`` when the path names one object."""
    rule: Literal["models", "files", "transcripts", "jobs"] | None = None
    """Which TTL applies to a GET (``jobs``: finished or pending, by the body); None: never."""

    @property
    def tags(self) -> tuple[str, ...]:
        """The tags an answer of this route is stored under (its item, else its collection)."""
        if self.item is not None:
            return (self.item,)
        return (self.collection,) if self.collection is not None else ()


_RULES: Final[dict[tuple[str, ...], Literal["models", "files", "transcripts", "jobs"]]] = {
    ("models",): "models",
    ("tts-models",): "models",
    ("files", "{id}"): "files",
    ("transcriptions", "{id}"): "jobs",
    ("transcriptions", "{id}", "transcript"): "transcripts",
}


_routes: dict[tuple[str, str], Route] = {}
_ROUTES_MAX: Final = 4096


def route_of(path: str, base_path: str = "/v1") -> Route:
    """The route of ``path`` (the URL's full path; ``base_path`` is stripped when it starts
    with it): ``/v1/files/abc`` → ``Route("/files/{id}", "files", "files/abc", "files")``.

    Routes without an id (``/v1/models``, collections) are remembered, up to a bound: they are
    what a hot loop asks for again and again; paths with ids are unbounded, so computed."""
    found = _routes.get((path, base_path))
    if found is None:
        found = _route_of(path, base_path)
        if found.item is None and len(_routes) < _ROUTES_MAX:
            _routes[(path, base_path)] = found
    return found


def _route_of(path: str, base_path: str) -> Route:
    base = base_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :]
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return Route("/")
    collection = segments[0]
    shape = [collection]
    item: str | None = None
    if len(segments) >= 2:
        if segments[1] in _COLLECTION_ENDPOINTS:
            shape.append(segments[1])
        else:
            item = f"{collection}/{segments[1]}"
            shape.append("{id}")
        shape.extend(segments[2:])
    return Route("/" + "/".join(shape), collection, item, _RULES.get(tuple(shape)))


def invalidation_tags(route: Route) -> tuple[str, ...]:
    """The tags a write (POST, PUT, PATCH, DELETE) on ``route`` makes stale: the item's own
    answers and its collection's listings and counts."""
    tags: list[str] = []
    if route.item is not None:
        tags.append(route.item)
    if route.collection is not None:
        tags.append(route.collection)
    return tuple(tags)


# --- TTL rules ----------------------------------------------------------------------------------


def _ttl(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not (number and value >= 0 and math.isfinite(value)):  # type: ignore[operator]
        raise ClientValidationError(
            f"CacheRules.{attribute.name} must be a finite number of seconds >= 0 (0: never "
            f"keep), got {value!r}",
            field=attribute.name,
        )


@attrs.frozen
class CacheRules:
    """Seconds each kind of answer may be reused (0: never). See the module docs for why each
    default is what it is; ``SonioxConfig.cache_ttl_*`` set them per client."""

    models: float = attrs.field(default=3600.0, validator=_ttl)
    files: float = attrs.field(default=600.0, validator=_ttl)
    transcripts: float = attrs.field(default=3600.0, validator=_ttl)
    finished_jobs: float = attrs.field(default=60.0, validator=_ttl)
    pending_jobs: float = attrs.field(default=0.25, validator=_ttl)

    def seconds(self, rule: Literal["models", "files", "transcripts"]) -> float:
        """The TTL of a route rule whose answers never change meaning."""
        if rule == "models":
            return self.models
        return self.files if rule == "files" else self.transcripts

    def may_keep(self, route: Route) -> bool:
        """Whether some answer of ``route`` could be kept (else the cache does not look)."""
        rule = route.rule
        if rule is None:
            return False
        if rule == "jobs":
            return self.finished_jobs > 0 or self.pending_jobs > 0
        return self.seconds(rule) > 0


class _Status(msgspec.Struct):
    status: str | None = None
    webhook_url: str | None = None
    webhook_status_code: int | None = None


_STATUS_DECODER: Final = msgspec.json.Decoder(_Status)


def _job_status(body: bytes) -> str | None:
    """The ``status`` of a Transcription body (the rest is not decoded); None if unreadable.
    A finished job whose webhook is still to be delivered (a ``webhook_url`` without a 2xx
    ``webhook_status_code``: not sent yet, or refused and being retried) counts as
    ``"processing"``: its ``webhook_status_code`` is about to change."""
    try:
        job = _STATUS_DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if (
        job.status in FINISHED_STATUSES
        and job.webhook_url
        and not (job.webhook_status_code is not None and 200 <= job.webhook_status_code < 300)
    ):
        return "processing"
    return job.status


def cache_control(headers: Headers) -> dict[str, str | None]:
    """The directives of every ``Cache-Control`` field, lower-cased (``max-age`` → its value,
    ``no-store`` → None)."""
    directives: dict[str, str | None] = {}
    for value in headers.get_all("cache-control"):
        for part in value.split(","):
            name, sep, argument = part.strip().partition("=")
            if name:
                directives[name.strip().lower()] = argument.strip().strip('"') if sep else None
    return directives


def _max_age(directives: dict[str, str | None]) -> float | None:
    raw = directives.get("max-age")
    if raw is None:
        return None
    try:
        seconds = int(raw)
    except ValueError:
        return 0.0  # an unreadable max-age: treat as stale (RFC 9111, 4.2.1)
    return float(max(seconds, 0))


def request_directives(headers: Headers) -> tuple[bool, bool]:
    """``(serve, keep)`` for a request: may the cache answer it, may its answer be kept.
    ``Cache-Control: no-cache`` or ``max-age=0`` → not served from the cache; ``no-store`` →
    neither served nor kept."""
    if "cache-control" not in headers:
        return True, True
    directives = cache_control(headers)
    if "no-store" in directives:
        return False, False
    return "no-cache" not in directives and _max_age(directives) != 0.0, True


def response_ttl(ttl: float, headers: Headers) -> float:
    """``ttl`` as the response's own headers allow: 0 for ``no-store``, ``no-cache`` or
    ``Vary: *``; at most ``max-age``."""
    if ttl <= 0:
        return 0.0
    if "cache-control" in headers:
        directives = cache_control(headers)
        if "no-store" in directives or "no-cache" in directives:
            return 0.0
        max_age = _max_age(directives)
        if max_age is not None:
            ttl = min(ttl, max_age)
    if any(part.strip() == "*" for value in headers.get_all("vary") for part in value.split(",")):
        return 0.0
    return ttl


def ttl_for(rules: CacheRules, route: Route, status: int, headers: Headers, body: bytes) -> float:
    """Seconds the answer (``status``, ``headers``, ``body``) of a GET on ``route`` may be
    reused; 0: do not keep it."""
    rule = route.rule
    if status != 200 or rule is None:
        return 0.0
    if rule == "jobs":
        job_status = _job_status(body)
        if job_status is None:
            return 0.0
        ttl = rules.finished_jobs if job_status in FINISHED_STATUSES else rules.pending_jobs
    else:
        ttl = rules.seconds(rule)
    return response_ttl(ttl, headers)
