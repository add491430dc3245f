"""The sans-IO realtime protocol state machine, driven directly with a fake clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_support import BYTES_PER_MS, RAW_CONFIG, synth

from soniox.emulator.auth import Authenticator
from soniox.emulator.engines import create_engine
from soniox.emulator.faults import Fault, FiredFault
from soniox.emulator.realtime import connection_credentials
from soniox.emulator.realtime_config import ConfigError, parse_config
from soniox.emulator.realtime_session import (
    Abort,
    Action,
    Close,
    RealtimeSession,
    Send,
    SessionLimits,
    Stall,
)

KEY = "test-key"


def make_session(
    *, key: str | None = KEY, faults: Sequence[Fault] = (), limits: SessionLimits | None = None
) -> RealtimeSession:
    session = RealtimeSession(
        request_id="req-1",
        engine=create_engine(),
        auth=Authenticator((KEY,)),
        limits=limits or SessionLimits(idle_timeout_s=10, max_session_s=100),
        connection_key=key,
        connection_auth="bearer" if key is not None else None,
        faults=[FiredFault(i, f) for i, f in enumerate(faults)],
    )
    assert session.start(0.0) == []
    return session


def sent(actions: Sequence[Action]) -> list[dict[str, Any]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def started(**config: Any) -> RealtimeSession:
    session = make_session()
    assert session.receive(json.dumps({**RAW_CONFIG, **config}), 0.1) == []
    return session


# Config and auth ------------------------------------------------------------------------------


def test_config_accepted_without_response() -> None:
    """A valid config starts the stream and needs no answer."""
    session = started()
    assert session.started
    assert session.auth_method == "bearer"
    assert session.state == "streaming"


def test_unknown_config_fields_are_ignored_and_reported() -> None:
    """Unknown fields do not fail the session; they are listed for the journal."""
    session = started(future_option=True, another=1)
    assert session.ignored_fields == ("another", "future_option")


def test_control_message_as_first_frame_is_refused() -> None:
    """A finalize before the config is a config error that says so."""
    session = make_session()
    actions = session.receive(json.dumps({"type": "finalize"}), 0.1)
    (error,) = sent(actions)
    assert error["error_code"] == 400
    assert "configuration" in error["error_message"]
    assert actions[-1] == Close(1000)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sample_rate", 0),
        ("sample_rate", True),
        ("num_channels", 100),
        ("language_hints", "en"),
        ("language_hints", [1]),
        ("endpoint_sensitivity", 2.0),
        ("endpoint_latency_adjustment_level", 4),
        ("client_reference_id", "x" * 257),
        ("context", 5),
        ("translation", {"type": "two_way", "language_a": "en"}),
        ("translation", {"type": "one_way", "target_language": "de", "language_a": "en"}),
        ("api_key", 5),
    ],
)
def test_config_field_validation(field: str, value: Any) -> None:
    """Each field's type and range is checked."""
    with pytest.raises(ConfigError):
        parse_config(json.dumps({**RAW_CONFIG, field: value}))


def test_config_maps_to_recognition_options() -> None:
    """Config fields become the engine's options (alias resolved, delay kept)."""
    config = parse_config(
        json.dumps(
            {
                "model": "stt-rt-v4",
                "language_hints": ["de"],
                "enable_endpoint_detection": True,
                "max_endpoint_delay_ms": 800,
                "translation": {"type": "one_way", "target_language": "en"},
            }
        )
    )
    assert config.model == "stt-rt-v4"
    assert config.resolved_model == "stt-rt-v5"
    assert config.options.language_hints == ("de",)
    assert config.options.max_endpoint_delay_ms == 800
    assert config.options.translation == {"type": "one_way", "target_language": "en"}
    assert config.stream_format.audio_format == "auto"


def test_config_repr_hides_api_key() -> None:
    """The legacy key never shows in a repr."""
    config = parse_config(json.dumps({**RAW_CONFIG, "api_key": "sekret-value"}))
    assert "sekret-value" not in repr(config)


