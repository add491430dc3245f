"""``soniox stream``: realtime transcription of a file, or of raw PCM on stdin, rendered live.

``soniox stream FILE`` sends the file at real time (``--fast``: as fast as it is read) and
prints the transcript as it grows: final words as they are settled, the pending non-final tail
dimmed after them on a terminal (rewritten by each result). ``soniox stream -`` reads raw audio
from stdin (``--audio-format`` / ``--sample-rate`` / ``--num-channels``, 16 kHz mono 16-bit PCM
by default) — e.g. ``arecord -f S16_LE -r 16000 -c 1 | soniox stream -``. ``--srt`` / ``--vtt``
write subtitles of the final transcript at the end. The session reconnects on a dropped
connection without losing or repeating a word; a failure is a message and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from soniox.client import SonioxClient
from soniox.realtime import text_of
from soniox.transcripts import to_srt, to_vtt
from soniox.types import RealtimeSTTConfig, Token, TranslationConfig

from . import audio_path_problem
from .common import EXIT_OK, EXIT_USAGE, Output, run_command

__all__ = ["run_stream"]

DEFAULT_MODEL = "stt-rt-v4"
_DIM, _RESET, _CLEAR = "\x1b[2m", "\x1b[0m", "\x1b[K"
_STDIN_CHUNK = 3840


class LiveView:
    """The growing transcript on ``stream``: finals appended; on a terminal the non-final tail
    shown dimmed and replaced by each result (cursor moved back over it)."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self._stream = stream
        self._live = live
        self._tail = 0

    def show(self, finals: str, pending: str) -> None:
        out = self._stream
        if self._live and self._tail:
            out.write(f"\x1b[{self._tail}D{_CLEAR}")
        out.write(finals)
        self._tail = 0
        if self._live and pending:
            out.write(f"{_DIM}{pending}{_RESET}")
            self._tail = len(pending)
        out.flush()

    def end(self) -> None:
        if self._live and self._tail:
            self._stream.write(f"\x1b[{self._tail}D{_CLEAR}")
        self._stream.write("\n")
        self._stream.flush()


def _stdin_chunks() -> Iterator[bytes]:
    reader = sys.stdin.buffer
    while chunk := reader.read(_STDIN_CHUNK):
        yield chunk


def _config(args: argparse.Namespace, stdin: bool) -> RealtimeSTTConfig:
    audio_format = args.audio_format or ("pcm_s16le" if stdin else "auto")
    raw = audio_format.startswith("pcm_") or audio_format in ("mulaw", "alaw")
    config = RealtimeSTTConfig(
        model=args.model or DEFAULT_MODEL,
        audio_format=audio_format,  # type: ignore[arg-type]
        sample_rate=args.sample_rate or (16_000 if raw else None),
        num_channels=args.num_channels or (1 if raw else None),
    )
    if args.speakers:
        config.enable_speaker_diarization = True
    if args.language_hints:
        config.language_hints = list(args.language_hints)
    if args.translate_to:
        config.translation = TranslationConfig.one_way(args.translate_to)
    return config


def run_stream(args: argparse.Namespace) -> int:
    """The ``soniox stream`` command (see the module docs)."""
    stdin = args.source == "-"
    out = Output("stream", quiet=True)
    if not stdin:
        problem = audio_path_problem(Path(args.source))
        if problem is not None:
            out.error(problem)
            return EXIT_USAGE
    config = _config(args, stdin)
    pace = None if args.fast or stdin else 1.0

    def body(client: SonioxClient, out: Output) -> int:
        if args.ws_url:
            with SonioxClient(
                api_key=client.api_key,
                api_base_url=client.api_base_url,
                websocket_base_url=args.ws_url,
            ) as other:
                return _stream(other)
        return _stream(client)

    def _stream(client: SonioxClient) -> int:
        view = LiveView(sys.stdout, live=sys.stdout.isatty())
        finals: list[Token] = []
        source = _stdin_chunks() if stdin else Path(args.source)
        for update in client.realtime.stt.stream(source, config=config, pace=pace):
            finals.extend(update.new_finals)
            view.show(text_of(update.new_finals), text_of(update.non_finals))
        view.end()
        for path, render in ((args.srt, to_srt), (args.vtt, to_vtt)):
            if path is not None:
                path.write_text(render(finals, speakers=args.speakers))
        return EXIT_OK

    return run_command(args, "stream", body)
