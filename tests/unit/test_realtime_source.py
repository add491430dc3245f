"""Audio sources and pacing for transcribe() / stream(): chunking every kind of source alike,
and a pace that never lets the audio run ahead of real time x speed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.realtime.ledger import AudioLayout
from soniox.realtime.source import Pacer, chunk_bytes, chunks_of, is_recording

PCM16 = AudioLayout(16_000, 2)


@given(st.binary(max_size=5000), st.integers(1, 700))
def test_bytes_a_file_object_and_a_path_give_the_same_chunks(data: bytes, size: int) -> None:
    """Every recording source is cut the same way; the chunks join back to the audio."""
    from_bytes = list(chunks_of(data, size))
    assert b"".join(from_bytes) == data
    assert all(len(chunk) == size for chunk in from_bytes[:-1])
    assert list(chunks_of(io.BytesIO(data), size)) == from_bytes


def test_a_path_is_read_in_chunks(tmp_path: Path) -> None:
    """A str or Path source is opened and read chunk by chunk."""
    path = tmp_path / "a.raw"
    path.write_bytes(b"x" * 10)
    assert list(chunks_of(str(path), 4)) == [b"xxxx", b"xxxx", b"xx"]
    assert is_recording(path)
    assert not is_recording(iter([b"x"]))


def test_an_unusable_source_is_a_client_validation_error() -> None:
    """A number is not audio."""
    with pytest.raises(ClientValidationError, match="source"):
        list(chunks_of(42, 10))  # type: ignore[arg-type]


def test_chunk_size_follows_the_layout() -> None:
    """120 ms of 16 kHz mono 16-bit PCM is 3,840 bytes; unknown audio gets 4 KiB."""
    assert chunk_bytes(PCM16) == 3840
    assert chunk_bytes(None) == 4096


@given(st.lists(st.integers(1, 8000), min_size=1, max_size=20), st.floats(0.5, 8.0))
def test_the_pacer_never_lets_audio_run_ahead_of_real_time(sizes: list[int], speed: float) -> None:
    """Sending each chunk after the pacer's delay, the audio sent by time t is at most
    (t - start) x speed seconds (within one chunk)."""
    pacer = Pacer(PCM16, speed)
    now, start, sent = 100.0, 100.0, 0
    for size in sizes:
        now += pacer.delay(now)
        ahead = PCM16.ms_of(sent) / 1000 - (now - start) * speed
        assert ahead <= 1e-6
        pacer.sent(size)
        sent += size


def test_a_non_positive_pace_is_refused() -> None:
    """pace=0 would never send: a ClientValidationError."""
    with pytest.raises(ClientValidationError, match="pace"):
        Pacer(PCM16, 0.0)
