"""The ``soniox`` command.

Each subcommand registers itself with :func:`build_parser` through a function in
:data:`COMMANDS`: ``soniox transcribe`` (files or URLs to text, JSON, SRT or WebVTT), ``soniox stream``
(realtime, a file or raw PCM on stdin, rendered live),
``soniox files ls|rm``, ``soniox jobs ls|rm``, ``soniox models``, ``soniox demo`` (the bundled
sample against the embedded emulator, no API key needed) and ``soniox emulator`` (the local
Soniox-compatible server). The API commands live in ``cli_transcribe`` / ``cli_manage`` (with
``cli_common`` for the client, output and exit codes); see docs/cli.md.

Keep this module's top-level imports to the standard library: handlers import what they need
when they run, so ``python -m soniox.emulator`` never loads the SDK's client code (the emulator
is the independent other side of the wire) and ``soniox --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from soniox._version import __version__

__all__ = ["COMMANDS", "audio_path_problem", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""The reader of our output went away (``soniox models --json | head -1``): 128 + SIGPIPE, the
status a Unix tool killed by SIGPIPE reports, so ``set -o pipefail`` can still tell the output
was cut short. Nothing is printed: it is an ordinary end, not an error."""

_Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soniox", description="Soniox speech-to-text tools and a local API emulator."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``soniox`` console script; returns the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: _Handler | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except BrokenPipeError:
        _detach_closed_streams()
        return EXIT_BROKEN_PIPE


def _detach_closed_streams() -> None:
    """Point stdout / stderr at the null device if their reader is gone, so that neither a
    later write nor the interpreter's flush at exit prints a BrokenPipeError traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):  # not a real file (captured in tests): nothing to do
                pass


def audio_path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be sent as an audio file (missing, a directory, unreadable), or
    None. Standard library only: ``soniox demo`` checks its argument before importing more."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"no such file: {path}"
    except PermissionError:
        return f"cannot read {path}: permission denied"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return f"{path} is a directory; give an audio file"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file; give an audio file"
    if not os.access(path, os.R_OK):
        return f"cannot read {path}: permission denied"
    return None


# soniox emulator -------------------------------------------------------------------------------
def _add_emulator_command(subparsers: Any) -> None:
    from soniox.emulator import cli as emulator_cli  # stdlib-only at import

    sub: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="run a local Soniox-compatible server (REST + realtime WebSocket)",
        description=emulator_cli.DESCRIPTION,
    )
    emulator_cli.add_arguments(sub)
    sub.set_defaults(handler=emulator_cli.run)


# soniox demo ----------------------------------------------------------------------------------
def _add_demo_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="transcribe the bundled sample against the embedded emulator (no API key needed)",
        description=(
            "Start the embedded emulator, upload the bundled English sample (or AUDIO), "
            "transcribe it and print the transcript. Uses the offline pocketsphinx engine when "
            "the emulator-asr extra is installed."
        ),
    )
    sub.add_argument("audio", nargs="?", type=Path, help="a WAV file to transcribe instead")
    sub.add_argument(
        "--engine", choices=["deterministic", "pocketsphinx"], help="recognition engine"
    )
    sub.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from soniox.emulator.cli import extra_missing_message, missing_modules

    missing = missing_modules()
    if missing:
        print(extra_missing_message(missing), file=sys.stderr)
        return EXIT_USAGE
    audio: Path | None = args.audio
    problem = None if audio is None else audio_path_problem(audio)
    if problem is not None:
        print(f"soniox demo: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from soniox.cli.demo import run_demo

    try:
        run_demo(audio, engine=args.engine)
    except KeyboardInterrupt:
        # run_demo stopped the emulator on its way out (also if a second Ctrl-C cut in); a
        # further Ctrl-C now must not turn this message into a traceback.
        with contextlib.suppress(KeyboardInterrupt):
            print(
                "soniox demo: interrupted; the emulator is stopped and its temporary files removed",
                file=sys.stderr,
                flush=True,
            )
        return EXIT_INTERRUPTED
    except Exception as exc:  # the demo's whole point is a readable outcome
        print(f"soniox demo failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


# API commands: arguments here (stdlib only), handlers imported when they run ------------------
def _lazy(module: str, name: str) -> _Handler:
    """A handler that imports ``soniox.cli.<module>`` only when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        target: _Handler = getattr(importlib.import_module(f"soniox.cli.{module}"), name)
        return target(args)

    return handler


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--api-key", metavar="KEY", help="Soniox API key (default: $SONIOX_API_KEY)")
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="REST base URL (default: $SONIOX_API_BASE_URL, else https://api.soniox.com/v1)",
    )
    return parent


