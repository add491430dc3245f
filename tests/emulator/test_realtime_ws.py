"""The realtime WebSocket endpoint over real sockets, with a plain ``websockets`` client."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realtime_support import (
    BYTES_PER_MS,
    RAW_CONFIG,
    Outcome,
    chunks,
    collect,
    open_ws,
    run_session,
    synth,
    wav,
)

from soniox.emulator import Emulator
from soniox.emulator.engines import create_engine
from soniox.emulator.engines.base import RecognitionOptions

SPEECH = [(700, 1), (300, 16), (900, 3), (1000, 16), (500, 0)]
FRAME = 120 * BYTES_PER_MS  # 3,840 bytes, as the official examples send


def ws_entry(emu: Emulator) -> Any:
    """The journal entry of the last WebSocket session, once the server finished it."""
    entries = emu.journal.wait_for(
        lambda es: any(e.protocol == "ws" and e.outcome != "pending" for e in es)
    )
    return [e for e in entries if e.protocol == "ws"][-1]


@pytest.fixture
def short_idle() -> Iterator[Emulator]:
    """An emulator whose realtime idle timeout is half a second."""
    with Emulator(ws_idle_timeout_s=0.5) as emu:
        yield emu


def assert_error(outcome: Outcome, code: int, error_type: str) -> dict[str, Any]:
    assert outcome.errors, f"expected an error frame, got {outcome.messages}"
    error = outcome.errors[-1]
    assert error["error_code"] == code
    assert error["error_type"] == error_type
    assert error["error_message"]
    assert error["request_id"]
    assert error["more_info"].startswith("https://soniox.com/docs/")
    assert outcome.messages[-1] is error, "the error frame is the last message"
    assert outcome.close_code == 1000
    return error


# Auth -----------------------------------------------------------------------------------------


def test_bearer_header_auth(emulator: Emulator) -> None:
    """A bearer key on the upgrade opens a session."""
    outcome = run_session(emulator, RAW_CONFIG, [synth([(300, 1)]), ""])
    assert outcome.finished
    assert outcome.close_code == 1000
    assert ws_entry(emulator).auth == "bearer"


def test_subprotocol_auth_selects_soniox_api_key(emulator: Emulator) -> None:
    """Browsers: subprotocols ["soniox-api-key", key]; the server selects the first."""
    outcome = run_session(emulator, RAW_CONFIG, [synth([(300, 1)]), ""], auth="subprotocol")
    assert outcome.finished
    assert outcome.subprotocol == "soniox-api-key"
    assert ws_entry(emulator).auth == "subprotocol"


def test_legacy_api_key_in_config(emulator: Emulator) -> None:
    """The deprecated api_key config field still authenticates."""
    config = {**RAW_CONFIG, "api_key": emulator.api_key}
    outcome = run_session(emulator, config, [synth([(300, 1)]), ""], auth="none")
    assert outcome.finished
    assert ws_entry(emulator).auth == "legacy"


def test_key_on_connection_and_in_config_is_rejected(emulator: Emulator) -> None:
    """Sending the key in both places is a 400."""
    config = {**RAW_CONFIG, "api_key": emulator.api_key}
    outcome = run_session(emulator, config, [synth([(300, 1)])])
    assert_error(outcome, 400, "invalid_request")


def test_bad_key_gets_401_right_after_open(emulator: Emulator) -> None:
    """A wrong key: the upgrade succeeds, then one 401 frame and a close (no config needed)."""
    with open_ws(emulator, key="not-the-key") as ws:
        outcome = collect(ws)
    error = assert_error(outcome, 401, "unauthenticated")
    assert "not-the-key" not in json.dumps(error)


def test_missing_key_gets_401(emulator: Emulator) -> None:
    """No key anywhere: 401 once the config arrives."""
    outcome = run_session(emulator, RAW_CONFIG, auth="none")
    assert_error(outcome, 401, "unauthenticated")
    assert ws_entry(emulator).auth is None


def test_temporary_key(emulator: Emulator) -> None:
    """A temporary transcribe_websocket key opens a session and is journaled as temporary."""
    temp = emulator.app.auth.issue_temporary(
        usage_type="transcribe_websocket", expires_in_seconds=60
    )
    outcome = run_session(emulator, RAW_CONFIG, [synth([(300, 1)]), ""], key=temp.key)
    assert outcome.finished
    assert ws_entry(emulator).auth == "temporary"


def test_expired_temporary_key_is_401(emulator: Emulator) -> None:
    """An expired temporary key is unauthenticated."""
    temp = emulator.app.auth.issue_temporary(
        usage_type="transcribe_websocket", expires_in_seconds=0
    )
    outcome = run_session(emulator, RAW_CONFIG, key=temp.key)
    assert_error(outcome, 401, "unauthenticated")


def test_temporary_key_session_limit(emulator: Emulator) -> None:
    """max_session_duration_seconds ends the stream with 403 temp_api_key_session_expired."""
    temp = emulator.app.auth.issue_temporary(
        usage_type="transcribe_websocket", expires_in_seconds=60, max_session_duration_seconds=1
    )
    started = time.monotonic()
    outcome = run_session(emulator, RAW_CONFIG, [synth([(200, 1)])], key=temp.key, timeout=5)
    assert_error(outcome, 403, "temp_api_key_session_expired")
    assert 0.9 <= time.monotonic() - started < 4


# Config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error_type"),
    [
        ({"audio_format": "auto"}, "invalid_request"),
        ({"model": "stt-async-v5"}, "model_not_available"),
        ({"model": "no-such-model"}, "model_not_available"),
        ({"model": "stt-rt-v5", "audio_format": "pcm_s16le"}, "invalid_request"),
        ({"model": "stt-rt-v5", "audio_format": "opus"}, "invalid_request"),
        ({"model": "stt-rt-v5", "max_endpoint_delay_ms": 100}, "invalid_request"),
        ({"model": "stt-rt-v5", "enable_endpoint_detection": "yes"}, "invalid_request"),
        ({"model": "stt-rt-v5", "translation": {"type": "one_way"}}, "invalid_request"),
        ("not json", "invalid_request"),
        (b"\x00binary", "invalid_request"),
    ],
)
def test_config_errors(emulator: Emulator, config: Any, error_type: str) -> None:
    """Invalid configs get one 400 error frame, then a close."""
    outcome = run_session(emulator, config)
    assert_error(outcome, 400, error_type)
    assert not emulator.app.usage.records(), "a refused config is not billed"


def test_alias_model_is_accepted(emulator: Emulator) -> None:
    """A real-time alias (stt-rt-v4) is a valid model."""
    outcome = run_session(emulator, {**RAW_CONFIG, "model": "stt-rt-v4"}, [""])
    assert outcome.finished


# Streaming ------------------------------------------------------------------------------------


def test_raw_pcm_finals_once_and_match_batch(emulator: Emulator, tmp_path: Path) -> None:
    """Raw s16le: finals never repeat, non-finals are revised, finals equal the batch result."""
    audio = synth(SPEECH, seed=5)
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(audio, FRAME), ""])
    assert outcome.finished
    spans = [(t["start_ms"], t["end_ms"], t["text"]) for t in outcome.finals]
    assert len(spans) == len(set(spans)), "a final token was sent twice"
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    non_finals = [
        tuple(t["text"] for t in m["tokens"] if not t["is_final"]) for m in outcome.results
    ]
    assert len(set(non_finals)) > 2, "non-final tokens should change between responses"
    path = tmp_path / "same.wav"
    path.write_bytes(wav(audio))
    batch = create_engine("deterministic").transcribe_file(path, RecognitionOptions())
    # The same words; a file transcript's first token carries no leading space (as the API's).
    assert outcome.final_text.lstrip() == batch.text
    assert outcome.final_text.strip()


def test_wav_with_auto_format(emulator: Emulator) -> None:
    """audio_format auto detects a WAV stream whose header is split across frames."""
    audio = synth(SPEECH, seed=2)
    frames = chunks(wav(audio), 1000)
    outcome = run_session(emulator, {"model": "stt-rt-v5"}, [*frames, b""])
    raw = run_session(emulator, RAW_CONFIG, [*chunks(audio, FRAME), ""])
    assert outcome.finished
    assert outcome.final_text == raw.final_text
    assert outcome.messages[-1]["total_audio_proc_ms"] == sum(d for d, _ in SPEECH)


def test_undetectable_audio_is_an_error(emulator: Emulator) -> None:
    """Raw PCM sent as auto: a 400 that says to set the format."""
    outcome = run_session(emulator, {"model": "stt-rt-v5"}, [bytes(4000)])
    error = assert_error(outcome, 400, "invalid_request")
    assert "audio_format" in error["error_message"]


def test_watermarks_monotonic_and_exact(emulator: Emulator) -> None:
    """Watermarks never decrease, final <= total, and total tracks the audio sent."""
    audio = synth(SPEECH, seed=1)
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(audio, FRAME), ""])
    marks = [(m["final_audio_proc_ms"], m["total_audio_proc_ms"]) for m in outcome.results]
    for (f1, t1), (f2, t2) in itertools.pairwise(marks):
        assert f2 >= f1
        assert t2 >= t1
    assert all(f <= t for f, t in marks)
    assert marks[0][1] == 120
    last = outcome.messages[-1]
    assert last == {
        "tokens": [],
        "final_audio_proc_ms": len(audio) // BYTES_PER_MS,
        "total_audio_proc_ms": len(audio) // BYTES_PER_MS,
        "finished": True,
    }


def test_finals_come_before_non_finals(emulator: Emulator) -> None:
    """In every response the new finals precede the non-finals."""
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(synth(SPEECH), FRAME), ""])
    for message in outcome.results:
        flags = [t["is_final"] for t in message["tokens"]]
        assert flags == sorted(flags, reverse=True)


def test_finalize_emits_fin(emulator: Emulator) -> None:
    """{"type": "finalize"}: everything so far final, then <fin>."""
    audio = synth([(600, 1)])
    with open_ws(emulator) as ws:
        ws.send(json.dumps(RAW_CONFIG))
        ws.send(audio)
        ws.send(json.dumps({"type": "finalize", "trailing_silence_ms": 300}))
        ws.send("")
        outcome = collect(ws)
    fin_messages = [m for m in outcome.results if any(t["text"] == "<fin>" for t in m["tokens"])]
    assert len(fin_messages) == 1
    message = fin_messages[0]
    assert message["tokens"][-1] == {"text": "<fin>", "is_final": True}
    assert all(t["is_final"] for t in message["tokens"])
    assert message["final_audio_proc_ms"] == message["total_audio_proc_ms"] == 600


def test_endpoint_detection_emits_end(emulator: Emulator) -> None:
    """enable_endpoint_detection: a pause after speech yields <end> after that speech's finals."""
    config = {**RAW_CONFIG, "enable_endpoint_detection": True}
    audio = synth([(600, 1), (1000, 16), (300, 2)])
    outcome = run_session(emulator, config, [*chunks(audio, FRAME), ""])
    texts = [t["text"] for t in outcome.finals]
    assert texts.count("<end>") == 1
    end_index = texts.index("<end>")
    assert end_index > 0
    assert all(t["end_ms"] <= 720 for t in outcome.finals[:end_index])  # 240 ms windows


