"""Temporary API keys (``POST /v1/auth/temporary-api-key``) for browsers and untrusted clients."""

from __future__ import annotations

import attrs

from .common import ModelMethods, OpenStrEnum, UtcDateTime, mask_secret, omit_none

__all__ = [
    "TemporaryApiKeyUsageType",
    "CreateTemporaryApiKeyPayload",
    "CreateTemporaryApiKeyResponse",
]


class TemporaryApiKeyUsageType(OpenStrEnum):
    """What a temporary key may open: a realtime STT or a realtime TTS connection."""

    TRANSCRIBE_WEBSOCKET = "transcribe_websocket"
    TTS_RT = "tts_rt"


@omit_none
@attrs.define(frozen=True, kw_only=True)
class CreateTemporaryApiKeyPayload(ModelMethods):
    """Request for a short-lived key (1..3600 s); sessions opened with it can be capped too."""

    usage_type: TemporaryApiKeyUsageType
    expires_in_seconds: int
    client_reference_id: str | None = None
    single_use: bool | None = None
    max_session_duration_seconds: int | None = None


@attrs.define(frozen=True, kw_only=True)
class CreateTemporaryApiKeyResponse(ModelMethods):
    """The new key (``temp:...``; masked in repr) and when it expires."""

    api_key: str = attrs.field(repr=mask_secret)
    expires_at: UtcDateTime
