"""The realtime session core (sans-IO): every state x every input without an untyped error or an
illegal state, audio accounted for, reconnection with the exact replay, and the official
behaviour of an error frame that cannot be cured."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from soniox.errors import (
    BufferOverflowError,
    ClientValidationError,
    RealtimeAuthenticationError,
    RealtimeConnectionError,
    RealtimeProtocolError,
    RealtimeServiceUnavailableError,
    SessionClosedError,
)
from soniox.realtime.core import (
    OVERFLOW_POLICIES,
    Action,
    AudioDropped,
    Connect,
    Deliver,
    Disconnect,
    Ended,
    GapNotice,
    Overflow,
    Reconnecting,
    ReconnectPolicy,
    Resumed,
    SendAudio,
    SendText,
    SessionCore,
    State,
)
from soniox.realtime.ledger import AudioLayout, AudioLedger
from soniox.types import RealtimeControlType

CONFIG = json.dumps({"model": "stt-rt-v4", "audio_format": "pcm_s16le"})
PCM16 = AudioLayout(16_000, 2)


def core(policy: ReconnectPolicy | None = None, bound: int = 10**7) -> SessionCore:
    ledger = AudioLedger(PCM16, max_retained_bytes=bound)
    return SessionCore(CONFIG, ledger, policy=policy, rng=random.Random(7))


def result(final_ms: int, *, finished: bool = False, text: str = " w", start: int = 0) -> str:
    token = {"text": text, "start_ms": start, "end_ms": start + 100, "is_final": True}
    return json.dumps(
        {
            "tokens": [token],
            "final_audio_proc_ms": final_ms,
            "total_audio_proc_ms": final_ms,
            "finished": finished,
        }
    )


def sent_audio(actions: list[Action]) -> bytes:
    return b"".join(a.data for a in actions if isinstance(a, SendAudio))


def connected(c: SessionCore) -> list[Action]:
    c.start()
    return c.opened(c.connection, 0.0)


# --- specifications -------------------------------------------------------------------------------


def test_audio_before_the_socket_is_ready_is_kept_and_sent_after_the_config() -> None:
    """Chunks and a finalize given while connecting go out, in order, right after the config."""
    c = core()
    assert c.start() == [Connect(1)]
    assert c.audio(b"\x01\x02") == []
    assert c.control(RealtimeControlType.FINALIZE) == []
    actions = c.opened(1, 0.0)
    assert actions == [
        SendText(CONFIG),
        SendAudio(b"\x01\x02"),
        SendText('{"type": "finalize"}'),
    ]
    assert c.state is State.STREAMING


def test_audio_while_paused_is_not_sent_and_is_counted() -> None:
    """pause(): a finalize, then audio dropped (as officially) and counted; resume() sends again."""
    c = core()
    connected(c)
    assert c.pause() == [SendText('{"type": "finalize"}')]
    assert c.audio(b"\x00" * 64) == []
    assert (c.state, c.paused_bytes) == (State.PAUSED, 64)
    c.resume()
    assert c.audio(b"\x00" * 32) == [SendAudio(b"\x00" * 32)]


def test_finish_then_anything_sent_is_a_session_closed_error() -> None:
    """After finish(): "" goes out once; audio and finalize raise SessionClosedError."""
    c = core()
    connected(c)
    assert c.finish() == [SendText("")]
    assert c.finish() == []
    with pytest.raises(SessionClosedError):
        c.audio(b"\x00\x00")
    with pytest.raises(SessionClosedError):
        c.control("finalize")
    assert c.control(RealtimeControlType.KEEP_ALIVE) == [SendText('{"type": "keepalive"}')]


def test_non_bytes_audio_is_a_client_validation_error_before_anything_is_sent() -> None:
    """A str chunk is refused, naming the type."""
    c = core()
    connected(c)
    with pytest.raises(ClientValidationError, match="str"):
        c.audio("not audio")


def test_a_drop_resumes_with_the_audio_after_the_watermark_and_shifts_the_clock() -> None:
    """Dropped after a 100 ms watermark: reconnect, config again, exactly the audio after
    100 ms, and the new connection's results shifted by 100 ms."""
    c = core()
    connected(c)
    audio = bytes(range(256)) * 25  # 6,400 bytes = 200 ms
    c.audio(audio)
    c.received(1, result(100), 0.1)
    actions = c.dropped(1, "connection reset", 5.0)
    assert isinstance(actions[0], Disconnect)
    assert isinstance(actions[1], Reconnecting)
    connect = actions[2]
    assert isinstance(connect, Connect)
    assert connect.connection == 2
    resumed = c.opened(2, 5.2)
    assert resumed[0] == SendText(CONFIG)
    assert sent_audio(resumed) == audio[PCM16.offset_of(100) :]
    assert Resumed(1, 100, len(audio) - PCM16.offset_of(100)) in resumed
    (deliver,) = c.received(2, result(50, start=10), 5.3)
    assert isinstance(deliver, Deliver)
    assert deliver.event.tokens[0].start_ms == 110
    assert deliver.event.final_audio_proc_ms == 150


