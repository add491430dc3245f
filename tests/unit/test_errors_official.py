"""The official SDK's exception names and attributes are this SDK's own classes."""

from __future__ import annotations

import json

import pytest

import soniox.errors as errors
from soniox.errors import (
    OFFICIAL_NAMES,
    ApiError,
    ApiErrorValidationError,
    ClientValidationError,
    ConflictError,
    NotFoundError,
    SonioxAPIError,
    SonioxError,
    TranscriptionFailedError,
    error_from_response,
)
from soniox.transport import Request, Response
from soniox.transport.request import URL

OFFICIAL_ERRORS = (
    "SonioxError",
    "SonioxValidationError",
    "SonioxAPIError",
    "SonioxAuthenticationError",
    "SonioxPermissionDeniedError",
    "SonioxInvalidRequestError",
    "SonioxNotFoundError",
    "SonioxConflictError",
    "SonioxRateLimitError",
    "SonioxServerError",
    "InvalidWebhookSignatureError",
    "SonioxRealtimeError",
)

OFFICIAL_STATUS = {
    400: "SonioxInvalidRequestError",
    401: "SonioxAuthenticationError",
    403: "SonioxAuthenticationError",
    404: "SonioxNotFoundError",
    409: "SonioxConflictError",
    429: "SonioxRateLimitError",
    500: "SonioxServerError",
    503: "SonioxServerError",
}


def _body(status: int, error_type: str, message: str = "m") -> bytes:
    return json.dumps(
        {
            "status_code": status,
            "error_type": error_type,
            "message": message,
            "validation_errors": [
                {"error_type": "missing", "location": "body.model", "message": "Field required"}
            ],
            "request_id": "req-1",
        }
    ).encode()


@pytest.mark.parametrize("name", OFFICIAL_ERRORS)
def test_every_official_name_is_exported(name: str) -> None:
    """``from soniox.errors import <official name>`` works and is a class of our tree."""
    cls = getattr(errors, name)
    assert issubclass(cls, SonioxError)
    assert OFFICIAL_NAMES[name] is cls
    assert name in errors.__all__


@pytest.mark.parametrize(("status", "name"), sorted(OFFICIAL_STATUS.items()))
def test_the_official_except_clause_catches_what_we_raise(status: int, name: str) -> None:
    """For each status, the official class an ``except`` names catches our error."""
    error = error_from_response(status, {}, _body(status, "some_error"))
    assert isinstance(error, getattr(errors, name))
    assert isinstance(error, errors.SonioxAPIError)


def test_official_attributes_are_present() -> None:
    """status_code, request_id, error_type, validation_errors and api_error read as officially."""
    error = error_from_response(404, {}, _body(404, "file_not_found", "File could not be found."))
    assert error.status_code == 404
    assert error.request_id == "req-1"
    assert error.error_type == "file_not_found"
    assert error.validation_errors == [
        ApiErrorValidationError(
            error_type="missing", location="body.model", message="Field required"
        )
    ]
    assert error.api_error is not None
    assert error.api_error.error_type == "file_not_found"
    assert error.api_error.message == "File could not be found."
    assert error.api_error.request_id == "req-1"


def test_a_body_without_error_type_has_no_api_error() -> None:
    """A plain-text answer parses to no ApiError, as the official SDK's does."""
    error = error_from_response(502, {}, b"bad gateway")
    assert error.api_error is None
    assert error.message == "bad gateway"


def test_the_response_is_kept_on_the_error() -> None:
    """``error.response`` is the HTTP response behind it (the official attribute)."""
    request = Request("GET", URL.parse("http://127.0.0.1/v1/files/x"))
    response = Response.build(404, request, content=_body(404, "file_not_found"))
    error = SonioxAPIError.from_response(response)
    assert type(error) is NotFoundError
    assert error.response is response
    assert error.status_code == 404


def test_the_official_constructor_is_accepted() -> None:
    """``SonioxAPIError(message, api_error=..., response=...)`` fills the fields."""
    api_error = ApiError(status_code=409, error_type="transcription_invalid_state", message="busy")
    error = errors.SonioxConflictError("", api_error=api_error)
    assert error.message == "busy"
    assert error.error_type == "transcription_invalid_state"
    assert error.api_error == api_error
    assert errors.SonioxNotFoundError("gone").status_code is None


def test_validation_errors_expose_the_official_errors_attribute() -> None:
    """``SonioxValidationError`` is ClientValidationError and carries ``errors`` (None)."""
    error = errors.SonioxValidationError("Please provide api_key", field="api_key")
    assert isinstance(error, ClientValidationError)
    assert error.errors is None


def test_a_failed_job_is_a_conflict_for_official_handlers() -> None:
    """TranscriptionFailedError is caught by ``except SonioxConflictError`` / SonioxAPIError."""
    error = TranscriptionFailedError(
        "job failed", transcription_id="t", error_type="audio_decode", error_message="bad audio"
    )
    assert isinstance(error, ConflictError)
    assert isinstance(error, errors.SonioxAPIError)
    assert error.error_type == "audio_decode"
    assert error.error_message == "bad audio"
    assert str(error) == "job failed"
