"""A real (small, offline, English-only) recognizer for the emulator, built on PocketSphinx 5.

Installed with the extra ``soniox-transport[emulator-asr]``; selected with
``EmulatorConfig(engine="pocketsphinx")``. It uses PocketSphinx's bundled US-English model
(``get_model_path()``) at 16 kHz; other sample rates are resampled linearly.

Utterances are cut on silence with a 10 ms-frame RMS detector: an utterance starts at the first
loud frame (with 200 ms of pre-roll) and ends after a silence run (``min(max_endpoint_delay_ms,
utterance_silence_ms)``; at most 30 s of speech per utterance). Files decode each utterance in
one pass (``full_utt``, so cepstral normalisation sees the whole utterance); streams decode
live, show the partial hypothesis as non-final tokens, and make tokens final when the
utterance ends (then ``<end>`` with endpoint detection), on ``finalize`` (then ``<fin>``) and
at the end of the stream. Words come from ``Decoder.seg()`` (frames of 10 ms), without
``<s>``, ``</s>``, ``<sil>`` and noise fillers; confidence is the segment's posterior. Speaker
(diarization) is always ``"1"`` and language ``"en"``; translation uses the emulator's
pseudo-translation (see ``translation.py``).
"""

from __future__ import annotations

import importlib
import threading
from array import array
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, cast

from soniox.emulator.audio import decoder_for_stream, iter_file_samples, samples_to_bytes

from .base import (
    AudioDecodeError,
    FileTranscript,
    RecognitionOptions,
    RecognizedToken,
    StreamFormat,
    StreamUpdate,
)
from .translation import Translation, pseudo_translate, translation_for

__all__ = ["LinearResampler", "PocketsphinxEngine", "PocketsphinxStream"]

# Imported by name so type checkers need not see the optional dependency; an ImportError here
# tells create_engine() that the extra is missing.
_pocketsphinx: Any = importlib.import_module("pocketsphinx")

_RATE = 16_000
_FRAME = 160  # 10 ms at 16 kHz: PocketSphinx's frame rate, and our silence detector's
_FRAME_MS = 10
_PREROLL_FRAMES = 20
_MAX_UTTERANCE_FRAMES = 3000  # 30 s


class _Segment(Protocol):
    word: str
    start_frame: int
    end_frame: int
    prob: float


class _Hypothesis(Protocol):
    hypstr: str


class _Decoder(Protocol):
    def start_utt(self) -> None: ...
    def process_raw(self, data: bytes, no_search: bool = False, full_utt: bool = False) -> int: ...
    def end_utt(self) -> None: ...
    def hyp(self) -> _Hypothesis | None: ...
    def seg(self) -> Iterable[_Segment]: ...


def _new_decoder() -> _Decoder:
    return cast(_Decoder, _pocketsphinx.Decoder(samprate=_RATE, loglevel="FATAL"))


class _DecoderPool:
    """Loading the model takes a few hundred ms: keep finished decoders for the next stream."""

    def __init__(self, limit: int = 4) -> None:
        self._lock = threading.Lock()
        self._free: list[_Decoder] = []
        self._limit = limit

    def acquire(self) -> _Decoder:
        with self._lock:
            if self._free:
                return self._free.pop()
        return _new_decoder()

    def release(self, decoder: _Decoder) -> None:
        with self._lock:
            if len(self._free) < self._limit:
                self._free.append(decoder)


