"""Error handling as official code writes it: ``except SonioxNotFoundError as e: e.status_code``.

429 and 5xx come from faults that fire on every attempt, so an SDK that retries them and one
that does not both end with the error.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from compat_support import CompatEmulator, SideServer

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import (
    InvalidWebhookSignatureError,
    SonioxAPIError,
    SonioxAuthenticationError,
    SonioxConflictError,
    SonioxError,
    SonioxInvalidRequestError,
    SonioxNotFoundError,
    SonioxPermissionDeniedError,
    SonioxRateLimitError,
    SonioxRealtimeError,
    SonioxServerError,
    SonioxValidationError,
)

API_SUBCLASSES: tuple[type[SonioxAPIError], ...] = (
    SonioxInvalidRequestError,
    SonioxAuthenticationError,
    SonioxPermissionDeniedError,
    SonioxNotFoundError,
    SonioxConflictError,
    SonioxRateLimitError,
    SonioxServerError,
)


def _request_id_of(emu: CompatEmulator, path: str) -> str:
    [entry] = emu.journal(path=path)
    request_id: str = entry["request_id"]
    return request_id


def test_exception_hierarchy() -> None:
    """Every class has the official bases: API errors under SonioxAPIError, all under SonioxError."""
    official_names = {
        "SonioxError",
        "SonioxAPIError",
        "SonioxValidationError",
        "InvalidWebhookSignatureError",
        "SonioxRealtimeError",
        *(c.__name__ for c in API_SUBCLASSES),
    }

    def soniox_bases(cls: type) -> set[str]:
        return {k.__name__ for k in cls.__mro__[1:] if k.__name__ in official_names}

    assert soniox_bases(SonioxAPIError) == {"SonioxError"}
    for cls in API_SUBCLASSES:
        assert soniox_bases(cls) == {"SonioxAPIError", "SonioxError"}, cls
    for cls in (SonioxValidationError, InvalidWebhookSignatureError, SonioxRealtimeError):
        assert soniox_bases(cls) == {"SonioxError"}, cls
    assert issubclass(SonioxError, Exception)


def test_not_found_exposes_status_request_id_and_api_error(
    client: SonioxClient, emu: CompatEmulator
) -> None:
    """``e.status_code``, ``e.request_id``, ``e.api_error`` and ``e.response`` describe the 404."""
    file_id = str(uuid.uuid4())
    try:
        client.files.get(file_id)
    except SonioxNotFoundError as e:
        handled = e  # what a handler reads, checked below
    else:
        pytest.fail("no SonioxNotFoundError")
    assert handled.status_code == 404
    assert handled.request_id == _request_id_of(emu, f"/v1/files/{file_id}")
    assert handled.api_error is not None
    assert handled.api_error.status_code == 404
    assert handled.api_error.error_type == "file_not_found"
    assert handled.api_error.message == "File could not be found."
    assert handled.api_error.request_id == handled.request_id
    assert handled.api_error.validation_errors == []
    assert handled.api_error.more_info
    assert handled.response is not None
    assert handled.response.status_code == 404
    assert handled.response.json()["request_id"] == handled.request_id
    assert str(handled).startswith("File could not be found. (HTTP 404)")


def test_missing_transcription_is_not_found(client: SonioxClient) -> None:
    """An unknown transcription id gives ``transcription_not_found``."""
    with pytest.raises(SonioxNotFoundError) as caught:
        client.stt.get(str(uuid.uuid4()))
    assert caught.value.api_error is not None
    assert caught.value.api_error.error_type == "transcription_not_found"


def test_wrong_key_is_an_authentication_error(emu: CompatEmulator) -> None:
    """A wrong API key: SonioxAuthenticationError, 401 ``unauthenticated``."""
    with SonioxClient(api_key="wrong-key", api_base_url=emu.rest_base_url) as client:
        try:
            client.files.list()
        except SonioxAuthenticationError as e:
            handled = e
        else:
            pytest.fail("no SonioxAuthenticationError")
    assert handled.status_code == 401
    assert handled.api_error is not None
    assert handled.api_error.error_type == "unauthenticated"
    assert handled.request_id == _request_id_of(emu, "/v1/files")
    assert "(HTTP 401)" in str(handled)


def test_invalid_request_lists_validation_errors(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """An unknown model: SonioxInvalidRequestError with the field's validation error in ``str(e)``."""
    file_id = emu.upload(wav)["id"]
    with pytest.raises(SonioxInvalidRequestError) as caught:
        client.stt.create(model="no-such-model", file_id=file_id)
    e = caught.value
    assert e.status_code == 400
    assert e.api_error is not None
    assert e.api_error.error_type == "invalid_request"
    [issue] = e.api_error.validation_errors
    assert (issue.error_type, issue.location) == ("value_error", "body.payload.model")
    assert str(e).startswith(
        f"{e.api_error.message} (HTTP 400) Validation errors: body.payload.model: {issue.message}"
    )
    assert emu.transcription_ids() == set()


