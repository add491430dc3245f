"""Request validation that reports problems the way the real API does.

The real service validates with pydantic and returns each problem as a ``validation_errors``
entry ``{error_type, location, message}`` (``missing`` / ``Field required`` at
``body.payload.model``, ``less_than_equal`` at ``body.payload.expires_in_seconds``, ...). This
module reproduces that vocabulary for the payloads the emulator accepts (pydantic's lax mode:
``"true"`` is a boolean, ``"5"`` an integer, but ``5`` is not a string) so clients can be tested
against realistic 400 responses without the emulator depending on pydantic.

Choices where the API is silent (documented here once):

* unknown model, or a real-time model passed to an async job: ``value_error`` at
  ``body.payload.model``, ``Invalid model`` (the example in the OpenAPI document);
* neither or both of ``audio_url`` / ``file_id``: ``value_error`` at ``body.payload``;
* ``translation`` missing its languages: ``value_error`` at ``body.payload.translation``;
* a ``file_id`` that names no stored file: ``value_error`` at ``body.payload.file_id``,
  ``File not found``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import attrs

from .catalog import resolve_async_model
from .errors import ApiFailure, ValidationIssue

__all__ = [
    "MAX_JSON_BODY_BYTES",
    "TemporaryKeyRequest",
    "TranscriptionRequest",
    "normalize_uuid",
    "parse_json_body",
    "parse_limit",
    "validate_create_transcription",
    "validate_temporary_key",
]

MAX_JSON_BODY_BYTES = 1024 * 1024
"""JSON request bodies above this size are refused (the largest valid payload is ~30 KiB)."""

URL_PATTERN = r"^https?://[^\s]+$"
_URL_RE = re.compile(URL_PATTERN)
_BOOL_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_BOOL_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_UUID_CHARS = frozenset("0123456789abcdefABCDEF-")


def normalize_uuid(value: str) -> str | None:
    """Canonical lower-case hyphenated form of a UUID string, or ``None`` when malformed."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _uuid_problem(value: str) -> str:
    body = value[9:] if value.lower().startswith("urn:uuid:") else value
    offset = len(value) - len(body)
    for index, char in enumerate(body):
        if char not in _UUID_CHARS:
            return (
                "invalid character: expected an optional prefix of `urn:uuid:` followed by "
                f"[0-9a-fA-F-], found `{char}` at {index + offset + 1}"
            )
    if "-" in body:
        return f"invalid group count or length in hyphenated UUID `{body}`"
    return f"invalid length: expected length 32 for simple format, found {len(body)}"


