"""Upload bodies: any audio source as a streamed ``multipart/form-data`` request.

A source (a path, bytes, a binary file object, or an iterator of byte chunks) becomes a
:class:`MultipartUpload`: the form's small head (the optional ``client_reference_id`` part, the
``file`` part's headers), the source's chunks as they are read, and the closing boundary. Memory
stays flat whatever the size: one chunk (:data:`CHUNK_SIZE`) is in flight at a time.

Whether a retry may resend the body follows the source:

=====================  ===========  =====================================================
source                 replayable   how an attempt starts over
=====================  ===========  =====================================================
path                   yes          the file is opened again
bytes / bytearray      yes          the buffer is read again from the start
seekable file object   yes          seek back to where it was when the upload began
non-seekable stream    no           sent once, never retried
iterator of bytes      no           sent once, never retried
=====================  ===========  =====================================================

When the size is known the request carries ``Content-Length`` (so the transport keeps it on
HTTP/1.1 with no chunked framing and the server can refuse an oversized file at once), and a file
over the API's 1 GiB limit is refused here, before anything is sent.
"""

from __future__ import annotations

import io
import mimetypes
import os
import stat
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import IO, Any, Final, TypeAlias, cast

import attrs

from soniox.errors import ClientValidationError, SonioxError, SourceNotFoundError
from soniox.transport.request import StreamBody

from .checks import check_optional_str

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_FILENAME",
    "MAX_UPLOAD_BYTES",
    "MultipartUpload",
    "ProgressCallback",
    "SourceError",
    "UploadSource",
    "prepare_upload",
]

MAX_UPLOAD_BYTES: Final = 1_073_741_824
"""The API's largest accepted file (1 GiB); larger known sizes fail before sending."""
CHUNK_SIZE: Final = 64 * 1024
"""Bytes read from the source per chunk (see docs/performance.md, "Upload: 1 GiB from disk")."""
DEFAULT_FILENAME: Final = "upload.bin"
"""The file name sent when the source has none (bytes, iterators), as the official SDK does."""
MAX_REFERENCE_LENGTH: Final = 256

UploadSource: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]
)
"""What :func:`prepare_upload` accepts (an async iterable only with the async client)."""
ProgressCallback: TypeAlias = Callable[[int, "int | None"], None]
"""Called with (file bytes sent so far, file size or None when unknown)."""

_Chunks: TypeAlias = "Iterable[bytes] | AsyncIterable[bytes]"


class SourceError(SonioxError):
    """Reading the upload source (or the progress callback) failed; ``original`` is what it raised.

    Raised inside the request body so that the transport passes it through unchanged instead of
    reporting a lost connection; the upload flow re-raises ``original`` itself.
    """

    def __init__(self, original: BaseException) -> None:
        self.original = original
        super().__init__(f"the upload source failed: {type(original).__name__}: {original}")


# --- progress ------------------------------------------------------------------------------------


class _Meter:
    """Counts file bytes per attempt and reports a high-water mark, so a progress bar never goes
    backwards when a retry starts the body over."""

    __slots__ = ("_callback", "_reported", "_sent", "_started", "total")

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self._reported = 0
        self._sent = 0
        self._started = False

    def start(self) -> None:
        self._sent = 0
        if not self._started:
            self._started = True
            self._call(0)

    def add(self, count: int) -> None:
        self._sent += count
        if self._sent > self._reported:
            self._reported = self._sent
            self._call(self._sent)

    def _call(self, sent: int) -> None:
        callback = self._callback
        if callback is None:
            return
        try:
            callback(sent, self.total)
        except Exception as exc:
            raise SourceError(exc) from exc


# --- sources ---------------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _Source:
    """A normalised source: a name, a size when known, and how to get its chunks per attempt."""

    filename: str
    length: int | None
    replayable: bool
    chunks: Callable[[], _Chunks]
    kind: str


