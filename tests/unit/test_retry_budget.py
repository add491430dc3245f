"""Retry budget: accounting, exhaustion surfacing the typed error, sharing by a client and its
views, threads and tasks (fake clock: no real waiting)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import (
    ClientValidationError,
    ConnectTimeoutError,
    RateLimitError,
    ReadTimeoutError,
    RequestNotSentError,
    ServiceUnavailableError,
)
from soniox.middleware import Retry, RetryBudget, RetryPolicy, Stack, build_stack
from soniox.middleware.retry import Backoff
from soniox.middleware.retry_budget import BudgetState
from soniox.transport import URL, FakeClock, InMemoryTransport, Reply, Request, Response

BASE = URL.parse("http://127.0.0.1:9/v1")
KEY = "sk-unit-0123456789abcdef"
NO_WAIT = RetryPolicy(max_retries=3, backoff=Backoff(base=0.0, cap=0.0))


def req(method: str = "GET") -> Request:
    return Request(method, BASE.join("/models"))


def retry(capacity: int = 500, policy: RetryPolicy = NO_WAIT) -> Retry:
    return Retry(policy, rng=random.Random(1), budget=RetryBudget(capacity=capacity))


def run(middleware: Retry, transport: InMemoryTransport) -> Response:
    return Stack([middleware]).run(req(), transport)


def set_left(middleware: Retry, tokens: int) -> None:
    """Put the budget at ``tokens`` (through the store, as the middleware does)."""
    assert middleware.budget is not None

    def put(state: BudgetState) -> None:
        state.available = tokens

    middleware.store.update(middleware.key, middleware.budget.new_state, put)


# --- accounting ------------------------------------------------------------------------------


def test_the_budget_starts_full() -> None:
    """A new client has the whole capacity (botocore: 500)."""
    assert retry().budget_left() == 500


@pytest.mark.parametrize(
    ("outcome", "cost"),
    [
        (ServiceUnavailableError("x"), 5),
        (RequestNotSentError("refused"), 10),
        (ConnectTimeoutError("slow"), 10),
        (ReadTimeoutError("slow"), 10),
        (Response.build(503, req()), 5),
        (Response.build(429, req()), 5),
    ],
)
def test_a_retry_costs_5_or_10_after_a_timeout_or_connection_failure(
    outcome: object, cost: int
) -> None:
    """Error answers cost 5; failures below HTTP (timeouts, refused or reset) cost 10."""
    assert RetryBudget().cost(outcome) == cost


def test_a_success_without_retries_pays_back_one() -> None:
    """A first-time success refunds 1, never above the capacity."""
    middleware = retry()
    transport = InMemoryTransport.sequence([Reply(503), Reply(200), Reply(200)])
    run(middleware, transport)  # one retry: -5, then +5
    assert middleware.budget_left() == 500
    set_left(middleware, 490)
    run(middleware, transport)
    assert middleware.budget_left() == 491


def test_a_success_after_retries_pays_back_its_last_retry() -> None:
    """Timeout (-10), then 503 (-5), then 200: +5 back (the last retry's cost), net -10."""
    middleware = retry()
    transport = InMemoryTransport.sequence([RequestNotSentError("refused"), Reply(503), Reply(200)])
    run(middleware, transport)
    assert middleware.budget_left() == 490


def test_a_final_failure_pays_nothing_back() -> None:
    """Retries spent on a call that still failed stay spent."""
    middleware = retry()
    run(middleware, InMemoryTransport.sequence([Reply(503)]))
    assert middleware.budget_left() == 500 - 3 * 5


def test_a_non_retryable_answer_neither_costs_nor_refunds() -> None:
    """A 404 is not retried, so it costs nothing; not a success, so it pays nothing."""
    middleware = retry()
    set_left(middleware, 100)
    run(middleware, InMemoryTransport.sequence([Reply(404)]))
    assert middleware.budget_left() == 100


_moves = st.lists(st.tuples(st.sampled_from(["withdraw", "refund"]), st.integers(0, 30)))


@given(capacity=st.integers(1, 600), moves=_moves)
def test_the_budget_never_goes_below_zero_nor_above_capacity(
    capacity: int, moves: list[tuple[str, int]]
) -> None:
    """Any sequence of withdrawals and refunds keeps 0 <= available <= capacity, and a
    withdrawal is refused exactly when it would overdraw."""
    budget = RetryBudget(capacity=capacity)
    state = budget.new_state()
    model = capacity
    for move, amount in moves:
        if move == "withdraw":
            left = budget.withdraw(state, amount)
            assert (left is None) == (amount > model)
            if left is not None:
                model -= amount
        else:
            budget.refund(state, amount)
            model = min(capacity, model + amount)
        assert state.available == model
        assert 0 <= state.available <= capacity


@given(capacity=st.integers(1, 200), calls=st.integers(1, 60))
def test_a_persistent_failure_spends_at_most_the_capacity_on_retries(
    capacity: int, calls: int
) -> None:
    """Under a persistent 503 the retries sent never cost more than the capacity in all."""
    middleware = retry(capacity, RetryPolicy(max_retries=5, backoff=Backoff(0.0, cap=0.0)))
    transport = InMemoryTransport.sequence([Reply(503)], clock=FakeClock())
    for _ in range(calls):
        with contextlib.suppress(ServiceUnavailableError):
            run(middleware, transport)
    retries = len(transport.requests) - calls
    assert retries * 5 <= capacity


# --- exhaustion ---------------------------------------------------------------------------------


def test_an_empty_budget_surfaces_the_first_error_typed_and_says_so() -> None:
    """No tokens: the 503 is raised at once as ServiceUnavailableError, marked and noted."""
    middleware = retry(capacity=4)  # less than one retry's cost
    transport = InMemoryTransport.sequence([Reply(503), Reply(200)])
    with pytest.raises(ServiceUnavailableError) as caught:
        run(middleware, transport)
    assert caught.value.retry_budget_exhausted
    assert any("retry budget is exhausted" in note for note in caught.value.__notes__)
    assert len(transport.requests) == 1


def test_an_empty_budget_reraises_a_transport_failure_as_is() -> None:
    """A refused connection with no budget left: the same RequestNotSentError, marked."""
    middleware = retry(capacity=9)
    failure = RequestNotSentError("refused")
    transport = InMemoryTransport.sequence([failure, Reply(200)])
    with pytest.raises(RequestNotSentError) as caught:
        run(middleware, transport)
    assert caught.value is failure
    assert failure.retry_budget_exhausted


def test_errors_are_not_marked_when_the_budget_had_room() -> None:
    """Retries that simply ran out leave retry_budget_exhausted False."""
    with pytest.raises(RequestNotSentError) as caught:
        run(retry(), InMemoryTransport.sequence([RequestNotSentError("refused")]))
    assert not caught.value.retry_budget_exhausted


def _client_config(**overrides: Any) -> SonioxConfig:
    knobs: dict[str, Any] = {
        "retry_budget": 10,
        "max_retries": 5,
        "backoff_base": 0.0,
        "backoff_cap": 0.0,
    }
    return SonioxConfig.testing(
        api_key=KEY, base_url="http://127.0.0.1:9/v1", **(knobs | overrides)
    )


def test_with_options_views_draw_on_the_client_budget() -> None:
    """A view exhausts the budget; then the root client's 429 surfaces without a retry."""
    transport = InMemoryTransport.sequence([Reply(429)], clock=FakeClock())
    with SonioxClient(config=_client_config(), transport=transport) as client:
        view = client.with_options(timeout=5)
        with pytest.raises(RateLimitError) as first:
            view.models.list()
        assert first.value.retry_budget_exhausted  # two retries (10), then refused
        sent = len(transport.requests)
        with pytest.raises(RateLimitError) as second:
            client.models.list()
        assert second.value.retry_budget_exhausted
        assert len(transport.requests) == sent + 1


def test_the_registry_attaches_the_budget_to_retry() -> None:
    """retry_budget, retry_cost and retry_timeout_cost reach the retry middleware."""
    config = _client_config(retry_budget=300, retry_cost=3, retry_timeout_cost=7)
    middleware = build_stack(config)["retry"]
    assert isinstance(middleware, Retry)
    assert middleware.budget == RetryBudget(capacity=300, retry_cost=3, timeout_cost=7)
    assert "retry_budget=300" in repr(middleware)


def test_production_has_botocore_s_budget() -> None:
    """The default (production) retry budget is botocore's 500 tokens."""
    middleware = build_stack(SonioxConfig(api_key=KEY))["retry"]
    assert isinstance(middleware, Retry)
    assert middleware.budget_left() == 500


def test_no_budget_means_max_retries_only() -> None:
    """retry_budget=None: retries are bounded by max_retries only."""
    middleware = build_stack(SonioxConfig(api_key=KEY, retry_budget=None))["retry"]
    assert isinstance(middleware, Retry)
    assert middleware.budget is None
    assert middleware.budget_left() is None


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RetryBudget(capacity=0), "retry_budget"),
        (lambda: RetryBudget(retry_cost=-1), "retry_cost"),
        (lambda: RetryBudget(timeout_cost=1.5), "retry_timeout_cost"),
        (lambda: SonioxConfig(retry_budget=0), "retry_budget"),
        (lambda: SonioxConfig(retry_cost=-5), "retry_cost"),
        (lambda: SonioxConfig(retry_timeout_cost=True), "retry_timeout_cost"),
    ],
)
def test_invalid_budget_knobs_fail_naming_the_field(make: Any, field: str) -> None:
    """A zero capacity or a negative cost: ClientValidationError naming the knob."""
    with pytest.raises(ClientValidationError) as caught:
        make()
    assert caught.value.field == field