def _or_list(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class _Checker:
    """Collects issues under one location prefix; each check returns ``None`` when it failed."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.issues: list[ValidationIssue] = []

    def loc(self, *parts: str | int) -> str:
        return ".".join([self.root, *(str(p) for p in parts)])

    def fail(self, error_type: str, path: Sequence[str | int], message: str) -> None:
        self.issues.append(ValidationIssue(error_type, self.loc(*path), message))

    def string(
        self,
        value: object,
        path: Sequence[str | int],
        *,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        if not isinstance(value, str):
            self.fail("string_type", path, "Input should be a valid string")
            return None
        if max_length is not None and len(value) > max_length:
            suffix = "" if max_length == 1 else "s"
            self.fail(
                "string_too_long",
                path,
                f"String should have at most {max_length} character{suffix}",
            )
            return None
        if pattern is not None and not pattern.search(value):
            self.fail(
                "string_pattern_mismatch",
                path,
                f"String should match pattern '{pattern.pattern}'",
            )
            return None
        return value

    def boolean(self, value: object, path: Sequence[str | int]) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, float) and value in (0.0, 1.0):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _BOOL_TRUE:
                return True
            if lowered in _BOOL_FALSE:
                return False
            self.fail(
                "bool_parsing", path, "Input should be a valid boolean, unable to interpret input"
            )
            return None
        self.fail("bool_type", path, "Input should be a valid boolean")
        return None

    def integer(
        self,
        value: object,
        path: Sequence[str | int],
        *,
        ge: int | None = None,
        le: int | None = None,
    ) -> int | None:
        number: int | None = None
        if isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float):
            if not value.is_integer():
                self.fail(
                    "int_from_float",
                    path,
                    "Input should be a valid integer, got a number with a fractional part",
                )
                return None
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                self.fail(
                    "int_parsing",
                    path,
                    "Input should be a valid integer, unable to parse string as an integer",
                )
                return None
        else:
            self.fail("int_type", path, "Input should be a valid integer")
            return None
        if ge is not None and number < ge:
            self.fail("greater_than_equal", path, f"Input should be greater than or equal to {ge}")
            return None
        if le is not None and number > le:
            self.fail("less_than_equal", path, f"Input should be less than or equal to {le}")
            return None
        return number

    def uuid(self, value: object, path: Sequence[str | int]) -> str | None:
        if not isinstance(value, str):
            self.fail("uuid_type", path, "UUID input should be a string, bytes or UUID object")
            return None
        normalized = normalize_uuid(value)
        if normalized is None:
            self.fail("uuid_parsing", path, f"Input should be a valid UUID, {_uuid_problem(value)}")
        return normalized

    def enum(self, value: object, path: Sequence[str | int], allowed: Sequence[str]) -> str | None:
        if isinstance(value, str) and value in allowed:
            return value
        self.fail("enum", path, f"Input should be {_or_list(allowed)}")
        return None

    def string_list(
        self,
        value: object,
        path: Sequence[str | int],
        *,
        max_items: int | None = None,
        item_max_length: int | None = None,
    ) -> list[str] | None:
        if not isinstance(value, list):
            self.fail("list_type", path, "Input should be a valid list")
            return None
        items = cast(list[object], value)
        if max_items is not None and len(items) > max_items:
            self.fail(
                "too_long",
                path,
                f"List should have at most {max_items} items after validation, not {len(items)}",
            )
            return None
        before = len(self.issues)
        out: list[str] = []
        for index, item in enumerate(items):
            checked = self.string(item, [*path, index], max_length=item_max_length)
            if checked is not None:
                out.append(checked)
        return out if len(self.issues) == before else None

    def mapping(self, value: object, path: Sequence[str | int]) -> Mapping[str, object] | None:
        if isinstance(value, dict):
            return cast(dict[str, object], value)
        self.fail(
            "model_attributes_type",
            path,
            "Input should be a valid dictionary or object to extract fields from",
        )
        return None

    def missing(self, path: Sequence[str | int]) -> None:
        self.fail("missing", path, "Field required")


# JSON bodies and query parameters ----------------------------------------------------------


def parse_json_body(raw: bytes) -> object:
    """Decode a JSON request body; a 400 ``invalid_request`` the way the API words it otherwise."""
    if not raw.strip():
        raise ApiFailure(
            400,
            "invalid_request",
            validation_errors=[ValidationIssue("missing", "body.payload", "Field required")],
        )
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        detail = exc.msg
    except UnicodeDecodeError:
        detail = "invalid UTF-8"
    except (ValueError, RecursionError):  # e.g. an integer literal past the digit limit
        detail = "value out of range or nested too deeply"
    raise ApiFailure(
        400,
        "invalid_request",
        validation_errors=[ValidationIssue("json_invalid", "body", f"JSON decode error: {detail}")],
    )


def parse_limit(raw: str | None, *, default: int = 1000, maximum: int = 1000) -> int:
    """The ``limit`` query parameter (1..maximum); 400 with a ``query.limit`` issue otherwise."""
    if raw is None:
        return default
    checker = _Checker("query")
    value = checker.integer(raw, ["limit"], ge=1, le=maximum)
    if value is None:
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)
    return value


# POST /v1/transcriptions ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TranscriptionRequest:
    """A validated create-transcription payload (``None``: the client did not set the field)."""

    model: str
    audio_url: str | None = None
    file_id: str | None = None
    language_hints: tuple[str, ...] | None = None
    language_hints_strict: bool | None = None
    enable_speaker_diarization: bool = False
    enable_language_identification: bool = False
    translation: dict[str, str] | None = None
    context: str | dict[str, Any] | None = None
    webhook_url: str | None = None
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = attrs.field(default=None, repr=False)
    client_reference_id: str | None = None


def _validate_translation(checker: _Checker, value: object) -> dict[str, str] | None:
    data = checker.mapping(value, ["translation"])
    if data is None:
        return None
    before = len(checker.issues)
    out: dict[str, str] = {}
    kind = data.get("type", MISSING)
    if kind is MISSING:
        checker.missing(["translation", "type"])
    else:
        checked = checker.enum(kind, ["translation", "type"], ["one_way", "two_way"])
        if checked is not None:
            out["type"] = checked
    for key in ("target_language", "language_a", "language_b"):
        item = data.get(key)
        if item is not None:
            checked = checker.string(item, ["translation", key])
            if checked is not None:
                out[key] = checked
    if len(checker.issues) != before:
        return None
    if out["type"] == "one_way":
        if not out.get("target_language"):
            checker.fail(
                "value_error",
                ["translation"],
                "target_language is required for one_way translation",
            )
            return None
        if "language_a" in out or "language_b" in out:
            checker.fail(
                "value_error",
                ["translation"],
                "language_a and language_b are only allowed for two_way translation",
            )
            return None
    else:
        if not out.get("language_a") or not out.get("language_b"):
            checker.fail(
                "value_error",
                ["translation"],
                "language_a and language_b are required for two_way translation",
            )
            return None
        if "target_language" in out:
            checker.fail(
                "value_error",
                ["translation"],
                "target_language is only allowed for one_way translation",
            )
            return None
    return out


def _validate_structured_context(
    checker: _Checker, data: Mapping[str, object]
) -> dict[str, Any] | None:
    before = len(checker.issues)
    base = ["context", "StructuredContext"]
    out: dict[str, Any] = {}
    general = data.get("general")
    if general is not None:
        if not isinstance(general, list):
            checker.fail("list_type", [*base, "general"], "Input should be a valid list")
        else:
            items: list[dict[str, str]] = []
            for index, item in enumerate(cast(list[object], general)):
                entry = checker.mapping(item, [*base, "general", index])
                if entry is None:
                    continue
                pair: dict[str, str] = {}
                for key in ("key", "value"):
                    if key not in entry:
                        checker.missing([*base, "general", index, key])
                        continue
                    checked = checker.string(entry[key], [*base, "general", index, key])
                    if checked is not None:
                        pair[key] = checked
                items.append(pair)
            out["general"] = items
    text = data.get("text")
    if text is not None:
        out["text"] = checker.string(text, [*base, "text"])
    terms = data.get("terms")
    if terms is not None:
        out["terms"] = checker.string_list(terms, [*base, "terms"])
    translation_terms = data.get("translation_terms")
    if translation_terms is not None:
        if not isinstance(translation_terms, list):
            checker.fail("list_type", [*base, "translation_terms"], "Input should be a valid list")
        else:
            pairs: list[dict[str, str]] = []
            for index, item in enumerate(cast(list[object], translation_terms)):
                entry = checker.mapping(item, [*base, "translation_terms", index])
                if entry is None:
                    continue
                pair = {}
                for key in ("source", "target"):
                    if key not in entry:
                        checker.missing([*base, "translation_terms", index, key])
                        continue
                    checked = checker.string(entry[key], [*base, "translation_terms", index, key])
                    if checked is not None:
                        pair[key] = checked
                pairs.append(pair)
            out["translation_terms"] = pairs
    return out if len(checker.issues) == before else None


def _validate_context(checker: _Checker, value: object) -> str | dict[str, Any] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _validate_structured_context(checker, cast(dict[str, object], value))
    # pydantic reports a failed union once per member.
    checker.fail(
        "model_attributes_type",
        ["context", "StructuredContext"],
        "Input should be a valid dictionary or object to extract fields from",
    )
    checker.fail("string_type", ["context", "str"], "Input should be a valid string")
    return None


def validate_create_transcription(
    payload: object, *, file_exists: Callable[[str], bool]
) -> TranscriptionRequest:
    """Validate a ``CreateTranscriptionPayload``; a 400 :class:`ApiFailure` lists the issues."""
    checker = _Checker("body.payload")
    data = checker.mapping(payload, [])
    if data is None:
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)

    def optional(name: str) -> object:
        return data.get(name)

    fields: dict[str, Any] = {}
    model = data.get("model", MISSING)
    if model is MISSING:
        checker.missing(["model"])
    else:
        checked_model = checker.string(model, ["model"], max_length=32)
        if checked_model is not None:
            if resolve_async_model(checked_model) is None:
                checker.fail("value_error", ["model"], "Invalid model")
            else:
                fields["model"] = checked_model
    if (value := optional("audio_url")) is not None:
        fields["audio_url"] = checker.string(value, ["audio_url"], max_length=4096, pattern=_URL_RE)
    if (value := optional("file_id")) is not None:
        fields["file_id"] = checker.uuid(value, ["file_id"])
    if (value := optional("language_hints")) is not None:
        hints = checker.string_list(value, ["language_hints"], max_items=100, item_max_length=10)
        fields["language_hints"] = tuple(hints) if hints is not None else None
    for flag in (
        "language_hints_strict",
        "enable_speaker_diarization",
        "enable_language_identification",
    ):
        if (value := optional(flag)) is not None:
            fields[flag] = checker.boolean(value, [flag])
    if (value := optional("translation")) is not None:
        fields["translation"] = _validate_translation(checker, value)
    if (value := optional("context")) is not None:
        fields["context"] = _validate_context(checker, value)
    if (value := optional("webhook_url")) is not None:
        fields["webhook_url"] = checker.string(
            value, ["webhook_url"], max_length=256, pattern=_URL_RE
        )
    for name in ("webhook_auth_header_name", "webhook_auth_header_value", "client_reference_id"):
        if (value := optional(name)) is not None:
            fields[name] = checker.string(value, [name], max_length=256)
    if checker.issues:
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)

    has_url = fields.get("audio_url") is not None
    has_file = fields.get("file_id") is not None
    if has_url == has_file:
        message = (
            "Only one of audio_url or file_id can be specified"
            if has_url
            else "Either audio_url or file_id must be specified"
        )
        checker.fail("value_error", [], message)
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)
    file_id = fields.get("file_id")
    if isinstance(file_id, str) and not file_exists(file_id):
        checker.fail("value_error", ["file_id"], "File not found")
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)
    for flag in ("enable_speaker_diarization", "enable_language_identification"):
        fields[flag] = bool(fields.get(flag))
    return TranscriptionRequest(**fields)


# POST /v1/auth/temporary-api-key -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TemporaryKeyRequest:
    usage_type: str
    expires_in_seconds: int
    client_reference_id: str | None = None
    single_use: bool = False
    max_session_duration_seconds: int | None = None


def validate_temporary_key(payload: object) -> TemporaryKeyRequest:
    """Validate a ``CreateTemporaryApiKeyPayload``; raises a 400 :class:`ApiFailure` otherwise."""
    checker = _Checker("body.payload")
    data = checker.mapping(payload, [])
    if data is None:
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)
    usage_type = data.get("usage_type", MISSING)
    if usage_type is MISSING:
        checker.missing(["usage_type"])
        usage_type = None
    else:
        usage_type = checker.enum(usage_type, ["usage_type"], ["transcribe_websocket", "tts_rt"])
    expires = data.get("expires_in_seconds", MISSING)
    if expires is MISSING:
        checker.missing(["expires_in_seconds"])
        expires = None
    else:
        expires = checker.integer(expires, ["expires_in_seconds"], ge=1, le=3600)
    client_reference_id = data.get("client_reference_id")
    if client_reference_id is not None:
        client_reference_id = checker.string(
            client_reference_id, ["client_reference_id"], max_length=256
        )
    single_use = data.get("single_use")
    if single_use is not None:
        single_use = checker.boolean(single_use, ["single_use"])
    max_session = data.get("max_session_duration_seconds")
    if max_session is not None:
        max_session = checker.integer(max_session, ["max_session_duration_seconds"], ge=1, le=18000)
    if checker.issues or usage_type is None or expires is None:
        raise ApiFailure(400, "invalid_request", validation_errors=checker.issues)
    return TemporaryKeyRequest(
        usage_type=usage_type,
        expires_in_seconds=expires,
        client_reference_id=client_reference_id,
        single_use=bool(single_use),
        max_session_duration_seconds=max_session,
    )
