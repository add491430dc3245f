"""``event_hooks``: httpx's per-request callbacks, for code written for the official SDK.

The official SDK passes extra keywords to ``httpx.Client``, so ``SonioxClient(event_hooks=
{"request": [log_request], "response": [log_response]})`` is how its users observe traffic.
This middleware keeps that working: each hook is called with this SDK's
:class:`~soniox.transport.Request` / :class:`~soniox.transport.Response` (``.method``,
``.url``, ``.headers``, ``.status_code``, ``.request``) once per attempt; the async client
awaits hooks that are coroutine functions, as ``httpx.AsyncClient`` does. A hook's exception
propagates, as in httpx. Prefer a middleware of your own for anything more (see
docs/configuration.md, "Write your own middleware").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from soniox.errors import ClientValidationError
from soniox.transport.base import Transport
from soniox.transport.request import Request
from soniox.transport.response import Response

from .engine import CallNext, Effect, Flow

__all__ = ["CallHook", "EventHooks"]

Hook = Callable[[Any], Any]


@attrs.frozen
class CallHook(Effect):
    """Call ``hook(subject)``; the async driver awaits the result when it is awaitable."""

    hook: Hook
    subject: Request | Response

    def run(self, transport: Transport) -> None:
        result = self.hook(self.subject)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()  # never awaited: do not leave a "coroutine was never awaited" warning
            raise ClientValidationError(
                "an async event hook was given to the blocking SonioxClient; use "
                "AsyncSonioxClient, or a plain function",
                field="event_hooks",
            )

    async def arun(self, transport: Transport) -> None:
        result = self.hook(self.subject)
        if inspect.isawaitable(result):
            await result


class EventHooks:
    """Calls the ``"request"`` hooks before each attempt and the ``"response"`` hooks after."""

    name = "event_hooks"

    def __init__(self, hooks: Mapping[str, Iterable[Hook]]) -> None:
        unknown = sorted(set(hooks) - {"request", "response"})
        if unknown:
            raise ClientValidationError(
                f"event_hooks takes 'request' and 'response' lists, got {unknown}",
                field="event_hooks",
            )
        self.request_hooks = tuple(hooks.get("request", ()))
        self.response_hooks = tuple(hooks.get("response", ()))
        for hook in (*self.request_hooks, *self.response_hooks):
            if not callable(hook):
                raise ClientValidationError(
                    f"every event hook must be callable, got {hook!r}", field="event_hooks"
                )

    def send(self, request: Request, call_next: CallNext) -> Flow[Response]:
        for hook in self.request_hooks:
            yield CallHook(hook, request)
        response = yield from call_next(request)
        for hook in self.response_hooks:
            yield CallHook(hook, response)
        return response

    def __repr__(self) -> str:
        return f"EventHooks(request={len(self.request_hooks)}, response={len(self.response_hooks)})"
