"""The realtime STT protocol as a sans-IO state machine: events in, frames and actions out.

:class:`RealtimeSession` never touches a socket or a clock. The driver (``realtime.py``) feeds
it what happened (:meth:`~RealtimeSession.start`, :meth:`~RealtimeSession.receive`,
:meth:`~RealtimeSession.timeout`, :meth:`~RealtimeSession.peer_closed`) with the current time,
and performs the returned :data:`Action` list in order: :class:`Send` a text frame,
:class:`Close` the socket, :class:`Abort` the connection, or :class:`Stall`.

Protocol (soniox-api.md §5), with the emulator's choices where the API is silent:

* Auth: the key on the connection (bearer header or ``soniox-api-key`` subprotocol) is checked
  as soon as the socket is open; without one the legacy ``api_key`` config field is used. A key
  on the connection *and* in the config is ``400 invalid_request``; a missing or bad key is
  ``401 unauthenticated``. Temporary keys (``check_stream_key``) may carry
  ``max_session_duration_seconds``: past it the session ends with
  ``403 temp_api_key_session_expired``.
* The first frame must be a text frame with the config (``realtime_config.parse_config``);
  before it, ``{"type":"keepalive"}`` frames only reset the idle timer — a pre-connected link
  waiting for its session, as the official SDK's pre-connect keeps one.
* Binary frames are audio; ``{"type":"finalize"}`` (optional integer ``trailing_silence_ms``
  >= 0, accepted and ignored: the emulator needs no hint to finalize) yields finals plus
  ``<fin>``; ``{"type":"keepalive"}`` only resets the idle timer; an empty text or binary frame
  ends the audio: remaining finals, then ``{"tokens": [], ..., "finished": true}``, then close
  1000. Any other text frame is ``400 invalid_request``.
* One response per received frame at most, and only when something changed: new finals, other
  non-finals, or moved watermarks. Finals are sent exactly once, before the non-finals.
* Idle (no frame for ``ws_idle_timeout_s``, before or after the config) is
  ``408 request_timeout``; a session longer than ``ws_max_session_s`` of wall time or of audio is
  ``413 max_duration_reached``.
* Every error is one error frame, then close 1000 (the close code the real service uses after an
  error is undocumented; the frame is what clients act on).
* ``ws`` faults fire at their trigger point, checked after each client frame is processed:
  ``after_frames`` client frames (the config counts), ``at_audio_ms`` of audio received
  (either condition fires), or right after the config when neither is set. ``ws_drop`` and
  ``ws_error`` replace that frame's response; ``ws_stall`` delays it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from .auth import Authenticator, AuthResult
from .engines.base import (
    AudioDecodeError,
    RecognitionEngine,
    RecognizedToken,
    StreamRecognizer,
    StreamUpdate,
)
from .errors import DEFAULT_ERROR_TYPES, DEFAULT_MESSAGES, realtime_error_frame
from .faults import FiredFault
from .limits import AccountLimits
from .realtime_config import ConfigError, RealtimeConfig, parse_config

__all__ = [
    "Abort",
    "Action",
    "Close",
    "RealtimeSession",
    "Send",
    "SessionLimits",
    "Stall",
]


@attrs.frozen
class Send:
    """Send one text frame."""

    text: str


@attrs.frozen
class Close:
    """Send a close frame (after which the session is over)."""

    code: int = 1000
    reason: str = ""


@attrs.frozen
class Abort:
    """Drop the TCP connection without a close frame (``ws_drop``)."""


@attrs.frozen
class Stall:
    """Stop reading and sending for ``seconds``; ``<= 0``: until the client goes away."""

    seconds: float


Action = Send | Close | Abort | Stall


@attrs.frozen(kw_only=True)
class SessionLimits:
    """Timeouts in seconds (from :class:`~soniox.emulator.config.EmulatorConfig`)."""

    idle_timeout_s: float = 20.0
    max_session_s: float = 300 * 60


@attrs.define
class _PendingFault:
    fired: FiredFault
    applied: bool = False


def _error_frame(code: int, error_type: str | None, message: str | None, request_id: str) -> str:
    kind = error_type or DEFAULT_ERROR_TYPES.get(code, "internal_error")
    text = message or DEFAULT_MESSAGES.get(kind) or "Error."
    return realtime_error_frame(code, kind, text, request_id)


class RealtimeSession:
    """One WebSocket session's protocol state (see the module docstring for the rules)."""

    def __init__(
        self,
        *,
        request_id: str,
        engine: RecognitionEngine,
        auth: Authenticator,
        limits: SessionLimits,
        connection_key: str | None = None,
        connection_auth: str | None = None,
        faults: Sequence[FiredFault] = (),
        account_limits: AccountLimits | None = None,
    ) -> None:
        self.request_id = request_id
        self._account_limits = account_limits
        self._account = ""
        self.stream_slot: str | None = None
        """The account whose concurrent-stream slot this session holds (released at its end)."""
        self._engine = engine
        self._auth = auth
        self._limits = limits
        self._connection_key = connection_key
        self._connection_auth = connection_auth
        self._faults = [_PendingFault(f) for f in faults]
        self.state = "new"  # new | config | streaming | closed
        self.auth_method: str | None = None
        self.config: RealtimeConfig | None = None
        self.stream: StreamRecognizer | None = None
        self.frames_in = 0
        self.audio_bytes = 0
        self.final_text_tokens = 0
        self.error: tuple[int, str] | None = None
        self.outcome = "pending"
        self.applied_faults: list[str] = []
        self.ignored_fields: tuple[str, ...] = ()
        self._opened_at = 0.0
        self._last_activity = 0.0
        self._key_deadline: float | None = None
        self._last_non_final: list[dict[str, Any]] = []
        self._last_marks = (0, 0)

    def __repr__(self) -> str:
        return (
            f"RealtimeSession(state={self.state}, auth={self.auth_method}, "
            f"frames_in={self.frames_in}, audio_ms={self.audio_ms})"
        )

    # Properties for the driver -------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """Whether the config was accepted (a stream exists, so usage is billed)."""
        return self.stream is not None

    @property
    def audio_ms(self) -> int:
        return 0 if self.stream is None else self.stream.audio_ms

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def deadline(self) -> float | None:
        """When :meth:`timeout` must be called if no frame arrives before (``None``: never)."""
        if self.closed:
            return None
        limits = [
            self._last_activity + self._limits.idle_timeout_s,
            self._opened_at + self._limits.max_session_s,
        ]
        if self._key_deadline is not None:
            limits.append(self._key_deadline)
        return min(limits)

    # Events --------------------------------------------------------------------------------------
    def _admit_stream(self) -> list[Action]:
        """The account's realtime limits, when a stream starts (its config accepted): streams
        opened per minute, then concurrent streams; a slot taken is :attr:`stream_slot`."""
        limits = self._account_limits
        if limits is None:
            return []
        if limits.realtime_connect(self._account) is not None:
            return self._fail(
                429,
                "limit_exceeded",
                "Requests per minute limit has been exceeded for your project.",
            )
        if not limits.open_stream(self._account):
            return self._fail(
                429,
                "max_concurrent_connections_reached",
                "Maximum number of concurrent streams reached for your project.",
            )
        self.stream_slot = self._account
        return []

    def start(self, now: float) -> list[Action]:
        """The socket is open: check a key sent with the connection."""
        self._opened_at = self._last_activity = now
        self.state = "config"
        if self._connection_key is None:
            return []  # maybe the legacy api_key in the config
        result = self._auth.check_stream_key(self._connection_key)
        if not result.ok:
            return self._auth_failure(result)
        self._accept_auth(result, self._connection_auth or "bearer", now)
        return []

    def receive(self, message: str | bytes, now: float) -> list[Action]:
        """One client frame."""
        if self.closed:
            return []
        self.frames_in += 1
        self._last_activity = now
        if self.state == "config":
            actions = self._on_config(message, now)
        elif isinstance(message, bytes):
            actions = self._on_audio(message)
        else:
            actions = self._on_control(message)
        if self.closed or self.stream is None:
            return actions
        return self._with_faults(actions)

    def timeout(self, now: float) -> list[Action]:
        """The deadline from :meth:`deadline` passed without a frame."""
        if self.closed:
            return []
        if self._key_deadline is not None and now >= self._key_deadline:
            return self._fail(
                403,
                "temp_api_key_session_expired",
                "Temporary API key session duration limit reached.",
            )
        if now >= self._opened_at + self._limits.max_session_s:
            return self._fail(413, "max_duration_reached", "Maximum stream duration reached.")
        if now >= self._last_activity + self._limits.idle_timeout_s:
            return self._fail(
                408,
                "request_timeout",
                f"No audio or keepalive received for {self._limits.idle_timeout_s:g} seconds.",
            )
        return []

    def peer_closed(self) -> None:
        """The client closed or the connection dropped."""
        if not self.closed:
            self.state = "closed"
            self.outcome = "closed"

    def resumed(self, now: float) -> None:
        """A finite ``Stall`` is over: the client was not idle, the server was."""
        self._last_activity = max(self._last_activity, now)

    def mark_stalled(self) -> None:
        """The driver ended an open-ended stall because the client went away."""
        self.state = "closed"
        self.outcome = "stalled"

    # Config --------------------------------------------------------------------------------------
    def _on_config(self, message: str | bytes, now: float) -> list[Action]:
        if isinstance(message, str) and _is_keepalive(message):
            return []  # an idle pre-connected link: the timer was reset
        if isinstance(message, bytes):
            return self._fail(
                400, "invalid_request", "The first message must be a text frame with the config."
            )
        try:
            config = parse_config(message)
        except ConfigError as exc:
            return self._fail(400, exc.error_type, exc.message)
        if config.api_key is not None and self._connection_key is not None:
            return self._fail(
                400,
                "invalid_request",
                "The API key was sent both with the connection and in the config message; "
                "send it only once.",
            )
        if self.auth_method is None:
            if not config.api_key:
                return self._fail(401, "unauthenticated", None)
            result = self._auth.check_stream_key(config.api_key)
            if not result.ok:
                return self._auth_failure(result)
            self._accept_auth(result, "legacy", now)
        refused = self._admit_stream()
        if refused:
            return refused
        try:
            self.stream = self._engine.open_stream(config.stream_format, config.options)
        except AudioDecodeError as exc:
            return self._fail(400, "invalid_request", f"Invalid audio format: {exc}")
        self.config = config
        self.ignored_fields = config.ignored_fields
        self.state = "streaming"
        return []

    def _accept_auth(self, result: AuthResult, method: str, now: float) -> None:
        self._account = result.account
        temporary = result.temporary
        self.auth_method = "temporary" if temporary is not None else method
        if temporary is not None and temporary.max_session_duration_seconds is not None:
            self._key_deadline = now + temporary.max_session_duration_seconds

    def _auth_failure(self, result: AuthResult) -> list[Action]:
        message = None
        if result.temporary is not None and result.reason:
            message = result.reason[0].upper() + result.reason[1:] + "."
        return self._fail(401, "unauthenticated", message)

    # Streaming -----------------------------------------------------------------------------------
    def _on_audio(self, data: bytes) -> list[Action]:
        assert self.stream is not None
        if not data:
            return self._finish()
        self.audio_bytes += len(data)
        try:
            self.stream.feed(data)
        except AudioDecodeError as exc:
            return self._fail(400, "invalid_request", f"Audio could not be decoded: {exc}")
        if self.stream.audio_ms > self._limits.max_session_s * 1000:
            return self._fail(413, "max_duration_reached", "Maximum stream duration reached.")
        return self._respond()

    def _on_control(self, text: str) -> list[Action]:
        assert self.stream is not None
        if text == "":
            return self._finish()
        try:
            raw: object = json.loads(text)
        except ValueError:
            return self._fail(400, "invalid_request", "Control message is not valid JSON.")
        if not isinstance(raw, dict):
            return self._fail(400, "invalid_request", "Control message must be a JSON object.")
        fields: dict[str, object] = raw  # pyright: ignore[reportUnknownVariableType]
        kind = fields.get("type")
        if kind == "keepalive":
            return []
        if kind == "finalize":
            silence = fields.get("trailing_silence_ms")
            if silence is not None and (
                not isinstance(silence, int) or isinstance(silence, bool) or silence < 0
            ):
                return self._fail(
                    400, "invalid_request", "trailing_silence_ms must be a non-negative integer."
                )
            self.stream.finalize()
            return self._respond()
        label = kind if isinstance(kind, str) else json.dumps(kind)
        return self._fail(400, "invalid_request", f"Unknown control message type: {label[:64]}.")

    def _finish(self) -> list[Action]:
        assert self.stream is not None
        try:
            self.stream.end()
        except AudioDecodeError as exc:
            return self._fail(400, "invalid_request", f"Audio could not be decoded: {exc}")
        actions = self._respond()
        marks = self.stream.audio_ms
        final: dict[str, Any] = {
            "tokens": [],
            "final_audio_proc_ms": marks,
            "total_audio_proc_ms": marks,
            "finished": True,
        }
        actions.append(Send(json.dumps(final)))
        actions.append(Close(1000))
        self.state = "closed"
        self.outcome = "completed"
        return actions

    def _respond(self) -> list[Action]:
        assert self.stream is not None
        update: StreamUpdate = self.stream.take_update()
        non_final = [t.to_json(is_final=False) for t in update.non_final_tokens]
        marks = (update.final_audio_proc_ms, update.total_audio_proc_ms)
        if (
            not update.final_tokens
            and non_final == self._last_non_final
            and marks == self._last_marks
        ):
            return []
        self._last_non_final = non_final
        self._last_marks = marks
        self.final_text_tokens += sum(1 for t in update.final_tokens if not _special(t))
        tokens = [t.to_json(is_final=True) for t in update.final_tokens]
        tokens.extend(non_final)
        body = {
            "tokens": tokens,
            "final_audio_proc_ms": marks[0],
            "total_audio_proc_ms": marks[1],
        }
        return [Send(json.dumps(body))]

    # Faults and errors ---------------------------------------------------------------------------
    def _with_faults(self, actions: list[Action]) -> list[Action]:
        for pending in self._faults:
            if pending.applied or not self._triggered(pending.fired):
                continue
            pending.applied = True
            fault = pending.fired.fault
            self.applied_faults.append(pending.fired.label)
            if fault.kind == "ws_drop":
                self.state = "closed"
                self.outcome = "dropped"
                return [Abort()]
            if fault.kind == "ws_error":
                return self._fail(fault.error_code, fault.error_type, fault.message)
            if fault.kind == "ws_stall":
                actions = [Stall(fault.delay_s), *actions]
        return actions

    def _triggered(self, fired: FiredFault) -> bool:
        fault = fired.fault
        if fault.after_frames is None and fault.at_audio_ms is None:
            return True
        if fault.after_frames is not None and self.frames_in >= fault.after_frames:
            return True
        return fault.at_audio_ms is not None and self.audio_ms >= fault.at_audio_ms

    def _fail(self, code: int, error_type: str | None, message: str | None) -> list[Action]:
        frame = _error_frame(code, error_type, message, self.request_id)
        self.error = (code, error_type or DEFAULT_ERROR_TYPES.get(code, "internal_error"))
        self.state = "closed"
        self.outcome = "error"
        return [Send(frame), Close(1000)]


def _is_keepalive(text: str) -> bool:
    """Whether ``text`` is the keepalive control message (and nothing else)."""
    if "keepalive" not in text:
        return False
    try:
        parsed: object = json.loads(text)
    except ValueError:
        return False
    return parsed == {"type": "keepalive"}


def _special(token: RecognizedToken) -> bool:
    return token.text in ("<end>", "<fin>")