def _as_bytes(data: object, complaint: str) -> bytes:
    """A chunk as bytes; anything else (``str`` from a text-mode file) is the caller's error."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    if isinstance(data, memoryview):
        return cast("memoryview[int]", data).tobytes()
    raise SourceError(TypeError(complaint.format(type(data).__name__)))


def _checked_read(
    read: Callable[[int], Any], expected: int | None, chunk_size: int
) -> Iterator[bytes]:
    """``read`` until EOF (or ``expected`` bytes, the size announced in Content-Length)."""
    remaining = expected
    while remaining is None or remaining > 0:
        want = chunk_size if remaining is None else min(chunk_size, remaining)
        try:
            data = read(want)
        except Exception as exc:
            raise SourceError(exc) from exc
        if not data:
            break
        chunk = _as_bytes(data, "the file object returned {}, not bytes: open it in binary mode")
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
    if remaining:
        raise SourceError(
            OSError(f"the file shrank while it was being uploaded ({remaining} bytes missing)")
        )


def _not_found(path: str) -> SourceNotFoundError:
    return SourceNotFoundError(f"no such file to upload: {path!r}", filename=path)


def _from_path(path: str, chunk_size: int) -> _Source:
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(path) from None
    if stat.S_ISDIR(info.st_mode):
        raise ClientValidationError(
            f"{path!r} is a directory: pass the path of an audio file", field="file"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ClientValidationError(f"not a regular file: {path!r}", field="file")
    size = info.st_size

    def chunks() -> Iterator[bytes]:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed in finally (generator)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise SourceError(_not_found(path)) from exc  # removed since prepare_upload()
        except OSError as exc:
            raise SourceError(exc) from exc
        with handle:
            yield from _checked_read(handle.read, size, chunk_size)

    return _Source(os.path.basename(path) or DEFAULT_FILENAME, size, True, chunks, "path")


def _from_buffer(data: bytes | bytearray | memoryview[int], chunk_size: int) -> _Source:
    view: memoryview[int] = memoryview(data).cast("B")
    size = len(view)

    def chunks() -> Iterator[bytes]:
        for start in range(0, size, chunk_size):
            yield bytes(view[start : start + chunk_size])

    return _Source(DEFAULT_FILENAME, size, True, chunks, "bytes")


def _file_name(handle: object) -> str:
    name = getattr(handle, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name) or DEFAULT_FILENAME
    return DEFAULT_FILENAME


def _seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _from_file(handle: IO[bytes], chunk_size: int) -> _Source:
    if isinstance(handle, io.TextIOBase):
        raise ClientValidationError(
            "the file object is open in text mode: open it in binary mode ('rb')", field="file"
        )
    read = handle.read
    if _seekable(handle):
        start = handle.tell()
        size = handle.seek(0, io.SEEK_END) - start
        handle.seek(start)

        def chunks() -> Iterator[bytes]:
            try:
                handle.seek(start)
            except Exception as exc:
                raise SourceError(exc) from exc
            yield from _checked_read(read, size, chunk_size)

        return _Source(_file_name(handle), size, True, chunks, "seekable file")
    stream = _checked_read(read, None, chunk_size)
    return _Source(_file_name(handle), None, False, lambda: stream, "stream")


def _guarded(chunks: Iterable[object]) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise SourceError(exc) from exc
        data = _as_bytes(chunk, "the upload iterator yielded {}, not bytes")
        if data:
            yield data


async def _aguarded(chunks: AsyncIterable[object]) -> AsyncIterator[bytes]:
    iterator = aiter(chunks)
    while True:
        try:
            chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except Exception as exc:
            raise SourceError(exc) from exc
        data = _as_bytes(chunk, "the upload iterator yielded {}, not bytes")
        if data:
            yield data


def _resolve(source: object, chunk_size: int) -> _Source:
    if isinstance(source, str | os.PathLike):
        return _from_path(os.fspath(cast("str | os.PathLike[str]", source)), chunk_size)
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_buffer(cast("bytes | bytearray | memoryview[int]", source), chunk_size)
    if hasattr(source, "read"):
        return _from_file(cast("IO[bytes]", source), chunk_size)
    if isinstance(source, AsyncIterable):
        stream = _aguarded(cast("AsyncIterable[object]", source))
        return _Source(DEFAULT_FILENAME, None, False, lambda: stream, "async iterator")
    if isinstance(source, Iterable):
        stream = _guarded(cast("Iterable[object]", source))
        return _Source(DEFAULT_FILENAME, None, False, lambda: stream, "iterator")
    raise ClientValidationError(
        f"cannot upload a {type(source).__name__}: pass a path, bytes, a binary file object "
        "or an iterator of bytes",
        field="file",
    )


# --- the multipart body ----------------------------------------------------------------------------


def _quote(value: str) -> str:
    """A form-data parameter value as browsers send it (WHATWG: ``"``, CR, LF percent-encoded)."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@attrs.frozen(repr=False)
class MultipartUpload:
    """A ready-to-send upload: ``content_type`` and :meth:`body` for ``POST /v1/files``.

    ``length`` is the whole body's size (None when the source's size is unknown); ``file_size``
    the source's. :meth:`close` ends any chunk iterator an interrupted attempt left open (a path's
    file handle is closed with it).
    """

    filename: str
    file_size: int | None
    replayable: bool
    content_type: str
    head: bytes
    tail: bytes
    source_kind: str
    _chunks: Callable[[], _Chunks] = attrs.field(alias="_chunks")
    _meter: _Meter = attrs.field(alias="_meter")
    _open: list[Any] = attrs.field(factory=list[Any], alias="_open")

    @property
    def length(self) -> int | None:
        if self.file_size is None:
            return None
        return len(self.head) + self.file_size + len(self.tail)

    def body(self) -> StreamBody:
        """The request body; each attempt of a replayable one starts from the beginning."""
        if self.replayable:
            return StreamBody.from_factory(self._attempt, self.length)
        return StreamBody.one_shot(self._attempt(), self.length)

    def _attempt(self) -> _Chunks:
        self._meter.start()
        chunks = self._chunks()
        if isinstance(chunks, AsyncIterable):
            stream: Any = self._aframe(chunks)
        else:
            stream = self._frame(chunks)
        self._open.append(stream)
        return cast("_Chunks", stream)

    def _frame(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        meter = self._meter
        yield self.head
        for chunk in chunks:
            yield chunk
            meter.add(len(chunk))
        yield self.tail

    async def _aframe(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        meter = self._meter
        yield self.head
        async for chunk in chunks:
            yield chunk
            meter.add(len(chunk))
        yield self.tail

    def close(self) -> None:
        """Close chunk iterators an attempt did not finish (sync ones; async ones close on GC)."""
        while self._open:
            stream = self._open.pop()
            if isinstance(stream, Generator):
                cast("Generator[bytes, None, None]", stream).close()

    def __repr__(self) -> str:
        kind = "replayable" if self.replayable else "one-shot"
        return (
            f"MultipartUpload(filename={self.filename!r}, file_size={self.file_size}, "
            f"source={self.source_kind}, {kind})"
        )


def prepare_upload(
    source: UploadSource,
    *,
    filename: str | None = None,
    client_reference_id: str | None = None,
    progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
    fields: Mapping[str, str] | None = None,
    field_name: str = "file",
) -> MultipartUpload:
    """Validate ``source`` and frame it as the ``POST /v1/files`` form; nothing is read yet.

    ``fields`` are further text parts sent before the file (``client_reference_id`` is one);
    ``field_name`` names the file part (``file`` for the API). Raises
    :class:`~soniox.errors.ClientValidationError` for an unusable source (a directory, say), a
    file over :data:`MAX_UPLOAD_BYTES`, or a ``client_reference_id`` over 256 characters;
    :class:`~soniox.errors.SourceNotFoundError` (also a :class:`FileNotFoundError`) for a
    missing path.
    """
    if check_optional_str(filename, "filename") == "":
        raise ClientValidationError("filename must be a non-empty string", field="filename")
    check_optional_str(client_reference_id, "client_reference_id", MAX_REFERENCE_LENGTH)
    if chunk_size < 1:
        raise ClientValidationError("chunk_size must be >= 1", field="chunk_size")
    resolved = _resolve(source, chunk_size)
    size = resolved.length
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ClientValidationError(
            f"the file is {size:,} bytes; the API accepts at most {MAX_UPLOAD_BYTES:,} bytes "
            "(1 GiB) per upload",
            field="file",
        )
    name = filename if filename is not None else resolved.filename
    boundary = f"soniox-{uuid.uuid4().hex}"
    part_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    text_parts = dict(fields or {})
    if client_reference_id is not None:
        text_parts["client_reference_id"] = client_reference_id
    head = b"".join(
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(key)}"\r\n\r\n'
            f"{value}\r\n"
        ).encode()
        for key, value in text_parts.items()
    )
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{_quote(field_name)}"; '
        f'filename="{_quote(name)}"\r\n'
        f"Content-Type: {part_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return MultipartUpload(
        filename=name,
        file_size=size,
        replayable=resolved.replayable,
        content_type=f"multipart/form-data; boundary={boundary}",
        head=head,
        tail=tail,
        source_kind=resolved.kind,
        _chunks=resolved.chunks,
        _meter=_Meter(progress, size),
    )
