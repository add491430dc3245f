"""The realtime chain: what stands between a session's user and its socket, as ordered links.

Like the REST stack, a chain is a plain, inspectable sequence — ``print(session.chain)`` —
built from the config's names (``SonioxConfig.realtime_chain``, looked up in an open registry:
:func:`register_realtime_link`) or composed by hand and given to ``connect(chain=...)``::

    observe → pacing → buffer → keepalive → health → reconnect → websocket

Each built-in link is a frozen value with its settings, and what it does is carried out by the
session's sans-IO core and its shell — the core keeps the buffer and decides reconnections, the
shell's ticker sends keepalives and runs the watchdog — so a chain adds no call per audio frame:
``configure`` writes a link's settings into the session's :class:`~._shell.SessionOptions`
once. A link left out is off: no ``reconnect``, and a dropped stream ends as in the official
SDK; no ``keepalive``, and a paused stream is dropped by the server after 20 s.

A link may also watch or shape a session: :meth:`RealtimeLink.open` returns per-session
:class:`LinkHooks` — ``on_audio`` (a chunk on its way in, in chain order; return the chunk to
send), ``on_event``, ``on_notice``, ``on_end`` (observers, from the socket's side back: what
they raise is counted and logged once, never breaks the stream). ``observe`` is such a link:
metrics, a span and log lines per session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar, cast

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError, SonioxError
from soniox.types import RealtimeEvent, RealtimeSTTConfig

from .core import OVERFLOW_POLICIES, Overflow, ReconnectPolicy, SessionNotice
from .options import SessionOptions

__all__ = [
    "Buffer",
    "Health",
    "Keepalive",
    "LinkContext",
    "LinkHooks",
    "Pacing",
    "RealtimeChain",
    "RealtimeLink",
    "Reconnect",
    "build_chain",
    "register_realtime_link",
    "realtime_links",
]


@attrs.frozen
class LinkContext:
    """What a link learns about the session it joins."""

    config: RealtimeSTTConfig
    url: str
    flavour: str
    """``"sync"`` or ``"async"``."""
    client: object | None = attrs.field(default=None, repr=False)
    """The client that made the session (its metrics, tracing), if one did."""


class LinkHooks:
    """A link's per-session callbacks; override what you need. ``on_audio`` runs on the
    sending thread or task; the others where the session learned it (the receiving side, the
    ticker), quickly: they must not block."""

    def on_audio(self, chunk: bytes) -> bytes:
        """A chunk the user sends, before the buffer: return what goes on (may be the same)."""
        return chunk

    def on_open(self) -> None:
        """The session was entered (its first connection is open)."""

    def on_event(self, event: RealtimeEvent) -> None:
        """An event handed to the user (on the stream's clock)."""

    def on_notice(self, notice: SessionNotice) -> None:
        """A reconnection, a resume, a gap, dropped audio."""

    def on_end(self, error: SonioxError | None, stats: dict[str, Any]) -> None:
        """The session is over: finished (``error`` None), failed, or closed by the user;
        ``stats``: its counters (audio sent, paused, dropped, reconnects …)."""

    def stats(self) -> dict[str, Any]:
        """Counters of this link to add to ``session.stats`` (and the session's record)."""
        return {}

    def gate(self) -> None:
        """Before each connection of a sync session (the first and every reconnection), on
        the thread that opens it: may wait (a quota), or raise a
        :class:`~soniox.errors.SonioxError` to count as a failed attempt."""

    async def agate(self) -> None:
        """:meth:`gate` for asyncio sessions."""

    def on_tick(self, now: float) -> None:
        """Every tick of a sync session's background ticker (about a second), with
        ``time.monotonic()``: renew what must be renewed."""

    async def aon_tick(self, now: float) -> None:
        """:meth:`on_tick` for asyncio sessions."""


class RealtimeLink:
    """Base of a chain link: a name, settings written into the session's options
    (:meth:`configure`), and per-session hooks (:meth:`open`). Subclass it for your own."""

    name: ClassVar[str] = "link"

    def configure(self, options: SessionOptions) -> None:
        """Write this link's settings into ``options`` (once, when a session is made)."""

    def open(self, context: LinkContext) -> LinkHooks | None:
        """Hooks for one session, or None to watch nothing."""
        return None

    def describe(self) -> str:
        """One line for ``print(chain)``."""
        return repr(self)


# --- the built-in links --------------------------------------------------------------------------


@attrs.frozen
class Pacing(RealtimeLink):
    """Files (paths, bytes, file objects) given to ``stream`` / ``transcribe`` go out at
    ``factor`` x real time in ``chunk_ms`` frames (None: as fast as the socket takes them).
    The service is built for live audio, and its notes warn that long bursts may be
    disconnected: keep near real time against it (what each pace costs and saves on the
    emulator: docs/performance.md, "Realtime: pacing")."""

    name: ClassVar[str] = "pacing"
    factor: float | None = 1.0
    chunk_ms: int = attrs.field(default=120, validator=attrs.validators.gt(0))

    def __attrs_post_init__(self) -> None:
        if self.factor is not None and not self.factor > 0:
            raise ClientValidationError(
                f"pacing factor must be > 0 (or None: unpaced), got {self.factor!r}",
                field="factor",
            )

    def configure(self, options: SessionOptions) -> None:
        options.pace = self.factor
        options.chunk_ms = self.chunk_ms


@attrs.frozen
class Buffer(RealtimeLink):
    """Audio that waits for a connection (sent before the socket is ready, or while
    reconnecting) is kept, up to ``max_ms`` of audio (or ``max_bytes``, whichever is given;
    both: the smaller); past it, ``overflow``: ``block`` (the sender waits for the connection
    — the sync send blocks, the async one awaits), ``drop_oldest`` (the oldest waiting audio
    is dropped, counted and reported, the stream's clock kept), ``raise``
    (:class:`~soniox.errors.BufferOverflowError`, the chunk refused). While connected audio goes
    straight to the socket, whose flow control holds a too-fast sender back."""

    name: ClassVar[str] = "buffer"
    max_ms: int | None = attrs.field(default=30_000)
    max_bytes: int | None = attrs.field(default=None)
    overflow: Overflow = attrs.field(default="block")

    def __attrs_post_init__(self) -> None:
        for field, value in (("max_ms", self.max_ms), ("max_bytes", self.max_bytes)):
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ClientValidationError(
                    f"buffer {field} must be > 0 (or None), got {value!r}", field=field
                )
        if self.overflow not in OVERFLOW_POLICIES:
            raise ClientValidationError(
                f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}; got {self.overflow!r}",
                field="overflow",
            )

    def configure(self, options: SessionOptions) -> None:
        options.buffer_ms = self.max_ms
        options.buffer_bytes = self.max_bytes
        options.overflow = self.overflow


