"""Property tests for the REST app's parsers: multipart streaming, cursors, payload validation."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soniox.emulator.errors import ApiFailure
from soniox.emulator.multipart import receive_upload
from soniox.emulator.store import Cursors
from soniox.emulator.timefmt import iso_z, parse_iso
from soniox.emulator.validation import (
    TemporaryKeyRequest,
    TranscriptionRequest,
    validate_create_transcription,
    validate_temporary_key,
)

BOUNDARY = "hypothesis-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _body(content: bytes, filename: str, reference: str | None) -> bytes:
    parts = b""
    if reference is not None:
        parts += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="client_reference_id"'
            f"\r\n\r\n{reference}\r\n"
        ).encode()
    parts += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return parts + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces: list[bytes] = []
    last = 0
    for point in [*points, len(data)]:
        pieces.append(data[last:point])
        last = point
    return [p for p in pieces if p]


async def _stream(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _outcome(action: Callable[[], object]) -> object:
    """What ``action`` returns, or the :class:`ApiFailure` it raises."""
    try:
        return action()
    except ApiFailure as failure:
        return failure


def _receive(pieces: list[bytes], destination: Path, max_bytes: int) -> Any:
    return asyncio.run(
        receive_upload(CONTENT_TYPE, _stream(pieces), destination, max_bytes=max_bytes)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.binary(max_size=4000),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    filename=st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"\\'),
        min_size=1,
        max_size=20,
    ),
    reference=st.none() | st.text(st.characters(categories=("L", "N")), max_size=30),
)
def test_multipart_upload_is_independent_of_chunking(
    content: bytes, cuts: list[int], filename: str, reference: str | None
) -> None:
    """However the body is split into chunks, the stored file and fields are the same."""
    body = _body(content, filename, reference)
    with tempfile.TemporaryDirectory() as tmp:
        destination = Path(tmp) / "upload"
        part = _receive(_split(body, cuts), destination, max_bytes=10_000)
        assert destination.read_bytes() == content
    assert part.size == len(content)
    assert part.filename == filename.strip() or part.filename == filename
    if reference is not None:
        assert part.fields["client_reference_id"] == reference


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=3000),
    limit=st.integers(min_value=1, max_value=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_multipart_size_limit_is_exact_and_cleans_up(
    size: int, limit: int, cuts: list[int]
) -> None:
    """Up to ``max_bytes`` is stored; one byte more is refused and nothing is left on disk."""
    body = _body(b"\x07" * size, "a.bin", None)
    with tempfile.TemporaryDirectory() as tmp:
        destination = Path(tmp) / "upload"
        if size <= limit:
            assert _receive(_split(body, cuts), destination, max_bytes=limit).size == size
        else:
            with pytest.raises(ApiFailure) as caught:
                _receive(_split(body, cuts), destination, max_bytes=limit)
            assert caught.value.status == 400
            assert caught.value.message == f"Exceeded maximum file size (maximum is {limit} bytes)."
            assert not destination.exists()


@settings(deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_never_a_valid_cursor(text: str) -> None:
    """Any string that was not issued by the server is refused with ``invalid_cursor``."""
    with pytest.raises(ApiFailure) as caught:
        Cursors().decode("files", text)
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_cursor")


@settings(deadline=None)
@given(st.lists(st.integers() | st.text(max_size=20), max_size=4), st.sampled_from(["a", "b"]))
def test_cursor_round_trips_its_position(position: list[int | str], kind: str) -> None:
    """A cursor decodes to the position it was made from, only for its own listing."""
    cursors = Cursors()
    cursor = cursors.encode(kind, position)
    assert cursors.decode(kind, cursor) == position
    with pytest.raises(ApiFailure):
        cursors.decode(kind + "x", cursor)
    with pytest.raises(ApiFailure):
        Cursors().decode(kind, cursor)  # another server's key


def _check_create(payload: Any) -> None:
    result = _outcome(lambda: validate_create_transcription(payload, file_exists=lambda _: True))
    if isinstance(result, ApiFailure):
        assert result.status == 400
        assert result.validation_errors
        assert all(i.location.startswith("body") for i in result.validation_errors)
    else:
        assert isinstance(result, TranscriptionRequest)


@settings(deadline=None)
@given(json_values)
def test_create_validation_accepts_or_explains_any_json(payload: Any) -> None:
    """Any JSON value yields a request or a 400 with at least one located issue; never a crash."""
    _check_create(payload)


@settings(deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from(["stt-async-v5", "stt-async-v4", "stt-rt-v5", "x"]),
            "audio_url": st.sampled_from(["https://a.test/x.wav", "nope", None]),
            "file_id": st.sampled_from([None, "bad", "11111111-2222-4333-8444-555555555555"]),
            "translation": json_values,
            "context": json_values,
            "language_hints": json_values,
            "enable_speaker_diarization": json_values,
        },
    )
)
def test_create_validation_handles_near_valid_payloads(payload: dict[str, Any]) -> None:
    """Payloads close to valid are accepted or refused with issues, never a crash."""
    _check_create(payload)


@settings(deadline=None)
@given(json_values)
def test_temporary_key_validation_accepts_or_explains_any_json(payload: Any) -> None:
    """Any JSON value yields a key request or a 400 with at least one issue."""
    result = _outcome(lambda: validate_temporary_key(payload))
    if isinstance(result, ApiFailure):
        assert result.status == 400
        assert result.validation_errors
    else:
        assert isinstance(result, TemporaryKeyRequest)


@settings(deadline=None)
@given(st.datetimes(timezones=st.just(UTC)))
def test_timestamps_round_trip_at_millisecond_precision(moment: datetime) -> None:
    """``iso_z`` writes ``...Z`` and ``parse_iso`` reads it back to the millisecond."""
    text = iso_z(moment)
    assert text.endswith("Z")
    parsed = parse_iso(text)
    assert parsed is not None
    assert parsed == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
