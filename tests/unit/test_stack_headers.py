"""Headers middleware: User-Agent, bearer auth that never leaks, and header precedence."""

from __future__ import annotations

import re
import sys

import httpx
import pytest

from soniox import __version__
from soniox.errors import AuthenticationError, ClientValidationError, forget_secret, redact
from soniox.middleware import HeadersMiddleware, Stack, user_agent
from soniox.transport import URL, InMemoryTransport, Reply, Request, RequestOptions

KEY = "sk-live-0a1b2c3d4e5f6a7b"
BASE = URL.parse("http://127.0.0.1:9/v1")


def sent(middleware: HeadersMiddleware, request: Request | None = None) -> Request:
    transport = InMemoryTransport(lambda r: Reply(200))
    Stack([middleware]).run(request or Request("GET", BASE.join("/x")), transport)
    return transport.requests[0]


def test_user_agent_names_sdk_python_and_httpx_versions() -> None:
    """soniox-transport/<v> python/<x.y> httpx/<v>."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert (
        user_agent() == f"soniox-transport/{__version__} python/{python} httpx/{httpx.__version__}"
    )
    assert re.fullmatch(r"soniox-transport/\S+ python/\d+\.\d+ httpx/\S+", user_agent())


def test_bearer_auth_and_defaults_are_added() -> None:
    """Authorization, User-Agent and Accept are set on every request."""
    headers = sent(HeadersMiddleware(KEY)).headers
    assert headers.get("authorization") == f"Bearer {KEY}"
    assert headers.get("user-agent") == user_agent()
    assert headers.get("accept") == "application/json"


def test_user_agent_extra_is_appended() -> None:
    """Applications can identify themselves after the SDK's token."""
    headers = sent(HeadersMiddleware(KEY, user_agent_extra="myapp/2.0")).headers
    assert headers.get("user-agent") == f"{user_agent()} myapp/2.0"


def test_key_provider_is_asked_per_request() -> None:
    """A provider rotates keys without rebuilding anything."""
    keys = iter(["temp:first-key-0001", "temp:second-key-0002"])
    middleware = HeadersMiddleware(lambda: next(keys))
    assert sent(middleware).headers.get("authorization") == "Bearer temp:first-key-0001"
    assert sent(middleware).headers.get("authorization") == "Bearer temp:second-key-0002"


def test_a_request_with_its_own_authorization_keeps_it() -> None:
    """An explicit Authorization (e.g. a temporary key) wins over the client's key."""
    own = Request("GET", BASE).with_header("Authorization", "Bearer temp:override-123")
    assert sent(HeadersMiddleware(KEY), own).headers.get("authorization") == (
        "Bearer temp:override-123"
    )


def test_per_call_extra_headers_win_over_everything() -> None:
    """with_options(extra_headers=...) overrides defaults and request headers by name."""
    request = Request(
        "GET",
        BASE,
        options=RequestOptions(extra_headers={"accept": "text/csv", "x-trace": "t1"}),
    ).with_header("x-trace", "t0")
    headers = sent(HeadersMiddleware(KEY), request).headers
    assert headers.get("accept") == "text/csv"
    assert headers.get_all("x-trace") == ["t1"]


def test_repr_never_shows_the_key() -> None:
    """repr says a bearer key is set, not what it is."""
    text = repr(HeadersMiddleware(KEY))
    assert KEY not in text
    assert "bearer ***" in text
    assert "provider" in repr(HeadersMiddleware(lambda: KEY))


def test_the_key_is_masked_in_error_messages() -> None:
    """Once used, the key is registered for redaction: errors that quote it show ***."""
    sent(HeadersMiddleware(KEY))
    error = AuthenticationError(f"bad key {KEY}", status=401)
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in redact(f"Authorization: Bearer {KEY}")


def test_empty_keys_are_rejected() -> None:
    """A blank key is a configuration mistake, caught before any request."""
    with pytest.raises(ClientValidationError, match="empty"):
        HeadersMiddleware("   ")


@pytest.mark.parametrize("where", ["extra_headers", "own", "middleware"])
def test_keys_in_other_headers_are_registered(where: str) -> None:
    """A key sent in x-api-key / api-key / a custom token header — per call, on the request, or
    given to the middleware — is registered like the bearer key; other values are not."""
    secret = f"sk-{where}-0f1e2d3c4b5a"
    headers = {"X-Api-Key": secret, "X-My-Token": f"Bearer {secret}-2", "X-Trace": "trace-value-1"}
    request = Request("GET", BASE)
    middleware = HeadersMiddleware(KEY)
    if where == "extra_headers":
        request = Request("GET", BASE, options=RequestOptions(extra_headers=headers))
    elif where == "own":
        for name, value in headers.items():
            request = request.with_header(name, value)
    else:
        middleware = HeadersMiddleware(KEY, extra=headers)
    try:
        assert sent(middleware, request).headers.get("x-api-key") == secret
        assert redact(f"echo {secret} and {secret}-2") == "echo *** and ***"
        assert redact("trace-value-1") == "trace-value-1"
    finally:
        for value in (secret, f"{secret}-2", f"Bearer {secret}-2"):
            forget_secret(value)
