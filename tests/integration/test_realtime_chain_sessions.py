"""The realtime chain over the emulator: the buffer's three overflow policies while a stream
reconnects, per-session metrics and a span through the client's sinks, a user's link, and a
fresh temporary key for every connection."""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from realtime_session_support import Final, chunks_of, finals_while_sending

import soniox.data
from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import BufferOverflowError
from soniox.realtime import (
    AudioDropped,
    GapNotice,
    LinkHooks,
    Observe,
    RealtimeLink,
    RealtimeSTTSession,
    ReconnectPolicy,
)
from soniox.realtime.chain import LinkContext
from soniox.types import RealtimeEvent, RealtimeSTTConfig

with wave.open(BytesIO((Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes())) as w:
    RATE, CHANNELS = w.getframerate(), w.getnchannels()
    PCM = w.readframes(w.getnframes()) * 4  # 20 s
BYTES_PER_MS = RATE * CHANNELS * 2 // 1000
CHUNK = 120 * BYTES_PER_MS
PACE = 0.012
"""Seconds between chunks: ten times real time."""
NOW = ReconnectPolicy(base_delay_s=0.0)
"""Reconnect at once: the slow credential below is what takes time."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def client_for(emu: Emulator, **config: object) -> SonioxClient:
    settings = SonioxConfig.testing(
        api_key=emu.api_key, base_url=emu.rest_base_url, websocket_url=emu.ws_url, **config
    )
    return SonioxClient(config=settings)


def pcm_config() -> RealtimeSTTConfig:
    return RealtimeSTTConfig(
        model="stt-rt-v4",
        audio_format="pcm_s16le",  # type: ignore[arg-type]
        sample_rate=RATE,
        num_channels=CHANNELS,
    )


def slow_key(emu: Emulator) -> Callable[[], str]:
    """The key, given at once the first time and after 0.5 s every later time: a reconnection
    that takes that long, while the sender goes on at ten times real time."""
    calls: list[int] = []

    def key() -> str:
        if calls:
            time.sleep(0.5)
        calls.append(1)
        return emu.api_key

    return key


def chunks() -> Iterator[bytes]:
    for i in range(0, len(PCM), CHUNK):
        yield PCM[i : i + CHUNK]
        time.sleep(PACE)


def run(session: RealtimeSTTSession, errors: list[BaseException] | None = None) -> list[Final]:
    """Audio from a thread at ten times real time, events here; the sender's error kept."""
    return finals_while_sending(session, chunks(), errors)


@pytest.fixture(scope="module")
def fault_free(emulator: Emulator) -> list[Final]:
    with client_for(emulator).realtime.stt.connect(config=pcm_config()) as session:
        return run(session)


def drop_after(emulator: Emulator, frames: int) -> None:
    emulator.faults.clear()
    emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=frames)


def test_print_session_chain_shows_its_links_in_order(emulator: Emulator) -> None:
    """print(session.chain): the links the session runs through, from the config."""
    session = client_for(emulator).realtime.stt.connect(config=pcm_config(), reconnect=False)
    assert session.chain.names == ("observe", "pacing", "buffer", "keepalive", "health")
    assert "→ websocket" in str(session.chain)


