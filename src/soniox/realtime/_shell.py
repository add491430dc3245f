"""What the sync and async session shells share: the options, the core and its bookkeeping, the
official read-only members, and what becomes of the core's user-facing actions — the events
waiting to be received, the notices, the end. Only their I/O differs."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from websockets.exceptions import InvalidStatus

from soniox.errors import (
    ClientValidationError,
    SonioxError,
    SonioxRealtimeError,
    parse_retry_after,
)
from soniox.middleware.observe import Guard
from soniox.types import AudioFormat, RealtimeEvent, RealtimeSTTConfig

from .chain import LinkContext, LinkHooks, RealtimeChain
from .core import (
    Action,
    AudioDropped,
    Connect,
    Deliver,
    Disconnect,
    Ended,
    SendAudio,
    SendText,
    SessionCore,
    SessionNotice,
    State,
)
from .ledger import AudioLayout, AudioLedger
from .options import (
    DEFAULT_CONNECT_TIMEOUT_SEC,
    DEFAULT_RETAINED_BYTES,
    KEEP_ALIVE_INTERVAL_SEC,
    RECEIVE_TIMEOUT_SEC,
    SessionOptions,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_SEC",
    "DEFAULT_RETAINED_BYTES",
    "KEEP_ALIVE_INTERVAL_SEC",
    "RECEIVE_TIMEOUT_SEC",
    "SessionOptions",
    "SessionShell",
    "Wire",
    "connect_kwargs",
    "size_of",
]

Credential = Callable[[], object]
"""A key, from a provider called before every connection: a ``str``, or (async sessions) an
awaitable of one."""
Wire = tuple[list[SendText | SendAudio], list[Connect | Disconnect], bool]
"""The I/O a list of actions asks for — frames to send, connections to open or close — and
whether anything a waiting receiver cares about changed (an event, a notice, the end)."""
_NO_LINKS: Final[list[Connect | Disconnect]] = []


def connect_kwargs(options: SessionOptions, credential: object) -> dict[str, Any]:
    """websockets' ``connect`` keywords for a realtime connection authenticated by
    ``credential`` (in the handshake: no key in a JSON message)."""
    if not isinstance(credential, str) or not credential:
        raise ClientValidationError(
            "the realtime credential provider must return a non-empty key", field="api_key"
        )
    return {
        "additional_headers": {"Authorization": f"Bearer {credential}"},
        "open_timeout": options.connect_timeout_sec,
        "ping_interval": options.ping_interval,
        "ping_timeout": options.ping_timeout,
        "compression": None,  # permessage-deflate: CPU for next to no gain on audio
        "ssl": options.ssl,
        "max_size": None,
        "close_timeout": 2.0,  # a user's close() never waits long on a silent server
    }


def size_of(chunk: object) -> int:
    """Bytes in an audio chunk (0 for what is not one: the core refuses it, typed)."""
    if isinstance(chunk, bytes | bytearray):
        return len(chunk)
    return chunk.nbytes if isinstance(chunk, memoryview) else 0


def _ledger_for(config: RealtimeSTTConfig, bound: int) -> AudioLedger:
    sniff = config.audio_format in (AudioFormat.AUTO, AudioFormat.WAV)
    return AudioLedger(AudioLayout.for_config(config), max_retained_bytes=bound, sniff_wav=sniff)


def _overrides(hooks: tuple[LinkHooks, ...], method: str) -> tuple[Callable[..., Any], ...]:
    """The hooks' ``method`` s that do something (those not inherited from LinkHooks)."""
    base = getattr(LinkHooks, method)
    return tuple(getattr(h, method) for h in hooks if getattr(type(h), method) is not base)


