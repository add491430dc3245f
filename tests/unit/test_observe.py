"""What observers share: route templates, notes, outcomes, the guard around a failing observer."""

from __future__ import annotations

import logging
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.middleware import Stack, run_sync
from soniox.middleware.observe import (
    OTHER_ROUTE,
    ROUTES,
    Guard,
    Note,
    Wait,
    cache_lookup,
    dedup_joined,
    error_type,
    outcome_of,
    route_template,
    wait,
    waited,
)
from soniox.transport import FakeClock, InMemoryTransport

UUID = "3f2a6d1e-1234-4a5b-9c8d-0123456789ab"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/files", "/v1/files"),
        ("/v1/files/count", "/v1/files/count"),
        (f"/v1/files/{UUID}", "/v1/files/{id}"),
        ("/v1/transcriptions", "/v1/transcriptions"),
        ("/v1/transcriptions/count", "/v1/transcriptions/count"),
        (f"/v1/transcriptions/{UUID}", "/v1/transcriptions/{id}"),
        (f"/v1/transcriptions/{UUID}/transcript", "/v1/transcriptions/{id}/transcript"),
        ("/v1/models", "/v1/models"),
        ("/v1/tts-models", "/v1/tts-models"),
        ("/v1/auth/temporary-api-key", "/v1/auth/temporary-api-key"),
        ("/v1/usage/summary", "/v1/usage/summary"),
        ("/v1/usage-logs", "/v1/usage-logs"),
        ("/v1/concurrency-limits", "/v1/concurrency-limits"),
        ("/v1/concurrent-streams-history", "/v1/concurrent-streams-history"),
    ],
)
def test_every_api_path_has_its_template(path: str, route: str) -> None:
    """Each REST path of the API maps to its template, ids replaced by {id}."""
    assert route_template(path) == route


def test_a_proxy_prefix_is_dropped() -> None:
    """What comes before the API's own segments (a proxy's prefix with a tenant id) is dropped."""
    assert route_template(f"/tenant-{UUID}/soniox/files/{UUID}") == "/files/{id}"


def test_unknown_shapes_are_other() -> None:
    """A path the API does not have is 'other', never the raw path."""
    assert route_template(f"/v1/models/{UUID}") == OTHER_ROUTE
    assert route_template(f"/v1/secret/{UUID}/x/y") == OTHER_ROUTE
    assert route_template("/") == OTHER_ROUTE


_segment = st.one_of(
    st.uuids().map(str),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=40),
    st.sampled_from(["v1", "files", "transcriptions", "transcript", "count", "models", "usage"]),
)


@given(st.lists(_segment, min_size=0, max_size=8))
def test_any_path_maps_into_the_bounded_set(segments: list[str]) -> None:
    """Whatever ids a path holds, its template is one of ROUTES or 'other'."""
    route = route_template("/" + "/".join(segments))
    assert route in ROUTES or route == OTHER_ROUTE


@given(st.uuids(), st.sampled_from(["files", "transcriptions"]))
def test_an_id_never_reaches_the_template(ident: uuid.UUID, collection: str) -> None:
    """An item path's template never contains its id."""
    route = route_template(f"/v1/{collection}/{ident}")
    assert str(ident) not in route
    assert route == f"/v1/{collection}/{{id}}"


def test_reports_are_effects_the_driver_ignores_or_performs() -> None:
    """Notes come back as None from the driver; a Wait sleeps on the transport clock."""
    clock = FakeClock()

    def flow():  # type: ignore[no-untyped-def]
        yield from cache_lookup(hit=True)
        yield from dedup_joined()
        yield from waited(0.5, "rate_limit")
        yield from wait(0.25, "rate_limit")
        return "done"

    assert run_sync(flow(), InMemoryTransport(clock=clock)) == "done"
    assert clock.sleeps == [0.25]


def test_note_and_wait_values() -> None:
    """The helpers yield the documented note kinds and a Sleep that carries its reason."""
    assert next(cache_lookup(hit=False)) == Note("cache", 0.0, "miss")
    assert next(dedup_joined()) == Note("dedup", 0.0, "join")
    assert next(waited(1.5, "rate_limit")) == Note("wait", 1.5, "rate_limit")
    assert next(wait(2.0, "rate_limit")) == Wait(2.0, "rate_limit")


def test_outcomes_and_error_types_are_bounded() -> None:
    """Outcome and error.type follow the status or the exception class, nothing else."""
    assert outcome_of(200, None) == "ok"
    assert outcome_of(503, None) == "http_error"
    assert outcome_of(None, ValueError("x")) == "error"
    assert outcome_of(None, KeyboardInterrupt()) == "cancelled"
    assert error_type(404, None) == "404"
    assert error_type(200, None) is None
    assert error_type(None, ValueError("secret text")) == "builtins.ValueError"


def test_the_guard_counts_every_failure_and_logs_the_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three failures: counted three times, one WARNING on the soniox logger."""
    guard = Guard("a test sink")

    def boom() -> None:
        raise RuntimeError("Bearer sk-very-secret-token-0123456789")

    with caplog.at_level(logging.WARNING, logger="soniox"):
        for _ in range(3):
            assert guard.call(boom) is None
    assert guard.failures == 3
    records = [r for r in caplog.records if r.name == "soniox"]
    assert len(records) == 1
    assert "sk-very-secret" not in records[0].getMessage()


def test_a_stack_without_observers_gives_a_shared_no_op_operation() -> None:
    """Stack.operation() costs a shared null context when no middleware observes operations."""
    stack = Stack()
    assert stack.operation("a") is stack.operation("b")
    with stack.operation("a"):
        pass


def test_operation_enters_every_observer_outermost_first() -> None:
    """around_operation of each middleware is entered in stack order and left in reverse."""
    seen: list[str] = []

    class Observer:
        def __init__(self, label: str) -> None:
            self.name = label

        def send(self, request, call_next):  # type: ignore[no-untyped-def]
            return call_next(request)

        def around_operation(self, name: str):  # type: ignore[no-untyped-def]
            import contextlib

            @contextlib.contextmanager
            def scope():  # type: ignore[no-untyped-def]
                seen.append(f"enter {self.name} {name}")
                yield
                seen.append(f"exit {self.name}")

            return scope()

    stack = Stack([Observer("outer"), Observer("inner")])
    with stack.operation("stt.create"):
        seen.append("body")
    assert seen == [
        "enter outer stt.create",
        "enter inner stt.create",
        "body",
        "exit inner",
        "exit outer",
    ]
