"""``DELETE`` of one resource, whose answer may be lost: one flow for files and transcriptions."""

from __future__ import annotations

from soniox.errors import NotFoundError, ResponseLostError, SonioxAPIError, SonioxError
from soniox.middleware import Flow

from .protocol import ApiClient
from .reconcile import is_transient, look_up_flow

__all__ = ["delete_resource_flow"]


def delete_resource_flow(
    client: ApiClient, path: str, *, operation: str, missing_ok: bool = False
) -> Flow[bool]:
    """``DELETE path``: True once it is gone; False if it was already missing and
    ``missing_ok`` (otherwise NotFoundError).

    A lost answer is checked, not assumed: a 404 on a *retried* attempt means an earlier attempt
    of this call deleted it (deleted, not missing); when the retries end in a lost answer, a 5xx,
    a 429 or a 408 — any of which may follow an earlier attempt that did delete it — ``GET path``
    tells whether it is gone (deleted) or still there (the error is raised, saying so), asked
    until it answers, else OutcomeUnknownError.
    """
    request = client.build_request("DELETE", path, operation=operation)
    try:
        response = yield from client.stack.handler()(request)
    except ResponseLostError as lost:
        return (yield from _check_gone(client, path, operation, lost))
    if response.status == 404:
        if response.request.attempt > 1:
            return True
        if missing_ok:
            return False
    try:
        client.raise_for_status(response)
    except SonioxAPIError as failed:
        # A 5xx may come after the work was done; a 429 or 408 only refuses this attempt, so it
        # is ambiguous only when an earlier attempt (whose answer was lost) may have deleted it.
        maybe_done = (failed.status or 0) >= 500 or response.request.attempt > 1
        if not (is_transient(failed) and maybe_done):
            raise
        return (yield from _check_gone(client, path, operation, failed))
    return True


def _exists_flow(client: ApiClient, path: str, operation: str) -> Flow[bool]:
    try:
        yield from client.request_flow("GET", path, operation=f"{operation}.check")
    except NotFoundError:
        return False
    return True


def _check_gone(client: ApiClient, path: str, operation: str, failure: SonioxError) -> Flow[bool]:
    """After a DELETE whose outcome is unknown: True if the object is gone, else ``failure``."""
    exists = yield from look_up_flow(
        lambda: _exists_flow(client, path, operation),
        deadline=client.build_request("GET", path).options.deadline,
        operation=operation,
        resource_id=path.rsplit("/", 1)[-1],
        recovery=f"GET {path} (404: it is gone)",
    )
    if not exists:
        return True
    failure.add_note(f"{path} still exists: it was not deleted")
    raise failure
