"""soniox — Python SDK for the Soniox speech-to-text API.

The public API, flat::

    from soniox import SonioxClient, SonioxConfig, RateLimitError

    with SonioxClient(config=SonioxConfig.production()) as client:   # SONIOX_API_KEY
        print([m.id for m in client.models.list().models])

Names load on first use (PEP 562), so ``import soniox`` stays cheap and the emulator
(:mod:`soniox.emulator`, extra ``emulator``) never pulls in the client.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client import AsyncSonioxClient, SonioxClient
    from .config import SonioxConfig
    from .errors import (
        AuthenticationError,
        ClientValidationError,
        ConflictError,
        DeadlineExceededError,
        InvalidRequestError,
        NotFoundError,
        PaymentRequiredError,
        PermissionDeniedError,
        RateLimitError,
        RequestNotSentError,
        ResponseLostError,
        ServerError,
        SonioxAPIError,
        SonioxError,
        SonioxTimeoutError,
        TranscriptionFailedError,
        TransportError,
        WaitTimeoutError,
        WebhookSignatureError,
    )
    from .flows import BatchResult, PollingPolicy
    from .middleware import (
        HookMiddleware,
        Middleware,
        Retry,
        RetryPolicy,
        Stack,
        register_middleware,
    )
    from .transcripts import (
        aiter_transcript_tokens,
        iter_transcript_tokens,
        render_by_speaker,
        render_text,
        to_srt,
        to_vtt,
    )
    from .transport import HttpcoreTransport, Request, RequestOptions, Response, Transport
    from .types import (
        CreateTranscriptionConfig,
        File,
        Model,
        Transcription,
        TranscriptionTranscript,
        TranscriptionTranscriptToken,
        WebhookEvent,
    )

    HttpxTransport = HttpcoreTransport  # deprecated: the run-time lookup below warns

__all__ = [
    "__version__",
    # clients and configuration
    "SonioxClient",
    "AsyncSonioxClient",
    "SonioxConfig",
    # the REST surface: workflow options and results
    "PollingPolicy",
    "CreateTranscriptionConfig",
    "BatchResult",
    # the API's objects (every schema lives in soniox.types)
    "File",
    "Model",
    "Transcription",
    "TranscriptionTranscript",
    "TranscriptionTranscriptToken",
    "WebhookEvent",
    # transcripts (soniox.transcripts has more)
    "render_text",
    "render_by_speaker",
    "to_srt",
    "to_vtt",
    "iter_transcript_tokens",
    "aiter_transcript_tokens",
    # composing the stack
    "Stack",
    "Middleware",
    "HookMiddleware",
    "Retry",
    "RetryPolicy",
    "register_middleware",
    # transport
    "Request",
    "RequestOptions",
    "Response",
    "Transport",
    "HttpcoreTransport",
    # errors (the whole tree lives in soniox.errors)
    "SonioxError",
    "SonioxAPIError",
    "ClientValidationError",
    "InvalidRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "PaymentRequiredError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "RequestNotSentError",
    "ResponseLostError",
    "SonioxTimeoutError",
    "DeadlineExceededError",
    "WaitTimeoutError",
    "TranscriptionFailedError",
    "WebhookSignatureError",
]

_MODULE_OF: dict[str, str] = {
    "SonioxClient": "client",
    "AsyncSonioxClient": "client",
    "SonioxConfig": "config",
    **dict.fromkeys(
        ("Stack", "Middleware", "HookMiddleware", "Retry", "RetryPolicy", "register_middleware"),
        "middleware",
    ),
    **dict.fromkeys(
        ("Request", "RequestOptions", "Response", "Transport", "HttpcoreTransport"), "transport"
    ),
    **dict.fromkeys(("PollingPolicy", "BatchResult"), "flows"),
    **dict.fromkeys(
        (
            "CreateTranscriptionConfig",
            "File",
            "Model",
            "Transcription",
            "TranscriptionTranscript",
            "TranscriptionTranscriptToken",
            "WebhookEvent",
        ),
        "types",
    ),
    **dict.fromkeys(
        (
            "render_text",
            "render_by_speaker",
            "to_srt",
            "to_vtt",
            "iter_transcript_tokens",
            "aiter_transcript_tokens",
        ),
        "transcripts",
    ),
}


_DEPRECATED_NAMES: dict[str, tuple[str, str]] = {
    "HttpxTransport": ("transport", "HttpcoreTransport"),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED_NAMES:  # not cached, so every use warns
        module, new = _DEPRECATED_NAMES[name]
        warnings.warn(
            f"soniox.{name} is deprecated: use soniox.{new} (same class)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(f".{module}", __name__), new)
    if name not in __all__ or name == "__version__":
        raise AttributeError(f"module 'soniox' has no attribute {name!r}")
    module = _MODULE_OF.get(name, "errors")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
