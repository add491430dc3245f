"""Middleware: the engine (effects, drivers, :class:`Stack`) and one module per middleware.

:func:`build_stack` assembles the stack a :class:`~soniox.config.SonioxConfig` names.
"""

from __future__ import annotations

import random

from soniox.config import SonioxConfig
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
    "middleware_name",
    "HeadersMiddleware",
    "LoggingMiddleware",
    "Retry",
    "RetryPolicy",
    "Backoff",
    "RetryAfterPolicy",
    "retry_policy",
    "build_stack",
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


def build_stack(config: SonioxConfig, *, rng: random.Random | None = None) -> Stack:
    """A fresh :class:`Stack` with the middleware ``config.middleware`` names, in order."""
    stack = Stack()
    for name in config.middleware:
        if name == "headers":
            stack.append(
                HeadersMiddleware(config.resolved_api_key, user_agent_extra=config.user_agent_extra)
            )
        elif name == "retry":
            stack.append(Retry(retry_policy(config), rng=rng))
        elif name == "logging":
            stack.append(LoggingMiddleware(log_headers=config.log_headers))
        else:  # pragma: no cover - SonioxConfig validates names against KNOWN_MIDDLEWARE
            raise ValueError(f"unknown middleware {name!r}")
    return stack
