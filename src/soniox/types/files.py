"""Uploaded files: ``/v1/files`` requests and answers."""

from __future__ import annotations

import attrs

from .common import ModelMethods, UtcDateTime, omit_none

__all__ = [
    "File",
    "GetFilesPayload",
    "GetFilesResponse",
    "GetFilesCountResponse",
    "UploadFilePayload",
]


@attrs.define(frozen=True, kw_only=True)
class File(ModelMethods):
    """Metadata of an uploaded audio file (``POST /v1/files``, ``GET /v1/files/{id}``)."""

    id: str
    filename: str
    size: int
    created_at: UtcDateTime
    client_reference_id: str | None = None


@omit_none
@attrs.define(frozen=True, kw_only=True)
class GetFilesPayload(ModelMethods):
    """Query of ``GET /v1/files``; unset fields are not sent (the server defaults ``limit``)."""

    limit: int | None = None
    cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetFilesResponse(ModelMethods):
    """One page of files; ``next_page_cursor`` is None on the last page."""

    files: list[File]
    next_page_cursor: str | None = None


@attrs.define(frozen=True, kw_only=True)
class GetFilesCountResponse(ModelMethods):
    """File counts, split by where they were uploaded from."""

    total: int
    public_api: int
    playground: int


@omit_none
@attrs.define(frozen=True, kw_only=True)
class UploadFilePayload(ModelMethods):
    """Form fields sent next to the ``file`` part of a multipart upload."""

    client_reference_id: str | None = None
