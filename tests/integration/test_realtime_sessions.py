"""Realtime sessions over the emulator (loopback WebSockets): the official usage pattern, exact
resume under drops and error frames, the official behaviour with reconnection off, typed errors,
and keepalives that hold a paused stream open."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realtime_session_support import Final, chunks_of, finals_while_sending

import soniox.data
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.emulator import Emulator
from soniox.errors import (
    RealtimeAuthenticationError,
    RealtimeConnectionError,
    SessionClosedError,
    SonioxRealtimeError,
)
from soniox.realtime import AsyncRealtimeSTTSession, RealtimeSTTSession, ReconnectPolicy
from soniox.types import RealtimeSTTConfig

AUDIO = (Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes()
CHUNK = 3840


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def client_for(emu: Emulator, api_key: str | None = None) -> SonioxClient:
    return SonioxClient(
        api_key=api_key or emu.api_key,
        api_base_url=emu.rest_base_url,
        websocket_base_url=emu.ws_url,
    )


def config() -> RealtimeSTTConfig:
    return RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")  # type: ignore[arg-type]


def stream(session: RealtimeSTTSession, audio: bytes = AUDIO) -> list[Final]:
    """The official README's pattern: audio from a thread, events on this one (a session that
    failed refuses more audio, as the official one does: the sender stops there)."""
    return finals_while_sending(session, chunks_of(audio, CHUNK))


@pytest.fixture(scope="module")
def fault_free(emulator: Emulator) -> list[Final]:
    with client_for(emulator).realtime.stt.connect(config=config()) as session:
        return stream(session)


def test_a_file_streamed_from_a_thread_gives_its_transcript(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """connect → send from a thread → receive_events: finals, then the stream ends cleanly."""
    with client_for(emulator).realtime.stt.connect(config=config()) as session:
        finals = stream(session)
        assert session.last_message is not None
        assert session.last_message.finished
    assert finals == fault_free
    assert finals
    assert session.reconnects == 0


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fault=st.sampled_from(["ws_drop", "ws_error"]),
    after=st.integers(2, 60),
    code=st.sampled_from([500, 503]),
)
def test_a_drop_or_an_error_frame_resumes_with_the_same_transcript(
    emulator: Emulator, fault_free: list[Final], fault: str, after: int, code: int
) -> None:
    """Whatever frame the connection is lost at, the final transcript — text, start_ms and
    end_ms of every token — is the fault-free one: nothing lost, nothing repeated."""
    emulator.faults.clear()
    params = {"error_code": code} if fault == "ws_error" else {}
    emulator.faults.inject(fault, "/transcribe-websocket", after_frames=after, **params)
    try:
        with client_for(emulator).realtime.stt.connect(config=config()) as session:
            finals = stream(session)
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    assert session.reconnects <= 1


def test_without_reconnection_a_drop_ends_the_events_as_officially(emulator: Emulator) -> None:
    """reconnect=False: the stream just ends; raise_on_error makes it a typed error."""
    emulator.faults.clear()
    emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=5)
    try:
        with client_for(emulator).realtime.stt.connect(config=config(), reconnect=False) as session:
            stream(session)
        assert session.reconnects == 0
        emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=5)
        with (
            pytest.raises(RealtimeConnectionError),
            client_for(emulator).realtime.stt.connect(
                config=config(), reconnect=False, raise_on_error=True
            ) as session,
        ):
            stream(session)
    finally:
        emulator.faults.clear()


def test_a_bad_key_is_an_error_event_then_the_end_or_a_typed_error(emulator: Emulator) -> None:
    """401 is never retried: delivered as an event (official), or raised as
    RealtimeAuthenticationError — a SonioxRealtimeError — with raise_on_error."""
    with client_for(emulator, "not-a-key").realtime.stt.connect(config=config()) as session:
        events = list(session.receive_events())
    assert [e.error_code for e in events] == [401]
    connect = client_for(emulator, "not-a-key").realtime.stt.connect
    with (
        pytest.raises(RealtimeAuthenticationError) as caught,
        connect(config=config(), raise_on_error=True) as session,
    ):
        list(session.receive_events())
    assert isinstance(caught.value, SonioxRealtimeError)
    assert "not-a-key" not in str(caught.value)


def test_sending_after_finish_and_receiving_after_close_are_typed(emulator: Emulator) -> None:
    """After finish(): SessionClosedError; after close(): receive_event raises."""
    with client_for(emulator).realtime.stt.connect(config=config()) as session:
        session.send_bytes(AUDIO[:CHUNK])
        session.finish()
        with pytest.raises(SessionClosedError):
            session.send_byte_chunk(AUDIO[:CHUNK])
        session.close()
        with pytest.raises(SonioxRealtimeError):
            session.receive_event()


def test_keepalives_hold_a_paused_stream_open_past_the_idle_timeout() -> None:
    """Paused longer than the server's idle timeout: keepalives go out, the stream finishes
    normally afterwards (no 408), and audio sent while paused is not transmitted."""
    with Emulator(ws_idle_timeout_s=0.6) as emu:
        connect = client_for(emu).realtime.stt.connect
        with connect(config=config(), keepalive_interval_sec=0.2) as session:
            session.send_byte_chunk(AUDIO[: CHUNK * 4])
            session.pause()
            session.send_byte_chunk(AUDIO[CHUNK * 4 : CHUNK * 8])  # dropped
            threading.Event().wait(1.5)
            session.resume()
            session.send_bytes(AUDIO[CHUNK * 8 : CHUNK * 12])
            session.finish()
            events = list(session.receive_events())
        assert events
        assert events[-1].finished
        assert all(e.error_code is None for e in events)


def test_a_raw_format_without_rate_is_refused_before_connecting() -> None:
    """The config's own check: nothing is sent, the error is a ClientValidationError."""
    with pytest.raises(ValueError, match="sample_rate"):
        RealtimeSTTConfig(model="m", audio_format="pcm_s16le")  # type: ignore[arg-type]


