"""Realtime speech-to-text written the official way: sessions sync and async, ``send_bytes`` from
a thread, ``handle_events``, pause/resume, finalize, errors, and the ``soniox.utils`` helpers.
Only official names and calls; the same file runs on the official wheel."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import pytest
from compat_support import CompatEmulator

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxRealtimeError
from soniox.types import RealtimeEvent, RealtimeSTTConfig, Token
from soniox.types.realtime import TOKEN_TEXT_FIN, RealtimeControlType
from soniox.utils import (
    output_file_for_audio_format,
    render_tokens,
    start_audio_thread,
    stream_audio,
    stream_audio_async,
    throttle_audio,
    throttle_audio_async,
)


def ws_url(emu: CompatEmulator) -> str:
    return "ws" + emu.url.removeprefix("http") + "/transcribe-websocket"


def make_client(emu: CompatEmulator, api_key: str | None = None) -> SonioxClient:
    return SonioxClient(
        api_key=api_key or emu.api_key,
        api_base_url=emu.rest_base_url,
        websocket_base_url=ws_url(emu),
    )


def wav_config() -> RealtimeSTTConfig:
    return RealtimeSTTConfig(model="stt-rt-v4", audio_format="wav")


def test_the_readme_pattern_audio_thread_and_event_loop(emu: CompatEmulator, wav: bytes) -> None:
    """start_audio_thread + receive_events: finals accumulate, the last event is finished."""
    client = make_client(emu)
    final_tokens: list[Token] = []
    with client.realtime.stt.connect(config=wav_config()) as session:
        thread = start_audio_thread(session, throttle_audio(wav, chunk_size_bytes=3840))
        events = list(session.receive_events())
        thread.join()
    for event in events:
        final_tokens.extend(t for t in event.tokens if t.is_final)
    assert events[-1].finished
    assert final_tokens
    assert render_tokens(final_tokens, []).strip()


def test_config_built_then_assigned_as_in_sonioxs_examples(emu: CompatEmulator, wav: bytes) -> None:
    """A raw-PCM config built field by field (Soniox's own example style) streams fine."""
    config = RealtimeSTTConfig(model="stt-rt-v4")
    config.audio_format = "pcm_s16le"
    config.sample_rate = 16000
    config.num_channels = 1
    config.enable_endpoint_detection = True
    pcm = wav[44:]
    with make_client(emu).realtime.stt.connect(config=config) as session:
        session.send_bytes(stream_audio(pcm, chunk_size_bytes=3200))
        texts = [t.text for e in session.receive_events() for t in e.tokens if t.is_final]
    assert texts


def test_handle_events_with_a_callback_and_finalize(emu: CompatEmulator, wav: bytes) -> None:
    """handle_events(handler); finalize() answers with a <fin> token; last_message is set."""
    seen: list[RealtimeEvent] = []
    with make_client(emu).realtime.stt.connect(config=wav_config()) as session:
        session.send_bytes(wav, finish=False)  # one bytes object never finishes (official quirk)
        session.finalize()
        session.send_control_message(RealtimeControlType.FINISH)
        session.handle_events(seen.append)
        assert session.last_message is seen[-1]
    texts = [t.text for e in seen for t in e.tokens]
    assert TOKEN_TEXT_FIN in texts


def test_pause_drops_audio_and_resume_sends_again(emu: CompatEmulator, wav: bytes) -> None:
    """While paused nothing is transmitted; resume() goes on; paused reflects it."""
    with make_client(emu).realtime.stt.connect(config=wav_config()) as session:
        session.send_byte_chunk(wav[:16000])
        session.pause()
        assert session.paused
        session.send_byte_chunk(wav[16000:32000])
        session.resume()
        assert not session.paused
        session.send_bytes([wav[32000:]])
        events = list(session.receive_events())
    assert events[-1].finished


def test_an_error_frame_is_an_event_then_the_end(emu: CompatEmulator) -> None:
    """A bad key: the official SDK yields the error as an event, then iteration stops."""
    with make_client(emu, "wrong-key").realtime.stt.connect(config=wav_config()) as session:
        events = list(session.receive_events())
    assert [e.error_code for e in events] == [401]
    assert events[0].error_message


def test_receiving_after_close_raises_the_realtime_error(emu: CompatEmulator) -> None:
    """After close(): receive_event raises SonioxRealtimeError."""
    session = make_client(emu).realtime.stt.connect(config=wav_config())
    session.enter()
    session.close()
    with pytest.raises(SonioxRealtimeError):
        session.receive_event()


def test_parse_event_and_keep_alive(emu: CompatEmulator) -> None:
    """parse_event decodes a raw message; keep_alive() is accepted on an open session."""
    with make_client(emu).realtime.stt.connect(config=wav_config()) as session:
        session.keep_alive()
        event = session.parse_event('{"tokens": [{"text": "hi", "is_final": true}]}')
        assert event.tokens[0].text == "hi"
        session.finish()
        list(session.receive_events())


def test_the_async_session_with_an_async_audio_source(emu: CompatEmulator, wav: bytes) -> None:
    """AsyncSonioxClient: async with connect(...), send_bytes(async chunks) from a task,
    async for over receive_events."""

    async def main() -> list[RealtimeEvent]:
        client = AsyncSonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=ws_url(emu)
        )
        async with client.realtime.stt.connect(config=wav_config()) as session:
            sender = asyncio.create_task(
                session.send_bytes(throttle_audio_async(wav, chunk_size_bytes=3840))
            )
            events = [event async for event in session.receive_events()]
            await sender
        return events

    events = asyncio.run(main())
    assert events[-1].finished
    assert any(t.is_final for e in events for t in e.tokens)


