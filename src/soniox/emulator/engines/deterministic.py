"""The default recognition engine: no model, but the same audio always yields the same tokens.

How audio becomes tokens:

* Audio is cut into fixed windows (``window_ms``, default 240 ms) counted from the start of the
  current *segment*. A segment starts at the beginning of the stream and again after every
  ``finalize`` request and every detected endpoint.
* A window whose RMS (over every ``rate // 4000``-th sample) is below ``silence_rms`` is silence
  and yields nothing. Any other window yields one word from :data:`VOCABULARY`, chosen by a
  BLAKE2b hash of the window's samples; words of 7+ letters are split into two sub-word tokens
  (``" hel"`` + ``"lo"``) that share the window's time span. Tokens carry a leading space like
  the real API. Confidence (0.50-0.99) comes from the same hash; the speaker (diarization) is
  ``"1"`` for windows quieter than ``speaker_rms`` and ``"2"`` otherwise; the language
  (language identification or translation) is the first language hint, or ``"en"``.
* Streaming: a complete window becomes final once ``finality_lag_ms`` (default: one window) of
  further audio has arrived; the in-progress window yields a non-final token computed from the
  samples it has so far, so non-final tokens change from one response to the next.
  ``final_audio_proc_ms`` is the end of the last finalized audio, ``total_audio_proc_ms`` the
  audio received.
* Endpoint detection: after speech, a run of silent windows lasting the *endpoint silence*
  (``min(max_endpoint_delay_ms, endpoint_cap_ms)`` rounded to whole windows, at least one;
  720 ms = 3 windows by default) finalizes everything and emits ``<end>``. While such a run is
  still possible the windows from the last speech window on stay non-final, so every final
  watermark is a point where a fresh recognizer would be in the same state.
* ``finalize()`` makes everything final (including the partial window, recognized from its
  partial samples), emits ``<fin>`` and restarts segmentation; ``end()`` does the same without
  a special token.
* Translation (``one_way`` / ``two_way``): original tokens are marked
  ``translation_status: "original"``; after each finished *sentence* (endpoint, finalize, end,
  or an endpoint-length silence after speech) the sentence's final words are emitted again as
  ``"translation"`` tokens whose text is the word spelled backwards (a pseudo-translation),
  with ``language`` = target and ``source_language``. Realtime translation tokens carry no
  timing; in file transcripts (where the schema requires them) they carry the source word's
  span and confidence. When the target equals the source language tokens are ``"none"``.

Because a token depends only on its own window, and windows are aligned to the segment start,
a stream resumed from any final watermark ``W`` (sent the audio from ``W`` on) yields exactly
the original tokens after ``W``, shifted by ``W`` — as long as ``W`` falls on a whole sample,
which window boundaries do whenever ``window_ms * rate`` is a multiple of 1000.
"""

from __future__ import annotations

import hashlib
import math
import operator
from array import array
from collections import deque
from pathlib import Path
from typing import Any, Final

import attrs

from soniox.emulator.audio import decoder_for_stream, iter_file_samples, samples_to_bytes

from .base import (
    AudioDecodeError,
    FileTranscript,
    RecognitionOptions,
    RecognizedToken,
    StreamFormat,
    StreamUpdate,
)
from .translation import pseudo_translate, translation_for

__all__ = [
    "VOCABULARY",
    "DeterministicEngine",
    "DeterministicStream",
    "EngineParams",
    "WindowRecognizer",
]

VOCABULARY: Final[tuple[str, ...]] = (
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other", "about",
    "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like", "him",
    "into", "time", "has", "look", "two", "more", "write", "go", "see", "number", "no", "way",
    "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil", "its",
    "now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "over",
    "new", "sound", "take", "only", "little", "work", "know", "place", "year", "live", "back",
    "give", "most", "very", "after", "thing", "our", "just", "name", "good", "sentence", "man",
    "think", "say", "great", "where", "help", "through", "much", "before", "line", "right",
    "too", "mean", "old", "any", "same", "tell", "boy", "follow", "came", "want", "show",
    "also", "around", "form", "three", "small", "set", "put", "end", "does", "another", "well",
    "large", "must", "big", "even", "such", "because", "turn", "here", "why", "ask", "went",
    "men", "read", "need", "land", "different", "home", "us", "move", "try", "kind", "hand",
    "picture", "again", "change", "off", "play", "spell", "air", "away", "animal", "house",
    "point", "page", "letter", "mother", "answer", "found", "study", "still", "learn", "should",
    "america", "world", "hello", "transcription", "microphone", "weather", "tomorrow",
    "emulator", "streaming", "recognition", "language", "morning", "evening", "question",
    "together", "important", "remember", "beautiful", "computer", "telephone", "yesterday",
    "everything", "something", "understand", "information", "conversation", "thank", "please",
    "okay", "yes", "maybe", "today", "meeting", "project", "customer", "service", "support",
)  # fmt: skip
"""Words the engine can "hear" (lower-case; long ones are split into two sub-word tokens)."""

