"""The create-transcription request: options, client-side checks, and the payload they make.

Options can be given as a :class:`~soniox.types.CreateTranscriptionConfig` (the official SDK's
name, mutable like it), as
keyword arguments (:class:`TranscriptionOptions`), or both (keywords win). Everything the API
would refuse for a reason we can see is refused here, before any upload or request, with a
:class:`~soniox.errors.RequestValidationError` whose ``field`` names the argument.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypedDict, cast

import attrs

from soniox.errors import ClientValidationError, RequestValidationError, register_secret
from soniox.types import (
    CreateTranscriptionConfig,
    CreateTranscriptionPayload,
    StructuredContext,
    TranslationConfig,
    TranslationType,
    structure,
    unstructure,
)

__all__ = [
    "DEFAULT_MODEL",
    "CreateTranscriptionConfig",
    "TranscriptionOptions",
    "BaseTranscriptionOptions",
    "OPTION_NAMES",
    "build_payload",
    "merge_options",
    "config_overrides",
    "translate_options",
    "check_language",
    "check_one_source",
]

DEFAULT_MODEL: Final = "stt-async-v5"
"""The model used when none is given (as in the official SDK)."""

_LANGUAGE = re.compile(r"[a-z]{2}")
_HTTP_URL = re.compile(r"https?://\S+")
_MAX_REFERENCE: Final = 256
_MAX_MODEL: Final = 32


class BaseTranscriptionOptions(TypedDict, total=False):
    """Every keyword option except ``webhook_url`` (for helpers that take it as an argument)."""

    language_hints: Sequence[str]
    """ISO-639-1 codes of the languages expected in the audio (``["en", "de"]``)."""
    language_hints_strict: bool
    """Bias recognition strongly towards ``language_hints``."""
    enable_speaker_diarization: bool
    """Tag each token with a ``speaker``."""
    enable_language_identification: bool
    """Tag each token with its ``language``."""
    translation: TranslationConfig | Mapping[str, str]
    """``TranslationConfig.one_way("de")`` / ``.two_way("en", "es")`` (or the JSON shape)."""
    context: StructuredContext | str | Mapping[str, Any]
    """Domain hints, terms, text; a plain string is the legacy form."""
    webhook_auth_header_name: str
    webhook_auth_header_value: str


class TranscriptionOptions(BaseTranscriptionOptions, total=False):
    """Keyword options of every create/transcribe/translate method (all optional)."""

    webhook_url: str
    """Where the API posts ``{"id", "status"}`` when the job ends."""


OPTION_NAMES: Final = (
    "language_hints",
    "language_hints_strict",
    "enable_speaker_diarization",
    "enable_language_identification",
    "translation",
    "context",
    "webhook_url",
    "webhook_auth_header_name",
    "webhook_auth_header_value",
)
"""The keyword options, in the API's order."""


def merge_options(
    config: CreateTranscriptionConfig | None, options: Mapping[str, Any]
) -> TranscriptionOptions:
    """``config``'s fields overridden by keyword ``options``; unknown keywords are refused."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise RequestValidationError(
            f"unknown transcription option(s) {unknown}; expected some of {list(OPTION_NAMES)}",
            field=unknown[0],
        )
    if config is not None and not isinstance(cast(object, config), CreateTranscriptionConfig):
        raise RequestValidationError(
            f"config must be a CreateTranscriptionConfig, got {type(config).__name__}",
            field="config",
        )
    merged: dict[str, Any] = config.as_options() if config is not None else {}
    merged.update({k: v for k, v in options.items() if v is not None})
    return cast(TranscriptionOptions, merged)


def config_overrides(
    config: CreateTranscriptionConfig | None, model: str, client_reference_id: str | None
) -> tuple[str, str | None]:
    """The model and reference to use: a (deprecated) value set on ``config`` wins over the
    call's argument, as in the official SDK."""
    if config is None:
        return model, client_reference_id
    return (
        config.model if config.model is not None else model,
        config.client_reference_id
        if config.client_reference_id is not None
        else client_reference_id,
    )


# --- checks ------------------------------------------------------------------------------------


