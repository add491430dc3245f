"""The middleware engine: effects, the two drivers, hook adapters and the ordered :class:`Stack`.

Every middleware is written once. Its ``send(request, call_next)`` is a generator that *yields
effects* — :class:`Send` (only the innermost layer yields it), :class:`Sleep`, :class:`GetClock`
— and receives their results. A request's trip through the stack is one generator chain::

    headers.send ──yield from──▶ retry.send ──yield from──▶ logging.send ──▶ terminal
                                                                               │ yield Send(req)
                        driver ◀───────────── effect bubbles up ◀──────────────┘
                          │  run_sync:  transport.send(req)      /  clock.sleep(s)
                          │  run_async: await transport.asend(req) / await clock.asleep(s)
                          └──────────── result sent back down ─────────────────▶

So :class:`~soniox.client.SonioxClient` and :class:`~soniox.client.AsyncSonioxClient` execute
the *same* middleware code and differ only in the driver. Both drivers are shells over one
:class:`~soniox.middleware.driver.Stepper` (start, resume with a value or an exception, keep the
result): the sync one calls ``effect.run``, the async one awaits ``effect.arun``. The effect set
is open: an effect is any object with ``run(transport)`` and ``async arun(transport)`` (later:
rate-limit permits, futures), so a new kind of waiting needs no change here; one that blocks
uses the helpers of :mod:`soniox.middleware.cancel`, so a cancel from another thread wakes it.

Hook middleware (``on_request`` / ``on_response`` / ``on_error`` — headers, logging, tracing,
metrics) are plain methods; :class:`Stack` adapts them into around-middleware. A hook with only
``on_request`` costs one function call per request (no generator frame).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Final, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

import attrs

from soniox.middleware.cancel import interruptible_sleep
from soniox.middleware.driver import Stepper
from soniox.transport.base import Clock, Transport
from soniox.transport.request import Request
from soniox.transport.response import Response

__all__ = [
    "Effect",
    "Send",
    "Sleep",
    "GetClock",
    "Flow",
    "CallNext",
    "Middleware",
    "HookMiddleware",
    "send",
    "sleep",
    "get_clock",
    "run_sync",
    "run_async",
    "Stack",
    "StackEntry",
    "middleware_name",
]

T = TypeVar("T")


# --- effects -------------------------------------------------------------------------------


class Effect:
    """Something a flow asks its driver to do. Subclasses implement both ways of doing it."""

    __slots__ = ()

    def run(self, transport: Transport) -> Any:
        raise NotImplementedError

    async def arun(self, transport: Transport) -> Any:
        raise NotImplementedError


@attrs.frozen(repr=False)
class Send(Effect):
    """Send one attempt over the transport; the result is its :class:`Response`."""

    request: Request

    def run(self, transport: Transport) -> Response:
        return transport.send(self.request)

    async def arun(self, transport: Transport) -> Response:
        return await transport.asend(self.request)

    def __repr__(self) -> str:
        return f"Send({self.request.method} {self.request.path}, attempt={self.request.attempt})"


@attrs.frozen
class Sleep(Effect):
    """Wait ``seconds`` on the transport's clock (fake in tests, so nothing really waits); under
    a cancelled :class:`~soniox.middleware.cancel.CancelScope` the sync wait ends early."""

    seconds: float

    def run(self, transport: Transport) -> None:
        interruptible_sleep(transport.clock, self.seconds)

    async def arun(self, transport: Transport) -> None:
        await transport.clock.asleep(self.seconds)


@attrs.frozen
class GetClock(Effect):
    """Ask for the transport's clock (for deadlines and HTTP-date arithmetic)."""

    def run(self, transport: Transport) -> Clock:
        return transport.clock

    async def arun(self, transport: Transport) -> Clock:
        return transport.clock


_GET_CLOCK = GetClock()

Flow: TypeAlias = Generator[Effect, Any, T]
"""A generator that yields effects, receives their results and finally returns a ``T``."""

CallNext: TypeAlias = Callable[[Request], Flow[Response]]
"""The rest of the stack, as seen from one middleware."""


def send(request: Request) -> Flow[Response]:
    """``response = yield from send(request)``: the terminal step of every chain."""
    response: Response = yield Send(request)
    return response


def sleep(seconds: float) -> Flow[None]:
    """``yield from sleep(s)``: wait on the transport clock."""
    yield Sleep(seconds)


