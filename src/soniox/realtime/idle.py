"""What a pool of idle realtime links decides, sans-IO: which links to keep, which to replace
before the server's lifetime for them ends, and how many to open.

A pre-connected link takes the TCP + TLS + WebSocket handshake off a session's first-token path.
It is good for a while only: the server closes a connection that stays open too long, so a link
is replaced ``refresh_before_s`` before ``max_lifetime_s`` (and never handed out once expired).
The sync and async pools feed this the time and act on its answers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import attrs

from soniox.errors import ClientValidationError

__all__ = [
    "DEFAULT_IDLE_MAX_LIFETIME_SEC",
    "DEFAULT_IDLE_REFRESH_BEFORE_SEC",
    "IdlePolicy",
    "Verdict",
]

DEFAULT_IDLE_MAX_LIFETIME_SEC: Final = 600.0
"""How long an idle link is used at most (the official SDK's default: 10 minutes)."""
DEFAULT_IDLE_REFRESH_BEFORE_SEC: Final = 60.0
"""How long before that an idle link is replaced."""


class Verdict(StrEnum):
    KEEP = "keep"
    REFRESH = "refresh"
    """Still usable, but replace it now: its lifetime is nearly over."""
    EXPIRED = "expired"


@attrs.frozen
class IdlePolicy:
    """``pool_size`` idle links, each used within ``max_lifetime_s`` of opening and replaced
    ``refresh_before_s`` before that."""

    pool_size: int
    max_lifetime_s: float = DEFAULT_IDLE_MAX_LIFETIME_SEC
    refresh_before_s: float = DEFAULT_IDLE_REFRESH_BEFORE_SEC

    def __attrs_post_init__(self) -> None:
        if isinstance(self.pool_size, bool) or self.pool_size < 1:
            raise ClientValidationError("pool_size must be at least 1", field="pool_size")
        if not self.max_lifetime_s > 0:
            raise ClientValidationError(
                "idle_max_lifetime_sec must be greater than 0", field="idle_max_lifetime_sec"
            )
        if not 0 < self.refresh_before_s < self.max_lifetime_s:
            raise ClientValidationError(
                "idle_refresh_before_sec must be greater than 0 and less than "
                "idle_max_lifetime_sec",
                field="idle_refresh_before_sec",
            )

    def verdict(self, opened_at: float, now: float) -> Verdict:
        age = now - opened_at
        if age >= self.max_lifetime_s:
            return Verdict.EXPIRED
        if age >= self.max_lifetime_s - self.refresh_before_s:
            return Verdict.REFRESH
        return Verdict.KEEP

    def to_open(self, idle: int, opening: int) -> int:
        """How many links to open now, with ``idle`` in the pool and ``opening`` under way."""
        return max(0, self.pool_size - idle - opening)
