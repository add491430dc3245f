"""Files API over real sockets: streamed uploads, limits, metadata, deletion, documented errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from openapi_check import OpenApiChecker
from rest_support import Api, EmulatorFactory, error_body, make_wav, multipart_stream

from soniox.emulator import Emulator

pytest_plugins = ["rest_fixtures"]

MB = 1024 * 1024


_PATTERN = bytes(range(256)) * 256  # 64 KiB


def _chunks(total: int) -> Iterator[bytes]:
    """``total`` bytes of a repeating pattern, 64 KiB at a time."""
    sent = 0
    while sent < total:
        step = min(len(_PATTERN), total - sent)
        yield _PATTERN[:step]
        sent += step


def test_streamed_multi_megabyte_upload_is_stored_with_its_exact_size(
    api: Api, emulator: Emulator
) -> None:
    """A 5 MiB upload sent from a generator is stored byte-for-byte and reported with its size."""
    expected = b"".join(_chunks(5 * MB))
    created = api.upload(_chunks(5 * MB), filename="big.bin")
    assert created["size"] == 5 * MB
    assert created["filename"] == "big.bin"
    assert (emulator.storage_dir / "files" / created["id"]).read_bytes() == expected


def test_uploaded_file_is_listed_counted_fetched_and_deleted(api: Api) -> None:
    """Upload, then list, count, get and delete (204, no body); afterwards it is gone."""
    created = api.upload(make_wav(1.0), filename="speech.wav", client_reference_id="ref-7")
    assert created["client_reference_id"] == "ref-7"
    listed = api.call("GET", "/v1/files", expect=200).json()
    assert [f["id"] for f in listed["files"]] == [created["id"]]
    assert listed["next_page_cursor"] is None
    count = api.call("GET", "/v1/files/count", expect=200).json()
    assert count == {"total": 1, "public_api": 1, "playground": 0}
    params = {"file_id": created["id"]}
    fetched = api.call("GET", "/v1/files/{file_id}", path_params=params, expect=200).json()
    assert fetched == created
    deleted = api.call("DELETE", "/v1/files/{file_id}", path_params=params, expect=204)
    assert deleted.content == b""
    assert api.call("GET", "/v1/files/count", expect=200).json()["total"] == 0
    api.call("GET", "/v1/files/{file_id}", path_params=params, expect=404)


def test_upload_over_the_size_limit_is_refused_and_leaves_no_file(
    make_emulator: EmulatorFactory,
) -> None:
    """Crossing max_upload_bytes gives 400 with the documented message and no stored file."""
    emu, client = make_emulator(max_upload_bytes=100_000)
    headers, body = multipart_stream(_chunks(300_000), "big.wav")
    response = client.call("POST", "/v1/files", expect=400, content=body, headers=headers)
    body = error_body(response)
    assert body["error_type"] == "invalid_request"
    assert body["message"] == "Exceeded maximum file size (maximum is 100000 bytes)."
    assert client.call("GET", "/v1/files/count", expect=200).json()["total"] == 0
    assert list((emu.storage_dir / "files").iterdir()) == []


def test_upload_exactly_at_the_size_limit_is_accepted(make_emulator: EmulatorFactory) -> None:
    """A file of exactly max_upload_bytes is still accepted."""
    _emu, client = make_emulator(max_upload_bytes=100_000)
    assert client.upload(b"\x01" * 100_000)["size"] == 100_000


def test_upload_without_a_file_part_reports_the_missing_field(api: Api) -> None:
    """A multipart body without ``file`` gives 400 with a ``missing`` error at ``file.file``."""
    response = api.call(
        "POST",
        "/v1/files",
        expect=400,
        data={"client_reference_id": "x"},
        files={"other": ("a.txt", b"abc")},
    )
    body = error_body(response)
    assert body["error_type"] == "invalid_request"
    assert body["validation_errors"] == [
        {"error_type": "missing", "location": "file.file", "message": "Field required"}
    ]


def test_upload_that_is_not_multipart_is_refused(api: Api) -> None:
    """A JSON body on the upload route is a 400 ``invalid_request``."""
    response = api.call("POST", "/v1/files", expect=400, json={"file": "nope"})
    assert error_body(response)["error_type"] == "invalid_request"


def test_truncated_multipart_body_is_refused(api: Api) -> None:
    """A multipart body that stops before its closing boundary is a 400."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        b"partial audio without the closing boundary"
    )
    response = api.call(
        "POST",
        "/v1/files",
        expect=400,
        content=body,
        headers={"content-type": "multipart/form-data; boundary=B"},
    )
    assert error_body(response)["error_type"] == "invalid_request"
    assert api.call("GET", "/v1/files/count", expect=200).json()["total"] == 0