@attrs.frozen
class Keepalive(RealtimeLink):
    """A ``{"type": "keepalive"}`` whenever nothing went out for ``interval_sec`` — paused,
    or a source that stalls — so the server (which drops a stream idle 20 s) keeps it."""

    name: ClassVar[str] = "keepalive"
    interval_sec: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))

    def configure(self, options: SessionOptions) -> None:
        options.keepalive_interval_sec = self.interval_sec


@attrs.frozen
class Health(RealtimeLink):
    """WebSocket pings (``ping_interval`` / ``ping_timeout``; None: the client's
    ``ws_ping_*``) and a watchdog: a connection silent for ``receive_timeout_sec`` while the
    server owes an answer (audio it has not acknowledged, or the end of the stream) is a
    half-open socket or a stalled server, and is treated as dropped."""

    name: ClassVar[str] = "health"
    receive_timeout_sec: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    ping_interval: float | None = None
    ping_timeout: float | None = None

    def configure(self, options: SessionOptions) -> None:
        options.receive_timeout_sec = self.receive_timeout_sec
        if self.ping_interval is not None:
            options.ping_interval = self.ping_interval
        if self.ping_timeout is not None:
            options.ping_timeout = self.ping_timeout


@attrs.frozen
class Reconnect(RealtimeLink):
    """On an abnormal close, a network error, a stall or a curable error frame (503 "Cannot
    continue request", 5xx, 408, 429), reconnect (``policy``: full-jitter backoff, capped
    attempts and time), send the config again, replay the audio after the last final
    watermark (at most ``max_retained_bytes``; past it, a reported gap) and shift the new
    connection's timestamps, so the stream goes on without a final word lost or repeated.
    ``temporary_keys``: every connection gets a fresh temporary key minted through the
    client (``auth.create_temporary_api_key``), instead of the API key itself."""

    name: ClassVar[str] = "reconnect"
    policy: ReconnectPolicy = attrs.field(factory=ReconnectPolicy)
    max_retained_bytes: int = attrs.field(default=16 << 20, validator=attrs.validators.gt(0))
    temporary_keys: bool = False

    def configure(self, options: SessionOptions) -> None:
        options.policy = self.policy
        options.max_retained_bytes = self.max_retained_bytes
        options.temporary_keys = self.temporary_keys


# --- the chain --------------------------------------------------------------------------------

L = TypeVar("L", bound=RealtimeLink)


