"""client.files against the emulator over loopback, with the sync and the async client."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _api_modes import MODES, Api

from soniox.emulator import Emulator
from soniox.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseLostError,
)
from soniox.types import File, GetFilesResponse

AUDIO = os.urandom(300_000)


@pytest.fixture
def audio_path(tmp_path: Path) -> Path:
    path = tmp_path / "speech.wav"
    path.write_bytes(AUDIO)
    return path


def posts(emulator: Emulator) -> list[tuple[str, int | None, int]]:
    return [
        (e.outcome, e.status, e.request_bytes)
        for e in emulator.journal.entries(path="/v1/files", method="POST")
    ]


# --- upload -------------------------------------------------------------------------------------


def test_upload_from_a_path(api: Api, emulator: Emulator, audio_path: Path) -> None:
    """A path is streamed with its name and a Content-Length covering the whole form."""
    stored: File = api(lambda c: c.files.upload(audio_path))
    assert (stored.filename, stored.size) == ("speech.wav", len(AUDIO))
    entry = emulator.journal.entries(path="/v1/files", method="POST")[0]
    assert entry.header("content-length") == str(entry.request_bytes)
    assert entry.http_version == "1.1"


def test_upload_from_bytes(api: Api) -> None:
    """Raw bytes are named upload.bin, as in the official SDK."""
    stored: File = api(lambda c: c.files.upload(b"RIFF" + AUDIO[:1000]))
    assert (stored.filename, stored.size) == ("upload.bin", 1004)


def test_upload_from_a_file_object(api: Api, audio_path: Path) -> None:
    """An open binary file sends its base name; a filename argument overrides any name."""
    with audio_path.open("rb") as handle:
        stored: File = api(lambda c: c.files.upload(handle))
    assert (stored.filename, stored.size) == ("speech.wav", len(AUDIO))
    renamed: File = api(lambda c: c.files.upload(io.BytesIO(b"abc"), filename="call.mp3"))
    assert renamed.filename == "call.mp3"


def test_upload_from_an_iterator_is_chunked(api: Api, emulator: Emulator) -> None:
    """An iterator of unknown length goes out with chunked transfer encoding."""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(AUDIO), 50_000):
            yield AUDIO[start : start + 50_000]

    stored: File = api(lambda c: c.files.upload(chunks()))
    assert stored.size == len(AUDIO)
    entry = emulator.journal.entries(path="/v1/files", method="POST")[0]
    assert entry.header("content-length") is None
    assert entry.header("transfer-encoding") == "chunked"


def test_upload_keeps_the_client_reference_id(api: Api) -> None:
    """client_reference_id is stored with the file."""
    stored: File = api(lambda c: c.files.upload(b"abc", client_reference_id="order-17"))
    assert stored.client_reference_id == "order-17"


def test_progress_is_monotonic_and_ends_at_the_total(api: Api, audio_path: Path) -> None:
    """The progress callback grows from 0 to the file size, never backwards."""
    seen: list[tuple[int, int | None]] = []
    api(lambda c: c.files.upload(audio_path, progress=lambda s, t: seen.append((s, t))))
    sent = [s for s, _ in seen]
    assert sent[0] == 0
    assert sent == sorted(sent)
    assert seen[-1] == (len(AUDIO), len(AUDIO))
    assert len(seen) > 2


@pytest.mark.parametrize("source", ["path", "seekable file"])
def test_a_reset_before_processing_resends_the_whole_body(
    api: Api, emulator: Emulator, audio_path: Path, source: str
) -> None:
    """The server dropped the connection unprocessed: the body is sent again, whole, once."""
    emulator.faults.inject("reset_before", "/v1/files", method="POST")
    with audio_path.open("rb") as handle:
        handle.seek(0)
        target = audio_path if source == "path" else handle
        stored: File = api(lambda c: c.files.upload(target))
    attempts = posts(emulator)
    assert [a[0] for a in attempts] == ["reset", "completed"]
    assert attempts[1][2] == int(
        emulator.journal.entries(path="/v1/files", method="POST")[1].header("content-length") or 0
    )
    assert stored.size == len(AUDIO)
    assert api(lambda c: c.files.count()).total == 1


def test_a_reset_after_storing_is_reconciled_without_a_second_copy(
    api: Api, emulator: Emulator, audio_path: Path
) -> None:
    """The file was stored but the answer lost: the upload finds it instead of resending."""
    emulator.faults.inject("reset_after", "/v1/files", method="POST")
    stored: File = api(lambda c: c.files.upload(audio_path))
    assert [a[0] for a in posts(emulator)] == ["reset"]
    assert [f.id for f in api(lambda c: c.files.list_all())] == [stored.id]


def test_a_one_shot_iterator_is_not_retried(api: Api, emulator: Emulator) -> None:
    """A reset on an iterator upload surfaces; the journal shows a single attempt."""
    emulator.faults.inject("reset_before", "/v1/files", method="POST")
    with pytest.raises(ResponseLostError):
        api(lambda c: c.files.upload(iter([b"a" * 10_000, b"b" * 10_000])))
    assert len(posts(emulator)) == 1


def test_429_without_retries_raises_rate_limit_error(api: Api, emulator: Emulator) -> None:
    """With max_retries=0 a 429 is RateLimitError after one attempt."""
    emulator.faults.fail("/v1/files", status=429, method="POST", retry_after=1)
    with pytest.raises(RateLimitError) as caught:
        api(lambda c: c.with_options(max_retries=0).files.upload(b"abc"))
    assert caught.value.retry_after == 1
    assert len(posts(emulator)) == 1


def test_429_with_retries_succeeds(api: Api, emulator: Emulator) -> None:
    """A 429 is retried (it was not processed) and the second attempt stores the file."""
    emulator.faults.fail("/v1/files", status=429, method="POST", retry_after=0)
    stored: File = api(lambda c: c.files.upload(b"abc"))
    assert stored.size == 3
    assert [a[1] for a in posts(emulator)] == [429, 201]


def test_a_wrong_key_raises_authentication_error(emulator: Emulator) -> None:
    """401 from the server is AuthenticationError for uploads and listings alike."""
    for mode in MODES:
        wrong = Api.for_emulator(mode, emulator, api_key="wrong-key-0123456789abcdef")
        with pytest.raises(AuthenticationError) as caught:
            wrong(lambda c: c.files.upload(b"abc"))
        assert caught.value.status == 401
        with pytest.raises(AuthenticationError):
            wrong(lambda c: c.files.list())


@pytest.mark.parametrize("mode", MODES)
def test_a_file_over_the_servers_limit_is_refused_with_its_message(mode: str) -> None:
    """The emulator's size limit comes back as InvalidRequestError with the server's words."""
    with Emulator(max_upload_bytes=4096) as small:
        api = Api.for_emulator(mode, small)
        with pytest.raises(InvalidRequestError) as caught:
            api(lambda c: c.files.upload(b"x" * 100_000))
        assert caught.value.status == 400
        assert "maximum file size" in str(caught.value)


def test_small_uploads_ride_http2_and_large_ones_http1(emulator: Emulator) -> None:
    """With http2 on, a small upload is multiplexed; a body over 1 MiB keeps to HTTP/1.1."""
    api = Api.for_emulator("sync", emulator, http2=True)
    api(lambda c: c.files.upload(b"abc"))
    api(lambda c: c.files.upload(os.urandom(2 * 1024 * 1024)))
    versions = [e.http_version for e in emulator.journal.entries(path="/v1/files", method="POST")]
    assert versions == ["2", "1.1"]


# --- listing, counting, getting, deleting ---------------------------------------------------------


def test_list_returns_a_page_and_list_all_walks_every_page(api: Api, emulator: Emulator) -> None:
    """list(limit=2) gives a cursor; list_all(limit=2) fetches all five files over three pages."""
    ids = [api(lambda c: c.files.upload(b"abc")).id for _ in range(5)]
    page: GetFilesResponse = api(lambda c: c.files.list(limit=2))
    assert len(page.files) == 2
    assert page.next_page_cursor
    emulator.journal.clear()
    every: list[File] = api(lambda c: c.files.list_all(limit=2))
    assert sorted(f.id for f in every) == sorted(ids)
    assert len(emulator.journal.entries(path="/v1/files", method="GET")) == 3


def test_list_with_a_bad_cursor_is_invalid_request(api: Api) -> None:
    """A garbage cursor is the server's 400 invalid_cursor."""
    with pytest.raises(InvalidRequestError) as caught:
        api(lambda c: c.files.list(cursor="not-a-cursor"))
    assert caught.value.error_type == "invalid_cursor"


