"""The middleware engine: effects, drivers, hook adaptation and the editable Stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from soniox.errors import RequestNotSentError
from soniox.middleware import (
    CallNext,
    Effect,
    Flow,
    HookMiddleware,
    Stack,
    run_async,
    run_sync,
    sleep,
)
from soniox.transport import URL, FakeClock, InMemoryTransport, Reply, Request, Response
from soniox.transport.base import Transport

BASE = URL.parse("http://127.0.0.1:9/v1")


def req(path: str = "/models", method: str = "GET") -> Request:
    return Request(method, BASE.join(path))


class Tag:
    """An around-middleware that records the order it sees requests and responses in."""

    def __init__(self, label: str, log: list[str]) -> None:
        self.name = label
        self.log = log

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        self.log.append(f"{self.name}>")
        response = yield from call_next(request)
        self.log.append(f"<{self.name}")
        return response


class AddHeader(HookMiddleware):
    name = "add_header"

    def on_request(self, request: Request) -> Request:
        return request.with_header("x-test", "1")


class Recorder(HookMiddleware):
    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_request(self, request: Request) -> Request:
        self.seen.append(("request", request.path))
        return request

    def on_response(self, request: Request, response: Response) -> Response:
        self.seen.append(("response", response.status))
        return response

    def on_error(self, request: Request, error: Exception) -> None:
        self.seen.append(("error", type(error).__name__))


def ok_transport() -> InMemoryTransport:
    return InMemoryTransport(lambda r: Reply(200, content=r.headers.get("x-test", "-").encode()))


# --- editing --------------------------------------------------------------------------------


def test_stack_lists_names_outermost_first() -> None:
    """names and repr show the order requests travel, ending at the transport."""
    log: list[str] = []
    stack = Stack([Tag("a", log), Tag("b", log)])
    assert stack.names == ["a", "b"]
    assert repr(stack) == "Stack(a → b → transport)"


def test_insert_before_and_after_place_relative_to_an_anchor() -> None:
    """insert_before puts the new layer outside the anchor, insert_after inside it."""
    log: list[str] = []
    stack = Stack([Tag("a", log), Tag("c", log)])
    stack.insert_after("a", Tag("b", log))
    stack.insert_before("a", Tag("zero", log))
    assert stack.names == ["zero", "a", "b", "c"]


def test_remove_returns_the_middleware_and_drops_it() -> None:
    """remove(name) takes the layer out and hands it back."""
    log: list[str] = []
    b = Tag("b", log)
    stack = Stack([Tag("a", log), b])
    assert stack.remove("b") is b
    assert stack.names == ["a"]


def test_move_reorders_including_negative_positions() -> None:
    """move(name, -1) makes a layer innermost, move(name, 0) outermost."""
    log: list[str] = []
    stack = Stack([Tag("a", log), Tag("b", log), Tag("c", log)])
    stack.move("a", -1)
    assert stack.names == ["b", "c", "a"]
    stack.move("c", 0)
    assert stack.names == ["c", "b", "a"]


def test_replace_keeps_the_position_and_name() -> None:
    """replace swaps the object but not where or what it is called."""
    log: list[str] = []
    stack = Stack([Tag("a", log), Tag("b", log)])
    new = Tag("other", log)
    stack.replace("a", new)
    assert stack.names == ["a", "b"]
    assert stack["a"] is new


def test_duplicate_names_are_refused_with_advice() -> None:
    """Two layers with one name would make editing ambiguous: refused, suggesting name=."""
    log: list[str] = []
    stack = Stack([Tag("a", log)])
    with pytest.raises(ValueError, match="name="):
        stack.append(Tag("a", log))
    stack.append(Tag("a", log), name="a2")
    assert stack.names == ["a", "a2"]


def test_objects_without_send_or_hooks_are_not_middleware() -> None:
    """A typo'd middleware fails when added, not on the first request."""
    with pytest.raises(TypeError, match="not middleware"):
        Stack([object()])


def test_unknown_anchor_names_the_stack() -> None:
    """Editing around a missing name raises KeyError showing what exists."""
    with pytest.raises(KeyError, match="Stack"):
        Stack().insert_before("retry", AddHeader())


def test_str_prints_each_layer_with_its_kind() -> None:
    """print(stack) shows a numbered list, hook vs around, and the transport at the end."""
    log: list[str] = []
    text = str(Stack([Tag("a", log), AddHeader()]))
    assert "1. a" in text
    assert "[around]" in text
    assert "2. add_header" in text
    assert "[hooks]" in text
    assert text.rstrip().endswith("transport")


def test_names_default_to_snake_case_class_names() -> None:
    """A middleware without a name attribute is named after its class."""

    class MyFancyMiddleware:
        def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
            return (yield from call_next(request))

    assert Stack([MyFancyMiddleware()]).names == ["my_fancy"]


def test_copy_is_independent() -> None:
    """Editing a copy leaves the original alone."""
    log: list[str] = []
    stack = Stack([Tag("a", log)])
    clone = stack.copy()
    clone.append(Tag("b", log))
    assert stack.names == ["a"]


# --- execution -----------------------------------------------------------------------------


