"""The realtime config message: parse and validate the first text frame of a session.

The real service answers a bad config with one error frame (``error_code`` 400) and closes, so
validation stops at the first problem and reports it as a single readable sentence.

Choices where the API is silent (documented once, here):

* an unknown model, or an async model, is ``400 model_not_available``; every other problem is
  ``400 invalid_request``;
* unknown fields are ignored (forward compatibility) and listed in
  :attr:`RealtimeConfig.ignored_fields` for the journal;
* integers must be JSON integers (``true`` is not ``1``) and booleans JSON booleans.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import attrs

from .audio import AUTO_FORMATS, RAW_FORMATS
from .catalog import resolve_realtime_model
from .engines.base import RecognitionOptions, StreamFormat

__all__ = ["ConfigError", "RealtimeConfig", "parse_config"]

_KNOWN_FIELDS = frozenset(
    {
        "api_key",
        "model",
        "audio_format",
        "sample_rate",
        "num_channels",
        "language_hints",
        "language_hints_strict",
        "context",
        "enable_speaker_diarization",
        "enable_language_identification",
        "enable_endpoint_detection",
        "max_endpoint_delay_ms",
        "endpoint_sensitivity",
        "endpoint_latency_adjustment_level",
        "translation",
        "client_reference_id",
    }
)
_MAX_SAMPLE_RATE = 1_000_000
_MAX_CHANNELS = 64


class ConfigError(Exception):
    """A config problem: ``error_type`` and a message safe to send (never echoes ``api_key``)."""

    def __init__(self, message: str, error_type: str = "invalid_request") -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@attrs.frozen(kw_only=True)
class RealtimeConfig:
    """A validated config message."""

    model: str
    """The model as the client named it (an alias stays an alias, as in usage logs)."""
    resolved_model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    stream_format: StreamFormat = attrs.field(factory=StreamFormat)
    options: RecognitionOptions = attrs.field(factory=RecognitionOptions)
    client_reference_id: str | None = None
    ignored_fields: tuple[str, ...] = ()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(data: Mapping[str, object], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not _is_int(value):
        raise ConfigError(f"Invalid config: {name} must be an integer.")
    number = cast(int, value)
    if not low <= number <= high:
        raise ConfigError(f"Invalid config: {name} must be between {low} and {high}.")
    return number


def _bool(data: Mapping[str, object], name: str) -> bool:
    value = data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigError(f"Invalid config: {name} must be a boolean.")
    return value


def _string(data: Mapping[str, object], name: str, max_length: int = 256) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"Invalid config: {name} must be a string.")
    if len(value) > max_length:
        raise ConfigError(f"Invalid config: {name} must be at most {max_length} characters.")
    return value


def _language_hints(data: Mapping[str, object]) -> tuple[str, ...]:
    value = data.get("language_hints")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError("Invalid config: language_hints must be a list of language codes.")
    hints: list[str] = []
    for item in cast(list[object], value):
        if not isinstance(item, str) or not 1 <= len(item) <= 10:
            raise ConfigError("Invalid config: language_hints must be a list of language codes.")
        hints.append(item)
    if len(hints) > 100:
        raise ConfigError("Invalid config: language_hints may list at most 100 languages.")
    return tuple(hints)


def _translation(data: Mapping[str, object]) -> dict[str, str] | None:
    value = data.get("translation")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError("Invalid config: translation must be an object.")
    spec = cast(dict[str, object], value)
    kind = spec.get("type")
    if kind not in ("one_way", "two_way"):
        raise ConfigError("Invalid config: translation.type must be 'one_way' or 'two_way'.")
    out: dict[str, str] = {"type": cast(str, kind)}
    for key in ("target_language", "language_a", "language_b"):
        item = spec.get(key)
        if item is None:
            continue
        if not isinstance(item, str) or not item:
            raise ConfigError(f"Invalid config: translation.{key} must be a language code.")
        out[key] = item
    if kind == "one_way":
        if "target_language" not in out:
            raise ConfigError("Invalid config: one_way translation needs target_language.")
        if "language_a" in out or "language_b" in out:
            raise ConfigError(
                "Invalid config: language_a and language_b are only allowed for two_way "
                "translation."
            )
    else:
        if "language_a" not in out or "language_b" not in out:
            raise ConfigError(
                "Invalid config: two_way translation needs language_a and language_b."
            )
        if "target_language" in out:
            raise ConfigError(
                "Invalid config: target_language is only allowed for one_way translation."
            )
    return out


def _context(data: Mapping[str, object]) -> None:
    value = data.get("context")
    if value is not None and not isinstance(value, (str, dict)):
        raise ConfigError("Invalid config: context must be a string or an object.")


def _stream_format(data: Mapping[str, object]) -> StreamFormat:
    audio_format = data.get("audio_format", "auto")
    if audio_format is None:
        audio_format = "auto"
    if not isinstance(audio_format, str):
        raise ConfigError("Invalid config: audio_format must be a string.")
    if audio_format not in AUTO_FORMATS and audio_format not in RAW_FORMATS:
        raise ConfigError(f"Invalid config: unsupported audio_format '{audio_format[:40]}'.")
    sample_rate = _int_in(data, "sample_rate", 1, _MAX_SAMPLE_RATE)
    num_channels = _int_in(data, "num_channels", 1, _MAX_CHANNELS)
    if audio_format in RAW_FORMATS and (sample_rate is None or num_channels is None):
        raise ConfigError(
            f"Invalid config: audio_format '{audio_format}' requires sample_rate and num_channels."
        )
    return StreamFormat(
        audio_format=audio_format, sample_rate=sample_rate, num_channels=num_channels
    )


def parse_config(text: str) -> RealtimeConfig:
    """Validate the first text frame; raises :class:`ConfigError` at the first problem."""
    try:
        raw: object = json.loads(text)
    except ValueError:
        raise ConfigError("Invalid config: the first message must be a JSON object.") from None
    if not isinstance(raw, dict):
        raise ConfigError("Invalid config: the first message must be a JSON object.")
    data = cast(dict[str, object], raw)
    if "type" in data and "model" not in data:
        raise ConfigError(
            "Invalid config: the first message must be the configuration, "
            f"not a '{str(data['type'])[:40]}' control message."
        )
    api_key = data.get("api_key")
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigError("Invalid config: api_key must be a string.")
    model = data.get("model")
    if model is None:
        raise ConfigError("Invalid config: model is required.")
    if not isinstance(model, str):
        raise ConfigError("Invalid config: model must be a string.")
    resolved = resolve_realtime_model(model)
    if resolved is None:
        raise ConfigError(
            f"Model '{model[:64]}' is not available for real-time transcription.",
            "model_not_available",
        )
    stream_format = _stream_format(data)
    hints = _language_hints(data)
    _bool(data, "language_hints_strict")
    _context(data)
    diarization = _bool(data, "enable_speaker_diarization")
    identification = _bool(data, "enable_language_identification")
    endpointing = _bool(data, "enable_endpoint_detection")
    delay = _int_in(data, "max_endpoint_delay_ms", 500, 3000)
    sensitivity = data.get("endpoint_sensitivity")
    if sensitivity is not None:
        if not isinstance(sensitivity, (int, float)) or isinstance(sensitivity, bool):
            raise ConfigError("Invalid config: endpoint_sensitivity must be a number.")
        if not -1.0 <= float(sensitivity) <= 1.0:
            raise ConfigError("Invalid config: endpoint_sensitivity must be between -1 and 1.")
    _int_in(data, "endpoint_latency_adjustment_level", 0, 3)
    translation = _translation(data)
    client_reference_id = _string(data, "client_reference_id")
    options: dict[str, Any] = {
        "model": resolved.id,
        "language_hints": hints,
        "enable_speaker_diarization": diarization,
        "enable_language_identification": identification,
        "translation": translation,
        "enable_endpoint_detection": endpointing,
    }
    if delay is not None:
        options["max_endpoint_delay_ms"] = delay
    return RealtimeConfig(
        model=model,
        resolved_model=resolved.id,
        api_key=api_key,
        stream_format=stream_format,
        options=RecognitionOptions(**options),
        client_reference_id=client_reference_id,
        ignored_fields=tuple(sorted(set(data) - _KNOWN_FIELDS)),
    )
