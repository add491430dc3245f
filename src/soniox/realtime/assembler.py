"""A realtime transcript as it grows: final tokens appended exactly once, non-final ones replaced.

The server sends, in every result, the *new* final tokens and then the *current* non-final ones,
which replace those of the previous result (soniox-api.md §5.4). :class:`TranscriptAssembler`
keeps that bookkeeping in one place — the session's ``stream()`` helper, the CLI's live view and
``transcribe()`` all read it — and :func:`shift_event` moves a resumed connection's timestamps
back onto the stream's own clock: after a reconnection the server counts from the audio it was
sent again (the last final watermark), so its ``start_ms`` 0 is the stream's watermark.

Pure values in, pure values out; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
import msgspec

from soniox.types import RealtimeEvent, Token

__all__ = ["TranscriptAssembler", "TranscriptUpdate", "shift_event", "shift_token", "text_of"]


def shift_token(token: Token, offset_ms: int) -> Token:
    """``token`` with its timing moved ``offset_ms`` later (untimed tokens are unchanged)."""
    if not offset_ms or (token.start_ms is None and token.end_ms is None):
        return token
    return msgspec.structs.replace(
        token,
        start_ms=None if token.start_ms is None else token.start_ms + offset_ms,
        end_ms=None if token.end_ms is None else token.end_ms + offset_ms,
    )


def shift_event(event: RealtimeEvent, offset_ms: int) -> RealtimeEvent:
    """``event`` on the stream's clock: tokens and both watermarks moved ``offset_ms`` later."""
    if not offset_ms:
        return event
    return msgspec.structs.replace(
        event,
        tokens=[shift_token(token, offset_ms) for token in event.tokens],
        final_audio_proc_ms=(
            None if event.final_audio_proc_ms is None else event.final_audio_proc_ms + offset_ms
        ),
        total_audio_proc_ms=(
            None if event.total_audio_proc_ms is None else event.total_audio_proc_ms + offset_ms
        ),
    )


def text_of(tokens: Iterable[Token]) -> str:
    """The text of ``tokens``, special markers (``<fin>``, ``<end>``) left out."""
    return "".join(token.text for token in tokens if not token.is_special)


@attrs.frozen
class TranscriptUpdate:
    """What one result changed: the finals it added, the non-finals now current, the
    watermarks."""

    new_finals: tuple[Token, ...]
    non_finals: tuple[Token, ...]
    final_audio_proc_ms: int | None
    total_audio_proc_ms: int | None
    finished: bool

    @property
    def changed(self) -> bool:
        return bool(self.new_finals or self.non_finals)


class TranscriptAssembler:
    """The transcript so far: every final token once, in order, and the current non-finals."""

    __slots__ = ("_finals", "_non_finals", "final_audio_proc_ms", "finished", "total_audio_proc_ms")

    def __init__(self) -> None:
        self._finals: list[Token] = []
        self._non_finals: tuple[Token, ...] = ()
        self.final_audio_proc_ms: int | None = None
        self.total_audio_proc_ms: int | None = None
        self.finished = False

    def feed(self, event: RealtimeEvent) -> TranscriptUpdate:
        """Take one result (on the stream's clock: see :func:`shift_event`)."""
        finals = tuple(token for token in event.tokens if token.is_final)
        non_finals = tuple(token for token in event.tokens if not token.is_final)
        self._finals.extend(finals)
        self._non_finals = non_finals
        if event.final_audio_proc_ms is not None:
            self.final_audio_proc_ms = event.final_audio_proc_ms
        if event.total_audio_proc_ms is not None:
            self.total_audio_proc_ms = event.total_audio_proc_ms
        if event.finished:
            self.finished = True
            self._non_finals = ()  # the last result leaves nothing pending
        return TranscriptUpdate(
            finals,
            self._non_finals,
            event.final_audio_proc_ms,
            event.total_audio_proc_ms,
            event.finished,
        )

    @property
    def final_tokens(self) -> Sequence[Token]:
        return tuple(self._finals)

    @property
    def non_final_tokens(self) -> Sequence[Token]:
        return self._non_finals

    @property
    def tokens(self) -> list[Token]:
        """Finals, then the current non-finals."""
        return [*self._finals, *self._non_finals]

    @property
    def final_text(self) -> str:
        return text_of(self._finals)

    @property
    def text(self) -> str:
        """Everything heard so far, the non-final tail included."""
        return text_of(self.tokens)

    def __repr__(self) -> str:
        return (
            f"TranscriptAssembler({len(self._finals)} final, {len(self._non_finals)} non-final, "
            f"final_audio_proc_ms={self.final_audio_proc_ms})"
        )
