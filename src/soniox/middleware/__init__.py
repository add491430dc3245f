"""Middleware: the engine (effects, drivers, :class:`Stack`) and one module per middleware.

:func:`build_stack` assembles the stack a :class:`~soniox.config.SonioxConfig` names, from the
open :data:`registry` (name → factory) that the built-ins below and the user's own middleware
register into (:func:`register_middleware`).
"""

from __future__ import annotations

from soniox.config import SonioxConfig
from soniox.middleware.cancel import (
    CancelScope,
    FlowCancelled,
    current_scope,
    interruptible_sleep,
    interruptible_wait,
)
from soniox.middleware.driver import Around, Stepper, relay
from soniox.middleware.engine import (
    CallNext,
    Effect,
    Flow,
    GetClock,
    HookMiddleware,
    Middleware,
    Send,
    Sleep,
    Stack,
    StackEntry,
    get_clock,
    middleware_name,
    run_async,
    run_sync,
    send,
    sleep,
)
from soniox.middleware.headers import HeadersMiddleware, user_agent
from soniox.middleware.logging import LoggingMiddleware
from soniox.middleware.registry import (
    MiddlewareFactory,
    MiddlewareRegistry,
    build_stack,
    register_middleware,
    registry,
)
from soniox.middleware.retry import Backoff, Retry, RetryPolicy
from soniox.middleware.retry_after import RetryAfterPolicy

__all__ = [
    "Effect",
    "Send",
    "Sleep",
    "GetClock",
    "Flow",
    "CallNext",
    "Middleware",
    "HookMiddleware",
    "Stack",
    "StackEntry",
    "send",
    "sleep",
    "get_clock",
    "run_sync",
    "run_async",
    "Stepper",
    "Around",
    "relay",
    "CancelScope",
    "FlowCancelled",
    "current_scope",
    "interruptible_sleep",
    "interruptible_wait",
    "middleware_name",
    "HeadersMiddleware",
    "LoggingMiddleware",
    "Retry",
    "RetryPolicy",
    "Backoff",
    "RetryAfterPolicy",
    "retry_policy",
    "build_stack",
    "register_middleware",
    "registry",
    "MiddlewareRegistry",
    "MiddlewareFactory",
    "user_agent",
]


def retry_policy(config: SonioxConfig) -> RetryPolicy:
    """The :class:`RetryPolicy` a config describes."""
    return RetryPolicy(
        max_retries=config.max_retries,
        backoff=Backoff(config.backoff_base, config.backoff_factor, config.backoff_cap),
        retry_statuses=config.retry_statuses,
        retry_after=RetryAfterPolicy(cap=config.retry_after_cap),
    )


# The built-ins, registered like anyone's middleware (see .registry).
@register_middleware("headers")
def _headers(config: SonioxConfig) -> HeadersMiddleware:
    return HeadersMiddleware(config.resolved_api_key, user_agent_extra=config.user_agent_extra)


@register_middleware("retry")
def _retry(config: SonioxConfig) -> Retry:
    return Retry(retry_policy(config))


@register_middleware("logging")
def _logging(config: SonioxConfig) -> LoggingMiddleware:
    return LoggingMiddleware(log_headers=config.log_headers)
