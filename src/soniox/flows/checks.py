"""Argument checks shared by the resource namespaces: caught before anything is sent."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from soniox.errors import RequestValidationError

__all__ = ["MAX_PAGE_LIMIT", "check_int", "check_limit", "check_optional_str", "id_path"]

MAX_PAGE_LIMIT: Final = 1000
"""The API's largest page (``limit`` is 1..1000 on every listing)."""


def check_int(value: object, field: str, low: int, high: int) -> int:
    """``value`` as an int within ``[low, high]`` (bools refused: ``True`` is not 1 second)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestValidationError(
            f"{field} must be an integer, got {type(value).__name__}", field=field
        )
    if not low <= value <= high:
        raise RequestValidationError(
            f"{field} must be between {low} and {high}, got {value}", field=field
        )
    return value


def check_limit(limit: object) -> int:
    """A page size the API accepts (1..1000)."""
    return check_int(limit, "limit", 1, MAX_PAGE_LIMIT)


def check_optional_str(value: object, field: str, max_length: int | None = None) -> str | None:
    """None, or a string of at most ``max_length`` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestValidationError(
            f"{field} must be a string, got {type(value).__name__}", field=field
        )
    if max_length is not None and len(value) > max_length:
        raise RequestValidationError(
            f"{field} has {len(value)} characters; at most {max_length} are allowed", field=field
        )
    return value


def id_path(prefix: str, value: object, field: str) -> str:
    """``prefix/<id>`` with the id checked (a non-empty string) and percent-encoded."""
    if not isinstance(value, str) or not value.strip():
        raise RequestValidationError(f"{field} must be a non-empty string", field=field)
    return f"{prefix}/{quote(value, safe='')}"
