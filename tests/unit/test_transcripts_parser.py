"""The incremental transcript parser: same tokens as a whole-body parse, whatever the chunking."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.errors import DecodeError
from soniox.transcripts import TranscriptParser
from soniox.types import TranscriptionTranscript, TranscriptionTranscriptToken, loads

NASTY = ['"', "\\", "}", "{", "]", "[", ",", ":", '},{"', "\\}", "é", "漢", "\n", " ", "a"]

token_texts = st.lists(st.sampled_from(NASTY), max_size=6).map("".join) | st.text(max_size=8)

tokens_st = st.lists(
    st.fixed_dictionaries(
        {
            "text": token_texts,
            "start_ms": st.integers(0, 10**9),
            "end_ms": st.integers(0, 10**9),
            "confidence": st.floats(0, 1),
        },
        optional={
            "speaker": st.sampled_from(["1", "2"]),
            "language": st.sampled_from(["en", "de"]),
            "translation_status": st.sampled_from(["none", "original", "translation"]),
            "future": st.recursive(
                st.none() | st.integers() | token_texts,
                lambda inner: (
                    st.lists(inner, max_size=3) | st.dictionaries(token_texts, inner, max_size=3)
                ),
                max_leaves=6,
            ),
        },
    ),
    max_size=25,
)


def _parse(body: bytes, cuts: list[int], **kwargs: Any) -> tuple[list[Any], TranscriptParser[Any]]:
    parser: TranscriptParser[TranscriptionTranscriptToken] = TranscriptParser(**kwargs)
    out: list[Any] = []
    start = 0
    for cut in sorted(cuts):
        out += parser.feed(body[start:cut])
        start = cut
    out += parser.feed(body[start:])
    out += parser.close()
    return out, parser


@settings(max_examples=150, deadline=None)
@given(
    tokens=tokens_st,
    text=token_texts,
    extra=st.dictionaries(st.sampled_from(["x", "y", "tokens_count"]), tokens_st, max_size=2),
    indent=st.sampled_from([None, 0, 2]),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
)
def test_streamed_tokens_equal_a_whole_body_parse(
    tokens: list[dict[str, Any]],
    text: str,
    extra: dict[str, Any],
    indent: int | None,
    order: random.Random,
    cuts: list[int],
) -> None:
    """Any key order, whitespace, unknown fields and chunking yield loads()'s tokens, id, text."""
    fields = [("id", "job-1"), ("text", text), ("tokens", tokens), *extra.items()]
    order.shuffle(fields)
    body = json.dumps(dict(fields), indent=indent).encode()
    expected = loads(body, TranscriptionTranscript)
    got, parser = _parse(body, [c for c in cuts if c <= len(body)], keep_text=True)
    assert got == expected.tokens
    assert parser.id == "job-1"
    assert parser.text == text


def test_text_is_not_kept_unless_asked() -> None:
    """Without keep_text the (possibly huge) text is skipped, not stored."""
    body = json.dumps({"id": "a", "text": "x" * 10_000, "tokens": []}).encode()
    _, parser = _parse(body, list(range(0, len(body), 7)))
    assert parser.text is None
    assert parser.id == "a"


def test_skipped_text_is_not_buffered() -> None:
    """A long text streams past: the buffer stays about one chunk."""
    body = json.dumps({"id": "a", "text": "x\\" * 500_000, "tokens": []}).encode()
    parser: TranscriptParser[TranscriptionTranscriptToken] = TranscriptParser()
    peak = 0
    for i in range(0, len(body), 4096):
        parser.feed(body[i : i + 4096])
        peak = max(peak, parser.buffered)
    parser.close()
    assert peak <= 4096


def test_buffer_stays_flat_over_many_tokens() -> None:
    """Tens of thousands of tokens pass through a buffer of about one chunk."""
    tokens = [
        {"text": f" w{i}", "start_ms": i, "end_ms": i + 1, "confidence": 0.9} for i in range(20_000)
    ]
    body = json.dumps({"id": "a", "text": "", "tokens": tokens}).encode()
    parser: TranscriptParser[TranscriptionTranscriptToken] = TranscriptParser()
    count = peak = 0
    for i in range(0, len(body), 8192):
        count += len(parser.feed(body[i : i + 8192]))
        peak = max(peak, parser.buffered)
    count += len(parser.close())
    assert count == 20_000
    assert peak < 8192 + 200


def test_lenient_rules_apply_to_odd_fields() -> None:
    """A number sent as a string still parses, as with loads()."""
    body = b'{"id":"a","text":"","tokens":[{"text":" x","start_ms":"5","end_ms":7,"confidence":1}]}'
    got, _ = _parse(body, [30, 50])
    assert got[0].start_ms == 5


def test_skip_drops_leading_tokens() -> None:
    """skip=n (a resumed download) drops the first n tokens."""
    tokens = [{"text": str(i), "start_ms": i, "end_ms": i, "confidence": 1} for i in range(10)]
    body = json.dumps({"id": "a", "text": "", "tokens": tokens}).encode()
    got, _ = _parse(body, [40, 90, 200], skip=4)
    assert [t.text for t in got] == [str(i) for i in range(4, 10)]


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"a","text":"","tokens":[{"text":"x","start_ms":1,"end_ms":2,"confidence":1}',
        b'{"id":"a","text":"","tokens":[',
        b'{"id":"a","te',
        b"",
    ],
    ids=["in-array", "open-array", "in-key", "empty"],
)
def test_a_body_cut_short_is_a_decode_error(body: bytes) -> None:
    """A truncated body raises DecodeError at close(), never yields a partial token."""
    parser: TranscriptParser[TranscriptionTranscriptToken] = TranscriptParser()
    parser.feed(body)
    with pytest.raises(DecodeError, match=r"ended early|incomplete|never ends"):
        parser.close()


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'{"id": "a", "text": ""}',
        b'{"id": "a", "tokens": [1, 2]}',
        b'{"id": "a", "tokens": [{"text": 1}]}',
        b'{"id": "a", "tokens": [,]}',
        b'{"id": "a" "tokens": []}',
        b'{"id": "a", "tokens": []} x',
    ],
    ids=["array", "no-tokens", "numbers", "bad-token", "comma", "no-comma", "trailing"],
)
def test_malformed_bodies_are_decode_errors(body: bytes) -> None:
    """Shapes that are not a transcript raise DecodeError (feed or close)."""
    parser: TranscriptParser[TranscriptionTranscriptToken] = TranscriptParser()

    def parse() -> None:
        parser.feed(body)
        parser.close()

    with pytest.raises(DecodeError):
        parse()
