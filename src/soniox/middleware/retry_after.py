"""Retry-After: how long the server asked us to wait, and when that is too long to wait.

Sources, in order: ``retry-after-ms`` (milliseconds), then ``Retry-After`` as delta-seconds,
then ``Retry-After`` as an HTTP-date (measured against the transport clock's wall time). The
parsing is :func:`soniox.errors.parse_retry_after` — one parser for the retry layer and for the
``retry_after`` attribute on errors.

:class:`RetryAfterPolicy` is sans-IO and plugged into the retry middleware rather than stacked
as its own layer: a wait is one decision (the server's hint, the backoff, the deadline), and two
layers that each slept would wait twice.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from soniox.errors import ClientValidationError, HeadersLike, parse_retry_after

__all__ = ["RetryAfterPolicy", "Honour", "FailFast", "RetryAfterDecision", "parse_retry_after"]


@attrs.frozen
class Honour:
    """Wait ``delay`` seconds, as the server asked."""

    delay: float


@attrs.frozen
class FailFast:
    """The server asked for ``delay`` seconds, more than the cap: give up now."""

    delay: float
    cap: float


RetryAfterDecision = Honour | FailFast | None


def _check_cap(_instance: object, _attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ClientValidationError(
            f"retry_after_cap must be a finite number of seconds >= 0, got {value!r}",
            field="retry_after_cap",
        )


@attrs.frozen
class RetryAfterPolicy:
    """Honour server-requested waits up to ``cap`` seconds; fail fast beyond it.

    ``min_delay`` is a floor for honoured waits (``Retry-After: 0`` still yields the loop).
    """

    cap: float = attrs.field(default=60.0, validator=_check_cap)
    min_delay: float = 0.0

    def delay(self, headers: HeadersLike | None, wall_now: float) -> float | None:
        """The requested wait in seconds, or None when the answer carries no usable hint."""
        return parse_retry_after(headers, now=wall_now)

    def decide(self, headers: HeadersLike | None, wall_now: float) -> RetryAfterDecision:
        """:class:`Honour`, :class:`FailFast`, or None (no hint: use the backoff)."""
        requested = self.delay(headers, wall_now)
        if requested is None:
            return None
        if requested > self.cap:
            return FailFast(requested, self.cap)
        return Honour(max(requested, self.min_delay))