def test_invalid_cursor(client: SonioxClient) -> None:
    """A garbage cursor: SonioxInvalidRequestError ``invalid_cursor``."""
    with pytest.raises(SonioxInvalidRequestError) as caught:
        client.files.list(cursor="not-a-cursor")
    assert caught.value.api_error is not None
    assert caught.value.api_error.error_type == "invalid_cursor"


def test_transcript_of_unfinished_job_is_a_conflict(client: SonioxClient, side: SideServer) -> None:
    """The transcript of a job still queued: SonioxConflictError 409 ``transcription_invalid_state``."""
    url, release = side.gated_audio_url()
    job = client.stt.create(audio_url=url)
    try:
        client.stt.get_transcript(job.id)
    except SonioxConflictError as e:
        handled = e
    else:
        pytest.fail("no SonioxConflictError")
    assert handled.status_code == 409
    assert handled.api_error is not None
    assert handled.api_error.error_type == "transcription_invalid_state"
    assert handled.api_error.message == "Can only get transcript with completed status."
    release()
    assert client.stt.wait(job.id, interval_sec=0.02, timeout_sec=10).status == "completed"
    assert client.stt.get_transcript(job.id).tokens


def test_rate_limit(client: SonioxClient, emu: CompatEmulator) -> None:
    """A 429 answer every time: SonioxRateLimitError ``limit_exceeded``."""
    emu.fail("/v1/models", 429)
    with pytest.raises(SonioxRateLimitError) as caught:
        client.models.list()
    assert caught.value.status_code == 429
    assert caught.value.api_error is not None
    assert caught.value.api_error.error_type == "limit_exceeded"


@pytest.mark.parametrize(
    ("status", "error_type"), [(500, "internal_error"), (503, "service_unavailable")]
)
def test_server_errors(
    client: SonioxClient, emu: CompatEmulator, status: int, error_type: str
) -> None:
    """A 5xx answer every time: SonioxServerError with the status and error type."""
    emu.fail("/v1/files", status, method="GET")
    with pytest.raises(SonioxServerError) as caught:
        client.files.list()
    assert caught.value.status_code == status
    assert caught.value.api_error is not None
    assert caught.value.api_error.error_type == error_type


def test_permission_denied(client: SonioxClient, emu: CompatEmulator) -> None:
    """403 ``permission_denied``: SonioxPermissionDeniedError, which is not an authentication error."""
    emu.fail("/v1/auth/temporary-api-key", 403, error_type="permission_denied")
    with pytest.raises(SonioxPermissionDeniedError) as caught:
        client.auth.create_temporary_api_key()
    assert caught.value.status_code == 403
    assert not isinstance(caught.value, SonioxAuthenticationError)


def test_other_403_is_an_authentication_error(client: SonioxClient, emu: CompatEmulator) -> None:
    """Any other 403 (an expired temporary key session) is a SonioxAuthenticationError."""
    emu.fail("/v1/files", 403, method="GET", error_type="temp_api_key_session_expired")
    with pytest.raises(SonioxAuthenticationError) as caught:
        client.files.list()
    assert caught.value.status_code == 403
    assert not isinstance(caught.value, SonioxPermissionDeniedError)


