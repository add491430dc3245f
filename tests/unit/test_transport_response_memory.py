"""Responses, the in-memory transport, the fake clock and per-attempt deadline math."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import DeadlineExceededError, ReadTimeoutError, RequestNotSentError
from soniox.transport import (
    URL,
    FakeClock,
    InMemoryTransport,
    Reply,
    Request,
    RequestOptions,
    Response,
    ResponseNotReadError,
    Timeout,
    attempt_timeout,
)
from soniox.transport.base import Transport

BASE = URL.parse("http://127.0.0.1:9/v1")


def req(**options: object) -> Request:
    return Request("GET", BASE.join("/x"), options=RequestOptions(**options))  # type: ignore[arg-type]


# --- responses ---------------------------------------------------------------------------------


def test_headers_are_decoded_lazily_from_raw_pairs() -> None:
    """Raw wire headers become case-insensitive Headers on first access."""
    response = Response(200, req(), raw_headers=[(b"Content-Type", b"text/plain")], content=b"")
    assert response.headers.get("content-type") == "text/plain"


def test_streaming_content_must_be_read_first() -> None:
    """content on an unread stream is an error that says what to call."""
    response = Response(200, req(), stream=iter([b"a", b"b"]))
    with pytest.raises(ResponseNotReadError, match="read"):
        _ = response.content
    assert response.read() == b"ab"
    assert response.content == b"ab"


def test_iterating_a_stream_closes_it_at_the_end() -> None:
    """iter_bytes yields chunks as they come, then releases the connection."""
    closed: list[bool] = []
    response = Response(200, req(), stream=iter([b"a", b"b"]), on_close=lambda: closed.append(True))
    assert list(response.iter_bytes()) == [b"a", b"b"]
    assert closed == [True]


def test_close_is_idempotent() -> None:
    """Closing twice releases once."""
    closed: list[bool] = []
    response = Response(200, req(), stream=iter([]), on_close=lambda: closed.append(True))
    response.close()
    response.close()
    assert closed == [True]


def test_async_streams_read_with_aread() -> None:
    """An async body is read with aread(); read() says to use it."""

    async def chunks():  # type: ignore[no-untyped-def]
        yield b"x"
        yield b"y"

    response = Response(200, req(), stream=chunks())
    with pytest.raises(TypeError, match="aread"):
        response.read()
    assert asyncio.run(response.aread()) == b"xy"


def test_a_body_read_once_is_served_from_memory_by_every_form() -> None:
    """After read()/aread() the stream is spent: reading or iterating again gives the content
    (once, in one chunk; an empty body gives none), and a sync body refuses the async forms."""

    async def again(response: Response) -> tuple[bytes, list[bytes]]:
        return await response.aread(), [chunk async for chunk in response.aiter_bytes()]

    response = Response(200, req(), stream=iter([b"a", b"b"]))
    assert response.read() == b"ab"
    assert response.read() == b"ab"
    assert list(response.iter_bytes()) == [b"ab"]
    assert asyncio.run(again(response)) == (b"ab", [b"ab"])
    empty = Response(200, req(), stream=iter([]))
    assert list(empty.iter_bytes()) == []
    assert list(empty.iter_bytes()) == []
    unread = Response(200, req(), stream=iter([b"a"]))
    with pytest.raises(TypeError, match="use read"):
        asyncio.run(unread.aread())
    with pytest.raises(TypeError, match="use iter_bytes"):
        asyncio.run(anext(unread.aiter_bytes()))


def test_text_uses_the_declared_charset() -> None:
    """text decodes with Content-Type's charset."""
    body = "žemė".encode("iso-8859-13")
    response = Response.build(
        200, req(), headers={"content-type": "text/plain; charset=iso-8859-13"}, content=body
    )
    assert response.text == "žemė"


def test_json_body_round_trips() -> None:
    """build(json_body=...) and json() agree."""
    assert Response.build(200, req(), json_body={"a": [1]}).json() == {"a": [1]}


# --- in-memory transport -------------------------------------------------------------------------


def test_in_memory_transport_satisfies_the_protocol() -> None:
    """InMemoryTransport is a Transport."""
    assert isinstance(InMemoryTransport(), Transport)


def test_sequence_replays_outcomes_then_repeats_the_last() -> None:
    """Outcomes in order (exceptions raised); the last one repeats."""
    transport = InMemoryTransport.sequence([RequestNotSentError("x"), Reply(201)])
    with pytest.raises(RequestNotSentError):
        transport.send(req())
    assert transport.send(req()).status == 201
    assert transport.send(req()).status == 201


def test_async_handlers_are_awaited() -> None:
    """asend awaits a coroutine handler."""

    async def handler(request: Request) -> Reply:
        return Reply(204)

    assert asyncio.run(InMemoryTransport(handler).asend(req())).status == 204


def test_latency_past_the_read_timeout_is_a_read_timeout() -> None:
    """A reply slower than the read limit raises ReadTimeoutError after exactly that limit."""
    clock = FakeClock()
    transport = InMemoryTransport(lambda r: Reply(200, latency=5), clock=clock)
    with pytest.raises(ReadTimeoutError):
        transport.send(req(timeout=Timeout(read=2)))
    assert clock.now() - clock.start == pytest.approx(2)


def test_latency_past_the_deadline_is_a_deadline_error() -> None:
    """When the deadline, not the read limit, cuts the wait: DeadlineExceededError."""
    clock = FakeClock()
    transport = InMemoryTransport(lambda r: Reply(200, latency=5), clock=clock)
    with pytest.raises(DeadlineExceededError):
        transport.send(req(deadline=clock.now() + 1))


def test_no_attempt_starts_after_the_deadline() -> None:
    """An attempt with no time left is refused before anything is sent."""
    clock = FakeClock()
    transport = InMemoryTransport(clock=clock)
    with pytest.raises(DeadlineExceededError, match="before attempt"):
        transport.send(req(deadline=clock.now() - 0.1))
    assert transport.requests == []


# --- clock and deadline math -----------------------------------------------------------------------


def test_fake_clock_sleeps_instantly_and_records() -> None:
    """sleep() advances time and logs the wait; wall time moves with it."""
    clock = FakeClock(start=10, wall_start=100)
    clock.sleep(2.5)
    assert (clock.now(), clock.wall(), clock.sleeps) == (12.5, 102.5, [2.5])


@given(
    read=st.floats(0.01, 1e3),
    remaining=st.floats(0.001, 1e3),
)
def test_attempt_limits_are_the_smaller_of_timeout_and_deadline(
    read: float, remaining: float
) -> None:
    """Per attempt: min(timeout, time left); the original is kept to tell which bound."""
    clock = FakeClock()
    request = req(timeout=Timeout.of(read), deadline=clock.now() + remaining)
    clamped, original = attempt_timeout(request, Timeout(), clock)
    assert clamped.read == pytest.approx(min(read, remaining))
    assert original.read == read


def test_without_a_deadline_the_timeout_is_unchanged() -> None:
    """No deadline: the per-attempt timeout (or the default) applies as is."""
    default = Timeout(1, 2, 3, 4)
    assert attempt_timeout(req(), default, FakeClock()) == (default, default)