# --- threads and tasks ---------------------------------------------------------------------------


def test_threads_sharing_a_budget_never_overdraw_it() -> None:
    """Eight threads hammering a persistent 503: retries sent cost at most the capacity."""
    middleware = retry(capacity=200)
    transport = InMemoryTransport.sequence([Reply(503)], clock=FakeClock())
    stack = Stack([middleware])
    calls = 8 * 25

    def worker() -> None:
        for _ in range(25):
            with contextlib.suppress(ServiceUnavailableError):
                stack.run(req(), transport)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(transport.requests) - calls) * 5 == 200
    assert middleware.budget_left() == 0


def test_tasks_of_an_async_client_share_its_budget() -> None:
    """Concurrent tasks of one AsyncSonioxClient draw on the same budget."""
    transport = InMemoryTransport.sequence([Reply(503)], clock=FakeClock())

    async def main() -> list[BaseException | Any]:
        async with AsyncSonioxClient(config=_client_config(), transport=transport) as client:
            return await asyncio.gather(
                *(client.models.list() for _ in range(10)), return_exceptions=True
            )

    results = asyncio.run(main())
    assert all(isinstance(r, ServiceUnavailableError) for r in results)
    assert len(transport.requests) - 10 == 2  # a budget of 10 pays for two retries
    assert sum(bool(getattr(r, "retry_budget_exhausted", False)) for r in results) >= 8
