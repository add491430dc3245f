"""Model catalogues: ``GET /v1/models`` (speech-to-text) and ``GET /v1/tts-models``."""

from __future__ import annotations

import attrs

from .common import Language, ModelMethods, OpenStrEnum

__all__ = [
    "TranscriptionMode",
    "TranslationTarget",
    "Model",
    "GetModelsResponse",
    "VoiceGender",
    "TTSVoice",
    "TTSModel",
    "GetTTSModelsResponse",
]


class TranscriptionMode(OpenStrEnum):
    """Whether a model serves the realtime WebSocket or async jobs."""

    REAL_TIME = "real_time"
    ASYNC = "async"


@attrs.define(frozen=True, kw_only=True)
class TranslationTarget(ModelMethods):
    """A one-way translation target and the source languages it accepts."""

    target_language: str
    source_languages: list[str]
    exclude_source_languages: list[str]


@attrs.define(frozen=True, kw_only=True)
class Model(ModelMethods):
    """A speech-to-text model. Aliases carry ``aliased_model_id``.

    ``one_way_translation`` / ``two_way_translation`` are None or ``"all_languages"`` (then the
    lists are empty). The three ``*endpoint*`` fields are newer than the schema, hence defaulted.
    """

    id: str
    aliased_model_id: str | None
    name: str
    context_version: int | None
    transcription_mode: TranscriptionMode
    languages: list[Language]
    supports_language_hints_strict: bool
    supports_max_endpoint_delay: bool
    translation_targets: list[TranslationTarget]
    two_way_translation_pairs: list[str]
    one_way_translation: str | None
    two_way_translation: str | None
    supports_endpoint_sensitivity: bool = False
    supports_endpoint_latency_adjustment: bool = False
    endpoint_latency_adjustment_max_level: int | None = None


@attrs.define(frozen=True, kw_only=True)
class GetModelsResponse(ModelMethods):
    """All speech-to-text models, aliases included."""

    models: list[Model]


class VoiceGender(OpenStrEnum):
    """Gender of a built-in TTS voice."""

    MALE = "male"
    FEMALE = "female"
    NEUTRAL = "neutral"


@attrs.define(frozen=True, kw_only=True)
class TTSVoice(ModelMethods):
    """A built-in TTS voice; only ``id`` is in the schema, the rest is newer and optional."""

    id: str
    description: str | None = None
    gender: VoiceGender | None = None


@attrs.define(frozen=True, kw_only=True)
class TTSModel(ModelMethods):
    """A text-to-speech model with its voices; the optional fields are newer than the schema."""

    id: str
    aliased_model_id: str | None
    name: str
    voices: list[TTSVoice]
    languages: list[Language]
    supports_timestamps: bool | None = None
    supports_speed_adjustment: bool | None = None
    supports_voice_cloning: bool | None = None
    voice_cloning_max_audio_duration_ms: int | None = None
    speed_min: float | None = None
    speed_max: float | None = None
    supports_silence_reduction: bool | None = None


@attrs.define(frozen=True, kw_only=True)
class GetTTSModelsResponse(ModelMethods):
    """All text-to-speech models."""

    models: list[TTSModel]
