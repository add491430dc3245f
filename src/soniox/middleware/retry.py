"""Retry: a sans-IO :class:`RetryPolicy` that decides, and a thin middleware that obeys.

The policy is a pure function of (request, outcome, retries so far, clock readings, random
draw): it answers :class:`RetryIn` (wait, then resend), :class:`GiveUp` (return or raise the
outcome as is) or :class:`FailFastError` (the server asked for a wait beyond the cap). Rules:

- retryable outcomes: statuses in ``retry_statuses`` (408, 429, 5xx by default) and transport
  failures. A failure that proves the request never reached the server
  (:class:`~soniox.errors.RequestNotSentError`) is retried for any method; one that may have
  been processed (:class:`~soniox.errors.ResponseLostError`), and 5xx answers, only when the
  request is idempotent (GET/HEAD/PUT/DELETE/OPTIONS, an idempotency key, or
  ``RequestOptions(idempotent=True)``). 408 and 429 mean the server refused without acting, so
  they are retried for any method (``always_safe_statuses``).
- a one-shot body is never replayed;
- the wait is the server's ``Retry-After`` when present (capped: over the cap fails fast with
  the delay on the error), else full jitter ``U(0, min(cap, base * factor**n))``;
- the call's deadline bounds everything: a wait that would end past it gives up now.

With a :class:`~soniox.middleware.retry_budget.RetryBudget`, a retry the policy allows must
also be paid for from the client's budget; when it cannot be, the failure surfaces at once as
its typed error — an error answer becomes its :class:`~soniox.errors.SonioxAPIError` even for
``client.request()``, which otherwise returns error answers — with
``retry_budget_exhausted = True`` and a note saying so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any, Final

import attrs

from soniox.config import DEFAULT_RETRY_STATUSES
from soniox.errors import (
    ClientValidationError,
    RequestNotSentError,
    SonioxAPIError,
    SonioxError,
    TransportError,
    error_from_response,
)
from soniox.middleware.engine import CallNext, Flow, get_clock, sleep
from soniox.middleware.logging import log_retry
from soniox.middleware.retry_after import FailFast, Honour, RetryAfterPolicy
from soniox.middleware.retry_budget import BudgetState, RetryBudget
from soniox.middleware.state import LocalStateStore, StateStore, shared_adjust, update_state
from soniox.shared import SharedState
from soniox.transport.request import Request
from soniox.transport.response import Response

BUDGET = "retry_budget"
"""The name of the retry budget's counter in a shared state."""

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "Backoff",
    "RetryPolicy",
    "RetryIn",
    "GiveUp",
    "FailFastError",
    "Decision",
    "Outcome",
    "Retry",
    "RetryBudget",
]

ALWAYS_SAFE_STATUSES: Final = frozenset({408, 429})

Outcome = Response | BaseException


def _finite_non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ClientValidationError(
            f"backoff {attribute.name} must be a finite number >= 0, got {value!r}",
            field=f"backoff_{attribute.name}",
        )


def _factor(_instance: object, _attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value >= 1 and math.isfinite(value)):
        raise ClientValidationError(
            f"backoff factor must be a finite number >= 1, got {value!r}", field="backoff_factor"
        )


@attrs.frozen
class Backoff:
    """Exponential backoff with full jitter (AWS, "Exponential Backoff and Jitter").

    The n-th retry (n from 0) waits ``U(0, min(cap, base * factor**n))``. ``decorrelated=True``
    switches to decorrelated jitter: ``min(cap, U(base, 3 * previous))``.
    """

    base: float = attrs.field(default=0.5, validator=_finite_non_negative)
    factor: float = attrs.field(default=2.0, validator=_factor)
    cap: float = attrs.field(default=8.0, validator=_finite_non_negative)
    decorrelated: bool = False

    def ceiling(self, retry: int) -> float:
        """The upper bound of the n-th wait (without jitter)."""
        try:
            grown = self.base * self.factor**retry
        except OverflowError:
            return self.cap
        return min(self.cap, grown)

    def delay(self, retry: int, rng: random.Random, previous: float | None = None) -> float:
        """One jittered wait for the n-th retry."""
        if self.decorrelated:
            upper = max(self.base, 3 * (previous if previous is not None else self.base))
            return min(self.cap, rng.uniform(self.base, upper))
        return rng.uniform(0.0, self.ceiling(retry))