def test_block_holds_the_sender_while_reconnecting_and_loses_nothing(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """overflow='block' with a 200 ms buffer: the sender waits for the new connection, the
    transcript is the fault-free one, and no more than the bound waited at once."""
    drop_after(emulator, 20)
    try:
        stt = client_for(emulator).realtime.stt
        with stt.connect(
            config=pcm_config(), api_key=slow_key(emulator), reconnect=NOW, buffer_ms=200
        ) as session:
            finals = run(session)
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    stats = session.stats
    assert stats["reconnects"] == 1
    assert stats["dropped_bytes"] == 0
    assert 0 < stats["peak_pending_bytes"] <= 200 * BYTES_PER_MS + CHUNK


def test_drop_oldest_reports_the_dropped_audio_and_keeps_the_clock(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """overflow='drop_oldest': audio is dropped and counted, a gap names the lost span, the
    words before it are the fault-free ones, and the clock after it is the stream's (the
    transcript ends where the audio does, not earlier by what was dropped)."""
    drop_after(emulator, 20)
    try:
        stt = client_for(emulator).realtime.stt
        with stt.connect(
            config=pcm_config(),
            api_key=slow_key(emulator),
            reconnect=NOW,
            buffer_ms=240,
            overflow="drop_oldest",
        ) as session:
            finals = run(session)
    finally:
        emulator.faults.clear()
    dropped = [n for n in session.notices if isinstance(n, AudioDropped)]
    gaps = [n.gap for n in session.notices if isinstance(n, GapNotice)]
    assert session.stats["dropped_bytes"] == dropped[-1].total_bytes > 0
    assert len(gaps) == 1
    assert gaps[0].end_ms is not None
    lost_ms = dropped[-1].total_bytes // BYTES_PER_MS
    assert lost_ms > 1000  # half a second at ten times real time, less the buffer
    assert gaps[0].end_ms - gaps[0].start_ms >= lost_ms
    before = gaps[0].start_ms
    assert [f for f in finals if (f[2] or 0) <= before] == [
        f for f in fault_free if (f[2] or 0) <= before
    ]
    after = [f for f in finals if (f[1] or 0) >= gaps[0].end_ms]
    assert after  # words after the hole, on the stream's clock: the stream ends where it did
    assert abs((finals[-1][2] or 0) - (fault_free[-1][2] or 0)) < 1000


def test_raise_refuses_audio_while_the_buffer_is_full(emulator: Emulator) -> None:
    """overflow='raise': the sender gets BufferOverflowError while reconnecting; the stream
    still ends cleanly with what was accepted."""
    drop_after(emulator, 20)
    errors: list[BaseException] = []
    try:
        stt = client_for(emulator).realtime.stt
        with stt.connect(
            config=pcm_config(),
            api_key=slow_key(emulator),
            reconnect=NOW,
            buffer_ms=240,
            overflow="raise",
        ) as session:
            finals = run(session, errors)
    finally:
        emulator.faults.clear()
    assert finals
    assert [type(error) for error in errors] == [BufferOverflowError]
    assert session.stats["audio_bytes"] < len(PCM)


def test_a_session_is_recorded_in_the_clients_metrics(emulator: Emulator) -> None:
    """observe: one realtime record per session — outcome, first-token latency, final tokens,
    reconnects — in client.metrics.snapshot().realtime."""
    drop_after(emulator, 10)
    client = client_for(emulator)
    try:
        with client.realtime.stt.connect(config=pcm_config()) as session:
            finals = run(session)
    finally:
        emulator.faults.clear()
    realtime = client.metrics.snapshot().realtime
    assert realtime.sessions == 1
    assert realtime.outcomes == {"ok": 1}
    assert realtime.reconnects == 1
    assert realtime.final_tokens == len(finals)
    assert realtime.first_token.count == 1
    assert realtime.finalization.count == 1
    assert realtime.sent_bytes >= len(PCM)


def test_a_session_is_one_span_with_its_reconnection_as_events(emulator: Emulator) -> None:
    """observe with an OpenTelemetry SDK: span soniox.realtime.stt, events reconnecting and
    resumed, the outcome and counters as attributes, no key anywhere."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stt = client_for(emulator).realtime.stt
    chain = stt.chain.with_link(Observe(tracer_provider=provider))
    drop_after(emulator, 10)
    try:
        with stt.connect(config=pcm_config(), chain=chain) as session:
            run(session)
    finally:
        emulator.faults.clear()
    (span,) = exporter.get_finished_spans()
    assert span.name == "soniox.realtime.stt"
    events = [event.name for event in span.events]
    assert {"first_token", "reconnecting", "resumed"} <= set(events)
    attributes = dict(span.attributes or {})
    assert attributes["soniox.outcome"] == "ok"
    assert attributes["soniox.reconnects"] == 1
    assert emulator.api_key not in repr(span.to_json())
    provider.shutdown()


class Counting(RealtimeLink):
    """A user's link: counts the chunks and events of each session."""

    name = "counting"

    def __init__(self) -> None:
        self.chunks = 0
        self.events = 0
        self.ended: list[str] = []

    def open(self, context: LinkContext) -> LinkHooks:
        link = self

        class Hooks(LinkHooks):
            def on_audio(self, chunk: bytes) -> bytes:
                link.chunks += 1
                return chunk

            def on_event(self, event: RealtimeEvent) -> None:
                link.events += 1

            def on_end(self, error: object, stats: dict[str, object]) -> None:
                link.ended.append(str(stats["state"]))

        return Hooks()


def test_a_users_link_sees_every_chunk_event_and_the_end(emulator: Emulator) -> None:
    """A RealtimeLink inserted before the buffer: on_audio per chunk, on_event per event,
    on_end once."""
    stt = client_for(emulator).realtime.stt
    counting = Counting()
    chain = stt.chain.insert_before("buffer", counting)
    with stt.connect(config=pcm_config(), chain=chain) as session:
        run(session)
    assert session.chain.names[2] == "counting"
    assert counting.chunks == -(-len(PCM) // CHUNK)
    assert counting.events > 0
    assert counting.ended == ["finished"]


def test_temporary_keys_give_every_connection_a_fresh_single_use_key(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """realtime_temporary_keys: each connection (here two: a drop) is opened with a key minted
    for it — single-use, so a reused one would be refused — and the transcript is whole."""
    client = client_for(emulator, realtime_temporary_keys=True)
    drop_after(emulator, 10)
    emulator.journal.clear()
    try:
        with client.realtime.stt.connect(config=pcm_config()) as session:
            finals = run(session)
    finally:
        emulator.faults.clear()
    entries = emulator.journal.entries()
    minted = [e for e in entries if e.path.endswith("/auth/temporary-api-key")]
    sockets = [e for e in entries if e.protocol == "ws"]
    assert len(minted) == len(sockets) == 2
    assert finals == fault_free


def test_a_handshake_refused_with_429_waits_as_the_server_says(emulator: Emulator) -> None:
    """The upgrade answered 429 with Retry-After: 1: the session reconnects no sooner, and
    reports no gap (nothing had been sent)."""
    emulator.faults.clear()
    emulator.faults.fail("/transcribe-websocket", status=429, retry_after=1)
    quick = ReconnectPolicy(base_delay_s=0.01, max_delay_s=0.02)
    started = time.monotonic()
    try:
        with client_for(emulator).realtime.stt.connect(
            config=pcm_config(), reconnect=quick
        ) as session:
            waited = time.monotonic() - started
            session.finish()
            list(session.receive_events())
    finally:
        emulator.faults.clear()
    assert waited >= 1.0
    assert [type(n).__name__ for n in session.notices] == ["Reconnecting", "Resumed"]


MINUTE = PCM * 3
"""A minute of speech (the sample, twelve times)."""


def unpaced_finals(session: RealtimeSTTSession, audio: bytes) -> list[Final]:
    return finals_while_sending(session, chunks_of(audio, CHUNK))


@pytest.fixture(scope="module")
def minute_fault_free(emulator: Emulator) -> list[Final]:
    with client_for(emulator).realtime.stt.connect(config=pcm_config()) as session:
        return unpaced_finals(session, MINUTE)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fault=st.sampled_from(["ws_drop", "ws_error", "ws_stall"]), after=st.integers(2, 480))
def test_a_minute_of_speech_resumes_exactly_whatever_the_fault(
    emulator: Emulator, minute_fault_free: list[Final], fault: str, after: int
) -> None:
    """A minute of speech, the connection lost at a hypothesis-chosen frame — dropped, a 503
    error frame, or silent (the watchdog) —: the final transcript, text and times of every
    token, is the fault-free one."""
    emulator.faults.clear()
    params: dict[str, object] = {"error_code": 503} if fault == "ws_error" else {}
    if fault == "ws_stall":
        params["delay_s"] = 0
    emulator.faults.inject(fault, "/transcribe-websocket", after_frames=after, **params)
    try:
        with client_for(emulator).realtime.stt.connect(
            config=pcm_config(), reconnect=NOW, receive_timeout_sec=0.5
        ) as session:
            finals = unpaced_finals(session, MINUTE)
    finally:
        emulator.faults.clear()
    assert finals == minute_fault_free
    assert session.reconnects <= 1
