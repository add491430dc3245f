"""``client.files``: upload from a path, bytes or a file object; list, count, get, delete."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from compat_support import CompatEmulator, deviation

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxNotFoundError
from soniox.types import File, GetFilesResponse


# Upload ---------------------------------------------------------------------------------------
@deviation("a reference is generated so an upload whose answer is lost is found, not resent")
def test_an_upload_without_reference_has_none(client: SonioxClient, wav_path: Path) -> None:
    """Without ``client_reference_id`` the stored file has none."""
    assert client.files.upload(wav_path).client_reference_id is None


def test_upload_from_a_path(client: SonioxClient, emu: CompatEmulator, wav_path: Path) -> None:
    """A Path uploads under its own name; the File returned matches what the server stored."""
    uploaded = client.files.upload(wav_path)
    assert isinstance(uploaded, File)
    assert uploaded.filename == "meeting.wav"
    assert uploaded.size == wav_path.stat().st_size
    assert isinstance(uploaded.created_at, datetime)
    stored = emu.file(uploaded.id)
    assert stored is not None
    assert (stored["filename"], stored["size"]) == ("meeting.wav", uploaded.size)


def test_upload_from_a_string_path(client: SonioxClient, wav_path: Path) -> None:
    """A ``str`` path uploads like a Path."""
    uploaded = client.files.upload(str(wav_path))
    assert (uploaded.filename, uploaded.size) == ("meeting.wav", wav_path.stat().st_size)


def test_upload_bytes_with_filename_and_reference(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """Bytes upload under ``filename=`` and carry ``client_reference_id``."""
    uploaded = client.files.upload(wav, filename="call.wav", client_reference_id="order-17")
    assert (uploaded.filename, uploaded.size, uploaded.client_reference_id) == (
        "call.wav",
        len(wav),
        "order-17",
    )
    stored = emu.file(uploaded.id)
    assert stored is not None
    assert stored["client_reference_id"] == "order-17"


def test_upload_bytes_without_filename(client: SonioxClient, wav: bytes) -> None:
    """Bytes without ``filename=`` upload as ``upload.bin``."""
    uploaded = client.files.upload(wav)
    assert (uploaded.filename, uploaded.size) == ("upload.bin", len(wav))


def test_upload_from_a_file_object(client: SonioxClient, wav_path: Path) -> None:
    """An open binary file uploads; ``filename=`` names it, and the caller's file stays open."""
    with wav_path.open("rb") as handle:
        uploaded = client.files.upload(handle, filename="from-handle.wav")
        assert not handle.closed
    assert (uploaded.filename, uploaded.size) == ("from-handle.wav", wav_path.stat().st_size)


def test_upload_from_bytesio(client: SonioxClient, wav: bytes) -> None:
    """An in-memory ``io.BytesIO`` uploads with the given filename."""
    uploaded = client.files.upload(io.BytesIO(wav), filename="memory.wav")
    assert (uploaded.filename, uploaded.size) == ("memory.wav", len(wav))