def test_count(api: Api) -> None:
    """count() reports the stored files."""
    for _ in range(3):
        api(lambda c: c.files.upload(b"abc"))
    counts = api(lambda c: c.files.count())
    assert (counts.total, counts.public_api, counts.playground) == (3, 3, 0)


def test_get_and_get_or_none(api: Api) -> None:
    """get() returns the metadata; a missing id is NotFoundError, or None with get_or_none()."""
    stored: File = api(lambda c: c.files.upload(b"abc", filename="x.wav"))
    assert api(lambda c: c.files.get(stored.id)) == stored
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundError) as caught:
        api(lambda c: c.files.get(missing))
    assert caught.value.error_type == "file_not_found"
    assert api(lambda c: c.files.get_or_none(missing)) is None


def test_delete_and_delete_if_exists(api: Api) -> None:
    """delete() removes; a second delete is NotFoundError; delete_if_exists() says False."""
    stored: File = api(lambda c: c.files.upload(b"abc"))
    assert api(lambda c: c.files.delete(stored.id)) is None
    with pytest.raises(NotFoundError):
        api(lambda c: c.files.delete(stored.id))
    assert api(lambda c: c.files.delete_if_exists(stored.id)) is False
    other: File = api(lambda c: c.files.upload(b"abc"))
    assert api(lambda c: c.files.delete_if_exists(other.id)) is True