def test_keepalive_keeps_an_idle_session_open(short_idle: Emulator) -> None:
    """Keepalives every 0.2 s hold a session open past a 0.5 s idle timeout."""
    with open_ws(short_idle) as ws:
        ws.send(json.dumps(RAW_CONFIG))
        for _ in range(6):
            time.sleep(0.2)
            ws.send(json.dumps({"type": "keepalive"}))
        ws.send(synth([(240, 1)]))
        ws.send("")
        outcome = collect(ws)
    assert outcome.finished
    assert not outcome.errors


def test_idle_session_gets_408(short_idle: Emulator) -> None:
    """Nothing for longer than the idle timeout: 408 request_timeout, then close."""
    started = time.monotonic()
    outcome = run_session(short_idle, RAW_CONFIG, [synth([(240, 1)])])
    assert_error(outcome, 408, "request_timeout")
    assert 0.45 <= time.monotonic() - started < 3


def test_idle_before_config_gets_408(short_idle: Emulator) -> None:
    """A connection that never sends its config also times out."""
    outcome = run_session(short_idle, None)
    assert_error(outcome, 408, "request_timeout")


@pytest.mark.parametrize("end_frame", ["", b""])
def test_end_of_audio_finishes_and_closes_1000(emulator: Emulator, end_frame: str | bytes) -> None:
    """An empty text or binary frame ends the stream: finished, then close 1000."""
    outcome = run_session(emulator, RAW_CONFIG, [synth([(500, 1)]), end_frame])
    assert outcome.messages[-1]["finished"] is True
    assert outcome.close_code == 1000
    entry = ws_entry(emulator)
    assert entry.outcome == "completed"
    assert entry.close_code == 1000


