"""The blocking realtime session (``client.realtime.stt.connect(...)``), the official SDK's
``RealtimeSTTSession`` name for name, as a shell over :class:`~.core.SessionCore`.

The core decides; this module only does the I/O its actions ask for, on websockets' sync client:
open a connection (a fresh credential each time), send frames, read messages, sleep before a
reconnection. Threads may share a session — one sending audio while another receives events,
the official README's pattern — because every core call happens under one lock and no thread
holds it across a blocking call, except to send a new connection's first frames (the config,
the replay, what waited), which must precede anything else on that connection.

A connection's frames go only to that connection: a chunk the core counted as sent on a
connection that died before it went out is in the replay of the next one, never sent twice. A
failed send decides nothing: the receiving side finds the connection closed — after reading what
the server said first (an error frame explains the close) — and the core decides then.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from types import TracebackType

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from soniox.errors import SonioxError, SonioxRealtimeError
from soniox.types import RealtimeControlType, RealtimeEvent

from ._shell import SessionShell, size_of
from .core import Action, Connect, Disconnect, SendAudio, SendText, State

__all__ = ["RealtimeSTTSession"]

_BROKEN = (ConnectionClosed, OSError, WebSocketException)


class RealtimeSTTSession(SessionShell):
    """One realtime speech-to-text stream, however many connections it takes (see the module
    docstring). Opens on ``with`` (or :meth:`enter`)."""

    def _init_io(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._ws: ClientConnection | None = None
        self._keepalive: threading.Thread | None = None
        self._stop = threading.Event()

    # --- the official members -------------------------------------------------------------------
    def __enter__(self) -> RealtimeSTTSession:
        if self._core.state is not State.CREATED:
            return self  # entered already (a pre-connected stream is)
        self._step(self._core.start)
        with self._cond:
            while self._ws is None and not self._ended:
                self._cond.wait()
        self._entered()
        self._hooks_open()
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
        """Send one chunk of audio (dropped while paused, kept while reconnecting). With the
        buffer full while the session waits for a connection (overflow ``block``), wait for
        it; ``drop_oldest`` / ``raise`` do not wait (see :class:`~.chain.Buffer`)."""
        if self._on_audio:
            chunk = self._shape(chunk)
        core = self._core
        if core.pending_bytes and core.must_wait(size_of(chunk)):
            with self._cond:
                while core.must_wait(size_of(chunk)) and not self._closed_by_user:
                    self._cond.wait()
        self._step(partial(self._core.audio, chunk))

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
        self._step(partial(self._core.control, control_type))

    def finish(self) -> None:
        """End of audio: the server finalizes the rest; keep receiving until the end."""
        self._step(self._core.finish)

    def finalize(self, trailing_silence_ms: int | None = None) -> None:
        """Finalize what was sent so far (answered by a ``<fin>`` token); the stream goes on."""
        self._step(
            partial(
                self._core.control,
                RealtimeControlType.FINALIZE,
                trailing_silence_ms=trailing_silence_ms,
            )
        )

    def keep_alive(self) -> None:
        self.send_control_message(RealtimeControlType.KEEP_ALIVE)

    def pause(self, *, finalize: bool = True) -> None:
        """Stop sending audio (what is sent meanwhile is dropped, as officially, and counted);
        keepalives go on."""
        self._step(partial(self._core.pause, finalize=finalize))

    def resume(self) -> None:
        self._step(self._core.resume)

    def recv_bytes(self) -> bytes:
        """The next message as JSON bytes (``b""`` once the stream ended)."""
        event = self.receive_event()
        return b"" if event is None else event.model_dump_json().encode()

    def receive_event(self) -> RealtimeEvent | None:
        """The next event (on the stream's clock across reconnections); None once the stream
        ended. Raises :class:`~soniox.errors.SonioxRealtimeError` after :meth:`close`, and the
        session's typed error at the end when it was opened with ``raise_on_error``."""
        while True:
            with self._cond:
                found = self._next_event()
                if found is not False:
                    return found if isinstance(found, RealtimeEvent) else None
                ws, connection = self._ws, self._core.connection
                if ws is None:
                    self._cond.wait()
                    continue
            try:
                raw = ws.recv()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else "no close frame"
                reason = self._stalled or f"the connection closed ({code})"
                self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            except (OSError, WebSocketException) as error:
                reason = self._stalled or f"the connection failed: {error!r}"
                self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            now = time.monotonic()
            self._heard()
            with self._cond:  # the result's event, if any, handed out in the same hold
                frames, links, changed = self._settle(self._core.received(connection, raw, now))
                if changed:
                    self._cond.notify_all()
                if not frames and not links:
                    found = self._next_event()
                    if found is not False:
                        return found if isinstance(found, RealtimeEvent) else None
                    continue
                ws = self._ws
            self._do(frames, links, ws)

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
            self._cond.notify_all()
        self._stop.set()
        if ws is not None and finishing:
            with contextlib.suppress(*_BROKEN):
                ws.send("")
        self._step(self._core.close)
        self._hooks_end(None)
        if ws is not None:
            ws.close()

    # --- the shell ---------------------------------------------------------------------------
    def _step(self, decide: Callable[[], list[Action]]) -> None:
        """Ask the core (under the lock), then do the I/O it asks for (outside it)."""
        with self._cond:
            frames, links, changed = self._settle(decide())
            ws = self._ws
            if changed:
                self._cond.notify_all()
        self._do(frames, links, ws)

    def _do(
        self,
        frames: list[SendText | SendAudio],
        links: list[Connect | Disconnect],
        ws: ClientConnection | None,
    ) -> None:
        """The I/O a decision asked for (no lock held)."""
        for frame in frames:
            self._send(ws, self._payload(frame))
        for link in links:
            if isinstance(link, Connect):
                self._connect(link)
            else:
                self._disconnect(ws)

    def _send(self, ws: ClientConnection | None, data: str | bytes) -> None:
        if ws is None:
            return  # the core keeps it: pending, or in the next connection's replay
        try:
            ws.send(data)
        except _BROKEN:
            return  # the receiving side will find the connection closed, and why
        self._last_sent = time.monotonic()

    def _disconnect(self, ws: ClientConnection | None) -> None:
        """Close a connection the core gave up on. Gracefully, within ``close_timeout``: it is
        dead already (a drop), or closing (after an error frame); a silent one was shut down by
        the watchdog first, which also releases a sender stuck on it."""
        with self._cond:
            if ws is not None and self._ws is ws:
                self._ws = None
        if ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                ws.close()

    def _connect(self, action: Connect) -> None:
        if action.delay_s > 0 and self._stop.wait(action.delay_s):
            return  # closed meanwhile
        try:
            for gate in self._gates:
                gate()
            ws = self._take_preopened() or connect(
                self._url, legacy=True, **self._connect_kwargs(self._credential())
            )
        except (InvalidStatus, OSError, TimeoutError, WebSocketException, SonioxError) as error:
            self._step(self._failed_connect(action.connection, error))
            return
        with self._cond:
            opened = self._core.opened(action.connection, time.monotonic())
            frames, links, _ = self._settle(opened)
            self._heard()
            for frame in frames:  # the first frames, before anyone else's
                try:
                    ws.send(self._payload(frame))
                except _BROKEN:
                    break  # the receiving side will find out why
            if self._wanted(action.connection):
                self._ws = ws
                self._last_sent = time.monotonic()
                self._stalled = None
            self._cond.notify_all()
        for link in links:
            if isinstance(link, Disconnect):
                self._disconnect(ws)

    def _take_preopened(self) -> ClientConnection | None:
        """The pre-connected first link, if one was handed over (once)."""
        link, self._preopened = self._preopened, None
        if callable(link):
            link = link()
        return link if isinstance(link, ClientConnection) else None

    def _start_keepalive(self) -> None:
        tick = self._tick()
        if tick is None or self._keepalive is not None:
            return
        self._keepalive = threading.Thread(
            target=self._ticker, args=(tick,), name="soniox-keepalive", daemon=True
        )
        self._keepalive.start()

    def _ticker(self, tick: float) -> None:
        """Keepalives and the watchdog, every ``tick``: a keepalive whenever nothing went out
        for ``keepalive_interval_sec`` (paused, or the audio source stalled), so the server
        never drops the stream as idle; a connection silent while the server owes an answer
        is shut down, and the receiving side resumes the stream on a new one."""
        interval = self._options.keepalive_interval_sec
        while not self._stop.wait(tick):
            now = time.monotonic()
            for renew in self._ticks:
                self._hook_guard.call(renew, now)
            with self._cond:
                ws = self._ws
                stalled = ws is not None and self._stall(now)
            if stalled and ws is not None:
                with contextlib.suppress(OSError):  # the reader, and a stuck sender, wake up
                    ws.socket.shutdown(socket.SHUT_RDWR)
            if interval is None or now - self._last_sent < interval:
                continue
            try:
                self._step(partial(self._core.control, RealtimeControlType.KEEP_ALIVE))
            except SonioxRealtimeError:
                return
            self._last_sent = time.monotonic()