def test_audio_helpers_cut_every_source_alike(tmp_path: Path, wav: bytes) -> None:
    """bytes, a path and a file object give the same chunks; bad arguments are ValueErrors."""
    path = tmp_path / "a.wav"
    path.write_bytes(wav)
    expected = [wav[i : i + 1000] for i in range(0, len(wav), 1000)]
    assert list(stream_audio(wav, chunk_size_bytes=1000)) == expected
    assert list(stream_audio(str(path), chunk_size_bytes=1000)) == expected
    assert list(stream_audio(io.BytesIO(wav), chunk_size_bytes=1000)) == expected

    async def collect() -> list[bytes]:
        return [c async for c in stream_audio_async(path, chunk_size_bytes=1000)]

    assert asyncio.run(collect()) == expected
    with pytest.raises(ValueError, match="chunk_size_bytes"):
        list(stream_audio(wav, chunk_size_bytes=0))
    with pytest.raises(ValueError, match="delay_seconds"):
        list(throttle_audio(wav, delay_seconds=-1))
    assert output_file_for_audio_format("wav", "out") == Path("out.wav")
    assert output_file_for_audio_format("pcm_s16le", "out") == Path("out.pcm")
    assert output_file_for_audio_format("weird", "out") == Path("out.bin")


def test_a_raw_format_without_rate_is_refused(emu: CompatEmulator) -> None:
    """The config's own check (a ValueError subclass, in either SDK)."""
    with pytest.raises(ValueError, match="sample_rate"):
        RealtimeSTTConfig(model="stt-rt-v4", audio_format="pcm_s16le")


def test_sending_from_one_thread_while_receiving_on_another(
    emu: CompatEmulator, wav: bytes
) -> None:
    """Chunks from a plain thread with send_byte_chunk, then finish(); events here."""
    with make_client(emu).realtime.stt.connect(config=wav_config()) as session:

        def send() -> None:
            for chunk in stream_audio(wav, chunk_size_bytes=4096):
                session.send_byte_chunk(chunk)
            session.finish()

        sender = threading.Thread(target=send)
        sender.start()
        events = list(session.receive_events())
        sender.join()
    assert events[-1].finished