def test_unknown_control_message_is_400(emulator: Emulator) -> None:
    """A text frame that is not a known control message is refused."""
    outcome = run_session(emulator, RAW_CONFIG, [json.dumps({"type": "pause"})])
    assert_error(outcome, 400, "invalid_request")


def test_usage_and_journal_counters(emulator: Emulator) -> None:
    """A finished stream is billed as real_time and its frames are counted."""
    audio = synth([(1000, 1)])
    frames = chunks(audio, FRAME)
    outcome = run_session(emulator, {**RAW_CONFIG, "client_reference_id": "abc"}, [*frames, ""])
    entry = ws_entry(emulator)
    assert entry.ws_frames_in == len(frames) + 2
    assert entry.ws_audio_bytes == len(audio)
    assert entry.ws_messages_out == len(outcome.messages)
    (record,) = emulator.app.usage.records()
    assert record.mode == "real_time"
    assert record.model == "stt-rt-v5"
    assert record.input_audio_duration_ms == 1000
    assert record.client_reference_id == "abc"
    assert emulator.app.usage.active_streams == 0


# Faults ---------------------------------------------------------------------------------------


def test_ws_drop_after_frames(emulator: Emulator) -> None:
    """ws_drop after 3 client frames: the TCP connection drops without a close frame."""
    emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=3)
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(synth([(2000, 1)]), FRAME), ""])
    assert outcome.close_code is None
    # The response to the 3rd frame is lost with the connection; the one to the 2nd may be too
    # (an abortive close discards what is still buffered on either side, as a real drop can).
    assert len(outcome.results) <= 1
    assert not any(m.get("finished") for m in outcome.messages)
    entry = ws_entry(emulator)
    assert entry.outcome == "dropped"
    assert entry.faults == ["ws_drop#0"]
    assert entry.ws_frames_in == 3
    assert entry.ws_messages_out == 1  # the server answered the 2nd frame, then dropped


