"""Building blocks shared by every area: open enums, UTC timestamps, secrets in reprs, errors.

Enums are *open*: :class:`OpenStrEnum` members compare equal to their wire strings, and a value
this SDK version does not know (the API added a status, say) still parses, into a pseudo-member
whose ``is_known`` is False, instead of failing the whole response. That keeps old SDKs working
against a newer API and types cleanly under pyright strict (the field type stays the enum).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, TypeVar

import attrs
import msgspec

__all__ = [
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


def mask_secret(value: object) -> str:
    """Repr for a secret field: shows whether it is set, never its content."""
    if value is None:
        return "None"
    return "'***'"


@attrs.define(frozen=True, kw_only=True)
class ApiErrorValidationError:
    """One field-level problem inside a 400 ``invalid_request`` answer."""

    error_type: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message} ({self.error_type})"


@omit_none
@attrs.define(frozen=True, kw_only=True)
class ApiError:
    """The REST error body. ``status_code`` in the body is unreliable: classify by HTTP status."""

    status_code: int
    error_type: str
    message: str
    validation_errors: list[ApiErrorValidationError] = attrs.field(
        factory=list[ApiErrorValidationError]
    )
    request_id: str | None = None
    more_info: str | None = None


@attrs.define(frozen=True, kw_only=True)
class Language:
    """A language a model supports: ISO-639-1 ``code`` and English ``name``."""

    code: str
    name: str