def _add_transcribe_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "transcribe",
        parents=[_connection_options()],
        help="transcribe (or translate) audio files or URLs",
        description=(
            "Upload each audio file (or pass each http(s) URL), transcribe it, wait, and print "
            "the result. The uploaded file and the job are deleted afterwards unless --keep "
            "— also after an error or Ctrl-C."
        ),
    )
    sub.add_argument("paths", nargs="+", metavar="PATH", help="audio file or http(s) URL")
    sub.add_argument(
        "-f",
        "--format",
        choices=("text", "json", "srt", "vtt"),
        default="text",
        help="output format (default text)",
    )
    sub.add_argument(
        "--speakers",
        action="store_true",
        help="speaker diarization: 'Speaker N:' paragraphs / subtitle labels",
    )
    sub.add_argument(
        "--translate-to",
        metavar="LANG",
        help="translate into LANG (e.g. de); text and subtitles show the translation",
    )
    sub.add_argument("--model", default=None, help="model id (default: the current async model)")
    sub.add_argument(
        "--language-hint",
        action="append",
        dest="language_hints",
        metavar="LANG",
        help="a language expected in the audio (repeat for several)",
    )
    sub.add_argument(
        "--keep", action="store_true", help="keep the uploaded file and the job on the server"
    )
    sub.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write <name>.<format> files into DIR instead of printing",
    )
    sub.add_argument(
        "--timeout", type=float, metavar="S", help="give up waiting after S seconds (per file)"
    )
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub.set_defaults(handler=_lazy("transcribe", "run_transcribe"))


def _add_files_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "files", help="list or delete uploaded files", description="Uploaded audio files."
    )
    actions = sub.add_subparsers(title="actions", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", parents=[_connection_options()], help="list uploaded files")
    ls.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ls.set_defaults(handler=_lazy("manage", "run_files_ls"))
    rm = actions.add_parser(
        "rm", parents=[_connection_options()], help="delete files by id, or --all"
    )
    rm.add_argument("ids", nargs="*", metavar="ID", help="file id")
    rm.add_argument("--all", action="store_true", help="delete every uploaded file")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask before --all")
    rm.set_defaults(handler=_lazy("manage", "run_files_rm"))


def _add_jobs_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "jobs",
        help="list or delete transcription jobs",
        description="Async transcription jobs.",
    )
    actions = sub.add_subparsers(title="actions", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", parents=[_connection_options()], help="list jobs")
    ls.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ls.set_defaults(handler=_lazy("manage", "run_jobs_ls"))
    rm = actions.add_parser(
        "rm", parents=[_connection_options()], help="delete jobs by id, or --all"
    )
    rm.add_argument("ids", nargs="*", metavar="ID", help="transcription id")
    rm.add_argument("--all", action="store_true", help="delete every job")
    rm.add_argument("--with-file", action="store_true", help="also delete each job's uploaded file")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask before --all")
    rm.set_defaults(handler=_lazy("manage", "run_jobs_rm"))


def _add_models_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "models",
        parents=[_connection_options()],
        help="list the speech-to-text models",
        description="The models the API offers (aliases included).",
    )
    sub.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    sub.set_defaults(handler=_lazy("manage", "run_models"))


def _add_stream_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "stream",
        parents=[_connection_options()],
        help="realtime transcription of a file, or of raw PCM on stdin, shown live",
        description=(
            "Stream FILE (at real time; --fast: as fast as it is read) or raw audio from stdin "
            "('-') to the realtime API and print the transcript as it grows. A dropped "
            "connection is resumed without losing or repeating a word."
        ),
    )
    sub.add_argument("source", metavar="FILE", help="audio file, or - for raw audio on stdin")
    sub.add_argument("--fast", action="store_true", help="send a file as fast as it is read")
    sub.add_argument(
        "--audio-format",
        metavar="FMT",
        help="audio format (default: auto for a file, pcm_s16le for stdin)",
    )
    sub.add_argument("--sample-rate", type=int, metavar="HZ", help="raw audio: sample rate")
    sub.add_argument("--num-channels", type=int, metavar="N", help="raw audio: channels")
    sub.add_argument("--model", default=None, help="realtime model id (default stt-rt-v4)")
    sub.add_argument("--speakers", action="store_true", help="speaker diarization")
    sub.add_argument(
        "--language-hint",
        action="append",
        dest="language_hints",
        metavar="LANG",
        help="a language expected in the audio (repeat for several)",
    )
    sub.add_argument("--translate-to", metavar="LANG", help="translate into LANG")
    sub.add_argument("--srt", type=Path, metavar="PATH", help="write SRT subtitles at the end")
    sub.add_argument("--vtt", type=Path, metavar="PATH", help="write WebVTT subtitles at the end")
    sub.add_argument(
        "--ws-url", metavar="URL", help="realtime WebSocket URL (default: $SONIOX_WEBSOCKET_URL)"
    )
    sub.set_defaults(handler=_lazy("stream", "run_stream"))


COMMANDS: list[Callable[[Any], None]] = [
    _add_transcribe_command,
    _add_stream_command,
    _add_files_command,
    _add_jobs_command,
    _add_models_command,
    _add_demo_command,
    _add_emulator_command,
]
"""Subcommand registrars: each takes argparse's subparsers object and adds one command."""
