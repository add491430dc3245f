"""The open middleware registry: names in a config, factories that build them, errors that name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from soniox import SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.middleware import (
    HookMiddleware,
    MiddlewareRegistry,
    Stack,
    build_stack,
    register_middleware,
    registry,
)
from soniox.transport import InMemoryTransport, Reply, Request

KEY = "sk-test-0123456789abcdef"


class Tag(HookMiddleware):
    """Adds a header naming the service, set from the factory."""

    name = "tag"

    def __init__(self, service: str) -> None:
        self.service = service

    def on_request(self, request: Request) -> Request:
        return request.evolve(headers=request.headers.set("x-service", self.service))

    def __repr__(self) -> str:
        return f"Tag({self.service!r})"


@pytest.fixture
def tag_registered() -> Iterator[None]:
    """'tag' in the default registry for one test."""
    register_middleware("tag", lambda config: Tag(config.user_agent_extra or "none"))
    yield
    registry.unregister("tag")


def test_builtins_are_registered() -> None:
    """headers, retry and logging are entries of the registry like any other."""
    assert {"headers", "retry", "logging"} <= set(registry.names)


def test_a_registered_name_can_be_used_in_a_config(tag_registered: None) -> None:
    """A user's middleware, named in a config, is built by its factory from that config."""
    config = SonioxConfig.testing(
        api_key=KEY, user_agent_extra="billing", middleware=("headers", "tag", "retry")
    )
    stack = build_stack(config)
    assert stack.names == ["headers", "tag", "retry"]
    tag = stack["tag"]
    assert isinstance(tag, Tag)
    assert tag.service == "billing"


def test_a_registered_middleware_runs_in_the_client(tag_registered: None) -> None:
    """The client sends every request through the registered middleware."""
    transport = InMemoryTransport(lambda r: Reply(200, json_body={"models": []}))
    config = SonioxConfig.testing(
        api_key=KEY,
        base_url="http://127.0.0.1:9/v1",
        user_agent_extra="billing",
        middleware=("headers", "tag", "retry", "logging"),
    )
    with SonioxClient(config=config, transport=transport) as client:
        client.models.list()
        assert "tag" in str(client.stack)
    assert transport.requests[0].headers.get("x-service") == "billing"


def test_an_unknown_name_fails_at_client_construction_naming_it() -> None:
    """A name nobody registered is a ClientValidationError that names it and what exists."""
    config = SonioxConfig.testing(api_key=KEY, middleware=("headers", "nope", "retry"))
    with pytest.raises(ClientValidationError) as caught:
        SonioxClient(config=config, transport=InMemoryTransport(lambda r: Reply(200)))
    assert "nope" in str(caught.value)
    assert "retry" in str(caught.value)
    assert caught.value.field == "middleware"


def test_a_taken_name_needs_replace(tag_registered: None) -> None:
    """Registering over a name is refused unless replace=True."""
    with pytest.raises(ClientValidationError):
        register_middleware("tag", lambda config: Tag("x"))
    register_middleware("tag", lambda config: Tag("y"), replace=True)
    config = SonioxConfig(api_key=KEY, middleware=("tag",))
    tag = build_stack(config)["tag"]
    assert isinstance(tag, Tag)
    assert tag.service == "y"


def test_register_works_as_a_decorator() -> None:
    """@registry.register(name) registers the function and returns it unchanged."""
    own = MiddlewareRegistry()

    @own.register("tag")
    def make(config: SonioxConfig) -> Tag:
        return Tag("decorated")

    assert make(SonioxConfig()).service == "decorated"
    assert own.names == ["tag"]


def test_a_separate_registry_builds_only_its_own_names() -> None:
    """build_stack(using=...) looks names up in the given registry."""
    own = MiddlewareRegistry()
    own.register("tag", lambda config: Tag("own"))
    stack = build_stack(SonioxConfig(middleware=("tag",)), using=own)
    assert isinstance(stack, Stack)
    assert stack.names == ["tag"]
    with pytest.raises(ClientValidationError):
        build_stack(SonioxConfig(), using=own)  # the default names are not in it


@pytest.mark.parametrize("name", ["", "  ", " tag", 3])
def test_bad_names_are_refused(name: object) -> None:
    """Names are non-empty strings without surrounding spaces."""
    with pytest.raises(ClientValidationError):
        MiddlewareRegistry().register(name, lambda config: Tag("x"))  # type: ignore[arg-type]


def test_a_non_callable_factory_is_refused() -> None:
    """The factory must be callable."""
    with pytest.raises(ClientValidationError):
        MiddlewareRegistry().register("tag", "not a factory")  # type: ignore[arg-type]


def test_print_of_the_stack_is_unchanged() -> None:
    """print(client.stack) shows the profile's names in order, then the transport."""
    config = SonioxConfig.testing(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    with SonioxClient(config=config, transport=InMemoryTransport(lambda r: Reply(200))) as c:
        assert repr(c.stack) == ("Stack(headers → tracing → metrics → retry → logging → transport)")