def test_ws_drop_at_audio_ms(emulator: Emulator) -> None:
    """ws_drop at 600 ms of audio: responses stop before the watermark passes 600 ms."""
    emulator.faults.inject("ws_drop", "/transcribe-websocket", at_audio_ms=600)
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(synth([(2000, 1)]), FRAME), ""])
    assert outcome.close_code is None
    assert max(m["total_audio_proc_ms"] for m in outcome.results) < 600


def test_ws_drop_right_after_config(emulator: Emulator) -> None:
    """ws_drop without a trigger drops the connection once the config was accepted."""
    emulator.faults.inject("ws_drop", "/transcribe-websocket")
    outcome = run_session(emulator, RAW_CONFIG, [synth([(500, 1)])])
    assert outcome.messages == []
    assert outcome.close_code is None
    second = run_session(emulator, RAW_CONFIG, [synth([(500, 1)]), ""])
    assert second.finished, "the rule fires once"


def test_ws_error_with_defaults_by_code(emulator: Emulator) -> None:
    """ws_error 503: a service_unavailable frame at the trigger point, then close."""
    emulator.faults.inject("ws_error", "/transcribe-websocket", error_code=503, after_frames=2)
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(synth([(1000, 1)]), FRAME), ""])
    error = assert_error(outcome, 503, "service_unavailable")
    assert error["error_message"].startswith("Cannot continue request")
    assert outcome.results == []
    assert ws_entry(emulator).faults == ["ws_error#0"]


def test_ws_error_custom_type_and_message(emulator: Emulator) -> None:
    """ws_error carries a scripted error_type and message."""
    emulator.faults.inject(
        "ws_error",
        "/transcribe-websocket",
        error_code=429,
        error_type="max_concurrent_connections_reached",
        message="Too many connections.",
    )
    outcome = run_session(emulator, RAW_CONFIG, [synth([(500, 1)])])
    error = assert_error(outcome, 429, "max_concurrent_connections_reached")
    assert error["error_message"] == "Too many connections."


