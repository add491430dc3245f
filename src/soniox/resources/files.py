"""``client.files``: upload, list, count, get and delete audio files (``/v1/files``).

Every operation is a flow written once (the ``*_flow`` functions, reusable by other flows such as
the transcribe helpers); :class:`Files` and :class:`AsyncFiles` only run them.

Uploads are streamed (see :mod:`soniox.uploads`) and, unlike the official SDK, safe to retry: a
body that can be replayed (a path, bytes, a seekable file) is resent whole after a failure the
server never saw. When the connection drops *after* the body was sent, the server may have stored
the file; the upload then looks the file up by its ``client_reference_id`` (one is generated when
you give none) before sending again, so a lost answer does not leave a second copy behind.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Final

import attrs

from soniox.errors import NotFoundError, ResponseLostError
from soniox.middleware import Backoff, Flow, get_clock, sleep
from soniox.types import File, GetFilesCountResponse, GetFilesResponse, loads
from soniox.uploads import (
    ProgressCallback,
    SourceError,
    UploadSource,
    prepare_upload,
)

from ._base import (
    AsyncNamespace,
    Page,
    PageFlow,
    SyncNamespace,
    aiterate_pages,
    delete_resource_flow,
    iterate_pages,
)
from ._checks import MAX_PAGE_LIMIT, check_limit, check_optional_str, id_path

if TYPE_CHECKING:
    from soniox.client import _ClientBase  # pyright: ignore[reportPrivateUsage]

__all__ = [
    "AsyncFiles",
    "Files",
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

_RNG = random.Random()


# --- flows -----------------------------------------------------------------------------------------


def list_files_flow(
    client: _ClientBase, limit: int = 100, cursor: str | None = None
) -> Flow[GetFilesResponse]:
    """``GET /files``: one page (``limit`` 1..1000) and the cursor of the next."""
    check_limit(limit)
    check_optional_str(cursor, "cursor")
    response = yield from client.request_flow(
        "GET", "/files", params={"limit": limit, "cursor": cursor}, operation="files.list"
    )
    return loads(response.content, GetFilesResponse)


def files_page_flow(client: _ClientBase, limit: int = 100) -> PageFlow[File]:
    """The page flow :func:`~soniox.resources._base.iterate_pages` walks for ``list_all``."""

    def page(cursor: str | None) -> Flow[Page[File]]:
        result = yield from list_files_flow(client, limit, cursor)
        return Page(result.files, result.next_page_cursor)

    return page


def count_files_flow(client: _ClientBase) -> Flow[GetFilesCountResponse]:
    """``GET /files/count``."""
    response = yield from client.request_flow("GET", "/files/count", operation="files.count")
    return loads(response.content, GetFilesCountResponse)


def get_file_flow(client: _ClientBase, file_id: str) -> Flow[File]:
    """``GET /files/{id}``; NotFoundError if there is none."""
    path = id_path("/files", file_id, "file_id")
    response = yield from client.request_flow("GET", path, operation="files.get")
    return loads(response.content, File)


def get_file_or_none_flow(client: _ClientBase, file_id: str) -> Flow[File | None]:
    """:func:`get_file_flow`, with None instead of NotFoundError."""
    try:
        return (yield from get_file_flow(client, file_id))
    except NotFoundError:
        return None


def delete_file_flow(client: _ClientBase, file_id: str, *, missing_ok: bool = False) -> Flow[bool]:
    """``DELETE /files/{id}``: True once it is gone; False if it was already missing and
    ``missing_ok`` (otherwise NotFoundError).

    A 404 on a *retried* attempt means an earlier attempt of this call deleted the file and its
    answer was lost: that counts as deleted, not as missing.
    """
    path = id_path("/files", file_id, "file_id")
    return (
        yield from delete_resource_flow(
            client, path, operation="files.delete", missing_ok=missing_ok
        )
    )


def delete_all_files_flow(client: _ClientBase, limit: int = MAX_PAGE_LIMIT) -> Flow[int]:
    """Delete every file; returns how many this call deleted.

    The ids are collected first and deleted after, so deleting never disturbs the cursor walk;
    files that vanish meanwhile are skipped.
    """
    check_limit(limit)
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = yield from list_files_flow(client, limit, cursor)
        ids.extend(f.id for f in page.files)
        cursor = page.next_page_cursor
        if not cursor:
            break
    deleted = 0
    for file_id in ids:
        if (yield from delete_file_flow(client, file_id, missing_ok=True)):
            deleted += 1
    return deleted


def upload_flow(
    client: _ClientBase,
    source: UploadSource,
    *,
    filename: str | None = None,
    client_reference_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> Flow[File]:
    """``POST /files``: stream ``source`` as multipart/form-data and return the stored file.

    ``source``: a path, bytes, a binary file object or an iterator of bytes (see
    :mod:`soniox.uploads`); ``progress(sent, total)`` hears the file bytes sent so far (total is
    None when the size is unknown). A replayable source is resent after a failure; a one-shot
    one never is. ``client_reference_id`` is generated (a UUID) when not given: it is how a
    lost answer is reconciled with what the server stored.
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
        while True:
            try:
                response = yield from client.call(request)
            except ResponseLostError as lost:
                if not upload.replayable:
                    lost.add_note(
                        f"the upload's source ({upload.source_kind}) can be read only once, so it "
                        "was not resent; the server may have stored the file: look for "
                        f"client_reference_id={reference!r} in files.list()"
                    )
                    raise
                stored = yield from find_files_flow(
                    client,
                    reference,
                    since=started,
                    size=upload.file_size,
                    deadline=request.options.deadline,
                )
                if stored:
                    return stored[0]
                delay = backoff.delay(resent, _RNG)
                deadline = request.options.deadline
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
    client: _ClientBase,
    reference: str,
    *,
    since: float,
    size: int | None = None,
    deadline: float | None = None,
) -> Flow[list[File]]:
    """Stored files carrying ``reference``, created after ``since`` (Unix time, minus the skew
    slack) and of ``size`` bytes when given: what an upload whose answer was lost, or that was
    interrupted, may have left on the server."""
    found: list[File] = []
    cursor: str | None = None
    while True:
        request = client.build_request(
            "GET",
            "/files",
            params={"limit": MAX_PAGE_LIMIT, "cursor": cursor},
            operation="files.find_by_reference",
        )
        if deadline is not None:
            request = request.evolve(options=attrs.evolve(request.options, deadline=deadline))
        response = yield from client.call(request)
        page = loads(response.content, GetFilesResponse)
        found.extend(
            stored
            for stored in page.files
            if stored.client_reference_id == reference
            and (size is None or stored.size == size)
            and stored.created_at.timestamp() >= since - RECONCILE_SLACK_S
        )
        cursor = page.next_page_cursor
        if not cursor:
            return found


