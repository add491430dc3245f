"""The open registry of middleware: a name, and a factory that builds it from a config.

A :class:`~soniox.config.SonioxConfig` names its stack (``middleware=("headers", "retry",
"logging")``); :func:`build_stack` looks each name up here and calls its factory with the
config. The built-ins register themselves when :mod:`soniox.middleware` is imported, and a
user's middleware joins them the same way, so it can be named in a config, a profile override
or ``SONIOX_…`` settings like any other::

    @register_middleware("audit")
    def audit(config: SonioxConfig) -> AuditMiddleware:
        return AuditMiddleware(service="billing")

    client = SonioxClient(config=SonioxConfig.production().evolve(
        middleware=("headers", "audit", "retry", "logging")))

A name nobody registered fails when the stack is built (at client construction) with a
:class:`~soniox.errors.ClientValidationError` naming it and listing what is registered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar, overload

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError

from .engine import Stack

__all__ = [
    "MiddlewareFactory",
    "MiddlewareRegistry",
    "build_stack",
    "register_middleware",
    "registry",
]

MiddlewareFactory = Callable[[SonioxConfig], object]
"""Builds one middleware (an object with ``send``, or hook methods) from the client's config."""

F = TypeVar("F", bound=MiddlewareFactory)


class MiddlewareRegistry:
    """Name → factory. Thread-safe; registering a taken name needs ``replace=True``."""

    def __init__(self) -> None:
        self._factories: dict[str, MiddlewareFactory] = {}
        self._lock = threading.Lock()

    @overload
    def register(self, name: str, factory: F, *, replace: bool = False) -> F: ...

    @overload
    def register(
        self, name: str, factory: None = None, *, replace: bool = False
    ) -> Callable[[F], F]: ...

    def register(
        self, name: str, factory: F | None = None, *, replace: bool = False
    ) -> F | Callable[[F], F]:
        """Register ``factory`` under ``name`` (also usable as ``@register(name)``)."""
        if not isinstance(name, str) or not name.strip() or name != name.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ClientValidationError(
                f"a middleware name must be a non-empty string without surrounding spaces, "
                f"got {name!r}",
                field="name",
            )

        def add(made: F) -> F:
            if not callable(made):
                raise ClientValidationError(
                    f"the factory for {name!r} must be callable (config -> middleware)",
                    field="factory",
                )
            with self._lock:
                if name in self._factories and not replace:
                    raise ClientValidationError(
                        f"a middleware named {name!r} is already registered; pass "
                        "replace=True to replace it",
                        field="name",
                    )
                self._factories[name] = made
            return made

        return add if factory is None else add(factory)

    def unregister(self, name: str) -> MiddlewareFactory:
        """Remove ``name``; returns its factory (KeyError if it is not registered)."""
        with self._lock:
            return self._factories.pop(name)

    def factory(self, name: str) -> MiddlewareFactory:
        """The factory of ``name`` (ClientValidationError naming it if there is none)."""
        with self._lock:
            found = self._factories.get(name)
        if found is None:
            self._unknown([name])
        assert found is not None
        return found

    def build(self, config: SonioxConfig) -> Stack:
        """A fresh :class:`Stack` of the middleware ``config.middleware`` names, in order."""
        with self._lock:
            factories = dict(self._factories)
        unknown = [name for name in config.middleware if name not in factories]
        if unknown:
            self._unknown(unknown)
        stack = Stack()
        for name in config.middleware:
            stack.append(factories[name](config), name=name)
        return stack

    def _unknown(self, names: list[str]) -> None:
        raise ClientValidationError(
            f"unknown middleware {names}: registered are {self.names} (add your own with "
            "soniox.register_middleware(name, factory))",
            field="middleware",
        )

    @property
    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __repr__(self) -> str:
        return f"MiddlewareRegistry({', '.join(self.names)})"


registry = MiddlewareRegistry()
"""The registry clients build their stacks from."""

register_middleware = registry.register
"""``register_middleware(name, factory)`` / ``@register_middleware(name)`` on :data:`registry`."""


def build_stack(config: SonioxConfig, *, using: MiddlewareRegistry | None = None) -> Stack:
    """A fresh :class:`Stack` with the middleware ``config.middleware`` names, in order, built
    by the factories of ``using`` (default: :data:`registry`)."""
    return (using or registry).build(config)