def check_language(value: object, field: str) -> str:
    """A two-letter lower-case ISO-639-1 code."""
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise RequestValidationError(
            f"{field} must be a two-letter ISO-639-1 language code such as 'en', got {value!r}",
            field=field,
        )
    return value


def _check_str(
    value: object, field: str, max_length: int, *, pattern: re.Pattern[str] | None = None
) -> str:
    if not isinstance(value, str) or not value:
        raise RequestValidationError(f"{field} must be a non-empty string", field=field)
    if len(value) > max_length:
        raise RequestValidationError(
            f"{field} has {len(value)} characters; at most {max_length} are allowed", field=field
        )
    if pattern is not None and not pattern.fullmatch(value):
        raise RequestValidationError(
            f"{field} must be an absolute http:// or https:// URL, got {value!r}", field=field
        )
    return value


def _check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise RequestValidationError(
            f"{field} must be True or False, got {type(value).__name__}", field=field
        )
    return value


def _translation(value: object) -> TranslationConfig:
    """A checked *copy* of ``value`` (the options objects are mutable; a payload is not)."""
    if isinstance(value, Mapping):
        raw = cast("Mapping[str, Any]", value)
        try:
            value = TranslationConfig(**raw)
        except ClientValidationError as exc:
            raise RequestValidationError(
                f"translation: {exc.message}", field=f"translation.{exc.field}"
            ) from None
        except (TypeError, ValueError) as exc:
            raise RequestValidationError(
                f"translation is not a valid translation config: {exc}", field="translation"
            ) from None
    elif isinstance(value, TranslationConfig):
        value = attrs.evolve(value)
    if not isinstance(value, TranslationConfig):
        raise RequestValidationError(
            "translation must be TranslationConfig.one_way(...) / .two_way(...) or its JSON "
            f"shape, got {type(value).__name__}",
            field="translation",
        )
    if value.type == TranslationType.ONE_WAY:
        check_language(value.target_language, "translation.target_language")
        if value.language_a is not None or value.language_b is not None:
            raise RequestValidationError(
                "a one_way translation takes target_language only, not language_a/language_b",
                field="translation.language_a",
            )
    elif value.type == TranslationType.TWO_WAY:
        a = check_language(value.language_a, "translation.language_a")
        b = check_language(value.language_b, "translation.language_b")
        if a == b:
            raise RequestValidationError(
                f"a two_way translation needs two different languages, got {a!r} twice",
                field="translation.language_b",
            )
        if value.target_language is not None:
            raise RequestValidationError(
                "a two_way translation takes language_a and language_b, not target_language",
                field="translation.target_language",
            )
    else:
        raise RequestValidationError(
            f"translation.type must be 'one_way' or 'two_way', got {str(value.type)!r}",
            field="translation.type",
        )
    return value


