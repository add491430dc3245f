"""``client.files``: upload, list, count, get and delete audio files (``/v1/files``).

The operations are flows in :mod:`soniox.flows.files` (streamed, retry-safe uploads that
reconcile a lost answer instead of storing a second copy); :class:`Files` and
:class:`AsyncFiles` only run them, under the official SDK's names and arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from soniox.flows.checks import MAX_PAGE_LIMIT
from soniox.flows.files import (
    count_files_flow,
    delete_all_files_flow,
    delete_file_flow,
    files_page_flow,
    get_file_flow,
    get_file_or_none_flow,
    list_files_flow,
    upload_flow,
)
from soniox.flows.pages import aiterate_pages, iterate_pages
from soniox.flows.uploads import ProgressCallback, UploadSource
from soniox.types import File, GetFilesCountResponse, GetFilesResponse

from ._base import AsyncNamespace, SyncNamespace

__all__ = ["AsyncFiles", "Files"]


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
            ),
            "files.upload",
        )

    def list(self, limit: int = 100, cursor: str | None = None) -> GetFilesResponse:
        """One page of files (newest first on the emulator) and ``next_page_cursor``."""
        return self._run(list_files_flow(self._client, limit, cursor), "files.list")

    def list_all(self, limit: int = 100) -> Iterator[File]:
        """Every file, fetching ``limit`` per page as the iteration gets there."""
        return iterate_pages(self._client.run, files_page_flow(self._client, limit))

    def count(self) -> GetFilesCountResponse:
        """How many files are stored (``total``, ``public_api``, ``playground``)."""
        return self._run(count_files_flow(self._client), "files.count")

    def get(self, file_id: str) -> File:
        """One file's metadata; NotFoundError if there is none."""
        return self._run(get_file_flow(self._client, file_id), "files.get")

    def get_or_none(self, file_id: str) -> File | None:
        """One file's metadata, or None if there is none."""
        return self._run(get_file_or_none_flow(self._client, file_id), "files.get_or_none")

    def delete(self, file_id: str) -> None:
        """Delete a file; NotFoundError if there is none."""
        self._run(delete_file_flow(self._client, file_id), "files.delete")

    def delete_if_exists(self, file_id: str) -> bool:
        """Delete a file if it exists; True if it was deleted."""
        return self._run(
            delete_file_flow(self._client, file_id, missing_ok=True), "files.delete_if_exists"
        )

    def delete_all(self, limit: int = MAX_PAGE_LIMIT) -> int:
        """Delete every file; returns how many were deleted."""
        return self._run(delete_all_files_flow(self._client, limit), "files.delete_all")


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
            ),
            "files.upload",
        )

    async def list(self, limit: int = 100, cursor: str | None = None) -> GetFilesResponse:
        """One page of files and ``next_page_cursor``."""
        return await self._arun(list_files_flow(self._client, limit, cursor), "files.list")

    def list_all(self, limit: int = 100) -> AsyncIterator[File]:
        """Every file (``async for``), fetching ``limit`` per page."""
        return aiterate_pages(self._client.arun, files_page_flow(self._client, limit))

    async def count(self) -> GetFilesCountResponse:
        """How many files are stored."""
        return await self._arun(count_files_flow(self._client), "files.count")

    async def get(self, file_id: str) -> File:
        """One file's metadata; NotFoundError if there is none."""
        return await self._arun(get_file_flow(self._client, file_id), "files.get")

    async def get_or_none(self, file_id: str) -> File | None:
        """One file's metadata, or None."""
        return await self._arun(get_file_or_none_flow(self._client, file_id), "files.get_or_none")

    async def delete(self, file_id: str) -> None:
        """Delete a file; NotFoundError if there is none."""
        await self._arun(delete_file_flow(self._client, file_id), "files.delete")

    async def delete_if_exists(self, file_id: str) -> bool:
        """Delete a file if it exists; True if it was deleted."""
        return await self._arun(
            delete_file_flow(self._client, file_id, missing_ok=True), "files.delete_if_exists"
        )

    async def delete_all(self, limit: int = MAX_PAGE_LIMIT) -> int:
        """Delete every file; returns how many were deleted."""
        return await self._arun(delete_all_files_flow(self._client, limit), "files.delete_all")
