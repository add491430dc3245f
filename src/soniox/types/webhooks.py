"""The webhook Soniox POSTs when an async job ends."""

from __future__ import annotations

import attrs

from .transcriptions import TranscriptionStatus

__all__ = ["WebhookEvent"]


@attrs.define(frozen=True, kw_only=True)
class WebhookEvent:
    """Body of the webhook request: which job, and how it ended (``completed`` or ``error``).

    Authenticity is the configured header, not a signature: check it before trusting ``id``.
    """

    id: str
    status: TranscriptionStatus
