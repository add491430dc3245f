"""A realtime session's logic, sans-IO: inputs in, actions out — no socket, no clock, no thread.

The shells (sync and async) feed :class:`SessionCore` what happened — the user's calls
(:meth:`~SessionCore.audio`, :meth:`~SessionCore.control`, :meth:`~SessionCore.finish`,
:meth:`~SessionCore.pause`, :meth:`~SessionCore.close`) and the wire's events
(:meth:`~SessionCore.opened`, :meth:`~SessionCore.received`, :meth:`~SessionCore.dropped`,
:meth:`~SessionCore.connect_failed`), each with the time — and perform the returned actions in
order: :class:`Connect` (after its delay), :class:`SendText`, :class:`SendAudio`,
:class:`Disconnect`, :class:`Deliver` an event to the user, or tell them a :class:`Notice`
(reconnecting, resumed, a gap, the end).

States::

    created ─start→ connecting ─opened→ streaming ⇄ paused ─finish→ finishing ─finished→ finished
                        │                   │           │              │
                        └──── dropped / error frame that reconnection cures ────→ reconnecting
                                            (the config again, the audio since the final
                                             watermark, timestamps shifted) ─opened→ back
    any ─close→ closed;   an error reconnection cannot cure, or out of attempts → failed

What it guarantees: audio given before the socket is ready is kept and sent once it is; audio
given while paused is not sent (as officially) and is counted; after a drop the new connection
is sent exactly the audio after the last final watermark (:class:`~.ledger.AudioLedger`) and
its results are shifted onto the stream's clock (:func:`~.assembler.shift_event`), so no final
word is lost or repeated — or a :class:`~.ledger.AudioGap` notice says what was lost; a session
never reconnects after 400/401/402/403/413, nor after the user finished or closed it; anything
sent after finish/close/failure is a :class:`~soniox.errors.SessionClosedError`.
"""

from __future__ import annotations

import json
import random
from enum import StrEnum
from typing import Final, Literal, TypeAlias

import attrs
import msgspec

from soniox.errors import (
    BufferOverflowError,
    ClientValidationError,
    RealtimeConnectionError,
    RealtimeProtocolError,
    SessionClosedError,
    SonioxError,
    SonioxRealtimeError,
    error_from_realtime_frame,
)
from soniox.types import RealtimeControlType, RealtimeEvent

from .assembler import shift_event
from .ledger import AudioGap, AudioLedger

__all__ = [
    "OVERFLOW_POLICIES",
    "Action",
    "AudioDropped",
    "Connect",
    "Deliver",
    "Disconnect",
    "Ended",
    "Notice",
    "ReconnectPolicy",
    "Reconnecting",
    "Resumed",
    "SendAudio",
    "SendText",
    "SessionCore",
    "SessionNotice",
    "State",
    "GapNotice",
    "Overflow",
    "error_of",
]

Overflow: TypeAlias = Literal["block", "drop_oldest", "raise"]
"""What audio does when the buffer of audio waiting for a connection is full: ``block`` (the
sender waits for the connection: back-pressure), ``drop_oldest`` (the oldest waiting audio
goes, counted and reported — latency over completeness, for live sources), ``raise``
(:class:`~soniox.errors.BufferOverflowError`; the chunk is refused, nothing else lost)."""
OVERFLOW_POLICIES: Final[tuple[Overflow, ...]] = ("block", "drop_oldest", "raise")

NEVER_RECONNECT: Final = frozenset({400, 401, 402, 403, 404, 413})
"""Error codes a new connection cannot cure (the request itself is refused)."""
_KEEPALIVE: Final = json.dumps({"type": "keepalive"})
_END_OF_AUDIO: Final = ""


class State(StrEnum):
    CREATED = "created"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    PAUSED = "paused"
    FINISHING = "finishing"
    FINISHED = "finished"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"


_CONNECTED: Final = frozenset({State.STREAMING, State.PAUSED, State.FINISHING})
_WAITING: Final = frozenset({State.CREATED, State.CONNECTING, State.RECONNECTING})
_OVER: Final = frozenset({State.FINISHED, State.FAILED, State.CLOSED})


