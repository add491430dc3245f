"""The service's per-account limits, as the emulator enforces them when asked to.

Soniox limits an organization or project, not a process (soniox-api.md §3.5): requests per
minute on REST, concurrent realtime streams, realtime requests per minute. The emulator counts
them per *account* — the API key a request or stream authenticates with, or the key that minted
its temporary key — across every connection it serves, so that many client processes sharing a
key meet one limit, as they would in production. All off by default (``None``); switched on by
:class:`~soniox.emulator.config.EmulatorConfig` fields, ``soniox emulator`` flags, the admin API
(``PUT /_emulator/limits``) or ``emulator.limits.set(...)``.

Windows are exact: a log of the last minute's admissions per account (at most the limit's
length), so "R per minute" means no more than R in any 60 s, and the answer to one too many is
when the oldest of them leaves the window (``Retry-After``). Accounts are digests of keys; a key
itself is never kept here.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

__all__ = ["WINDOW_S", "AccountLimits", "LimitSettings", "account_of"]

WINDOW_S: Final = 60.0


def account_of(api_key: str) -> str:
    """The account a key belongs to, as the limits name it: a digest, never the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _limit(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be a whole number >= 1, or None (off)")


@attrs.frozen
class LimitSettings:
    """Which limits are on (None: off)."""

    rest_requests_per_minute: int | None = attrs.field(default=None, validator=_limit)
    """REST requests per account per minute; past it ``429 limit_exceeded`` + ``Retry-After``."""
    realtime_streams: int | None = attrs.field(default=None, validator=_limit)
    """Concurrent realtime streams per account; past it the error frame ``429
    max_concurrent_connections_reached``."""
    realtime_connects_per_minute: int | None = attrs.field(default=None, validator=_limit)
    """Realtime streams opened per account per minute; past it the error frame ``429
    limit_exceeded``."""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LimitSettings:
        unknown = sorted(set(data) - {f.name for f in attrs.fields(cls)})
        if unknown:
            raise ValueError(f"unknown limit(s) {unknown}")
        return cls(**data)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, int | None]:
        return attrs.asdict(self)


class AccountLimits:
    """The counters behind :class:`LimitSettings`, for every account, under one lock."""

    def __init__(
        self, settings: LimitSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings or LimitSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: dict[str, deque[float]] = {}
        self._connects: dict[str, deque[float]] = {}
        self._streams: dict[str, int] = {}
        self.refused: dict[str, int] = {"rest": 0, "connects": 0, "streams": 0}
        """How many admissions each limit refused (for tests and benchmarks)."""

    def __repr__(self) -> str:
        return f"AccountLimits({self._settings!r}, refused {self.refused})"

    @property
    def settings(self) -> LimitSettings:
        return self._settings

    def configure(self, settings: LimitSettings) -> None:
        """Switch limits on or off now (counts so far are kept)."""
        with self._lock:
            self._settings = settings

    def set(
        self,
        *,
        rest_requests_per_minute: int | None = None,
        realtime_streams: int | None = None,
        realtime_connects_per_minute: int | None = None,
    ) -> None:
        """``emulator.limits.set(rest_requests_per_minute=600)``: these limits, the others off."""
        self.configure(
            LimitSettings(rest_requests_per_minute, realtime_streams, realtime_connects_per_minute)
        )

    def clear(self) -> None:
        """All limits off."""
        self.configure(LimitSettings())

    def rest_request(self, account: str) -> float | None:
        """Admit one REST request: None, or the seconds until one more would be admitted."""
        limit = self._settings.rest_requests_per_minute
        if limit is None:
            return None
        with self._lock:
            wait = self._admit(self._requests, account, limit)
            if wait is not None:
                self.refused["rest"] += 1
            return wait

    def realtime_connect(self, account: str) -> float | None:
        """Admit one realtime stream opening: None, or the seconds to wait (see above)."""
        limit = self._settings.realtime_connects_per_minute
        if limit is None:
            return None
        with self._lock:
            wait = self._admit(self._connects, account, limit)
            if wait is not None:
                self.refused["connects"] += 1
            return wait

    def open_stream(self, account: str) -> bool:
        """Take one of the account's concurrent streams (False: all taken). Every True is
        matched by one :meth:`close_stream`."""
        limit = self._settings.realtime_streams
        with self._lock:
            held = self._streams.get(account, 0)
            if limit is not None and held >= limit:
                self.refused["streams"] += 1
                return False
            self._streams[account] = held + 1
            return True

    def close_stream(self, account: str) -> None:
        with self._lock:
            held = self._streams.get(account, 0) - 1
            if held > 0:
                self._streams[account] = held
            else:
                self._streams.pop(account, None)

    def streams(self, account: str) -> int:
        """Streams the account holds now."""
        with self._lock:
            return self._streams.get(account, 0)

    def snapshot(self) -> dict[str, Any]:
        """The settings, what was refused, and the streams held now (by account digest)."""
        with self._lock:
            return {
                **self._settings.to_json(),
                "refused": dict(self.refused),
                "streams": dict(self._streams),
            }

    def _admit(self, logs: dict[str, deque[float]], account: str, limit: int) -> float | None:
        now = self._clock()
        log = logs.get(account)
        if log is None:
            log = logs[account] = deque()
        while log and log[0] <= now - WINDOW_S:
            log.popleft()
        if len(log) >= limit:
            return max(0.0, log[0] + WINDOW_S - now)
        log.append(now)
        return None


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, rounded up (``Retry-After`` has no fractions), at least 1."""
    return str(max(1, math.ceil(wait_s)))
