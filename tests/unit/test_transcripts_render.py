"""Renderers: plain text, paragraphs by speaker, SRT and WebVTT cues from any token list."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.transcripts import (
    Cue,
    CueRules,
    build_cues,
    format_srt,
    render_by_speaker,
    render_text,
    srt_timestamp,
    to_srt,
    to_vtt,
    vtt_timestamp,
)
from soniox.types import RealtimeToken, TranscriptionTranscriptToken
from soniox.utils import render_tokens

Tok = TranscriptionTranscriptToken


def tok(text: str, start: int, end: int, **extra: Any) -> Tok:
    return Tok(text=text, start_ms=start, end_ms=end, confidence=0.9, **extra)


def words(text: str, *, start: int = 0, step: int = 300, **extra: Any) -> list[Tok]:
    """One token per word, ``step`` ms each, leading spaces like the API (not on the very first)."""
    out: list[Tok] = []
    for i, w in enumerate(text.split()):
        space = " " if i or start else ""
        out.append(tok(space + w, start + i * step, start + (i + 1) * step, **extra))
    return out


# --- plain text and paragraphs -----------------------------------------------------------------


def test_render_text_joins_tokens_as_the_api_does() -> None:
    """Sub-word pieces join with their own spaces; nothing is added or stripped."""
    tokens = [tok(" Hel", 0, 1), tok("lo", 1, 2), tok(",", 2, 3), tok(" world", 3, 4)]
    assert render_text(tokens) == " Hello, world"


def test_render_text_drops_realtime_markers() -> None:
    """<end> and <fin> are markers, not text."""
    tokens = [RealtimeToken(text="Hi"), RealtimeToken(text="<end>"), RealtimeToken(text="<fin>")]
    assert render_text(tokens) == "Hi"


def test_render_text_selects_original_or_translation() -> None:
    """only= keeps one side of a translated transcript."""
    tokens = [
        tok("Hello", 0, 1, translation_status="original"),
        tok(" Hallo", 0, 1, translation_status="translation"),
    ]
    assert render_text(tokens, only="original") == "Hello"
    assert render_text(tokens, only="translation") == " Hallo"
    assert render_text(tokens) == "Hello Hallo"


def test_an_unknown_selection_is_rejected() -> None:
    """A typo in only= fails loudly instead of rendering nothing."""
    with pytest.raises(ClientValidationError):
        render_text([], only="originals")  # type: ignore[arg-type]


def test_render_by_speaker_starts_a_paragraph_per_turn() -> None:
    """Each speaker change opens a labelled paragraph; a blank line separates them."""
    tokens = [
        *words("Hi there.", speaker="1"),
        *words(" Hello!", start=1000, speaker="2"),
        *words(" Bye.", start=2000, speaker="1"),
    ]
    assert render_by_speaker(tokens) == (
        "Speaker 1: Hi there.\n\nSpeaker 2: Hello!\n\nSpeaker 1: Bye."
    )


def test_tokens_without_speaker_continue_the_paragraph() -> None:
    """A token lacking a speaker does not break the current turn."""
    tokens = [tok("A", 0, 1, speaker="1"), tok(" b", 1, 2), tok(" c", 2, 3, speaker="1")]
    assert render_by_speaker(tokens) == "Speaker 1: A b c"


def test_render_by_speaker_without_diarization_has_no_labels() -> None:
    """No speakers at all: plain text, no 'Speaker None'."""
    assert render_by_speaker(words("just text")) == "just text"


def test_render_by_speaker_can_tag_languages_and_translations() -> None:
    """language=True tags [xx] and splits on language; translations are marked."""
    tokens = [
        *words("Hello", speaker="1", language="en", translation_status="original"),
        *words(" Hallo", speaker="1", language="de", translation_status="translation"),
    ]
    assert render_by_speaker(tokens, language=True) == (
        "Speaker 1 [en]: Hello\n\nSpeaker 1 [de] (translation): Hallo"
    )
    assert render_by_speaker(tokens, only="original", label="S{speaker}") == "S1: Hello"


# --- timestamps and formats ---------------------------------------------------------------------


def test_timestamps_use_each_formats_separator() -> None:
    """SRT uses a comma, WebVTT a dot; hours keep growing past 99."""
    ms = ((1 * 60 + 2) * 60 + 3) * 1000 + 4
    assert srt_timestamp(ms) == "01:02:03,004"
    assert vtt_timestamp(ms) == "01:02:03.004"
    assert srt_timestamp(0) == "00:00:00,000"
    assert vtt_timestamp(100 * 3_600_000) == "100:00:00.000"


def test_srt_blocks_are_numbered_from_one() -> None:
    """index, times, text, blank line, per cue."""
    srt = to_srt(words("Hello world.") + words("Again.", start=5000))
    assert srt == (
        "1\n00:00:00,000 --> 00:00:00,700\nHello world.\n\n"
        "2\n00:00:05,000 --> 00:00:05,700\nAgain.\n\n"
    )


def test_vtt_has_a_header_and_escapes_markup() -> None:
    """WEBVTT header; &, < and > are escaped in cue text."""
    vtt = to_vtt([tok("a<b> & c", 0, 1000)])
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na&lt;b&gt; &amp; c\n\n"


def test_speaker_labels_in_subtitles() -> None:
    """SRT prefixes 'Speaker N:'; WebVTT uses a <v> voice tag."""
    tokens = words("Hi.", speaker="1") + words("Yes.", start=400, speaker="2")
    assert "Speaker 1: Hi." in to_srt(tokens, speakers=True)
    assert "<v Speaker 2>Yes." in to_vtt(tokens, speakers=True)


# --- cue rules -----------------------------------------------------------------------------------


def test_cues_end_at_sentence_punctuation() -> None:
    """A cue closes after . ? ! even with room left."""
    cues = build_cues(words("One two. Three four? Five"))
    assert [c.text for c in cues] == ["One two.", "Three four?", "Five"]


def test_cues_break_on_speaker_change_and_long_pauses() -> None:
    """A new speaker or a pause longer than max_gap_ms starts a new cue."""
    tokens = words("a b", speaker="1") + words(" c", start=600, speaker="2")
    tokens += words(" d", start=5000, speaker="2")
    assert [c.text for c in build_cues(tokens)] == ["a b", "c", "d"]


def test_cues_respect_max_duration() -> None:
    """No cue spans more than max_duration_ms (unless one word does)."""
    cues = build_cues(words("w " * 40, step=500), CueRules(max_duration_ms=2000))
    assert all(c.end_ms - c.start_ms <= 2000 for c in cues)
    assert len(cues) == 10


def test_cue_text_wraps_to_the_line_limit_without_splitting_words() -> None:
    """Lines stay within max_line_chars and max_lines; sub-word pieces stay together."""
    tokens = [tok(" trans", i * 100, i * 100 + 50) for i in range(0, 60, 2)]
    tokens = [
        x for i, t in enumerate(tokens) for x in (t, tok("cript", i * 200 + 50, i * 200 + 100))
    ]
    rules = CueRules(max_line_chars=20, max_lines=2)
    cues = build_cues(tokens, rules)
    for cue in cues:
        lines = cue.lines(rules)
        assert len(lines) <= 2
        assert all(len(line) <= 20 for line in lines)
        assert all(w == "transcript" for w in cue.text.split())


def test_two_lines_are_balanced() -> None:
    """A two-line cue splits near the middle (top line not longer), not greedily."""
    cue = Cue(start_ms=0, end_ms=1, text="aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk")
    rules = CueRules(max_line_chars=40)
    assert [len(line) for line in cue.lines(rules)] == [19, 23]


def test_untimed_translation_takes_the_span_of_its_sentence() -> None:
    """Realtime translation tokens have no timing: they cover the speech they follow."""
    tokens = [
        RealtimeToken(text="Hello", start_ms=1000, end_ms=1500, translation_status="original"),
        RealtimeToken(text=" world.", start_ms=1500, end_ms=2000, translation_status="original"),
        RealtimeToken(text=" Hallo", translation_status="translation"),
        RealtimeToken(text=" Welt.", translation_status="translation"),
        RealtimeToken(text=" Next.", start_ms=3000, end_ms=3500, translation_status="original"),
    ]
    cues = build_cues(tokens, only="translation")
    assert [(c.start_ms, c.end_ms, c.text) for c in cues] == [(1000, 2000, "Hallo Welt.")]
    both = build_cues(tokens)
    assert [c.text for c in both] == ["Hello world.", "Hallo Welt.", "Next."]
    assert [c.start_ms for c in both] == [1000, 1000, 3000]


def test_short_cues_are_held_but_never_into_the_next() -> None:
    """min_duration_ms stretches a flash cue up to the next cue's start."""
    tokens = [tok("A.", 0, 10), tok(" B.", 300, 320)]
    cues = build_cues(tokens, CueRules(min_duration_ms=700))
    assert [(c.start_ms, c.end_ms) for c in cues] == [(0, 300), (300, 1000)]