def test_the_policy_caps_attempts_against_a_dead_server() -> None:
    """Nothing listens: the session fails on entering, typed, after the allowed attempts."""
    client = SonioxClient(
        api_key="k", api_base_url="http://127.0.0.1:9/v1", websocket_base_url="ws://127.0.0.1:9/x"
    )
    policy = ReconnectPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)
    with pytest.raises(RealtimeConnectionError) as caught:
        client.realtime.stt.connect(config=config(), reconnect=policy).enter()
    assert caught.value.attempts == 3


# --- the asyncio session: the same behaviour, awaited ---------------------------------------------


def async_client_for(emu: Emulator, api_key: str | None = None) -> AsyncSonioxClient:
    return AsyncSonioxClient(
        api_key=api_key or emu.api_key,
        api_base_url=emu.rest_base_url,
        websocket_base_url=emu.ws_url,
    )


async def astream(session: AsyncRealtimeSTTSession, audio: bytes = AUDIO) -> list[Final]:
    """Audio from one task (an async iterator), events on another."""

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(audio), CHUNK):
            yield audio[i : i + CHUNK]

    async def send() -> None:
        with contextlib.suppress(SonioxRealtimeError):
            await session.send_bytes(chunks())

    sender = asyncio.create_task(send())
    finals = [
        (t.text, t.start_ms, t.end_ms)
        async for event in session.receive_events()
        for t in event.tokens
        if t.is_final
    ]
    await sender
    return finals


