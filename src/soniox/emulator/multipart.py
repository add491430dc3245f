"""Streaming ``multipart/form-data`` upload straight to disk.

The body is fed to python-multipart's push parser chunk by chunk as it comes off the socket;
the ``file`` part is written to a temporary file as it arrives and its size is counted on the
way, so a 1 GiB upload costs a few kilobytes of memory and an oversized one is refused the
moment it crosses the limit (the partial file removed). Small text parts
(``client_reference_id``) are collected in memory under a tight cap.

Choices where the API is silent: the first ``file`` part wins (later ones are ignored); a
``file`` part without a filename is stored as ``file``; other text parts are accepted and
ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .errors import ApiFailure, ValidationIssue

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = [
    "DEFAULT_FILENAME",
    "DRAIN_LIMIT_BYTES",
    "UploadedPart",
    "discard_body",
    "receive_upload",
]

DEFAULT_FILENAME = "file"
MAX_FIELD_BYTES = 64 * 1024
"""Largest accepted text part (the only meaningful one, ``client_reference_id``, is <= 256)."""
MAX_FIELDS = 32
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
"""After refusing an upload, read and discard at most this much more of the body, so that a
client still sending gets the error response instead of a connection reset."""
DRAIN_TIMEOUT_S = 2.0


@attrs.frozen(kw_only=True)
class UploadedPart:
    """The stored ``file`` part and the text fields that came with it."""

    filename: str
    size: int
    fields: dict[str, str]


class _TooLarge(Exception):
    pass


class _FieldTooLarge(Exception):
    pass


def _decode_header(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _UploadParser:
    """python-multipart callbacks that route the ``file`` part to disk and fields to memory."""

    def __init__(self, destination: Path, max_bytes: int) -> None:
        self.destination = destination
        self.max_bytes = max_bytes
        self.file: IO[bytes] | None = None
        self.file_seen = False
        self.filename: str | None = None
        self.size = 0
        self.fields: dict[str, str] = {}
        self.finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._target: str | None = None  # "file", "field" or None (ignored part)
        self._field_name = ""
        self._field_data = bytearray()
        self._field_count = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}
        self._target = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self._header_field).decode("latin-1").strip().lower()
        self._headers[name] = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"")
        # Round-trip through latin-1 so UTF-8 filenames survive the parser's latin-1 handling.
        _kind, params = parse_options_header(disposition.decode("latin-1"))
        name = _decode_header(params.get(b"name", b""))
        if name == "file" and not self.file_seen:
            self.file_seen = True
            raw_filename = params.get(b"filename")
            filename = _decode_header(raw_filename) if raw_filename is not None else ""
            self.filename = filename or DEFAULT_FILENAME
            self.file = self.destination.open("wb")
            self._target = "file"
        elif name and name != "file":
            self._field_count += 1
            if self._field_count > MAX_FIELDS:
                raise _FieldTooLarge(f"more than {MAX_FIELDS} form fields")
            self._target = "field"
            self._field_name = name
            self._field_data.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "file":
            assert self.file is not None
            length = end - start
            if self.size + length > self.max_bytes:
                raise _TooLarge
            self.file.write(memoryview(data)[start:end])
            self.size += length
        elif self._target == "field":
            if len(self._field_data) + (end - start) > MAX_FIELD_BYTES:
                raise _FieldTooLarge(f"form field {self._field_name!r} is too large")
            self._field_data += data[start:end]

    def on_part_end(self) -> None:
        if self._target == "file" and self.file is not None:
            self.file.close()
        elif self._target == "field":
            self.fields[self._field_name] = _decode_header(bytes(self._field_data))
        self._target = None

    def on_end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()


def _boundary(content_type: str | None) -> bytes | None:
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        return None
    boundary = params.get(b"boundary")
    return boundary or None


def _invalid(message: str | None = None, *, missing_file: bool = False) -> ApiFailure:
    issues = [ValidationIssue("missing", "file.file", "Field required")] if missing_file else []
    return ApiFailure(400, "invalid_request", message, validation_errors=issues)


async def discard_body(chunks: AsyncIterator[bytes], limit: int = DRAIN_LIMIT_BYTES) -> None:
    """Read and drop up to ``limit`` bytes of what is left of a body, for a bounded time."""

    async def drain() -> None:
        seen = 0
        async for chunk in chunks:
            seen += len(chunk)
            if seen > limit:
                return

    with contextlib.suppress(Exception):
        await asyncio.wait_for(drain(), DRAIN_TIMEOUT_S)


async def receive_upload(
    content_type: str | None,
    chunks: AsyncIterator[bytes],
    destination: Path,
    *,
    max_bytes: int,
) -> UploadedPart:
    """Parse a multipart body from ``chunks``, writing the ``file`` part to ``destination``.

    Raises :class:`ApiFailure` (400 ``invalid_request``) for a body that is not multipart, is
    malformed or truncated, lacks the ``file`` part, or whose file exceeds ``max_bytes``; in
    every failure ``destination`` is removed.
    """
    boundary = _boundary(content_type)
    if boundary is None:
        await discard_body(chunks)
        raise _invalid(missing_file=True)
    state = _UploadParser(destination, max_bytes)
    try:
        parser = MultipartParser(boundary, state.callbacks())
        try:
            async for chunk in chunks:
                parser.write(chunk)
            parser.finalize()
        except _TooLarge:
            await discard_body(chunks)
            raise _invalid(f"Exceeded maximum file size (maximum is {max_bytes} bytes).") from None
        except _FieldTooLarge:
            await discard_body(chunks)
            raise _invalid() from None
        except MultipartParseError:
            await discard_body(chunks)
            raise _invalid() from None
        if not state.finished:
            raise _invalid("Invalid request. The multipart body ended before its final boundary.")
        if not state.file_seen or state.filename is None:
            raise _invalid(missing_file=True)
    except BaseException:
        state.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(destination)
        raise
    state.close()
    return UploadedPart(filename=state.filename, size=state.size, fields=state.fields)
