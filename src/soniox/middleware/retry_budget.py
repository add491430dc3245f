"""Retry budget: a token quota that stops retry storms, shared by a client and all its views.

botocore's standard-mode retry quota, sans-IO. The budget starts full (``capacity``, 500).
Every retry must first withdraw its cost — ``retry_cost`` (5), or ``timeout_cost`` (10) when
the attempt failed below HTTP (a timeout, a refused or reset connection: the failures that
cost the server least to produce and the client most to wait for) — and a call that succeeds
pays back what its last retry cost, or ``success_refund`` (1) when it needed none; never above
``capacity``. When a retry cannot be paid for, it does not happen: the failure surfaces at once
(see :class:`~soniox.middleware.retry.Retry`), marked ``retry_budget_exhausted``.

So while most calls succeed the budget stays full and retries are free; when the service is
down every client's budget drains after ~100 retries (50 after timeouts) and from then on
each failure costs one request, not ``max_retries + 1``; successes refill it as the service
comes back. The state is a :class:`BudgetState` in a
:class:`~soniox.middleware.state.StateStore` (the retry middleware's, so a client, its threads,
its tasks and its ``with_options`` views draw on one budget).
"""

from __future__ import annotations

from typing import Any

import attrs

from soniox.errors import ClientValidationError, TransportError

__all__ = ["RetryBudget", "BudgetState"]


_CONFIG_FIELDS = {
    "capacity": "retry_budget",
    "retry_cost": "retry_cost",
    "timeout_cost": "retry_timeout_cost",
    "success_refund": "retry_success_refund",
}
"""Each knob's name in :class:`~soniox.config.SonioxConfig` (what an error names)."""


def _whole(minimum: int) -> Any:
    def check(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            field = _CONFIG_FIELDS[attribute.name]
            raise ClientValidationError(
                f"{field} must be a whole number >= {minimum}, got {value!r}", field=field
            )

    return check


@attrs.define
class BudgetState:
    """Tokens left in one budget."""

    available: int


@attrs.frozen
class RetryBudget:
    """What a retry costs and what a success pays back (see the module docstring). Pure: the
    methods change the :class:`BudgetState` they are given."""

    capacity: int = attrs.field(default=500, validator=_whole(1))
    retry_cost: int = attrs.field(default=5, validator=_whole(0))
    timeout_cost: int = attrs.field(default=10, validator=_whole(0))
    success_refund: int = attrs.field(default=1, validator=_whole(0))

    def new_state(self) -> BudgetState:
        return BudgetState(self.capacity)

    def cost(self, outcome: object) -> int:
        """The price of retrying after ``outcome`` (an error answer, or an exception)."""
        return self.timeout_cost if isinstance(outcome, TransportError) else self.retry_cost

    def withdraw(self, state: BudgetState, cost: int) -> int | None:
        """Take ``cost`` for one retry: the tokens left after it, or None (nothing taken)
        when fewer than ``cost`` are left."""
        if cost > state.available:
            return None
        state.available -= cost
        return state.available

    def refund(self, state: BudgetState, amount: int) -> int:
        """Pay ``amount`` back (never above ``capacity``); returns the tokens left."""
        state.available = min(self.capacity, state.available + amount)
        return state.available

    def available(self, state: BudgetState) -> int:
        return state.available

    def __str__(self) -> str:
        return (
            f"budget {self.capacity}, retry costs {self.retry_cost} "
            f"({self.timeout_cost} after a timeout or connection failure)"
        )
