"""Adaptive polling of async jobs: a pure :class:`PollingPolicy` and learned processing rates.

Waiting for a transcription means asking ``GET /transcriptions/{id}`` until its status is
``completed`` or ``error``. Polling often finds the end early but spends requests (and rate
limit); polling rarely is cheap but finds the end late. This policy does both well by using what
the API says about the job: ``audio_duration_ms`` appears when processing starts, and the
processing time of a server is close to proportional to it. Three phases:

``blind`` (queued, or nothing learned yet)
    Delays start at ``first_delay`` (1 s) and grow geometrically by ``growth`` (x1.5) with
    downward jitter (each step is ``previous * growth * U(1 - jitter, 1)``, jitter 20 %), capped
    at ``max_delay`` (10 s). ``growth * (1 - jitter) >= 1`` is enforced, so delays never shrink
    on their way to the cap.

``hinted`` (processing, duration known, and the server's speed learned)
    The job should take ``expected = rate * audio_seconds`` to process, give or take ``spread``
    (both from :class:`ProcessingRates`). The policy sleeps until ``hint_margin`` spreads before
    the expected end plus ``hint_lag`` (0.25 s), at most ``max_hinted_delay``: usually one
    request finds the job done.

``overdue`` (the hinted moment has passed)
    The blind schedule again, restarted at ``max(overdue_delay, spread / 2)``: a prediction that
    was early costs a request or two, not a long wait.

The learning (:class:`ProcessingRates`, per API base URL, shared in the process) brackets each
finished job's processing time between the polls around its start and its end, and corrects
itself: a hinted poll that finds the job long finished shrinks the estimate a little, until a
poll lands just before an end and measures the truth again.

Every delay is clipped to what is left of the deadline; with no time left :meth:`plan` returns
None and the caller raises :class:`~soniox.errors.WaitTimeoutError`. The policy is pure (state in,
decision out; randomness from the caller's :class:`random.Random`), so hypothesis tests check its
bounds. Measured against fixed intervals in ``benchmarks/bench_polling.py`` (docs/performance.md):
with the speed learned, about 80 % fewer requests than polling every 2 s, and an earlier median
detection. :meth:`PollingPolicy.fixed` gives the official SDK's behaviour (a fixed interval, 5 s).
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any, Literal

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError

__all__ = [
    "Phase",
    "PollState",
    "PollPlan",
    "PollingPolicy",
    "ProcessingRates",
    "processing_rates",
    "DEFAULT_POLLING",
    "MIN_DELAY",
]

Phase = Literal["blind", "hinted", "overdue"]

MIN_DELAY = 0.05
"""No hinted sleep is shorter (a predicted end closer than this counts as passed)."""


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ClientValidationError(
            f"PollingPolicy.{attribute.name} must be a finite number > 0, got {value!r}",
            field=attribute.name,
        )


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ClientValidationError(
            f"PollingPolicy.{attribute.name} must be a finite number >= 0, got {value!r}",
            field=attribute.name,
        )


def _growth(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 1 and math.isfinite(value)):
        raise ClientValidationError(
            f"PollingPolicy.growth must be a finite number >= 1, got {value!r}", field="growth"
        )


def _jitter(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (0 <= value < 1):
        raise ClientValidationError(
            f"PollingPolicy.jitter must be in [0, 1), got {value!r}", field="jitter"
        )


@attrs.frozen
class PollState:
    """What the waiting loop knows after a poll (times on the transport's monotonic clock)."""

    now: float
    status: str
    """The job's status as last fetched."""
    audio_duration_ms: int | None = None
    expected_processing: float | None = None
    """Seconds the job's processing should take (None: unknown, e.g. still queued)."""
    processing_spread: float = 0.0
    """How far (seconds) a job typically lands from ``expected_processing``."""
    processing_elapsed: float | None = None
    """Estimated seconds it has been ``processing`` (None: not processing)."""
    previous_delay: float | None = None
    """The last delay of the current phase (None: the phase starts now)."""
    phase: Phase | None = None
    """The phase of the previous delay."""
    deadline: float | None = None


@attrs.frozen
class PollPlan:
    """Sleep ``delay`` seconds, then poll again; ``phase`` is fed back as ``PollState.phase``."""

    delay: float
    phase: Phase


@attrs.frozen
class PollingPolicy:
    """How long to wait before the next status poll. Pure; see the module docs for the phases.

    ``first_delay``: the first blind wait (s); ``growth``: factor between consecutive delays;
    ``jitter``: each grown delay is drawn from ``[d * (1 - jitter), d]`` (many clients do not poll
    in lockstep); ``max_delay``: cap of blind and overdue delays; ``use_duration_hint``: predict
    the end from the audio duration (and learn the server's speed); ``hint_margin``: aim this
    many spreads before the predicted end; ``hint_lag``: seconds added after it;
    ``overdue_delay``: first delay once the predicted moment has passed; ``max_hinted_delay``:
    cap of a hinted sleep (a job can still fail early).
    """

    first_delay: float = attrs.field(default=1.0, validator=_positive)
    growth: float = attrs.field(default=1.5, validator=_growth)
    max_delay: float = attrs.field(default=10.0, validator=_positive)
    jitter: float = attrs.field(default=0.2, validator=_jitter)
    use_duration_hint: bool = True
    hint_margin: float = attrs.field(default=1.0, validator=_non_negative)
    hint_lag: float = attrs.field(default=0.25, validator=_non_negative)
    overdue_delay: float = attrs.field(default=0.5, validator=_positive)
    max_hinted_delay: float = attrs.field(default=120.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.growth * (1 - self.jitter) < 1 - 1e-9:
            raise ClientValidationError(
                f"PollingPolicy: growth * (1 - jitter) must be >= 1 so delays never shrink, got "
                f"{self.growth} * (1 - {self.jitter})",
                field="jitter",
            )
        if self.max_delay < self.first_delay:
            raise ClientValidationError(
                f"PollingPolicy.max_delay ({self.max_delay}) must be >= first_delay "
                f"({self.first_delay})",
                field="max_delay",
            )

    @classmethod
    def from_config(cls, config: SonioxConfig) -> PollingPolicy:
        """The policy a config's ``poll_*`` knobs describe (:data:`DEFAULT_POLLING` when they are
        the defaults), used by ``wait()`` when no ``poll=`` is given."""
        if (config.poll_first_delay, config.poll_max_delay, config.poll_hint_margin) == (
            DEFAULT_POLLING.first_delay,
            DEFAULT_POLLING.max_delay,
            DEFAULT_POLLING.hint_margin,
        ):
            return DEFAULT_POLLING
        return cls(
            first_delay=config.poll_first_delay,
            max_delay=config.poll_max_delay,
            hint_margin=config.poll_hint_margin,
        )

    @classmethod
    def fixed(cls, interval: float) -> PollingPolicy:
        """Poll every ``interval`` seconds, no jitter, no hint (the official SDK uses 5 s)."""
        return cls(
            first_delay=interval,
            growth=1.0,
            max_delay=interval,
            jitter=0.0,
            use_duration_hint=False,
            max_hinted_delay=interval,
        )

    @property
    def upper_bound(self) -> float:
        """No delay is ever longer than this."""
        if self.use_duration_hint:
            return max(self.max_delay, self.max_hinted_delay)
        return self.max_delay

    def predicted_remaining(self, state: PollState) -> float | None:
        """Seconds until the hinted poll is due, when the hint applies (else None): the
        predicted end, ``hint_margin`` spreads earlier and ``hint_lag`` later."""
        expected = state.expected_processing
        if (
            not self.use_duration_hint
            or state.status != "processing"
            or expected is None
            or state.processing_elapsed is None
        ):
            return None
        early = self.hint_margin * state.processing_spread
        return expected - early + self.hint_lag - state.processing_elapsed

    def _jittered(self, value: float, rng: random.Random) -> float:
        if self.jitter == 0:
            return value
        return value * rng.uniform(1.0 - self.jitter, 1.0)

    def _grow(self, previous: float | None, start: float, rng: random.Random) -> float:
        if previous is None:
            return self._jittered(min(start, self.max_delay), rng)
        if previous >= self.max_delay:
            return self.max_delay
        return min(self.max_delay, max(previous, self._jittered(previous * self.growth, rng)))

    def plan(self, state: PollState, rng: random.Random) -> PollPlan | None:
        """The next wait, or None when the deadline leaves no time for one."""
        remaining = None if state.deadline is None else state.deadline - state.now
        if remaining is not None and remaining <= 0:
            return None
        predicted = self.predicted_remaining(state)
        phase: Phase
        if predicted is not None and predicted >= MIN_DELAY:
            phase = "hinted"
            delay = min(self.max_hinted_delay, predicted)
        else:
            phase = "overdue" if predicted is not None or state.phase == "overdue" else "blind"
            previous = state.previous_delay if state.phase == phase else None
            start = (
                self.first_delay
                if phase == "blind"
                else max(self.overdue_delay, state.processing_spread / 2)
            )
            delay = self._grow(previous, start, rng)
        if remaining is not None:
            delay = min(delay, remaining)
        return PollPlan(delay, phase)


DEFAULT_POLLING = PollingPolicy()
"""The policy ``wait()`` uses when none is given."""


_MAX_SPREAD = 1.0


class ProcessingRates:
    """How fast each server processes audio: wall seconds per audio second, learned per API
    base URL from the jobs that waits saw finish, and shared by all clients in the process.

    A finished job whose processing time was bracketed closely (the bounds within +-25 % of their
    middle) moves the estimate ``learning_rate`` of the way towards that middle. A job the hint
    woke up for only after it had finished says just "faster than predicted": the estimate then
    shrinks by ``probe``, so an estimate that is too slow (polls too late) keeps drifting down
    until a poll lands before the end and measures the true time again.
    """

    def __init__(
        self, *, learning_rate: float = 0.3, probe: float = 0.01, initial_spread: float = 0.1
    ) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, tuple[float, float]] = {}
        self._learning_rate = learning_rate
        self._probe = probe
        self._initial_spread = initial_spread

    def observe(
        self,
        key: str,
        audio_duration_ms: int,
        at_least: float,
        at_most: float,
        *,
        hinted: bool = False,
        basis: float | None = None,
    ) -> bool:
        """Record that ``audio_duration_ms`` of audio took ``at_least``..``at_most`` seconds;
        ``hinted``: the last poll was the one the prediction scheduled, with the rate
        ``basis`` (default: the current one). True if it was learned from (a close bracket).

        A late hinted poll lowers the estimate to one step below ``basis`` (never raises it):
        concurrent jobs woken late by the same estimate count as one probe, not one each (16
        jobs in flight would otherwise halve a correct estimate)."""
        if audio_duration_ms <= 0 or not math.isfinite(at_most):
            return False
        low = max(0.0, at_least)
        middle = (low + at_most) / 2
        audio_s = audio_duration_ms / 1000.0
        alpha = self._learning_rate
        with self._lock:
            current = self._rates.get(key)
            width = at_most - low
            if middle > 0 and width <= _MAX_SPREAD * middle:
                sample = middle / audio_s
                uncertainty = width / (2 * middle)
                if current is None:
                    self._rates[key] = (sample, max(self._initial_spread, uncertainty))
                else:
                    # A loose bracket counts for less: full weight at 0, none at the limit.
                    weight = alpha * (1.0 - width / (_MAX_SPREAD * middle))
                    rate, spread = current
                    deviation = abs(sample - rate) / rate
                    self._rates[key] = (
                        rate + weight * (sample - rate),
                        spread + weight * (deviation - spread),
                    )
                return True
            if hinted and current is not None:
                rate, spread = current
                lowered = (rate if basis is None else basis) * (1.0 - max(self._probe, spread / 2))
                self._rates[key] = (min(rate, lowered), spread)
            return False

    def rate(self, key: str) -> tuple[float, float] | None:
        """``(rate, spread)`` for ``key``: wall seconds per audio second, and the typical
        relative deviation of a job from it (None: nothing learned)."""
        with self._lock:
            return self._rates.get(key)

    def predict(self, key: str, audio_duration_ms: int) -> tuple[float, float] | None:
        """``(expected, spread)`` processing seconds for that much audio (None: unknown)."""
        found = self.rate(key)
        if found is None:
            return None
        expected = found[0] * audio_duration_ms / 1000.0
        return expected, found[1] * expected

    def clear(self) -> None:
        """Forget everything (benchmarks and tests start cold)."""
        with self._lock:
            self._rates.clear()

    def __repr__(self) -> str:
        with self._lock:
            shown = {k: (round(r, 4), round(d, 4)) for k, (r, d) in self._rates.items()}
        return f"ProcessingRates({shown})"


processing_rates = ProcessingRates()
"""The process-wide estimates ``wait()`` learns from and uses."""