class LinearResampler:
    """Streaming linear-interpolation resampler to 16 kHz (state kept across blocks)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._step = rate / _RATE
        self._pos = 0.0  # position of the next output sample, in input samples from _prev
        self._prev: int | None = None

    def process(self, samples: array[int]) -> array[int]:
        if self.rate == _RATE:
            return samples
        out = array("h")
        if not samples:
            return out
        # Work on [prev] + samples so interpolation can straddle block boundaries.
        block = samples if self._prev is None else array("h", [self._prev]) + samples
        last = len(block) - 1
        pos, step = self._pos, self._step
        while pos < last:
            i = int(pos)
            frac = pos - i
            a = block[i]
            out.append(int(a + (block[i + 1] - a) * frac))
            pos += step
        self._pos = pos - last
        self._prev = block[last]
        return out


def _word_tokens(
    segments: Iterable[_Segment], offset_ms: int, common: dict[str, Any]
) -> list[RecognizedToken]:
    tokens: list[RecognizedToken] = []
    for seg in segments:
        word = seg.word
        if word.startswith(("<", "[", "+")) or not word:
            continue
        word = word.split("(", 1)[0]
        confidence = min(1.0, max(0.0, float(seg.prob)))
        tokens.append(
            RecognizedToken(
                text=" " + word,
                start_ms=offset_ms + seg.start_frame * _FRAME_MS,
                end_ms=offset_ms + (seg.end_frame + 1) * _FRAME_MS,
                confidence=round(confidence, 3),
                **common,
            )
        )
    return tokens


def _frame_loud(frame: array[int], threshold: float) -> bool:
    total = 0
    for x in frame[::4]:
        total += x * x
    return total / max(1, len(frame) // 4) >= threshold * threshold


class _Utterances:
    """The shared core: 16 kHz samples in, utterances cut on silence, tokens out."""

    def __init__(
        self,
        decoder: _Decoder,
        options: RecognitionOptions,
        *,
        live: bool,
        silence_rms: float,
        utterance_silence_ms: int,
    ) -> None:
        self._decoder = decoder
        self._live = live
        self._silence_rms = silence_rms
        silence_ms = min(options.max_endpoint_delay_ms, utterance_silence_ms)
        self._silence_frames = max(1, silence_ms // _FRAME_MS)
        self._endpointing = options.enable_endpoint_detection
        self._common: dict[str, Any] = {}
        if options.enable_speaker_diarization:
            self._common["speaker"] = "1"
        if options.enable_language_identification or options.translation:
            self._common["language"] = "en"
        self._translation: Translation | None = translation_for(options, "en")
        if options.translation:
            active = self._translation is not None and self._translation.active
            self._common["translation_status"] = "original" if active else "none"
        self._timed_translations = not live
        self._rest = array("h")
        self._frames = 0  # frames consumed
        self._preroll: deque[array[int]] = deque(maxlen=_PREROLL_FRAMES)
        self._in_utt = False
        self._utt_start = 0  # frame index
        self._utt_frames = 0
        self._utt_audio = bytearray()  # batch mode only
        self._quiet = 0
        self._final_frames = 0
        self.out: list[RecognizedToken] = []

    @property
    def final_ms(self) -> int:
        return self._final_frames * _FRAME_MS

    @property
    def total_ms(self) -> int:
        return self._frames * _FRAME_MS

    def push(self, samples: array[int]) -> None:
        data = self._rest + samples if self._rest else samples
        whole = len(data) - len(data) % _FRAME
        self._rest = data[whole:]
        live_bytes: list[bytes] = []
        for start in range(0, whole, _FRAME):
            frame = data[start : start + _FRAME]
            self._frames += 1
            loud = _frame_loud(frame, self._silence_rms)
            if not self._in_utt:
                self._preroll.append(frame)
                if not loud:
                    self._final_frames = self._frames
                    continue
                self._begin()
                for pre in self._preroll:
                    live_bytes.append(self._take(pre))
                self._preroll.clear()
                continue
            live_bytes.append(self._take(frame))
            self._quiet = 0 if loud else self._quiet + 1
            if self._quiet >= self._silence_frames or self._utt_frames >= _MAX_UTTERANCE_FRAMES:
                self._process(live_bytes)
                live_bytes = []
                self._finish_utterance(endpoint=self._endpointing)
        self._process(live_bytes)

    def _begin(self) -> None:
        self._in_utt = True
        self._utt_start = self._frames - len(self._preroll)
        self._utt_frames = 0
        self._quiet = 0
        self._decoder.start_utt()

    def _take(self, frame: array[int]) -> bytes:
        self._utt_frames += 1
        data = samples_to_bytes(frame)
        if not self._live:
            self._utt_audio += data
        return data

    def _process(self, chunks: list[bytes]) -> None:
        if chunks and self._live and self._in_utt:
            self._decoder.process_raw(b"".join(chunks))

    def _finish_utterance(self, *, endpoint: bool = False) -> None:
        if not self._in_utt:
            return
        decoder = self._decoder
        if not self._live:
            decoder.process_raw(bytes(self._utt_audio), full_utt=True)
            self._utt_audio.clear()
        decoder.end_utt()
        tokens = _word_tokens(decoder.seg(), self._utt_start * _FRAME_MS, self._common)
        self._in_utt = False
        self._final_frames = self._frames
        self.out.extend(tokens)
        if self._translation is not None and self._translation.active and tokens:
            self.out.extend(
                pseudo_translate(tokens, self._translation, timed=self._timed_translations)
            )
        if endpoint and tokens:
            self.out.append(RecognizedToken(text="<end>"))

    def partial(self) -> list[RecognizedToken]:
        if not self._in_utt or not self._live:
            return []
        segments = [s for s in self._decoder.seg() if s.end_frame >= s.start_frame]
        return _word_tokens(segments, self._utt_start * _FRAME_MS, self._common)

    def flush(self) -> None:
        """Make everything final (``finalize`` / end of stream)."""
        if self._rest:
            pad = array("h", bytes(2 * (_FRAME - len(self._rest))))
            self.push(pad)  # complete the last 10 ms frame with silence
        self._finish_utterance()
        self._final_frames = self._frames
        self._preroll.clear()


class PocketsphinxStream:
    """A realtime stream decoded live by PocketSphinx."""

    def __init__(
        self,
        fmt: StreamFormat,
        options: RecognitionOptions,
        pool: _DecoderPool,
        params: dict[str, Any],
    ) -> None:
        self._audio = decoder_for_stream(fmt)
        self._options = options
        self._pool = pool
        self._params = params
        self._decoder: _Decoder | None = None
        self._core: _Utterances | None = None
        self._resampler: LinearResampler | None = None
        self._last_partial: list[RecognizedToken] = []
        self._fin_pending = False
        self._ended = False

    def __repr__(self) -> str:
        return f"PocketsphinxStream({self._audio!r}, audio_ms={self.audio_ms})"

    def _push(self, samples: array[int]) -> None:
        rate = self._audio.sample_rate
        if rate is None or not samples:
            return
        if self._core is None:
            self._decoder = self._pool.acquire()
            self._resampler = LinearResampler(rate)
            self._core = _Utterances(self._decoder, self._options, live=True, **self._params)
        assert self._resampler is not None
        self._core.push(self._resampler.process(samples))

    def feed(self, data: bytes) -> None:
        if data and not self._ended:
            self._push(self._audio.decode(data))

    def finalize(self) -> None:
        if self._ended:
            return
        if self._core is not None:
            self._core.flush()
            self._core.out.append(RecognizedToken(text="<fin>"))
        else:
            self._fin_pending = True

    def end(self) -> None:
        if self._ended:
            return
        self._push(self._audio.finish())
        if self._core is not None:
            self._core.flush()
        self._ended = True
        if self._decoder is not None:
            self._pool.release(self._decoder)

    def take_update(self) -> StreamUpdate:
        if self._core is None:
            finals = [RecognizedToken(text="<fin>")] if self._fin_pending else []
            self._fin_pending = False
            return StreamUpdate(finals, [], 0, 0)
        finals, self._core.out = self._core.out, []
        if self._fin_pending:
            finals.insert(0, RecognizedToken(text="<fin>"))
            self._fin_pending = False
        partial = [] if self._ended else self._core.partial()
        return StreamUpdate(finals, partial, self._core.final_ms, self._core.total_ms)

    @property
    def audio_ms(self) -> int:
        return 0 if self._core is None else self._core.total_ms


class PocketsphinxEngine:
    """Real words, offline: PocketSphinx's US-English model (see the module docstring)."""

    name = "pocketsphinx"
    isolate_file_jobs = True
    """Its decoder holds the GIL for a whole utterance (up to 30 s): async jobs run it in a
    child process (``file_worker.py``) so the server keeps answering and can be stopped."""

    def __init__(self, *, silence_rms: float = 300.0, utterance_silence_ms: int = 500) -> None:
        self._pool = _DecoderPool()
        self._params: dict[str, Any] = {
            "silence_rms": silence_rms,
            "utterance_silence_ms": utterance_silence_ms,
        }

    def __repr__(self) -> str:
        return f"PocketsphinxEngine(model={_pocketsphinx.get_model_path()!r})"

    def transcribe_file(self, path: Path, options: RecognitionOptions) -> FileTranscript:
        options = RecognitionOptions(
            model=options.model,
            language_hints=options.language_hints,
            enable_speaker_diarization=options.enable_speaker_diarization,
            enable_language_identification=options.enable_language_identification,
            translation=options.translation,
        )
        decoder = self._pool.acquire()
        core: _Utterances | None = None
        resampler: LinearResampler | None = None
        tokens: list[RecognizedToken] = []
        try:
            for info, samples in iter_file_samples(path):
                if core is None or resampler is None:
                    resampler = LinearResampler(info.sample_rate)
                    core = _Utterances(decoder, options, live=False, **self._params)
                core.push(resampler.process(samples))
                tokens.extend(core.out)
                core.out = []
            if core is None:
                raise AudioDecodeError("the audio file has no audio data")
            core.flush()
            tokens.extend(core.out)
            return FileTranscript(tokens, core.total_ms)
        finally:
            self._pool.release(decoder)

    def open_stream(self, fmt: StreamFormat, options: RecognitionOptions) -> PocketsphinxStream:
        return PocketsphinxStream(fmt, options, self._pool, self._params)
