"""What the sync and async session shells share: the options, the core and its bookkeeping, the
official read-only members, and what becomes of the core's user-facing actions — the events
waiting to be received, the notices, the end. Only their I/O differs."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from soniox.errors import ClientValidationError, SonioxError, SonioxRealtimeError
from soniox.types import AudioFormat, RealtimeEvent, RealtimeSTTConfig

from .core import (
    Action,
    Connect,
    Deliver,
    Disconnect,
    Ended,
    GapNotice,
    Reconnecting,
    ReconnectPolicy,
    Resumed,
    SendAudio,
    SendText,
    SessionCore,
    State,
)
from .ledger import AudioLayout, AudioLedger

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_SEC",
    "DEFAULT_RETAINED_BYTES",
    "KEEP_ALIVE_INTERVAL_SEC",
    "RECEIVE_TIMEOUT_SEC",
    "SessionOptions",
    "SessionShell",
    "Wire",
]

DEFAULT_CONNECT_TIMEOUT_SEC: Final = 10.0
KEEP_ALIVE_INTERVAL_SEC: Final = 5.0
"""A keepalive goes out when no frame did for this long (the server drops a stream idle 20 s)."""
RECEIVE_TIMEOUT_SEC: Final = 10.0
"""Audio went out but no message came back for this long: the connection is treated as dead
(a half-open socket, a stalled server) and the session reconnects."""
DEFAULT_RETAINED_BYTES: Final = 16 << 20
"""Audio kept for an exact resume, at most (about 8 minutes of 16 kHz mono PCM)."""

Wire = tuple[list[SendText | SendAudio], list[Connect | Disconnect], bool]
"""The I/O a list of actions asks for — frames to send, connections to open or close — and
whether anything a waiting receiver cares about changed (an event, a notice, the end)."""
_NO_LINKS: Final[list[Connect | Disconnect]] = []


class SessionOptions:
    """How a session connects and recovers: WebSocket settings, reconnection, keepalive."""

    __slots__ = (
        "connect_timeout_sec",
        "keepalive_interval_sec",
        "max_retained_bytes",
        "ping_interval",
        "ping_timeout",
        "policy",
        "raise_on_error",
        "receive_timeout_sec",
        "ssl",
    )

    def __init__(
        self,
        *,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        ssl: Any = None,
        policy: ReconnectPolicy | None = None,
        keepalive_interval_sec: float | None = KEEP_ALIVE_INTERVAL_SEC,
        receive_timeout_sec: float | None = RECEIVE_TIMEOUT_SEC,
        max_retained_bytes: int = DEFAULT_RETAINED_BYTES,
        raise_on_error: bool = False,
    ) -> None:
        if connect_timeout_sec <= 0:
            raise ClientValidationError(
                "connect_timeout_sec must be greater than zero", field="connect_timeout_sec"
            )
        self.connect_timeout_sec = connect_timeout_sec
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.ssl = ssl
        self.policy = policy or ReconnectPolicy()
        self.keepalive_interval_sec = keepalive_interval_sec
        self.receive_timeout_sec = receive_timeout_sec
        self.max_retained_bytes = max_retained_bytes
        self.raise_on_error = raise_on_error


def _ledger_for(config: RealtimeSTTConfig, bound: int) -> AudioLedger:
    sniff = config.audio_format in (AudioFormat.AUTO, AudioFormat.WAV)
    return AudioLedger(AudioLayout.for_config(config), max_retained_bytes=bound, sniff_wav=sniff)


class SessionShell:
    """A session's state outside the core: what the user has not received yet, the notices,
    whether it ended; the official read-only members."""

    def __init__(
        self,
        url: str,
        config: RealtimeSTTConfig,
        api_key: str | Callable[[], str],
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
        self._credential: Callable[[], str] = (
            api_key if callable(api_key) else (lambda key=api_key: key)
        )
        options = options or SessionOptions()
        if connect_timeout_sec is not None:
            if connect_timeout_sec <= 0:
                raise ClientValidationError(
                    "connect_timeout_sec must be greater than zero", field="connect_timeout_sec"
                )
            options.connect_timeout_sec = connect_timeout_sec
        self._options = options
        ledger = _ledger_for(config, options.max_retained_bytes)
        self._core = SessionCore(json.dumps(wire), ledger, policy=options.policy)
        self._inbox: deque[RealtimeEvent] = deque()
        self._notices: list[Reconnecting | Resumed | GapNotice] = []
        self._ended = False
        self._closed_by_user = False
        self._last_message: RealtimeEvent | None = None
        self._last_sent = time.monotonic()
        self._owed_since: float | None = None
        self._stalled: str | None = None
        """Why the watchdog had the current connection shut down, if it did."""
        """Since when the server has owed an answer without sending anything (the watchdog)."""
        self._init_io()

    def _init_io(self) -> None:
        """The shell's own state (its connection, locks, keepalive)."""
        raise NotImplementedError

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
    def notices(self) -> list[Reconnecting | Resumed | GapNotice]:
        """Reconnections, resumes and gaps so far."""
        return list(self._notices)

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
            elif isinstance(action, Ended):
                self._ended = True
            else:
                self._notices.append(action)
        return frames, links, changed

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
        return max(0.02, min(ticks)) if ticks else None

    @staticmethod
    def _payload(frame: SendText | SendAudio) -> str | bytes:
        return frame.text if isinstance(frame, SendText) else frame.data

    def _connect_kwargs(self) -> dict[str, Any]:
        options = self._options
        return {
            "additional_headers": {"Authorization": f"Bearer {self._credential()}"},
            "open_timeout": options.connect_timeout_sec,
            "ping_interval": options.ping_interval,
            "ping_timeout": options.ping_timeout,
            "compression": None,  # permessage-deflate: CPU for next to no gain on audio
            "ssl": options.ssl,
            "max_size": None,
            "close_timeout": 2.0,  # a user's close() never waits long on a silent server
        }
