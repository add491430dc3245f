"""Property tests of the wire layer: targets, chunked uploads and fragmented messages of any shape."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from server_support import WireTestApp, wire_emulator
from websockets.sync.client import connect as ws_connect

from soniox.emulator import Emulator
from soniox.emulator._exchange import split_target

_PATH_CHARS = st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="/-_.~%")


@pytest.fixture(scope="module")
def wired() -> Iterator[tuple[Emulator, WireTestApp]]:
    with wire_emulator() as pair:
        yield pair


@given(path=st.text(_PATH_CHARS, max_size=40), query=st.text(max_size=40))
def test_split_target_separates_path_and_query(path: str, query: str) -> None:
    """Origin-form targets split at the first '?', with '/' for an empty path."""
    target = "/" + path + ("?" + query if query else "")
    got_path, got_query = split_target(target)
    assert got_path == "/" + path
    assert got_query == query


@given(path=st.text(_PATH_CHARS, max_size=40))
def test_split_target_drops_the_origin_of_absolute_form(path: str) -> None:
    """http://host:port/path?q is served as /path with query q."""
    assert split_target(f"http://127.0.0.1:8080/{path}?q=1") == ("/" + path, "q=1")


@settings(max_examples=15, deadline=None)
@given(pieces=st.lists(st.binary(min_size=0, max_size=70_000), max_size=6))
def test_chunked_upload_of_any_shape_arrives_intact(
    wired: tuple[Emulator, WireTestApp], pieces: list[bytes]
) -> None:
    """However the client cuts a chunked body, the application gets the same bytes."""
    emu, _app = wired

    def gen() -> Iterator[bytes]:
        yield from pieces

    joined = b"".join(pieces)
    with httpx.Client(trust_env=False, timeout=10) as c:
        result = c.post(emu.url + "/upload", content=gen()).json()
    assert result["size"] == len(joined)
    assert result["sha256"] == hashlib.sha256(joined).hexdigest()


@settings(max_examples=15, deadline=None)
@given(fragments=st.lists(st.text(max_size=3000), min_size=1, max_size=5))
def test_fragmented_text_message_is_reassembled(
    wired: tuple[Emulator, WireTestApp], fragments: list[str]
) -> None:
    """A text message sent in arbitrary fragments is received as one message."""
    emu, _app = wired
    with ws_connect(emu.ws_url, open_timeout=5) as ws:
        ws.send(iter(fragments))
        assert ws.recv(timeout=5) == "".join(fragments)
