"""``client.auth``: short-lived API keys for browsers and other untrusted clients.

A temporary key (``temp:...``) opens realtime connections only, expires after
``expires_in_seconds`` (1..3600) and can be limited to one stream or a session length. Hand it to
the browser; keep your real key on the server. The returned key is masked in ``repr`` and in any
error message, so logging the result object does not leak it; read ``.api_key`` to use it.
"""

from __future__ import annotations

from typing import TypedDict, Unpack

from soniox.errors import RequestValidationError
from soniox.flows.checks import check_int, check_optional_str
from soniox.flows.protocol import ApiClient
from soniox.middleware import Flow
from soniox.types import (
    CreateTemporaryApiKeyPayload,
    CreateTemporaryApiKeyResponse,
    TemporaryApiKeyUsageType,
    loads,
)

from ._base import AsyncNamespace, SyncNamespace

__all__ = [
    "AsyncAuth",
    "Auth",
    "TemporaryKeyArgs",
    "create_temporary_api_key_flow",
    "temporary_key_payload",
]

MAX_EXPIRES_IN_SECONDS = 3600
MAX_SESSION_DURATION_SECONDS = 18_000


def temporary_key_payload(
    usage_type: TemporaryApiKeyUsageType | str = TemporaryApiKeyUsageType.TRANSCRIBE_WEBSOCKET,
    expires_in_seconds: int = 300,
    client_reference_id: str | None = None,
    single_use: bool | None = None,
    max_session_duration_seconds: int | None = None,
) -> CreateTemporaryApiKeyPayload:
    """The request body, checked against the API's documented limits (RequestValidationError
    names the field). An unknown ``usage_type`` is passed through: the server decides."""
    if not isinstance(usage_type, str) or not usage_type:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RequestValidationError("usage_type must be a non-empty string", field="usage_type")
    check_int(expires_in_seconds, "expires_in_seconds", 1, MAX_EXPIRES_IN_SECONDS)
    check_optional_str(client_reference_id, "client_reference_id", 256)
    if single_use is not None and not isinstance(single_use, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RequestValidationError("single_use must be True, False or None", field="single_use")
    if max_session_duration_seconds is not None:
        check_int(
            max_session_duration_seconds,
            "max_session_duration_seconds",
            1,
            MAX_SESSION_DURATION_SECONDS,
        )
    return CreateTemporaryApiKeyPayload(
        usage_type=TemporaryApiKeyUsageType(usage_type),
        expires_in_seconds=expires_in_seconds,
        client_reference_id=client_reference_id,
        single_use=single_use,
        max_session_duration_seconds=max_session_duration_seconds,
    )


def create_temporary_api_key_flow(
    client: ApiClient, payload: CreateTemporaryApiKeyPayload
) -> Flow[CreateTemporaryApiKeyResponse]:
    """``POST /auth/temporary-api-key``."""
    response = yield from client.request_flow(
        "POST",
        "/auth/temporary-api-key",
        json=payload,
        operation="auth.create_temporary_api_key",
    )
    return loads(response.content, CreateTemporaryApiKeyResponse)


class TemporaryKeyArgs(TypedDict, total=False):
    """The keywords of ``create_temporary_api_key`` (the official SDK's, keyword-only)."""

    usage_type: TemporaryApiKeyUsageType | str
    """``transcribe_websocket`` (the default) or ``tts_rt``."""
    expires_in_seconds: int
    """1..3600 (default 300)."""
    client_reference_id: str | None
    single_use: bool | None
    """Only one connection may use the key."""
    max_session_duration_seconds: int | None
    """1..18000: how long a connection made with it may last."""


class Auth(SyncNamespace):
    """``client.auth``: temporary API keys."""

    __slots__ = ()

    def create_temporary_api_key(
        self, **args: Unpack[TemporaryKeyArgs]
    ) -> CreateTemporaryApiKeyResponse:
        """A key for ``usage_type`` connections that expires in ``expires_in_seconds``."""
        flow = create_temporary_api_key_flow(self._client, temporary_key_payload(**args))
        return self._run(flow, "auth.create_temporary_api_key")


class AsyncAuth(AsyncNamespace):
    """``client.auth`` of the async client."""

    __slots__ = ()

    async def create_temporary_api_key(
        self, **args: Unpack[TemporaryKeyArgs]
    ) -> CreateTemporaryApiKeyResponse:
        """A key for ``usage_type`` connections that expires in ``expires_in_seconds``."""
        flow = create_temporary_api_key_flow(self._client, temporary_key_payload(**args))
        return await self._arun(flow, "auth.create_temporary_api_key")