class RealtimeChain:
    """An ordered, immutable sequence of links (from the user's side to the socket). The
    editing methods return a new chain."""

    __slots__ = ("links",)

    def __init__(self, links: Iterable[RealtimeLink] = ()) -> None:
        chosen = tuple(links)
        for link in chosen:
            if not isinstance(link, RealtimeLink):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ClientValidationError(
                    f"a realtime chain holds RealtimeLink objects, got {type(link).__name__}",
                    field="chain",
                )
        names = [link.name for link in chosen]
        if len(set(names)) != len(names):
            raise ClientValidationError(
                f"a realtime chain holds each link once, got {names}", field="chain"
            )
        self.links: tuple[RealtimeLink, ...] = chosen

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(link.name for link in self.links)

    def __iter__(self) -> Iterator[RealtimeLink]:
        return iter(self.links)

    def __len__(self) -> int:
        return len(self.links)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def get(self, name: str) -> RealtimeLink | None:
        """The link called ``name``, if the chain has it."""
        return next((link for link in self.links if link.name == name), None)

    def find(self, kind: type[L]) -> L | None:
        """The first link of type ``kind``."""
        return next((link for link in self.links if isinstance(link, kind)), None)

    def without(self, name: str) -> RealtimeChain:
        return RealtimeChain(link for link in self.links if link.name != name)

    def with_link(self, link: RealtimeLink) -> RealtimeChain:
        """This chain with ``link`` in the place of the one of its name (appended if none)."""
        if link.name not in self:
            return RealtimeChain((*self.links, link))
        return RealtimeChain(link if old.name == link.name else old for old in self.links)

    def insert_before(self, name: str, link: RealtimeLink) -> RealtimeChain:
        return self._insert(name, link, 0)

    def insert_after(self, name: str, link: RealtimeLink) -> RealtimeChain:
        return self._insert(name, link, 1)

    def _insert(self, name: str, link: RealtimeLink, shift: int) -> RealtimeChain:
        names = self.names
        if name not in names:
            raise ClientValidationError(
                f"no link {name!r} in the chain ({' → '.join(names)})", field="name"
            )
        at = names.index(name) + shift
        return RealtimeChain((*self.links[:at], link, *self.links[at:]))

    def configure(self, options: SessionOptions) -> SessionOptions:
        """``options`` with every link's settings written in, in order."""
        for link in self.links:
            link.configure(options)
        return options

    def open(self, context: LinkContext) -> tuple[LinkHooks, ...]:
        """Every link's hooks for one session, in chain order."""
        opened = (link.open(context) for link in self.links)
        return tuple(hooks for hooks in opened if hooks is not None)

    def __repr__(self) -> str:
        return f"RealtimeChain({' → '.join(self.names) or 'empty'})"

    def __str__(self) -> str:
        width = max((len(name) for name in self.names), default=0)
        lines = ["RealtimeChain (user → socket):"]
        lines += [f"  {link.name:<{width}}  {link.describe()}" for link in self.links]
        lines.append(f"  {'':<{width}}  → websocket")
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RealtimeChain) and other.links == self.links

    def __hash__(self) -> int:
        return hash(self.links)


# --- the registry ------------------------------------------------------------------------------

LinkFactory = Callable[[SonioxConfig], RealtimeLink | None]
"""Makes a link from a config; None leaves it out (its setting switched it off)."""
_factories: dict[str, LinkFactory] = {}
_lock = threading.Lock()


def register_realtime_link(
    name: str, factory: LinkFactory | None = None, *, replace: bool = False
) -> Any:
    """Register ``factory`` (config → link) under ``name``, so ``SonioxConfig.realtime_chain``
    can name it; also usable as a decorator: ``@register_realtime_link("audit")``."""
    if not isinstance(name, str) or not name.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ClientValidationError("a realtime link name must be a non-empty string", field="name")

    def add(made: LinkFactory) -> LinkFactory:
        if not callable(made):
            raise ClientValidationError(
                f"the factory for {name!r} must be callable (config -> link)", field="factory"
            )
        with _lock:
            if name in _factories and not replace:
                raise ClientValidationError(
                    f"a realtime link named {name!r} is already registered; pass replace=True",
                    field="name",
                )
            _factories[name] = made
        return made

    return add if factory is None else add(factory)


def realtime_links() -> tuple[str, ...]:
    """The registered link names."""
    with _lock:
        return tuple(_factories)


def build_chain(config: SonioxConfig) -> RealtimeChain:
    """The chain ``config.realtime_chain`` names, each link made from ``config``."""
    with _lock:
        factories = dict(_factories)
    unknown = [name for name in config.realtime_chain if name not in factories]
    if unknown:
        raise ClientValidationError(
            f"unknown realtime link(s) {unknown}; registered: {', '.join(sorted(factories))}",
            field="realtime_chain",
        )
    made = (factories[name](config) for name in config.realtime_chain)
    return RealtimeChain(link for link in made if link is not None)


register_realtime_link(
    "pacing", lambda config: Pacing(config.realtime_pace, config.realtime_chunk_ms)
)
register_realtime_link(
    "buffer",
    lambda config: Buffer(
        config.realtime_buffer_ms, None, cast("Overflow", config.realtime_overflow)
    ),
)
register_realtime_link(
    "keepalive",
    lambda config: (
        None if config.realtime_keepalive_sec is None else Keepalive(config.realtime_keepalive_sec)
    ),
)
register_realtime_link(
    "health",
    lambda config: (
        None
        if config.realtime_receive_timeout_sec is None
        else Health(
            config.realtime_receive_timeout_sec, config.ws_ping_interval, config.ws_ping_timeout
        )
    ),
)
register_realtime_link(
    "reconnect",
    lambda config: Reconnect(
        ReconnectPolicy(max_attempts=config.realtime_reconnect_attempts),
        config.realtime_retained_bytes,
        config.realtime_temporary_keys,
    ),
)
