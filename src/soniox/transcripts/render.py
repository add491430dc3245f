"""Turn tokens into text: the plain transcript, paragraphs by speaker, SRT and WebVTT subtitles.

Every function takes any iterable of tokens: the ``tokens`` of a
:class:`~soniox.types.TranscriptionTranscript`, the streamed tokens of
:func:`~soniox.transcripts.iter_transcript_tokens`, or final
:class:`~soniox.types.RealtimeToken` values. The ``<end>`` / ``<fin>`` markers of realtime
sessions are never text and are dropped.

``only`` picks the tokens of a translated transcript: ``None`` (everything, in the API's
order: each sentence, then its translation), ``"original"`` (what was said) or
``"translation"`` (the translation).

Subtitles are built from *cues*; :func:`iter_cues` is a generator, so a streamed transcript can
be written as subtitles with flat memory. Rules (:class:`CueRules`): a cue never splits a word,
ends after sentence punctuation, on a change of speaker, before a pause longer than
``max_gap_ms``, and before it would exceed ``max_duration_ms`` or ``max_lines`` lines of
``max_line_chars``. A translated token without timing (realtime translations carry none) is
placed over the span of the original speech it follows (the timed tokens since the previous
translation), spread by length; a cue's start never goes back in time, and a cue never ends
before it starts.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable, Iterator
from typing import Final, Literal, Protocol, TypeAlias

import attrs

from soniox.errors import ClientValidationError

__all__ = [
    "Cue",
    "CueRules",
    "Only",
    "TokenLike",
    "build_cues",
    "format_srt",
    "format_vtt",
    "iter_cues",
    "render_by_speaker",
    "render_text",
    "render_tokens",
    "srt_timestamp",
    "to_srt",
    "to_vtt",
    "vtt_timestamp",
]

Only: TypeAlias = Literal["original", "translation"] | None
"""Which tokens of a translated transcript to keep (None: all of them)."""

_SPECIAL: Final = frozenset({"<end>", "<fin>"})
_SENTENCE_END: Final = tuple(".?!…\u3002\uff1f\uff01\u061f\u0964")  # also CJK, Arabic, Devanagari
_TRANSLATION: Final = "translation"


class TokenLike(Protocol):
    """What the renderers read from a token (async transcript and realtime tokens both fit)."""

    @property
    def text(self) -> str: ...
    @property
    def start_ms(self) -> int | None: ...
    @property
    def end_ms(self) -> int | None: ...
    @property
    def speaker(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def translation_status(self) -> str | None: ...


def _check_only(only: Only) -> None:
    if only not in (None, "original", "translation"):
        raise ClientValidationError(
            f"only must be None, 'original' or 'translation', got {only!r}", field="only"
        )


def _keep(token: TokenLike, only: Only) -> bool:
    if only is None:
        return True
    return (token.translation_status == _TRANSLATION) == (only == "translation")


def _selected(tokens: Iterable[TokenLike], only: Only) -> Iterator[TokenLike]:
    _check_only(only)
    for token in tokens:
        if token.text not in _SPECIAL and _keep(token, only):
            yield token


# --- plain text ------------------------------------------------------------------------------


def render_text(tokens: Iterable[TokenLike], *, only: Only = None) -> str:
    """The tokens' text joined as they are: each token carries its own leading space, so the
    result may start with one (the API's ``text`` field is the same join, stripped)."""
    return "".join(token.text for token in _selected(tokens, only))


def render_by_speaker(
    tokens: Iterable[TokenLike],
    *,
    only: Only = None,
    language: bool = False,
    label: str = "Speaker {speaker}",
) -> str:
    """Paragraphs, one per turn: ``Speaker 1: ...``, a blank line between them.

    A new paragraph starts when the speaker changes, when the text switches between original
    and translation, and (with ``language=True``, which also tags each paragraph ``[en]``) when
    the language changes. Tokens without a speaker continue the current paragraph; without any
    speaker (diarization off) paragraphs have no label. Translation paragraphs are marked
    ``(translation)``.
    """
    paragraphs: list[str] = []
    parts: list[str] = []
    key: tuple[str | None, bool, str | None] | None = None

    def flush() -> None:
        text = "".join(parts).strip()
        if text and key is not None:
            speaker, translated, lang = key
            tags: list[str] = []
            if speaker is not None:
                tags.append(label.format(speaker=speaker))
            if lang is not None:
                tags.append(f"[{lang}]")
            if translated:
                tags.append("(translation)")
            paragraphs.append(f"{' '.join(tags)}: {text}" if tags else text)
        parts.clear()

    for token in _selected(tokens, only):
        if key is not None and not token.text.strip():
            parts.append(token.text)  # whitespace never opens a paragraph
            continue
        translated = token.translation_status == _TRANSLATION
        speaker = token.speaker if token.speaker is not None else (key[0] if key else None)
        lang = None
        if language:
            lang = token.language if token.language is not None else (key[2] if key else None)
        new_key = (speaker, translated, lang)
        if new_key != key:
            flush()
            key = new_key
        parts.append(token.text)
    flush()
    return "\n\n".join(paragraphs)


def render_tokens(final_tokens: Iterable[TokenLike], non_final_tokens: Iterable[TokenLike]) -> str:
    """The official SDK's live rendering (``soniox.utils.render_tokens``), output for output.

    Final tokens, then non-final ones, as one string: ``Speaker N:`` where the speaker changes
    (a blank line before every speaker after the first), ``[en]`` — ``[Translation] [es]`` for
    translated text — on a new line where the language changes (the text after it loses its
    leading space). Unlike the other renderers it keeps every token, ``<end>``/``<fin>``
    included, as the official function does.
    """
    pieces: list[str] = []
    speaker: str | None = None
    language: str | None = None
    for token in itertools.chain(final_tokens, non_final_tokens):
        text = token.text or ""
        if token.speaker is not None and token.speaker != speaker:
            pieces.append("Speaker " if speaker is None else "\n\nSpeaker ")
            pieces.append(f"{token.speaker}:")
            speaker, language = token.speaker, None
        if token.language is not None and token.language != language:
            language = token.language
            marker = "[Translation] " if token.translation_status == _TRANSLATION else ""
            pieces.append(f"\n{marker}[{language}] ")
            text = text.lstrip()
        pieces.append(text)
    return "".join(pieces)


# --- subtitles ------------------------------------------------------------------------------


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ClientValidationError(
            f"CueRules.{attribute.name} must be > 0, got {value!r}", field=attribute.name
        )


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ClientValidationError(
            f"CueRules.{attribute.name} must be >= 0, got {value!r}", field=attribute.name
        )


@attrs.frozen(kw_only=True)
class CueRules:
    """How tokens are cut into subtitle cues (defaults follow common broadcast guidelines)."""

    max_line_chars: int = attrs.field(default=42, validator=_positive)
    max_lines: int = attrs.field(default=2, validator=_positive)
    max_duration_ms: int = attrs.field(default=7_000, validator=_positive)
    max_gap_ms: int = attrs.field(default=1_500, validator=_non_negative)
    """A pause longer than this between words starts a new cue."""
    min_duration_ms: int = attrs.field(default=700, validator=_non_negative)
    """Short cues are held this long, unless the next cue starts earlier."""
    break_on_sentence: bool = True
    break_on_speaker: bool = True


DEFAULT_RULES: Final = CueRules()


@attrs.frozen(kw_only=True)
class Cue:
    """One subtitle: a time span and its text (whitespace-normalized, one logical line)."""

    start_ms: int
    end_ms: int
    text: str
    speaker: str | None = None
    language: str | None = None
    translation: bool = False

    def lines(self, rules: CueRules = DEFAULT_RULES, *, prefix: str = "") -> list[str]:
        """The text wrapped to ``rules.max_line_chars`` (balanced over two lines)."""
        return _wrap(prefix + self.text, rules.max_line_chars)

    def srt(self, index: int, rules: CueRules = DEFAULT_RULES, *, speakers: bool = False) -> str:
        """This cue as an SRT block (``index``, times, text, blank line)."""
        prefix = ""
        if speakers and self.speaker is not None:
            prefix = _speaker_label(self.speaker) + " "
        lines = self.lines(rules, prefix=prefix)
        times = f"{srt_timestamp(self.start_ms)} --> {srt_timestamp(self.end_ms)}"
        return f"{index}\n{times}\n" + "\n".join(lines) + "\n\n"

    def vtt(self, rules: CueRules = DEFAULT_RULES, *, speakers: bool = False) -> str:
        """This cue as a WebVTT block (times, escaped text with a ``<v>`` voice tag, blank line)."""
        lines = [_vtt_escape(line) for line in self.lines(rules)]
        if speakers and self.speaker is not None:
            lines[0] = f"<v Speaker {_vtt_escape(self.speaker)}>{lines[0]}"
        times = f"{vtt_timestamp(self.start_ms)} --> {vtt_timestamp(self.end_ms)}"
        return f"{times}\n" + "\n".join(lines) + "\n\n"


def _timestamp(ms: int, sep: str) -> str:
    ms = max(0, int(ms))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1_000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def srt_timestamp(ms: int) -> str:
    """``HH:MM:SS,mmm`` (hours grow past 99 if needed)."""
    return _timestamp(ms, ",")


def vtt_timestamp(ms: int) -> str:
    """``HH:MM:SS.mmm``."""
    return _timestamp(ms, ".")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    lines = textwrap.wrap(
        text, width, break_long_words=False, break_on_hyphens=False, expand_tabs=False
    )
    if len(lines) == 2:  # balance the two lines (bottom line not much longer than the top)
        best: tuple[int, int] | None = None
        for i, ch in enumerate(text):
            if ch == " ":
                longest = max(i, len(text) - i - 1)
                if longest <= width and (best is None or longest < best[0]):
                    best = (longest, i)
        if best is not None:
            cut = best[1]
            lines = [text[:cut], text[cut + 1 :]]
    return lines or [text]


@attrs.define
class _Timed:
    """A selected token with its (possibly inferred) span."""

    text: str
    start: int
    end: int
    speaker: str | None
    language: str | None
    translation: bool


def _untimed(token: TokenLike) -> bool:
    start, end = token.start_ms, token.end_ms
    if start is None or end is None:
        return True
    # An async translation token may carry zeros for "no timing".
    return token.translation_status == _TRANSLATION and start == 0 and end == 0


def _timed_tokens(tokens: Iterable[TokenLike], only: Only) -> Iterator[_Timed]:
    """Selected tokens with spans; untimed ones take the span of the speech they follow."""
    _check_only(only)
    run_start: int | None = None  # first timed token since the last untimed run
    last_end = 0
    pending: list[TokenLike] = []
    previous_untimed = False

    def spread(start: int, end: int) -> Iterator[_Timed]:
        weights = [max(1, len(t.text.strip())) for t in pending]
        total = sum(weights)
        done = 0
        for token, weight in zip(pending, weights, strict=True):
            a = start + (end - start) * done // total
            done += weight
            b = start + (end - start) * done // total
            if _keep(token, only):
                yield _make(token, a, b)
        pending.clear()

    for token in tokens:
        if token.text in _SPECIAL:
            continue
        if _untimed(token):
            pending.append(token)
            previous_untimed = True
            continue
        start = int(token.start_ms or 0)
        end = max(start, int(token.end_ms or 0))
        if pending:
            if run_start is None:
                yield from spread(start, start)
            else:
                yield from spread(run_start, last_end)
        if previous_untimed or run_start is None:
            run_start = start
        previous_untimed = False
        last_end = max(last_end, end)
        if _keep(token, only):
            yield _make(token, start, end)
    if pending:
        yield from spread(run_start or 0, last_end) if run_start is not None else spread(0, 0)


def _make(token: TokenLike, start: int, end: int) -> _Timed:
    return _Timed(
        token.text,
        start,
        end,
        token.speaker,
        token.language,
        token.translation_status == _TRANSLATION,
    )


@attrs.define
class _Word:
    text: str
    start: int
    end: int
    speaker: str | None
    language: str | None
    translation: bool


def _words(timed: Iterable[_Timed], rules: CueRules) -> Iterator[_Word]:
    """Group sub-word tokens into words (a token starting with whitespace starts one).

    Text without spaces (Chinese, Japanese...) is cut every ``max_line_chars`` characters.
    """
    word: _Word | None = None
    for t in timed:
        if word is not None and (
            t.text[:1].isspace()
            or t.translation != word.translation
            or (t.speaker is not None and word.speaker is not None and t.speaker != word.speaker)
            or len(word.text.strip()) + len(t.text) > rules.max_line_chars
        ):
            yield word
            word = None
        if word is None:
            word = _Word(t.text, t.start, t.end, t.speaker, t.language, t.translation)
        else:
            word.text += t.text
            word.end = max(word.end, t.end)
            word.speaker = word.speaker if word.speaker is not None else t.speaker
            word.language = word.language if word.language is not None else t.language
    if word is not None:
        yield word


@attrs.define
class _Building:
    parts: list[str]
    start: int
    end: int
    speaker: str | None
    language: str | None
    translation: bool
    lines: int = 1
    line_len: int = 0

    def fits(self, pieces: list[str], rules: CueRules, *, force: bool = False) -> bool:
        """Add the pieces if they still fit in ``max_lines`` (simulating the greedy wrap)."""
        lines, line_len = self.lines, self.line_len
        for piece in pieces:
            if line_len == 0:
                line_len = len(piece)
            elif line_len + 1 + len(piece) <= rules.max_line_chars:
                line_len += 1 + len(piece)
            else:
                lines += 1
                line_len = len(piece)
        if lines > rules.max_lines and not force:
            return False
        self.lines, self.line_len = lines, line_len
        return True


def _speaker_label(speaker: str) -> str:
    return f"Speaker {speaker}:"


def _raw_cues(words: Iterable[_Word], rules: CueRules, *, labels: bool) -> Iterator[_Building]:
    cue: _Building | None = None
    for w in words:
        pieces = w.text.split()
        if cue is not None:
            speaker_changed = (
                rules.break_on_speaker
                and w.speaker is not None
                and cue.speaker is not None
                and w.speaker != cue.speaker
            )
            if (
                speaker_changed
                or w.translation != cue.translation
                or w.end - cue.start > rules.max_duration_ms
                or w.start - cue.end > rules.max_gap_ms
                or not cue.fits(pieces, rules)
            ):
                yield cue
                cue = None
        if cue is None:
            cue = _Building([w.text], w.start, w.end, w.speaker, w.language, w.translation)
            label = _speaker_label(w.speaker).split() if labels and w.speaker is not None else []
            cue.fits(label, rules, force=True)  # the label shares the first line
            cue.fits(pieces, rules, force=True)  # a cue takes its first word whatever its size
        else:
            cue.parts.append(w.text)
            cue.end = max(cue.end, w.end)
            cue.speaker = cue.speaker if cue.speaker is not None else w.speaker
            cue.language = cue.language if cue.language is not None else w.language
        if rules.break_on_sentence and w.text.rstrip().endswith(_SENTENCE_END):
            yield cue
            cue = None
    if cue is not None:
        yield cue


def iter_cues(
    tokens: Iterable[TokenLike],
    rules: CueRules | None = None,
    *,
    only: Only = None,
    speaker_labels: bool = False,
) -> Iterator[Cue]:
    """Subtitle cues from tokens, lazily (see the module docs for the rules).

    ``speaker_labels``: leave room on the first line for the ``Speaker N:`` label that
    :func:`format_srt` adds with ``speakers=True``. Guarantees, for any tokens: no cue has empty
    text; start times never decrease; every cue ends at or after its start; the cues' text,
    concatenated, is the tokens' text (whitespace normalized).
    """
    rules = rules or DEFAULT_RULES
    words = _words(_timed_tokens(tokens, only), rules)
    held: Cue | None = None
    floor = 0
    for raw in _raw_cues(words, rules, labels=speaker_labels):
        text = " ".join("".join(raw.parts).split())
        if not text:
            continue
        start = max(raw.start, floor)
        floor = start
        cue = Cue(
            start_ms=start,
            end_ms=max(raw.end, start),
            text=text,
            speaker=raw.speaker,
            language=raw.language,
            translation=raw.translation,
        )
        if held is not None:
            yield _held_for(held, start, rules)
        held = cue
    if held is not None:
        yield _held_for(held, None, rules)


def _held_for(cue: Cue, next_start: int | None, rules: CueRules) -> Cue:
    """Stretch a short cue to ``min_duration_ms`` without running into the next one."""
    target = cue.start_ms + rules.min_duration_ms
    if next_start is not None and next_start > cue.start_ms:
        target = min(target, next_start)
    if target > cue.end_ms:
        return attrs.evolve(cue, end_ms=target)
    return cue


def build_cues(
    tokens: Iterable[TokenLike],
    rules: CueRules | None = None,
    *,
    only: Only = None,
    speaker_labels: bool = False,
) -> list[Cue]:
    """:func:`iter_cues` as a list."""
    return list(iter_cues(tokens, rules, only=only, speaker_labels=speaker_labels))


def format_srt(
    cues: Iterable[Cue], rules: CueRules | None = None, *, speakers: bool = False
) -> str:
    """SubRip text for ``cues`` (numbered from 1; ``speakers``: prefix ``Speaker N:``)."""
    rules = rules or DEFAULT_RULES
    return "".join(cue.srt(i, rules, speakers=speakers) for i, cue in enumerate(cues, 1))


def format_vtt(
    cues: Iterable[Cue], rules: CueRules | None = None, *, speakers: bool = False
) -> str:
    """WebVTT text for ``cues`` (``speakers``: a ``<v Speaker N>`` voice tag per cue)."""
    rules = rules or DEFAULT_RULES
    return "WEBVTT\n\n" + "".join(cue.vtt(rules, speakers=speakers) for cue in cues)


def to_srt(
    tokens: Iterable[TokenLike],
    rules: CueRules | None = None,
    *,
    only: Only = None,
    speakers: bool = False,
) -> str:
    """SubRip subtitles (``HH:MM:SS,mmm``) for the tokens."""
    cues = iter_cues(tokens, rules, only=only, speaker_labels=speakers)
    return format_srt(cues, rules, speakers=speakers)


def to_vtt(
    tokens: Iterable[TokenLike],
    rules: CueRules | None = None,
    *,
    only: Only = None,
    speakers: bool = False,
) -> str:
    """WebVTT subtitles (``HH:MM:SS.mmm``) for the tokens."""
    return format_vtt(iter_cues(tokens, rules, only=only), rules, speakers=speakers)
