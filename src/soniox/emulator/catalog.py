"""The models the emulator offers: what ``GET /v1/models`` and ``GET /v1/tts-models`` return.

Mirrors the current public line-up: ``stt-rt-v5`` and ``stt-async-v5``, with the v4 names kept
as aliases, and the ``tts-rt-v2`` voice model. Every key the SDKs read is always emitted, with
the type the official SDK's pydantic models demand (``context_version``,
``one_way_translation``, ``two_way_translation`` included; ``endpoint_latency_adjustment_max_level``
is an integer, 0 where unsupported, never null), so a client that parses strictly sees the same
shape it gets from the real service (``tests/emulator/test_catalog_shapes.py`` checks it against
the official shapes). The values follow the API reference's examples: 60 speech-to-text
languages in the API's order, real-time models with ``supports_max_endpoint_delay``; the TTS
model's 63 languages sorted by code and its voices in the API's order. Other parts of the
emulator resolve request models through :func:`find_stt_model`.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "LANGUAGES",
    "TTS_LANGUAGES",
    "STT_MODELS",
    "TTS_MODELS",
    "SttModel",
    "TtsModel",
    "TtsVoice",
    "find_stt_model",
    "models_json",
    "resolve_async_model",
    "resolve_realtime_model",
    "tts_models_json",
]

LANGUAGES: tuple[tuple[str, str], ...] = (
    ("af", "Afrikaans"),
    ("sq", "Albanian"),
    ("ar", "Arabic"),
    ("az", "Azerbaijani"),
    ("eu", "Basque"),
    ("be", "Belarusian"),
    ("bn", "Bengali"),
    ("bs", "Bosnian"),
    ("bg", "Bulgarian"),
    ("ca", "Catalan"),
    ("zh", "Chinese"),
    ("hr", "Croatian"),
    ("cs", "Czech"),
    ("da", "Danish"),
    ("nl", "Dutch"),
    ("en", "English"),
    ("et", "Estonian"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("gl", "Galician"),
    ("de", "German"),
    ("el", "Greek"),
    ("gu", "Gujarati"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("kn", "Kannada"),
    ("kk", "Kazakh"),
    ("ko", "Korean"),
    ("lv", "Latvian"),
    ("lt", "Lithuanian"),
    ("mk", "Macedonian"),
    ("ms", "Malay"),
    ("ml", "Malayalam"),
    ("mr", "Marathi"),
    ("no", "Norwegian"),
    ("fa", "Persian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("pa", "Punjabi"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sr", "Serbian"),
    ("sk", "Slovak"),
    ("sl", "Slovenian"),
    ("es", "Spanish"),
    ("sw", "Swahili"),
    ("sv", "Swedish"),
    ("tl", "Tagalog"),
    ("ta", "Tamil"),
    ("te", "Telugu"),
    ("th", "Thai"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("ur", "Urdu"),
    ("vi", "Vietnamese"),
    ("cy", "Welsh"),
)
"""(ISO-639-1 code, English name), in the order the catalogue lists them."""

TTS_LANGUAGES: tuple[tuple[str, str], ...] = tuple(
    sorted((*LANGUAGES, ("is", "Icelandic"), ("su", "Sundanese"), ("uz", "Uzbek")))
)
"""The text-to-speech languages: the speech-to-text ones and three more, sorted by code (as
``GET /v1/tts-models`` lists them)."""


@attrs.frozen(kw_only=True)
class SttModel:
    """One speech-to-text model (or alias) as ``GET /v1/models`` describes it."""

    id: str
    name: str
    transcription_mode: str  # "real_time" | "async"
    aliased_model_id: str | None = None
    context_version: int | None = 2
    supports_language_hints_strict: bool = True
    supports_max_endpoint_delay: bool = False
    supports_endpoint_sensitivity: bool = False
    supports_endpoint_latency_adjustment: bool = False
    endpoint_latency_adjustment_max_level: int = 0
    """0 when the model does not support the option, as the official SDK documents (it refuses
    ``null`` here: its ``Model`` type declares a plain ``int``)."""
    one_way_translation: str | None = "all_languages"
    two_way_translation: str | None = "all_languages"
    languages: tuple[tuple[str, str], ...] = LANGUAGES

    @property
    def target_id(self) -> str:
        """The model that actually serves requests (itself unless this is an alias)."""
        return self.aliased_model_id or self.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliased_model_id": self.aliased_model_id,
            "name": self.name,
            "context_version": self.context_version,
            "transcription_mode": self.transcription_mode,
            "languages": [{"code": code, "name": name} for code, name in self.languages],
            "supports_language_hints_strict": self.supports_language_hints_strict,
            "supports_max_endpoint_delay": self.supports_max_endpoint_delay,
            "supports_endpoint_sensitivity": self.supports_endpoint_sensitivity,
            "supports_endpoint_latency_adjustment": self.supports_endpoint_latency_adjustment,
            "endpoint_latency_adjustment_max_level": self.endpoint_latency_adjustment_max_level,
            # With "all_languages" set the explicit lists stay empty, as the real service does.
            "translation_targets": [],
            "two_way_translation_pairs": [],
            "one_way_translation": self.one_way_translation,
            "two_way_translation": self.two_way_translation,
        }


def _realtime(model_id: str, name: str, aliased: str | None = None) -> SttModel:
    return SttModel(
        id=model_id,
        name=name,
        transcription_mode="real_time",
        aliased_model_id=aliased,
        supports_max_endpoint_delay=True,
        supports_endpoint_sensitivity=True,
        supports_endpoint_latency_adjustment=True,
        endpoint_latency_adjustment_max_level=3,
    )


def _async(model_id: str, name: str, aliased: str | None = None) -> SttModel:
    return SttModel(id=model_id, name=name, transcription_mode="async", aliased_model_id=aliased)


STT_MODELS: tuple[SttModel, ...] = (
    _realtime("stt-rt-v5", "Speech-to-Text Real-time v5"),
    _async("stt-async-v5", "Speech-to-Text Async v5"),
    _realtime("stt-rt-v4", "Speech-to-Text Real-time v4", aliased="stt-rt-v5"),
    _async("stt-async-v4", "Speech-to-Text Async v4", aliased="stt-async-v5"),
)


@attrs.frozen(kw_only=True)
class TtsVoice:
    id: str
    description: str
    gender: str  # "male" | "female" | "neutral"

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "description": self.description, "gender": self.gender}


@attrs.frozen(kw_only=True)
class TtsModel:
    id: str
    name: str
    voices: tuple[TtsVoice, ...]
    aliased_model_id: str | None = None
    languages: tuple[tuple[str, str], ...] = TTS_LANGUAGES
    supports_timestamps: bool = True
    supports_voice_cloning: bool = False
    """False: the emulator has no voice-cloning endpoints (``/v1/voices`` is not emulated)."""
    voice_cloning_max_audio_duration_ms: int | None = None
    supports_speed_adjustment: bool = True
    speed_min: float | None = 0.7
    speed_max: float | None = 1.3
    supports_silence_reduction: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliased_model_id": self.aliased_model_id,
            "name": self.name,
            "voices": [v.to_json() for v in self.voices],
            "languages": [{"code": code, "name": name} for code, name in self.languages],
            "supports_timestamps": self.supports_timestamps,
            "supports_voice_cloning": self.supports_voice_cloning,
            "voice_cloning_max_audio_duration_ms": self.voice_cloning_max_audio_duration_ms,
            "supports_speed_adjustment": self.supports_speed_adjustment,
            "speed_min": self.speed_min,
            "speed_max": self.speed_max,
            "supports_silence_reduction": self.supports_silence_reduction,
        }


TTS_MODELS: tuple[TtsModel, ...] = (
    TtsModel(
        id="tts-rt-v2",
        name="Text-to-Speech Real-time v2",
        # The voice ids of the API reference's example, in its order; the API documents no
        # descriptions, so these are the emulator's own.
        voices=(
            TtsVoice(id="Maya", description="Warm and conversational", gender="female"),
            TtsVoice(id="Daniel", description="Clear, neutral newsreader", gender="male"),
            TtsVoice(id="Noah", description="Relaxed, low-pitched", gender="male"),
            TtsVoice(id="Nina", description="Bright and friendly", gender="female"),
            TtsVoice(id="Emma", description="Crisp customer-support tone", gender="female"),
            TtsVoice(id="Jack", description="Energetic presenter", gender="male"),
            TtsVoice(id="Adrian", description="Calm, articulate narrator", gender="male"),
            TtsVoice(id="Claire", description="Soft-spoken storyteller", gender="female"),
            TtsVoice(id="Grace", description="Gentle and reassuring", gender="female"),
            TtsVoice(id="Owen", description="Steady, matter-of-fact", gender="male"),
            TtsVoice(id="Mina", description="Light and upbeat", gender="female"),
            TtsVoice(id="Kenji", description="Calm and precise", gender="male"),
        ),
    ),
)


def find_stt_model(model_id: str) -> SttModel | None:
    for model in STT_MODELS:
        if model.id == model_id:
            return model
    return None


def _resolve(model_id: str, mode: str) -> SttModel | None:
    model = find_stt_model(model_id)
    if model is None or model.transcription_mode != mode:
        return None
    target = find_stt_model(model.target_id)
    return target if target is not None and target.transcription_mode == mode else None


def resolve_async_model(model_id: str) -> SttModel | None:
    """The concrete async model behind ``model_id`` (alias followed), or ``None``."""
    return _resolve(model_id, "async")


def resolve_realtime_model(model_id: str) -> SttModel | None:
    """The concrete real-time model behind ``model_id`` (alias followed), or ``None``."""
    return _resolve(model_id, "real_time")


def models_json() -> dict[str, Any]:
    return {"models": [m.to_json() for m in STT_MODELS]}


def tts_models_json() -> dict[str, Any]:
    return {"models": [m.to_json() for m in TTS_MODELS]}
