"""The official SDK's ``soniox.utils`` helpers, for code written against it.

``render_tokens(final_tokens, non_final_tokens)`` renders tokens exactly as the official function
does (see :func:`soniox.transcripts.render_tokens`; :mod:`soniox.transcripts` has the richer
renderers: plain text, paragraphs by speaker, SRT and WebVTT). The realtime helpers take an audio
source — ``bytes``, a path (``str`` or :class:`~pathlib.Path`) or a binary file object — and cut
it into chunks: :func:`stream_audio` as fast as it is read, :func:`throttle_audio` with a pause
after each chunk (the async twins read files in a worker thread, so the loop never blocks on
disk); :func:`start_audio_thread` sends chunks into a session from a background thread while the
caller receives events, the official README's pattern.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from soniox.transcripts.render import render_tokens

__all__ = [
    "output_file_for_audio_format",
    "render_tokens",
    "start_audio_thread",
    "stream_audio",
    "stream_audio_async",
    "throttle_audio",
    "throttle_audio_async",
]

AudioSource = Path | str | BinaryIO | bytes
"""What the helpers read: the audio itself, a path, or a binary file object."""

_EXTENSIONS = {
    "wav": "wav",
    "mp3": "mp3",
    "aac": "aac",
    "flac": "flac",
    "opus": "opus",
    "pcm_s16le": "pcm",
    "pcm_f32le": "pcm",
    "pcm_mulaw": "pcm",
    "pcm_alaw": "pcm",
}


def output_file_for_audio_format(audio_format: str, prefix: str) -> Path:
    """``prefix`` with the file extension of ``audio_format`` (``"bin"`` when unknown)."""
    return Path(f"{prefix}.{_EXTENSIONS.get(audio_format, 'bin')}")


def _positive_chunk(chunk_size_bytes: int) -> None:
    if chunk_size_bytes <= 0:
        raise ValueError("chunk_size_bytes must be greater than zero")


def _non_negative_delay(delay_seconds: float) -> None:
    if delay_seconds < 0:
        raise ValueError("delay_seconds must be greater than or equal to zero")


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _reads(handle: BinaryIO, size: int) -> Iterator[bytes]:
    while piece := handle.read(size):
        yield piece


def stream_audio(file: AudioSource, *, chunk_size_bytes: int = 4 * 1024) -> Iterator[bytes]:
    """``file`` in chunks of ``chunk_size_bytes`` (the last one shorter), as fast as read."""
    _positive_chunk(chunk_size_bytes)
    if isinstance(file, bytes):
        yield from _pieces(file, chunk_size_bytes)
    elif isinstance(file, str | Path):
        with Path(file).open("rb") as handle:
            yield from _reads(handle, chunk_size_bytes)
    else:
        yield from _reads(file, chunk_size_bytes)


async def stream_audio_async(
    file: AudioSource, *, chunk_size_bytes: int = 4 * 1024
) -> AsyncIterator[bytes]:
    """:func:`stream_audio` as an async iterator; file reads run in a worker thread."""
    _positive_chunk(chunk_size_bytes)
    if isinstance(file, bytes):
        for piece in _pieces(file, chunk_size_bytes):
            yield piece
        return
    if isinstance(file, str | Path):
        handle = await asyncio.to_thread(Path(file).open, "rb")
        try:
            async for piece in _areads(handle, chunk_size_bytes):
                yield piece
        finally:
            handle.close()
        return
    async for piece in _areads(file, chunk_size_bytes):
        yield piece


async def _areads(handle: BinaryIO, size: int) -> AsyncIterator[bytes]:
    while piece := await asyncio.to_thread(handle.read, size):
        yield piece


def throttle_audio(
    file: AudioSource, *, chunk_size_bytes: int = 4096, delay_seconds: float = 0.0
) -> Iterator[bytes]:
    """:func:`stream_audio`, sleeping ``delay_seconds`` after each chunk (to pace a file as
    if it were live audio)."""
    _non_negative_delay(delay_seconds)
    for piece in stream_audio(file, chunk_size_bytes=chunk_size_bytes):
        yield piece
        if delay_seconds:
            time.sleep(delay_seconds)


async def throttle_audio_async(
    file: AudioSource, *, chunk_size_bytes: int = 32 * 1024, delay_seconds: float = 0.0
) -> AsyncIterator[bytes]:
    """:func:`throttle_audio` as an async iterator (the official default chunk: 32 KiB)."""
    _non_negative_delay(delay_seconds)
    async for piece in stream_audio_async(file, chunk_size_bytes=chunk_size_bytes):
        yield piece
        if delay_seconds:
            await asyncio.sleep(delay_seconds)


class _AudioSink(Protocol):
    def send_bytes(self, chunks: bytes | Iterable[bytes], *, finish: bool = True) -> None: ...


def start_audio_thread(
    session: _AudioSink,
    chunks: bytes | Iterable[bytes],
    *,
    name: str | None = None,
    daemon: bool = True,
) -> threading.Thread:
    """Send ``chunks`` into ``session`` from a new (started) thread, then finish the stream —
    unless ``chunks`` is one ``bytes``, which, as with ``send_bytes``, does not finish it."""
    thread = threading.Thread(target=session.send_bytes, args=(chunks,), name=name, daemon=daemon)
    thread.start()
    return thread
