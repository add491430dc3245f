"""The audio a realtime session sent, and what it keeps to resume exactly after a reconnection.

Resuming without losing or repeating a word rests on one fact of the protocol: every token
before the last ``final_audio_proc_ms`` watermark is final and already delivered, and a new
connection sent the audio from that watermark on yields the rest (soniox-api.md §5.4; the
emulator's deterministic engine is built to make that exact). So the session keeps the audio
sent after the watermark — and only that: each result lets it drop what is now final — and on
reconnection sends it again, after the same config, shifting the new connection's timestamps by
the watermark (:func:`~soniox.realtime.assembler.shift_event`).

That needs bytes ↔ milliseconds, which :class:`AudioLayout` gives for headerless formats (PCM,
mu-law, A-law: the config's ``sample_rate`` and ``num_channels``) and for a WAV stream (read
from its header, which is sent again before the replayed audio). Compressed containers (MP3,
Ogg, …) cannot be cut at a watermark: :meth:`AudioLedger.replay` then says so, and the session
reports the gap instead of resuming silently wrong.

The ledger is bounded (``max_retained_bytes``): audio the server has not finalized beyond that
bound is dropped oldest first, and the replay starts later, with the lost span reported as an
:class:`AudioGap` — never silently. Pure bookkeeping: no I/O, no clock.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Final, Literal

import attrs

from soniox.types import AudioFormat, RealtimeSTTConfig

__all__ = ["AudioGap", "AudioLayout", "AudioLedger", "Replay", "sample_width", "wav_layout"]

_WIDTHS: Final = {"8": 1, "16": 2, "24": 3, "32": 4, "64": 8}
_WAV_HEADER_MAX: Final = 1 << 16
"""Bytes of a WAV stream read while looking for its ``data`` chunk before giving up."""


def sample_width(audio_format: AudioFormat | str) -> int | None:
    """Bytes per sample of a headerless format (``pcm_s16le`` → 2, ``mulaw`` → 1), else None."""
    name = str(audio_format)
    if name in ("mulaw", "alaw"):
        return 1
    if not name.startswith("pcm_"):
        return None
    bits = name[5:].rstrip("lbe")  # "s16le" → "16"
    return _WIDTHS.get(bits)


@attrs.frozen
class AudioLayout:
    """Fixed-size audio: how many bytes a millisecond takes, and a header sent before it."""

    sample_rate: int
    frame_bytes: int
    """Bytes per sample frame: channels x sample width."""
    header: bytes = b""
    """A container's header (WAV), sent again before replayed audio."""

    @classmethod
    def for_config(cls, config: RealtimeSTTConfig) -> AudioLayout | None:
        """The layout a headerless config declares; None for containers and ``auto``."""
        width = sample_width(config.audio_format)
        if width is None or config.sample_rate is None or config.num_channels is None:
            return None
        return cls(config.sample_rate, width * config.num_channels)

    def offset_of(self, ms: int) -> int:
        """Bytes of audio (after the header) before ``ms``, on a whole frame."""
        return ms * self.sample_rate // 1000 * self.frame_bytes

    def ms_of(self, offset: int) -> int:
        """Whole milliseconds in ``offset`` bytes of audio (rounded down)."""
        return offset // self.frame_bytes * 1000 // self.sample_rate

    def ms_at_or_after(self, offset: int) -> int:
        """The first whole millisecond at or after ``offset`` bytes."""
        ms = self.ms_of(offset)
        return ms if self.offset_of(ms) >= offset else ms + 1


def wav_layout(head: bytes) -> AudioLayout | Literal["more"] | None:
    """A WAV stream's layout from its first bytes: the layout (its header: everything up to
    the ``data`` chunk's samples), ``"more"`` when more bytes are needed, None when it is not
    a WAV stream of fixed-size samples (PCM, float, A-law, mu-law)."""
    if len(head) < 12:
        return "more" if b"RIFF".startswith(head[:4]) else None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, rate, frame = 12, 0, 0
    while True:
        if len(head) < position + 8:
            return "more" if len(head) < _WAV_HEADER_MAX else None
        chunk, size = head[position : position + 4], struct.unpack_from("<I", head, position + 4)[0]
        body = position + 8
        if chunk == b"fmt ":
            if len(head) < body + 16:
                return "more"
            tag, channels, rate, _, block_align = struct.unpack_from("<HHIIH", head, body)
            if tag not in (1, 3, 6, 7, 0xFFFE) or not channels or not rate or not block_align:
                return None
            frame = block_align
        elif chunk == b"data":
            if not frame:
                return None
            return AudioLayout(rate, frame, head[:body])
        position = body + size + (size & 1)


@attrs.frozen
class AudioGap:
    """Audio the stream lost: from ``start_ms`` to ``end_ms`` on the stream's clock (None:
    up to where the connection dropped, which a compressed format does not tell)."""

    start_ms: int
    end_ms: int | None
    reason: str


@attrs.frozen
class Replay:
    """What a new connection is sent before new audio: ``chunks`` (the header first, if any),
    starting at ``offset_ms`` of the stream; ``gap``: audio that could not be kept, if any."""

    offset_ms: int
    chunks: tuple[bytes, ...]
    gap: AudioGap | None = None


