"""``DELETE`` of one resource, whose answer may be lost: one flow for files and transcriptions."""

from __future__ import annotations

from soniox.middleware import Flow

from .protocol import ApiClient

__all__ = ["delete_resource_flow"]


def delete_resource_flow(
    client: ApiClient, path: str, *, operation: str, missing_ok: bool = False
) -> Flow[bool]:
    """``DELETE path``: True once it is gone; False if it was already missing and
    ``missing_ok`` (otherwise NotFoundError).

    A 404 on a *retried* attempt means an earlier attempt of this call deleted it and its answer
    was lost: that counts as deleted, not as missing.
    """
    request = client.build_request("DELETE", path, operation=operation)
    response = yield from client.stack.handler()(request)
    if response.status == 404:
        if response.request.attempt > 1:
            return True
        if missing_ok:
            return False
    client.raise_for_status(response)
    return True