def test_layers_run_outermost_first_and_unwind_in_reverse() -> None:
    """Requests go down the list, responses come back up."""
    log: list[str] = []
    stack = Stack([Tag("a", log), Tag("b", log)])
    stack.run(req(), ok_transport())
    assert log == ["a>", "b>", "<b", "<a"]


def test_on_request_hook_changes_what_is_sent() -> None:
    """A hook's returned request is what the transport receives."""
    transport = ok_transport()
    response = Stack([AddHeader()]).run(req(), transport)
    assert transport.requests[0].headers.get("x-test") == "1"
    assert response.content == b"1"


def test_hooks_see_request_and_response() -> None:
    """on_request then on_response, once each per pass."""
    rec = Recorder()
    Stack([rec]).run(req("/files"), ok_transport())
    assert rec.seen == [("request", "/v1/files"), ("response", 200)]


def test_on_error_observes_and_the_error_still_propagates() -> None:
    """on_error is told about a failure, which then reaches the caller unchanged."""
    rec = Recorder()
    boom = RequestNotSentError("refused")
    transport = InMemoryTransport.sequence([boom])
    with pytest.raises(RequestNotSentError) as caught:
        Stack([rec]).run(req(), transport)
    assert caught.value is boom
    assert rec.seen[-1] == ("error", "RequestNotSentError")


def test_on_response_can_replace_the_response() -> None:
    """Whatever on_response returns travels outwards."""

    class Rewrite(HookMiddleware):
        def on_response(self, request: Request, response: Response) -> Response:
            return response.evolve(status=299)

    assert Stack([Rewrite()]).run(req(), ok_transport()).status == 299


def test_the_chain_is_cached_until_the_stack_changes() -> None:
    """handler() is built once per edit, not per request."""
    log: list[str] = []
    stack = Stack([Tag("a", log)])
    first = stack.handler()
    assert stack.handler() is first
    stack.append(Tag("b", log))
    assert stack.handler() is not first


def test_sync_and_async_drivers_run_the_same_flow() -> None:
    """One middleware implementation; both drivers produce the same trace and result."""
    import asyncio

    log_sync: list[str] = []
    log_async: list[str] = []
    r1 = Stack([Tag("a", log_sync), AddHeader()]).run(req(), ok_transport())
    r2 = asyncio.run(Stack([Tag("a", log_async), AddHeader()]).arun(req(), ok_transport()))
    assert log_sync == log_async == ["a>", "<a"]
    assert r1.content == r2.content == b"1"


def test_sleep_effects_use_the_transport_clock() -> None:
    """A middleware's sleep waits on the transport's (fake) clock."""

    class Pause:
        def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
            yield from sleep(2.5)
            return (yield from call_next(request))

    clock = FakeClock()
    Stack([Pause()]).run(req(), InMemoryTransport(clock=clock))
    assert clock.sleeps == [2.5]


def test_new_effect_kinds_need_no_engine_change() -> None:
    """Any Effect subclass with run/arun is performed by both drivers."""

    @attrs.frozen
    class Count(Effect):
        counter: list[int]

        def run(self, transport: Transport) -> int:
            self.counter.append(1)
            return len(self.counter)

        async def arun(self, transport: Transport) -> int:
            return self.run(transport)

    seen: list[int] = []

    def flow() -> Flow[int]:
        a = yield Count(seen)
        b = yield Count(seen)
        return a + b

    import asyncio

    assert run_sync(flow(), ok_transport()) == 3
    assert asyncio.run(run_async(flow(), ok_transport())) == 7


def test_an_effect_failure_is_thrown_into_the_flow() -> None:
    """A middleware can catch what its effect raised (that is how retry sees errors)."""

    def flow() -> Flow[str]:
        try:
            yield from Stack().handler()(req())
        except RequestNotSentError:
            return "caught"
        return "not raised"

    transport = InMemoryTransport.sequence([RequestNotSentError("x")])
    assert run_sync(flow(), transport) == "caught"


def test_interrupts_unwind_middleware_finally_blocks() -> None:
    """KeyboardInterrupt (or cancellation) still runs cleanup in every layer."""
    cleaned: list[str] = []

    class Cleanup:
        def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
            try:
                return (yield from call_next(request))
            finally:
                cleaned.append("done")

    def interrupt(_request: Request) -> Reply:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Stack([Cleanup()]).run(req(), InMemoryTransport(interrupt))
    assert cleaned == ["done"]


def test_hook_subclass_without_overrides_adds_no_layer() -> None:
    """A HookMiddleware that overrides nothing costs nothing per request."""
    transport = ok_transport()
    stack = Stack([HookMiddleware()])
    from soniox.middleware.engine import send

    assert stack.handler() is send
    assert stack.run(req(), transport).status == 200


def _drain(flow: Iterator[Any]) -> list[Any]:
    return list(flow)


def test_flows_yield_send_effects_visible_to_a_custom_driver() -> None:
    """A flow is plain data: the innermost layer yields Send(request) and nothing else."""
    effects = _drain(Stack([AddHeader()]).handler()(req()))
    assert len(effects) == 1
    assert type(effects[0]).__name__ == "Send"
    assert effects[0].request.headers.get("x-test") == "1"
