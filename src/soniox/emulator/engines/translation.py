"""Pseudo-translation shared by the engines: the emulator has no translation model.

A finished sentence is "translated" word by word into the word spelled backwards, so tests can
tell translated tokens from originals and map them back. Which language is the target follows
the request: ``one_way`` -> ``target_language``; ``two_way`` -> the other language of the pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .base import RecognitionOptions, RecognizedToken

__all__ = ["Translation", "pseudo_translate", "translation_for"]


@attrs.frozen
class Translation:
    """Source and target language of a session's translation."""

    source: str
    target: str

    @property
    def active(self) -> bool:
        """Translating into the language already spoken is a no-op (tokens are ``none``)."""
        return self.source != self.target


def translation_for(options: RecognitionOptions, source: str) -> Translation | None:
    """The translation ``options`` ask for, given the spoken ``source`` language."""
    spec: Mapping[str, Any] | None = options.translation
    if not spec:
        return None
    if spec.get("type") == "two_way":
        a, b = spec.get("language_a"), spec.get("language_b")
        target = b if source == a else a
    else:
        target = spec.get("target_language")
    if not isinstance(target, str) or not target:
        return None
    return Translation(source, target)


def pseudo_translate(
    tokens: Sequence[RecognizedToken], translation: Translation, *, timed: bool
) -> list[RecognizedToken]:
    """One ``translation`` token per source word (sub-word tokens joined), spelled backwards.

    ``timed``: carry the source word's span and lowest confidence (file transcripts, whose
    schema requires them); realtime translation tokens carry no timing.
    """
    words: list[list[RecognizedToken]] = []
    for token in tokens:
        if token.text.startswith("<"):
            continue
        if token.text.startswith(" ") or not words:
            words.append([token])
        else:
            words[-1].append(token)
    out: list[RecognizedToken] = []
    for parts in words:
        word = "".join(p.text for p in parts).strip()
        timing: dict[str, Any] = {}
        if timed:
            confidences = [p.confidence for p in parts if p.confidence is not None]
            timing = {
                "start_ms": parts[0].start_ms,
                "end_ms": parts[-1].end_ms,
                "confidence": min(confidences) if confidences else None,
            }
        out.append(
            RecognizedToken(
                text=" " + word[::-1],
                speaker=parts[0].speaker,
                language=translation.target,
                translation_status="translation",
                source_language=translation.source,
                **timing,
            )
        )
    return out