_DRIVER_CLOCK: Final[ContextVar[Clock | None]] = ContextVar("soniox_driver_clock", default=None)
"""The clock of the transport whose driver is running the current flow (None outside one)."""


def get_clock() -> Flow[Clock]:
    """``clock = yield from get_clock()``.

    Under :func:`run_sync` / :func:`run_async` the driver's transport clock is known without
    a round trip: the answer comes from the driver's context, so no :class:`GetClock` effect
    has to bubble through every relay outside the asking middleware (two per cached GET on the
    hot path). A flow stepped by hand — a sans-IO test — still sees the ``GetClock`` effect and
    answers it with whatever clock it likes.
    """
    clock = _DRIVER_CLOCK.get()
    if clock is None:
        clock = yield _GET_CLOCK
    return clock


# --- drivers -------------------------------------------------------------------------------


def run_sync(flow: Flow[T], transport: Transport) -> T:
    """Run ``flow`` to completion, performing its effects with blocking calls."""
    bound = _DRIVER_CLOCK.set(transport.clock)
    try:
        return _drive_sync(flow, transport)
    finally:
        _DRIVER_CLOCK.reset(bound)


def _drive_sync(flow: Flow[T], transport: Transport) -> T:
    step: Stepper[Effect, T] = Stepper(flow)
    send_ = transport.send
    try:
        while (effect := step.effect) is not None:
            try:  # ``with step:`` spelt out, the hot path: two calls fewer per effect
                step.value = (
                    send_(effect.request) if type(effect) is Send else effect.run(transport)
                )
            except BaseException as error:
                step.resume(error)
            else:
                step.resume()
    except BaseException:
        step.close()  # left unfinished (an interrupt between steps): its ``finally`` runs now
        raise
    return step.result


async def run_async(flow: Flow[T], transport: Transport) -> T:
    """Run ``flow`` to completion, awaiting its effects (same flows as :func:`run_sync`)."""
    bound = _DRIVER_CLOCK.set(transport.clock)
    try:
        return await _drive_async(flow, transport)
    finally:
        _DRIVER_CLOCK.reset(bound)


async def _drive_async(flow: Flow[T], transport: Transport) -> T:
    step: Stepper[Effect, T] = Stepper(flow)
    asend = transport.asend
    try:
        while (effect := step.effect) is not None:
            with step:
                if type(effect) is Send:
                    step.value = await asend(effect.request)
                else:
                    step.value = await effect.arun(transport)
    except BaseException:
        step.close()
        raise
    return step.result


# --- middleware shapes -------------------------------------------------------------------------


@runtime_checkable
class Middleware(Protocol):
    """An around-middleware: sees the request, calls the rest of the stack, sees the outcome."""

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]: ...


class HookMiddleware:
    """Base class for hook middleware; override any subset of the three hooks.

    Subclassing is optional — any object with one of these methods is adapted — but it
    documents the shape. Hooks run once per attempt when placed inside ``retry``.
    """

    def on_request(self, request: Request) -> Request:
        """Return the request to send (changed or not)."""
        return request

    def on_response(self, request: Request, response: Response) -> Response:
        """Return the response to pass outwards (every status arrives here, errors too)."""
        return response

    def on_error(self, request: Request, error: Exception) -> None:
        """Observe a failure (transport error, timeout); it is re-raised afterwards."""


_HOOKS = ("on_request", "on_response", "on_error")


def _overridden(obj: object, hook: str) -> Callable[..., Any] | None:
    """The hook method if ``obj`` really implements it (not HookMiddleware's no-op)."""
    method = getattr(obj, hook, None)
    if method is None:
        return None
    base = getattr(HookMiddleware, hook)
    if getattr(method, "__func__", None) is base:
        return None
    return method


def _is_hook(obj: object) -> bool:
    return not callable(getattr(obj, "send", None)) and any(hasattr(obj, h) for h in _HOOKS)


