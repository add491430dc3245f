"""Upload bodies (sans-IO): multipart framing, sources, replay, size limit, progress."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import errno
import io
import os
import pickle
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.errors import ClientValidationError, SonioxError, SourceNotFoundError
from soniox.flows.uploads import (
    DEFAULT_FILENAME,
    MAX_UPLOAD_BYTES,
    MultipartUpload,
    SourceError,
    prepare_upload,
)
from soniox.transport.request import StreamBody


def send(upload: MultipartUpload) -> bytes:
    """Everything one attempt would put on the wire."""
    chunks = upload.body().open()
    assert isinstance(chunks, Iterable)
    return b"".join(chunks)


def asend(upload: MultipartUpload) -> bytes:
    async def main() -> bytes:
        chunks = upload.body().open()
        assert not isinstance(chunks, Iterable)
        return b"".join([c async for c in chunks])

    return asyncio.run(main())


def parse(upload: MultipartUpload, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The form's parts: name -> (filename, content), read back by the stdlib email parser."""
    head = f"Content-Type: {upload.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), bytes(payload))
    return parts


def test_bytes_become_a_file_part_named_upload_bin() -> None:
    """Raw bytes are sent as the ``file`` part with the official SDK's fallback name."""
    upload = prepare_upload(b"RIFFdata")
    body = send(upload)
    assert parse(upload, body)["file"] == (DEFAULT_FILENAME, b"RIFFdata")
    assert upload.length == len(body)


def test_client_reference_id_is_a_text_part() -> None:
    """client_reference_id travels as its own text part before the file."""
    upload = prepare_upload(b"x", client_reference_id="job-7", filename="a.wav")
    parts = parse(upload, send(upload))
    assert parts["client_reference_id"] == (None, b"job-7")
    assert parts["file"] == ("a.wav", b"x")


def test_a_path_is_named_after_the_file_and_reopened_per_attempt(tmp_path: Path) -> None:
    """A path source is replayable: every attempt re-reads the whole file."""
    path = tmp_path / "speech.wav"
    path.write_bytes(os.urandom(200_000))
    upload = prepare_upload(path, chunk_size=4096)
    assert upload.replayable
    assert upload.file_size == 200_000
    first, second = send(upload), send(upload)
    assert first == second
    assert parse(upload, first)["file"] == ("speech.wav", path.read_bytes())
    assert upload.length == len(first)


def test_a_seekable_file_rewinds_to_where_it_started() -> None:
    """A seekable file object replays from its position when the upload began."""
    handle = io.BytesIO(b"HEADERpayload")
    handle.seek(6)
    upload = prepare_upload(handle)
    assert upload.file_size == len(b"payload")
    assert parse(upload, send(upload))["file"][1] == b"payload"
    assert parse(upload, send(upload))["file"][1] == b"payload"


def test_a_named_file_object_sends_its_base_name(tmp_path: Path) -> None:
    """An open file's .name gives the file name, without the directories."""
    path = tmp_path / "dir" / "call.mp3"
    path.parent.mkdir()
    path.write_bytes(b"ID3")
    with path.open("rb") as handle:
        upload = prepare_upload(handle)
        assert upload.filename == "call.mp3"
        assert parse(upload, send(upload))["file"] == ("call.mp3", b"ID3")


def test_an_iterator_is_one_shot_with_unknown_length() -> None:
    """An iterator is sent once, chunked (no Content-Length), and can never be replayed."""
    upload = prepare_upload(iter([b"ab", b"", bytearray(b"cd")]))  # type: ignore[arg-type]
    body = upload.body()
    assert not upload.replayable
    assert not body.replayable
    assert body.length is None
    chunks = body.open()
    assert isinstance(chunks, Iterable)
    assert parse(upload, b"".join(chunks))["file"] == (DEFAULT_FILENAME, b"abcd")
    with pytest.raises(ClientValidationError):
        body.open()


