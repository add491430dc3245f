"""The blocking realtime session (``client.realtime.stt.connect(...)``), the official SDK's
``RealtimeSTTSession`` name for name, as a shell over :class:`~.core.SessionCore`.

The core decides; this module only does the I/O its actions ask for, on websockets' sync client:
open a connection (a fresh credential each time), send frames, read messages, sleep before a
reconnection. Threads may share a session — one sending audio while another receives events,
the official README's pattern — because every core call happens under one lock and no thread
holds it across a blocking call, except to send a new connection's first frames (the config,
the replay, what waited), which must precede anything else on that connection.

A connection's frames go only to that connection: a chunk the core counted as sent on a
connection that died before it went out is in the replay of the next one, never sent twice.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from types import TracebackType
from typing import Any, Final

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from soniox.errors import ClientValidationError, SonioxError, SonioxRealtimeError
from soniox.types import AudioFormat, RealtimeControlType, RealtimeEvent, RealtimeSTTConfig

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

__all__ = ["RealtimeSTTSession", "SessionOptions"]

DEFAULT_CONNECT_TIMEOUT_SEC: Final = 10.0
KEEP_ALIVE_INTERVAL_SEC: Final = 5.0
"""A keepalive goes out when no frame did for this long (the server drops a stream idle 20 s)."""
DEFAULT_RETAINED_BYTES: Final = 16 << 20
"""Audio kept for an exact resume, at most (about 8 minutes of 16 kHz mono PCM)."""


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
        self.max_retained_bytes = max_retained_bytes
        self.raise_on_error = raise_on_error


def _ledger_for(config: RealtimeSTTConfig, bound: int) -> AudioLedger:
    sniff = config.audio_format in (AudioFormat.AUTO, AudioFormat.WAV)
    return AudioLedger(AudioLayout.for_config(config), max_retained_bytes=bound, sniff_wav=sniff)


class RealtimeSTTSession:
    """One realtime speech-to-text stream, however many connections it takes (see the module
    docstring). Opens on ``with`` (or :meth:`enter`)."""

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
        key per connection, say). Nothing is sent before ``with``; an invalid config is a
        :class:`~soniox.errors.ClientValidationError` now."""
        wire = config.wire()  # ClientValidationError before anything is sent
        self._url = url
        self._config = config
        self._credential = api_key if callable(api_key) else (lambda key=api_key: key)
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
        self._cond = threading.Condition(threading.Lock())
        self._ws: ClientConnection | None = None
        self._inbox: deque[RealtimeEvent] = deque()
        self._notices: list[Reconnecting | Resumed | GapNotice] = []
        self._ended = False
        self._closed_by_user = False
        self._last_message: RealtimeEvent | None = None
        self._last_sent = time.monotonic()
        self._keepalive: threading.Thread | None = None
        self._stop = threading.Event()

    # --- the official members -------------------------------------------------------------------
    @property
    def config(self) -> RealtimeSTTConfig:
        return self._config

    @property
    def paused(self) -> bool:
        return self._core.paused

    @property
    def last_message(self) -> RealtimeEvent | None:
        return self._last_message

    def __enter__(self) -> RealtimeSTTSession:
        self._step(self._core.start)
        with self._cond:
            while self._ws is None and not self._ended:
                self._cond.wait()
            error = self._core.error if self._ended else None
        if error is not None:
            raise error
        self._start_keepalive()
        return self

    enter = __enter__

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_byte_chunk(self, chunk: bytes) -> None:
        """Send one chunk of audio (dropped while paused, kept while reconnecting)."""
        self._step(lambda: self._core.audio(chunk))

    def send_bytes(self, chunks: bytes | Iterable[bytes], *, finish: bool = True) -> None:
        """Send audio: one ``bytes`` (which, as in the official SDK, does *not* finish the
        stream whatever ``finish`` says), or an iterable of chunks, then :meth:`finish` when
        ``finish`` is true."""
        if isinstance(chunks, bytes | bytearray):
            self.send_byte_chunk(bytes(chunks))
            return
        for chunk in chunks:
            self.send_byte_chunk(chunk)
        if finish:
            self.finish()

    def send_control_message(self, control_type: RealtimeControlType) -> None:
        self._step(lambda: self._core.control(control_type))

    def finish(self) -> None:
        """End of audio: the server finalizes the rest; keep receiving until the end."""
        self._step(self._core.finish)

    def finalize(self, trailing_silence_ms: int | None = None) -> None:
        """Finalize what was sent so far (answered by a ``<fin>`` token); the stream goes on."""
        self._step(
            lambda: self._core.control(
                RealtimeControlType.FINALIZE, trailing_silence_ms=trailing_silence_ms
            )
        )

    def keep_alive(self) -> None:
        self.send_control_message(RealtimeControlType.KEEP_ALIVE)

    def pause(self, *, finalize: bool = True) -> None:
        """Stop sending audio (what is sent meanwhile is dropped, as officially, and counted);
        keepalives go on."""
        self._step(lambda: self._core.pause(finalize=finalize))

    def resume(self) -> None:
        self._step(self._core.resume)

    def recv_bytes(self) -> bytes:
        """The next message as bytes (``b""`` once the stream ended)."""
        event = self.receive_event()
        return b"" if event is None else json.dumps(event.model_dump(mode="json")).encode()

    def parse_event(self, raw: str | bytes) -> RealtimeEvent:
        return RealtimeEvent.validate_event(raw)

    def receive_event(self) -> RealtimeEvent | None:
        """The next event (on the stream's clock across reconnections); None once the stream
        ended. Raises :class:`~soniox.errors.SonioxRealtimeError` after :meth:`close`, and the
        session's typed error at the end when it was opened with ``raise_on_error``."""
        while True:
            with self._cond:
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
                ws, connection = self._ws, self._core.connection
                if ws is None:
                    self._cond.wait()
                    continue
            try:
                raw = ws.recv()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else "no close frame"
                reason = f"the connection closed ({code})"
                self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            except (OSError, WebSocketException) as error:
                reason = f"the connection failed: {error!r}"
                self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            self._step(partial(self._core.received, connection, raw, time.monotonic()))

    def receive_events(self) -> Iterator[RealtimeEvent]:
        while (event := self.receive_event()) is not None:
            yield event

    def handle_events(self, handler: Callable[[RealtimeEvent], None]) -> None:
        for event in self.receive_events():
            handler(event)

    def close(self) -> None:
        """End the session now: the end of audio is sent if it was not, the connection closed;
        receiving afterwards raises."""
        with self._cond:
            if self._closed_by_user:
                return
            self._closed_by_user = True
            ws = self._ws
            finishing = self._core.state in (State.STREAMING, State.PAUSED)
        self._stop.set()
        if ws is not None and finishing:
            with contextlib.suppress(ConnectionClosed, OSError, WebSocketException):
                ws.send("")
        self._step(self._core.close)
        if ws is not None:
            ws.close()

    # --- what else we offer ------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._core.state

    @property
    def notices(self) -> list[Reconnecting | Resumed | GapNotice]:
        """Reconnections, resumes and gaps so far."""
        with self._cond:
            return list(self._notices)

    @property
    def reconnects(self) -> int:
        return self._core.reconnects

    def __repr__(self) -> str:
        return f"RealtimeSTTSession({self._core.state}, {self._url!r})"

    # --- the shell ---------------------------------------------------------------------------
    def _step(self, decide: Callable[[], list[Action]]) -> None:
        """Ask the core (under the lock), then do what it says (outside it)."""
        with self._cond:
            actions = decide()
            ws, connection = self._ws, self._core.connection
        self._perform(actions, ws, connection)

    def _perform(self, actions: list[Action], ws: ClientConnection | None, connection: int) -> None:
        for action in actions:
            if isinstance(action, SendText | SendAudio):
                self._send(
                    ws, connection, action.text if isinstance(action, SendText) else action.data
                )
            elif isinstance(action, Connect):
                self._connect(action)
            elif isinstance(action, Disconnect):
                self._disconnect(ws)
            else:
                with self._cond:
                    if isinstance(action, Deliver):
                        self._inbox.append(action.event)
                    elif isinstance(action, Ended):
                        self._ended = True
                    else:
                        self._notices.append(action)
                    self._cond.notify_all()

    def _send(self, ws: ClientConnection | None, connection: int, data: str | bytes) -> None:
        if ws is None:
            return  # the core keeps it: pending, or in the next connection's replay
        try:
            ws.send(data)
        except (ConnectionClosed, OSError, WebSocketException):
            # The receiving side finds the connection closed — after reading what the server
            # said first (an error frame explains the close) — and the core decides then.
            # What was sent meanwhile is in the next connection's replay.
            return
        self._last_sent = time.monotonic()

    def _disconnect(self, ws: ClientConnection | None) -> None:
        with self._cond:
            if ws is not None and self._ws is ws:
                self._ws = None
        if ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                ws.close()

    def _connect(self, action: Connect) -> None:
        if action.delay_s > 0 and self._stop.wait(action.delay_s):
            return  # closed meanwhile
        options = self._options
        try:
            ws = connect(
                self._url,
                additional_headers={"Authorization": f"Bearer {self._credential()}"},
                open_timeout=options.connect_timeout_sec,
                ping_interval=options.ping_interval,
                ping_timeout=options.ping_timeout,
                compression=None,  # permessage-deflate: CPU for next to no gain on audio
                ssl=options.ssl,
                max_size=None,
                legacy=True,  # a connection now, closed by the session
            )
        except InvalidStatus as refused:
            status = refused.response.status_code
            self._step(
                partial(
                    self._core.connect_failed,
                    action.connection,
                    refused,
                    time.monotonic(),
                    status=status,
                )
            )
            return
        except (OSError, TimeoutError, WebSocketException, SonioxError) as error:
            self._step(
                partial(self._core.connect_failed, action.connection, error, time.monotonic())
            )
            return
        failed = False
        with self._cond:
            actions = self._core.opened(action.connection, time.monotonic())
            rest: list[Action] = []
            for next_action in actions:  # the first frames, before anyone else's
                if not isinstance(next_action, SendText | SendAudio):
                    rest.append(next_action)
                elif not failed:  # after a failure: the receiving side will find out why
                    data = (
                        next_action.text if isinstance(next_action, SendText) else next_action.data
                    )
                    try:
                        ws.send(data)
                    except (ConnectionClosed, OSError, WebSocketException):
                        failed = True
            if self._core.connection == action.connection and self._core.state not in (
                State.CLOSED,
                State.FAILED,
            ):
                self._ws = ws
                self._last_sent = time.monotonic()
            self._cond.notify_all()
        self._perform(rest, ws, action.connection)

    def _start_keepalive(self) -> None:
        interval = self._options.keepalive_interval_sec
        if interval is None or self._keepalive is not None:
            return
        self._keepalive = threading.Thread(
            target=self._keepalive_loop, args=(interval,), name="soniox-keepalive", daemon=True
        )
        self._keepalive.start()

    def _keepalive_loop(self, interval: float) -> None:
        """A keepalive whenever nothing went out for ``interval`` (paused, or the user's audio
        source stalled), so the server never drops the stream as idle."""
        tick = min(1.0, interval / 2)
        while not self._stop.wait(tick):
            if time.monotonic() - self._last_sent < interval:
                continue
            try:
                self._step(lambda: self._core.control(RealtimeControlType.KEEP_ALIVE))
            except SonioxRealtimeError:
                return
            self._last_sent = time.monotonic()