def _hook_layer(hooks: object, call_next: CallNext) -> CallNext:
    """An around-layer made from hook methods, specialised to the hooks that exist."""
    on_request = _overridden(hooks, "on_request")
    on_response = _overridden(hooks, "on_response")
    on_error = _overridden(hooks, "on_error")

    if on_response is None and on_error is None:
        if on_request is None:
            return call_next
        pre: Callable[[Request], Request] = on_request

        def call_pre(request: Request) -> Flow[Response]:
            return call_next(pre(request))

        return call_pre

    def call_hooks(request: Request) -> Flow[Response]:
        if on_request is not None:
            request = on_request(request)
        if on_error is None:
            response = yield from call_next(request)
        else:
            try:
                response = yield from call_next(request)
            except Exception as exc:
                on_error(request, exc)
                raise
        if on_response is not None:
            response = on_response(request, response)
        return response

    return call_hooks


def _around_layer(middleware: Middleware, call_next: CallNext) -> CallNext:
    method = middleware.send

    def call(request: Request) -> Flow[Response]:
        return method(request, call_next)

    return call


# --- the stack -----------------------------------------------------------------------------------

_Observe: TypeAlias = Callable[[str], AbstractContextManager[object]]
"""A middleware's optional ``around_operation(name)``: the context of one SDK operation."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def middleware_name(middleware: object) -> str:
    """A middleware's name: its ``name`` attribute, else its class name in snake_case."""
    name = getattr(middleware, "name", None)
    if isinstance(name, str) and name:
        return name
    cls = type(middleware).__name__.removesuffix("Middleware") or type(middleware).__name__
    return _CAMEL.sub("_", cls).lower()


@attrs.frozen
class StackEntry:
    """One named position in a :class:`Stack`."""

    name: str
    middleware: object
    kind: str
    """``"around"`` (has ``send``) or ``"hooks"`` (adapted from on_request/on_response/on_error)."""


