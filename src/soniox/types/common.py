"""Building blocks shared by every area: open enums, UTC timestamps, secrets in reprs, the error
body (defined in :mod:`soniox.errors`, the floor below, and re-exported here).

Enums are *open*: :class:`OpenStrEnum` members compare equal to their wire strings, and a value
this SDK version does not know (the API added a status, say) still parses, into a pseudo-member
whose ``is_known`` is False, instead of failing the whole response. That keeps old SDKs working
against a newer API and types cleanly under pyright strict (the field type stays the enum).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Self, TypeVar, cast

import attrs
import msgspec

from soniox.errors import ApiError, ApiErrorValidationError

__all__ = [
    "ModelMethods",
    "OpenStrEnum",
    "UtcDateTime",
    "mask_secret",
    "omit_none",
    "omits_none",
    "ApiErrorValidationError",
    "ApiError",
    "Language",
]


class OpenStrEnum(enum.StrEnum):
    """A str enum that accepts values added to the API later (they become unknown pseudo-members).

    Known values are the ordinary members (``is`` works); an unknown value ``v`` parses to an
    instance equal to ``v`` that is not in ``list(cls)``. ``str(member)`` is always the wire value.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        pseudo = str.__new__(cls, value)
        pseudo._name_ = value
        pseudo._value_ = value
        return pseudo

    @property
    def is_known(self) -> bool:
        """True for a value this SDK version was written for."""
        return self._name_ in type(self).__members__

    def __repr__(self) -> str:
        if self.is_known:
            return super().__repr__()
        return f"<{type(self).__name__} (unknown): {self._value_!r}>"


UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware datetime; the API sends ISO-8601 UTC (``...Z``). Naive input is read as UTC."""


# --- the pydantic methods official code calls ------------------------------------------------------


def _plain(value: Any, exclude_none: bool) -> Any:
    """A model as plain Python data, values (datetimes, decimals, enums) left as they are."""
    pairs: Iterator[tuple[str, Any]]
    kind = cast("type[Any]", type(value))
    if attrs.has(kind):
        pairs = ((f.name, getattr(value, f.name)) for f in attrs.fields(kind))
    elif isinstance(value, msgspec.Struct):
        pairs = ((name, getattr(value, name)) for name in value.__struct_fields__)
    elif isinstance(value, list | tuple):
        return [_plain(item, exclude_none) for item in cast("list[Any]", value)]
    elif isinstance(value, dict):
        items = cast("dict[Any, Any]", value)
        return {k: _plain(v, exclude_none) for k, v in items.items()}
    else:
        return value
    return {k: _plain(v, exclude_none) for k, v in pairs if not (exclude_none and v is None)}


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value)
        return {k: _drop_none(v) for k, v in items.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in cast("list[Any]", value)]
    return value


_CODEC: dict[str, Callable[..., Any]] = {}


def install_codec(**functions: Callable[..., Any]) -> None:
    """Called by :mod:`._converter` as it loads (``structure``, ``unstructure``, ``loads``): the
    model methods use the one converter without this module importing it (it imports us)."""
    _CODEC.update(functions)


class ModelMethods:
    """The pydantic methods code written for the official SDK calls on its models
    (``model_dump``, ``model_dump_json``, ``model_copy``, ``model_validate``,
    ``model_validate_json``), on top of this SDK's one converter. ``model_dump()`` gives Python
    values (datetimes stay datetimes), ``model_dump(mode="json")`` the API's JSON shape."""

    __slots__ = ()

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False) -> dict[str, Any]:
        """This model as a dict (``mode="json"``: JSON-ready values, as the API writes them)."""
        if mode == "json":
            data: Any = _CODEC["unstructure"](self)
            return _drop_none(data) if exclude_none else data
        if mode != "python":
            raise ValueError(f"mode must be 'python' or 'json', got {mode!r}")
        result: dict[str, Any] = _plain(self, exclude_none)
        return result

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False) -> str:
        """This model as JSON text (compact unless ``indent``, like pydantic's)."""
        import json

        data = self.model_dump(mode="json", exclude_none=exclude_none)
        if indent is None:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(data, indent=indent, ensure_ascii=False)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied (``deep`` copies nested values too)."""
        import copy

        source = copy.deepcopy(self) if deep else self
        changes = dict(update or {})
        if isinstance(source, msgspec.Struct):
            return msgspec.structs.replace(source, **changes)
        return attrs.evolve(source, **changes)

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """Read plain data (or an instance) into this model (DecodeError when it does not fit)."""
        if isinstance(obj, cls):
            return obj
        made: Self = _CODEC["structure"](obj, cls)
        return made

    @classmethod
    def model_validate_json(cls, data: str | bytes | bytearray) -> Self:
        """Read JSON text into this model."""
        made: Self = _CODEC["loads"](data, cls)
        return made


_T = TypeVar("_T", bound=type)
_OMIT_NONE: set[type] = set()


def omit_none(cls: _T) -> _T:
    """Mark a class whose ``None`` fields are left out when dumped (requests, sparse server shapes).

    Without the mark every field is written, ``null`` included, as the API does for e.g.
    ``Transcription.error_message`` (and as SDKs that require those keys expect).
    """
    _OMIT_NONE.add(cls)
    return cls


def omits_none(cls: type) -> bool:
    """Whether :func:`omit_none` marked ``cls``."""
    return cls in _OMIT_NONE


omit_none(ApiError)  # defined a floor below; dumped like the API's own error bodies


def mask_secret(value: object) -> str:
    """Repr for a secret field: shows whether it is set, never its content."""
    if value is None:
        return "None"
    return "'***'"


@attrs.define(frozen=True, kw_only=True)
class Language(ModelMethods):
    """A language a model supports: ISO-639-1 ``code`` and English ``name``."""

    code: str
    name: str
