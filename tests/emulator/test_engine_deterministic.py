"""The deterministic engine: same audio, same tokens; streaming, resume and batch agree."""

from __future__ import annotations

import itertools
import random
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_support import synth as support_synth

from soniox.data import sample_path
from soniox.emulator.engines import EngineUnavailable, create_engine
from soniox.emulator.engines.base import (
    AudioDecodeError,
    RecognitionOptions,
    RecognizedToken,
    StreamFormat,
)
from soniox.emulator.engines.deterministic import DeterministicEngine, EngineParams

RATE = 8000
BYTES_PER_MS = RATE * 2 // 1000
RAW = StreamFormat(audio_format="pcm_s16le", sample_rate=RATE, num_channels=1)


def synth(segments: Sequence[tuple[int, int]], seed: int = 0, rate: int = RATE) -> bytes:
    """s16le noise at 8 kHz by default: ``(duration_ms, amplitude_shift)``, 16 = silence."""
    return support_synth(segments, seed, rate)


class Mark(NamedTuple):
    """State after one update: watermarks, finals so far, finalize requests made so far."""

    final_ms: int
    total_ms: int
    finals: int
    finalizes: int


def run_stream(
    audio: bytes,
    *,
    cuts: Sequence[int] = (),
    finalize_at: Sequence[int] = (),
    options: RecognitionOptions | None = None,
    engine: DeterministicEngine | None = None,
) -> tuple[list[RecognizedToken], list[Mark]]:
    """Feed ``audio`` split at ``cuts``, finalizing at byte offsets ``finalize_at`` (sorted).

    Returns all finals in order and a :class:`Mark` per update.
    """
    engine = engine or DeterministicEngine()
    stream = engine.open_stream(RAW, options or RecognitionOptions())
    points = sorted({min(c, len(audio)) for c in [*cuts, *finalize_at]} | {0, len(audio)})
    finals: list[RecognizedToken] = []
    marks: list[Mark] = []
    done = 0

    def take() -> None:
        update = stream.take_update()
        finals.extend(update.final_tokens)
        marks.append(
            Mark(update.final_audio_proc_ms, update.total_audio_proc_ms, len(finals), done)
        )

    for index, b in enumerate(points):
        if index:
            stream.feed(audio[points[index - 1] : b])
            take()
        while done < len(finalize_at) and finalize_at[done] == b and b < len(audio):
            stream.finalize()
            done += 1
            take()
    stream.end()
    take()
    return finals, marks


def shifted(tokens: Sequence[RecognizedToken], offset_ms: int) -> list[RecognizedToken]:
    return [
        t
        if t.start_ms is None or t.end_ms is None
        else attrs.evolve(t, start_ms=t.start_ms + offset_ms, end_ms=t.end_ms + offset_ms)
        for t in tokens
    ]


def words(tokens: Sequence[RecognizedToken]) -> list[str]:
    return [t.text for t in tokens]


SPEECH_AND_PAUSES = [(700, 2), (250, 16), (500, 4), (900, 16), (480, 1), (130, 16), (300, 3)]

segments_strategy = st.lists(
    st.tuples(st.integers(1, 1500), st.sampled_from([0, 2, 5, 16, 16])), min_size=1, max_size=6
)
options_strategy = st.builds(
    RecognitionOptions,
    enable_endpoint_detection=st.booleans(),
    max_endpoint_delay_ms=st.sampled_from([500, 600, 2000]),
    enable_speaker_diarization=st.booleans(),
)


# Batch API --------------------------------------------------------------------------------------


def write_wav(path: Path, audio: bytes, rate: int = RATE) -> Path:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = (
        b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(audio)) + audio
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_transcribe_file_is_deterministic(tmp_path: Path) -> None:
    """The same WAV always yields the same tokens and duration."""
    path = write_wav(tmp_path / "a.wav", synth(SPEECH_AND_PAUSES))
    engine = create_engine("deterministic")
    first = engine.transcribe_file(path, RecognitionOptions())
    second = create_engine("deterministic").transcribe_file(path, RecognitionOptions())
    assert first == second
    assert first.audio_duration_ms == sum(d for d, _ in SPEECH_AND_PAUSES)
    assert first.tokens, "speech should produce words"
    assert all(t.text.startswith(" ") or not t.text[0].isspace() for t in first.tokens)