def test_unmapped_status_is_a_plain_api_error(client: SonioxClient, emu: CompatEmulator) -> None:
    """402 maps to none of the specific classes: a plain SonioxAPIError with the body parsed."""
    emu.fail("/v1/transcriptions", 402, method="GET", error_type="organization_balance_exhausted")
    with pytest.raises(SonioxAPIError) as caught:
        client.stt.list()
    e = caught.value
    assert not isinstance(e, API_SUBCLASSES)
    assert e.status_code == 402
    assert e.api_error is not None
    assert e.api_error.error_type == "organization_balance_exhausted"


@pytest.mark.parametrize("status", [400, 401, 404, 409, 429, 500])
def test_every_api_error_is_caught_by_the_base_classes(
    client: SonioxClient, emu: CompatEmulator, status: int
) -> None:
    """``except SonioxAPIError`` and ``except SonioxError`` catch every HTTP error."""
    emu.fail("/v1/models", status)
    try:
        client.models.list()
    except SonioxAPIError as e:
        handled = e
    else:
        pytest.fail("no SonioxAPIError")
    assert handled.status_code == status
    try:
        client.models.list()
    except SonioxError as e:
        caught_by_base = e
    else:
        pytest.fail("no SonioxError")
    assert isinstance(caught_by_base, SonioxAPIError)


def test_client_side_errors_are_soniox_errors_but_not_api_errors(client: SonioxClient) -> None:
    """Local argument errors are caught by ``except SonioxError`` and not by SonioxAPIError."""
    try:
        client.stt.transcribe()
    except SonioxAPIError:
        pytest.fail("a local validation error must not be an API error")
    except SonioxError as e:
        handled = e
    else:
        pytest.fail("no SonioxError")
    assert isinstance(handled, SonioxValidationError)


# Async ------------------------------------------------------------------------------------------
def test_async_not_found(conn: dict[str, str], emu: CompatEmulator) -> None:
    """Async: a missing file raises SonioxNotFoundError with status, request id and api_error."""
    missing = str(uuid.uuid4())

    async def main() -> SonioxNotFoundError:
        async with AsyncSonioxClient(**conn) as client:
            try:
                await client.files.get(missing)
            except SonioxNotFoundError as e:
                return e
            pytest.fail("no SonioxNotFoundError")

    handled = asyncio.run(main())
    assert handled.status_code == 404
    assert handled.request_id == _request_id_of(emu, f"/v1/files/{missing}")
    assert handled.api_error is not None
    assert handled.api_error.error_type == "file_not_found"


def test_async_invalid_request(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """Async: an unknown model raises SonioxInvalidRequestError with its validation error."""
    file_id = emu.upload(wav)["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            with pytest.raises(SonioxInvalidRequestError) as caught:
                await client.stt.create(model="no-such-model", file_id=file_id)
            assert caught.value.api_error is not None
            assert caught.value.api_error.validation_errors[0].location == "body.payload.model"

    asyncio.run(main())


def test_async_conflict(conn: dict[str, str], side: SideServer) -> None:
    """Async: the transcript of an unfinished job raises SonioxConflictError 409."""
    url, _release = side.gated_audio_url()

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            job = await client.stt.create(audio_url=url)
            with pytest.raises(SonioxConflictError) as caught:
                await client.stt.get_transcript(job.id)
            assert caught.value.status_code == 409

    asyncio.run(main())


def test_async_rate_limit_and_server_error(conn: dict[str, str], emu: CompatEmulator) -> None:
    """Async: persistent 429 and 502 answers raise SonioxRateLimitError and SonioxServerError."""
    emu.fail("/v1/models", 429)
    emu.fail("/v1/tts-models", 502)

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            with pytest.raises(SonioxRateLimitError) as limited:
                await client.models.list()
            assert limited.value.status_code == 429
            with pytest.raises(SonioxServerError) as server:
                await client.tts_models.list()
            assert server.value.status_code == 502

    asyncio.run(main())


def test_async_wrong_key(conn: dict[str, str]) -> None:
    """Async: a wrong API key raises SonioxAuthenticationError 401."""

    async def main() -> None:
        async with AsyncSonioxClient(api_key="wrong", api_base_url=conn["api_base_url"]) as bad:
            with pytest.raises(SonioxAuthenticationError) as caught:
                await bad.stt.list()
            assert caught.value.status_code == 401

    asyncio.run(main())
