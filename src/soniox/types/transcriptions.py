"""Async transcriptions: the job, its create request, and its transcript.

Transcript tokens are :class:`msgspec.Struct` values, not attrs classes, on purpose: a long
recording yields hundreds of thousands of them, and a GC-untracked Struct decoded straight from
the response bytes parses about 3x faster than json.loads and in about half its memory, where any
attrs class cannot beat json.loads itself (see docs/performance.md). They behave like the attrs
models (frozen, keyword-only, value equality); use :func:`msgspec.structs.replace` instead of
``attrs.evolve`` to derive a changed copy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, Self, cast

import attrs
import msgspec

from soniox.errors import ClientValidationError

from .common import ModelMethods, OpenStrEnum, UtcDateTime, mask_secret, omit_none

__all__ = [
    "TranscriptionStatus",
    "TranslationType",
    "TranslationStatus",
    "TranslationConfig",
    "StructuredContextGeneralItem",
    "StructuredContextTranslationTerm",
    "StructuredContext",
    "CreateTranscriptionConfig",
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


# --- request options: mutable, like the official SDK's models ------------------------------------
#
# Soniox's own examples build these and then set fields (``config.translation = ...``). So they
# are mutable attrs classes: an assignment is converted (a dict becomes the typed object, a string
# the enum) and type-checked on the spot, and the rules that span fields (a one-way translation
# needs a target) are checked again when the request is built. A request payload holds copies.


_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _translation_type(value: TranslationType | str) -> TranslationType:
    try:
        return TranslationType(value)
    except ValueError:  # not a string: left to the validator, which names the field
        return cast(TranslationType, value)


def _check_type(kinds: type | tuple[type, ...], what: str) -> _Validator:
    """An attrs validator: None, or an instance of ``kinds`` (a ClientValidationError naming
    the field otherwise)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None or isinstance(value, kinds):
            return
        raise ClientValidationError(
            f"{type(instance).__name__}.{attribute.name} must be {what}, got {value!r}",
            field=attribute.name,
        )

    return check


def _str_list(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not all(isinstance(item, str) for item in cast("list[object]", value))
    ):
        raise ClientValidationError(
            f"{type(instance).__name__}.{attribute.name} must be a list of strings, got {value!r}",
            field=attribute.name,
        )


@omit_none
@attrs.define(kw_only=True)
class TranslationConfig(ModelMethods):
    """``translation`` of a request: ``TranslationConfig(type="one_way", target_language="es")``,
    ``TranslationConfig(type="two_way", language_a="en", language_b="es")``, or the shortcuts
    :meth:`one_way` / :meth:`two_way`."""

    type: TranslationType = attrs.field(
        converter=_translation_type, validator=_check_type(str, "'one_way' or 'two_way'")
    )
    target_language: str | None = attrs.field(default=None, validator=_check_type(str, "a code"))
    language_a: str | None = attrs.field(default=None, validator=_check_type(str, "a code"))
    language_b: str | None = attrs.field(default=None, validator=_check_type(str, "a code"))

    def __attrs_post_init__(self) -> None:
        # As the official model does at construction: the fields each type needs.
        if self.type == TranslationType.ONE_WAY and not self.target_language:
            raise ClientValidationError(
                "a one_way translation needs target_language", field="target_language"
            )
        if self.type == TranslationType.TWO_WAY and not (self.language_a and self.language_b):
            raise ClientValidationError(
                "a two_way translation needs language_a and language_b", field="language_a"
            )

    @classmethod
    def one_way(cls, target_language: str) -> Self:
        """Translate all speech into ``target_language``."""
        return cls(type=TranslationType.ONE_WAY, target_language=target_language)

    @classmethod
    def two_way(cls, language_a: str, language_b: str) -> Self:
        """Translate speech in either language into the other."""
        return cls(type=TranslationType.TWO_WAY, language_a=language_a, language_b=language_b)


@attrs.define(kw_only=True)
class StructuredContextGeneralItem(ModelMethods):
    """A key/value hint about the audio, e.g. ``domain`` = ``Healthcare``."""

    key: str = attrs.field(validator=_check_type(str, "a string"))
    value: str = attrs.field(validator=_check_type(str, "a string"))


@attrs.define(kw_only=True)
class StructuredContextTranslationTerm(ModelMethods):
    """How to translate one term."""

    source: str = attrs.field(validator=_check_type(str, "a string"))
    target: str = attrs.field(validator=_check_type(str, "a string"))