def test_rules_reject_nonsense() -> None:
    """Zero line width or negative gaps are caught early."""
    with pytest.raises(ClientValidationError):
        CueRules(max_line_chars=0)
    with pytest.raises(ClientValidationError):
        CueRules(max_gap_ms=-1)


# --- properties ----------------------------------------------------------------------------------

maybe_ms = st.none() | st.integers(0, 10_000_000)
any_token = st.builds(
    RealtimeToken,
    text=st.sampled_from([" a", "b", " cd", ".", " e!", "漢字", " <", "&", " ", "\n", "<end>", ""])
    | st.text(max_size=6),
    start_ms=maybe_ms,
    end_ms=maybe_ms,
    speaker=st.none() | st.sampled_from(["1", "2"]),
    translation_status=st.none() | st.sampled_from(["original", "translation", "none"]),
)
any_rules = st.builds(
    CueRules,
    max_line_chars=st.integers(1, 50),
    max_lines=st.integers(1, 3),
    max_duration_ms=st.integers(1, 10_000),
    max_gap_ms=st.integers(0, 3_000),
    min_duration_ms=st.integers(0, 2_000),
    break_on_sentence=st.booleans(),
    break_on_speaker=st.booleans(),
)
only_st = st.sampled_from([None, "original", "translation"])


