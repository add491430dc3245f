"""Middleware: the engine (effects, drivers, :class:`Stack`) and one module per middleware.

:func:`build_stack` assembles the stack a :class:`~soniox.config.SonioxConfig` names, from the
open :data:`registry` (name → factory) that the built-ins below and the user's own middleware
register into (:func:`register_middleware`).
"""

from __future__ import annotations

from soniox.config import SonioxConfig
from soniox.middleware.cache import Cache, CacheStats, MemoryStore
from soniox.middleware.cache_policy import CacheRules
from soniox.middleware.cancel import (
    CancelScope,
    FlowCancelled,
    current_scope,
    interruptible_sleep,
    interruptible_wait,
)
from soniox.middleware.concurrency import AcquirePermit, ConcurrencyLimit, PermitPool
from soniox.middleware.dedup import Dedup
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
from soniox.middleware.metrics import MemoryMetrics, Metrics, MetricsSink, MetricsSnapshot
from soniox.middleware.metrics_export import (
    OpenTelemetryMetrics,
    PrometheusMetrics,
    metrics_from_config,
)
from soniox.middleware.observe import cache_lookup, dedup_joined, route_template, wait, waited
from soniox.middleware.rate_limit import AdaptiveRate, RateLimit, RateLimitPolicy, RouteLimit
from soniox.middleware.registry import (
    MiddlewareFactory,
    MiddlewareRegistry,
    build_stack,
    register_middleware,
    registry,
)
from soniox.middleware.retry import Backoff, Retry, RetryPolicy
from soniox.middleware.retry_after import RetryAfterPolicy
from soniox.middleware.retry_budget import RetryBudget
from soniox.middleware.state import (
    LocalStateStore,
    StateStore,
    UpdateState,
    shared_state_for,
    update_state,
)
from soniox.middleware.tracing import Tracing

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
    "RateLimit",
    "RateLimitPolicy",
    "RouteLimit",
    "AdaptiveRate",
    "ConcurrencyLimit",
    "PermitPool",
    "AcquirePermit",
    "RetryBudget",
    "StateStore",
    "LocalStateStore",
    "UpdateState",
    "update_state",
    "rate_limit_policy",
    "retry_budget",
    "Cache",
    "CacheRules",
    "CacheStats",
    "MemoryStore",
    "Dedup",
    "retry_policy",
    "build_stack",
    "register_middleware",
    "registry",
    "MiddlewareRegistry",
    "MiddlewareFactory",
    "user_agent",
    "Metrics",
    "MetricsSink",
    "MetricsSnapshot",
    "MemoryMetrics",
    "PrometheusMetrics",
    "OpenTelemetryMetrics",
    "Tracing",
    "route_template",
    "wait",
    "waited",
    "cache_lookup",
    "dedup_joined",
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
    budget = retry_budget(config)
    shared = shared_state_for(config) if budget is not None else None
    if shared is None:
        return Retry(retry_policy(config), budget=budget)
    state, scope = shared
    return Retry(retry_policy(config), budget=budget, shared=state, scope=scope)


@register_middleware("logging")
def _logging(config: SonioxConfig) -> LoggingMiddleware:
    return LoggingMiddleware(log_headers=config.log_headers)


@register_middleware("cache")
def _cache(config: SonioxConfig) -> Cache:
    return Cache.from_config(config)


@register_middleware("dedup")
def _dedup(config: SonioxConfig) -> Dedup:
    return Dedup()


# --- rate limit, concurrency cap, retry budget (issue 12) ----------------------------------------


def rate_limit_policy(config: SonioxConfig) -> RateLimitPolicy:
    """The :class:`RateLimitPolicy` a config describes (no limit when nothing is set)."""
    return RateLimitPolicy(
        rate=config.rate_limit_per_second,
        burst=config.rate_limit_burst,
        routes=tuple(
            RouteLimit(route, rate, burst) for route, rate, burst in config.rate_limit_routes
        ),
        adaptive=AdaptiveRate() if config.rate_limit_adaptive else None,
    )


def retry_budget(config: SonioxConfig) -> RetryBudget | None:
    """The :class:`RetryBudget` a config describes (None: ``retry_budget`` is unset)."""
    if config.retry_budget is None:
        return None
    return RetryBudget(
        capacity=config.retry_budget,
        retry_cost=config.retry_cost,
        timeout_cost=config.retry_timeout_cost,
    )


@register_middleware("rate_limit")
def _rate_limit(config: SonioxConfig) -> RateLimit:
    shared = shared_state_for(config)
    if shared is None:
        return RateLimit(rate_limit_policy(config))
    state, scope = shared
    return RateLimit(rate_limit_policy(config), shared=state, scope=scope)


@register_middleware("concurrency")
def _concurrency(config: SonioxConfig) -> ConcurrencyLimit:
    return ConcurrencyLimit(config.max_concurrent_calls)


# --- metrics and tracing (issue 12) ----------------------------------------------------------------


@register_middleware("metrics")
def _metrics(config: SonioxConfig) -> Metrics:
    return metrics_from_config(config)


@register_middleware("tracing")
def _tracing(config: SonioxConfig) -> Tracing:
    return Tracing(propagate=config.trace_propagation)
