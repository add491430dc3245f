"""Pre-connected realtime links, under the official SDK's names (its main branch, after 2.10.0).

A voice bot that opens its WebSocket when a call starts pays the TCP + TLS + WebSocket handshake
before the first word can be recognised. ``client.realtime.stt.connect_idle()`` opens the link
ahead of time — a :class:`RealtimeSTTConnection`, kept alive with keepalives while it waits —
and :meth:`RealtimeSTTConnection.start_session` sends the config on it when the call comes: a
:class:`RealtimeSTTStream`, which is a session like any other (the official members, the chain,
exact resume: a pre-connected session that drops reconnects like one connected on demand). A
link carries one session and is closed after it, never reused.

:class:`RealtimeSTTConnectionPool` keeps ``pool_size`` idle links ready, refilled in the
background after each borrow and replaced before their lifetime ends (:class:`~.idle.IdlePolicy`
decides; the pool acts). A client made with ``stt_connection_pool_size=N`` owns one:
``connect(config=..., use_connection_pool=True)`` sessions take their first link from it.

Unlike the official links, ours authenticate in the handshake (``Authorization``), as every
session of this SDK does, so no key travels in a JSON message; a session started with a
different key than its link's opens a new connection with that key instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from soniox.errors import ClientValidationError, SonioxError, SonioxRealtimeError
from soniox.types import RealtimeSTTConfig

from ._shell import Credential, connect_kwargs
from .async_session import AsyncRealtimeSTTSession
from .idle import IdleLinks, IdlePolicy
from .options import KEEP_ALIVE_INTERVAL_SEC, SessionOptions
from .session import RealtimeSTTSession

__all__ = [
    "AsyncRealtimeSTTConnection",
    "AsyncRealtimeSTTPreconnectPool",
    "RealtimeSTTPreconnectPool",
    "AsyncRealtimeSTTConnectionPool",
    "AsyncRealtimeSTTStream",
    "RealtimeSTTConnection",
    "RealtimeSTTConnectionPool",
    "RealtimeSTTStream",
]

LinkT = TypeVar("LinkT", "RealtimeSTTConnection", "AsyncRealtimeSTTConnection")
_KEEPALIVE = '{"type": "keepalive"}'
REFILL_DELAY_SEC = 0.1
"""A pool refills this long after a borrow, not at once: the handshake's CPU would compete with
the new session's first exchange (measured: +3 ms to the first token on loopback TLS)."""
_BROKEN = (OSError, WebSocketException)


def _check_interval(interval_sec: float) -> None:
    if isinstance(interval_sec, bool) or not interval_sec > 0:
        raise ClientValidationError(
            "keepalive interval must be greater than 0", field="interval_sec"
        )


class _Link:
    """What the sync and async links share: the key they opened with, the options their
    session gets, and whether they were used."""

    def __init__(self, url: str, api_key: str | Credential, options: SessionOptions) -> None:
        self._url = url
        self._api_key = api_key
        self._options = options
        self._session_started = False
        self._discarded = False
        self.opened_at: float | None = None
        """``time.monotonic()`` when the handshake completed."""

    def _check_startable(self) -> None:
        if self._discarded:
            raise SonioxRealtimeError("this connection has already been discarded")
        if self._session_started:
            raise SonioxRealtimeError("this connection already has a session")

    def _key(self) -> object:
        key = self._api_key
        return key() if callable(key) else key

    def _same_key(self, api_key: str | None) -> bool:
        """Whether a session with ``api_key`` may use this link (opened with our key)."""
        return api_key is None or api_key == self._api_key

    def __repr__(self) -> str:
        state = (
            "discarded"
            if self._discarded
            else "in a session"
            if self._session_started
            else "idle"
            if self.opened_at is not None
            else "not open"
        )
        return f"{type(self).__name__}({state}, {self._url!r})"