# --- namespaces ------------------------------------------------------------------------------------


class Files(SyncNamespace):
    """``client.files``: uploaded audio files (the official SDK's names and arguments)."""

    __slots__ = ()

    def upload(
        self,
        file: UploadSource,
        *,
        filename: str | None = None,
        client_reference_id: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> File:
        """Upload a path, bytes, a binary file object or an iterator of bytes, streamed."""
        return self._run(
            upload_flow(
                self._client,
                file,
                filename=filename,
                client_reference_id=client_reference_id,
                progress=progress,
            )
        )

    def list(self, limit: int = 100, cursor: str | None = None) -> GetFilesResponse:
        """One page of files (newest first on the emulator) and ``next_page_cursor``."""
        return self._run(list_files_flow(self._client, limit, cursor))

    def list_all(self, limit: int = 100) -> Iterator[File]:
        """Every file, fetching ``limit`` per page as the iteration gets there."""
        return iterate_pages(self._client.run, files_page_flow(self._client, limit))

    def count(self) -> GetFilesCountResponse:
        """How many files are stored (``total``, ``public_api``, ``playground``)."""
        return self._run(count_files_flow(self._client))

    def get(self, file_id: str) -> File:
        """One file's metadata; NotFoundError if there is none."""
        return self._run(get_file_flow(self._client, file_id))

    def get_or_none(self, file_id: str) -> File | None:
        """One file's metadata, or None if there is none."""
        return self._run(get_file_or_none_flow(self._client, file_id))

    def delete(self, file_id: str) -> None:
        """Delete a file; NotFoundError if there is none."""
        self._run(delete_file_flow(self._client, file_id))

    def delete_if_exists(self, file_id: str) -> bool:
        """Delete a file if it exists; True if it was deleted."""
        return self._run(delete_file_flow(self._client, file_id, missing_ok=True))

    def delete_all(self, *, limit: int = MAX_PAGE_LIMIT) -> int:
        """Delete every file; returns how many were deleted."""
        return self._run(delete_all_files_flow(self._client, limit))


class AsyncFiles(AsyncNamespace):
    """``client.files`` of the async client: the same operations, awaited."""

    __slots__ = ()

    async def upload(
        self,
        file: UploadSource,
        *,
        filename: str | None = None,
        client_reference_id: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> File:
        """Upload a path, bytes, a binary file object or an (async) iterator of bytes."""
        return await self._arun(
            upload_flow(
                self._client,
                file,
                filename=filename,
                client_reference_id=client_reference_id,
                progress=progress,
            )
        )

    async def list(self, limit: int = 100, cursor: str | None = None) -> GetFilesResponse:
        """One page of files and ``next_page_cursor``."""
        return await self._arun(list_files_flow(self._client, limit, cursor))

    def list_all(self, limit: int = 100) -> AsyncIterator[File]:
        """Every file (``async for``), fetching ``limit`` per page."""
        return aiterate_pages(self._client.arun, files_page_flow(self._client, limit))

    async def count(self) -> GetFilesCountResponse:
        """How many files are stored."""
        return await self._arun(count_files_flow(self._client))

    async def get(self, file_id: str) -> File:
        """One file's metadata; NotFoundError if there is none."""
        return await self._arun(get_file_flow(self._client, file_id))

    async def get_or_none(self, file_id: str) -> File | None:
        """One file's metadata, or None."""
        return await self._arun(get_file_or_none_flow(self._client, file_id))

    async def delete(self, file_id: str) -> None:
        """Delete a file; NotFoundError if there is none."""
        await self._arun(delete_file_flow(self._client, file_id))

    async def delete_if_exists(self, file_id: str) -> bool:
        """Delete a file if it exists; True if it was deleted."""
        return await self._arun(delete_file_flow(self._client, file_id, missing_ok=True))

    async def delete_all(self, *, limit: int = MAX_PAGE_LIMIT) -> int:
        """Delete every file; returns how many were deleted."""
        return await self._arun(delete_all_files_flow(self._client, limit))