def test_transcribe_file_matches_streaming_finals(tmp_path: Path) -> None:
    """Batch tokens equal the finals of a stream over the same audio."""
    audio = synth(SPEECH_AND_PAUSES, seed=3)
    path = write_wav(tmp_path / "a.wav", audio)
    batch = create_engine().transcribe_file(path, RecognitionOptions())
    finals, _ = run_stream(audio, cuts=range(0, len(audio), 999))
    assert batch.tokens == finals


def test_transcribe_file_token_shape(tmp_path: Path) -> None:
    """Tokens have leading spaces, window-aligned times, and 0.5..0.99 confidence."""
    path = write_wav(tmp_path / "a.wav", synth([(2400, 1)]))
    tokens = create_engine().transcribe_file(path, RecognitionOptions()).tokens
    assert tokens[0].text.startswith(" ")
    assert tokens[0].start_ms == 0
    assert tokens[-1].end_ms == 2400
    for token in tokens:
        assert token.confidence is not None
        assert 0.5 <= token.confidence <= 0.99
        assert token.start_ms is not None
        assert token.end_ms is not None
        assert token.start_ms < token.end_ms
        assert token.speaker is None
        assert token.language is None


def test_silence_yields_no_tokens(tmp_path: Path) -> None:
    """Digital silence has no words but still a duration."""
    path = write_wav(tmp_path / "a.wav", synth([(1000, 16)]))
    transcript = create_engine().transcribe_file(path, RecognitionOptions())
    assert transcript.tokens == []
    assert transcript.audio_duration_ms == 1000


def test_long_words_are_split_into_subword_tokens() -> None:
    """Words of 7+ letters arrive as two tokens, the second without a leading space."""
    engine = DeterministicEngine(EngineParams(vocabulary=("recognition",)))
    finals, _ = run_stream(synth([(240, 1)]), engine=engine)
    assert words(finals) == [" recog", "nition"]
    assert finals[0].end_ms == finals[1].start_ms


def test_diarization_and_language_fields(tmp_path: Path) -> None:
    """Speaker from loudness band; language from the first hint when identification is on."""
    path = write_wav(tmp_path / "a.wav", synth([(480, 0), (480, 5)]))
    options = RecognitionOptions(
        enable_speaker_diarization=True,
        enable_language_identification=True,
        language_hints=("de", "en"),
    )
    tokens = create_engine().transcribe_file(path, options).tokens
    assert {t.speaker for t in tokens} == {"1", "2"}
    assert {t.language for t in tokens} == {"de"}


def test_one_way_translation_in_file(tmp_path: Path) -> None:
    """Originals are marked 'original'; translations follow, spelled backwards, with timing."""
    path = write_wav(tmp_path / "a.wav", synth([(720, 2)]))
    options = RecognitionOptions(translation={"type": "one_way", "target_language": "es"})
    tokens = create_engine().transcribe_file(path, options).tokens
    originals = [t for t in tokens if t.translation_status == "original"]
    translated = [t for t in tokens if t.translation_status == "translation"]
    assert originals
    assert translated
    source_words = "".join(t.text for t in originals).split()
    assert [t.text.strip() for t in translated] == [w[::-1] for w in source_words]
    assert {t.language for t in translated} == {"es"}
    assert {t.source_language for t in translated} == {"en"}
    assert all(t.start_ms is not None and t.confidence is not None for t in translated)