# List, count, get -------------------------------------------------------------------------------
def test_list_pages_with_limit_and_cursor(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``list(limit=, cursor=)`` pages through every file exactly once."""
    ids = {emu.upload(wav)["id"] for _ in range(3)}
    first = client.files.list(limit=2)
    assert isinstance(first, GetFilesResponse)
    assert len(first.files) == 2
    assert first.next_page_cursor
    second = client.files.list(limit=2, cursor=first.next_page_cursor)
    assert len(second.files) == 1
    assert second.next_page_cursor is None
    assert {f.id for f in first.files + second.files} == ids


def test_list_defaults_to_one_page(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``list()`` with no arguments returns the stored files and no cursor when they fit."""
    emu.upload(wav, filename="only.wav")
    page = client.files.list()
    assert [f.filename for f in page.files] == ["only.wav"]
    assert page.next_page_cursor is None


def test_list_all_iterates_every_page(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``list_all(limit=2)`` yields all five files across three pages."""
    ids = {emu.upload(wav)["id"] for _ in range(5)}
    listed = list(client.files.list_all(limit=2))
    assert all(isinstance(f, File) for f in listed)
    assert sorted(f.id for f in listed) == sorted(ids)
    assert len(emu.journal(path="/v1/files", method="GET")) == 3


def test_count(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``count()`` reports the total and the public-API share."""
    assert client.files.count().total == 0
    emu.upload(wav)
    emu.upload(wav)
    counts = client.files.count()
    assert (counts.total, counts.public_api, counts.playground) == (2, 2, 0)


def test_get_round_trips_the_upload(client: SonioxClient, wav: bytes) -> None:
    """``get(id)`` returns the same metadata the upload returned."""
    uploaded = client.files.upload(wav, filename="a.wav", client_reference_id="ref")
    fetched = client.files.get(uploaded.id)
    assert fetched == uploaded


def test_get_or_none(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``get_or_none`` returns the file, or None when it does not exist."""
    file_id = emu.upload(wav)["id"]
    found = client.files.get_or_none(file_id)
    assert found is not None
    assert found.id == file_id
    assert client.files.get_or_none(str(uuid.uuid4())) is None


def test_get_missing_raises_not_found(client: SonioxClient) -> None:
    """``get`` of an unknown id (even a malformed one) raises SonioxNotFoundError."""
    with pytest.raises(SonioxNotFoundError):
        client.files.get(str(uuid.uuid4()))
    with pytest.raises(SonioxNotFoundError):
        client.files.get("non-existent-file")


# Delete -----------------------------------------------------------------------------------------
def test_delete_removes_the_file(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete`` returns None and the file is gone from the server."""
    keep = emu.upload(wav)["id"]
    gone = emu.upload(wav)["id"]
    assert client.files.delete(gone) is None
    assert emu.file_ids() == {keep}
    assert client.files.get_or_none(gone) is None


def test_delete_missing_raises_not_found(client: SonioxClient) -> None:
    """``delete`` of an unknown id raises SonioxNotFoundError."""
    with pytest.raises(SonioxNotFoundError):
        client.files.delete(str(uuid.uuid4()))


def test_delete_if_exists(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete_if_exists`` deletes a file and ignores a missing one."""
    file_id = emu.upload(wav)["id"]
    client.files.delete_if_exists(file_id)
    assert emu.file_ids() == set()
    client.files.delete_if_exists(file_id)  # already gone: no error


def test_delete_all(client: SonioxClient, emu: CompatEmulator, wav: bytes) -> None:
    """``delete_all()`` removes every file."""
    for _ in range(3):
        emu.upload(wav)
    client.files.delete_all()
    assert emu.file_ids() == set()
    assert client.files.count().total == 0


def test_delete_all_with_positional_limit(
    client: SonioxClient, emu: CompatEmulator, wav: bytes
) -> None:
    """``delete_all(2)`` takes the page size positionally and still removes all five files."""
    for _ in range(5):
        emu.upload(wav)
    client.files.delete_all(2)
    assert emu.file_ids() == set()


# Async ------------------------------------------------------------------------------------------
def test_async_upload_sources(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes, wav_path: Path
) -> None:
    """Async upload from a path, bytes with filename/reference, and a file object."""

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            by_path = await client.files.upload(wav_path)
            by_bytes = await client.files.upload(wav, filename="b.wav", client_reference_id="r-1")
            with wav_path.open("rb") as handle:
                by_handle = await client.files.upload(handle, filename="h.wav")
            assert isinstance(by_path, File)
            assert by_path.filename == "meeting.wav"
            assert (by_bytes.filename, by_bytes.client_reference_id) == ("b.wav", "r-1")
            assert by_handle.filename == "h.wav"
            assert {by_path.size, by_bytes.size, by_handle.size} == {len(wav)}
            assert emu.file_ids() == {by_path.id, by_bytes.id, by_handle.id}

    asyncio.run(main())


def test_async_list_and_list_all(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """Async ``list(limit=, cursor=)`` pages; ``async for`` over ``list_all`` yields everything."""
    ids = {emu.upload(wav)["id"] for _ in range(3)}

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            first = await client.files.list(limit=2)
            assert len(first.files) == 2
            assert first.next_page_cursor
            second = await client.files.list(limit=2, cursor=first.next_page_cursor)
            assert {f.id for f in first.files + second.files} == ids
            listed = [f.id async for f in client.files.list_all(limit=1)]
            assert sorted(listed) == sorted(ids)

    asyncio.run(main())


def test_async_count_get_and_get_or_none(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes
) -> None:
    """Async ``count``, ``get`` and ``get_or_none``."""
    file_id = emu.upload(wav, filename="x.wav")["id"]

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            assert (await client.files.count()).total == 1
            fetched = await client.files.get(file_id)
            assert (fetched.id, fetched.filename) == (file_id, "x.wav")
            assert await client.files.get_or_none(str(uuid.uuid4())) is None
            with pytest.raises(SonioxNotFoundError):
                await client.files.get(str(uuid.uuid4()))

    asyncio.run(main())


def test_async_deletes(conn: dict[str, str], emu: CompatEmulator, wav: bytes) -> None:
    """Async ``delete``, ``delete_if_exists`` and ``delete_all(limit)``."""
    first = emu.upload(wav)["id"]
    for _ in range(4):
        emu.upload(wav)

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            await client.files.delete(first)
            assert first not in emu.file_ids()
            with pytest.raises(SonioxNotFoundError):
                await client.files.delete(first)
            await client.files.delete_if_exists(first)
            await client.files.delete_all(2)
            assert emu.file_ids() == set()

    asyncio.run(main())