# --- actions -----------------------------------------------------------------------------------


@attrs.frozen
class Connect:
    """Open connection number ``connection`` after ``delay_s`` (a fresh credential each time)."""

    connection: int
    delay_s: float = 0.0


@attrs.frozen
class SendText:
    text: str


@attrs.frozen(repr=False)
class SendAudio:
    data: bytes

    def __repr__(self) -> str:
        return f"SendAudio({len(self.data)} bytes)"


@attrs.frozen
class Disconnect:
    """Close the current connection (``reason`` for the logs)."""

    reason: str


@attrs.frozen
class Deliver:
    """Hand ``event`` to the user (on the stream's clock)."""

    event: RealtimeEvent


@attrs.frozen
class Reconnecting:
    attempt: int
    delay_s: float
    reason: str


@attrs.frozen
class Resumed:
    """A new connection continues the stream from ``offset_ms`` (``replayed_bytes`` sent again)."""

    attempt: int
    offset_ms: int
    replayed_bytes: int


@attrs.frozen
class GapNotice:
    gap: AudioGap


@attrs.frozen
class AudioDropped:
    """The buffer was full (``drop_oldest``): ``bytes`` of the oldest waiting audio were
    dropped now, ``total_bytes`` so far; the transcript's gap follows as a :class:`GapNotice`
    when the stream resumes."""

    bytes: int
    total_bytes: int


@attrs.frozen
class Ended:
    """The session is over: ``error`` None when it finished, else why it failed."""

    error: SonioxError | None = None


SessionNotice: TypeAlias = Reconnecting | Resumed | GapNotice | AudioDropped
"""What a session tells its user besides events (``session.notices``)."""
Notice: TypeAlias = SessionNotice | Ended
Action: TypeAlias = Connect | SendText | SendAudio | Disconnect | Deliver | Notice


# --- the reconnection policy -------------------------------------------------------------------


@attrs.frozen
class ReconnectPolicy:
    """When a dropped session reconnects, and how soon.

    Full-jitter backoff (``uniform(0, min(max_delay_s, base_delay_s * 2**(attempt - 1)))``),
    at most ``max_attempts`` in a row and ``max_total_s`` since the drop; a connection that
    dies within ``min_healthy_s`` of opening ``max_quick_failures`` times in a row gives up too
    (a server refusing the stream, not a network blip). ``max_attempts=0`` turns reconnection
    off (the official SDK's behaviour)."""

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    base_delay_s: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    max_delay_s: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))
    max_total_s: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    min_healthy_s: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    max_quick_failures: int = attrs.field(default=3, validator=attrs.validators.ge(1))

    def delay(self, attempt: int, rng: random.Random) -> float:
        if attempt <= 1 and self.base_delay_s == 0:
            return 0.0
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)

    @staticmethod
    def curable(code: int | None) -> bool:
        """Whether a new connection can cure error ``code`` (5xx, 408, 429: yes)."""
        return code is None or code not in NEVER_RECONNECT


# --- the core ----------------------------------------------------------------------------------