def test_a_503_frame_is_cured_by_reconnecting_and_never_delivered() -> None:
    """503 "Cannot continue request" reconnects; the user sees no error event."""
    c = core()
    connected(c)
    actions = c.received(1, '{"error_code": 503, "error_message": "Cannot continue"}', 1.0)
    assert not any(isinstance(a, Deliver) for a in actions)
    assert c.state is State.RECONNECTING


def test_a_401_frame_is_delivered_then_the_session_fails_typed() -> None:
    """As officially, an incurable error is an event and the stream ends; the error is typed."""
    c = core()
    connected(c)
    actions = c.received(1, '{"error_code": 401, "error_message": "bad key"}', 1.0)
    assert isinstance(actions[0], Deliver)
    assert actions[0].event.error_code == 401
    ended = actions[-1]
    assert isinstance(ended, Ended)
    assert isinstance(ended.error, RealtimeAuthenticationError)
    assert c.state is State.FAILED


def test_a_refused_handshake_with_403_never_reconnects() -> None:
    """connect_failed with HTTP 403: failed at once, no Connect."""
    c = core()
    c.start()
    actions = c.connect_failed(1, OSError("refused"), 0.0, status=403)
    assert not any(isinstance(a, Connect) for a in actions)
    assert c.state is State.FAILED


def test_out_of_attempts_is_a_realtime_connection_error_counting_them() -> None:
    """Three attempts allowed: the fourth failure ends the session with RealtimeConnectionError."""
    c = core(ReconnectPolicy(max_attempts=3, min_healthy_s=0))
    c.start()
    for attempt in range(1, 4):
        actions = c.connect_failed(c.connection, OSError("down"), float(attempt))
        assert any(isinstance(a, Connect) for a in actions)
    actions = c.connect_failed(c.connection, OSError("down"), 10.0)
    ended = actions[-1]
    assert isinstance(ended, Ended)
    assert isinstance(ended.error, RealtimeConnectionError)
    assert ended.error.attempts == 4


def test_reconnection_off_fails_on_the_first_drop() -> None:
    """max_attempts=0 (the official SDK's way): a drop ends the session."""
    c = core(ReconnectPolicy(max_attempts=0))
    connected(c)
    actions = c.dropped(1, "reset", 1.0)
    assert isinstance(actions[-1], Ended)
    assert c.state is State.FAILED


def test_a_gap_is_reported_when_the_kept_audio_outgrew_its_bound() -> None:
    """A replay that cannot start at the watermark tells the gap."""
    c = core(bound=3200)  # 100 ms
    connected(c)
    c.audio(b"\x00" * 32_000)  # 1 s, nothing final yet
    c.dropped(1, "reset", 1.0)
    actions = c.opened(2, 1.1)
    gaps = [a for a in actions if isinstance(a, GapNotice)]
    assert len(gaps) == 1
    assert gaps[0].gap.start_ms == 0


def test_messages_of_an_old_connection_are_ignored() -> None:
    """A late result from connection 1 after the switch to 2 changes nothing."""
    c = core()
    connected(c)
    c.dropped(1, "reset", 1.0)
    c.opened(2, 1.1)
    assert c.received(1, result(999), 1.2) == []
    assert c.ledger.watermark_ms == 0


