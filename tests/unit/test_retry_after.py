"""Retry-After: parsing order, the cap, and how the retry middleware honours or fails fast."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import RateLimitError, ServiceUnavailableError
from soniox.middleware import Retry, RetryAfterPolicy, RetryPolicy, Stack
from soniox.middleware.retry_after import FailFast, Honour
from soniox.transport import URL, FakeClock, Headers, InMemoryTransport, Reply, Request

WALL = 1_700_000_000.0
BASE = URL.parse("http://127.0.0.1:9/v1")


def hdrs(**values: str) -> Headers:
    return Headers.of({k.replace("_", "-"): v for k, v in values.items()})


def parse(headers: Headers, wall: float = WALL) -> float | None:
    return RetryAfterPolicy().delay(headers, wall)


def http_date(unix: float) -> str:
    return format_datetime(datetime.fromtimestamp(unix, UTC), usegmt=True)


# --- parsing ----------------------------------------------------------------------------------


def test_retry_after_ms_is_milliseconds() -> None:
    """retry-after-ms: 1500 means 1.5 s."""
    assert parse(hdrs(retry_after_ms="1500")) == 1.5


def test_retry_after_seconds() -> None:
    """Retry-After: 7 means 7 s."""
    assert parse(hdrs(retry_after="7")) == 7.0


def test_retry_after_http_date_is_measured_against_the_clock() -> None:
    """Retry-After: <date 30 s from now> means 30 s on the transport clock's wall time."""
    assert parse(hdrs(retry_after=http_date(WALL + 30)), WALL) == pytest.approx(30.0)


def test_a_date_in_the_past_means_no_wait() -> None:
    """A date that already passed asks for 0 s."""
    assert parse(hdrs(retry_after=http_date(WALL - 100)), WALL) == 0.0


def test_milliseconds_win_over_seconds() -> None:
    """retry-after-ms is more precise, so it is read first."""
    assert parse(hdrs(retry_after_ms="250", retry_after="9")) == 0.25


def test_unreadable_values_mean_no_hint() -> None:
    """Garbage or negative values are ignored (the backoff applies instead)."""
    assert parse(hdrs(retry_after="soon")) is None
    assert parse(hdrs(retry_after="-3")) is None
    assert parse(hdrs()) is None


def test_bad_milliseconds_fall_back_to_seconds() -> None:
    """An unreadable retry-after-ms does not hide a valid Retry-After."""
    assert parse(hdrs(retry_after_ms="x", retry_after="2")) == 2.0


@given(ms=st.integers(0, 10**9))
def test_milliseconds_round_trip(ms: int) -> None:
    """Any non-negative integer of milliseconds parses to ms / 1000 seconds."""
    assert parse(hdrs(retry_after_ms=str(ms))) == pytest.approx(ms / 1000)


@given(seconds=st.integers(0, 10**7))
def test_integer_seconds_round_trip(seconds: int) -> None:
    """Any delta-seconds value parses to itself."""
    assert parse(hdrs(retry_after=str(seconds))) == seconds


@given(offset=st.integers(0, 10**6))
def test_http_dates_parse_to_their_offset(offset: int) -> None:
    """An HTTP-date d seconds ahead parses to d (HTTP-dates have 1 s resolution)."""
    assert parse(hdrs(retry_after=http_date(WALL + offset)), WALL) == pytest.approx(offset, abs=1)


@given(text=st.text(max_size=40))
def test_parser_never_raises_and_never_goes_negative(text: str) -> None:
    """Whatever the server sends, the result is None or a wait >= 0."""
    headers = Headers((("retry-after", text), ("retry-after-ms", text)))
    result = parse(headers)
    assert result is None or result >= 0


# --- the cap -------------------------------------------------------------------------------------


def test_waits_up_to_the_cap_are_honoured() -> None:
    """A request within the cap is waited out exactly."""
    assert RetryAfterPolicy(cap=10).decide(hdrs(retry_after="10"), WALL) == Honour(10.0)


