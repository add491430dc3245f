"""Fault plan: scripted failures the emulator injects, per route, per method, or on the n-th match.

A :class:`FaultPlan` is an ordered list of :class:`Fault` rules. Every request (or WebSocket
session) the emulator receives is offered to the plan; each rule that matches counts the match,
and *fires* when its ``nth`` condition holds and it has firings left (``times``). Fired faults are
applied by the layer that owns them:

==============  ============  ==============================================================
kind            family        what happens
==============  ============  ==============================================================
status          http          answer at once with ``status`` and an ``ApiError`` body (plus
                              ``Retry-After`` / ``retry-after-ms`` when set); not processed
latency         http          sleep ``delay_s`` before processing (stacks with other faults)
reset_before    http          reset the TCP connection before the request is processed
reset_after     http          process the request, then reset before the response is sent
truncate        http          process, send headers with the full Content-Length, send only
                              ``after_bytes`` of the body, then close the connection
slow_body       http          process, then send the body ``chunk_size`` bytes at a time with
                              ``chunk_delay_s`` between chunks
job_error       job           a created transcription ends in ``error`` with ``error_type`` /
                              ``message``
ws_drop         ws            drop the TCP connection (no close frame) after ``after_frames``
                              client frames, or once ``at_audio_ms`` of audio was received
ws_error        ws            send one error frame with ``error_code`` (and ``error_type``,
                              ``message``) at the trigger point, then close
ws_stall        ws            stop reading and answering for ``delay_s`` seconds at the
                              trigger point (``delay_s`` <= 0: until the client goes away)
==============  ============  ==============================================================

A rule with ``probability`` fires on a matching request only with that chance, drawn from its
own random generator (seeded by ``seed``, so a plan replays the same faults for the same
sequence of requests); :meth:`FaultPlan.chaos` adds a mix of such rules — every HTTP fault kind
— so that about ``rate`` of the matching requests are faulted.

Rules are plain attrs values and round-trip through JSON (:meth:`Fault.to_json` /
:meth:`Fault.from_json`), so the same plan can be scripted from Python or posted to the
emulator's admin endpoint ``POST /_emulator/faults``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "HTTP_FAULT_KINDS",
    "WS_FAULT_KINDS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FiredFault",
]

FaultKind = Literal[
    "status",
    "latency",
    "reset_before",
    "reset_after",
    "truncate",
    "slow_body",
    "job_error",
    "ws_drop",
    "ws_error",
    "ws_stall",
]

HTTP_FAULT_KINDS: frozenset[str] = frozenset(
    {"status", "latency", "reset_before", "reset_after", "truncate", "slow_body"}
)
WS_FAULT_KINDS: frozenset[str] = frozenset({"ws_drop", "ws_error", "ws_stall"})
JOB_FAULT_KINDS: frozenset[str] = frozenset({"job_error"})
_ALL_KINDS = HTTP_FAULT_KINDS | WS_FAULT_KINDS | JOB_FAULT_KINDS


def _check_kind(_instance: object, _attribute: object, value: str) -> None:
    if value not in _ALL_KINDS:
        raise ValueError(f"unknown fault kind {value!r}; expected one of {sorted(_ALL_KINDS)}")


def _check_probability(
    _instance: object, attribute: attrs.Attribute[Any], value: float | None
) -> None:
    if value is not None and not 0.0 < value <= 1.0:
        raise ValueError(f"{attribute.name} must be in (0, 1], got {value!r}")


def _check_positive_or_none(
    _instance: object, attribute: attrs.Attribute[Any], value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be >= 1 or None, got {value}")


@attrs.frozen(kw_only=True)
class Fault:
    """One scripted failure: where it applies (route/method/nth), what it does, and its parameters.

    ``route`` is an fnmatch-style pattern on the request path (``/v1/files*``,
    ``/v1/transcriptions/*/transcript``, ``/transcribe-websocket``); ``None`` matches every
    path. ``method`` is matched case-insensitively; ``None`` matches any. ``nth`` fires the rule
    only on the n-th matching request (1-based); ``None`` fires on every match. ``times`` caps
    how many times the rule fires (``None``: unlimited); it defaults to 1 when ``nth`` is unset
    and is irrelevant otherwise (an n-th match happens once).
    """

    kind: str = attrs.field(validator=_check_kind)
    route: str | None = None
    method: str | None = None
    nth: int | None = attrs.field(default=None, validator=_check_positive_or_none)
    times: int | None = attrs.field(default=1, validator=_check_positive_or_none)
    # status
    status: int = 500
    error_type: str | None = None
    message: str | None = None
    retry_after: str | None = None
    retry_after_ms: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # latency / ws_stall
    delay_s: float = 0.0
    # truncate
    after_bytes: int = 0
    # slow_body
    chunk_size: int = 64
    chunk_delay_s: float = 0.05
    # ws_drop / ws_error / ws_stall trigger points (both unset: right after the config frame)
    after_frames: int | None = None
    at_audio_ms: int | None = None
    # ws_error
    error_code: int = 500
    # chance: fire on a match only with this probability (own generator, seeded by ``seed``)
    probability: float | None = attrs.field(default=None, validator=_check_probability)
    seed: int | None = None

    @property
    def family(self) -> str:
        """``http``, ``ws`` or ``job``: which layer applies this fault."""
        if self.kind in HTTP_FAULT_KINDS:
            return "http"
        if self.kind in WS_FAULT_KINDS:
            return "ws"
        return "job"

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request with this method and path."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.route is None or fnmatch.fnmatchcase(path, self.route)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with only the fields that differ from the defaults."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Fault):
            value = getattr(self, field.name)
            if value != field.default:
                out[field.name] = [list(h) for h in value] if field.name == "headers" else value
        out["kind"] = self.kind
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a rule from :meth:`to_json` output; unknown keys are an error (typos fail loudly)."""
        known = {f.name for f in attrs.fields(Fault)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault field(s): {sorted(unknown)}")
        kwargs = dict(data)
        if "headers" in kwargs:
            kwargs["headers"] = tuple((str(k), str(v)) for k, v in kwargs["headers"])
        return cls(**kwargs)


@attrs.frozen
class FiredFault:
    """A rule that fired for one request, with the rule's index in the plan (for the journal)."""

    index: int
    fault: Fault

    @property
    def label(self) -> str:
        return f"{self.fault.kind}#{self.index}"


@attrs.define
class _Rule:
    fault: Fault
    matched: int = 0
    fired: int = 0
    rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.rng = random.Random(self.fault.seed)

    def draws_to_fire(self) -> bool:
        chance = self.fault.probability
        return chance is None or self.rng.random() < chance


class FaultPlan:
    """A thread-safe, ordered list of fault rules with per-rule match and fire counters."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._next_index = 0
        self._indexes: list[int] = []
        for fault in faults:
            self.add(fault)

    def __repr__(self) -> str:
        with self._lock:
            rules = ", ".join(
                f"{i}:{r.fault.kind}@{r.fault.method or '*'} {r.fault.route or '*'} fired={r.fired}"
                for i, r in zip(self._indexes, self._rules, strict=True)
            )
        return f"FaultPlan([{rules}])"

    def add(self, fault: Fault) -> int:
        """Append a rule; returns its index (stable for the plan's life, shown in the journal)."""
        with self._lock:
            index = self._next_index
            self._next_index += 1
            self._rules.append(_Rule(fault))
            self._indexes.append(index)
            return index

    def extend(self, faults: Iterable[Fault]) -> list[int]:
        return [self.add(f) for f in faults]

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()
            self._indexes.clear()

    def faults(self) -> list[Fault]:
        with self._lock:
            return [r.fault for r in self._rules]

    def snapshot(self) -> list[dict[str, Any]]:
        """Rules with their counters, JSON-ready (what ``GET /_emulator/faults`` returns)."""
        with self._lock:
            return [
                {"index": i, "fault": r.fault.to_json(), "matched": r.matched, "fired": r.fired}
                for i, r in zip(self._indexes, self._rules, strict=True)
            ]

    def take(self, family: str, method: str, path: str) -> list[FiredFault]:
        """Offer one request (or WebSocket session) to the rules of ``family``; return those that fire.

        Every matching rule counts the match, whether or not it fires, so ``nth`` counts
        requests to that route, not firings.
        """
        fired: list[FiredFault] = []
        with self._lock:
            for index, rule in zip(self._indexes, self._rules, strict=True):
                fault = rule.fault
                if fault.family != family or not fault.matches(method, path):
                    continue
                rule.matched += 1
                if fault.nth is not None:
                    if rule.matched != fault.nth:
                        continue
                elif fault.times is not None and rule.fired >= fault.times:
                    continue
                if not rule.draws_to_fire():
                    continue
                rule.fired += 1
                fired.append(FiredFault(index, fault))
        return fired

    # Convenience builders -------------------------------------------------------------------
    def fail(
        self,
        route: str | None = None,
        *,
        status: int = 500,
        method: str | None = None,
        nth: int | None = None,
        times: int | None = 1,
        retry_after: str | int | float | None = None,
        retry_after_ms: int | None = None,
        error_type: str | None = None,
        message: str | None = None,
    ) -> int:
        """Answer matching requests with ``status`` (e.g. 429 with a ``Retry-After``)."""
        return self.add(
            Fault(
                kind="status",
                route=route,
                method=method,
                nth=nth,
                times=times,
                status=status,
                retry_after=None if retry_after is None else str(retry_after),
                retry_after_ms=retry_after_ms,
                error_type=error_type,
                message=message,
            )
        )

    def inject(self, kind: str, route: str | None = None, **params: Any) -> int:
        """Add a rule of any kind: ``plan.inject("reset_after", "/v1/transcriptions", method="POST")``."""
        return self.add(Fault(kind=kind, route=route, **params))

    def chaos(
        self,
        rate: float,
        *,
        seed: int = 0,
        route: str | None = "/v1/*",
        method: str | None = None,
        retry_after_ms: int = 50,
        delay_s: float = 0.02,
    ) -> list[int]:
        """Fault about ``rate`` of the matching requests, with every HTTP fault kind: 500, 502,
        503, 429 with and without ``retry-after-ms``, resets before and after processing,
        truncated bodies, latency and slow bodies. Each rule draws from its own generator
        (seeded from ``seed``), so the same seed and request order give the same faults."""
        if not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be in (0, 1), got {rate!r}")
        mix: list[dict[str, Any]] = [
            {"kind": "status", "status": 500},
            {"kind": "status", "status": 502},
            {"kind": "status", "status": 503},
            {"kind": "status", "status": 429, "retry_after_ms": retry_after_ms},
            {"kind": "status", "status": 429},
            {"kind": "reset_before"},
            {"kind": "reset_after"},
            {"kind": "truncate", "after_bytes": 7},
            {"kind": "latency", "delay_s": delay_s},
            {"kind": "slow_body", "chunk_size": 256, "chunk_delay_s": delay_s / 4},
        ]
        # Independent draws: each rule fires with p, so that 1 - (1 - p)^len(mix) == rate.
        chance = 1.0 - (1.0 - rate) ** (1.0 / len(mix))
        return [
            self.add(
                Fault(
                    route=route,
                    method=method,
                    times=None,
                    probability=chance,
                    seed=seed * 1000 + i,
                    **params,
                )
            )
            for i, params in enumerate(mix)
        ]