def test_malformed_messages_fail_the_session_with_a_protocol_error() -> None:
    """Not JSON: RealtimeProtocolError, the connection closed."""
    c = core()
    connected(c)
    actions = c.received(1, "<html>", 1.0)
    assert isinstance(actions[0], Disconnect)
    ended = actions[-1]
    assert isinstance(ended, Ended)
    assert isinstance(ended.error, RealtimeProtocolError)


def test_the_finished_result_ends_the_session() -> None:
    """finished: delivered, then Ended without error; later drops change nothing."""
    c = core()
    connected(c)
    c.finish()
    actions = c.received(1, result(200, finished=True), 1.0)
    assert isinstance(actions[0], Deliver)
    assert actions[-1] == Ended()
    assert c.dropped(1, "closed", 1.1) == []
    assert c.state is State.FINISHED


def test_a_drop_while_finishing_resends_the_end_of_audio() -> None:
    """Finished by the user, dropped before the last results: replay, then "" again."""
    c = core()
    connected(c)
    c.audio(b"\x00" * 320)
    c.finish()
    c.dropped(1, "reset", 3.0)
    actions = c.opened(2, 3.2)
    assert actions[-1] == SendText("")
    assert c.state is State.FINISHING


def test_a_curable_503_delivered_when_out_of_attempts() -> None:
    """Reconnection off: the 503 is an event, then the session fails with the typed 503."""
    c = core(ReconnectPolicy(max_attempts=0))
    connected(c)
    actions = c.received(1, '{"error_code": 503, "error_message": "Cannot continue"}', 1.0)
    ended = actions[-1]
    assert isinstance(ended, Ended)
    assert isinstance(ended.error, RealtimeServiceUnavailableError)


# --- every state x every input --------------------------------------------------------------------

TYPED = (SessionClosedError, ClientValidationError, BufferOverflowError)


class SessionMachine(RuleBasedStateMachine):
    """Random sequences of user calls and wire events, with the invariants checked after each."""

    def __init__(self) -> None:
        super().__init__()
        self.core = core(ReconnectPolicy(max_attempts=3, min_healthy_s=0.5))
        self.now = 0.0

    def _do(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Connect):
                assert action.connection == self.core.connection
            if isinstance(action, Ended):
                assert self.core.state in (State.FINISHED, State.FAILED)

    def _call(self, fn: Callable[..., list[Action]], *args: object, **kwargs: object) -> None:
        try:
            actions = fn(*args, **kwargs)
        except TYPED:
            return
        self._do(actions)

    @rule(size=st.integers(0, 640))
    def audio(self, size: int) -> None:
        self._call(self.core.audio, b"\x01" * size)

    @rule()
    def bad_audio(self) -> None:
        with pytest.raises(TYPED):
            self.core.audio(1234)

    @rule(kind=st.sampled_from(list(RealtimeControlType)))
    def control(self, kind: RealtimeControlType) -> None:
        self._call(self.core.control, kind)

    @rule(finalize=st.booleans())
    def pause(self, finalize: bool) -> None:
        self._call(self.core.pause, finalize=finalize)

    @rule()
    def resume(self) -> None:
        self._call(self.core.resume)

    @rule()
    def start(self) -> None:
        self._do(self.core.start())

    @rule()
    def close(self) -> None:
        self._do(self.core.close())

    @rule(late=st.booleans())
    def opened(self, late: bool) -> None:
        self.now += 0.1
        self._do(self.core.opened(self.core.connection - (1 if late else 0), self.now))

    @rule(final_ms=st.integers(0, 100), finished=st.booleans())
    def result(self, final_ms: int, finished: bool) -> None:
        self.now += 0.1
        self._do(
            self.core.received(self.core.connection, result(final_ms, finished=finished), self.now)
        )

    @rule(code=st.sampled_from([400, 401, 403, 408, 429, 500, 503]))
    def error_frame(self, code: int) -> None:
        self.now += 0.1
        frame = json.dumps({"error_code": code, "error_message": "x"})
        self._do(self.core.received(self.core.connection, frame, self.now))

    @rule()
    def garbage(self) -> None:
        self._do(self.core.received(self.core.connection, b"\xff\x00", self.now))

    @rule(dt=st.floats(0, 3))
    def dropped(self, dt: float) -> None:
        self.now += dt
        self._do(self.core.dropped(self.core.connection, "reset", self.now))

    @rule(status=st.sampled_from([None, 401, 429, 503]))
    def connect_failed(self, status: int | None) -> None:
        self.now += 0.1
        actions: list[Action] = self.core.connect_failed(
            self.core.connection, OSError("x"), self.now, status=status
        )
        self._do(actions)

    @invariant()
    def state_is_known(self) -> None:
        assert self.core.state in set(State)

    @invariant()
    def a_failure_keeps_its_error(self) -> None:
        if self.core.state is State.FAILED:
            assert self.core.error is not None
        if self.core.error is not None:
            assert self.core.state in (State.FAILED, State.CLOSED)

    @invariant()
    def audio_is_accounted_for(self) -> None:
        c = self.core
        ledger = c.ledger
        assert ledger.skipped_bytes == c.dropped_bytes
        assert c.audio_bytes == (
            ledger.sent_bytes
            - ledger.skipped_bytes
            + c.pending_bytes
            + c.paused_bytes
            + c.discarded_bytes
            + c.dropped_bytes
        )


SessionMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestSessionMachine = SessionMachine.TestCase


class BufferedSessionMachine(SessionMachine):
    """The same, with a small bounded buffer and each overflow policy: every chunk is sent,
    waiting, dropped (and counted) or refused — and the waiting audio stays within the bound
    under ``drop_oldest``."""

    @initialize(overflow=st.sampled_from(OVERFLOW_POLICIES), bound=st.integers(64, 2000))
    def with_buffer(self, overflow: Overflow, bound: int) -> None:
        ledger = AudioLedger(PCM16, max_retained_bytes=10**7)
        self.core = SessionCore(
            CONFIG,
            ledger,
            policy=ReconnectPolicy(max_attempts=3, min_healthy_s=0.5),
            rng=random.Random(7),
            buffer_bytes=bound,
            overflow=overflow,
        )
        self.bound = bound

    @invariant()
    def dropping_keeps_within_the_bound(self) -> None:
        c = self.core
        if c.overflow == "drop_oldest":
            assert c.pending_bytes <= self.bound + 640


BufferedSessionMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
TestBufferedSessionMachine = BufferedSessionMachine.TestCase


# --- the buffer ------------------------------------------------------------------------------


def waiting_core(overflow: Overflow, bound: int) -> SessionCore:
    ledger = AudioLedger(PCM16, max_retained_bytes=10**7)
    c = SessionCore(CONFIG, ledger, buffer_bytes=bound, overflow=overflow)
    c.start()
    return c


def test_raise_refuses_the_chunk_past_the_bound_and_keeps_what_waits() -> None:
    """overflow='raise': BufferOverflowError for the chunk that does not fit; nothing lost."""
    c = waiting_core("raise", 1000)
    c.audio(b"\x01" * 800)
    with pytest.raises(BufferOverflowError):
        c.audio(b"\x02" * 400)
    assert c.pending_bytes == 800
    assert c.audio_bytes == 800
    assert sent_audio(c.opened(1, 0.0)) == b"\x01" * 800


def test_block_asks_the_sender_to_wait_only_while_the_connection_is_not_ready() -> None:
    """overflow='block': must_wait past the bound while connecting, never once connected."""
    c = waiting_core("block", 1000)
    c.audio(b"\x01" * 800)
    assert c.must_wait(400)
    assert not c.must_wait(200)
    c.opened(1, 0.0)
    assert not c.must_wait(10_000)


def test_an_empty_buffer_takes_any_chunk_so_a_sender_never_waits_forever() -> None:
    """A chunk larger than the bound is taken when nothing waits."""
    c = waiting_core("block", 100)
    assert not c.must_wait(5000)
    c.audio(b"\x01" * 5000)
    assert c.pending_bytes == 5000