def test_ws_stall_delays_then_resumes(emulator: Emulator) -> None:
    """ws_stall 0.5 s: no response during the stall, then the session completes normally."""
    emulator.faults.inject("ws_stall", "/transcribe-websocket", delay_s=0.5, after_frames=2)
    with open_ws(emulator) as ws:
        ws.send(json.dumps(RAW_CONFIG))
        started = time.monotonic()
        ws.send(synth([(240, 1)]))
        first = json.loads(ws.recv(timeout=5))
        waited = time.monotonic() - started
        ws.send("")
        outcome = collect(ws)
    assert waited >= 0.45
    assert first["total_audio_proc_ms"] == 240
    assert outcome.finished


def test_stall_longer_than_idle_timeout_is_not_idleness(short_idle: Emulator) -> None:
    """A server-side stall does not count against the client's idle time."""
    short_idle.faults.inject("ws_stall", "/transcribe-websocket", delay_s=0.8, after_frames=2)
    outcome = run_session(short_idle, RAW_CONFIG, [synth([(240, 1)]), synth([(240, 2)]), ""])
    assert outcome.finished
    assert not outcome.errors


def test_ws_stall_until_client_leaves(emulator: Emulator) -> None:
    """ws_stall with delay_s 0: the server goes silent until the client disconnects."""
    emulator.faults.inject("ws_stall", "/transcribe-websocket", delay_s=0)
    with open_ws(emulator) as ws:
        ws.send(json.dumps(RAW_CONFIG))
        ws.send(synth([(500, 1)]))
        ws.send("")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.4)
    entry = ws_entry(emulator)
    assert entry.outcome == "stalled"
    assert entry.faults == ["ws_stall#0"]


def test_client_disconnect_mid_stream(emulator: Emulator) -> None:
    """A client that goes away mid-stream is journaled as closed and still billed."""
    with open_ws(emulator) as ws:
        ws.send(json.dumps(RAW_CONFIG))
        ws.send(synth([(500, 1)]))
        ws.recv(timeout=5)
        assert emulator.app.usage.active_streams == 1
    entry = ws_entry(emulator)
    assert entry.outcome == "closed"
    assert emulator.app.usage.records()[0].input_audio_duration_ms == 500
    assert emulator.app.usage.active_streams == 0


# Resume ---------------------------------------------------------------------------------------


def test_resume_from_final_watermark_over_the_wire(emulator: Emulator) -> None:
    """Stream B = first part, then a new session from its final watermark W: finals match A's."""
    config = {**RAW_CONFIG, "enable_endpoint_detection": True}
    audio = synth([(700, 1), (900, 16), (600, 2), (400, 16), (700, 0)], seed=9)
    frames = chunks(audio, FRAME)
    whole = run_session(emulator, config, [*frames, ""])

    with open_ws(emulator) as ws:
        ws.send(json.dumps(config))
        for frame in frames[: len(frames) // 2]:
            ws.send(frame)
        first_part: list[dict[str, Any]] = []
        while not first_part or first_part[-1]["total_audio_proc_ms"] < (len(frames) // 2) * 120:
            first_part.append(json.loads(ws.recv(timeout=5)))
    watermark = first_part[-1]["final_audio_proc_ms"]
    assert 0 < watermark < len(audio) // BYTES_PER_MS
    before = [t for m in first_part for t in m["tokens"] if t["is_final"]]

    resumed = run_session(emulator, config, [*chunks(audio[watermark * BYTES_PER_MS :], FRAME), ""])
    shifted = [
        {**t, "start_ms": t["start_ms"] + watermark, "end_ms": t["end_ms"] + watermark}
        if "start_ms" in t
        else t
        for t in resumed.finals
    ]
    assert before + shifted == whole.finals


def test_session_does_not_need_real_time_pacing(emulator: Emulator) -> None:
    """A minute of audio sent as fast as possible completes quickly."""
    audio = synth([(1000, 1)]) * 60
    started = time.monotonic()
    outcome = run_session(emulator, RAW_CONFIG, [*chunks(audio, 16 * FRAME), ""], timeout=20)
    assert outcome.finished
    assert outcome.messages[-1]["total_audio_proc_ms"] == 60_000
    assert time.monotonic() - started < 10


def test_connection_closed_by_client_is_harmless(emulator: Emulator) -> None:
    """Closing right after the config leaves the server healthy for the next session."""
    with open_ws(emulator) as ws:
        ws.send(json.dumps(RAW_CONFIG))
    assert run_session(emulator, RAW_CONFIG, [""]).finished