def test_two_way_translation_targets_other_language() -> None:
    """Two-way translation from the spoken language to the other one, without timing live."""
    options = RecognitionOptions(
        language_hints=("fr",),
        translation={"type": "two_way", "language_a": "en", "language_b": "fr"},
    )
    finals, _ = run_stream(synth([(500, 2)]), options=options)
    translated = [t for t in finals if t.translation_status == "translation"]
    assert translated
    assert {t.language for t in translated} == {"en"}
    assert {t.source_language for t in translated} == {"fr"}
    assert all(t.start_ms is None for t in translated)


def test_translation_into_spoken_language_is_none() -> None:
    """Translating into the spoken language marks tokens 'none' and adds nothing."""
    options = RecognitionOptions(translation={"type": "one_way", "target_language": "en"})
    finals, _ = run_stream(synth([(500, 2)]), options=options)
    assert finals
    assert {t.translation_status for t in finals} == {"none"}


def test_bundled_sample_is_a_small_wav() -> None:
    """The package ships a short 16 kHz mono WAV that the default engine transcribes."""
    path = sample_path()
    assert path.read_bytes()[:4] == b"RIFF"
    assert path.stat().st_size < 200_000
    transcript = create_engine().transcribe_file(path, RecognitionOptions())
    assert 4000 <= transcript.audio_duration_ms <= 6000
    assert transcript.tokens


def test_transcribe_file_rejects_raw_pcm(tmp_path: Path) -> None:
    """A file without a container header is not decodable."""
    path = tmp_path / "a.raw"
    path.write_bytes(synth([(500, 2)]))
    with pytest.raises(AudioDecodeError):
        create_engine().transcribe_file(path, RecognitionOptions())


def test_transcribe_opaque_container_has_nominal_duration(tmp_path: Path) -> None:
    """An MP3 is treated as 16,000 bytes per second."""
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3\x04\x00" + random.Random(1).randbytes(32_000 - 5))
    transcript = create_engine().transcribe_file(path, RecognitionOptions())
    assert transcript.audio_duration_ms == 2000
    assert transcript.tokens