def test_drop_oldest_drops_whole_milliseconds_and_resumes_the_clock_after_the_hole() -> None:
    """overflow='drop_oldest': the oldest waiting audio goes (counted, reported), the first
    connection starts after it, and the gap says exactly which milliseconds were lost."""
    c = waiting_core("drop_oldest", 32 * 100)  # 100 ms of 16 kHz PCM
    c.audio(b"\x01" * 32 * 60)
    actions = c.audio(b"\x02" * 32 * 60)
    dropped = [a for a in actions if isinstance(a, AudioDropped)]
    assert dropped == [AudioDropped(32 * 20, 32 * 20)]
    opened = c.opened(1, 0.0)
    gaps = [a.gap for a in opened if isinstance(a, GapNotice)]
    assert [(g.start_ms, g.end_ms) for g in gaps] == [(0, 20)]
    assert c.offset_ms == 20
    assert sent_audio(opened) == b"\x01" * 32 * 40 + b"\x02" * 32 * 60
    assert not [a for a in opened if isinstance(a, Resumed)]


def test_drop_oldest_while_reconnecting_forgets_the_replay_before_the_hole() -> None:
    """Dropped audio after a drop: the replay cannot be sent next to what follows the hole, so
    the gap runs from the watermark to the first kept millisecond."""
    c = waiting_core("drop_oldest", 32 * 50)
    c.opened(1, 0.0)
    c.audio(b"\x01" * 32 * 100)
    c.received(1, result(40), 0.1)
    c.dropped(1, "reset", 5.0)
    c.audio(b"\x02" * 32 * 40)
    c.audio(b"\x03" * 32 * 40)  # 30 ms of \x02 must go
    opened = c.opened(2, 6.0)
    gap = next(a.gap for a in opened if isinstance(a, GapNotice))
    assert (gap.start_ms, gap.end_ms) == (40, 130)
    assert c.offset_ms == 130
    assert sent_audio(opened) == b"\x02" * 32 * 10 + b"\x03" * 32 * 40


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.integers(1, 400).map(lambda n: n * 2), min_size=1, max_size=30),
    bound=st.integers(64, 4000),
)
def test_drop_oldest_accounts_for_every_byte_and_keeps_the_clock(
    chunks: list[int], bound: int
) -> None:
    """Whatever the chunks: sent + dropped = given, and the first sent byte sits at the
    stream position the new connection's clock starts from."""
    c = waiting_core("drop_oldest", bound)
    for index, size in enumerate(chunks):
        c.audio(bytes([index % 250 + 1]) * size)
    opened = c.opened(1, 0.0)
    assert len(sent_audio(opened)) + c.dropped_bytes == sum(chunks)
    assert c.dropped_bytes == 0 or c.offset_ms * 32 == c.dropped_bytes


def test_the_server_owes_an_answer_for_audio_it_has_not_acknowledged() -> None:
    """awaiting_answer(): audio beyond the server's total_audio_proc_ms, or the end of the
    stream; not a quiet stream whose audio was all answered."""
    c = core()
    connected(c)
    assert not c.awaiting_answer()
    c.audio(b"\x00" * 3200)  # 100 ms
    assert c.awaiting_answer()
    c.received(1, result(60), 0.1)  # total 60 ms: 40 ms still owed
    assert c.awaiting_answer()
    c.received(1, result(100), 0.2)
    assert not c.awaiting_answer()
    c.pause()
    assert not c.awaiting_answer()
    c.resume()
    c.finish()
    assert c.awaiting_answer()


def test_a_refused_handshake_with_retry_after_waits_at_least_that_long() -> None:
    """429 with Retry-After: 3 s: the next attempt comes no sooner than 3 s."""
    c = core(ReconnectPolicy(base_delay_s=0.01, max_delay_s=0.02))
    c.start()
    actions = c.connect_failed(1, OSError("429"), 0.0, status=429, retry_after_s=3.0)
    connects = [a for a in actions if isinstance(a, Connect)]
    assert len(connects) == 1
    assert connects[0].delay_s >= 3.0


def test_a_retry_after_beyond_the_policys_total_time_fails_the_session() -> None:
    """Retry-After past max_total_s: no attempt that late; a RealtimeConnectionError now."""
    c = core(ReconnectPolicy(max_total_s=10.0))
    c.start()
    actions = c.connect_failed(1, OSError("429"), 0.0, status=429, retry_after_s=60.0)
    assert isinstance(c.error, RealtimeConnectionError)
    assert any(isinstance(a, Ended) for a in actions)