def test_unknown_temporary_key_message_does_not_echo_key() -> None:
    """Auth errors never include the key."""
    session = RealtimeSession(
        request_id="r",
        engine=create_engine(),
        auth=Authenticator((KEY,)),
        limits=SessionLimits(),
        connection_key="temp:abcdef",
        connection_auth="bearer",
    )
    (error,) = sent(session.start(0.0))
    assert error["error_code"] == 401
    assert "abcdef" not in json.dumps(error)


@pytest.mark.parametrize(
    ("authorization", "subprotocols", "expected"),
    [
        ("Bearer k1", [], ("k1", "bearer", False)),
        (None, ["soniox-api-key", "k2"], ("k2", "subprotocol", True)),
        ("Bearer k1", ["soniox-api-key", "k2"], ("k1", "bearer", True)),
        ("Basic abc", [], ("", "bearer", False)),
        (None, ["soniox-api-key"], ("", "subprotocol", True)),
        (None, ["chat"], (None, None, False)),
    ],
)
def test_connection_credentials(
    authorization: str | None, subprotocols: list[str], expected: tuple[Any, ...]
) -> None:
    """Where the key on the connection comes from; malformed keys count as (bad) keys."""
    assert connection_credentials(authorization, subprotocols) == expected


# Streaming ------------------------------------------------------------------------------------


def test_keepalive_sends_nothing() -> None:
    """A keepalive changes nothing, so there is no response."""
    session = started()
    assert session.receive(json.dumps({"type": "keepalive"}), 1.0) == []


def test_identical_state_is_not_resent() -> None:
    """Audio that changes nothing visible (partial sample) gets no response."""
    session = started()
    assert session.receive(b"\x01", 1.0) == []


def test_second_config_is_refused() -> None:
    """A config message mid-stream is an unknown control message."""
    session = started()
    (error,) = sent(session.receive(json.dumps(RAW_CONFIG), 1.0))
    assert error["error_code"] == 400


def test_negative_trailing_silence_is_refused() -> None:
    """finalize's trailing_silence_ms must be a non-negative integer."""
    session = started()
    (error,) = sent(session.receive(json.dumps({"type": "finalize", "trailing_silence_ms": -1}), 1))
    assert "trailing_silence_ms" in error["error_message"]


def test_frames_after_close_are_ignored() -> None:
    """Once finished, nothing more is produced."""
    session = started()
    actions = session.receive("", 1.0)
    assert isinstance(actions[-1], Close)
    assert session.outcome == "completed"
    assert session.receive(b"abc", 2.0) == []
    assert session.timeout(999.0) == []


# Timeouts -------------------------------------------------------------------------------------


def test_idle_deadline_moves_with_activity() -> None:
    """The idle deadline is the last frame plus the idle timeout."""
    session = started()
    assert session.deadline() == pytest.approx(10.1)
    session.receive(json.dumps({"type": "keepalive"}), 5.0)
    assert session.deadline() == pytest.approx(15.0)
    assert session.timeout(14.0) == []
    (error,) = sent(session.timeout(15.0))
    assert (error["error_code"], error["error_type"]) == (408, "request_timeout")


def test_max_session_wall_time() -> None:
    """A session longer than max_session_s ends with 413 max_duration_reached."""
    session = make_session(limits=SessionLimits(idle_timeout_s=10, max_session_s=12))
    session.receive(json.dumps(RAW_CONFIG), 0.0)
    session.receive(json.dumps({"type": "keepalive"}), 8.0)
    assert session.deadline() == pytest.approx(12.0)
    (error,) = sent(session.timeout(12.0))
    assert (error["error_code"], error["error_type"]) == (413, "max_duration_reached")


def test_max_session_audio() -> None:
    """More audio than the session limit is also max_duration_reached."""
    session = make_session(limits=SessionLimits(idle_timeout_s=10, max_session_s=1))
    session.receive(json.dumps(RAW_CONFIG), 0.0)
    (error,) = sent(session.receive(synth([(1200, 1)]), 0.1))
    assert error["error_code"] == 413


