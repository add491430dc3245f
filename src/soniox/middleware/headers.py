"""Default headers: User-Agent, Accept, bearer auth, and the per-call extra headers.

The API key lives in one private attribute and is registered with
:func:`soniox.errors.register_secret`, so it is masked in every error message, log record and
repr; ``repr`` says only whether a key (or a key provider) is set. A provider
(``Callable[[], str]``) is asked on every request, which is how short-lived temporary keys rotate
without rebuilding the client.

A key can also travel in another header (``extra_headers={"x-api-key": key}``, the client's
``headers=``, ``with_options(extra_headers=...)``, or a request's own headers): the value of every
credential-bearing header (:func:`soniox.transport.request.is_credential_header`) is registered
the same way before the request goes out — once per distinct set of extra headers, with no
regular expression on the way.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from collections.abc import Callable, Iterable
from typing import Final

from soniox._version import __version__
from soniox.errors import ClientValidationError, redact, register_secret
from soniox.middleware.engine import HookMiddleware
from soniox.transport.request import Headers, HeadersInput, Request, is_credential_header

__all__ = ["HeadersMiddleware", "ApiKey", "register_credentials", "user_agent"]

ApiKey = str | Callable[[], str]
"""A fixed key, or a function returning the key to use now (temporary keys, vaults)."""

_AUTH: Final = "authorization"


@functools.cache
def user_agent() -> str:
    """``soniox-transport/<version> python/<x.y> httpx/<version>``."""
    try:
        httpx_version = importlib.metadata.version("httpx")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - httpx is a dependency
        httpx_version = "unknown"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"soniox-transport/{__version__} python/{python} httpx/{httpx_version}"


def _bearer(key: str) -> str:
    key = key.strip()
    if not key:
        raise ClientValidationError("the API key is empty", field="api_key")
    register_secret(key)
    return f"Bearer {key}"


def register_credentials(headers: Iterable[tuple[str, str]]) -> None:
    """Register (:func:`~soniox.errors.register_secret`) the value of every credential-bearing
    header in ``headers``, and the token after an auth scheme (``Bearer <token>``) on its own."""
    for name, value in headers:
        if is_credential_header(name):
            value = value.strip()
            register_secret(value)
            _scheme, _, token = value.partition(" ")
            if token.strip():
                register_secret(token.strip())


class HeadersMiddleware(HookMiddleware):
    """Adds User-Agent, Accept and ``Authorization: Bearer <key>``, then the call's extras.

    Precedence, lowest first: these defaults, headers the request already carries (a request
    with its own ``Authorization`` keeps it), then ``RequestOptions.extra_headers``.
    """

    name = "headers"

    def __init__(
        self,
        api_key: ApiKey | None = None,
        *,
        user_agent_extra: str | None = None,
        accept: str = "application/json",
        extra: HeadersInput | None = None,
    ) -> None:
        agent = user_agent() + (f" {user_agent_extra}" if user_agent_extra else "")
        self._defaults = Headers.of({"user-agent": agent, "accept": accept}).merge(
            Headers.of(extra)
        )
        register_credentials(self._defaults)
        self._registered: tuple[tuple[str, str], ...] = ()
        self._provider: Callable[[], str] | None = None
        self._with_auth: Headers = self._defaults
        if callable(api_key):
            self._provider = api_key
        elif api_key is not None:
            self._with_auth = self._defaults.set(_AUTH, _bearer(api_key))
        self._has_key = api_key is not None

    def _base(self) -> Headers:
        provider = self._provider
        if provider is None:
            return self._with_auth
        return self._defaults.set(_AUTH, _bearer(provider()))

    def on_request(self, request: Request) -> Request:
        own = request.headers
        extra = request.options.extra_headers
        if not own and not extra and self._provider is None:
            headers = self._with_auth
        else:
            if own:
                register_credentials(own)
            if extra and extra != self._registered:
                # A view sends the same extras on every call: register them once.
                register_credentials(extra)
                self._registered = extra
            base = self._defaults if _AUTH in own else self._base()
            headers = base.merge(own)
            if extra:
                headers = headers.merge(extra)
        return Request(
            request.method, request.url, headers, request.body, request.options, request.attempt
        )

    def __repr__(self) -> str:
        auth = "provider" if self._provider else ("bearer ***" if self._has_key else "none")
        agent = self._defaults.get("user-agent")
        return redact(f"HeadersMiddleware(user_agent={agent!r}, auth={auth})")
