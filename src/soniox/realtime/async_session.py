"""The asyncio realtime session (``await``-able twin of :mod:`~soniox.realtime.session`), the
official SDK's ``AsyncRealtimeSTTSession`` name for name, as a shell over the same
:class:`~.core.SessionCore` and :class:`~._shell.SessionShell`.

Tasks may share a session (one sending audio, another receiving events). Core calls never
await, so they are atomic on the loop; one ``asyncio.Lock`` orders the frames (first come,
first served: in the order the core decided them), and a new connection's first frames
(config, replay, what waited) go out before any other. Receiving never waits for that lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from functools import partial
from types import TracebackType

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from soniox.errors import SonioxError, SonioxRealtimeError
from soniox.types import RealtimeControlType, RealtimeEvent

from ._shell import SessionShell, size_of
from .core import Action, Connect, Disconnect, State

__all__ = ["AsyncRealtimeSTTSession"]

_BROKEN = (ConnectionClosed, OSError, WebSocketException)


class AsyncRealtimeSTTSession(SessionShell):
    """One realtime stream, asyncio flavour; opens on ``async with`` (or :meth:`aenter`)."""

    _flavour = "async"

    def _init_io(self) -> None:
        self._ws: ClientConnection | None = None
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._keepalive: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # --- the official members -------------------------------------------------------------------
    async def __aenter__(self) -> AsyncRealtimeSTTSession:
        if self._core.state is not State.CREATED:
            return self  # entered already (a pre-connected stream is)
        await self._step(self._core.start)
        self._entered()
        self._hooks_open()
        self._start_keepalive()
        return self

    aenter = __aenter__

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def send_byte_chunk(self, chunk: bytes) -> None:
        """See the sync session: with the buffer full while waiting for a connection
        (``block``), await it."""
        if self._on_audio:
            chunk = self._shape(chunk)
        core = self._core
        if core.pending_bytes and core.must_wait(size_of(chunk)):
            while core.must_wait(size_of(chunk)) and not self._closed_by_user:
                self._changed.clear()
                await self._changed.wait()
        await self._step(partial(self._core.audio, chunk))

    async def send_bytes(
        self,
        chunks: bytes | Iterable[bytes] | AsyncIterable[bytes],
        *,
        finish: bool = True,
    ) -> None:
        """One ``bytes`` (which does not finish the stream, as officially), or chunks from a
        sync or async iterable, then :meth:`finish` when ``finish`` is true."""
        if isinstance(chunks, bytes | bytearray):
            await self.send_byte_chunk(bytes(chunks))
            return
        if isinstance(chunks, AsyncIterable):
            async for chunk in chunks:
                await self.send_byte_chunk(chunk)
        else:
            for chunk in chunks:
                await self.send_byte_chunk(chunk)
        if finish:
            await self.finish()

    async def send_control_message(self, control_type: RealtimeControlType) -> None:
        await self._step(partial(self._core.control, control_type))

    async def finish(self) -> None:
        await self._step(self._core.finish)

    async def finalize(self, trailing_silence_ms: int | None = None) -> None:
        await self._step(
            partial(
                self._core.control,
                RealtimeControlType.FINALIZE,
                trailing_silence_ms=trailing_silence_ms,
            )
        )

    async def keep_alive(self) -> None:
        await self.send_control_message(RealtimeControlType.KEEP_ALIVE)

    async def pause(self, *, finalize: bool = True) -> None:
        await self._step(partial(self._core.pause, finalize=finalize))

    async def resume(self) -> None:
        await self._step(self._core.resume)

    async def recv_bytes(self) -> bytes:
        event = await self.receive_event()
        return b"" if event is None else event.model_dump_json().encode()

    async def receive_event(self) -> RealtimeEvent | None:
        """The next event; None once the stream ended (see the sync session)."""
        while True:
            found = self._next_event()
            if found is not False:
                return found if isinstance(found, RealtimeEvent) else None
            ws, connection = self._ws, self._core.connection
            if ws is None:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                raw = await ws.recv()
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else "no close frame"
                reason = self._stalled or f"the connection closed ({code})"
                await self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            except (OSError, WebSocketException) as error:
                reason = self._stalled or f"the connection failed: {error!r}"
                await self._step(partial(self._core.dropped, connection, reason, time.monotonic()))
                continue
            self._heard()
            await self._step(partial(self._core.received, connection, raw, time.monotonic()))

    async def receive_events(self) -> AsyncIterator[RealtimeEvent]:
        while (event := await self.receive_event()) is not None:
            yield event

    async def handle_events(
        self, handler: Callable[[RealtimeEvent], Awaitable[None] | None]
    ) -> None:
        """Call ``handler`` (a coroutine function, as officially, or a plain one) per event."""
        async for event in self.receive_events():
            outcome = handler(event)
            if outcome is not None:
                await outcome

    async def close(self) -> None:
        if self._closed_by_user:
            return
        self._closed_by_user = True
        self._changed.set()
        self._stop.set()
        ws = self._ws
        if ws is not None and self._core.state in (State.STREAMING, State.PAUSED):
            with contextlib.suppress(*_BROKEN):
                await ws.send("")
        await self._step(self._core.close)
        self._hooks_end(None)
        if ws is not None:
            await ws.close()
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive

    # --- the shell ---------------------------------------------------------------------------
    async def _step(self, decide: Callable[[], list[Action]]) -> None:
        """Ask the core (a core call never awaits: atomic on the loop), then do the I/O.

        Frames go out under the lock, which asyncio hands out first come, first served — so in
        the order the core decided them; a decision without frames (a result received, most
        of the time) never waits for it, even when a send is stuck on a stalled socket."""
        frames, links, changed = self._settle(decide())
        ws = self._ws
        if changed:
            self._changed.set()
        if frames:
            async with self._lock:
                for frame in frames:
                    await self._send(ws, self._payload(frame))
        for link in links:
            if isinstance(link, Connect):
                await self._connect(link)
            else:
                await self._disconnect(ws)

    async def _send(self, ws: ClientConnection | None, data: str | bytes) -> None:
        if ws is None:
            return  # the core keeps it: pending, or in the next connection's replay
        try:
            await ws.send(data)
        except _BROKEN:
            return  # the receiving side will find the connection closed, and why
        self._last_sent = time.monotonic()

    async def _disconnect(self, ws: ClientConnection | None) -> None:
        """Close a connection the core gave up on (see the sync session)."""
        if ws is not None and self._ws is ws:
            self._ws = None
        if ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                await ws.close()

    async def _connect(self, action: Connect) -> None:
        if action.delay_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), action.delay_s)
            if self._stop.is_set():
                return  # closed meanwhile
        try:
            for gate in self._gates:
                await gate()
            ws = await self._take_preopened()
            if ws is None:
                credential = self._credential()
                if inspect.isawaitable(credential):
                    credential = await credential
                ws = await connect(self._url, **self._connect_kwargs(credential))
        except (InvalidStatus, OSError, TimeoutError, WebSocketException, SonioxError) as error:
            await self._step(self._failed_connect(action.connection, error))
            return
        async with self._lock:
            opened = self._core.opened(action.connection, time.monotonic())
            frames, links, _ = self._settle(opened)
            self._heard()
            for frame in frames:  # the first frames, before anyone else's
                try:
                    await ws.send(self._payload(frame))
                except _BROKEN:
                    break  # the receiving side will find out why
            if self._wanted(action.connection):
                self._ws = ws
                self._last_sent = time.monotonic()
                self._stalled = None
            self._changed.set()
        for link in links:
            if isinstance(link, Disconnect):
                await self._disconnect(ws)

    async def _take_preopened(self) -> ClientConnection | None:
        """The pre-connected first link, if one was handed over (once)."""
        link, self._preopened = self._preopened, None
        if callable(link):
            link = link()
        if inspect.isawaitable(link):
            link = await link
        return link if isinstance(link, ClientConnection) else None

    def _start_keepalive(self) -> None:
        tick = self._tick()
        if tick is None or self._keepalive is not None:
            return
        self._keepalive = asyncio.create_task(self._ticker(tick))

    async def _ticker(self, tick: float) -> None:
        """Keepalives and the watchdog (see the sync session's ``_ticker``)."""
        interval = self._options.keepalive_interval_sec
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), tick)
            if self._stop.is_set():
                continue
            now = time.monotonic()
            for renew in self._ticks:
                try:
                    await renew(now)
                except Exception as error:  # a link's failure never stops the ticker
                    self._hook_guard.failed(error)
            ws = self._ws
            if ws is not None and self._stall(now):
                ws.transport.abort()  # the reader, and a send stuck on it, end now
            if interval is None or now - self._last_sent < interval:
                continue
            try:
                await self._step(partial(self._core.control, RealtimeControlType.KEEP_ALIVE))
            except SonioxRealtimeError:
                return
            self._last_sent = time.monotonic()