class RealtimeSTTConnection(_Link):
    """A realtime link opened before its session (``client.realtime.stt.connect_idle()``):
    the handshake on ``with`` (or :meth:`open`), the config only at :meth:`start_session`."""

    def __init__(self, url: str, api_key: str | Credential, options: SessionOptions) -> None:
        super().__init__(url, api_key, options)
        self._ws: ClientConnection | None = None
        self._keepalive: threading.Thread | None = None
        self._stop_keepalive = threading.Event()

    @property
    def connected(self) -> bool:
        """Whether the handshake completed and the link is still this object's."""
        return self._ws is not None

    def open(self) -> RealtimeSTTConnection:
        """The handshake (a :class:`~soniox.errors.SonioxRealtimeError` if it fails)."""
        if self._ws is not None:
            return self
        if self._discarded:
            raise SonioxRealtimeError("this connection has already been discarded")
        try:
            self._ws = connect(self._url, legacy=True, **connect_kwargs(self._options, self._key()))
        except (TimeoutError, *_BROKEN) as error:
            raise SonioxRealtimeError(f"could not open the realtime connection: {error}") from error
        self.opened_at = time.monotonic()
        return self

    def __enter__(self) -> RealtimeSTTConnection:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def keep_alive(self) -> None:
        """Send a keepalive now (the server closes a link idle for 20 s)."""
        ws = self._ws
        if ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        try:
            ws.send(_KEEPALIVE)
        except _BROKEN as error:
            raise SonioxRealtimeError(f"the realtime connection failed: {error}") from error

    def start_idle_keepalive(self, *, interval_sec: float = KEEP_ALIVE_INTERVAL_SEC) -> None:
        """Send keepalives every ``interval_sec`` from a background thread until
        :meth:`stop_idle_keepalive` or :meth:`start_session`."""
        if self._ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        if self._session_started:
            raise SonioxRealtimeError("cannot start an idle keepalive after a session started")
        _check_interval(interval_sec)
        if self._keepalive is not None:
            return
        self._stop_keepalive.clear()
        self._keepalive = threading.Thread(
            target=self._keep, args=(interval_sec,), name="soniox-idle-keepalive", daemon=True
        )
        self._keepalive.start()

    def _keep(self, interval_sec: float) -> None:
        while not self._stop_keepalive.wait(interval_sec):
            try:
                self.keep_alive()
            except SonioxRealtimeError:
                return  # a dead link: its session (if any) reconnects

    def stop_idle_keepalive(self) -> None:
        thread = self._keepalive
        if thread is None:
            return
        self._keepalive = None
        self._stop_keepalive.set()
        if thread is not threading.current_thread():
            thread.join()

    def start_session(
        self, *, config: RealtimeSTTConfig, api_key: str | None = None
    ) -> RealtimeSTTStream:
        """Send ``config`` on this link: the session, entered (its members as a session's;
        close it when done — the link goes with it)."""
        self._check_startable()
        if self._ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        self.stop_idle_keepalive()
        stream = RealtimeSTTStream(
            self._url, config, api_key or self._api_key, options=self._options
        )
        self._session_started = True
        ws, self._ws = self._ws, None
        if self._same_key(api_key):
            stream.hand_over(ws)
        else:
            with contextlib.suppress(*_BROKEN):
                ws.close()
        try:
            stream.enter()
        except SonioxError:
            stream.close()
            raise
        return stream

    def release(self) -> ClientConnection:
        """Hand the open link to a session of your own making (``session.hand_over``): this
        object lets go of it and cannot start a session any more."""
        self._check_startable()
        ws = self._ws
        if ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        self.stop_idle_keepalive()
        self._session_started = True
        self._ws = None
        return ws

    def discard(self) -> None:
        """Close the link for good (after its session, or unused)."""
        self._discarded = True
        self.close()

    def close(self) -> None:
        self.stop_idle_keepalive()
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(*_BROKEN):
                ws.close()


class RealtimeSTTStream(RealtimeSTTSession):
    """A session started on a pre-connected link (:meth:`RealtimeSTTConnection.start_session`
    or a pool's): every member of :class:`~.session.RealtimeSTTSession`; :meth:`close` closes
    the link too, which is never reused."""


