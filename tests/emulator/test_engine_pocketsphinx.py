"""The optional PocketSphinx engine recognises real speech (needs the emulator-asr extra)."""

from __future__ import annotations

import importlib.util
import json
import re
from array import array
from collections.abc import Iterator

import pytest
from realtime_support import run_session

from soniox.data import SAMPLE_EN_TEXT, sample_path
from soniox.emulator import Emulator
from soniox.emulator.engines import create_engine
from soniox.emulator.engines.base import RecognitionEngine, RecognitionOptions, StreamFormat

pytestmark = [
    pytest.mark.asr,
    pytest.mark.skipif(
        importlib.util.find_spec("pocketsphinx") is None,
        reason="pocketsphinx is not installed (pip install 'soniox-transport[emulator-asr]')",
    ),
]

STOP_WORDS = {"the", "a", "an", "from", "this", "was", "by", "of", "to", "and"}


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in STOP_WORDS}


EXPECTED = content_words(SAMPLE_EN_TEXT)


@pytest.fixture(scope="module")
def engine() -> RecognitionEngine:
    """One engine for the module: its decoder pool spares reloading the model per test."""
    return create_engine("pocketsphinx")


def test_transcribes_the_sample(engine: RecognitionEngine) -> None:
    """Batch recognition finds most content words of the sample, with sane timings."""
    transcript = engine.transcribe_file(sample_path(), RecognitionOptions())
    heard = content_words(transcript.text)
    assert len(heard & EXPECTED) >= len(EXPECTED) / 2, transcript.text
    assert 4000 <= transcript.audio_duration_ms <= 6000
    starts = [t.start_ms for t in transcript.tokens if t.start_ms is not None]
    assert starts == sorted(starts)
    assert all(t.text.startswith(" ") for t in transcript.tokens)
    assert all(t.confidence is not None and 0 <= t.confidence <= 1 for t in transcript.tokens)


def test_streaming_partials_then_finals(engine: RecognitionEngine) -> None:
    """Streaming shows partial words as non-final, then makes them final at the end."""
    stream = engine.open_stream(StreamFormat(), RecognitionOptions())
    data = sample_path().read_bytes()
    partial_seen = False
    finals = []
    for i in range(0, len(data), 16_000):
        stream.feed(data[i : i + 16_000])
        update = stream.take_update()
        partial_seen |= bool(update.non_final_tokens)
        finals.extend(update.final_tokens)
    stream.end()
    last = stream.take_update()
    finals.extend(last.final_tokens)
    assert partial_seen
    assert last.non_final_tokens == []
    assert last.final_audio_proc_ms == last.total_audio_proc_ms
    heard = content_words("".join(t.text for t in finals))
    assert len(heard & EXPECTED) >= len(EXPECTED) / 2


def test_resamples_other_rates(engine: RecognitionEngine) -> None:
    """8 kHz input is resampled to the model's 16 kHz and still recognised."""
    data = sample_path().read_bytes()[44:]
    samples = array("h")
    samples.frombytes(data)
    down = samples[::2].tobytes()
    fmt = StreamFormat(audio_format="pcm_s16le", sample_rate=8000, num_channels=1)
    stream = engine.open_stream(fmt, RecognitionOptions())
    stream.feed(down)
    stream.end()
    update = stream.take_update()
    assert content_words("".join(t.text for t in update.final_tokens)) & EXPECTED


@pytest.fixture
def asr_emulator() -> Iterator[Emulator]:
    with Emulator(engine="pocketsphinx") as emu:
        yield emu


def test_realtime_session_with_pocketsphinx(asr_emulator: Emulator) -> None:
    """Over the wire: the sample streamed as WAV yields its words and <end>."""
    data = sample_path().read_bytes()
    frames = [data[i : i + 3840] for i in range(0, len(data), 3840)]
    config = {"model": "stt-rt-v5", "enable_endpoint_detection": True}
    outcome = run_session(asr_emulator, config, [*frames, ""], timeout=30)
    assert outcome.finished
    texts = [t["text"] for t in outcome.finals]
    assert "<end>" in texts
    assert len(content_words("".join(texts)) & EXPECTED) >= len(EXPECTED) / 2, json.dumps(texts)
