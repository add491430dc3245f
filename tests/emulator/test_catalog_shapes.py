"""``GET /v1/models`` and ``GET /v1/tts-models`` parse with the official SDK's types (issue 11 §3).

The official ``soniox`` 2.10.0 SDK's ``models.list()`` once failed against the emulator: the
async models carried ``endpoint_latency_adjustment_max_level: null`` where its ``Model`` declares
a plain ``int``. The official package is not installed in CI (``tests/compat/`` runs it through
``scripts/compat_official.sh``), so its response models are written down here as JSON Schema,
field by field from ``soniox/types/api.py`` of soniox 2.10.0: ``Model``, ``SupportedLanguage``,
``TranslationTarget``, ``GetModelsResponse``, ``TtsVoice``, ``TtsModel``,
``GetTtsModelsResponse``.

A field without a default in the official model is *required* (pydantic refuses the answer
without it); a field with a default may be absent, but when present it must have the declared
type — ``null`` only where the annotation says ``| None``. JSON Schema's ``integer`` and
``boolean`` never accept each other, which is what a strict client needs. On top of what the
official parser demands, the emulator emits every field those models know (the real service
serves them all), so nothing is left to a client's default.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from soniox.emulator import Emulator

# -- the official shapes (soniox 2.10.0, soniox/types/api.py) --------------------------------------

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_FLOAT: dict[str, Any] = {"type": "number"}  # pydantic's float takes ints too, never booleans


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _literal(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


REQUIRED = True
DEFAULTED = False
"""Whether the official model gives the field no default (required) or one (may be absent)."""

Fields = list[tuple[str, dict[str, Any], bool]]

SUPPORTED_LANGUAGE: Fields = [
    ("code", _STR, REQUIRED),
    ("name", _STR, REQUIRED),
]
TRANSLATION_TARGET: Fields = [
    ("target_language", _STR, REQUIRED),
    ("source_languages", _list(_STR), REQUIRED),
    ("exclude_source_languages", _list(_STR), REQUIRED),
]


def _object(fields: Fields, *, every_field: bool) -> dict[str, Any]:
    """The JSON Schema of an official model; ``every_field``: defaulted fields required too."""
    return {
        "type": "object",
        "properties": {name: schema for name, schema, _ in fields},
        "required": [name for name, _, required in fields if required or every_field],
    }


def _model_fields(every_field: bool) -> Fields:
    language = _object(SUPPORTED_LANGUAGE, every_field=every_field)
    target = _object(TRANSLATION_TARGET, every_field=every_field)
    return [
        ("id", _STR, REQUIRED),
        ("aliased_model_id", _nullable(_STR), DEFAULTED),
        ("name", _STR, REQUIRED),
        ("context_version", _nullable(_INT), REQUIRED),
        ("transcription_mode", _literal("real_time", "async"), REQUIRED),
        ("languages", _list(language), REQUIRED),
        ("supports_language_hints_strict", _BOOL, REQUIRED),
        ("supports_max_endpoint_delay", _BOOL, DEFAULTED),
        ("supports_endpoint_sensitivity", _BOOL, DEFAULTED),
        ("supports_endpoint_latency_adjustment", _BOOL, DEFAULTED),
        ("endpoint_latency_adjustment_max_level", _INT, DEFAULTED),  # int = 0: never null
        ("translation_targets", _list(target), REQUIRED),
        ("two_way_translation_pairs", _list(_STR), REQUIRED),
        ("one_way_translation", _nullable(_STR), REQUIRED),
        ("two_way_translation", _nullable(_STR), REQUIRED),
    ]


def _tts_model_fields(every_field: bool) -> Fields:
    voice: Fields = [
        ("id", _STR, REQUIRED),
        ("description", _STR, REQUIRED),
        ("gender", _literal("male", "female", "neutral"), REQUIRED),
    ]
    language = _object(SUPPORTED_LANGUAGE, every_field=every_field)
    return [
        ("id", _STR, REQUIRED),
        ("aliased_model_id", _nullable(_STR), DEFAULTED),
        ("name", _STR, REQUIRED),
        ("voices", _list(_object(voice, every_field=every_field)), REQUIRED),
        ("languages", _list(language), DEFAULTED),
        ("supports_timestamps", _BOOL, DEFAULTED),
        ("supports_voice_cloning", _BOOL, DEFAULTED),
        ("voice_cloning_max_audio_duration_ms", _nullable(_INT), DEFAULTED),
        ("supports_speed_adjustment", _BOOL, DEFAULTED),
        ("speed_min", _nullable(_FLOAT), DEFAULTED),
        ("speed_max", _nullable(_FLOAT), DEFAULTED),
        ("supports_silence_reduction", _BOOL, DEFAULTED),
    ]


def models_response_schema(*, every_field: bool = False) -> dict[str, Any]:
    """``GetModelsResponse``: ``{"models": [Model, ...]}``."""
    model = _object(_model_fields(every_field), every_field=every_field)
    return {"type": "object", "properties": {"models": _list(model)}, "required": ["models"]}


def tts_models_response_schema(*, every_field: bool = False) -> dict[str, Any]:
    """``GetTtsModelsResponse``: ``{"models": [TtsModel, ...]}``."""
    model = _object(_tts_model_fields(every_field), every_field=every_field)
    return {"type": "object", "properties": {"models": _list(model)}, "required": ["models"]}


def _problems(schema: dict[str, Any], document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    )


def _get(emulator: Emulator, path: str) -> Any:
    headers = {"authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=emulator.rest_base_url, trust_env=False, timeout=10) as client:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# -- the shapes themselves are strict where the official parser is -------------------------------


def test_the_encoded_shape_refuses_what_the_official_parser_refuses() -> None:
    """A null ``endpoint_latency_adjustment_max_level`` (the reported bug), a missing
    ``context_version``, a boolean where an int belongs are refused; absent defaulted fields
    are fine for the parser."""
    good: dict[str, Any] = {
        "id": "m",
        "name": "M",
        "context_version": None,
        "transcription_mode": "async",
        "languages": [{"code": "en", "name": "English"}],
        "supports_language_hints_strict": True,
        "translation_targets": [],
        "two_way_translation_pairs": [],
        "one_way_translation": None,
        "two_way_translation": None,
    }
    schema = models_response_schema()
    assert _problems(schema, {"models": [good]}) == []
    bad_values: list[tuple[str, object]] = [
        ("endpoint_latency_adjustment_max_level", None),
        ("endpoint_latency_adjustment_max_level", True),
        ("context_version", "2"),
        ("supports_language_hints_strict", 1),
        ("transcription_mode", "batch"),
    ]
    for key, value in bad_values:
        assert _problems(schema, {"models": [{**good, key: value}]}), (key, value)
    missing = {k: v for k, v in good.items() if k != "two_way_translation"}
    assert _problems(schema, {"models": [missing]})
    assert _problems(models_response_schema(every_field=True), {"models": [good]})


# -- the emulator's answers ----------------------------------------------------------------------


def test_models_parse_with_the_official_model_shape(emulator: Emulator) -> None:
    """Every model of ``/v1/models`` is a valid official ``Model``, and emits every field."""
    body = _get(emulator, "/models")
    assert _problems(models_response_schema(), body) == []
    assert _problems(models_response_schema(every_field=True), body) == []
    for model in body["models"]:
        level = model["endpoint_latency_adjustment_max_level"]
        assert type(level) is int, model["id"]
        # 0 means "unsupported" in the official docs; a model that supports it says how far.
        assert (level > 0) == model["supports_endpoint_latency_adjustment"], model["id"]


def test_tts_models_parse_with_the_official_tts_model_shape(emulator: Emulator) -> None:
    """Every model of ``/v1/tts-models`` is a valid official ``TtsModel``, every field emitted."""
    body = _get(emulator, "/tts-models")
    assert _problems(tts_models_response_schema(), body) == []
    assert _problems(tts_models_response_schema(every_field=True), body) == []
    for model in body["models"]:
        if model["supports_speed_adjustment"]:
            assert model["speed_min"] < 1.0 < model["speed_max"]
        else:
            assert model["speed_min"] is None
            assert model["speed_max"] is None
        if not model["supports_voice_cloning"]:
            assert model["voice_cloning_max_audio_duration_ms"] is None


@pytest.mark.parametrize("model_id", ["stt-rt-v5", "stt-async-v5", "stt-rt-v4", "stt-async-v4"])
def test_models_carry_the_values_the_api_serves(emulator: Emulator, model_id: str) -> None:
    """The values of the API reference (``soniox-api.md`` §2.7 and the OpenAPI example): 60
    languages, context version 2, translation to and between all languages, endpoint delay on
    the real-time models only, aliases pointing at the v5 models."""
    models = {m["id"]: m for m in _get(emulator, "/models")["models"]}
    model = models[model_id]
    realtime = "-rt-" in model_id
    assert model["transcription_mode"] == ("real_time" if realtime else "async")
    assert model["aliased_model_id"] == (model_id.replace("v4", "v5") if "v4" in model_id else None)
    assert model["context_version"] == 2
    assert len(model["languages"]) == 60
    assert model["languages"][:2] == [
        {"code": "af", "name": "Afrikaans"},
        {"code": "sq", "name": "Albanian"},
    ]
    assert model["supports_language_hints_strict"] is True
    assert model["supports_max_endpoint_delay"] is realtime
    assert model["endpoint_latency_adjustment_max_level"] == (3 if realtime else 0)
    assert model["one_way_translation"] == model["two_way_translation"] == "all_languages"
    assert model["translation_targets"] == model["two_way_translation_pairs"] == []


def test_tts_model_carries_the_values_the_api_serves(emulator: Emulator) -> None:
    """``tts-rt-v2``: the API example's 63 languages sorted by code and its twelve voices."""
    [model] = _get(emulator, "/tts-models")["models"]
    assert model["id"] == "tts-rt-v2"
    assert model["aliased_model_id"] is None
    codes = [language["code"] for language in model["languages"]]
    assert codes == sorted(codes)
    assert len(codes) == 63
    assert {"is", "su", "uz", "en"} <= set(codes)
    assert [v["id"] for v in model["voices"]] == [
        "Maya", "Daniel", "Noah", "Nina", "Emma", "Jack",
        "Adrian", "Claire", "Grace", "Owen", "Mina", "Kenji",
    ]  # fmt: skip
    assert (model["speed_min"], model["speed_max"]) == (0.7, 1.3)