def test_long_file_is_fast(tmp_path: Path) -> None:
    """Ten minutes of 16 kHz audio transcribe in well under a few seconds."""
    block = synth([(1000, 1)], rate=16000)
    path = tmp_path / "long.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    size = len(block) * 600
    with path.open("wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack("<I", 16) + fmt)
        fh.write(b"data" + struct.pack("<I", size))
        for _ in range(600):
            fh.write(block)
    transcript = create_engine().transcribe_file(path, RecognitionOptions())
    assert transcript.audio_duration_ms == 600_000
    assert sum(t.text.startswith(" ") for t in transcript.tokens) == 2500  # one word per window


def test_create_engine_unknown_name() -> None:
    """Unknown engine names are refused with the valid choices."""
    with pytest.raises(ValueError, match="deterministic"):
        create_engine("whisper")


def test_create_engine_pocketsphinx_missing_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without pocketsphinx installed the error names the extra to install."""
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    monkeypatch.delitem(sys.modules, "soniox.emulator.engines.pocketsphinx_engine", raising=False)
    with pytest.raises(EngineUnavailable, match=r"soniox-transport\[emulator-asr\]"):
        create_engine("pocketsphinx")


# Streaming ------------------------------------------------------------------------------------


def test_non_final_tokens_are_revised() -> None:
    """The partial window's token changes as more of the window arrives."""
    stream = DeterministicEngine().open_stream(RAW, RecognitionOptions())
    audio = synth([(240, 1)])
    seen: list[list[str]] = []
    for i in range(0, len(audio), 40 * BYTES_PER_MS):
        stream.feed(audio[i : i + 40 * BYTES_PER_MS])
        seen.append(words(stream.take_update().non_final_tokens))
    assert len({tuple(s) for s in seen}) > 1


def test_window_becomes_final_after_lag() -> None:
    """A complete window is final once one more window of audio arrived."""
    stream = DeterministicEngine().open_stream(RAW, RecognitionOptions())
    stream.feed(synth([(240, 1)]))
    update = stream.take_update()
    assert update.final_tokens == []
    assert update.non_final_tokens
    assert (update.final_audio_proc_ms, update.total_audio_proc_ms) == (0, 240)
    stream.feed(synth([(240, 1)], seed=1))
    update = stream.take_update()
    assert update.final_tokens
    assert update.final_audio_proc_ms == 240


def test_finalize_emits_fin_and_makes_everything_final() -> None:
    """finalize: all tokens (partial window included) final, then <fin>; watermarks meet."""
    stream = DeterministicEngine().open_stream(RAW, RecognitionOptions())
    stream.feed(synth([(600, 1)]))
    stream.finalize()
    update = stream.take_update()
    assert update.final_tokens[-1].text == "<fin>"
    assert update.non_final_tokens == []
    assert update.final_audio_proc_ms == update.total_audio_proc_ms == 600


def test_finalize_before_any_audio_still_confirms() -> None:
    """A finalize with no audio yet is answered with <fin>."""
    stream = DeterministicEngine().open_stream(RAW, RecognitionOptions())
    stream.finalize()
    assert words(stream.take_update().final_tokens) == ["<fin>"]


def test_endpoint_detection_emits_end_after_silence() -> None:
    """Speech then 720 ms of silence: everything final, then <end>."""
    options = RecognitionOptions(enable_endpoint_detection=True)
    finals, marks = run_stream(
        synth([(480, 1), (800, 16)]), options=options, cuts=range(0, 99999, 640)
    )
    assert words(finals)[-1] == "<end>"
    assert words(finals).count("<end>") == 1
    assert (480 + 720) in {m.final_ms for m in marks}


def test_no_endpoint_without_speech() -> None:
    """Silence alone never produces <end>."""
    options = RecognitionOptions(enable_endpoint_detection=True)
    finals, _ = run_stream(synth([(3000, 16)]), options=options)
    assert finals == []


def test_short_pause_is_not_an_endpoint() -> None:
    """A pause shorter than the endpoint silence does not end the utterance."""
    options = RecognitionOptions(enable_endpoint_detection=True)
    finals, _ = run_stream(synth([(480, 1), (480, 16), (480, 1)]), options=options)
    assert "<end>" not in words(finals)


def test_endpoint_delay_shortens_endpoint_silence() -> None:
    """max_endpoint_delay_ms 500 ends the utterance after two silent windows."""
    options = RecognitionOptions(enable_endpoint_detection=True, max_endpoint_delay_ms=500)
    finals, _ = run_stream(synth([(480, 1), (480, 16), (480, 1)]), options=options)
    assert words(finals).count("<end>") == 1


def test_end_adds_no_special_token() -> None:
    """end(): everything final, no <fin> or <end>."""
    finals, marks = run_stream(synth([(500, 1)]))
    assert finals
    assert all(not t.text.startswith("<") for t in finals)
    assert marks[-1].final_ms == marks[-1].total_ms == 500


@settings(max_examples=40, deadline=None)
@given(segments=segments_strategy, seed=st.integers(0, 3), options=options_strategy)
def test_determinism(
    segments: list[tuple[int, int]], seed: int, options: RecognitionOptions
) -> None:
    """Two runs over the same audio yield identical finals and updates."""
    audio = synth(segments, seed)
    assert run_stream(audio, options=options) == run_stream(audio, options=options)


@settings(max_examples=60, deadline=None)
@given(
    segments=segments_strategy,
    options=options_strategy,
    cuts=st.lists(st.integers(0, 60_000), max_size=20),
    finalize_ms=st.lists(st.integers(1, 3000), max_size=2),
)
def test_chunking_independence(
    segments: list[tuple[int, int]],
    options: RecognitionOptions,
    cuts: list[int],
    finalize_ms: list[int],
) -> None:
    """Any split of the audio into frames gives the same finals (finalize points fixed)."""
    audio = synth(segments)
    finalize_at = sorted({ms * BYTES_PER_MS for ms in finalize_ms})
    reference, _ = run_stream(audio, finalize_at=finalize_at, options=options)
    odd_cuts = [c | 1 for c in cuts]  # splits inside samples too
    got, _ = run_stream(audio, cuts=odd_cuts, finalize_at=finalize_at, options=options)
    assert got == reference


@settings(max_examples=60, deadline=None)
@given(
    segments=segments_strategy,
    options=options_strategy,
    step_ms=st.integers(10, 500),
    finalize_ms=st.lists(st.integers(1, 3000), max_size=2),
)
def test_watermarks_and_finals(
    segments: list[tuple[int, int]],
    options: RecognitionOptions,
    step_ms: int,
    finalize_ms: list[int],
) -> None:
    """Watermarks never decrease, final <= total, finals come once and in time order."""
    audio = synth(segments)
    finalize_at = sorted({ms * BYTES_PER_MS for ms in finalize_ms})
    cuts = range(0, len(audio), step_ms * BYTES_PER_MS)
    finals, marks = run_stream(audio, cuts=cuts, finalize_at=finalize_at, options=options)
    for before, after in itertools.pairwise(marks):
        assert after.final_ms >= before.final_ms
        assert after.total_ms >= before.total_ms
    assert all(m.final_ms <= m.total_ms for m in marks)
    assert marks[-1].final_ms == marks[-1].total_ms == len(audio) // BYTES_PER_MS
    timed = [t for t in finals if t.start_ms is not None and t.end_ms is not None]
    for a, b in itertools.pairwise(timed):
        assert a.end_ms is not None
        assert b.start_ms is not None
        assert a.end_ms <= b.start_ms, "a final token was repeated or went back in time"


@settings(max_examples=80, deadline=None)
@given(
    segments=segments_strategy,
    options=options_strategy,
    step_ms=st.integers(20, 400),
    finalize_ms=st.lists(st.integers(1, 3000), max_size=2),
    pick=st.integers(0, 10_000),
)
def test_resume_from_final_watermark_is_exact(
    segments: list[tuple[int, int]],
    options: RecognitionOptions,
    step_ms: int,
    finalize_ms: list[int],
    pick: int,
) -> None:
    """Resuming from any final watermark W reproduces the original finals after W, shifted by W."""
    audio = synth(segments, seed=7)
    finalize_at = sorted({ms * BYTES_PER_MS for ms in finalize_ms})
    cuts = range(0, len(audio), step_ms * BYTES_PER_MS)
    finals, marks = run_stream(audio, cuts=cuts, finalize_at=finalize_at, options=options)
    mark = marks[pick % len(marks)]
    offset = mark.final_ms * BYTES_PER_MS
    rest_cuts = [c - offset for c in cuts if c > offset]
    rest_finalize = [f - offset for f in finalize_at[mark.finalizes :]]
    resumed, _ = run_stream(
        audio[offset:], cuts=rest_cuts, finalize_at=rest_finalize, options=options
    )
    assert shifted(resumed, mark.final_ms) == finals[mark.finals :]


@pytest.mark.parametrize("endpointing", [True, False])
def test_resume_from_every_watermark_across_a_pause(endpointing: bool) -> None:
    """Every watermark of speech / endpoint-length pause / speech is an exact resume point."""
    audio = synth([(500, 1), (1000, 16), (700, 2), (300, 16), (240, 0)], seed=11)
    options = RecognitionOptions(enable_endpoint_detection=endpointing)
    cuts = range(0, len(audio), 60 * BYTES_PER_MS)
    finals, marks = run_stream(audio, cuts=cuts, options=options)
    assert ("<end>" in words(finals)) == endpointing
    for mark in marks:
        offset = mark.final_ms * BYTES_PER_MS
        rest = [c - offset for c in cuts if c > offset]
        resumed, _ = run_stream(audio[offset:], cuts=rest, options=options)
        assert shifted(resumed, mark.final_ms) == finals[mark.finals :], mark
