"""Cursor pagination over real sockets: newest first, stable across deletions, bad cursors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_support import Api, error_body, make_wav

pytest_plugins = ["rest_fixtures"]


def _pages(api: Api, template: str, key: str, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        body = api.call("GET", template, params=params, expect=200).json()
        pages.append(body[key])
        cursor = body["next_page_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("pagination did not end")


def _upload_five(api: Api) -> list[str]:
    return [api.upload(f"file {i}".encode(), filename=f"f{i}.wav")["id"] for i in range(5)]


def test_files_are_paged_newest_first(api: Api) -> None:
    """limit=2 over five files gives pages of 2, 2, 1, newest first, then a null cursor."""
    ids = _upload_five(api)
    pages = _pages(api, "/v1/files", "files", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [f["id"] for p in pages for f in p] == list(reversed(ids))


def test_transcriptions_are_paged_newest_first(api: Api) -> None:
    """Transcriptions page the same way as files."""
    file_id = api.upload(make_wav(0.5))["id"]
    ids = [api.create(file_id=file_id)["id"] for _ in range(5)]
    pages = _pages(api, "/v1/transcriptions", "transcriptions", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [t["id"] for p in pages for t in p] == list(reversed(ids))


def test_cursor_stays_valid_when_items_are_deleted(api: Api) -> None:
    """Deleting items (on either side of the cursor) does not skip or repeat the rest."""
    ids = list(reversed(_upload_five(api)))  # newest first
    first = api.call("GET", "/v1/files", params={"limit": 2}, expect=200).json()
    assert [f["id"] for f in first["files"]] == ids[:2]
    for gone in (ids[0], ids[2]):  # one already served, one not yet served
        api.call("DELETE", "/v1/files/{file_id}", path_params={"file_id": gone}, expect=204)
    rest = api.call(
        "GET", "/v1/files", params={"limit": 10, "cursor": first["next_page_cursor"]}, expect=200
    ).json()
    assert [f["id"] for f in rest["files"]] == [ids[3], ids[4]]
    assert rest["next_page_cursor"] is None


def test_default_limit_returns_everything_on_one_page(api: Api) -> None:
    """Without ``limit`` (default 1000) five items come back on a single page."""
    _upload_five(api)
    body = api.call("GET", "/v1/files", expect=200).json()
    assert len(body["files"]) == 5
    assert body["next_page_cursor"] is None


@pytest.mark.parametrize(
    "cursor", ["garbage", "eyJrIjoiZmlsZXMiLCJwIjpbMV19.AAAA", "a.b.c", "%%%", "."]
)
@pytest.mark.parametrize("template", ["/v1/files", "/v1/transcriptions"])
def test_garbage_cursor_is_invalid_cursor(api: Api, template: str, cursor: str) -> None:
    """An unparsable or unsigned cursor gives 400 ``invalid_cursor``."""
    response = api.call("GET", template, params={"cursor": cursor}, expect=400)
    body = error_body(response)
    assert body["error_type"] == "invalid_cursor"
    assert body["message"] == "Invalid cursor parameter."
    assert body["validation_errors"] == []


def test_tampered_cursor_is_invalid_cursor(api: Api) -> None:
    """Changing one character of a real cursor makes it invalid."""
    _upload_five(api)
    cursor = api.call("GET", "/v1/files", params={"limit": 2}, expect=200).json()[
        "next_page_cursor"
    ]
    flipped = cursor[:3] + ("A" if cursor[3] != "A" else "B") + cursor[4:]
    response = api.call("GET", "/v1/files", params={"cursor": flipped}, expect=400)
    assert error_body(response)["error_type"] == "invalid_cursor"


def test_files_cursor_is_not_accepted_for_transcriptions(api: Api) -> None:
    """A cursor is bound to the listing that issued it."""
    _upload_five(api)
    cursor = api.call("GET", "/v1/files", params={"limit": 2}, expect=200).json()[
        "next_page_cursor"
    ]
    response = api.call("GET", "/v1/transcriptions", params={"cursor": cursor}, expect=400)
    assert error_body(response)["error_type"] == "invalid_cursor"