def test_the_async_session_gives_the_same_transcript(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """async with connect(...): send from a task, receive_events — the sync session's result."""

    async def main() -> list[Final]:
        async with (
            async_client_for(emulator) as client,
            client.realtime.stt.connect(config=config()) as session,
        ):
            return await astream(session)

    assert asyncio.run(main()) == fault_free


@pytest.mark.parametrize(("fault", "after"), [("ws_drop", 7), ("ws_error", 30)])
def test_the_async_session_resumes_exactly(
    emulator: Emulator, fault_free: list[Final], fault: str, after: int
) -> None:
    """A drop or a 503 frame mid-stream: the same final transcript, one reconnection."""
    emulator.faults.clear()
    params = {"error_code": 503} if fault == "ws_error" else {}
    emulator.faults.inject(fault, "/transcribe-websocket", after_frames=after, **params)

    async def main() -> tuple[list[Final], int]:
        async with (
            async_client_for(emulator) as client,
            client.realtime.stt.connect(config=config()) as session,
        ):
            return await astream(session), session.reconnects

    try:
        finals, reconnects = asyncio.run(main())
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    assert reconnects == 1


def test_the_async_session_after_close_and_with_a_bad_key(emulator: Emulator) -> None:
    """A bad key is a typed error with raise_on_error; receiving after close raises."""

    async def main() -> None:
        async with async_client_for(emulator, "not-a-key") as client:
            session = client.realtime.stt.connect(config=config(), raise_on_error=True)
            async with session:
                with pytest.raises(RealtimeAuthenticationError):
                    await session.receive_event()
            with pytest.raises(SonioxRealtimeError):
                await session.receive_event()

    asyncio.run(main())


# --- transcribe() and stream() ---------------------------------------------------------------------


def test_transcribe_a_path_gives_the_sessions_transcript(
    emulator: Emulator, fault_free: list[Final], tmp_path: Path
) -> None:
    """transcribe(path, pace=None): the same final tokens as the hand-driven session."""
    path = tmp_path / "a.wav"
    path.write_bytes(AUDIO)
    result = client_for(emulator).realtime.stt.transcribe(path, config=config(), pace=None)
    assert [(t.text, t.start_ms, t.end_ms) for t in result.tokens] == fault_free
    assert result.text.strip()
    assert result.reconnects == 0


def test_stream_yields_finals_once_and_survives_a_drop(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """stream(bytes): updates whose new finals, concatenated, are the fault-free transcript —
    with a drop in the middle."""
    emulator.faults.clear()
    emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=12)
    try:
        updates = list(client_for(emulator).realtime.stt.stream(AUDIO, config=config(), pace=None))
    finally:
        emulator.faults.clear()
    finals = [(t.text, t.start_ms, t.end_ms) for u in updates for t in u.new_finals]
    assert finals == fault_free
    assert updates[-1].finished


def test_a_live_iterator_source_is_sent_as_it_comes(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """An iterator of chunks (a microphone queue) is not paced: the same transcript."""
    chunks = (AUDIO[i : i + CHUNK] for i in range(0, len(AUDIO), CHUNK))
    result = client_for(emulator).realtime.stt.transcribe(chunks, config=config())
    assert [(t.text, t.start_ms, t.end_ms) for t in result.tokens] == fault_free


def test_a_missing_file_raises_and_the_session_ends(emulator: Emulator, tmp_path: Path) -> None:
    """The source's own error (FileNotFoundError) surfaces; nothing hangs."""
    with pytest.raises(FileNotFoundError):
        client_for(emulator).realtime.stt.transcribe(tmp_path / "nope.wav", config=config())


def test_the_async_helpers_with_an_async_source(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """transcribe() and stream() of the async client, an async iterable as the source."""

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(AUDIO), CHUNK):
            yield AUDIO[i : i + CHUNK]

    async def main() -> tuple[list[Final], list[Final]]:
        async with async_client_for(emulator) as client:
            result = await client.realtime.stt.transcribe(chunks(), config=config())
            streamed = [
                (t.text, t.start_ms, t.end_ms)
                async for update in client.realtime.stt.stream(AUDIO, config=config(), pace=None)
                for t in update.new_finals
            ]
        return [(t.text, t.start_ms, t.end_ms) for t in result.tokens], streamed

    whole, streamed = asyncio.run(main())
    assert whole == fault_free
    assert streamed == fault_free


def test_a_recording_is_paced_at_real_time(emulator: Emulator) -> None:
    """pace=1.0 on 2 s of WAV takes about 2 s; pace=4.0 about a quarter of that."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x10" * 32_000)
    two_seconds = buffer.getvalue()
    stt = client_for(emulator).realtime.stt
    started = time.monotonic()
    stt.transcribe(two_seconds, config=config(), pace=4.0)
    fast = time.monotonic() - started
    started = time.monotonic()
    stt.transcribe(two_seconds, config=config(), pace=1.0)
    real = time.monotonic() - started
    assert real > 2.5 * fast


# --- the watchdog ---------------------------------------------------------------------------------


def test_a_stalled_server_is_detected_and_the_stream_resumes(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """The server stops answering (a half-open connection): audio goes out, nothing comes back
    for receive_timeout_sec, the session reconnects — the same transcript."""
    emulator.faults.clear()
    emulator.faults.inject("ws_stall", "/transcribe-websocket", after_frames=10, delay_s=0)
    connect = client_for(emulator).realtime.stt.connect
    try:
        with connect(config=config(), receive_timeout_sec=0.5) as session:
            finals = stream(session)
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    assert session.reconnects == 1
    assert "no answer" in str(session.notices[0])


def test_the_async_watchdog_too(emulator: Emulator, fault_free: list[Final]) -> None:
    """The same stall, the async session."""
    emulator.faults.clear()
    emulator.faults.inject("ws_stall", "/transcribe-websocket", after_frames=10, delay_s=0)

    async def main() -> tuple[list[Final], int]:
        async with (
            async_client_for(emulator) as client,
            client.realtime.stt.connect(config=config(), receive_timeout_sec=0.5) as session,
        ):
            return await astream(session), session.reconnects

    try:
        finals, reconnects = asyncio.run(main())
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    assert reconnects == 1


def test_a_quiet_paused_stream_is_not_mistaken_for_a_dead_one() -> None:
    """No audio (paused) and no answers for longer than the watchdog's limit: not a drop."""
    with Emulator(ws_idle_timeout_s=5.0) as emu:
        connect = client_for(emu).realtime.stt.connect
        with connect(
            config=config(), receive_timeout_sec=0.3, keepalive_interval_sec=0.2
        ) as session:
            session.send_byte_chunk(AUDIO[: CHUNK * 4])
            first = session.receive_event()
            session.pause(finalize=False)
            threading.Event().wait(1.0)
            session.resume()
            session.send_bytes([AUDIO[CHUNK * 4 : CHUNK * 8]])
            rest = list(session.receive_events())
        assert first is not None
        assert rest[-1].finished
        assert session.reconnects == 0
