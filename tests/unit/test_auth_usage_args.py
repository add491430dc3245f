"""Client-side checks of temporary-key, usage and listing arguments (nothing is sent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from soniox.errors import ClientValidationError
from soniox.flows.checks import check_limit, id_path
from soniox.resources.auth import temporary_key_payload
from soniox.resources.usage import time_window
from soniox.types import TemporaryApiKeyUsageType, dumps


def test_temporary_key_defaults_match_the_official_sdk() -> None:
    """transcribe_websocket for 300 s, optional fields left out of the body."""
    payload = temporary_key_payload()
    assert payload.usage_type is TemporaryApiKeyUsageType.TRANSCRIBE_WEBSOCKET
    assert dumps(payload) == b'{"usage_type":"transcribe_websocket","expires_in_seconds":300}'


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expires_in_seconds": 0}, "expires_in_seconds"),
        ({"expires_in_seconds": 3601}, "expires_in_seconds"),
        ({"expires_in_seconds": True}, "expires_in_seconds"),
        ({"expires_in_seconds": 1.5}, "expires_in_seconds"),
        ({"client_reference_id": "x" * 257}, "client_reference_id"),
        ({"single_use": "yes"}, "single_use"),
        ({"max_session_duration_seconds": 0}, "max_session_duration_seconds"),
        ({"max_session_duration_seconds": 18_001}, "max_session_duration_seconds"),
        ({"usage_type": ""}, "usage_type"),
    ],
)
def test_temporary_key_arguments_out_of_range_name_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    """Each documented limit is checked before sending; the error names the field."""
    with pytest.raises(ClientValidationError) as caught:
        temporary_key_payload(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in str(caught.value)


def test_temporary_key_limits_themselves_are_accepted() -> None:
    """1..3600 s and 1..18000 s are inclusive."""
    temporary_key_payload(expires_in_seconds=3600, max_session_duration_seconds=18_000)
    temporary_key_payload(expires_in_seconds=1, max_session_duration_seconds=1)


def test_an_unknown_usage_type_is_left_to_the_server() -> None:
    """A usage type this SDK does not know yet is sent as given."""
    assert temporary_key_payload("stt_batch").usage_type == "stt_batch"


def test_time_window_accepts_datetimes_and_iso_strings() -> None:
    """Datetimes (naive = UTC) and ISO strings become the API's Z form."""
    assert time_window(datetime(2025, 1, 1), "2025-01-02T12:00:00+02:00") == (
        "2025-01-01T00:00:00Z",
        "2025-01-02T10:00:00Z",
    )


def test_time_window_refuses_end_before_start() -> None:
    """end_time must be after start_time."""
    with pytest.raises(ClientValidationError) as caught:
        time_window("2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z")
    assert caught.value.field == "end_time"


def test_time_window_refuses_more_than_366_days() -> None:
    """The summary's documented window limit is checked before sending."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    time_window(start, start + timedelta(days=366), max_window=timedelta(days=366))
    with pytest.raises(ClientValidationError, match="366"):
        time_window(start, start + timedelta(days=366, seconds=1), max_window=timedelta(days=366))


@pytest.mark.parametrize("value", ["yesterday", 5, None])
def test_time_window_refuses_what_is_not_a_time(value: object) -> None:
    """Garbage start times name the field."""
    with pytest.raises(ClientValidationError) as caught:
        time_window(value, "2025-01-01T00:00:00Z")  # type: ignore[arg-type]
    assert caught.value.field == "start_time"


@pytest.mark.parametrize("limit", [0, 1001, -1, "10"])
def test_page_limits_outside_1_to_1000_are_refused(limit: object) -> None:
    """limit is 1..1000 on every listing."""
    with pytest.raises(ClientValidationError):
        check_limit(limit)


def test_ids_are_percent_encoded_into_the_path() -> None:
    """An id cannot escape its path segment."""
    assert id_path("/files", "../models?x=1", "file_id") == "/files/..%2Fmodels%3Fx%3D1"
    with pytest.raises(ClientValidationError):
        id_path("/files", "", "file_id")