class SessionCore:
    """One realtime stream's state, across however many connections it takes."""

    def __init__(
        self,
        config_text: str,
        ledger: AudioLedger,
        *,
        policy: ReconnectPolicy | None = None,
        rng: random.Random | None = None,
        buffer_bytes: int | None = None,
        overflow: Overflow = "block",
    ) -> None:
        """``config_text``: the config frame (JSON, no credential); ``ledger``: the audio
        record (its layout decides whether a resume is exact); ``buffer_bytes``: the bound of
        the audio waiting for a connection (None: unbounded) and ``overflow`` what happens
        past it (:data:`Overflow`). While connected, audio goes straight to the socket, whose
        own flow control holds a too-fast sender back."""
        if overflow not in OVERFLOW_POLICIES:
            raise ClientValidationError(
                f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}; got {overflow!r}",
                field="overflow",
            )
        if buffer_bytes is not None and buffer_bytes <= 0:
            raise ClientValidationError(
                f"buffer_bytes must be > 0 (or None), got {buffer_bytes!r}", field="buffer_bytes"
            )
        self.buffer_bytes = buffer_bytes
        self.overflow: Overflow = overflow
        self.config_text = config_text
        self.ledger = ledger
        self.policy = policy or ReconnectPolicy()
        self._rng = rng or random.Random()  # jitter, not secrecy
        self.state = State.CREATED
        self.paused = False
        self.connection = 0
        """The number of the connection the session is on (or opening)."""
        self.offset_ms = 0
        """The current connection's 0 ms on the stream's clock."""
        self.error: SonioxError | None = None
        self._pending: list[SendText | SendAudio] = []
        self._finish_requested = False
        self._attempts = 0
        self._drop_at: float | None = None
        self._opened_at: float | None = None
        self._quick_failures = 0
        self.reconnects = 0
        self.paused_bytes = 0
        """Audio given while paused, not sent (as officially)."""
        self.audio_bytes = 0
        """Audio accepted from the user (sent, queued, dropped while paused, or discarded)."""
        self._answered_ms = 0
        """The server's ``total_audio_proc_ms`` on the stream's clock: audio it has taken."""
        self._unheard = False
        """Audio went out since the last message (what the watchdog has when the layout,
        and so the audio's length, is unknown)."""
        self.discarded_bytes = 0
        """Audio that was waiting for a connection when the session closed or failed."""
        self.pending_bytes = 0
        """Audio waiting for a connection."""
        self.dropped_bytes = 0
        """Audio the full buffer dropped (``drop_oldest``)."""
        self.peak_pending_bytes = 0
        """The most audio that waited for a connection at once."""
        self._sent_any = False
        """Whether any audio went to a connection (else a new one has nothing to replay)."""

    def __repr__(self) -> str:
        return (
            f"SessionCore({self.state}, connection {self.connection}, offset {self.offset_ms} "
            f"ms, {self.reconnects} reconnects)"
        )

    # --- the user's side ----------------------------------------------------------------------
    def start(self) -> list[Action]:
        """Open the first connection."""
        if self.state is not State.CREATED:
            return []
        self.state = State.CONNECTING
        self.connection = 1
        return [Connect(1)]

    def audio(self, chunk: object) -> list[Action]:
        """Audio from the user: sent, kept until the socket is ready, or dropped while paused."""
        if isinstance(chunk, bytes):
            data = chunk
        elif isinstance(chunk, bytearray):
            data = bytes(chunk)
        elif isinstance(chunk, memoryview):
            data = chunk.tobytes()
        else:
            raise ClientValidationError(
                f"audio chunks must be bytes, got {type(chunk).__name__}", field="chunk"
            )
        self._check_open("audio")
        if not data:
            return []  # an empty frame would end the stream: that is finish()'s job
        self.audio_bytes += len(data)
        if self.paused:
            self.paused_bytes += len(data)
            return []
        if self.state in _WAITING:
            return self._wait_for_connection(data)
        self.ledger.sent(data)
        self._unheard = self._sent_any = True
        return [SendAudio(data)]

    def control(
        self, kind: RealtimeControlType | str, *, trailing_silence_ms: object = None
    ) -> list[Action]:
        """A control message (the official ``send_control_message``)."""
        kind = RealtimeControlType(kind)
        if kind is RealtimeControlType.FINISH:
            return self.finish()
        if kind is RealtimeControlType.KEEP_ALIVE:  # also while finishing: results may take a while
            if self.state in _OVER:
                raise SessionClosedError(f"cannot send keepalive: the session is {self.state}")
            return [SendText(_KEEPALIVE)] if self.state in _CONNECTED else []
        self._check_open(str(kind))
        message: dict[str, object] = {"type": "finalize"}
        if trailing_silence_ms is not None:
            if isinstance(trailing_silence_ms, bool) or not isinstance(trailing_silence_ms, int):
                raise ClientValidationError(
                    "trailing_silence_ms must be a whole number of milliseconds",
                    field="trailing_silence_ms",
                )
            message["trailing_silence_ms"] = trailing_silence_ms
        frame = SendText(json.dumps(message))
        if self.state in _WAITING:
            self._pending.append(frame)
            return []
        return [frame]

    def finish(self) -> list[Action]:
        """End of audio: the server finalizes the rest, sends ``finished`` and closes."""
        if self._finish_requested and self.state not in (State.CLOSED, State.FAILED):
            return []
        self._check_open("finish")
        self._finish_requested = True
        self.paused = False
        if self.state in _WAITING:
            return []
        self.state = State.FINISHING
        return [SendText(_END_OF_AUDIO)]

    def pause(self, *, finalize: bool = True) -> list[Action]:
        """Stop sending audio (what is given meanwhile is dropped and counted)."""
        self._check_open("pause")
        if self.paused:
            return []
        actions = self.control(RealtimeControlType.FINALIZE) if finalize else []
        self.paused = True
        if self.state is State.STREAMING:
            self.state = State.PAUSED
        return actions

    def resume(self) -> list[Action]:
        self._check_open("resume")
        self.paused = False
        if self.state is State.PAUSED:
            self.state = State.STREAMING
        return []

    def close(self) -> list[Action]:
        """The user ends the session now (no more results)."""
        if self.state is State.CLOSED:
            return []
        connected = self.state in _CONNECTED
        self.state = State.CLOSED
        self._discard_pending()
        return [Disconnect("closed by the user")] if connected else []

    def _check_open(self, what: str) -> None:
        if self.state in _OVER or self._finish_requested:
            state = "finishing" if self.state not in _OVER else str(self.state)
            raise SessionClosedError(f"cannot send {what}: the session is {state}")

    # --- the wire's side ----------------------------------------------------------------------
    def opened(self, connection: int, now: float) -> list[Action]:
        """Connection ``connection`` is open: the config, any replay, what waited."""
        if connection != self.connection or self.state not in (
            State.CONNECTING,
            State.RECONNECTING,
        ):
            return [Disconnect("a connection no longer wanted")]
        resuming = self.state is State.RECONNECTING
        actions: list[Action] = [SendText(self.config_text)]
        if (resuming and self._sent_any) or self.ledger.skipped_bytes:
            # (a first connection after dropped audio too; nothing sent yet: nothing to replay)
            replay = self.ledger.replay()
            actions += [SendAudio(chunk) for chunk in replay.chunks]
            self.ledger.resumed(replay)
            self.offset_ms = replay.offset_ms
            if replay.gap is not None:
                actions.append(GapNotice(replay.gap))
            if resuming:
                replayed = sum(len(chunk) for chunk in replay.chunks)
                actions.append(Resumed(self._attempts, replay.offset_ms, replayed))
        elif resuming:
            actions.append(Resumed(self._attempts, self.offset_ms, 0))
        for frame in self._pending:
            if isinstance(frame, SendAudio):
                self.ledger.sent(frame.data)
            actions.append(frame)
        self._unheard = any(isinstance(a, SendAudio) for a in actions)
        self._sent_any = self._sent_any or self._unheard
        self._pending.clear()
        self.pending_bytes = 0
        self._opened_at = now
        if self._finish_requested:
            actions.append(SendText(_END_OF_AUDIO))
            self.state = State.FINISHING
        else:
            self.state = State.PAUSED if self.paused else State.STREAMING
        return actions

    def received(self, connection: int, raw: str | bytes, now: float) -> list[Action]:
        """A message of connection ``connection``."""
        if connection != self.connection or self.state not in _CONNECTED:
            return []
        try:
            event = RealtimeEvent.validate_event(raw)
        except msgspec.DecodeError as error:  # ValidationError is a DecodeError
            return self._fail(
                RealtimeProtocolError(f"the server sent a message that is not a result: {error}")
            )
        if event.is_error:
            return self._error_frame(event, now)
        self._healthy()
        self._unheard = False
        shifted = shift_event(event, self.offset_ms)
        if shifted.final_audio_proc_ms is not None:
            self.ledger.watermark(shifted.final_audio_proc_ms)
        if shifted.total_audio_proc_ms is not None:
            self._answered_ms = max(self._answered_ms, shifted.total_audio_proc_ms)
        if not event.finished:
            return [Deliver(shifted)]
        self.state = State.FINISHED
        return [Deliver(shifted), Ended()]

    def dropped(self, connection: int, reason: str, now: float) -> list[Action]:
        """Connection ``connection`` closed or failed without the session finishing."""
        if connection != self.connection or self.state not in _CONNECTED:
            return []
        return self._reconnect(reason, now)

    def connect_failed(
        self,
        connection: int,
        error: BaseException,
        now: float,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> list[Action]:
        """Opening connection ``connection`` failed (``status``: a refused handshake's HTTP
        status, if there was one; ``retry_after_s``: its ``Retry-After``, which the next
        attempt waits at least — within the policy's ``max_total_s``)."""
        if connection != self.connection or self.state not in (
            State.CONNECTING,
            State.RECONNECTING,
        ):
            return []
        if not ReconnectPolicy.curable(status):
            frame = {"error_code": status, "error_message": f"connection refused: {error}"}
            return self._fail(error_from_realtime_frame(frame))
        if isinstance(error, SonioxRealtimeError) and not self._may_reconnect(
            now, retry_after_s or 0.0
        ):
            return self._fail(error)  # already typed (a quota's wait ran out): as it is
        return self._reconnect(f"connecting failed: {error}", now, wait_s=retry_after_s)

    def must_wait(self, size: int) -> bool:
        """Whether a sender of ``size`` bytes waits before :meth:`audio` (``block``): the
        session is waiting for a connection and its buffer holds too much already. A buffer
        with nothing in it takes any chunk, so a sender never waits forever."""
        bound = self.buffer_bytes
        return (
            bound is not None
            and self.overflow == "block"
            and self.pending_bytes > 0
            and self.pending_bytes + size > bound
            and self.state in _WAITING
            and not self.paused
        )

    def awaiting_answer(self) -> bool:
        """Whether the server owes an answer: audio it has not acknowledged (its
        ``total_audio_proc_ms`` behind the audio sent), or the ``finished`` result after the
        end of audio. What a watchdog checks before calling a silent connection dead."""
        if self.state is State.FINISHING:
            return True
        if self.state not in (State.STREAMING, State.PAUSED):
            return False
        layout = self.ledger.layout
        if layout is None:
            return self._unheard
        return layout.ms_of(self.ledger.sent_bytes) > self._answered_ms

    # --- decisions --------------------------------------------------------------------------
    def _error_frame(self, event: RealtimeEvent, now: float) -> list[Action]:
        error = error_from_realtime_frame(event)
        if ReconnectPolicy.curable(event.error_code) and self._may_reconnect(now):
            return self._reconnect(f"the server sent {event.error_code} ({error})", now)
        # As officially: the error is an event, then the stream ends.
        return [Deliver(event), *self._fail(error)]

    def _may_reconnect(self, now: float, wait_s: float = 0.0) -> bool:
        """Whether another attempt fits the policy (``wait_s``: the server asks to wait that
        long first — an attempt past ``max_total_s`` is not made)."""
        policy = self.policy
        if self._attempts >= policy.max_attempts:
            return False
        since = now if self._drop_at is None else self._drop_at
        if now + wait_s - since > policy.max_total_s:
            return False
        quick = self._opened_at is not None and now - self._opened_at < policy.min_healthy_s
        return not (quick and self._quick_failures + 1 >= policy.max_quick_failures)

    def _reconnect(self, reason: str, now: float, *, wait_s: float | None = None) -> list[Action]:
        if not self._may_reconnect(now, wait_s or 0.0):
            error = RealtimeConnectionError(
                f"the realtime connection could not be kept: {reason}", attempts=self.connection
            )
            return self._fail(error)
        if self._opened_at is not None and now - self._opened_at < self.policy.min_healthy_s:
            self._quick_failures += 1
        if self._drop_at is None:
            self._drop_at = now
        was_connected = self.state in _CONNECTED
        self._attempts += 1
        self.reconnects += 1
        self.connection += 1
        self.state = State.RECONNECTING
        self._opened_at = None
        delay = max(self.policy.delay(self._attempts, self._rng), wait_s or 0.0)
        actions: list[Action] = [Disconnect(reason)] if was_connected else []
        return [
            *actions,
            Reconnecting(self._attempts, delay, reason),
            Connect(self.connection, delay),
        ]

    def _discard_pending(self) -> None:
        self.discarded_bytes += self.pending_bytes
        self.pending_bytes = 0
        self._pending.clear()

    def _wait_for_connection(self, data: bytes) -> list[Action]:
        """Keep ``data`` until a connection is ready, within the buffer's bound."""
        bound = self.buffer_bytes
        actions: list[Action] = []
        if bound is not None and self.pending_bytes and self.pending_bytes + len(data) > bound:
            if self.overflow == "raise":
                self.audio_bytes -= len(data)  # refused: the caller still has it
                raise BufferOverflowError(
                    f"the realtime buffer is full: {self.pending_bytes} bytes wait for a "
                    f"connection (bound {bound}); {len(data)} more refused"
                )
            if self.overflow == "drop_oldest":
                data, dropped = self._drop_oldest(self.pending_bytes + len(data) - bound, data)
                if dropped:
                    self.dropped_bytes += dropped
                    actions.append(AudioDropped(dropped, self.dropped_bytes))
            # "block": the shell waited (must_wait) as long as it should; keep the chunk
        if data:
            self._pending.append(SendAudio(data))
            self.pending_bytes += len(data)
            self.peak_pending_bytes = max(self.peak_pending_bytes, self.pending_bytes)
        return actions

    def _drop_oldest(self, needed: int, incoming: bytes) -> tuple[bytes, int]:
        """Drop at least ``needed`` bytes of the oldest waiting audio (then of ``incoming``'s
        head, if that is not enough), so that the kept audio starts on a whole millisecond of
        the stream when the layout is known: the ledger skips what was dropped, and the next
        connection's results land where the kept audio really was. Returns what is left of
        ``incoming`` and the bytes dropped. The first audio of a stream whose layout is not
        known yet (a container's header) is never dropped."""
        ledger = self.ledger
        layout = ledger.layout
        start = ledger.sent_bytes
        target = needed
        if layout is not None:
            target = layout.offset_of(layout.ms_at_or_after(start + needed)) - start
        keep_first = layout is None and ledger.sent_bytes == 0 and ledger.skipped_bytes == 0
        kept: list[SendText | SendAudio] = []
        dropped = 0
        for frame in self._pending:
            if not isinstance(frame, SendAudio) or dropped >= target:
                kept.append(frame)
                continue
            if keep_first:  # a container's header may be in it
                keep_first = False
                kept.append(frame)
                continue
            size = len(frame.data)
            take = size if layout is None else min(size, target - dropped)
            dropped += take
            if take < size:  # cut on the millisecond: the rest stays where it was
                kept.append(SendAudio(frame.data[take:]))
        if dropped < target and layout is not None:
            take = min(len(incoming), target - dropped)
            incoming = incoming[take:]
            dropped += take
        self._pending = kept
        self.pending_bytes = sum(len(f.data) for f in kept if isinstance(f, SendAudio))
        ledger.skip(dropped, reason="the buffer was full (overflow='drop_oldest')")
        return incoming, dropped

    def _healthy(self) -> None:
        """A result arrived: the connection works; the attempt counters start over."""
        self._attempts = 0
        self._quick_failures = 0
        self._drop_at = None

    def _fail(self, error: SonioxError) -> list[Action]:
        connected = self.state in _CONNECTED
        self.state = State.FAILED
        self.error = error
        self._discard_pending()
        actions: list[Action] = [Disconnect(str(error))] if connected else []
        return [*actions, Ended(error)]


def error_of(actions: list[Action]) -> SonioxError | None:
    """The error an :class:`Ended` among ``actions`` carries, if any."""
    for action in actions:
        if isinstance(action, Ended):
            return action.error
    return None