def _squash(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(any_token, max_size=40), rules=any_rules, only=only_st)
def test_cues_are_well_formed_for_any_tokens(
    tokens: list[RealtimeToken], rules: CueRules, only: Any
) -> None:
    """No empty cue, starts never decrease, ends never precede starts, all text is kept."""
    cues = build_cues(tokens, rules, only=only)
    assert all(c.text.strip() and c.text == " ".join(c.text.split()) for c in cues)
    assert all(c.end_ms >= c.start_ms >= 0 for c in cues)
    assert all(a.start_ms <= b.start_ms for a, b in itertools.pairwise(cues))
    assert _squash("".join(c.text for c in cues)) == _squash(render_text(tokens, only=only))


SRT_BLOCK = re.compile(
    r"(\d+)\n(\d{2,}:\d{2}:\d{2},\d{3}) --> (\d{2,}:\d{2}:\d{2},\d{3})\n((?:.+\n)+)\n"
)
VTT_BLOCK = re.compile(
    r"(\d{2,}:\d{2}:\d{2}\.\d{3}) --> (\d{2,}:\d{2}:\d{2}\.\d{3})\n((?:.+\n)+)\n"
)


@settings(max_examples=150, deadline=None)
@given(tokens=st.lists(any_token, max_size=40), rules=any_rules, speakers=st.booleans())
def test_srt_and_vtt_parse_back_block_by_block(
    tokens: list[RealtimeToken], rules: CueRules, speakers: bool
) -> None:
    """The whole SRT / WebVTT text is a sequence of well-formed blocks, one per cue."""
    cues = build_cues(tokens, rules, speaker_labels=speakers)
    srt = format_srt(cues, rules, speakers=speakers)
    blocks = list(SRT_BLOCK.finditer(srt))
    assert "".join(m.group(0) for m in blocks) == srt
    assert [int(m.group(1)) for m in blocks] == list(range(1, len(cues) + 1))
    vtt = to_vtt(tokens, rules)
    assert vtt.startswith("WEBVTT\n\n")
    body = vtt.removeprefix("WEBVTT\n\n")
    vblocks = list(VTT_BLOCK.finditer(body))
    assert "".join(m.group(0) for m in vblocks) == body
    assert all("-->" not in m.group(3) for m in vblocks)


# --- render_tokens: the official SDK's live rendering --------------------------------------------


def test_render_tokens_labels_each_speaker_turn() -> None:
    """``Speaker N:`` opens each turn; turns after the first are separated by a blank line."""
    tokens = [
        tok("Hi", 0, 1, speaker="1"),
        tok(" there", 1, 2, speaker="1"),
        tok(" Hello", 2, 3, speaker="2"),
    ]
    assert render_tokens(tokens, []) == "Speaker 1:Hi there\n\nSpeaker 2: Hello"


def test_render_tokens_tags_language_changes_and_strips_the_next_space() -> None:
    """A language change starts a line with ``[xx] `` and the token loses its leading space;
    translated text is marked ``[Translation]``."""
    tokens = [
        tok(" Hello", 0, 1, language="en", translation_status="original"),
        tok(" Hola", 1, 2, language="es", translation_status="translation"),
    ]
    assert render_tokens(tokens, []) == "\n[en] Hello\n[Translation] [es] Hola"


def test_render_tokens_puts_non_final_tokens_after_final_ones() -> None:
    """Final tokens come first, then the non-final tail, as one string."""
    final = [RealtimeToken(text="Good", is_final=True)]
    tail = [RealtimeToken(text=" morn", is_final=False)]
    assert render_tokens(final, tail) == "Good morn"


def test_render_tokens_resets_the_language_at_each_speaker() -> None:
    """A new speaker's first token repeats its language tag even if unchanged."""
    tokens = [
        tok("A", 0, 1, speaker="1", language="en"),
        tok(" B", 1, 2, speaker="2", language="en"),
    ]
    assert render_tokens(tokens, []) == "Speaker 1:\n[en] A\n\nSpeaker 2:\n[en] B"
