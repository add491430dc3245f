"""What observers (``metrics``, ``tracing``) learn from the rest of the stack: notes, route
templates, and the guard that keeps a failing observer from failing a call.

**How middleware report.** An observer relays the flow of ``call_next`` (:func:`relay`), so it
sees every effect the middleware inside it yield: each ``Send`` is one attempt, each plain
``Sleep`` a retry wait. Anything else a middleware wants counted it says with an effect of its
own — sans-IO, the same under both clients, carried by the flow that produced it, so concurrent
calls never mix up their facts:

==========================================  ======================================================
the middleware …                            yields (``yield from …``)
==========================================  ======================================================
waits for a rate-limit permit by sleeping   :func:`wait` ``(seconds, "rate_limit")`` instead of
                                            ``sleep(seconds)``: a :class:`Wait`, performed like a
                                            ``Sleep`` and reported as that reason
waited some other way (a shared permit, a   :func:`waited` ``(seconds, "rate_limit")`` once it is
condition, a future)                        over
answered from its cache, or looked and      :func:`cache_lookup` ``(hit=True)`` / ``(hit=False)``
missed
joined another caller's identical request   :func:`dedup_joined` ``()``
in flight instead of sending its own
==========================================  ======================================================

A :class:`Note` reaches every observer placed *outside* the middleware that yields it, then the
driver, which does nothing with it (so reporting costs one effect round trip when nobody
observes). Hence the order (the production profile's): ``headers → tracing → metrics → cache →
dedup → retry → concurrency → rate_limit → logging``. A plain ``Sleep`` inside an observer counts as a retry wait, so a middleware other
than ``retry`` never sleeps with a bare ``sleep()`` — it uses :func:`wait` with its reason.

**Route templates** (:func:`route_template`) keep metric labels and span names bounded: a path
becomes one of :data:`ROUTES` (ids replaced by ``{id}``) or ``"other"``, never a raw id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Final, TypeVar

import attrs

from soniox.errors import redact
from soniox.middleware.engine import Effect, Flow, Sleep
from soniox.middleware.logging import LOGGER_NAME
from soniox.transport.base import Transport

__all__ = [
    "Note",
    "Wait",
    "wait",
    "waited",
    "cache_lookup",
    "dedup_joined",
    "ROUTES",
    "OTHER_ROUTE",
    "route_template",
    "Guard",
    "error_type",
    "Outcome",
    "outcome_of",
]

T = TypeVar("T")


# --- notes -------------------------------------------------------------------------------------


@attrs.frozen
class Note(Effect):
    """A fact about the current call for the observers outside the middleware that yields it;
    the driver ignores it. ``kind`` is ``"wait"`` (``value`` seconds, ``detail`` the reason),
    ``"cache"`` (``detail`` ``"hit"`` or ``"miss"``) or ``"dedup"`` (``detail`` ``"join"``)."""

    kind: str
    value: float = 0.0
    detail: str = ""

    def run(self, transport: Transport) -> None:
        return None

    async def arun(self, transport: Transport) -> None:
        return None


@attrs.frozen
class Wait(Sleep):
    """A ``Sleep`` with a reason (``"rate_limit"`` …): performed exactly like one, reported to
    observers as a wait of that reason rather than a retry wait."""

    reason: str = "wait"


def wait(seconds: float, reason: str) -> Flow[None]:
    """``yield from wait(s, "rate_limit")``: sleep on the transport clock, reported as ``reason``."""
    yield Wait(seconds, reason)


def waited(seconds: float, reason: str) -> Flow[None]:
    """``yield from waited(s, "rate_limit")``: report a wait that was done some other way."""
    yield Note("wait", seconds, reason)


_HIT: Final = Note("cache", 0.0, "hit")
_MISS: Final = Note("cache", 0.0, "miss")
_JOIN: Final = Note("dedup", 0.0, "join")


def cache_lookup(hit: bool) -> Flow[None]:
    """``yield from cache_lookup(hit=True)``: the call was answered from a cache (or missed it)."""
    yield _HIT if hit else _MISS


def dedup_joined() -> Flow[None]:
    """``yield from dedup_joined()``: the call shared another caller's request in flight."""
    yield _JOIN


# --- route templates ---------------------------------------------------------------------------