def test_waits_over_the_cap_fail_fast() -> None:
    """A request beyond the cap is refused with the requested delay."""
    assert RetryAfterPolicy(cap=10).decide(hdrs(retry_after="11"), WALL) == FailFast(11.0, 10.0)


def test_no_header_is_no_decision() -> None:
    """Without a hint the policy abstains (the backoff decides)."""
    assert RetryAfterPolicy().decide(hdrs(), WALL) is None


@given(delay=st.floats(0, 1e6, allow_nan=False), cap=st.floats(0, 1e5, allow_nan=False))
def test_cap_splits_honour_from_fail_fast(delay: float, cap: float) -> None:
    """delay <= cap → Honour(delay); delay > cap → FailFast(delay)."""
    decision = RetryAfterPolicy(cap=cap).decide(hdrs(retry_after=repr(delay)), WALL)
    if delay <= cap:
        assert decision == Honour(delay)
    else:
        assert decision == FailFast(delay, cap)


def test_negative_cap_is_rejected() -> None:
    """The cap must be a finite number of seconds >= 0."""
    with pytest.raises(ValueError, match="retry_after_cap"):
        RetryAfterPolicy(cap=-1)


# --- in the retry middleware -------------------------------------------------------------------


def _run(outcomes: list[Reply], cap: float = 60.0, method: str = "GET"):
    clock = FakeClock(wall_start=WALL)
    transport = InMemoryTransport.sequence(outcomes, clock=clock)
    policy = RetryPolicy(retry_after=RetryAfterPolicy(cap=cap))
    stack = Stack([Retry(policy, rng=random.Random(3))])
    return stack.run(Request(method, BASE.join("/x")), transport), transport, clock


def test_the_server_wait_replaces_the_backoff() -> None:
    """A 429 with retry-after-ms: 1200 waits exactly 1.2 s before the retry."""
    response, _transport, clock = _run([Reply(429, {"retry-after-ms": "1200"}), Reply(200)])
    assert response.status == 200
    assert clock.sleeps == [1.2]


def test_an_http_date_wait_uses_the_fake_wall_clock() -> None:
    """Retry-After as a date is measured on the transport clock, deterministically."""
    _, _, clock = _run([Reply(503, {"retry-after": http_date(WALL + 4)}), Reply(200)])
    assert clock.sleeps == [pytest.approx(4.0)]


def test_a_wait_over_the_cap_raises_at_once_with_the_delay() -> None:
    """Retry-After 120 s with a 60 s cap: RateLimitError now, retry_after=120, no sleep."""
    body = b'{"error_type": "limit_exceeded", "message": "slow down", "request_id": "r-1"}'
    outcomes = [Reply(429, {"retry-after": "120"}, content=body), Reply(200)]
    with pytest.raises(RateLimitError) as caught:
        _run(outcomes, cap=60)
    error = caught.value
    assert error.retry_after == 120.0
    assert error.request_id == "r-1"
    assert any("cap" in note for note in error.__notes__)


def test_fail_fast_sends_no_second_request() -> None:
    """Failing fast means the server is not asked again."""
    clock = FakeClock(wall_start=WALL)
    transport = InMemoryTransport.sequence([Reply(503, {"retry-after": "999"})], clock=clock)
    stack = Stack([Retry(RetryPolicy(retry_after=RetryAfterPolicy(cap=1)))])
    with pytest.raises(ServiceUnavailableError):
        stack.run(Request("GET", BASE.join("/x")), transport)
    assert len(transport.requests) == 1
    assert clock.sleeps == []


def test_retry_after_on_a_post_429_is_honoured() -> None:
    """A throttled POST was not processed, so it is retried after the server's wait."""
    response, transport, clock = _run([Reply(429, {"retry-after": "2"}), Reply(201)], method="POST")
    assert response.status == 201
    assert clock.sleeps == [2.0]
    assert len(transport.requests) == 2