@attrs.frozen
class RetryIn:
    """Resend after ``delay`` seconds."""

    delay: float
    reason: str


@attrs.frozen
class GiveUp:
    """Stop: the outcome goes to the caller unchanged."""

    reason: str


@attrs.frozen
class FailFastError:
    """Stop now and raise ``error`` (its ``retry_after`` says how long the server wanted)."""

    error: SonioxAPIError
    reason: str


Decision = RetryIn | GiveUp | FailFastError


def _non_negative_int(_instance: object, _attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ClientValidationError(f"max_retries must be >= 0, got {value!r}", field="max_retries")


@attrs.frozen
class RetryPolicy:
    """When to retry, and how long to wait first. Pure: no clock, no I/O, no randomness of its
    own (the caller passes clock readings and a :class:`random.Random`)."""

    max_retries: int = attrs.field(default=2, validator=_non_negative_int)
    backoff: Backoff = attrs.field(factory=Backoff)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=frozenset
    )
    always_safe_statuses: frozenset[int] = attrs.field(
        default=ALWAYS_SAFE_STATUSES, converter=frozenset
    )
    retry_after: RetryAfterPolicy = attrs.field(factory=RetryAfterPolicy)

    def is_retryable_status(self, status: int) -> bool:
        return status in self.retry_statuses

    def decide(
        self,
        request: Request,
        outcome: Outcome,
        retries: int,
        *,
        now: float,
        wall: float,
        rng: random.Random,
        previous_delay: float | None = None,
    ) -> Decision:
        """The decision after an attempt that failed with ``outcome`` (``retries`` done so far)."""
        limit = request.options.max_retries
        if limit is None:
            limit = self.max_retries
        hint: FailFast | Honour | None = None
        if isinstance(outcome, Response):
            status = outcome.status
            if status not in self.retry_statuses:
                return GiveUp(f"status {status} is not retryable")
            if status not in self.always_safe_statuses and not request.idempotent:
                return GiveUp(f"status {status} on a non-idempotent {request.method}")
            hint = self.retry_after.decide(outcome.headers, wall)
            reason = f"status {status}"
        elif isinstance(outcome, RequestNotSentError):
            reason = type(outcome).__name__
        elif isinstance(outcome, TransportError):
            if not request.idempotent:
                return GiveUp(
                    f"{type(outcome).__name__}: a non-idempotent {request.method} may have been "
                    "processed (send an idempotency key to make it retryable)"
                )
            reason = type(outcome).__name__
        else:
            return GiveUp(f"{type(outcome).__name__} is not retryable")
        if retries >= limit:
            return GiveUp(f"{reason}; retries exhausted ({retries} of {limit})")
        if not request.replayable:
            return GiveUp(f"{reason}; the one-shot request body cannot be replayed")
        if isinstance(hint, FailFast):
            assert isinstance(outcome, Response)
            error = error_from_response(outcome.status, outcome.headers, _body(outcome), now=wall)
            error.retry_after = hint.delay
            error.add_note(
                f"Retry-After asked for {hint.delay:g}s, over the {hint.cap:g}s cap: failing fast"
            )
            return FailFastError(
                error, f"{reason}; Retry-After {hint.delay:g}s > cap {hint.cap:g}s"
            )
        if isinstance(hint, Honour):
            delay = hint.delay
            reason += f"; Retry-After {delay:g}s"
        else:
            delay = self.backoff.delay(retries, rng, previous_delay)
        deadline = request.options.deadline
        if deadline is not None and now + delay >= deadline:
            return GiveUp(
                f"{reason}; waiting {delay:.3g}s would pass the deadline "
                f"({max(0.0, deadline - now):.3g}s left)"
            )
        return RetryIn(delay, reason)


def _body(response: Response) -> bytes | None:
    return response.content if response.is_stream_consumed else None