def _items(value: object, item: type[Any], names: tuple[str, str]) -> Any:
    """``{a: b}`` or a list of items / ``{names[0]: a, names[1]: b}`` dicts → a list of
    ``item`` (the official SDK's accepted shapes); anything else is left for the validator."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        pairs = cast("Mapping[object, object]", value)
        return [item(**{names[0]: k, names[1]: v}) for k, v in pairs.items()]
    if isinstance(value, list | tuple):
        return [
            item(**cast("Mapping[str, Any]", entry)) if isinstance(entry, Mapping) else entry
            for entry in cast("list[object]", value)
        ]
    return value


GeneralInput = list[StructuredContextGeneralItem] | Mapping[str, str] | None
"""``StructuredContext.general`` as given: items, ``{key: value}``, or item dicts."""
TranslationTermsInput = list[StructuredContextTranslationTerm] | Mapping[str, str] | None
"""``StructuredContext.translation_terms`` as given: terms, ``{source: target}``, or dicts."""


def _general(value: GeneralInput) -> list[StructuredContextGeneralItem] | None:
    return _items(value, StructuredContextGeneralItem, ("key", "value"))


def _translation_terms(
    value: TranslationTermsInput,
) -> list[StructuredContextTranslationTerm] | None:
    return _items(value, StructuredContextTranslationTerm, ("source", "target"))


def _item_list(kind: type) -> _Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not all(
            isinstance(entry, kind) for entry in cast("list[object]", value)
        ):
            raise ClientValidationError(
                f"{type(instance).__name__}.{attribute.name} must be a dict or a list of "
                f"{kind.__name__}, got {value!r}",
                field=attribute.name,
            )

    return check


@omit_none
@attrs.define(kw_only=True)
class StructuredContext(ModelMethods):
    """Context that biases recognition (``context`` of async and realtime requests).

    ``general`` and ``translation_terms`` also take a plain dict
    (``general={"domain": "Healthcare"}``, ``translation_terms={"Mr. Smith": "Sr. Smith"}``).
    """

    general: list[StructuredContextGeneralItem] | None = attrs.field(
        default=None, converter=_general, validator=_item_list(StructuredContextGeneralItem)
    )
    text: str | None = attrs.field(default=None, validator=_check_type(str, "a string"))
    terms: list[str] | None = attrs.field(default=None, validator=_str_list)
    translation_terms: list[StructuredContextTranslationTerm] | None = attrs.field(
        default=None,
        converter=_translation_terms,
        validator=_item_list(StructuredContextTranslationTerm),
    )


TranslationConfigInput = TranslationConfig | Mapping[str, Any] | None
"""``translation`` as given: the typed object or its dict (the official SDK's input type)."""
StructuredContextInput = StructuredContext | Mapping[str, Any] | str | None
"""``context`` as given: the typed object, its dict, or a legacy plain string."""


def _translation_input(value: TranslationConfigInput) -> TranslationConfig | None:
    if isinstance(value, Mapping):
        return TranslationConfig(**value)
    return value


def _context_input(value: StructuredContextInput) -> StructuredContext | str | None:
    if isinstance(value, Mapping):
        return StructuredContext(**value)
    return value


def _deprecated_on_config(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        warnings.warn(
            f"Setting {attribute.name} on CreateTranscriptionConfig is deprecated (as in the "
            f"official SDK); pass {attribute.name}= to the create call instead",
            DeprecationWarning,
            stacklevel=4,
        )


@attrs.define(kw_only=True)
class CreateTranscriptionConfig(ModelMethods):
    """Every option of a transcription job except the audio — the official SDK's model, mutable
    like it (``config.translation = TranslationConfig(...)`` after construction works).

    Keyword options given to a create/transcribe call override its fields. ``model`` and
    ``client_reference_id`` are deprecated here (a DeprecationWarning, as officially) and, when
    set, win over the call's arguments, as in the official SDK. Assignments are type-checked;
    the rest (language codes, lengths, URL) is checked when the request is built.
    """

    model: str | None = attrs.field(
        default=None, validator=[_check_type(str, "a model id"), _deprecated_on_config]
    )
    language_hints: list[str] | None = attrs.field(default=None, validator=_str_list)
    language_hints_strict: bool | None = attrs.field(
        default=None, validator=_check_type(bool, "True or False")
    )
    enable_speaker_diarization: bool | None = attrs.field(
        default=None, validator=_check_type(bool, "True or False")
    )
    enable_language_identification: bool | None = attrs.field(
        default=None, validator=_check_type(bool, "True or False")
    )
    translation: TranslationConfig | None = attrs.field(
        default=None,
        converter=_translation_input,
        validator=_check_type(TranslationConfig, "a TranslationConfig or its dict"),
    )
    context: StructuredContext | str | None = attrs.field(
        default=None,
        converter=_context_input,
        validator=_check_type((StructuredContext, str), "a StructuredContext, dict or string"),
    )
    webhook_url: str | None = attrs.field(default=None, validator=_check_type(str, "a URL"))
    webhook_auth_header_name: str | None = attrs.field(
        default=None, validator=_check_type(str, "a string")
    )
    webhook_auth_header_value: str | None = attrs.field(
        default=None, validator=_check_type(str, "a string"), repr=mask_secret
    )
    client_reference_id: str | None = attrs.field(
        default=None, validator=[_check_type(str, "a string"), _deprecated_on_config]
    )

    def as_options(self) -> dict[str, Any]:
        """The job options that are set (not ``model`` / ``client_reference_id``), as the
        keyword options of a create call."""
        skip = ("model", "client_reference_id")
        return {
            field.name: value
            for field in attrs.fields(type(self))
            if field.name not in skip and (value := getattr(self, field.name)) is not None
        }


@omit_none
@attrs.define(frozen=True, kw_only=True)
class CreateTranscriptionPayload(ModelMethods):
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
class Transcription(ModelMethods):
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
class GetTranscriptionsPayload(ModelMethods):
    """Query of ``GET /v1/transcriptions``; unset fields are not sent."""

    limit: int | None = None
    cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetTranscriptionsResponse(ModelMethods):
    """One page of jobs; ``next_page_cursor`` is None on the last page."""

    transcriptions: list[Transcription]
    next_page_cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetTranscriptionsCountResponse(ModelMethods):
    """Job counts, split by where they were created from."""

    total: int
    public_api: int
    playground: int


@omit_none
class TranscriptionTranscriptToken(
    msgspec.Struct,
    ModelMethods,
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
class TranscriptionTranscript(ModelMethods):
    """Text and tokens of a completed job (``GET /v1/transcriptions/{id}/transcript``)."""

    id: str
    text: str = attrs.field(repr=_text_repr)
    tokens: list[TranscriptionTranscriptToken] = attrs.field(repr=_tokens_repr)