class Stack:
    """An ordered, named, editable list of middleware — outermost first.

    ``stack.insert_before("logging", Metrics())``, ``stack.remove("retry")``,
    ``stack.move("logging", 0)``; ``print(stack)`` shows the order. The chain a request runs
    through is built once per change (a fold over the list) and cached, so per request there is
    no building cost.
    """

    def __init__(self, middleware: Iterable[object] = ()) -> None:
        self._entries: list[StackEntry] = []
        self._chain: CallNext | None = None
        self._observers: tuple[_Observe, ...] | None = None
        for item in middleware:
            self.append(item)

    # --- editing -----------------------------------------------------------------------
    def _entry(self, middleware: object, name: str | None) -> StackEntry:
        if isinstance(middleware, StackEntry):
            return middleware
        if callable(getattr(middleware, "send", None)):
            kind = "around"
        elif _is_hook(middleware):
            kind = "hooks"
        else:
            raise TypeError(
                f"{middleware!r} is not middleware: give it send(request, call_next) or at "
                "least one of on_request / on_response / on_error"
            )
        resolved = name or middleware_name(middleware)
        if resolved in self:
            raise ValueError(
                f"the stack already has a middleware named {resolved!r}; pass name= to add "
                "another one, or use replace()"
            )
        return StackEntry(resolved, middleware, kind)

    def _index(self, name: str) -> int:
        for i, entry in enumerate(self._entries):
            if entry.name == name:
                return i
        raise KeyError(f"no middleware named {name!r} in {self!r}")

    def _changed(self) -> None:
        self._chain = None
        self._observers = None

    def append(self, middleware: object, *, name: str | None = None) -> Stack:
        """Add innermost (closest to the transport). Returns the stack, for chaining."""
        self._entries.append(self._entry(middleware, name))
        self._changed()
        return self

    def insert(self, index: int, middleware: object, *, name: str | None = None) -> Stack:
        """Add at ``index`` (0 = outermost)."""
        self._entries.insert(index, self._entry(middleware, name))
        self._changed()
        return self

    def insert_before(self, anchor: str, middleware: object, *, name: str | None = None) -> Stack:
        """Add just outside ``anchor`` (it will see the request first)."""
        return self.insert(self._index(anchor), middleware, name=name)

    def insert_after(self, anchor: str, middleware: object, *, name: str | None = None) -> Stack:
        """Add just inside ``anchor``."""
        return self.insert(self._index(anchor) + 1, middleware, name=name)

    def remove(self, name: str) -> object:
        """Take ``name`` out; returns the middleware."""
        entry = self._entries.pop(self._index(name))
        self._changed()
        return entry.middleware

    def replace(self, name: str, middleware: object) -> object:
        """Swap the middleware at ``name`` (keeping the name); returns the old one."""
        index = self._index(name)
        old = self._entries[index]
        del self._entries[index]
        try:
            self._entries.insert(index, self._entry(middleware, name))
        except BaseException:
            self._entries.insert(index, old)
            raise
        self._changed()
        return old.middleware

    def move(self, name: str, index: int) -> Stack:
        """Move ``name`` to position ``index`` (0 = outermost, -1 = innermost)."""
        entry = self._entries.pop(self._index(name))
        if index < 0:
            index = len(self._entries) + 1 + index
        self._entries.insert(index, entry)
        self._changed()
        return self

    def copy(self) -> Stack:
        """An independent stack with the same middleware objects."""
        clone = Stack()
        clone._entries = list(self._entries)
        return clone

    # --- inspection --------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self._entries]

    @property
    def entries(self) -> tuple[StackEntry, ...]:
        return tuple(self._entries)

    def get(self, name: str) -> object | None:
        """The middleware called ``name``, or None."""
        for entry in self._entries:
            if entry.name == name:
                return entry.middleware
        return None

    def __getitem__(self, key: str | int) -> object:
        if isinstance(key, int):
            return self._entries[key].middleware
        return self._entries[self._index(key)].middleware

    def __contains__(self, name: object) -> bool:
        return any(entry.name == name for entry in self._entries)

    def __iter__(self) -> Iterator[object]:
        return (entry.middleware for entry in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Stack({' → '.join([*self.names, 'transport'])})"

    def __str__(self) -> str:
        width = max((len(e.name) for e in self._entries), default=0)
        lines = ["Stack (outermost first):"]
        for i, entry in enumerate(self._entries, 1):
            kind = f"[{entry.kind}]"
            lines.append(f"  {i}. {entry.name:<{width}}  {kind:<8}  {entry.middleware!r}")
        lines.append(f"  {'└─▶':>3} transport")
        return "\n".join(lines)

    # --- execution ---------------------------------------------------------------------
    def handler(self, terminal: CallNext = send) -> CallNext:
        """The whole chain as one ``call(request) -> Flow[Response]`` (cached per edit)."""
        if terminal is send and self._chain is not None:
            return self._chain
        chain = terminal
        for entry in reversed(self._entries):
            if entry.kind == "around":
                chain = _around_layer(cast(Middleware, entry.middleware), chain)
            else:
                chain = _hook_layer(entry.middleware, chain)
        if terminal is send:
            self._chain = chain
        return chain

    def run(self, request: Request, transport: Transport) -> Response:
        """Send ``request`` through the stack and the transport (blocking)."""
        return run_sync(self.handler()(request), transport)

    async def arun(self, request: Request, transport: Transport) -> Response:
        """Send ``request`` through the stack and the transport (async)."""
        return await run_async(self.handler()(request), transport)

    # --- operations ------------------------------------------------------------------------
    def operation(self, name: str) -> AbstractContextManager[object]:
        """The context of one SDK operation (``"stt.transcribe"``), however many requests and
        waits it takes: enters ``around_operation(name)`` — a context manager — of each
        middleware that has one, outermost first (a trace span, a timer). The namespaces run
        each operation inside it (``with stack.operation(name): client.run(flow)``), so under
        asyncio it lives in the task running the flow; with no such middleware it costs a
        shared no-op context."""
        observers = self._observers
        if observers is None:
            found = (getattr(e.middleware, "around_operation", None) for e in self._entries)
            observers = self._observers = tuple(
                cast(_Observe, hook) for hook in found if callable(hook)
            )
        if not observers:
            return _NO_OPERATION
        if len(observers) == 1:
            return observers[0](name)
        # A hook with nothing to do answers a nullcontext (tracing without an OpenTelemetry
        # SDK): left out, the usual case is one real context, entered as it is.
        live = [context for hook in observers if not _idle(context := hook(name))]
        if not live:
            return _NO_OPERATION
        if len(live) == 1:
            return live[0]
        return _operations(live)


_NO_OPERATION: Final = contextlib.nullcontext()


def _idle(context: AbstractContextManager[object]) -> bool:
    return type(context) is contextlib.nullcontext


@contextlib.contextmanager
def _operations(contexts: list[AbstractContextManager[object]]) -> Generator[None]:
    with contextlib.ExitStack() as entered:
        for context in contexts:
            entered.enter_context(context)
        yield
