"""``client.realtime.stt.transcribe(source, config=...)`` and ``.stream(source, config=...)``.

``stream`` runs a session with the audio sent from a thread (a task, for the async client) and
yields a :class:`~.assembler.TranscriptUpdate` per result — finals appended exactly once,
non-finals replaced — across reconnections; ``transcribe`` drains it into a
:class:`RealtimeTranscript`. A recording (a path, bytes, a file object) is paced at real time
(``pace=1.0``; ``pace=None`` sends as fast as it is read) when its layout is known (a headerless
config or a WAV header); live sources (iterators of chunks) are sent as they come. Errors are
raised, typed (``raise_on_error``), including a source that cannot be read; leaving a ``stream``
early closes the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from typing import Any

import attrs

from soniox.errors import SonioxRealtimeError
from soniox.types import RealtimeSTTConfig, Token

from .assembler import TranscriptAssembler, TranscriptUpdate, text_of
from .core import SessionNotice
from .ledger import AudioLayout
from .source import (
    DEFAULT_CHUNK_MS,
    AudioSource,
    Pacer,
    chunk_bytes,
    chunks_of,
    is_recording,
    layout_from_head,
)

__all__ = ["RealtimeTranscript", "stream_sync", "stream_async", "transcript_of"]

_HEAD: int = 1 << 16


@attrs.frozen
class RealtimeTranscript:
    """What ``transcribe()`` returns: the final tokens, their text, and how the stream went."""

    tokens: tuple[Token, ...]
    final_audio_proc_ms: int | None
    reconnects: int
    notices: tuple[SessionNotice, ...]

    @property
    def text(self) -> str:
        return text_of(self.tokens)

    def __repr__(self) -> str:
        return (
            f"RealtimeTranscript({len(self.tokens)} tokens, {self.final_audio_proc_ms} ms, "
            f"{self.reconnects} reconnects)"
        )


def transcript_of(
    assembler: TranscriptAssembler,
    reconnects: int,
    notices: list[SessionNotice],
) -> RealtimeTranscript:
    return RealtimeTranscript(
        tuple(assembler.final_tokens), assembler.final_audio_proc_ms, reconnects, tuple(notices)
    )


def _recording_layout(source: object, config: RealtimeSTTConfig) -> AudioLayout | None:
    """A recording's layout, for pacing: the config's, or its WAV header's."""
    configured = AudioLayout.for_config(config)
    if configured is not None:
        return configured
    if isinstance(source, bytes | bytearray):
        return layout_from_head(bytes(source[:_HEAD]), None)
    if isinstance(source, str | Path):
        with Path(source).open("rb") as handle:
            return layout_from_head(handle.read(_HEAD), None)
    return None


def _plan(
    source: AudioSource, config: RealtimeSTTConfig, pace: float | None, chunk_ms: int
) -> tuple[Iterator[bytes], Pacer | None]:
    """The chunks to send and the pacer (None: unpaced) for ``source``."""
    recording = is_recording(source)
    layout = _recording_layout(source, config) if recording else None
    pacer = Pacer(layout, pace) if recording and layout is not None and pace else None
    return chunks_of(source, chunk_bytes(layout, chunk_ms)), pacer


def stream_sync(
    connect: Callable[[], AbstractContextManager[Any]],
    source: AudioSource,
    config: RealtimeSTTConfig,
    *,
    pace: float | None = 1.0,
    chunk_ms: int = DEFAULT_CHUNK_MS,
    assembler: TranscriptAssembler | None = None,
) -> Iterator[TranscriptUpdate]:
    """The sync ``stream()``: ``connect`` opens the session (raise_on_error on); results go
    through ``assembler`` (a new one by default)."""
    chunks, pacer = _plan(source, config, pace, chunk_ms)
    assembler = assembler if assembler is not None else TranscriptAssembler()
    stop = threading.Event()
    failure: list[BaseException] = []
    with connect() as session:

        def feed() -> None:
            try:
                for chunk in chunks:
                    if pacer is not None:
                        if stop.wait(pacer.delay(time.monotonic())):
                            return
                        pacer.sent(len(chunk))
                    session.send_byte_chunk(chunk)
                session.finish()
            except SonioxRealtimeError:
                return  # the session ended: the receiving side raises why
            except BaseException as error:  # the source failed: end the session, say why
                failure.append(error)
                session.close()

        sender = threading.Thread(target=feed, name="soniox-realtime-audio", daemon=True)
        sender.start()
        try:
            try:
                for event in session.receive_events():
                    yield assembler.feed(event)
            except SonioxRealtimeError:
                if not failure:
                    raise
            if failure:
                raise failure[0]
        finally:
            stop.set()
            if sender.is_alive():
                session.close()
            sender.join()


async def stream_async(
    connect: Callable[[], AbstractAsyncContextManager[Any]],
    source: AudioSource | AsyncIterable[bytes],
    config: RealtimeSTTConfig,
    *,
    pace: float | None = 1.0,
    chunk_ms: int = DEFAULT_CHUNK_MS,
    assembler: TranscriptAssembler | None = None,
) -> AsyncIterator[TranscriptUpdate]:
    """The async ``stream()``; ``source`` may also be an async iterable of chunks."""
    live: AsyncIterable[bytes] | None = None
    chunks: Iterator[bytes] = iter(())
    pacer: Pacer | None = None
    if isinstance(source, AsyncIterable):
        live = source
    else:
        chunks, pacer = _plan(source, config, pace, chunk_ms)
    assembler = assembler if assembler is not None else TranscriptAssembler()
    failure: list[BaseException] = []
    async with connect() as session:

        async def feed() -> None:
            try:
                if live is not None:
                    async for chunk in live:
                        await session.send_byte_chunk(chunk)
                else:
                    for chunk in chunks:
                        if pacer is not None:
                            await asyncio.sleep(pacer.delay(time.monotonic()))
                            pacer.sent(len(chunk))
                        await session.send_byte_chunk(chunk)
                await session.finish()
            except SonioxRealtimeError:
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failure.append(error)
                await session.close()

        sender = asyncio.create_task(feed())
        try:
            try:
                async for event in session.receive_events():
                    yield assembler.feed(event)
            except SonioxRealtimeError:
                if not failure:
                    raise
            if failure:
                raise failure[0]
        finally:
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
