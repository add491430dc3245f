"""``client.models`` and ``client.tts_models``: the model catalogues.

As in the official SDK, ``list()`` answers the response object: ``client.models.list().models``
is every speech-to-text model (aliases included), ``client.tts_models.list().models`` every
text-to-speech model with its voices.
"""

from __future__ import annotations

from soniox.flows.protocol import ApiClient
from soniox.middleware import Flow
from soniox.types import GetModelsResponse, GetTTSModelsResponse, loads

from ._base import AsyncNamespace, SyncNamespace

__all__ = [
    "AsyncModels",
    "AsyncTtsModels",
    "Models",
    "TtsModels",
    "list_models_flow",
    "list_tts_models_flow",
]


def list_models_flow(client: ApiClient) -> Flow[GetModelsResponse]:
    """``GET /models``."""
    response = yield from client.request_flow("GET", "/models", operation="models.list")
    return loads(response.content, GetModelsResponse)


def list_tts_models_flow(client: ApiClient) -> Flow[GetTTSModelsResponse]:
    """``GET /tts-models``."""
    response = yield from client.request_flow("GET", "/tts-models", operation="tts_models.list")
    return loads(response.content, GetTTSModelsResponse)


class Models(SyncNamespace):
    """``client.models``: the speech-to-text models (``GET /v1/models``)."""

    __slots__ = ()

    def list(self) -> GetModelsResponse:
        """Every model the API offers, aliases included (``.models``)."""
        return self._run(list_models_flow(self._client), "models.list")


class AsyncModels(AsyncNamespace):
    """``client.models`` of the async client."""

    __slots__ = ()

    async def list(self) -> GetModelsResponse:
        """Every model the API offers, aliases included (``.models``)."""
        return await self._arun(list_models_flow(self._client), "models.list")


class TtsModels(SyncNamespace):
    """``client.tts_models``: the text-to-speech models and their voices."""

    __slots__ = ()

    def list(self) -> GetTTSModelsResponse:
        """Every text-to-speech model (``.models``)."""
        return self._run(list_tts_models_flow(self._client), "tts_models.list")


class AsyncTtsModels(AsyncNamespace):
    """``client.tts_models`` of the async client."""

    __slots__ = ()

    async def list(self) -> GetTTSModelsResponse:
        """Every text-to-speech model (``.models``)."""
        return await self._arun(list_tts_models_flow(self._client), "tts_models.list")