_TEMPLATES: Final = (
    ("files",),
    ("files", "count"),
    ("files", "{id}"),
    ("transcriptions",),
    ("transcriptions", "count"),
    ("transcriptions", "{id}"),
    ("transcriptions", "{id}", "transcript"),
    ("models",),
    ("tts-models",),
    ("auth", "temporary-api-key"),
    ("usage",),
    ("usage", "summary"),
    ("usage-logs",),
    ("concurrency-limits",),
    ("concurrent-streams-history",),
)
OTHER_ROUTE: Final = "other"
ROUTES: Final = frozenset(
    {"/" + "/".join(t) for t in _TEMPLATES} | {"/v1/" + "/".join(t) for t in _TEMPLATES}
)
"""Every template :func:`route_template` returns besides :data:`OTHER_ROUTE`."""

_BY_LENGTH: Final = sorted(_TEMPLATES, key=len, reverse=True)
_cache: dict[str, str] = {}
_CACHE_MAX: Final = 4096


def _matches(template: tuple[str, ...], tail: list[str]) -> bool:
    for want, got in zip(template, tail, strict=True):
        if want == "{id}":
            if not got or got in ("count", "transcript"):
                return False
        elif want != got:
            return False
    return True


def _template(path: str) -> str:
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    for template in _BY_LENGTH:
        n = len(template)
        if len(segments) < n or not _matches(template, segments[-n:]):
            continue
        route = "/" + "/".join(template)
        return "/v1" + route if len(segments) > n and segments[-n - 1] == "v1" else route
    return OTHER_ROUTE


def route_template(path: str) -> str:
    """The bounded name of a request path: ``/v1/transcriptions/3f…/transcript`` →
    ``/v1/transcriptions/{id}/transcript``; a shape the API does not have → ``"other"``.

    Whatever comes before the API's own segments (a proxy's prefix) is dropped, except the
    ``v1`` just before them; results without an id are cached, up to a bound."""
    found = _cache.get(path)
    if found is None:
        found = _template(path)
        if len(_cache) < _CACHE_MAX and "{id}" not in found:
            _cache[path] = found  # paths with ids are unbounded: computed each time (~2 µs)
    return found


# --- outcomes ----------------------------------------------------------------------------------

Outcome = str
"""``"ok"`` (status < 400), ``"http_error"`` (an error status), ``"error"`` (an exception) or
``"cancelled"`` (the call was interrupted: task cancellation, Ctrl-C, a closed flow)."""


def outcome_of(status: int | None, error: BaseException | None) -> Outcome:
    """The bounded outcome of an attempt, call or operation."""
    if error is not None:
        return "error" if isinstance(error, Exception) else "cancelled"
    if status is not None and status >= 400:
        return "http_error"
    return "ok"


def error_type(status: int | None, error: BaseException | None) -> str | None:
    """OpenTelemetry's ``error.type``: the exception's qualified class name, else an error
    status as text (``"503"``), else None."""
    if error is not None:
        cls = type(error)
        return f"{cls.__module__}.{cls.__qualname__}"
    if status is not None and status >= 400:
        return str(status)
    return None


# --- a failing observer never fails a call --------------------------------------------------------

_log = logging.getLogger(LOGGER_NAME)


class Guard:
    """Runs an observer's callbacks (a metrics sink, a tracer) so that one that raises never
    breaks the call it observes: failures are counted (:attr:`failures`) and the first one is
    logged — a WARNING on the ``soniox`` logger, its text redacted — then no more."""

    __slots__ = ("_lock", "_logged", "failures", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.failures = 0
        self._logged = False
        self._lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        """Count ``error``; log it if it is the first."""
        with self._lock:
            self.failures += 1
            first = not self._logged
            self._logged = True
        if first:
            _log.warning(
                "%s raised %s: %s (the call went on; further failures are counted, not logged)",
                self.what,
                type(error).__name__,
                redact(str(error)),
            )

    def call(self, fn: Callable[..., T], *args: object) -> T | None:
        """``fn(*args)``, or None if it raised (counted)."""
        try:
            return fn(*args)
        except Exception as error:
            self.failed(error)
            return None

    def __repr__(self) -> str:
        return f"Guard({self.what!r}, failures={self.failures})"
