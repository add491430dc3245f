"""The webhook Soniox POSTs when an async job ends, and the header that authenticates it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import attrs

from .common import ModelMethods, mask_secret
from .transcriptions import TranscriptionStatus

__all__ = ["Headers", "WebhookAuthConfig", "WebhookEvent"]

Headers: TypeAlias = Mapping[str, str]
"""Request headers as the official SDK types them (any mapping; other shapes work too)."""


@attrs.define(frozen=True, kw_only=True)
class WebhookEvent(ModelMethods):
    """Body of the webhook request: which job, and how it ended (``completed`` or ``error``).

    Authenticity is the configured header, not a signature: check it before trusting ``id``.
    """

    id: str
    status: TranscriptionStatus


@attrs.define(frozen=True, kw_only=True)
class WebhookAuthConfig(ModelMethods):
    """The header a webhook must carry: ``name`` (compared case-insensitively) and its exact
    ``value`` (the secret; never shown in a repr)."""

    name: str
    value: str = attrs.field(repr=mask_secret)