def _context(value: object) -> StructuredContext | str:
    """A checked *copy* of ``value`` (see :func:`_translation`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, StructuredContext):
        value = unstructure(value)
    if isinstance(value, Mapping):
        try:
            return structure(cast("Mapping[str, Any]", value), StructuredContext)
        except Exception as exc:
            raise RequestValidationError(
                f"context is not a valid StructuredContext: {exc}", field="context"
            ) from None
    raise RequestValidationError(
        f"context must be a StructuredContext, a mapping or a string, got {type(value).__name__}",
        field="context",
    )


def check_one_source(
    *, file: object = None, file_id: object = None, audio_url: object = None
) -> str:
    """Which one of ``file`` / ``file_id`` / ``audio_url`` is given (exactly one must be).

    The choice of source is a ClientValidationError (the official SDK checks it locally too);
    a malformed source is a RequestValidationError (the API would refuse it with 400)."""
    given = [
        name
        for name, value in (("file", file), ("file_id", file_id), ("audio_url", audio_url))
        if value is not None
    ]
    if len(given) != 1:
        wanted = "exactly one of file, file_id or audio_url"
        if not given:
            raise ClientValidationError(f"give {wanted}; none was given", field="file")
        raise ClientValidationError(f"give {wanted}; got {' and '.join(given)}", field=given[1])
    if audio_url is not None:
        _check_str(audio_url, "audio_url", 4096, pattern=_HTTP_URL)
    if file_id is not None:
        _check_str(file_id, "file_id", 64)
    if file is not None and isinstance(file, str | os.PathLike) and not os.fspath(file):
        raise ClientValidationError("file must not be an empty path", field="file")
    return given[0]


def build_payload(
    *,
    model: str,
    file_id: str | None,
    audio_url: str | None,
    client_reference_id: str | None,
    options: Mapping[str, Any],
) -> CreateTranscriptionPayload:
    """The checked request body. Exactly one of ``file_id`` / ``audio_url``."""
    _check_str(model, "model", _MAX_MODEL)
    check_one_source(file_id=file_id, audio_url=audio_url)
    if client_reference_id is not None:
        _check_str(client_reference_id, "client_reference_id", _MAX_REFERENCE)
    fields: dict[str, Any] = {}
    hints = options.get("language_hints")
    if hints is not None:
        if isinstance(hints, str) or not isinstance(hints, Sequence):
            raise RequestValidationError(
                "language_hints must be a list of language codes such as ['en', 'de']",
                field="language_hints",
            )
        items = cast("Sequence[object]", hints)
        fields["language_hints"] = [
            check_language(code, f"language_hints[{i}]") for i, code in enumerate(items)
        ]
    for flag in (
        "language_hints_strict",
        "enable_speaker_diarization",
        "enable_language_identification",
    ):
        if options.get(flag) is not None:
            fields[flag] = _check_bool(options[flag], flag)
    if options.get("translation") is not None:
        fields["translation"] = _translation(options["translation"])
    if options.get("context") is not None:
        fields["context"] = _context(options["context"])
    if options.get("webhook_url") is not None:
        fields["webhook_url"] = _check_str(
            options["webhook_url"], "webhook_url", 256, pattern=_HTTP_URL
        )
    for name in ("webhook_auth_header_name", "webhook_auth_header_value"):
        if options.get(name) is not None:
            fields[name] = _check_str(options[name], name, 256)
    if "webhook_auth_header_value" in fields:
        register_secret(fields["webhook_auth_header_value"])  # masked wherever it might show
    if ("webhook_auth_header_name" in fields) != ("webhook_auth_header_value" in fields):
        missing = (
            "webhook_auth_header_value"
            if "webhook_auth_header_name" in fields
            else "webhook_auth_header_name"
        )
        raise RequestValidationError(
            "give webhook_auth_header_name and webhook_auth_header_value together", field=missing
        )
    if "webhook_auth_header_name" in fields and "webhook_url" not in fields:
        raise RequestValidationError(
            "webhook_auth_header_name/value need a webhook_url", field="webhook_url"
        )
    return CreateTranscriptionPayload(
        model=model,
        file_id=file_id,
        audio_url=audio_url,
        client_reference_id=client_reference_id,
        **fields,
    )


def translate_options(
    *,
    to: str | None,
    source: str | None,
    between: tuple[str, str] | Sequence[str] | None,
    options: Mapping[str, Any],
) -> TranscriptionOptions:
    """``options`` plus the translation the official SDK's ``translate*`` helpers derive.

    Exactly one of ``to`` (one-way) and ``between`` (two-way); ``source`` (only with ``to``)
    becomes a strict language hint; language identification is always on.
    """
    if (to is None) == (between is None):  # checked locally by the official SDK too
        raise ClientValidationError(
            "give exactly one of to= (one-way) or between=(a, b) (two-way)",
            field="to" if to is None else "between",
        )
    if source is not None and to is None:
        raise ClientValidationError("source= is only valid with to=", field="source")
    merged: dict[str, Any] = dict(options)
    if to is not None:
        merged["translation"] = TranslationConfig.one_way(check_language(to, "to"))
        if source is not None:
            merged["language_hints"] = [check_language(source, "source")]
            merged["language_hints_strict"] = True
    else:
        assert between is not None
        if isinstance(between, str) or len(between) != 2:
            raise RequestValidationError(
                "between must be a pair of language codes such as ('en', 'es')", field="between"
            )
        a = check_language(between[0], "between[0]")
        b = check_language(between[1], "between[1]")
        merged["translation"] = TranslationConfig.two_way(a, b)
    merged["enable_language_identification"] = True
    return cast(TranscriptionOptions, merged)
