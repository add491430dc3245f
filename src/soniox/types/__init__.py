"""Typed models of the Soniox API and the one converter that reads and writes them.

Every model is a frozen, keyword-only, slotted attrs class named after its OpenAPI schema, except
the two token types, which are msgspec Structs for speed (see :mod:`.transcriptions`). Read wire
data with :func:`loads` / :func:`structure`, write it with :func:`dumps` / :func:`unstructure`.
:data:`SCHEMA_TYPES` maps each OpenAPI ``components.schemas`` name to its Python type.
"""

from __future__ import annotations

from typing import Any

from ._converter import (
    converter,
    dumps,
    format_datetime,
    loads,
    loads_control_message,
    loads_realtime_message,
    parse_datetime,
    structure,
    unstructure,
)
from .auth import (
    CreateTemporaryApiKeyPayload,
    CreateTemporaryApiKeyResponse,
    TemporaryApiKeyUsageType,
)
from .common import (
    ApiError,
    ApiErrorValidationError,
    Language,
    OpenStrEnum,
    UtcDateTime,
    mask_secret,
    omit_none,
    omits_none,
)
from .files import (
    File,
    GetFilesCountResponse,
    GetFilesPayload,
    GetFilesResponse,
    UploadFilePayload,
)
from .models import (
    GetModelsResponse,
    GetTTSModelsResponse,
    Model,
    TranscriptionMode,
    TranslationTarget,
    TTSModel,
    TTSVoice,
    VoiceGender,
)
from .realtime import (
    END_TOKEN,
    FIN_TOKEN,
    RAW_AUDIO_FORMATS,
    AudioFormat,
    FinalizeMessage,
    KeepaliveMessage,
    RealtimeConfig,
    RealtimeErrorFrame,
    RealtimeResponse,
    RealtimeToken,
)
from .transcriptions import (
    CreateTranscriptionPayload,
    GetTranscriptionsCountResponse,
    GetTranscriptionsPayload,
    GetTranscriptionsResponse,
    StructuredContext,
    StructuredContextGeneralItem,
    StructuredContextTranslationTerm,
    Transcription,
    TranscriptionStatus,
    TranscriptionTranscript,
    TranscriptionTranscriptToken,
    TranslationConfig,
    TranslationStatus,
    TranslationType,
)
from .usage import (
    ConcurrencyCaps,
    ConcurrencyCounts,
    ConcurrencyLimits,
    ConcurrencyScope,
    GetUsageLogsPayload,
    GetUsageLogsResponse,
    GetUsageSummaryPayload,
    RequestScope,
    UsageLogEntry,
    UsageLogsSort,
    UsageSummary,
    UsageSummaryEntry,
)
from .webhooks import WebhookEvent

SCHEMA_TYPES: dict[str, Any] = {
    "GetFilesPayload": GetFilesPayload,
    "File": File,
    "GetFilesResponse": GetFilesResponse,
    "ApiError": ApiError,
    "ApiErrorValidationError": ApiErrorValidationError,
    "UploadFilePayload": UploadFilePayload,
    "GetFilesCountResponse": GetFilesCountResponse,
    "GetTranscriptionsPayload": GetTranscriptionsPayload,
    "GetTranscriptionsResponse": GetTranscriptionsResponse,
    "Transcription": Transcription,
    "TranscriptionStatus": TranscriptionStatus,
    "CreateTranscriptionPayload": CreateTranscriptionPayload,
    "StructuredContext": StructuredContext,
    "StructuredContextGeneralItem": StructuredContextGeneralItem,
    "StructuredContextTranslationTerm": StructuredContextTranslationTerm,
    "TranslationConfig": TranslationConfig,
    "GetTranscriptionsCountResponse": GetTranscriptionsCountResponse,
    "TranscriptionTranscript": TranscriptionTranscript,
    "TranscriptionTranscriptToken": TranscriptionTranscriptToken,
    "GetModelsResponse": GetModelsResponse,
    "Language": Language,
    "Model": Model,
    "TranscriptionMode": TranscriptionMode,
    "TranslationTarget": TranslationTarget,
    "GetTTSModelsResponse": GetTTSModelsResponse,
    "TTSModel": TTSModel,
    "TTSVoice": TTSVoice,
    "CreateTemporaryApiKeyResponse": CreateTemporaryApiKeyResponse,
    "CreateTemporaryApiKeyPayload": CreateTemporaryApiKeyPayload,
    "TemporaryApiKeyUsageType": TemporaryApiKeyUsageType,
}
"""OpenAPI ``components.schemas`` name → the Python type that models it (enums included)."""

__all__ = [
    # converter
    "converter",
    "structure",
    "unstructure",
    "loads",
    "dumps",
    "loads_realtime_message",
    "loads_control_message",
    "parse_datetime",
    "format_datetime",
    "SCHEMA_TYPES",
    # common
    "OpenStrEnum",
    "UtcDateTime",
    "mask_secret",
    "omit_none",
    "omits_none",
    "ApiError",
    "ApiErrorValidationError",
    "Language",
    # files
    "File",
    "GetFilesPayload",
    "GetFilesResponse",
    "GetFilesCountResponse",
    "UploadFilePayload",
    # transcriptions
    "TranscriptionStatus",
    "TranslationType",
    "TranslationStatus",
    "TranslationConfig",
    "StructuredContextGeneralItem",
    "StructuredContextTranslationTerm",
    "StructuredContext",
    "CreateTranscriptionPayload",
    "Transcription",
    "GetTranscriptionsPayload",
    "GetTranscriptionsResponse",
    "GetTranscriptionsCountResponse",
    "TranscriptionTranscriptToken",
    "TranscriptionTranscript",
    # models
    "TranscriptionMode",
    "TranslationTarget",
    "Model",
    "GetModelsResponse",
    "VoiceGender",
    "TTSVoice",
    "TTSModel",
    "GetTTSModelsResponse",
    # auth
    "TemporaryApiKeyUsageType",
    "CreateTemporaryApiKeyPayload",
    "CreateTemporaryApiKeyResponse",
    # usage
    "GetUsageSummaryPayload",
    "UsageSummaryEntry",
    "UsageSummary",
    "RequestScope",
    "UsageLogsSort",
    "GetUsageLogsPayload",
    "UsageLogEntry",
    "GetUsageLogsResponse",
    "ConcurrencyCounts",
    "ConcurrencyCaps",
    "ConcurrencyScope",
    "ConcurrencyLimits",
    # realtime
    "AudioFormat",
    "RAW_AUDIO_FORMATS",
    "RealtimeConfig",
    "FinalizeMessage",
    "KeepaliveMessage",
    "RealtimeToken",
    "RealtimeResponse",
    "RealtimeErrorFrame",
    "END_TOKEN",
    "FIN_TOKEN",
    # webhooks
    "WebhookEvent",
]
