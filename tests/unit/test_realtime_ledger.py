"""The audio ledger: what a session keeps after the final watermark, and what a new connection
is sent to resume exactly — or the gap it reports when it cannot."""

from __future__ import annotations

import io
import wave

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.realtime.ledger import AudioLayout, AudioLedger, sample_width, wav_layout
from soniox.types import RealtimeSTTConfig

PCM16 = AudioLayout(16_000, 2)
"""16 kHz mono 16-bit: 32 bytes a millisecond."""
AUDIO = bytes(range(256)) * 1000  # 256,000 bytes = 8 s


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut at ``sizes`` (cycled), the way a microphone callback might hand it over."""
    out: list[bytes] = []
    position, index = 0, 0
    while position < len(data):
        size = sizes[index % len(sizes)]
        out.append(data[position : position + size])
        position += size
        index += 1
    return out


@given(
    st.lists(st.integers(1, 5000), min_size=1, max_size=5),
    st.lists(st.integers(0, 8000), max_size=6),
)
def test_the_replay_is_exactly_the_audio_after_the_watermark(
    sizes: list[int], marks: list[int]
) -> None:
    """Any chunking, any (rising) watermarks: the replay starts at the last watermark and holds
    every byte sent after it, nothing before."""
    ledger = AudioLedger(PCM16, max_retained_bytes=len(AUDIO))
    for chunk in chunked(AUDIO, sizes):
        ledger.sent(chunk)
    for mark in sorted(marks):
        ledger.watermark(mark)
    watermark = max(marks, default=0)
    replay = ledger.replay()
    assert replay.gap is None
    assert replay.offset_ms == watermark
    assert b"".join(replay.chunks) == AUDIO[PCM16.offset_of(watermark) :]
    assert ledger.sent_bytes == len(AUDIO)


@given(st.integers(1000, 40_000), st.integers(0, 2000))
def test_audio_beyond_the_bound_is_reported_as_a_gap_never_silently(
    bound: int, watermark: int
) -> None:
    """Kept audio over max_retained_bytes is dropped oldest first; the replay starts on a whole
    millisecond after the watermark and the lost span is an AudioGap."""
    ledger = AudioLedger(PCM16, max_retained_bytes=bound)
    for chunk in chunked(AUDIO, [3001]):
        ledger.sent(chunk)
    ledger.watermark(watermark)
    replay = ledger.replay()
    assert ledger.retained_bytes <= bound
    assert b"".join(replay.chunks) == AUDIO[PCM16.offset_of(replay.offset_ms) :]
    if replay.offset_ms > watermark:
        assert replay.gap is not None
        assert (replay.gap.start_ms, replay.gap.end_ms) == (watermark, replay.offset_ms)
    else:
        assert replay.gap is None


def wav_bytes(frames: bytes, rate: int = 16_000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


@given(st.lists(st.integers(1, 100), min_size=1, max_size=4), st.integers(0, 4000))
def test_a_wav_streams_layout_is_read_from_its_header_and_resent_first(
    sizes: list[int], watermark: int
) -> None:
    """auto/wav: the header is found however the first bytes arrive; a replay sends it again,
    then the samples from the watermark."""
    stream = wav_bytes(AUDIO[:128_000])
    ledger = AudioLedger(None, max_retained_bytes=len(stream), sniff_wav=True)
    for chunk in chunked(stream, sizes * 50 + [4096]):
        ledger.sent(chunk)
    assert ledger.layout is not None
    header = ledger.layout.header
    assert stream.startswith(header)
    ledger.watermark(watermark)
    replay = ledger.replay()
    assert replay.chunks[0] == header
    assert b"".join(replay.chunks[1:]) == AUDIO[:128_000][PCM16.offset_of(watermark) :]


def test_a_compressed_stream_cannot_resume_and_says_so() -> None:
    """MP3 and friends: nothing kept, and the replay is a gap whose end is unknown."""
    config = RealtimeSTTConfig(model="m", audio_format="mp3")  # type: ignore[arg-type]
    ledger = AudioLedger(AudioLayout.for_config(config), max_retained_bytes=10**6)
    ledger.sent(b"\xff\xfb" + b"\x00" * 1000)
    ledger.watermark(500)
    replay = ledger.replay()
    assert not ledger.resumable
    assert replay.chunks == ()
    assert replay.gap is not None
    assert (replay.gap.start_ms, replay.gap.end_ms) == (500, None)


def test_a_non_wav_stream_under_auto_is_counted_but_not_kept() -> None:
    """auto with an Ogg stream: the sniffing gives up, the bytes are counted."""
    ledger = AudioLedger(None, max_retained_bytes=10**6, sniff_wav=True)
    ledger.sent(b"OggS" + b"\x00" * 100)
    assert ledger.layout is None
    assert ledger.sent_bytes == 104
    assert ledger.retained_bytes == 0


@pytest.mark.parametrize(
    ("audio_format", "width"),
    [("pcm_s16le", 2), ("pcm_f32be", 4), ("pcm_s24le", 3), ("pcm_u8", 1), ("pcm_f64le", 8),
     ("mulaw", 1), ("alaw", 1), ("wav", None), ("auto", None)],
)  # fmt: skip
def test_sample_widths_of_the_formats(audio_format: str, width: int | None) -> None:
    """Bytes per sample for every headerless family; None for containers."""
    assert sample_width(audio_format) == width


def test_a_headerless_configs_layout() -> None:
    """pcm_s16le, 8 kHz, stereo: 4 bytes a frame, 32 bytes a millisecond."""
    config = RealtimeSTTConfig(
        model="m",
        audio_format="pcm_s16le",  # type: ignore[arg-type]
        sample_rate=8000,
        num_channels=2,
    )
    layout = AudioLayout.for_config(config)
    assert layout == AudioLayout(8000, 4)
    assert AudioLayout(8000, 4).offset_of(1000) == 32_000


def test_truncated_and_foreign_headers() -> None:
    """A header cut short asks for more; anything not RIFF/WAVE is not a WAV stream."""
    stream = wav_bytes(b"\x00\x00" * 10)
    assert wav_layout(stream[:20]) == "more"
    assert wav_layout(b"ID3\x04") is None
    assert isinstance(wav_layout(stream), AudioLayout)
