"""Flows for ``/v1/files``: one implementation of every file operation, sync and async.

Uploads are streamed (see :mod:`soniox.flows.uploads`) and, unlike the official SDK, safe to
retry: a body that can be replayed (a path, bytes, a seekable file) is resent whole after a
failure the server never saw. When the connection drops *after* the body was sent, the server
may have stored the file; the upload then looks the file up by its ``client_reference_id`` (one
is generated when you give none) before sending again, so a lost answer does not leave a second
copy behind.
"""

from __future__ import annotations

import random
import uuid
from typing import Final

from soniox.errors import NotFoundError, ResponseLostError, ServerError
from soniox.middleware import Backoff, Flow, get_clock, sleep
from soniox.types import File, GetFilesCountResponse, GetFilesResponse, loads

from .checks import MAX_PAGE_LIMIT, check_limit, id_path
from .deletion import delete_resource_flow
from .pages import Listing, PageFlow, all_items_flow, list_page_flow, page_walker
from .protocol import ApiClient
from .reconcile import look_up_flow
from .uploads import ProgressCallback, SourceError, UploadSource, prepare_upload

__all__ = [
    "FILES",
    "RECONCILE_SLACK_S",
    "count_files_flow",
    "delete_all_files_flow",
    "delete_file_flow",
    "files_page_flow",
    "find_files_flow",
    "get_file_flow",
    "get_file_or_none_flow",
    "list_files_flow",
    "upload_flow",
]

RECONCILE_SLACK_S: Final = 300.0
"""How far a stored file's ``created_at`` may precede the upload's start (clock skew) and still
count as this upload's when a lost answer is reconciled."""

FILES: Final = Listing("/files", GetFilesResponse, lambda page: page.files, "files.list")
"""``GET /files``, newest first."""

_RNG = random.Random()


def list_files_flow(
    client: ApiClient, limit: int = 100, cursor: str | None = None
) -> Flow[GetFilesResponse]:
    """``GET /files``: one page (``limit`` 1..1000) and the cursor of the next."""
    return (yield from list_page_flow(client, FILES, limit=limit, cursor=cursor))


def files_page_flow(client: ApiClient, limit: int = 100) -> PageFlow[File]:
    """The page flow :func:`~soniox.flows.pages.iterate_pages` walks for ``list_all``."""
    return page_walker(client, FILES, limit=limit)


def count_files_flow(client: ApiClient) -> Flow[GetFilesCountResponse]:
    """``GET /files/count``."""
    response = yield from client.request_flow("GET", "/files/count", operation="files.count")
    return loads(response.content, GetFilesCountResponse)


def get_file_flow(client: ApiClient, file_id: str) -> Flow[File]:
    """``GET /files/{id}``; NotFoundError if there is none."""
    path = id_path("/files", file_id, "file_id")
    response = yield from client.request_flow("GET", path, operation="files.get")
    return loads(response.content, File)


def get_file_or_none_flow(client: ApiClient, file_id: str) -> Flow[File | None]:
    """:func:`get_file_flow`, with None instead of NotFoundError."""
    try:
        return (yield from get_file_flow(client, file_id))
    except NotFoundError:
        return None


def delete_file_flow(client: ApiClient, file_id: str, *, missing_ok: bool = False) -> Flow[bool]:
    """``DELETE /files/{id}``: True once it is gone; False if it was already missing and
    ``missing_ok`` (otherwise NotFoundError); a lost answer is checked, see
    :func:`~soniox.flows.deletion.delete_resource_flow`."""
    path = id_path("/files", file_id, "file_id")
    return (
        yield from delete_resource_flow(
            client, path, operation="files.delete", missing_ok=missing_ok
        )
    )


def delete_all_files_flow(client: ApiClient, limit: int = MAX_PAGE_LIMIT) -> Flow[int]:
    """Delete every file; returns how many this call deleted.

    The ids are collected first and deleted after, so deleting never disturbs the cursor walk;
    files that vanish meanwhile are skipped.
    """
    check_limit(limit)
    files = yield from all_items_flow(files_page_flow(client, limit))
    deleted = 0
    for file in files:
        if (yield from delete_file_flow(client, file.id, missing_ok=True)):
            deleted += 1
    return deleted


def upload_flow(
    client: ApiClient,
    source: UploadSource,
    *,
    filename: str | None = None,
    client_reference_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> Flow[File]:
    """``POST /files``: stream ``source`` as multipart/form-data and return the stored file.

    ``source``: a path, bytes, a binary file object or an iterator of bytes (see
    :mod:`soniox.flows.uploads`); ``progress(sent, total)`` hears the file bytes sent so far
    (total is None when the size is unknown). A replayable source is resent after a failure; a
    one-shot one never is. ``client_reference_id`` is generated (a UUID) when not given: it is
    how a lost answer is reconciled with what the server stored.
    """
    reference = client_reference_id if client_reference_id is not None else str(uuid.uuid4())
    upload = prepare_upload(
        source, filename=filename, client_reference_id=reference, progress=progress
    )
    clock = yield from get_clock()
    started = clock.wall()
    limit = client.options.max_retries
    resends = client.config.max_retries if limit is None else limit
    backoff = Backoff(
        client.config.backoff_base, client.config.backoff_factor, client.config.backoff_cap
    )
    resent = 0
    try:
        request = client.build_request(
            "POST",
            "/files",
            content=upload.body(),
            headers={"content-type": upload.content_type},
            operation="files.upload",
        )
        deadline = request.options.deadline
        while True:
            try:
                response = yield from client.call(request)
            except (ResponseLostError, ServerError) as lost:
                # The file may be stored anyway: look before sending it again.
                stored = yield from look_up_flow(
                    lambda: find_files_flow(
                        client, reference, since=started, size=upload.file_size, deadline=deadline
                    ),
                    deadline=deadline,
                    operation="files.upload",
                    client_reference_id=reference,
                    recovery=f"files.list_all() (look for client_reference_id={reference!r})",
                )
                if stored:
                    return stored[0]
                if not upload.replayable:
                    lost.add_note(
                        f"the upload's source ({upload.source_kind}) can be read only once, so it "
                        f"was not resent; no file with client_reference_id={reference!r} is "
                        "stored"
                    )
                    raise
                delay = backoff.delay(resent, _RNG)
                if resent >= resends or (deadline is not None and clock.now() + delay >= deadline):
                    raise
                yield from sleep(delay)
                resent += 1
                continue
            return loads(response.content, File)
    except SourceError as failed:
        raise failed.original from None
    finally:
        upload.close()


def find_files_flow(
    client: ApiClient,
    reference: str,
    *,
    since: float,
    size: int | None = None,
    deadline: float | None = None,
) -> Flow[list[File]]:
    """Stored files carrying ``reference``, created after ``since`` (Unix time, minus the skew
    slack) and of ``size`` bytes when given: what an upload whose answer was lost, or that was
    interrupted, may have left on the server."""
    pages = page_walker(
        client,
        Listing("/files", GetFilesResponse, FILES.items, "files.find_by_reference"),
        limit=MAX_PAGE_LIMIT,
        deadline=deadline,
    )
    files = yield from all_items_flow(pages)
    return [
        stored
        for stored in files
        if stored.client_reference_id == reference
        and (size is None or stored.size == size)
        and stored.created_at.timestamp() >= since - RECONCILE_SLACK_S
    ]