def test_client_reference_id_longer_than_256_characters_is_refused(api: Api) -> None:
    """``client_reference_id`` over 256 characters is a 400 and nothing is stored."""
    response = api.call(
        "POST",
        "/v1/files",
        expect=400,
        data={"client_reference_id": "r" * 257},
        files={"file": ("a.wav", b"abc")},
    )
    issues = error_body(response)["validation_errors"]
    assert issues[0]["error_type"] == "string_too_long"
    assert api.call("GET", "/v1/files/count", expect=200).json()["total"] == 0


def test_file_part_without_filename_gets_a_fallback_name(api: Api) -> None:
    """A ``file`` part sent without a filename is stored under the name ``file``."""
    body = b'--B\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--B--\r\n'
    response = api.call(
        "POST",
        "/v1/files",
        expect=201,
        content=body,
        headers={"content-type": "multipart/form-data; boundary=B"},
    )
    assert response.json()["filename"] == "file"
    assert response.json()["size"] == 3


def test_non_ascii_filename_survives_the_upload(api: Api) -> None:
    """A UTF-8 filename is returned as sent."""
    assert api.upload(b"abc", filename="pogovor-čšž.wav")["filename"] == "pogovor-čšž.wav"


def test_unknown_and_malformed_file_ids_are_not_found(api: Api) -> None:
    """GET and DELETE of an unknown or malformed id give 404 ``file_not_found``."""
    for file_id in (str(uuid.uuid4()), "not-a-uuid"):
        for method in ("GET", "DELETE"):
            response = api.call(
                method, "/v1/files/{file_id}", path_params={"file_id": file_id}, expect=404
            )
            body = error_body(response)
            assert body["error_type"] == "file_not_found"
            assert body["message"] == "File could not be found."
            assert body["request_id"]


def test_stored_file_cap_answers_429(make_emulator: EmulatorFactory) -> None:
    """Uploading beyond max_files is refused with 429 ``limit_exceeded``."""
    _emu, client = make_emulator(max_files=2)
    client.upload(b"a")
    client.upload(b"b")
    response = client.call(
        "POST",
        "/v1/files",
        expect=429,
        files={"file": ("c.wav", b"c")},
        allow_undocumented_error=True,
    )
    body = error_body(response)
    assert body["error_type"] == "limit_exceeded"
    assert "limit is 2" in body["message"]


def test_upload_is_journaled_with_its_file_id(api: Api, emulator: Emulator) -> None:
    """The journal entry of an upload carries the new file id and the bearer auth mark."""
    created = api.upload(b"abc")
    entry = emulator.journal.entries(path="/v1/files", method="POST")[-1]
    assert entry.notes["file_id"] == created["id"]
    assert entry.auth == "bearer"


def test_upload_over_http2_streams_to_disk(emulator: Emulator, checker: OpenApiChecker) -> None:
    """The same streamed multipart upload works over h2c (prior knowledge)."""
    client = Api(emulator.rest_base_url, emulator.api_key, checker, http2=True)
    headers, body = multipart_stream(_chunks(2 * MB), "x.bin")
    try:
        response = client.call("POST", "/v1/files", expect=201, content=body, headers=headers)
    finally:
        client.close()
    assert response.http_version == "HTTP/2"
    assert response.json()["size"] == 2 * MB
    entry = emulator.journal.entries(path="/v1/files", method="POST")[-1]
    assert entry.http_version == "2"
