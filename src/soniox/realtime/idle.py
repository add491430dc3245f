"""What a pool of idle realtime links decides, sans-IO: which links to keep, which to replace
before the server's lifetime for them ends, and how many to open.

A pre-connected link takes the TCP + TLS + WebSocket handshake off a session's first-token path.
It is good for a while only: the server closes a connection that stays open too long, so a link
is replaced ``refresh_before_s`` before ``max_lifetime_s`` (and never handed out once expired).
The sync and async pools feed this the time and act on its answers.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import Final, Generic, Protocol, TypeVar

import attrs

from soniox.errors import ClientValidationError

__all__ = [
    "DEFAULT_IDLE_MAX_LIFETIME_SEC",
    "DEFAULT_IDLE_REFRESH_BEFORE_SEC",
    "IdleLink",
    "IdleLinks",
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


class IdleLink(Protocol):
    """What the pool's bookkeeping needs of a link."""

    @property
    def opened_at(self) -> float | None: ...

    @property
    def connected(self) -> bool: ...


L = TypeVar("L", bound=IdleLink)


class IdleLinks(Generic[L]):
    """A pool's idle links and its plans, sans-IO: which link a borrower gets, which to close,
    when to open more. The sync pool calls it under its lock, the async one on its loop; both
    only open, ping and close what it names."""

    def __init__(self, policy: IdlePolicy) -> None:
        self.policy = policy
        self._idle: deque[L] = deque()
        self._opening = 0
        self.closed = False
        self.opened = 0
        """Links opened so far (warm-up, refills, and borrows that found none)."""
        self.failures = 0
        """Background opens that failed (the next maintenance round tries again)."""

    def __len__(self) -> int:
        return len(self._idle)

    def __contains__(self, link: object) -> bool:
        return link in self._idle

    def idle(self) -> list[L]:
        return list(self._idle)

    def reserve(self) -> bool:
        """Count one more link as opening, if the pool wants one."""
        if self.closed or self.policy.to_open(len(self._idle), self._opening) <= 0:
            return False
        self._opening += 1
        return True

    def cancelled(self) -> None:
        """A reserved open will not happen."""
        self._opening -= 1

    def arrived(self, link: L) -> bool:
        """A reserved link is open: True if it joined the pool (False: closed meanwhile, the
        caller closes it)."""
        self._opening -= 1
        self.opened += 1
        if self.closed:
            return False
        self._idle.append(link)
        return True

    def failed(self) -> None:
        self._opening -= 1
        self.failures += 1

    def take(self, now: float) -> tuple[L | None, list[L]]:
        """The oldest link still within its lifetime and open, for a borrower; and the expired
        or dead ones met on the way, to close."""
        dead: list[L] = []
        while self._idle:
            link = self._idle.popleft()
            if self._usable(link, now):
                return link, dead
            dead.append(link)
        return None, dead

    def sweep(self, now: float) -> tuple[list[L], list[L]]:
        """The maintenance round: (links to ping, links taken out to close — near or past the
        end of their lifetime, or dead)."""
        keep: list[L] = []
        drop: list[L] = []
        for link in self._idle:
            opened = link.opened_at if link.opened_at is not None else now
            fresh = self.policy.verdict(opened, now) is Verdict.KEEP and link.connected
            (keep if fresh else drop).append(link)
        self._idle = deque(keep)
        return keep, drop

    def remove(self, link: L) -> bool:
        """Take ``link`` out (a ping failed); False if a borrower took it first."""
        if link not in self._idle:
            return False
        self._idle.remove(link)
        return True

    def close(self) -> list[L]:
        """No more links: the idle ones, to close."""
        self.closed = True
        idle = list(self._idle)
        self._idle.clear()
        return idle

    def _usable(self, link: L, now: float) -> bool:
        opened = link.opened_at if link.opened_at is not None else now
        return self.policy.verdict(opened, now) is not Verdict.EXPIRED and link.connected

    def __repr__(self) -> str:
        return (
            f"IdleLinks(idle {len(self._idle)}/{self.policy.pool_size}, opening "
            f"{self._opening}, {'closed' if self.closed else 'open'})"
        )
