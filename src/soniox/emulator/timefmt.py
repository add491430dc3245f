"""UTC timestamps as the API writes and reads them (ISO-8601 with a ``Z`` suffix)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_z", "parse_iso", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """``2024-11-26T00:00:00.123Z``: millisecond precision, always UTC, ``Z`` not ``+00:00``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime | None:
    """Parse an ISO-8601 date or date-time; naive values are taken as UTC. ``None`` if invalid."""
    candidate = text.strip()
    if not candidate:
        return None
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
