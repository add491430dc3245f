"""Audio sources for the high-level helpers, and the pace at which a recording is sent.

``transcribe()`` / ``stream()`` take what users have at hand — a path, ``bytes``, a binary file
object, or an iterator of chunks (a microphone callback's queue, a telephony stream) — and
:func:`chunks_of` turns the first three into fixed-size chunks. A recording is sent at real
time unless told otherwise (the service expects near-real-time audio; a burst of an hour of
audio may be cut off): :class:`Pacer` says how long to wait before each chunk so that the audio
sent never runs ahead of the wall clock times ``speed``. It needs bytes per millisecond, which a
headerless config or a WAV header gives; for other formats it cannot pace and says so (None).

Pure arithmetic and plain reads; the waiting is the shells'.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final, TypeAlias

import attrs

from soniox.errors import ClientValidationError

from .ledger import AudioLayout, wav_layout

__all__ = ["DEFAULT_CHUNK_MS", "AudioSource", "Pacer", "chunks_of", "layout_from_head"]

AudioSource: TypeAlias = str | Path | bytes | bytearray | BinaryIO | Iterable[bytes]
"""What ``transcribe()`` / ``stream()`` accept (the async ones: async iterables too)."""
DEFAULT_CHUNK_MS: Final = 120
"""Chunk length when the size follows from the audio's layout (3,840 bytes of 16 kHz PCM)."""
_FALLBACK_CHUNK: Final = 4096
"""Chunk size when it does not (compressed audio): the official helpers' default."""


def layout_from_head(head: bytes, configured: AudioLayout | None) -> AudioLayout | None:
    """The layout of audio that starts with ``head``: the config's, else a WAV header's."""
    if configured is not None:
        return configured
    found = wav_layout(head)
    return found if isinstance(found, AudioLayout) else None


def chunk_bytes(layout: AudioLayout | None, chunk_ms: int = DEFAULT_CHUNK_MS) -> int:
    """Bytes per chunk: ``chunk_ms`` of audio when the layout is known."""
    if layout is None:
        return _FALLBACK_CHUNK
    return max(layout.frame_bytes, layout.offset_of(chunk_ms))


def chunks_of(source: AudioSource, size: int) -> Iterator[bytes]:
    """``source`` as chunks: a path or bytes or a file object cut into ``size`` bytes; an
    iterable of chunks as it comes. Anything else is a ClientValidationError."""
    if isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            while piece := handle.read(size):
                yield piece
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
        for start in range(0, len(data), size):
            yield data[start : start + size]
    elif hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        while piece := reader.read(size):
            yield piece
    elif isinstance(source, Iterable):  # pyright: ignore[reportUnnecessaryIsInstance]
        yield from source
    else:
        raise ClientValidationError(
            "source must be a path, bytes, a binary file object or an iterable of chunks, got "
            f"{type(source).__name__}",
            field="source",
        )


def is_recording(source: object) -> bool:
    """A source that exists whole beforehand (sent paced), rather than live chunks."""
    return isinstance(source, str | Path | bytes | bytearray) or hasattr(source, "read")


@attrs.define
class Pacer:
    """How long to wait before sending more audio so that it never runs ahead of real time
    times ``speed`` (2.0: twice as fast). Fed the bytes sent and the clock; pure."""

    layout: AudioLayout
    speed: float = 1.0
    _started: float | None = None
    _sent: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.speed > 0:
            raise ClientValidationError(f"pace must be > 0, got {self.speed!r}", field="pace")

    def delay(self, now: float) -> float:
        """Seconds to wait, at ``now``, before the next chunk."""
        if self._started is None:
            self._started = now
            return 0.0
        audio_s = self.layout.ms_of(max(0, self._sent - len(self.layout.header))) / 1000
        due = self._started + audio_s / self.speed
        return max(0.0, due - now)

    def sent(self, size: int) -> None:
        self._sent += size
