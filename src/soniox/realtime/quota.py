"""The ``quota`` link: the account's realtime limits kept by every process on the key.

Soniox allows an account 10 concurrent realtime streams and 100 realtime requests a minute
(soniox-api.md §3.5); past them a stream is refused (``429``). With many workers on one key,
each must ask the others. The ``quota`` link does, through the client's shared state
(``SonioxConfig.shared_state``: Redis; else this process's):

* a **lease** on one of ``max_streams`` slots before the session's first connection, held for
  the session's life — across its reconnections — renewed by the session's ticker every third
  of ``lease_ttl_s``, released at the end; a crashed worker's lease expires after
  ``lease_ttl_s``;
* a **turn** of the ``connects_per_minute`` bucket before every connection, reconnections
  included.

Waiting is bounded: past ``max_wait_s`` the attempt fails with a typed
:class:`~soniox.errors.RealtimeRateLimitError` (a 429 the reconnection policy may retry). What
was waited shows in ``session.stats`` (``quota_wait_s``), the session's metrics record and the
log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any, ClassVar

import attrs

from soniox.config import SonioxConfig
from soniox.errors import RealtimeRateLimitError, SonioxError
from soniox.middleware.state import PROCESS_STATE, quota_state_for, shared_state_for
from soniox.shared import Grant, SharedState

from .chain import LinkContext, LinkHooks, RealtimeLink, register_realtime_link

__all__ = ["Quota", "QuotaHooks"]

_log = logging.getLogger("soniox")
STREAMS = "realtime_streams"
CONNECTS = "realtime_connects"


@attrs.frozen
class Quota(RealtimeLink):
    """At most ``max_streams`` sessions at once and ``connects_per_minute`` connections a
    minute for the key, fleet-wide (None: that limit off)."""

    name: ClassVar[str] = "quota"
    max_streams: int | None = 10
    connects_per_minute: float | None = 100.0
    lease_ttl_s: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    max_wait_s: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    state: SharedState | None = attrs.field(default=None, eq=False, repr=False)
    """Where the quota lives (default: the client's ``shared_state``, else this process)."""

    def open(self, context: LinkContext) -> LinkHooks | None:
        if self.max_streams is None and self.connects_per_minute is None:
            return None
        state, scope = self._where(context)
        return QuotaHooks(self, state, scope)

    def _where(self, context: LinkContext) -> tuple[SharedState, str]:
        config = getattr(context.client, "config", None)
        if self.state is not None:  # a state given to the link: the config's scope, if shared
            found = shared_state_for(config) if isinstance(config, SonioxConfig) else None
            return self.state, found[1] if found is not None else "shared"
        if not isinstance(config, SonioxConfig):
            return PROCESS_STATE, "local"
        return quota_state_for(config)


class QuotaHooks(LinkHooks):
    """One session's lease and turns (see the module docstring)."""

    def __init__(self, quota: Quota, state: SharedState, scope: str) -> None:
        self.quota = quota
        self.state = state
        self.scope = scope
        self.holder = uuid.uuid4().hex
        self.held = False
        self.waited_s = 0.0
        self._renewed = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"QuotaHooks(held={self.held}, waited {self.waited_s:.3f}s)"

    def stats(self) -> dict[str, Any]:
        return {"quota_wait_s": self.waited_s}

    # --- sync sessions ------------------------------------------------------------------------
    def gate(self) -> None:
        started = time.monotonic()
        deadline = started + self.quota.max_wait_s
        quota = self.quota
        if quota.max_streams is not None and not self.held:
            while not (grant := self._lease()).granted:
                self._pause(grant, deadline, "a concurrent-stream slot")
                time.sleep(min(grant.wait_s, 0.25, max(0.0, deadline - time.monotonic())))
            self.held = True
            self._renewed = time.monotonic()
        if quota.connects_per_minute is not None:
            turn = self._turn(deadline)
            if turn.wait_s:
                time.sleep(turn.wait_s)
        self._waited(started)

    def on_tick(self, now: float) -> None:
        if self._renewal_due(now):
            self._lease()

    # --- asyncio sessions ---------------------------------------------------------------------
    async def agate(self) -> None:
        started = time.monotonic()
        deadline = started + self.quota.max_wait_s
        quota = self.quota
        if quota.max_streams is not None and not self.held:
            while not (grant := await self._alease()).granted:
                self._pause(grant, deadline, "a concurrent-stream slot")
                await asyncio.sleep(min(grant.wait_s, 0.25, max(0.0, deadline - time.monotonic())))
            self.held = True
            self._renewed = time.monotonic()
        if quota.connects_per_minute is not None:
            rate, burst, left = self._turn_terms(deadline)
            turn = await self.state.atake(
                self.scope, CONNECTS, rate=rate, burst=burst, max_wait=left
            )
            self._check_turn(turn, left)
            if turn.wait_s:
                await asyncio.sleep(turn.wait_s)
        self._waited(started)

    async def aon_tick(self, now: float) -> None:
        if self._renewal_due(now):
            await self._alease()

    # --- both -------------------------------------------------------------------------------
    def on_end(self, error: SonioxError | None, stats: dict[str, Any]) -> None:
        if self.held:
            self.held = False
            self.state.release(self.scope, STREAMS, self.holder)

    def _lease(self) -> Grant:
        assert self.quota.max_streams is not None
        return self.state.lease(
            self.scope,
            STREAMS,
            self.holder,
            limit=self.quota.max_streams,
            ttl_s=self.quota.lease_ttl_s,
        )

    async def _alease(self) -> Grant:
        assert self.quota.max_streams is not None
        return await self.state.alease(
            self.scope,
            STREAMS,
            self.holder,
            limit=self.quota.max_streams,
            ttl_s=self.quota.lease_ttl_s,
        )

    def _turn(self, deadline: float) -> Grant:
        rate, burst, left = self._turn_terms(deadline)
        turn = self.state.take(self.scope, CONNECTS, rate=rate, burst=burst, max_wait=left)
        self._check_turn(turn, left)
        return turn

    def _turn_terms(self, deadline: float) -> tuple[float, float, float]:
        """The connect bucket's rate and burst (a second's worth, at least one), and the
        wait still allowed before ``deadline``."""
        assert self.quota.connects_per_minute is not None
        rate = self.quota.connects_per_minute / 60
        return rate, max(1.0, rate), max(0.0, deadline - time.monotonic())

    def _renewal_due(self, now: float) -> bool:
        """Whether the held lease is a third of its ttl old (then it counts as renewed now)."""
        if not self.held or now - self._renewed < self.quota.lease_ttl_s / 3:
            return False
        self._renewed = now
        return True

    def _check_turn(self, turn: Grant, left: float) -> None:
        if not turn.granted:
            raise RealtimeRateLimitError(
                f"the realtime connection rate ({self.quota.connects_per_minute:g}/min for the "
                f"key) would hold this connection {turn.wait_s:.3g}s, past max_wait_s "
                f"({left:.3g}s left)"
            )

    def _pause(self, grant: Grant, deadline: float, what: str) -> None:
        if time.monotonic() >= deadline:
            raise RealtimeRateLimitError(
                f"waited {self.quota.max_wait_s:g}s for {what} in vain: {self.quota.max_streams} "
                "realtime streams are open for this key (quota link)"
            )

    def _waited(self, started: float) -> None:
        waited = time.monotonic() - started
        if waited >= 0.001:
            with self._lock:
                self.waited_s += waited
            _log.info("realtime quota: waited %.3fs for a slot or a turn", waited)


def _quota_from(config: SonioxConfig) -> Quota | None:
    if config.realtime_max_streams is None and config.realtime_connects_per_minute is None:
        return None
    return Quota(config.realtime_max_streams, config.realtime_connects_per_minute)


register_realtime_link("quota", _quota_from)
