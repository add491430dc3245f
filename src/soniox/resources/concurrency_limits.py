"""``client.concurrency_limits``: realtime streams running now and the caps on them.

``GET /v1/concurrency-limits`` answers for the project and for the organization (checked first);
a cap of None means no cap at that scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soniox.middleware import Flow
from soniox.types import ConcurrencyLimits, loads

from ._base import AsyncNamespace, SyncNamespace

if TYPE_CHECKING:
    from soniox.client import _ClientBase  # pyright: ignore[reportPrivateUsage]

__all__ = ["AsyncConcurrencyLimitsAPI", "ConcurrencyLimitsAPI", "concurrency_limits_flow"]


def concurrency_limits_flow(client: _ClientBase) -> Flow[ConcurrencyLimits]:
    """``GET /concurrency-limits``."""
    response = yield from client.request_flow(
        "GET", "/concurrency-limits", operation="concurrency_limits.get"
    )
    return loads(response.content, ConcurrencyLimits)


class ConcurrencyLimitsAPI(SyncNamespace):
    """``client.concurrency_limits``."""

    __slots__ = ()

    def get(self) -> ConcurrencyLimits:
        """Current concurrent streams and caps, per project and organization."""
        return self._run(concurrency_limits_flow(self._client))


class AsyncConcurrencyLimitsAPI(AsyncNamespace):
    """``client.concurrency_limits`` of the async client."""

    __slots__ = ()

    async def get(self) -> ConcurrencyLimits:
        """Current concurrent streams and caps, per project and organization."""
        return await self._arun(concurrency_limits_flow(self._client))
