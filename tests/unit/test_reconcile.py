"""Look-ups that find out what a lost call did: persistent through transient faults, bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import (
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ReadTimeoutError,
    RequestNotSentError,
    ResponseLostError,
    ServerError,
    SonioxError,
)
from soniox.flows.reconcile import RECONCILE_TIMEOUT_S, is_transient, look_up_flow, persist_flow
from soniox.middleware import Flow, run_sync
from soniox.transport import FakeClock, InMemoryTransport, Reply

TRANSIENT: list[Callable[[], SonioxError]] = [
    lambda: ResponseLostError("cut"),
    lambda: RequestNotSentError("refused"),
    lambda: ReadTimeoutError("slow"),
    lambda: ServerError("boom", status=503),
    lambda: RateLimitError("busy", status=429),
]


def scripted(failures: list[SonioxError], answer: str = "found") -> Callable[[], Flow[str]]:
    """A look-up that raises ``failures`` one per call, then answers."""

    def look() -> Flow[str]:
        if failures:
            raise failures.pop(0)
        return answer
        yield  # a generator

    return look


def run(flow: Flow[str], clock: FakeClock) -> str:
    return run_sync(flow, InMemoryTransport(lambda r: Reply(200), clock=clock))


def look_up(look: Callable[[], Flow[str]], deadline: float | None = None) -> Flow[str]:
    return look_up_flow(
        look, deadline=deadline, operation="stt.create", client_reference_id="ref", recovery="x"
    )


@given(st.lists(st.sampled_from(TRANSIENT), max_size=8))
def test_transient_failures_are_retried_until_the_look_up_answers(
    makers: list[Callable[[], SonioxError]],
) -> None:
    """Any run of transient failures shorter than the time allowed ends in the answer."""
    clock = FakeClock()
    assert run(look_up(scripted([make() for make in makers])), clock) == "found"
    assert clock.now() - clock.start < RECONCILE_TIMEOUT_S


def test_a_look_up_that_never_answers_is_an_unknown_outcome() -> None:
    """Past the deadline: OutcomeUnknownError carrying the reference, caused by the last error."""
    clock = FakeClock()
    failures: list[SonioxError] = [ResponseLostError("cut") for _ in range(1000)]
    with pytest.raises(OutcomeUnknownError) as caught:
        run(look_up(scripted(failures), deadline=clock.now() + 10), clock)
    assert (caught.value.operation, caught.value.client_reference_id) == ("stt.create", "ref")
    assert isinstance(caught.value.__cause__, ResponseLostError)
    assert clock.now() - clock.start <= 10


def test_without_a_deadline_the_look_up_is_still_bounded() -> None:
    """No call deadline: RECONCILE_TIMEOUT_S bounds the look-ups."""
    clock = FakeClock()
    failures: list[SonioxError] = [ServerError("x", status=500) for _ in range(10_000)]
    with pytest.raises(OutcomeUnknownError):
        run(look_up(scripted(failures)), clock)
    assert clock.now() - clock.start <= RECONCILE_TIMEOUT_S


def test_a_non_transient_error_is_raised_at_once() -> None:
    """A 404 (or 401, 400…) says something definite: no retry, raised as it is."""
    clock = FakeClock()
    with pytest.raises(NotFoundError):
        run(look_up(scripted([NotFoundError("gone", status=404)])), clock)
    assert clock.now() == clock.start


def test_retry_after_is_honoured_between_attempts() -> None:
    """A 429 with retry_after waits that long before the next attempt."""
    clock = FakeClock()
    busy = RateLimitError("busy", status=429, retry_after=3.0)
    assert run(persist_flow(scripted([busy]), deadline=None), clock) == "found"
    assert clock.now() - clock.start == pytest.approx(3.0)


def test_persist_raises_the_last_transient_error_at_its_deadline() -> None:
    """persist_flow (clean-up deletes) gives up with the last error itself, noting why."""
    clock = FakeClock()
    failures: list[SonioxError] = [ResponseLostError(f"cut {i}") for i in range(1000)]
    with pytest.raises(ResponseLostError) as caught:
        run(persist_flow(scripted(failures), deadline=clock.now() + 5), clock)
    assert any("gave up" in note for note in caught.value.__notes__)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ResponseLostError("x"), True),
        (ServerError("x", status=500), True),
        (RateLimitError("x", status=429), True),
        (NotFoundError("x", status=404), False),
        (SonioxError("x"), False),
    ],
)
def test_what_counts_as_transient(error: SonioxError, transient: bool) -> None:
    """Transport failures, timeouts and retryable statuses say nothing about the outcome."""
    assert is_transient(error) is transient