class AsyncRealtimeSTTConnection(_Link):
    """The asyncio :class:`RealtimeSTTConnection` (``async with``)."""

    def __init__(self, url: str, api_key: str | Credential, options: SessionOptions) -> None:
        super().__init__(url, api_key, options)
        self._ws: AsyncConnection | None = None
        self._keepalive: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def open(self) -> AsyncRealtimeSTTConnection:
        if self._ws is not None:
            return self
        if self._discarded:
            raise SonioxRealtimeError("this connection has already been discarded")
        key = self._key()
        if inspect.isawaitable(key):
            key = await key
        try:
            self._ws = await async_connect(self._url, **connect_kwargs(self._options, key))
        except (TimeoutError, *_BROKEN) as error:
            raise SonioxRealtimeError(f"could not open the realtime connection: {error}") from error
        self.opened_at = time.monotonic()
        return self

    async def __aenter__(self) -> AsyncRealtimeSTTConnection:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def keep_alive(self) -> None:
        ws = self._ws
        if ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        try:
            await ws.send(_KEEPALIVE)
        except _BROKEN as error:
            raise SonioxRealtimeError(f"the realtime connection failed: {error}") from error

    async def start_idle_keepalive(self, *, interval_sec: float = KEEP_ALIVE_INTERVAL_SEC) -> None:
        if self._ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        if self._session_started:
            raise SonioxRealtimeError("cannot start an idle keepalive after a session started")
        _check_interval(interval_sec)
        if self._keepalive is None:
            self._keepalive = asyncio.create_task(self._keep(interval_sec))

    async def _keep(self, interval_sec: float) -> None:
        while True:
            await asyncio.sleep(interval_sec)
            try:
                await self.keep_alive()
            except SonioxRealtimeError:
                return

    async def stop_idle_keepalive(self) -> None:
        task, self._keepalive = self._keepalive, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def start_session(
        self, *, config: RealtimeSTTConfig, api_key: str | None = None
    ) -> AsyncRealtimeSTTStream:
        self._check_startable()
        if self._ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        await self.stop_idle_keepalive()
        stream = AsyncRealtimeSTTStream(
            self._url, config, api_key or self._api_key, options=self._options
        )
        self._session_started = True
        ws, self._ws = self._ws, None
        if self._same_key(api_key):
            stream.hand_over(ws)
        else:
            with contextlib.suppress(*_BROKEN):
                await ws.close()
        try:
            await stream.aenter()
        except SonioxError:
            await stream.close()
            raise
        return stream

    async def release(self) -> AsyncConnection:
        """See :meth:`RealtimeSTTConnection.release`."""
        self._check_startable()
        ws = self._ws
        if ws is None:
            raise SonioxRealtimeError("the realtime connection is not open")
        await self.stop_idle_keepalive()
        self._session_started = True
        self._ws = None
        return ws

    async def discard(self) -> None:
        self._discarded = True
        await self.close()

    async def close(self) -> None:
        await self.stop_idle_keepalive()
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(*_BROKEN):
                await ws.close()


class AsyncRealtimeSTTStream(AsyncRealtimeSTTSession):
    """The asyncio :class:`RealtimeSTTStream`."""


# --- pools ---------------------------------------------------------------------------------------