# Faults ---------------------------------------------------------------------------------------


def test_fault_without_trigger_fires_after_config() -> None:
    """No after_frames / at_audio_ms: the fault applies right after the config."""
    session = make_session(faults=[Fault(kind="ws_drop")])
    assert session.receive(json.dumps(RAW_CONFIG), 0.1) == [Abort()]
    assert session.outcome == "dropped"
    assert session.applied_faults == ["ws_drop#0"]


def test_stall_precedes_the_frames_response() -> None:
    """ws_stall delays the response of the frame that triggered it."""
    session = make_session(faults=[Fault(kind="ws_stall", delay_s=2.5, at_audio_ms=200)])
    session.receive(json.dumps(RAW_CONFIG), 0.1)
    first = session.receive(synth([(120, 1)]), 0.2)
    assert not any(isinstance(a, Stall) for a in first)
    second = session.receive(synth([(120, 1)]), 0.3)
    assert second[0] == Stall(2.5)
    assert isinstance(second[1], Send)
    assert session.receive(synth([(120, 1)]), 0.4)[0] != Stall(2.5), "a fault fires once"


def test_error_fault_replaces_response() -> None:
    """ws_error at its trigger sends the scripted error instead of the result."""
    session = make_session(faults=[Fault(kind="ws_error", error_code=500, after_frames=2)])
    session.receive(json.dumps(RAW_CONFIG), 0.1)
    (error,) = sent(session.receive(synth([(240, 1)]), 0.2))
    assert (error["error_code"], error["error_type"]) == (500, "internal_error")
    assert session.outcome == "error"


# Properties -----------------------------------------------------------------------------------

event = st.one_of(
    st.tuples(st.just("audio"), st.integers(1, 700), st.sampled_from([1, 3, 16])),
    st.tuples(st.just("finalize"), st.just(0), st.just(0)),
    st.tuples(st.just("keepalive"), st.just(0), st.just(0)),
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(event, max_size=12),
    endpointing=st.booleans(),
    seed=st.integers(0, 5),
)
def test_protocol_invariants(
    events: list[tuple[str, int, int]], endpointing: bool, seed: int
) -> None:
    """Any event sequence: monotonic watermarks, finals once, one finished frame, close 1000."""
    session = started(enable_endpoint_detection=endpointing)
    messages: list[dict[str, Any]] = []
    total_ms = 0
    now = 1.0
    for index, (kind, ms, shift) in enumerate(events):
        now += 0.01
        if kind == "audio":
            total_ms += ms
            frame = synth([(ms, shift)], seed=seed + index)
            actions = session.receive(frame, now)
        else:
            actions = session.receive(json.dumps({"type": kind}), now)
        assert not any(isinstance(a, (Close, Abort)) for a in actions)
        assert sum(isinstance(a, Send) for a in actions) <= 1
        messages.extend(sent(actions))
    end = session.receive("", now)
    assert end[-1] == Close(1000)
    messages.extend(sent(end))
    assert [m.get("finished", False) for m in messages].count(True) == 1
    assert messages[-1] == {
        "tokens": [],
        "final_audio_proc_ms": total_ms,
        "total_audio_proc_ms": total_ms,
        "finished": True,
    }
    for before, after in itertools.pairwise(messages):
        assert after["final_audio_proc_ms"] >= before["final_audio_proc_ms"]
        assert after["total_audio_proc_ms"] >= before["total_audio_proc_ms"]
    finals = [t for m in messages for t in m["tokens"] if t["is_final"]]
    timed = [t for t in finals if "start_ms" in t]
    for a, b in itertools.pairwise(timed):
        assert a["end_ms"] <= b["start_ms"]
    fins = sum(t["text"] == "<fin>" for t in finals)
    assert fins == sum(kind == "finalize" for kind, _, _ in events)
    assert session.audio_bytes == total_ms * BYTES_PER_MS