class Retry:
    """Resends failed attempts as its :class:`RetryPolicy` decides, sleeping on the transport
    clock. Each attempt is a copy of the request with ``attempt`` incremented.

    With a ``budget`` every retry is paid for from it and every success pays back (see
    :mod:`~soniox.middleware.retry_budget`); its state is this object's (in ``store``, under
    ``key``), so a client and all its ``with_options`` views, which share the stack, share it.
    """

    name = "retry"

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        rng: random.Random | None = None,
        budget: RetryBudget | None = None,
        store: StateStore | None = None,
        key: str = "soniox.retry_budget",
        shared: SharedState | None = None,
        scope: str = "shared",
    ):
        """``shared``: where the retry budget lives when many processes share the key
        (:mod:`soniox.shared`): one quota for the whole fleet, ``scope`` the key's digest."""
        self.shared = shared
        self.scope = scope
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self.budget = budget
        self.store: StateStore = store if store is not None else LocalStateStore()
        self.key = key
        self._refund_one = None if budget is None else _refunder(budget, budget.success_refund)

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        policy = self.policy
        budget = self.budget
        statuses = policy.retry_statuses
        attempt = request
        retries = 0
        previous: float | None = None
        spent = 0
        while True:
            outcome: Outcome
            try:
                response = yield from call_next(attempt)
            except Exception as exc:
                outcome = exc
            else:
                if response.status < 400 or response.status not in statuses:
                    if budget is not None and response.status < 400:
                        if self.shared is not None:
                            amount = spent if retries else budget.success_refund
                            yield from shared_adjust(
                                self.shared, self.scope, BUDGET, amount, budget.capacity
                            )
                            return response
                        refund = _refunder(budget, spent) if retries else self._refund_one
                        assert refund is not None
                        store = self.store
                        if type(store) is LocalStateStore:  # the hot path: no effect
                            store.update(self.key, budget.new_state, refund)
                        else:
                            yield from update_state(store, self.key, budget.new_state, refund)
                    return response
                outcome = response
            clock = yield from get_clock()
            decision = policy.decide(
                attempt,
                outcome,
                retries,
                now=clock.now(),
                wall=clock.wall(),
                rng=self._rng,
                previous_delay=previous,
            )
            if isinstance(decision, RetryIn):
                if budget is not None:
                    cost = budget.cost(outcome)
                    if self.shared is not None:
                        paid = yield from shared_adjust(
                            self.shared, self.scope, BUDGET, -cost, budget.capacity
                        )
                    else:
                        left = yield from update_state(
                            self.store, self.key, budget.new_state, _withdrawer(budget, cost)
                        )
                        paid = left is not None
                    if not paid:
                        raise _budget_exhausted(outcome, budget, cost, clock.wall())
                    spent = cost
                log_retry(attempt, decision.delay, decision.reason)
                yield from sleep(decision.delay)
                retries += 1
                previous = decision.delay
                attempt = Request(
                    request.method,
                    request.url,
                    request.headers,
                    request.body,
                    request.options,
                    retries + 1,
                )
                continue
            if isinstance(decision, FailFastError):
                raise decision.error
            if isinstance(outcome, Response):
                return outcome
            raise outcome

    def budget_left(self) -> int | None:
        """Tokens left in the retry budget (None: no budget)."""
        budget = self.budget
        if budget is None:
            return None
        if self.shared is not None:
            return int(self.shared.level(self.scope, BUDGET, capacity=budget.capacity))
        return self.store.update(self.key, budget.new_state, budget.available)

    def __repr__(self) -> str:
        p = self.policy
        b = p.backoff
        budget = "" if self.budget is None else f", retry_budget={self.budget.capacity}"
        return (
            f"Retry(max_retries={p.max_retries}, backoff=U(0, min({b.cap:g}, "
            f"{b.base:g}*{b.factor:g}^n)), retry_after_cap={p.retry_after.cap:g}s{budget})"
        )


def _withdrawer(budget: RetryBudget, cost: int) -> Callable[[BudgetState], int | None]:
    def withdraw(state: BudgetState) -> int | None:
        return budget.withdraw(state, cost)

    return withdraw


def _refunder(budget: RetryBudget, amount: int) -> Callable[[BudgetState], int]:
    def refund(state: BudgetState) -> int:
        return budget.refund(state, amount)

    return refund


def _budget_exhausted(
    outcome: Outcome, budget: RetryBudget, cost: int, wall: float
) -> BaseException:
    """The failure to surface now: an error answer as its typed error, an exception as is;
    marked ``retry_budget_exhausted`` and with a note that says why it was not retried."""
    if isinstance(outcome, Response):
        error: BaseException = error_from_response(
            outcome.status, outcome.headers, _body(outcome), now=wall, response=outcome
        )
    else:
        error = outcome
    if isinstance(error, SonioxError):
        error.retry_budget_exhausted = True
    error.add_note(
        f"not retried: the client's retry budget is exhausted (this retry would cost {cost} of "
        f"{budget.capacity}; the budget refills as calls succeed)"
    )
    return error
