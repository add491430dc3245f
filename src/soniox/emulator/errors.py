"""Error bodies exactly as the real API sends them.

REST uses the ``ApiError`` shape (``status_code``, ``error_type``, ``message``,
``validation_errors``, ``request_id``, plus ``more_info`` as in the newer docs); the realtime
WebSocket uses ``error_code`` / ``error_type`` / ``error_message``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from .http_types import OutgoingResponse

__all__ = [
    "DEFAULT_ERROR_TYPES",
    "DEFAULT_MESSAGES",
    "ApiFailure",
    "ValidationIssue",
    "api_error_body",
    "api_error_response",
    "more_info_url",
    "realtime_error_frame",
]

DEFAULT_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthenticated",
    402: "organization_balance_exhausted",
    403: "permission_denied",
    404: "not_found",
    408: "request_timeout",
    409: "transcription_invalid_state",
    413: "max_duration_reached",
    429: "limit_exceeded",
    500: "internal_error",
    502: "internal_error",
    503: "service_unavailable",
    504: "internal_error",
}

DEFAULT_MESSAGES: dict[str, str] = {
    "invalid_request": "Invalid request.",
    "invalid_cursor": "Invalid cursor parameter.",
    "unauthenticated": (
        "Incorrect API key provided. You can get an API key at https://console.soniox.com"
    ),
    "organization_balance_exhausted": "Organization balance exhausted.",
    "permission_denied": "The API key does not have permission for this operation.",
    "not_found": "Not found.",
    "file_not_found": "File could not be found.",
    "transcription_not_found": "Transcription could not be found.",
    "request_timeout": "Request timeout.",
    "transcription_invalid_state": "Invalid transcription state.",
    "max_duration_reached": "Maximum audio duration reached.",
    "limit_exceeded": "Requests per minute limit has been exceeded for your organization.",
    "internal_error": (
        "The server encountered an error. Please try again. "
        "If the issue persists contact support@soniox.com."
    ),
    "service_unavailable": "Cannot continue request (code 1). Please restart the request.",
}


def more_info_url(error_type: str) -> str:
    return "https://soniox.com/docs/api-reference/errors#" + error_type.replace("_", "-")


@attrs.frozen
class ValidationIssue:
    """One ``validation_errors`` entry, e.g. ``missing`` at ``body.payload.model``."""

    error_type: str
    location: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"error_type": self.error_type, "location": self.location, "message": self.message}


class ApiFailure(Exception):
    """Raised inside REST handlers; the app turns it into an ``ApiError`` response."""

    def __init__(
        self,
        status: int,
        error_type: str | None = None,
        message: str | None = None,
        validation_errors: Sequence[ValidationIssue] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.error_type = error_type or DEFAULT_ERROR_TYPES.get(status, "internal_error")
        self.message = message or DEFAULT_MESSAGES.get(self.error_type, "Error.")
        self.validation_errors = list(validation_errors)
        self.headers = list(headers)
        super().__init__(f"{status} {self.error_type}: {self.message}")


def api_error_body(
    status: int,
    error_type: str,
    message: str,
    request_id: str,
    validation_errors: Sequence[ValidationIssue] = (),
) -> dict[str, Any]:
    return {
        "status_code": status,
        "error_type": error_type,
        "message": message,
        "validation_errors": [v.to_json() for v in validation_errors],
        "request_id": request_id,
        "more_info": more_info_url(error_type),
    }


def api_error_response(failure: ApiFailure, request_id: str) -> OutgoingResponse:
    body = json.dumps(
        api_error_body(
            failure.status,
            failure.error_type,
            failure.message,
            request_id,
            failure.validation_errors,
        )
    ).encode()
    headers = [("content-type", "application/json"), *failure.headers]
    return OutgoingResponse(status=failure.status, headers=headers, body=body)


def realtime_error_frame(
    error_code: int, error_type: str, error_message: str, request_id: str
) -> str:
    return json.dumps(
        {
            "error_code": error_code,
            "error_type": error_type,
            "error_message": error_message,
            "more_info": more_info_url(error_type),
            "request_id": request_id,
        }
    )