_HASH_PERSON: Final = b"soniox-emu"
_SPLIT_MIN_LETTERS: Final = 7
_RMS_SAMPLES_PER_SECOND: Final = 4000


@attrs.frozen(kw_only=True)
class EngineParams:
    """Tuning of the deterministic engine (all in milliseconds or s16 RMS units)."""

    window_ms: int = attrs.field(default=240, validator=attrs.validators.gt(0))
    finality_lag_ms: int | None = None
    """Audio that must follow a window before it is final; ``None``: one window."""
    silence_rms: float = 200.0
    speaker_rms: float = 2500.0
    endpoint_cap_ms: int = 720
    """The endpoint silence is ``min(max_endpoint_delay_ms, endpoint_cap_ms)``."""
    vocabulary: tuple[str, ...] = VOCABULARY

    def endpoint_windows(self, max_endpoint_delay_ms: int) -> int:
        silence_ms = min(max_endpoint_delay_ms, self.endpoint_cap_ms)
        return max(1, math.floor(silence_ms / self.window_ms + 0.5))


@attrs.define
class _Window:
    start: int
    end: int
    tokens: list[RecognizedToken]
    speech: bool


def _rms(samples: array[int], rate: int) -> float:
    if not samples:
        return 0.0
    step = max(1, rate // _RMS_SAMPLES_PER_SECOND)
    picked = samples[::step] if step > 1 else samples
    return math.sqrt(sum(map(operator.mul, picked, picked)) / len(picked))


class WindowRecognizer:
    """The engine's core over mono s16 samples at a known rate (sans decoding, sans I/O).

    ``push`` samples, call ``finalize`` / ``end``; ``take_update`` returns what changed. Times
    are computed from absolute sample positions, so nothing drifts over long streams.
    """

    def __init__(
        self,
        rate: int,
        options: RecognitionOptions,
        params: EngineParams | None = None,
        *,
        timed_translations: bool = False,
    ) -> None:
        self.params = params or EngineParams()
        self.rate = rate
        self.options = options
        self._window = max(1, rate * self.params.window_ms // 1000)
        lag_ms = self.params.finality_lag_ms
        self._lag = self._window if lag_ms is None else rate * lag_ms // 1000
        self._endpointing = options.enable_endpoint_detection
        self._endpoint_windows = self.params.endpoint_windows(options.max_endpoint_delay_ms)
        self._language = options.language_hints[0] if options.language_hints else "en"
        self._translation = translation_for(options, self._language)
        self._tag_language = options.enable_language_identification or bool(options.translation)
        if self._translation is None:
            self._status = "none" if options.translation else None
        else:
            self._status = "original" if self._translation.active else "none"
        self._timed_translations = timed_translations
        self._buf = array("h")
        self._buf_start = 0
        self._pos = 0
        self._final_pos = 0
        self._pending: deque[_Window] = deque()
        self._out: list[RecognizedToken] = []
        self._sentence: list[RecognizedToken] = []
        self._speech_seen = False
        self._quiet_run = 0
        self._ended = False

    def __repr__(self) -> str:
        return (
            f"WindowRecognizer({self.rate} Hz, window={self._window} samples, "
            f"final={self.final_ms} ms, total={self.total_ms} ms, pending={len(self._pending)})"
        )

    # Positions ---------------------------------------------------------------------------------
    def _ms(self, sample: int) -> int:
        return sample * 1000 // self.rate

    @property
    def total_ms(self) -> int:
        return self._ms(self._pos)

    @property
    def final_ms(self) -> int:
        return self._ms(self._final_pos)

    @property
    def total_samples(self) -> int:
        return self._pos

    # Input -------------------------------------------------------------------------------------
    def push(self, samples: array[int]) -> None:
        """Append audio; completes windows and advances finality."""
        if self._ended or not samples:
            return
        self._pos += len(samples)
        i, n, size = 0, len(samples), self._window
        while i < n:
            room = size - len(self._buf)
            if not self._buf and n - i >= size:
                chunk = samples[i : i + size]
                i += size
                self._complete(chunk)
                continue
            self._buf.extend(samples[i : i + room])
            i += room
            if len(self._buf) == size:
                chunk, self._buf = self._buf, array("h")
                self._complete(chunk)
        self._advance_finality()

    def finalize(self) -> None:
        """Everything so far becomes final, then ``<fin>``; segmentation restarts here."""
        if self._ended:
            return
        self._finish_all()
        self._out.append(RecognizedToken(text="<fin>"))

    def end(self) -> None:
        """End of audio: everything becomes final; no special token."""
        if self._ended:
            return
        self._finish_all()
        self._ended = True

    def take_update(self) -> StreamUpdate:
        """New finals since the last call, the current non-finals, and both watermarks."""
        finals, self._out = self._out, []
        non_final: list[RecognizedToken] = []
        for window in self._pending:
            non_final.extend(window.tokens)
        if self._buf:
            non_final.extend(self._recognize(self._buf, self._buf_start)[0])
        return StreamUpdate(finals, non_final, self.final_ms, self.total_ms)

    # Windows -----------------------------------------------------------------------------------
    def _complete(self, chunk: array[int]) -> None:
        start = self._buf_start
        self._buf_start = start + len(chunk)
        tokens, speech = self._recognize(chunk, start)
        self._pending.append(_Window(start, self._buf_start, tokens, speech))
        if speech:
            self._speech_seen = True
            self._quiet_run = 0
            return
        if not self._speech_seen:
            return
        self._quiet_run += 1
        if self._quiet_run < self._endpoint_windows:
            return
        self._speech_seen = False
        self._quiet_run = 0
        if self._endpointing:
            self._finalize_pending(len(self._pending))
            self._flush_sentence()
            self._out.append(RecognizedToken(text="<end>"))
        else:
            self._advance_finality()
            self._flush_sentence()

    def _advance_finality(self) -> None:
        limit = self._pos - self._lag
        hold = len(self._pending)
        if self._endpointing and self._speech_seen:
            # Keep the last speech window (and the silence after it) open until speech goes
            # on or the endpoint fires: a resumed stream then starts in the same state.
            hold = max((i for i, w in enumerate(self._pending) if w.speech), default=hold)
        count = 0
        for window in self._pending:
            if count >= hold or window.end > limit:
                break
            count += 1
        self._finalize_pending(count)

    def _finalize_pending(self, count: int) -> None:
        for _ in range(count):
            window = self._pending.popleft()
            self._out.extend(window.tokens)
            if self._translation is not None:
                self._sentence.extend(window.tokens)
            self._final_pos = window.end

    def _finish_all(self) -> None:
        self._finalize_pending(len(self._pending))
        if self._buf:
            tokens, _ = self._recognize(self._buf, self._buf_start)
            self._out.extend(tokens)
            if self._translation is not None:
                self._sentence.extend(tokens)
            self._buf = array("h")
        self._buf_start = self._final_pos = self._pos
        self._speech_seen = False
        self._quiet_run = 0
        self._flush_sentence()

    # Tokens ------------------------------------------------------------------------------------
    def _recognize(self, samples: array[int], start: int) -> tuple[list[RecognizedToken], bool]:
        rms = _rms(samples, self.rate)
        if rms < self.params.silence_rms:
            return [], False
        digest = hashlib.blake2b(
            samples_to_bytes(samples), digest_size=16, person=_HASH_PERSON
        ).digest()
        h = int.from_bytes(digest, "big")
        vocabulary = self.params.vocabulary
        word = vocabulary[h % len(vocabulary)]
        end = start + len(samples)
        common: dict[str, Any] = {}
        if self.options.enable_speaker_diarization:
            common["speaker"] = "1" if rms < self.params.speaker_rms else "2"
        if self._tag_language:
            common["language"] = self._language
        if self._status is not None:
            common["translation_status"] = self._status
        confidence = 0.5 + ((h >> 64) % 50) / 100
        if len(word) < _SPLIT_MIN_LETTERS:
            token = RecognizedToken(
                text=" " + word,
                start_ms=self._ms(start),
                end_ms=self._ms(end),
                confidence=round(confidence, 2),
                **common,
            )
            return [token], True
        cut = len(word) // 2
        mid = start + len(samples) * cut // len(word)
        second = 0.5 + ((h >> 72) % 50) / 100
        return [
            RecognizedToken(
                text=" " + word[:cut],
                start_ms=self._ms(start),
                end_ms=self._ms(mid),
                confidence=round(confidence, 2),
                **common,
            ),
            RecognizedToken(
                text=word[cut:],
                start_ms=self._ms(mid),
                end_ms=self._ms(end),
                confidence=round(second, 2),
                **common,
            ),
        ], True

    def _flush_sentence(self) -> None:
        sentence, self._sentence = self._sentence, []
        if self._translation is None or self._status != "original" or not sentence:
            return
        self._out.extend(
            pseudo_translate(sentence, self._translation, timed=self._timed_translations)
        )


class DeterministicStream:
    """A realtime stream: decode the configured format, then run a :class:`WindowRecognizer`."""

    def __init__(
        self, fmt: StreamFormat, options: RecognitionOptions, params: EngineParams
    ) -> None:
        self._decoder = decoder_for_stream(fmt)
        self._options = options
        self._params = params
        self._core: WindowRecognizer | None = None
        self._pending_final = False

    def __repr__(self) -> str:
        return f"DeterministicStream({self._decoder!r}, {self._core!r})"

    def _push(self, samples: array[int]) -> None:
        rate = self._decoder.sample_rate
        if not samples or rate is None:
            return
        if self._core is None:
            self._core = WindowRecognizer(rate, self._options, self._params)
        self._core.push(samples)

    def feed(self, data: bytes) -> None:
        if data:
            self._push(self._decoder.decode(data))

    def finalize(self) -> None:
        if self._core is None:
            # Nothing decodable yet: still confirm the request.
            self._pending_final = True
            return
        self._core.finalize()

    def end(self) -> None:
        self._push(self._decoder.finish())
        if self._core is not None:
            self._core.end()

    def take_update(self) -> StreamUpdate:
        if self._core is None:
            finals = [RecognizedToken(text="<fin>")] if self._pending_final else []
            self._pending_final = False
            return StreamUpdate(finals, [], 0, 0)
        update = self._core.take_update()
        if self._pending_final:
            self._pending_final = False
            update = StreamUpdate(
                [RecognizedToken(text="<fin>"), *update.final_tokens],
                update.non_final_tokens,
                update.final_audio_proc_ms,
                update.total_audio_proc_ms,
            )
        return update

    @property
    def audio_ms(self) -> int:
        return 0 if self._core is None else self._core.total_ms


class DeterministicEngine:
    """Same audio, same tokens: the emulator's default engine (see the module docstring)."""

    name = "deterministic"

    def __init__(self, params: EngineParams | None = None) -> None:
        self.params = params or EngineParams()

    def __repr__(self) -> str:
        return f"DeterministicEngine(window_ms={self.params.window_ms})"

    def transcribe_file(self, path: Path, options: RecognitionOptions) -> FileTranscript:
        """Stream over the file (flat memory) and return every token, translations included."""
        options = attrs.evolve(options, enable_endpoint_detection=False)
        core: WindowRecognizer | None = None
        tokens: list[RecognizedToken] = []
        for info, samples in iter_file_samples(path):
            if core is None:
                core = WindowRecognizer(
                    info.sample_rate, options, self.params, timed_translations=True
                )
            core.push(samples)
            tokens.extend(core.take_update().final_tokens)
        if core is None:
            raise AudioDecodeError("the audio file has no audio data")
        core.end()
        tokens.extend(core.take_update().final_tokens)
        return FileTranscript(tokens, core.total_ms)

    def open_stream(self, fmt: StreamFormat, options: RecognitionOptions) -> DeterministicStream:
        return DeterministicStream(fmt, options, self.params)