def test_delete_all_returns_how_many_it_deleted(api: Api) -> None:
    """delete_all() empties the store over several pages and counts."""
    for _ in range(5):
        api(lambda c: c.files.upload(b"abc"))
    assert api(lambda c: c.files.delete_all(limit=2)) == 5
    assert api(lambda c: c.files.count()).total == 0


def test_listing_429_is_retried_or_raised(api: Api, emulator: Emulator) -> None:
    """A 429 on GET /files is retried by default and raised with retries off."""
    emulator.faults.fail("/v1/files", status=429, method="GET", retry_after=0)
    assert api(lambda c: c.files.list()).files == []
    emulator.faults.fail("/v1/files", status=429, method="GET")
    with pytest.raises(RateLimitError):
        api(lambda c: c.with_options(max_retries=0).files.list())


MISSING_ID = "00000000-0000-4000-8000-000000000000"
EVERY_METHOD: dict[str, tuple[str, Any]] = {
    "upload": ("POST", lambda c: c.files.upload(b"abc")),
    "list": ("GET", lambda c: c.files.list()),
    "list_all": ("GET", lambda c: c.files.list_all()),
    "count": ("GET", lambda c: c.files.count()),
    "get": ("GET", lambda c: c.files.get(MISSING_ID)),
    "get_or_none": ("GET", lambda c: c.files.get_or_none(MISSING_ID)),
    "delete": ("DELETE", lambda c: c.files.delete(MISSING_ID)),
    "delete_if_exists": ("DELETE", lambda c: c.files.delete_if_exists(MISSING_ID)),
    "delete_all": ("GET", lambda c: c.files.delete_all()),
}


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_every_method_maps_401(emulator: Emulator, method: str) -> None:
    """Each files method raises AuthenticationError for a wrong key, sync and async."""
    call = EVERY_METHOD[method][1]
    for mode in MODES:
        wrong = Api.for_emulator(mode, emulator, api_key="wrong-key-0123456789abcdef")
        with pytest.raises(AuthenticationError):
            wrong(call)


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_every_method_maps_429_without_retries(api: Api, emulator: Emulator, method: str) -> None:
    """With retries off, a 429 on the method's first request is RateLimitError."""
    http_method, call = EVERY_METHOD[method]
    emulator.faults.fail("/v1/files*", status=429, method=http_method, retry_after=2)
    with pytest.raises(RateLimitError) as caught:
        api(lambda c: call(c.with_options(max_retries=0)))
    assert caught.value.retry_after == 2
