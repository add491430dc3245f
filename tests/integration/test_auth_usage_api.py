"""client.auth, usage, usage_logs and concurrency_limits against the emulator, sync and async."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _api_modes import MODES, Api

from soniox.client import SonioxClient
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.errors import (
    AuthenticationError,
    ClientValidationError,
    InvalidRequestError,
    RateLimitError,
)
from soniox.types import CreateTemporaryApiKeyResponse, UsageLogsSort

WRONG_KEY = "wrong-key-0123456789abcdef"


def finished_jobs(emulator: Emulator, count: int) -> list[str]:
    """``count`` completed transcriptions (each one usage record); their ids."""
    ids: list[str] = []
    with SonioxClient(api_key=emulator.api_key, base_url=emulator.rest_base_url) as client:
        file_id = client.files.upload(sample_path()).id
        for n in range(count):
            job = client.request(
                "POST",
                "/transcriptions",
                json={"model": "stt-async-v4", "file_id": file_id, "client_reference_id": f"j{n}"},
            ).json()
            ids.append(job["id"])
        deadline = time.monotonic() + 20
        for job_id in ids:
            while (
                client.request("GET", f"/transcriptions/{job_id}").json()["status"] != "completed"
            ):
                assert time.monotonic() < deadline, "the emulator's jobs did not finish"
                time.sleep(0.02)
    return ids


def window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


# --- auth -----------------------------------------------------------------------------------------


def test_create_temporary_api_key(api: Api, emulator: Emulator) -> None:
    """A temp: key comes back, expiring in the future; repr never shows it."""
    key: CreateTemporaryApiKeyResponse = api(
        lambda c: c.auth.create_temporary_api_key(
            expires_in_seconds=60, client_reference_id="browser-1", single_use=True
        )
    )
    assert key.api_key.startswith("temp:")
    assert key.expires_at > datetime.now(UTC)
    assert key.api_key not in repr(key)
    entry = emulator.journal.entries(path="/v1/auth/temporary-api-key")[0]
    assert entry.status == 201
    assert entry.notes["temporary_key_usage_type"] == "transcribe_websocket"


def test_an_unknown_usage_type_is_the_servers_400_with_validation_errors(api: Api) -> None:
    """The server's field-level reasons are part of the error message."""
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.auth.create_temporary_api_key(usage_type="stt_batch"))
    assert "body.payload.usage_type" in str(caught.value)
    assert caught.value.validation_errors[0].location == "body.payload.usage_type"


def test_out_of_range_key_arguments_fail_before_sending(api: Api, emulator: Emulator) -> None:
    """expires_in_seconds over 3600 is refused client-side: nothing reaches the server."""
    with pytest.raises(ClientValidationError) as caught:
        api(lambda c: c.auth.create_temporary_api_key(expires_in_seconds=7200))
    assert caught.value.field == "expires_in_seconds"
    assert emulator.journal.entries(path="/v1/auth/temporary-api-key") == []


def test_temporary_key_with_a_wrong_key_is_401(emulator: Emulator) -> None:
    """A wrong API key gives AuthenticationError."""
    for mode in MODES:
        with pytest.raises(AuthenticationError):
            Api.for_emulator(mode, emulator, api_key=WRONG_KEY)(
                lambda c: c.auth.create_temporary_api_key()
            )


def test_temporary_key_429_is_retried_or_raised(api: Api, emulator: Emulator) -> None:
    """A 429 was not processed, so even this POST is retried; with retries off it is raised."""
    route = "/v1/auth/temporary-api-key"
    emulator.faults.fail(route, status=429, retry_after=0)
    assert api(lambda c: c.auth.create_temporary_api_key()).api_key.startswith("temp:")
    emulator.faults.fail(route, status=429)
    with pytest.raises(RateLimitError):
        api(lambda c: c.with_options(max_retries=0).auth.create_temporary_api_key())


# --- usage ----------------------------------------------------------------------------------------


def test_usage_summary_counts_finished_jobs(api: Api, emulator: Emulator) -> None:
    """Two finished jobs show as two requests in the total, with Decimal costs."""
    finished_jobs(emulator, 2)
    start, end = window()
    summary = api(lambda c: c.usage.summary(start, end.isoformat()))
    assert summary.total.model is None
    assert summary.total.total_num_requests == 2
    assert summary.total.total_cost_usd > 0
    assert len(summary.total.days) == len(summary.total.num_requests)
    assert [(m.model, m.total_num_requests) for m in summary.models] == [("stt-async-v5", 2)]