class _PoolBase(Generic[LinkT]):
    """What the sync and async pools show alike: their links' bookkeeping, read-only."""

    def __init__(
        self,
        open_link: Callable[[], LinkT],
        policy: IdlePolicy,
        *,
        idle_keepalive: bool = True,
        keepalive_interval_sec: float = KEEP_ALIVE_INTERVAL_SEC,
    ) -> None:
        """``open_link``: makes an unopened link (``connect_idle``); ``policy``: the size and
        the links' lifetime; ``idle_keepalive``: ping idle links every
        ``keepalive_interval_sec`` (the maintenance round's period either way)."""
        _check_interval(keepalive_interval_sec)
        self._open_link = open_link
        self._links: IdleLinks[LinkT] = IdleLinks(policy)
        self._idle_keepalive = idle_keepalive
        self._interval = keepalive_interval_sec
        self._init_io()

    def _init_io(self) -> None:
        """The flavour's own state (a lock and threads, or tasks)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._links!r})"

    @property
    def policy(self) -> IdlePolicy:
        return self._links.policy

    @property
    def idle_count(self) -> int:
        return len(self._links)

    @property
    def opened(self) -> int:
        """Links opened so far (warm-up, refills, and borrows that found none ready)."""
        return self._links.opened

    def idle_links(self) -> list[LinkT]:
        """The idle links now (a copy)."""
        return self._links.idle()

    def _check_open(self) -> None:
        if self._links.closed:
            raise SonioxRealtimeError("the connection pool is closed")


class RealtimeSTTConnectionPool(_PoolBase[RealtimeSTTConnection]):
    """``pool_size`` idle links, ready for sessions (``client.realtime.stt
    .create_connection_pool(...)``). :meth:`borrow_connection` takes one out (opening one at
    once if none is ready) and the pool refills in the background; a maintenance thread sends
    the idle links keepalives (``idle_keepalive``) and replaces those near the end of their
    lifetime. What to do is :class:`~.idle.IdleLinks`' decision; this shell does the I/O."""

    def _init_io(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None

    def __enter__(self) -> RealtimeSTTConnectionPool:
        self.warmup()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def warmup(self) -> None:
        """Open links until ``pool_size`` are idle (here, now), and start the maintenance."""
        self._check_open()
        self._start_maintenance()
        while self._reserve():
            self._open_one(raise_errors=True)

    def borrow_connection(self) -> RealtimeSTTConnection:
        """An idle link, out of the pool (opened now if none is ready); yours until its
        session ends or you :meth:`~RealtimeSTTConnection.discard` it."""
        self._check_open()
        with self._lock:
            link, dead = self._links.take(time.monotonic())
        for old in dead:
            old.discard()
        if link is None:
            link = self._open_link().open()
            with self._lock:
                self._links.opened += 1
        if self._reserve():
            threading.Thread(target=self._refill, name="soniox-pool-refill", daemon=True).start()
        return link

    def start_session(
        self, *, config: RealtimeSTTConfig, api_key: str | None = None
    ) -> RealtimeSTTStream:
        """A borrowed link's session (see :meth:`RealtimeSTTConnection.start_session`)."""
        link = self.borrow_connection()
        try:
            return link.start_session(config=config, api_key=api_key)
        except BaseException:
            link.discard()
            raise

    def close(self) -> None:
        """Close the idle links and stop refilling (borrowed ones are their holders')."""
        with self._lock:
            idle = self._links.close()
        self._stop.set()
        thread = self._maintenance
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        for link in idle:
            link.discard()

    # --- inside ------------------------------------------------------------------------------
    def _reserve(self) -> bool:
        with self._lock:
            return self._links.reserve()

    def _open_one(self, *, raise_errors: bool = False) -> None:
        """Open a reserved link and add it to the pool."""
        try:
            link = self._open_link().open()
        except SonioxError:
            with self._lock:
                self._links.failed()
            if raise_errors:
                raise
            return
        with self._lock:
            joined = self._links.arrived(link)
        if not joined:
            link.discard()

    def _refill(self) -> None:
        if self._stop.wait(REFILL_DELAY_SEC):
            with self._lock:
                self._links.cancelled()
            return
        self._open_one()

    def _start_maintenance(self) -> None:
        with self._lock:
            if self._maintenance is not None:
                return
            self._maintenance = threading.Thread(
                target=self._maintain, name="soniox-pool-maintenance", daemon=True
            )
        self._maintenance.start()

    def _maintain(self) -> None:
        """Every keepalive interval: keepalives for the idle links, replacements for the old
        and the dead, refills up to the pool's size."""
        while not self._stop.wait(self._interval):
            with self._lock:
                keep, drop = self._links.sweep(time.monotonic())
            for link in drop:
                link.discard()
            for link in keep if self._idle_keepalive else ():
                try:
                    link.keep_alive()
                except SonioxRealtimeError:
                    with self._lock:
                        taken = self._links.remove(link)
                    if taken:
                        link.discard()
            while self._reserve():
                self._open_one()


class AsyncRealtimeSTTConnectionPool(_PoolBase[AsyncRealtimeSTTConnection]):
    """The asyncio :class:`RealtimeSTTConnectionPool` (refills and maintenance as tasks)."""

    def _init_io(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._maintenance: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsyncRealtimeSTTConnectionPool:
        await self.warmup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def warmup(self) -> None:
        self._check_open()
        if self._maintenance is None:
            self._maintenance = asyncio.create_task(self._maintain())
        opening: list[asyncio.Task[None]] = []
        while self._links.reserve():
            opening.append(asyncio.create_task(self._open_one(raise_errors=True)))
        if opening:
            await asyncio.gather(*opening)

    async def borrow_connection(self) -> AsyncRealtimeSTTConnection:
        self._check_open()
        link, dead = self._links.take(time.monotonic())
        for old in dead:
            await old.discard()
        if link is None:
            link = await self._open_link().open()
            self._links.opened += 1
        if self._links.reserve():
            task: asyncio.Task[None] = asyncio.create_task(self._refill())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return link

    async def start_session(
        self, *, config: RealtimeSTTConfig, api_key: str | None = None
    ) -> AsyncRealtimeSTTStream:
        link = await self.borrow_connection()
        try:
            return await link.start_session(config=config, api_key=api_key)
        except BaseException:
            await link.discard()
            raise

    async def close(self) -> None:
        idle = self._links.close()
        tasks = [*self._tasks, *([self._maintenance] if self._maintenance else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, SonioxError):
                await task
        for link in idle:
            await link.discard()

    # --- inside ------------------------------------------------------------------------------
    async def _refill(self) -> None:
        try:
            await asyncio.sleep(REFILL_DELAY_SEC)
        except asyncio.CancelledError:
            self._links.cancelled()
            raise
        await self._open_one()

    async def _open_one(self, *, raise_errors: bool = False) -> None:
        try:
            link = await self._open_link().open()
        except SonioxError:
            self._links.failed()
            if raise_errors:
                raise
            return
        if not self._links.arrived(link):
            await link.discard()

    async def _maintain(self) -> None:
        while not self._links.closed:
            await asyncio.sleep(self._interval)
            keep, drop = self._links.sweep(time.monotonic())
            for link in drop:
                await link.discard()
            for link in keep if self._idle_keepalive else ():
                try:
                    await link.keep_alive()
                except SonioxRealtimeError:
                    if self._links.remove(link):
                        await link.discard()
            while self._links.reserve():
                await self._open_one()


RealtimeSTTPreconnectPool = RealtimeSTTConnectionPool
"""The official alias."""
AsyncRealtimeSTTPreconnectPool = AsyncRealtimeSTTConnectionPool
