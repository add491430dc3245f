"""Logging middleware: records per attempt and per retry, allowlist redaction, stdlib/structlog."""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from soniox.errors import RequestNotSentError
from soniox.middleware import (
    HeadersMiddleware,
    LoggingMiddleware,
    Retry,
    RetryPolicy,
    Stack,
)
from soniox.middleware.logging import SAFE_HEADERS, request_id_of
from soniox.transport import URL, FakeClock, InMemoryTransport, Reply, Request, Response

KEY = "sk-live-9f8e7d6c5b4a3210"
BASE = URL.parse("http://127.0.0.1:9/v1")


def stack(**logging_kw: Any) -> Stack:
    return Stack(
        [
            HeadersMiddleware(KEY),
            Retry(RetryPolicy(max_retries=2), rng=random.Random(1)),
            LoggingMiddleware(**logging_kw),
        ]
    )


def run(outcomes: list[Any], **logging_kw: Any) -> None:
    transport = InMemoryTransport.sequence(outcomes, clock=FakeClock())
    with contextlib.suppress(RequestNotSentError):
        stack(**logging_kw).run(Request("GET", BASE.join("/models")), transport)


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="soniox")
    return caplog


@pytest.fixture
def captured_structlog() -> Iterator[LogCapture]:
    capture = LogCapture()
    structlog.configure(processors=[capture])
    try:
        yield capture
    finally:
        structlog.reset_defaults()


def _events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [getattr(r, "event", "") for r in caplog.records if r.name == "soniox"]


def test_one_record_per_attempt_and_per_retry(debug: pytest.LogCaptureFixture) -> None:
    """503 then 200: two attempt records and one retry record, in order."""
    run([Reply(503), Reply(200)])
    assert _events(debug) == ["soniox.http.response", "soniox.http.retry", "soniox.http.response"]


def test_attempt_records_carry_the_documented_fields(debug: pytest.LogCaptureFixture) -> None:
    """method, path, status, elapsed, attempt and request_id are on each record."""
    run([Reply(200, {"x-request-id": "req-42"})])
    record = debug.records[-1]
    assert record.http_method == "GET"  # type: ignore[attr-defined]
    assert record.http_path == "/v1/models"  # type: ignore[attr-defined]
    assert record.http_status == 200  # type: ignore[attr-defined]
    assert record.attempt == 1  # type: ignore[attr-defined]
    assert record.request_id == "req-42"  # type: ignore[attr-defined]
    assert isinstance(record.elapsed_ms, float)  # type: ignore[attr-defined]
    assert record.levelno == logging.DEBUG


def test_request_id_comes_from_an_error_body_when_no_header(
    debug: pytest.LogCaptureFixture,
) -> None:
    """The API puts request_id in error bodies; the record picks it up."""
    run([Reply(404, content=b'{"request_id": "r-9", "message": "nope"}')])
    assert debug.records[-1].request_id == "r-9"  # type: ignore[attr-defined]


def test_transport_failures_are_logged_per_attempt(debug: pytest.LogCaptureFixture) -> None:
    """A refused connection yields an error record naming the error type."""
    run([RequestNotSentError("refused"), Reply(200)])
    errors = [r for r in debug.records if getattr(r, "event", "") == "soniox.http.error"]
    assert errors
    assert errors[0].error == "RequestNotSentError"


def test_retry_record_says_why_and_how_long(debug: pytest.LogCaptureFixture) -> None:
    """The retry record has the reason and the scheduled wait."""
    run([Reply(429, {"retry-after-ms": "300"}), Reply(200)])
    retry = next(r for r in debug.records if getattr(r, "event", "") == "soniox.http.retry")
    assert retry.retry_in_s == 0.3  # type: ignore[attr-defined]
    assert "429" in retry.reason  # type: ignore[attr-defined]


def test_headers_are_redacted_by_allowlist(debug: pytest.LogCaptureFixture) -> None:
    """The bearer key never reaches a record; unknown headers show <redacted>."""
    run([Reply(200, {"x-internal-token": "tok-123", "content-type": "application/json"})])
    record = debug.records[-1]
    assert KEY not in debug.text
    assert KEY not in str(record.__dict__)
    assert record.request_headers["authorization"] == "<redacted>"  # type: ignore[attr-defined]
    assert record.response_headers["x-internal-token"] == "<redacted>"  # type: ignore[attr-defined]
    assert record.response_headers["content-type"] == "application/json"  # type: ignore[attr-defined]


def test_credential_headers_stay_redacted_even_when_called_safe(
    debug: pytest.LogCaptureFixture,
) -> None:
    """safe_headers naming authorization or x-api-key does not expose them."""
    run(
        [Reply(200, {"x-api-key": "sk-resp-5566"})],
        safe_headers=SAFE_HEADERS | {"authorization", "x-api-key"},
    )
    record = debug.records[-1]
    assert KEY not in debug.text
    assert KEY not in str(record.__dict__)
    assert record.request_headers["authorization"] == "<redacted>"  # type: ignore[attr-defined]
    assert record.response_headers["x-api-key"] == "<redacted>"  # type: ignore[attr-defined]


def test_error_texts_are_redacted(debug: pytest.LogCaptureFixture) -> None:
    """A failure whose text quotes the key (not an SDK error, so not redacted at the source)
    is logged with the key masked."""
    with contextlib.suppress(RuntimeError):
        run([RuntimeError(f"boom with Bearer {KEY}")])
    errors = [r for r in debug.records if getattr(r, "event", "") == "soniox.http.error"]
    assert errors
    assert KEY not in debug.text
    assert KEY not in str(errors[0].__dict__)


def test_headers_can_be_left_out(debug: pytest.LogCaptureFixture) -> None:
    """log_headers=False drops the header fields."""
    run([Reply(200)], log_headers=False)
    assert not hasattr(debug.records[-1], "request_headers")


def test_nothing_is_recorded_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    """With the soniox logger at INFO, the middleware emits nothing."""
    caplog.set_level(logging.INFO, logger="soniox")
    run([Reply(503), Reply(200)])
    assert _events(caplog) == []


def test_the_sdk_never_configures_logging() -> None:
    """No handlers or levels are installed on the soniox or root loggers."""
    soniox_logger = logging.getLogger("soniox")
    before = (list(soniox_logger.handlers), soniox_logger.level, list(logging.root.handlers))
    run([Reply(503), Reply(200)])
    after = (list(soniox_logger.handlers), soniox_logger.level, list(logging.root.handlers))
    assert before == after


def test_structlog_is_used_when_the_application_configured_it(
    captured_structlog: LogCapture,
) -> None:
    """With structlog configured, records are structlog events with the same fields."""
    run([Reply(503), Reply(200, {"x-request-id": "abc"})])
    events = [entry["event"] for entry in captured_structlog.entries]
    assert events == ["soniox.http.response", "soniox.http.retry", "soniox.http.response"]
    last = captured_structlog.entries[-1]
    assert last["http_status"] == 200
    assert last["request_id"] == "abc"
    assert last["log_level"] == "debug"
    assert KEY not in str(captured_structlog.entries)


def test_request_id_prefers_the_header() -> None:
    """x-request-id wins over the body."""
    request = Request("GET", BASE)
    response = Response.build(
        500, request, headers={"x-request-id": "h"}, content=b'{"request_id": "b"}'
    )
    assert request_id_of(response) == "h"