def test_usage_summary_window_over_366_days_fails_before_sending(
    api: Api, emulator: Emulator
) -> None:
    """The documented window limit is checked client-side."""
    end = datetime.now(UTC)
    with pytest.raises(ClientValidationError, match="366"):
        api(lambda c: c.usage.summary(end - timedelta(days=400), end))
    assert emulator.journal.entries(path="/v1/usage/summary") == []


def test_usage_with_a_wrong_key_is_401(emulator: Emulator) -> None:
    """Each usage endpoint maps 401 to AuthenticationError."""
    start, end = window()
    for mode in MODES:
        wrong = Api.for_emulator(mode, emulator, api_key=WRONG_KEY)
        with pytest.raises(AuthenticationError):
            wrong(lambda c: c.usage.summary(start, end))
        with pytest.raises(AuthenticationError):
            wrong(lambda c: c.usage_logs.list(start, end))
        with pytest.raises(AuthenticationError):
            wrong(lambda c: c.concurrency_limits.get())


def test_usage_summary_429(api: Api, emulator: Emulator) -> None:
    """A 429 on the summary is retried by default and raised with retries off."""
    start, end = window()
    emulator.faults.fail("/v1/usage/summary", status=429, retry_after=0)
    assert api(lambda c: c.usage.summary(start, end)).total.total_num_requests == 0
    emulator.faults.fail("/v1/usage/summary", status=429)
    with pytest.raises(RateLimitError):
        api(lambda c: c.with_options(max_retries=0).usage.summary(start, end))


# --- usage logs -----------------------------------------------------------------------------------


def test_usage_logs_list_all_walks_pages_in_order(api: Api, emulator: Emulator) -> None:
    """list_all(limit=2) returns all three records over two pages; desc reverses them."""
    finished_jobs(emulator, 3)
    start, end = window()
    page: Any = api(lambda c: c.usage_logs.list(start, end, limit=2))
    assert len(page.usage_logs) == 2
    assert page.next_page_cursor
    ascending = api(lambda c: c.usage_logs.list_all(start, end, limit=2))
    descending = api(
        lambda c: c.usage_logs.list_all(start, end, limit=2, sort=UsageLogsSort.END_TIME_DESC)
    )
    assert len(ascending) == 3
    assert [e.uuid for e in descending] == [e.uuid for e in reversed(ascending)]
    assert {e.client_reference_id for e in ascending} == {"j0", "j1", "j2"}


def test_usage_logs_bad_sort_is_the_servers_400_with_validation_errors(api: Api) -> None:
    """A sort value the server does not know is refused with the field named."""
    start, end = window()
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.usage_logs.list(start, end, sort="newest"))
    assert "query.sort" in str(caught.value)


def test_usage_logs_bad_cursor_is_invalid_cursor(api: Api) -> None:
    """A garbage cursor is 400 invalid_cursor."""
    start, end = window()
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.usage_logs.list(start, end, cursor="garbage"))
    assert caught.value.error_type == "invalid_cursor"


def test_usage_logs_429(api: Api, emulator: Emulator) -> None:
    """A 429 on usage logs is retried by default and raised with retries off."""
    start, end = window()
    emulator.faults.fail("/v1/usage-logs", status=429, retry_after=0)
    assert api(lambda c: c.usage_logs.list(start, end)).usage_logs == []
    emulator.faults.fail("/v1/usage-logs", status=429)
    with pytest.raises(RateLimitError):
        api(lambda c: c.with_options(max_retries=0).usage_logs.list(start, end))


# --- concurrency limits ---------------------------------------------------------------------------


def test_concurrency_limits(api: Api) -> None:
    """No streams running, and no caps (None) on the emulator."""
    limits = api(lambda c: c.concurrency_limits.get())
    for scope in (limits.project, limits.organization):
        assert scope.current.transcribe_concurrent == 0
        assert scope.limits.transcribe_concurrent is None


def test_concurrency_limits_429(api: Api, emulator: Emulator) -> None:
    """A 429 is retried by default and raised with retries off."""
    emulator.faults.fail("/v1/concurrency-limits", status=429, retry_after=0)
    assert api(lambda c: c.concurrency_limits.get()).project.current.tts_concurrent == 0
    emulator.faults.fail("/v1/concurrency-limits", status=429)
    with pytest.raises(RateLimitError):
        api(lambda c: c.with_options(max_retries=0).concurrency_limits.get())