class _Pipe(io.RawIOBase):
    """A readable stream that cannot seek (like a pipe or a socket file)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_a_non_seekable_stream_is_one_shot() -> None:
    """A stream that cannot seek back is sent once."""
    upload = prepare_upload(_Pipe(b"stream"))
    assert not upload.replayable
    assert upload.length is None
    assert isinstance(upload.body(), StreamBody)


def test_an_async_iterator_is_sent_by_the_async_transport() -> None:
    """An async iterable is accepted (async client only) and framed the same way."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"as"
        yield b"ync"

    upload = prepare_upload(chunks())
    assert parse(upload, asend(upload))["file"][1] == b"async"


def test_a_file_over_one_gib_is_refused_before_sending(tmp_path: Path) -> None:
    """A known size over 1 GiB fails client-side, naming the field."""
    path = tmp_path / "big.wav"
    with path.open("wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ClientValidationError) as caught:
        prepare_upload(path)
    assert caught.value.field == "file"
    assert "1,073,741,824" in str(caught.value)


def test_exactly_one_gib_is_accepted(tmp_path: Path) -> None:
    """The limit itself is allowed."""
    path = tmp_path / "limit.wav"
    with path.open("wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES)
    assert prepare_upload(path).file_size == MAX_UPLOAD_BYTES


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"client_reference_id": "x" * 257}, "client_reference_id"),
        ({"filename": ""}, "filename"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    """Arguments the API would refuse fail before anything is read."""
    with pytest.raises(ClientValidationError) as caught:
        prepare_upload(b"x", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    """A file opened in text mode is a clear error, not a garbled upload."""
    path = tmp_path / "a.txt"
    path.write_text("hello")
    with path.open("r") as handle, pytest.raises(ClientValidationError, match="binary mode"):
        prepare_upload(handle)  # type: ignore[arg-type]


def test_an_unsupported_source_is_refused() -> None:
    """Something that is neither path, bytes, file nor iterator fails clearly."""
    with pytest.raises(ClientValidationError, match="cannot upload a int"):
        prepare_upload(42)  # type: ignore[arg-type]


def test_a_missing_path_raises_a_typed_file_not_found(tmp_path: Path) -> None:
    """A path that does not exist raises SourceNotFoundError: in the SDK's tree (a
    ClientValidationError naming ``file``) and a FileNotFoundError with errno and filename."""
    path = tmp_path / "nope.wav"
    with pytest.raises(FileNotFoundError) as caught:
        prepare_upload(path)
    error = caught.value
    assert isinstance(error, SourceNotFoundError)
    assert isinstance(error, ClientValidationError)
    assert isinstance(error, SonioxError)
    assert (error.errno, error.filename, error.field) == (errno.ENOENT, str(path), "file")
    assert "nope.wav" in str(error)
    assert error.__cause__ is None


def test_the_missing_file_error_survives_pickling(tmp_path: Path) -> None:
    """It crosses process boundaries (transcribe_many in a pool, task queues) intact."""
    with pytest.raises(SourceNotFoundError) as caught:
        prepare_upload(tmp_path / "nope.wav")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is SourceNotFoundError
    assert (copy.errno, copy.filename, copy.field, str(copy)) == (
        errno.ENOENT,
        str(tmp_path / "nope.wav"),
        "file",
        str(caught.value),
    )


def test_a_directory_is_refused_clearly(tmp_path: Path) -> None:
    """A directory is not uploadable: a ClientValidationError saying so."""
    with pytest.raises(ClientValidationError, match="is a directory") as caught:
        prepare_upload(tmp_path)
    assert caught.value.field == "file"
    assert not isinstance(caught.value, FileNotFoundError)


def test_a_file_removed_after_preparing_is_the_same_typed_error(tmp_path: Path) -> None:
    """Deleted between prepare_upload() and sending: the body raises SourceError wrapping
    SourceNotFoundError (the upload flow re-raises it)."""
    path = tmp_path / "gone.wav"
    path.write_bytes(b"x" * 10)
    upload = prepare_upload(path)
    path.unlink()
    with pytest.raises(SourceError) as caught:
        send(upload)
    assert isinstance(caught.value.original, SourceNotFoundError)


def test_a_file_that_shrinks_mid_upload_is_a_source_error(tmp_path: Path) -> None:
    """The size announced in Content-Length is checked against what is read."""
    path = tmp_path / "a.wav"
    path.write_bytes(b"x" * 1000)
    upload = prepare_upload(path)
    path.write_bytes(b"x" * 10)
    with pytest.raises(SourceError, match="shrank"):
        send(upload)


def test_an_iterator_yielding_text_is_a_source_error() -> None:
    """str chunks are refused with the reason."""
    upload = prepare_upload(iter(["text"]))  # type: ignore[list-item]
    with pytest.raises(SourceError, match="yielded str"):
        send(upload)


def test_an_iterator_failure_is_wrapped_with_the_original() -> None:
    """An exception from the user's iterator is carried as ``original``."""

    def chunks() -> Iterator[bytes]:
        yield b"a"
        raise ValueError("disk on fire")

    upload = prepare_upload(chunks())
    with pytest.raises(SourceError) as caught:
        send(upload)
    assert isinstance(caught.value.original, ValueError)


def test_progress_is_monotonic_and_ends_at_the_total() -> None:
    """progress hears (0, total) first, then growing counts up to exactly the total."""
    seen: list[tuple[int, int | None]] = []
    upload = prepare_upload(
        b"x" * 10_000, chunk_size=3000, progress=lambda s, t: seen.append((s, t))
    )
    send(upload)
    assert seen[0] == (0, 10_000)
    assert [s for s, _ in seen] == sorted({s for s, _ in seen})
    assert seen[-1] == (10_000, 10_000)


def test_progress_does_not_go_back_when_a_retry_starts_over() -> None:
    """A second attempt reports nothing until it passes the first attempt's high-water mark."""
    seen: list[int] = []
    upload = prepare_upload(b"x" * 10_000, chunk_size=2500, progress=lambda s, _t: seen.append(s))
    chunks = upload.body().open()
    assert isinstance(chunks, Iterable)
    iterator = iter(chunks)
    next(iterator)  # head
    next(iterator)  # 2500 bytes
    next(iterator)  # 5000 bytes
    send(upload)  # the retry, whole
    assert seen == [0, 2500, 5000, 7500, 10_000]


def test_progress_with_unknown_total_reports_none() -> None:
    """An iterator's total is None; the count still ends at the bytes sent."""
    seen: list[tuple[int, int | None]] = []
    upload = prepare_upload(iter([b"abc", b"de"]), progress=lambda s, t: seen.append((s, t)))
    send(upload)
    assert seen == [(0, None), (3, None), (5, None)]


def test_a_failing_progress_callback_surfaces_as_a_source_error() -> None:
    """An exception in the callback stops the upload and is kept as ``original``."""

    def boom(_sent: int, _total: int | None) -> None:
        raise KeyError("stop")

    with pytest.raises(SourceError) as caught:
        send(prepare_upload(b"abc", progress=boom))
    assert isinstance(caught.value.original, KeyError)


def test_close_ends_an_interrupted_attempt(tmp_path: Path) -> None:
    """close() closes the file a half-sent attempt left open."""
    path = tmp_path / "a.wav"
    path.write_bytes(b"x" * 100_000)
    upload = prepare_upload(path, chunk_size=1000)
    chunks = upload.body().open()
    assert isinstance(chunks, Iterator)
    next(chunks)
    next(chunks)
    upload.close()
    with pytest.raises(StopIteration):
        next(chunks)


def test_repr_shows_the_source_kind_not_the_content() -> None:
    """repr is informative and small."""
    text = repr(prepare_upload(b"secret-audio"))
    assert "bytes" in text
    assert "replayable" in text
    assert "secret-audio" not in text


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=5000),
    chunk_size=st.integers(1, 700),
    filename=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
    ).filter(lambda s: s.strip() == s and s not in (".", "..")),
    reference=st.one_of(
        st.none(), st.text(st.characters(codec="ascii", blacklist_categories=("Cc",)), max_size=40)
    ),
)
def test_any_source_round_trips_through_a_multipart_parser(
    data: bytes, chunk_size: int, filename: str, reference: str | None
) -> None:
    """Whatever the bytes, chunking and name, a parser reads back the same content and length."""
    upload = prepare_upload(
        data, filename=filename, client_reference_id=reference, chunk_size=chunk_size
    )
    body = send(upload)
    assert upload.length == len(body)
    parts = parse(upload, body)
    assert parts["file"][1] == data
    if reference is not None:
        assert parts["client_reference_id"][1].decode() == reference
