"""The realtime WebSocket endpoint (``/transcribe-websocket``): the I/O around the protocol.

All protocol decisions live in :class:`~soniox.emulator.realtime_session.RealtimeSession`; this
module only moves frames between it and the :class:`WebSocketChannel`, keeps time, applies the
actions it returns, and keeps the journal entry and the usage ledger up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from .auth import Authenticator
from .config import EmulatorConfig
from .engines.base import RecognitionEngine
from .faults import FaultPlan
from .http_types import IncomingRequest, WebSocketChannel, WebSocketClosed
from .journal import JournalEntry
from .limits import AccountLimits
from .realtime_session import Abort, Action, Close, RealtimeSession, Send, SessionLimits
from .usage import UsageLedger

__all__ = ["SUBPROTOCOL", "RealtimeEndpoint", "connection_credentials"]

SUBPROTOCOL = "soniox-api-key"
"""Browser auth: the client offers ``["soniox-api-key", "<key>"]``; the server selects the first."""

_OFFLOAD_BYTES = 256 * 1024
"""Frames at least this large are recognised in a worker thread so other sessions keep moving."""

_log = logging.getLogger("soniox.emulator.realtime")


def connection_credentials(
    authorization: str | None, subprotocols: list[str]
) -> tuple[str | None, str | None, bool]:
    """``(key, method, offered_subprotocol)`` from the upgrade request.

    The bearer header wins over the subprotocol when both are present. A non-bearer
    ``Authorization`` header counts as a (bad) key, so it is refused rather than ignored.
    """
    offered = SUBPROTOCOL in subprotocols
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
        return key, "bearer", offered
    if offered:
        index = subprotocols.index(SUBPROTOCOL)
        key = subprotocols[index + 1] if index + 1 < len(subprotocols) else ""
        return key, "subprotocol", True
    return None, None, False


class RealtimeEndpoint:
    """Serves realtime STT sessions with the configured engine, faults and limits."""

    def __init__(
        self,
        *,
        config: EmulatorConfig,
        faults: FaultPlan,
        auth: Authenticator,
        engine: RecognitionEngine,
        usage: UsageLedger,
        limits: AccountLimits | None = None,
    ) -> None:
        self._config = config
        self._account_limits = limits
        self._faults = faults
        self._auth = auth
        self._engine = engine
        self._usage = usage
        self._limits = SessionLimits(
            idle_timeout_s=config.ws_idle_timeout_s, max_session_s=config.ws_max_session_s
        )

    def __repr__(self) -> str:
        return f"RealtimeEndpoint(engine={self._engine.name!r}, {self._limits!r})"

    async def handle(self, request: IncomingRequest, channel: WebSocketChannel) -> None:
        """Run one session from the upgrade to the close."""
        fired = self._faults.take("ws", request.method or "GET", request.path)
        key, method, offered = connection_credentials(
            request.headers.get("authorization"), list(channel.subprotocols)
        )
        session = RealtimeSession(
            request_id=request.request_id,
            engine=self._engine,
            auth=self._auth,
            limits=self._limits,
            connection_key=key,
            connection_auth=method,
            faults=fired,
            account_limits=self._account_limits,
        )
        journal = request.journal
        await channel.accept(SUBPROTOCOL if offered else None)
        runner = _SessionRunner(
            session, channel, journal, offload=self._engine.name != "deterministic"
        )
        started_wall = datetime.now(UTC)
        stream: int | None = None  # the ledger's handle, once the config was accepted
        try:
            proceed = await runner.apply(session.start(time.monotonic()))
            while proceed:
                proceed = await runner.step()
                if session.started and stream is None:
                    stream = self._usage.stream_started()
        finally:
            await runner.aclose()
            if session.stream_slot is not None and self._account_limits is not None:
                self._account_limits.close_stream(session.stream_slot)
            if stream is not None:
                self._usage.stream_ended(stream)
            runner.sync_journal()
            if session.started and session.config is not None:
                temporary = session.auth_method == "temporary"
                self._usage.record(
                    model=session.config.model,
                    mode="real_time",
                    start_time=started_wall,
                    end_time=datetime.now(UTC),
                    input_audio_duration_ms=session.audio_ms,
                    output_text_tokens=session.final_text_tokens,
                    client_reference_id=None if temporary else session.config.client_reference_id,
                )
            _log.debug(
                "realtime session %s ended: outcome=%s frames_in=%d audio_ms=%d",
                request.request_id,
                session.outcome,
                session.frames_in,
                session.audio_ms,
            )


class _SessionRunner:
    """Drives one session: waits for frames or deadlines, performs the returned actions."""

    def __init__(
        self,
        session: RealtimeSession,
        channel: WebSocketChannel,
        journal: JournalEntry,
        *,
        offload: bool,
    ) -> None:
        self._session = session
        self._channel = channel
        self._journal = journal
        self._offload = offload
        self._recv: asyncio.Task[str | bytes] | None = None
        self._messages_out = 0
        self._close_code: int | None = None

    def _receive_task(self) -> asyncio.Task[str | bytes]:
        # One outstanding receive at a time, never cancelled while the session runs: a frame is
        # either delivered to the session or still unread in the socket.
        if self._recv is None:
            self._recv = asyncio.ensure_future(self._channel.receive())
        return self._recv

    async def step(self) -> bool:
        """Wait for the next frame or deadline; returns ``False`` when the session is over."""
        session = self._session
        deadline = session.deadline()
        task = self._receive_task()
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            return await self.apply(session.timeout(time.monotonic()))
        self._recv = None
        try:
            message = task.result()
        except WebSocketClosed as exc:
            session.peer_closed()
            self._close_code = exc.code
            return False
        now = time.monotonic()
        if self._offload or len(message) >= _OFFLOAD_BYTES:
            actions = await asyncio.to_thread(session.receive, message, now)
        else:
            actions = session.receive(message, now)
        return await self.apply(actions)

    async def apply(self, actions: list[Action]) -> bool:
        """Perform actions in order; ``False`` once the connection is finished."""
        try:
            for action in actions:
                if isinstance(action, Send):
                    await self._channel.send_text(action.text)
                    self._messages_out += 1
                elif isinstance(action, Close):
                    self._close_code = action.code
                    self.sync_journal()
                    await self._channel.close(action.code, action.reason)
                    return False
                elif isinstance(action, Abort):
                    self.sync_journal()
                    self._channel.abort()
                    return False
                elif not await self._stall(action.seconds):
                    return False
        except WebSocketClosed as exc:
            self._session.peer_closed()
            self._close_code = exc.code
            return False
        finally:
            self.sync_journal()
        return not self._session.closed

    async def _stall(self, seconds: float) -> bool:
        self.sync_journal()
        if seconds > 0:
            await asyncio.sleep(seconds)
            self._session.resumed(time.monotonic())
            return True
        # Until the client goes away: drain (and ignore) frames only to notice the disconnect.
        while True:
            try:
                await self._receive_task()
            except WebSocketClosed as exc:
                self._close_code = exc.code
                self._session.mark_stalled()
                return False
            finally:
                self._recv = None

    def sync_journal(self) -> None:
        """Copy the session's counters to the journal entry; the outcome goes last, because
        tests wait for it to leave ``pending`` and then read everything else."""
        session, journal = self._session, self._journal
        journal.ws_frames_in = session.frames_in
        journal.ws_audio_bytes = session.audio_bytes
        journal.ws_messages_out = self._messages_out
        journal.auth = session.auth_method
        journal.close_code = self._close_code
        for label in session.applied_faults:
            if label not in journal.faults:
                journal.faults.append(label)
        if session.error is not None:
            journal.notes["error_code"], journal.notes["error_type"] = session.error
        if session.ignored_fields:
            journal.notes["ignored_config_fields"] = list(session.ignored_fields)
        if session.config is not None:
            journal.notes["model"] = session.config.model
        journal.outcome = session.outcome

    async def aclose(self) -> None:
        task, self._recv = self._recv, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketClosed, Exception):
                await task
        elif task is not None and task.done() and not task.cancelled():
            task.exception()  # retrieve it so asyncio does not warn