class AudioLedger:
    """The session's audio: bytes sent, the part kept since the watermark, and its replay."""

    __slots__ = (
        "_head",
        "_kept",
        "_kept_bytes",
        "_kept_from",
        "_max",
        "_skip_reason",
        "_sniffing",
        "layout",
        "sent_bytes",
        "skipped_bytes",
        "watermark_ms",
    )

    def __init__(
        self, layout: AudioLayout | None, *, max_retained_bytes: int, sniff_wav: bool = False
    ) -> None:
        """``layout``: from the config (headerless formats); ``sniff_wav``: read it from the
        stream's first bytes instead (``auto`` / ``wav`` configs)."""
        self.layout = layout
        self._max = max_retained_bytes
        self._sniffing = layout is None and sniff_wav
        self._head = bytearray()
        self._kept: deque[bytes] = deque()
        self._kept_bytes = 0
        self._kept_from = 0
        """Audio offset (bytes after any header) of the first kept byte."""
        self.sent_bytes = 0
        """Audio bytes sent (after any header), or skipped: the stream's position."""
        self.skipped_bytes = 0
        """Audio that never went out (dropped by a full buffer) but takes its place in time."""
        self._skip_reason: str | None = None
        self.watermark_ms = 0

    @property
    def resumable(self) -> bool:
        """Whether a replay can start exactly at the watermark (a known layout)."""
        return self.layout is not None

    @property
    def retained_bytes(self) -> int:
        return self._kept_bytes

    def sent(self, chunk: bytes) -> None:
        """``chunk`` went to the server."""
        if self._sniffing:
            chunk = self._sniff(chunk)
            if not chunk:
                return
        self.sent_bytes += len(chunk)
        if self.layout is None:
            return
        self._kept.append(chunk)
        self._kept_bytes += len(chunk)
        if self._kept_bytes > self._max:
            self._shed()

    def skip(self, size: int, *, reason: str) -> None:
        """``size`` bytes of audio at the stream's position were dropped unsent: the stream
        goes on after them (its clock too), and the audio kept before them cannot be replayed
        next to what follows — the next :meth:`replay` starts after the hole and reports the
        gap from the watermark, with ``reason``."""
        if size <= 0:
            return
        self.sent_bytes += size
        self.skipped_bytes += size
        self._skip_reason = reason
        self._kept.clear()
        self._kept_bytes = 0
        self._kept_from = self.sent_bytes

    def _sniff(self, chunk: bytes) -> bytes:
        """While a WAV header is being read: collect it; once known, the audio part of
        ``chunk`` is returned (and counted from the data chunk on)."""
        self._head += chunk
        found = wav_layout(bytes(self._head))
        if found == "more":
            return b""
        self._sniffing = False
        head = bytes(self._head)
        self._head.clear()
        if isinstance(found, AudioLayout):
            self.layout = found
            return head[len(found.header) :]
        return head  # not WAV: counted, not kept

    def _shed(self) -> None:
        """Drop the oldest kept audio until within the bound, on a whole millisecond."""
        layout = self.layout
        assert layout is not None
        target = self._kept_from + (self._kept_bytes - self._max)
        start = layout.offset_of(layout.ms_at_or_after(target))
        self._drop_until(start)

    def _drop_until(self, offset: int) -> None:
        kept = self._kept
        while kept and self._kept_from + len(kept[0]) <= offset:
            first = kept.popleft()
            self._kept_from += len(first)
            self._kept_bytes -= len(first)
        if kept and self._kept_from < offset:
            cut = offset - self._kept_from
            kept[0] = kept[0][cut:]
            self._kept_from += cut
            self._kept_bytes -= cut
        if not kept:
            self._kept_from = max(self._kept_from, offset)

    def watermark(self, final_audio_proc_ms: int) -> None:
        """A result said everything before ``final_audio_proc_ms`` is final: drop that audio."""
        if final_audio_proc_ms <= self.watermark_ms:
            return
        self.watermark_ms = final_audio_proc_ms
        layout = self.layout
        if layout is None:
            return
        cut = layout.offset_of(final_audio_proc_ms)
        if cut > self._kept_from:
            self._drop_until(cut)

    def replay(self) -> Replay:
        """What to send a new connection so that its results continue the stream: the kept
        audio from the watermark (the header first), or — audio lost to the bound, or a
        layout that cannot be cut — the gap, and what can still be sent."""
        layout = self.layout
        if layout is None:
            gap = AudioGap(
                self.watermark_ms,
                None,
                self._skip_reason
                or "the audio format cannot be cut at a watermark (a compressed container): "
                "audio not yet final when the connection dropped is not sent again",
            )
            self._skip_reason = None
            return Replay(self.watermark_ms, (), gap)
        start_ms = layout.ms_at_or_after(self._kept_from)
        gap = None
        if start_ms > self.watermark_ms:
            gap = AudioGap(
                self.watermark_ms,
                start_ms,
                self._skip_reason
                or "the audio kept for resuming exceeded its bound (max_retained_bytes)",
            )
        self._skip_reason = None
        chunks = (layout.header, *self._kept) if layout.header else tuple(self._kept)
        return Replay(max(start_ms, self.watermark_ms), chunks, gap)

    def resumed(self, replay: Replay) -> None:
        """A new connection was sent ``replay`` (its chunks are not :meth:`sent` again): the
        stream goes on from ``replay.offset_ms``."""
        self.watermark_ms = max(self.watermark_ms, replay.offset_ms)

    def __repr__(self) -> str:
        layout = "unknown layout" if self.layout is None else f"{self.layout.sample_rate} Hz"
        return (
            f"AudioLedger({layout}, sent {self.sent_bytes} B, kept {self._kept_bytes} B from "
            f"watermark {self.watermark_ms} ms)"
        )
