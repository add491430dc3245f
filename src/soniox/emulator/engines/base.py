"""The recognition-engine interface shared by async transcription and realtime sessions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from soniox.emulator.audio_format import AudioDecodeError, StreamFormat

__all__ = [
    "AudioDecodeError",
    "FileTranscript",
    "RecognitionEngine",
    "RecognitionOptions",
    "RecognizedToken",
    "StreamFormat",
    "StreamRecognizer",
    "StreamUpdate",
]


@attrs.frozen(kw_only=True)
class RecognitionOptions:
    """The parts of a create-transcription request or realtime config that shape the tokens."""

    model: str = ""
    language_hints: tuple[str, ...] = ()
    enable_speaker_diarization: bool = False
    enable_language_identification: bool = False
    translation: Mapping[str, Any] | None = None
    enable_endpoint_detection: bool = False
    max_endpoint_delay_ms: int = 2000


@attrs.frozen(kw_only=True)
class RecognizedToken:
    """One token. Special tokens (``<end>``, ``<fin>``) carry ``text`` only."""

    text: str
    start_ms: int | None = None
    end_ms: int | None = None
    confidence: float | None = None
    speaker: str | None = None
    language: str | None = None
    translation_status: str | None = None
    source_language: str | None = None
    is_audio_event: bool | None = None

    def to_json(self, *, is_final: bool | None = None) -> dict[str, Any]:
        """Wire form: unset optional fields omitted; ``is_final`` added for realtime."""
        out: dict[str, Any] = {"text": self.text}
        for name in (
            "start_ms",
            "end_ms",
            "confidence",
            "speaker",
            "language",
            "translation_status",
            "source_language",
            "is_audio_event",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if is_final is not None:
            out["is_final"] = is_final
        return out


@attrs.frozen
class FileTranscript:
    """An async job's result: the same tokens a stream of the same audio makes final."""

    tokens: list[RecognizedToken]
    audio_duration_ms: int

    @property
    def text(self) -> str:
        """The transcript's ``text``: the tokens joined, starting with the first word (the REST
        answer also drops the first token's leading space, as the API's example shows)."""
        return "".join(t.text for t in self.tokens if not t.text.startswith("<")).lstrip()


@attrs.frozen
class StreamUpdate:
    """What changed since the last update: newly final tokens (each sent exactly once), the
    current non-final tokens (replace the previous ones), and both watermarks."""

    final_tokens: list[RecognizedToken]
    non_final_tokens: list[RecognizedToken]
    final_audio_proc_ms: int
    total_audio_proc_ms: int


class StreamRecognizer(Protocol):
    def feed(self, data: bytes) -> None:
        """Raw audio bytes in the session's format (any chunking)."""
        ...

    def finalize(self) -> None:
        """Make everything heard so far final, then emit a ``<fin>`` token."""
        ...

    def end(self) -> None:
        """End of audio: everything becomes final (no ``<fin>``)."""
        ...

    def take_update(self) -> StreamUpdate: ...

    @property
    def audio_ms(self) -> int:
        """Audio received so far, in milliseconds."""
        ...


class RecognitionEngine(Protocol):
    name: str

    def transcribe_file(self, path: Path, options: RecognitionOptions) -> FileTranscript:
        """Whole-file recognition for async jobs; raises :class:`AudioDecodeError`."""
        ...

    def open_stream(self, fmt: StreamFormat, options: RecognitionOptions) -> StreamRecognizer:
        """A streaming recognizer; raises :class:`AudioDecodeError` for unusable formats."""
        ...