class SessionShell:
    """A session's state outside the core: what the user has not received yet, the notices,
    whether it ended; the official read-only members."""

    def __init__(
        self,
        url: str,
        config: RealtimeSTTConfig,
        api_key: str | Credential,
        *,
        options: SessionOptions | None = None,
        connect_timeout_sec: float | None = None,
    ) -> None:
        """``api_key``: the key, or a provider called before every connection (a temporary
        key per connection, say). Nothing is sent before the session is entered; an invalid
        config is a :class:`~soniox.errors.ClientValidationError` now."""
        wire = config.wire()  # ClientValidationError before anything is sent
        self._url = url
        self._config = config
        self._credential: Credential = api_key if callable(api_key) else (lambda key=api_key: key)
        options = options or SessionOptions()
        if connect_timeout_sec is not None:
            if connect_timeout_sec <= 0:
                raise ClientValidationError(
                    "connect_timeout_sec must be greater than zero", field="connect_timeout_sec"
                )
            options.connect_timeout_sec = connect_timeout_sec
        self._options = options
        ledger = _ledger_for(config, options.max_retained_bytes)
        self._core = SessionCore(
            json.dumps(wire),
            ledger,
            policy=options.policy,
            buffer_bytes=options.buffer_bound(ledger.layout),
            overflow=options.overflow,
        )
        self._inbox: deque[RealtimeEvent] = deque()
        self._notices: list[SessionNotice] = []
        chain = options.chain if isinstance(options.chain, RealtimeChain) else None
        context = LinkContext(config, url, self._flavour, options.client)
        hooks = chain.open(context) if chain is not None else ()
        self._on_audio = _overrides(hooks, "on_audio")
        self._on_open = _overrides(hooks, "on_open")
        # observers hear it from the socket's side back, as REST middleware see answers
        self._on_event = _overrides(hooks, "on_event")[::-1]
        self._on_notice = _overrides(hooks, "on_notice")[::-1]
        self._on_end = _overrides(hooks, "on_end")[::-1]
        self._gates = _overrides(hooks, "agate" if self._flavour == "async" else "gate")
        self._ticks = _overrides(hooks, "aon_tick" if self._flavour == "async" else "on_tick")
        self._link_stats = _overrides(hooks, "stats")
        self._hook_guard = Guard("a realtime link's hook")
        self._preopened: object = None
        """A pre-connected first link (:meth:`hand_over`), used once."""
        self._hooks_ended = False
        self._ended = False
        self._closed_by_user = False
        self._last_message: RealtimeEvent | None = None
        self._last_sent = time.monotonic()
        self._owed_since: float | None = None
        self._stalled: str | None = None
        """Why the watchdog had the current connection shut down, if it did."""
        """Since when the server has owed an answer without sending anything (the watchdog)."""
        self._init_io()

    _flavour = "sync"

    def _init_io(self) -> None:
        """The shell's own state (its connection, locks, keepalive)."""
        raise NotImplementedError

    @property
    def options(self) -> SessionOptions:
        """What the chain set for this session (reconnection, keepalive, buffer …)."""
        return self._options

    @property
    def chain(self) -> RealtimeChain:
        """The links this session runs through (``print(session.chain)``)."""
        chain = self._options.chain
        return chain if isinstance(chain, RealtimeChain) else RealtimeChain()

    # --- the official read-only members ---------------------------------------------------------
    @property
    def config(self) -> RealtimeSTTConfig:
        return self._config

    @property
    def paused(self) -> bool:
        return self._core.paused

    @property
    def last_message(self) -> RealtimeEvent | None:
        return self._last_message

    def parse_event(self, raw: str | bytes) -> RealtimeEvent:
        return RealtimeEvent.validate_event(raw)

    # --- what else we offer ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._core.state

    @property
    def notices(self) -> list[SessionNotice]:
        """Reconnections, resumes, gaps and dropped audio so far."""
        return list(self._notices)

    @property
    def stats(self) -> dict[str, Any]:
        """The session's counters: audio accepted, sent, paused (not sent, as officially),
        dropped by a full buffer, discarded at the end; reconnects; the buffer's peak."""
        core = self._core
        return {
            "state": str(core.state),
            "audio_bytes": core.audio_bytes,
            "sent_bytes": core.ledger.sent_bytes - core.ledger.skipped_bytes,
            "paused_bytes": core.paused_bytes,
            "dropped_bytes": core.dropped_bytes,
            "discarded_bytes": core.discarded_bytes,
            "pending_bytes": core.pending_bytes,
            "peak_pending_bytes": core.peak_pending_bytes,
            "reconnects": core.reconnects,
            "connections": core.connection,
        } | {key: value for counters in self._link_stats for key, value in counters().items()}

    @property
    def reconnects(self) -> int:
        return self._core.reconnects

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._core.state}, {self._url!r})"

    # --- the shells' shared steps ---------------------------------------------------------------
    def _settle(self, actions: list[Action]) -> Wire:
        """Apply the user-facing actions (events, notices, the end) and return the I/O."""
        if len(actions) == 1 and type(actions[0]) is SendAudio:
            return [actions[0]], _NO_LINKS, False  # the hot path: one chunk out
        frames: list[SendText | SendAudio] = []
        links: list[Connect | Disconnect] = []
        changed = False
        for action in actions:
            if isinstance(action, SendText | SendAudio):
                frames.append(action)
                continue
            changed = True
            if isinstance(action, Connect | Disconnect):
                links.append(action)
            elif isinstance(action, Deliver):
                if not (action.event.is_error and self._options.raise_on_error):
                    self._inbox.append(action.event)  # raise_on_error: raised instead
                for hook in self._on_event:
                    self._hook_guard.call(hook, action.event)
            elif isinstance(action, Ended):
                self._ended = True
                self._hooks_end(action.error)
            else:
                notices = self._notices
                if type(action) is AudioDropped and notices and type(notices[-1]) is AudioDropped:
                    notices[-1] = AudioDropped(notices[-1].bytes + action.bytes, action.total_bytes)
                else:  # one notice per run of drops, with their sum
                    notices.append(action)
                for hook in self._on_notice:
                    self._hook_guard.call(hook, action)
        return frames, links, changed

    def _shape(self, chunk: bytes) -> bytes:
        """A chunk through the links' ``on_audio``, in chain order (what they raise, raises)."""
        for hook in self._on_audio:
            chunk = hook(chunk)
        return chunk

    def _hooks_open(self) -> None:
        for hook in self._on_open:
            self._hook_guard.call(hook)

    def _hooks_end(self, error: SonioxError | None) -> None:
        """Tell the links the session is over (once)."""
        if self._hooks_ended:
            return
        self._hooks_ended = True
        if self._on_end:
            stats = self.stats
            for hook in self._on_end:
                self._hook_guard.call(hook, error, stats)

    def _next_event(self) -> RealtimeEvent | bool | None:
        """What ``receive_event`` returns now — an event, or None at the end — or False when
        it must read from the connection. Raises after the user's close, and the session's
        error at the end with ``raise_on_error``."""
        if self._closed_by_user:
            raise SonioxRealtimeError("the realtime session is closed")
        if self._inbox:
            event = self._last_message = self._inbox.popleft()
            return event
        if self._ended:
            error = self._core.error
            if error is not None and self._options.raise_on_error:
                raise error
            return None
        return False

    def _entered(self) -> None:
        """After the first connection attempt(s): raise what stopped the session, if any."""
        error: SonioxError | None = self._core.error if self._ended else None
        if error is not None:
            raise error

    def _heard(self) -> None:
        self._owed_since = None

    def _stall(self, now: float) -> bool:
        """The watchdog, at each tick: the server has owed an answer (audio it has not
        acknowledged, or the end of the stream) for ``receive_timeout_sec`` without a word — a
        half-open socket or a stalled server. Then the reason is kept for the reader (which
        finds the connection shut down by the caller) and True returned. A quiet stream that
        owes nothing (paused, all audio answered) is left alone."""
        limit = self._options.receive_timeout_sec
        if limit is None or not self._core.awaiting_answer():
            self._owed_since = None
            return False
        if self._owed_since is None:
            self._owed_since = now
        if now - self._owed_since < limit:
            return False
        self._stalled = f"no answer for {limit:g} s while one was owed"
        self._owed_since = None
        return True

    def _wanted(self, connection: int) -> bool:
        """Whether a newly opened ``connection`` is the one the session is on (not closed,
        failed, or overtaken by another meanwhile)."""
        core = self._core
        return core.connection == connection and core.state not in (State.CLOSED, State.FAILED)

    def _tick(self) -> float | None:
        """How often the background ticker looks (keepalives, the watchdog); None: never."""
        ticks = [
            min(1.0, value / 4)
            for value in (self._options.keepalive_interval_sec, self._options.receive_timeout_sec)
            if value is not None
        ]
        if self._ticks:
            ticks.append(1.0)  # links that renew something (a quota's lease)
        return max(0.02, min(ticks)) if ticks else None

    @staticmethod
    def _payload(frame: SendText | SendAudio) -> str | bytes:
        return frame.text if isinstance(frame, SendText) else frame.data

    def _failed_connect(self, connection: int, error: BaseException) -> Callable[[], list[Action]]:
        """The core's decision on a failed attempt to open ``connection``: a refused
        handshake's status and ``Retry-After``, a credential provider's status (a 401 minting a
        temporary key is as final as a refused handshake; a provider returning no key, 400)."""
        retry_after: float | None = None
        if isinstance(error, InvalidStatus):
            response = error.response
            status: int | None = response.status_code
            retry_after = parse_retry_after(dict(response.headers.raw_items()))
        elif isinstance(error, ClientValidationError):
            status = 400
        else:
            found = getattr(error, "status", None)
            status = found if isinstance(found, int) else None
        return partial(
            self._core.connect_failed,
            connection,
            error,
            time.monotonic(),
            status=status,
            retry_after_s=retry_after,
        )

    def _connect_kwargs(self, credential: object) -> dict[str, Any]:
        return connect_kwargs(self._options, credential)

    def hand_over(self, link: object) -> None:
        """Open the first connection on ``link`` instead of dialing: an open, unused
        WebSocket of this flavour, or a function giving one (an awaitable one for asyncio; it
        may raise a :class:`~soniox.errors.SonioxError`, a connection failure like any other).
        Pre-connected links (:mod:`~.preconnect`) come in this way."""
        self._preopened = link
