"""Async transcriptions: the job, its create request, and its transcript.

Transcript tokens are :class:`msgspec.Struct` values, not attrs classes, on purpose: a long
recording yields hundreds of thousands of them, and a GC-untracked Struct decoded straight from
the response bytes parses about 3x faster than json.loads and in about half its memory, where any
attrs class cannot beat json.loads itself (see docs/performance.md). They behave like the attrs
models (frozen, keyword-only, value equality); use :func:`msgspec.structs.replace` instead of
``attrs.evolve`` to derive a changed copy.
"""

from __future__ import annotations

from typing import Self

import attrs
import msgspec

from .common import OpenStrEnum, UtcDateTime, mask_secret, omit_none

__all__ = [
    "TranscriptionStatus",
    "TranslationType",
    "TranslationStatus",
    "TranslationConfig",
    "StructuredContextGeneralItem",
    "StructuredContextTranslationTerm",
    "StructuredContext",
    "CreateTranscriptionPayload",
    "Transcription",
    "GetTranscriptionsPayload",
    "GetTranscriptionsResponse",
    "GetTranscriptionsCountResponse",
    "TranscriptionTranscriptToken",
    "TranscriptionTranscript",
]


class TranscriptionStatus(OpenStrEnum):
    """Job lifecycle: ``queued`` → ``processing`` → ``completed`` | ``error``."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERROR = "error"

    @property
    def is_terminal(self) -> bool:
        """True once the job will not change any more (polling can stop)."""
        return self in (TranscriptionStatus.COMPLETED, TranscriptionStatus.ERROR)


class TranslationType(OpenStrEnum):
    """One-way (everything into one language) or two-way (between a pair)."""

    ONE_WAY = "one_way"
    TWO_WAY = "two_way"


class TranslationStatus(OpenStrEnum):
    """Per token when translating: spoken text (``original``) or its ``translation``."""

    NONE = "none"
    ORIGINAL = "original"
    TRANSLATION = "translation"


@omit_none
@attrs.define(frozen=True, kw_only=True)
class TranslationConfig:
    """``translation`` of a request; build it with :meth:`one_way` or :meth:`two_way`."""

    type: TranslationType
    target_language: str | None = None
    language_a: str | None = None
    language_b: str | None = None

    @classmethod
    def one_way(cls, target_language: str) -> Self:
        """Translate all speech into ``target_language``."""
        return cls(type=TranslationType.ONE_WAY, target_language=target_language)

    @classmethod
    def two_way(cls, language_a: str, language_b: str) -> Self:
        """Translate speech in either language into the other."""
        return cls(type=TranslationType.TWO_WAY, language_a=language_a, language_b=language_b)


@attrs.define(frozen=True, kw_only=True)
class StructuredContextGeneralItem:
    """A key/value hint about the audio, e.g. ``Domain`` = ``medicine``."""

    key: str
    value: str


@attrs.define(frozen=True, kw_only=True)
class StructuredContextTranslationTerm:
    """How to translate one term."""

    source: str
    target: str


@omit_none
@attrs.define(frozen=True, kw_only=True)
class StructuredContext:
    """Context that biases recognition (``context`` of async and realtime requests)."""

    general: list[StructuredContextGeneralItem] | None = None
    text: str | None = None
    terms: list[str] | None = None
    translation_terms: list[StructuredContextTranslationTerm] | None = None


@omit_none
@attrs.define(frozen=True, kw_only=True)
class CreateTranscriptionPayload:
    """Body of ``POST /v1/transcriptions``; give exactly one of ``audio_url`` and ``file_id``.

    ``context`` also accepts a plain string (the legacy form). Unset fields are not sent.
    """

    model: str
    audio_url: str | None = None
    file_id: str | None = None
    language_hints: list[str] | None = None
    language_hints_strict: bool | None = None
    enable_speaker_diarization: bool | None = None
    enable_language_identification: bool | None = None
    translation: TranslationConfig | None = None
    context: StructuredContext | str | None = None
    webhook_url: str | None = None
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = attrs.field(default=None, repr=mask_secret)
    client_reference_id: str | None = None


@attrs.define(frozen=True, kw_only=True)
class Transcription:
    """An async transcription job. Failed jobs are not HTTP errors: see ``error_type``.

    The two ``enable_*`` flags are required by the schema but missing from the API's own
    examples, so they default to False. ``context`` is not in the schema but is returned.
    """

    id: str
    status: TranscriptionStatus
    created_at: UtcDateTime
    model: str
    filename: str
    enable_speaker_diarization: bool = False
    enable_language_identification: bool = False
    audio_url: str | None = None
    file_id: str | None = None
    language_hints: list[str] | None = None
    context: StructuredContext | str | None = None
    audio_duration_ms: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    webhook_url: str | None = None
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = attrs.field(default=None, repr=mask_secret)
    webhook_status_code: int | None = None
    client_reference_id: str | None = None


@omit_none
@attrs.define(frozen=True, kw_only=True)
class GetTranscriptionsPayload:
    """Query of ``GET /v1/transcriptions``; unset fields are not sent."""

    limit: int | None = None
    cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetTranscriptionsResponse:
    """One page of jobs; ``next_page_cursor`` is None on the last page."""

    transcriptions: list[Transcription]
    next_page_cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetTranscriptionsCountResponse:
    """Job counts, split by where they were created from."""

    total: int
    public_api: int
    playground: int


@omit_none
class TranscriptionTranscriptToken(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    gc=False,
    repr_omit_defaults=True,
):
    """One token of an async transcript (a sub-word piece; ``text`` carries its leading space).

    ``speaker`` / ``language`` / ``translation_status`` appear only when the matching feature was
    enabled; absent ones are None and are not written back out.
    """

    text: str
    start_ms: int
    end_ms: int
    confidence: float
    speaker: str | None = None
    language: str | None = None
    is_audio_event: bool | None = None
    translation_status: TranslationStatus | None = None
    source_language: str | None = None


def _tokens_repr(tokens: list[TranscriptionTranscriptToken]) -> str:
    return f"<{len(tokens)} tokens>"


def _text_repr(text: str) -> str:
    return repr(text) if len(text) <= 60 else f"{text[:57]!r}... ({len(text)} chars)"


@attrs.define(frozen=True, kw_only=True)
class TranscriptionTranscript:
    """Text and tokens of a completed job (``GET /v1/transcriptions/{id}/transcript``)."""

    id: str
    text: str = attrs.field(repr=_text_repr)
    tokens: list[TranscriptionTranscriptToken] = attrs.field(repr=_tokens_repr)
