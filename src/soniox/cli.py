"""The ``soniox`` command.

Each subcommand registers itself with :func:`build_parser` through a function in
:data:`COMMANDS`: ``soniox transcribe`` (files or URLs to text, JSON, SRT or WebVTT),
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
import importlib.util
import json
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ._version import __version__

if TYPE_CHECKING:
    from .emulator.config import EmulatorConfig
    from .emulator.runner import Emulator

__all__ = ["COMMANDS", "build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_Handler = Callable[[argparse.Namespace], int]

# Module and distribution of every package the emulator extra brings in.
_EMULATOR_MODULES = {
    "h11": "h11",
    "h2": "h2",
    "wsproto": "wsproto",
    "python_multipart": "python-multipart",
    "trustme": "trustme",
}


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
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: _Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return handler(args)


# soniox emulator -------------------------------------------------------------------------------
def _add_emulator_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="run a local Soniox-compatible server (REST + realtime WebSocket)",
        description=(
            "Run a local Soniox-compatible API server with fault injection. It prints its REST "
            "base URL, WebSocket URL and the API key it accepts, and runs until Ctrl-C."
        ),
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sub.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    sub.add_argument("--tls", action="store_true", help="also serve HTTPS/WSS on a second port")
    sub.add_argument("--tls-port", type=int, default=0, help="TLS port (default 0: any free port)")
    sub.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="API key to accept (repeatable; default: the emulator's public default key)",
    )
    sub.add_argument(
        "--engine",
        choices=("deterministic", "pocketsphinx"),
        default=None,
        help="recognition engine (default deterministic)",
    )
    sub.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="S",
        help="close realtime sessions idle for S seconds (default 20)",
    )
    sub.add_argument(
        "--storage-dir", default=None, metavar="D", help="keep uploads in D (default: temporary)"
    )
    sub.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow binding an address reachable from other machines",
    )
    sub.add_argument(
        "--ready-json",
        action="store_true",
        help="print one JSON line with the URLs, API key and pid once listening",
    )
    sub.add_argument("--config-stdin", action="store_true", help=argparse.SUPPRESS)
    sub.set_defaults(handler=_run_emulator)


def _missing_emulator_modules() -> list[str]:
    return [dist for module, dist in _EMULATOR_MODULES.items() if not _module_available(module)]


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _extra_missing_message(missing: Sequence[str]) -> str:
    return (
        "soniox emulator: the emulator extra is not installed "
        f"(missing: {', '.join(missing)}).\n"
        "Install it with:  pip install 'soniox-transport[emulator]'"
    )


def _emulator_config(args: argparse.Namespace, stdin: TextIO) -> EmulatorConfig:
    from .emulator.config import EmulatorConfig
    from .emulator.runner import config_from_json

    if args.config_stdin:
        line = stdin.readline()
        if not line.strip():
            raise ValueError("--config-stdin: no configuration line on standard input")
        return config_from_json(json.loads(line))
    fields: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "tls": args.tls,
        "tls_port": args.tls_port,
        "allow_non_loopback": args.allow_non_loopback,
    }
    if args.api_keys:
        fields["api_keys"] = tuple(args.api_keys)
    if args.engine is not None:
        fields["engine"] = args.engine
    if args.idle_timeout is not None:
        fields["ws_idle_timeout_s"] = args.idle_timeout
    if args.storage_dir is not None:
        fields["storage_dir"] = args.storage_dir
    return EmulatorConfig(**fields)


def _run_emulator(args: argparse.Namespace) -> int:
    missing = _missing_emulator_modules()
    if missing:
        print(_extra_missing_message(missing), file=sys.stderr)
        return EXIT_USAGE
    from .emulator.runner import Emulator

    try:
        config = _emulator_config(args, sys.stdin)
    except (ValueError, TypeError) as exc:
        print(f"soniox emulator: {exc}", file=sys.stderr)
        return EXIT_USAGE

    stop = threading.Event()
    restore = _install_stop_signals(stop)
    try:
        with Emulator(config) as emu, tempfile.TemporaryDirectory(prefix="soniox-ca-") as tmp:
            info = _emulator_info(emu, Path(tmp))
            if args.ready_json:
                print(json.dumps(info), flush=True)
            else:
                _print_human(info)
            if args.config_stdin:
                _watch_lifeline(sys.stdin, stop)
            while not stop.wait(0.5):
                pass
    except ImportError as exc:
        name = exc.name or ""
        if name.split(".")[0] in _EMULATOR_MODULES:
            print(_extra_missing_message([name]), file=sys.stderr)
        else:
            print(f"soniox emulator: cannot start: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"soniox emulator: cannot listen: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        restore()
    return EXIT_OK


def _emulator_info(emu: Emulator, tmp: Path) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": emu.url,
        "rest_base_url": emu.rest_base_url,
        "ws_url": emu.ws_url,
        "tls_url": None,
        "tls_rest_base_url": None,
        "tls_ws_url": None,
        "ca_cert_pem": None,
        "ca_cert_file": None,
        "api_key": emu.api_key,
        "pid": emu.pid,
        "storage_dir": str(emu.storage_dir),
    }
    if emu.config.tls:
        ca_file = tmp / "emulator-ca.pem"
        ca_file.write_bytes(emu.ca_cert_pem)
        info.update(
            tls_url=emu.tls_url,
            tls_rest_base_url=emu.tls_rest_base_url,
            tls_ws_url=emu.tls_ws_url,
            ca_cert_pem=emu.ca_cert_pem.decode("ascii"),
            ca_cert_file=str(ca_file),
        )
    return info


def _print_human(info: dict[str, Any]) -> None:
    lines = [
        "Soniox emulator running",
        f"  REST base URL:      {info['rest_base_url']}",
        f"  WebSocket URL:      {info['ws_url']}",
    ]
    if info["tls_url"]:
        lines += [
            f"  TLS REST base URL:  {info['tls_rest_base_url']}",
            f"  TLS WebSocket URL:  {info['tls_ws_url']}",
            f"  CA certificate:     {info['ca_cert_file']}",
        ]
    lines += [
        f"  API key:            {info['api_key']}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def _install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT/SIGTERM set ``stop``; returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    names = [name for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), _handler) for name in names}

    def restore() -> None:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)

    return restore


def _watch_lifeline(stdin: TextIO, stop: threading.Event) -> None:
    """Stop when standard input closes: the parent that started us is gone."""

    def watch() -> None:
        try:
            while stdin.readline():
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch, name="soniox-emulator-lifeline", daemon=True).start()


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
    missing = _missing_emulator_modules()
    if missing:
        print(_extra_missing_message(missing), file=sys.stderr)
        return EXIT_USAGE
    audio: Path | None = args.audio
    if audio is not None and not audio.is_file():
        print(f"soniox demo: no such file: {audio}", file=sys.stderr)
        return EXIT_USAGE
    from .demo import run_demo

    try:
        run_demo(audio, engine=args.engine)
    except KeyboardInterrupt:
        print("soniox demo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the demo's whole point is a readable outcome
        print(f"soniox demo failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


# API commands: arguments here (stdlib only), handlers imported when they run ------------------
def _lazy(module: str, name: str) -> _Handler:
    """A handler that imports ``soniox.<module>`` only when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        target: _Handler = getattr(importlib.import_module(f"soniox.{module}"), name)
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
    sub.set_defaults(handler=_lazy("cli_transcribe", "run_transcribe"))


def _add_files_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "files", help="list or delete uploaded files", description="Uploaded audio files."
    )
    actions = sub.add_subparsers(title="actions", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", parents=[_connection_options()], help="list uploaded files")
    ls.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ls.set_defaults(handler=_lazy("cli_manage", "run_files_ls"))
    rm = actions.add_parser(
        "rm", parents=[_connection_options()], help="delete files by id, or --all"
    )
    rm.add_argument("ids", nargs="*", metavar="ID", help="file id")
    rm.add_argument("--all", action="store_true", help="delete every uploaded file")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask before --all")
    rm.set_defaults(handler=_lazy("cli_manage", "run_files_rm"))


def _add_jobs_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "jobs",
        help="list or delete transcription jobs",
        description="Async transcription jobs.",
    )
    actions = sub.add_subparsers(title="actions", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", parents=[_connection_options()], help="list jobs")
    ls.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ls.set_defaults(handler=_lazy("cli_manage", "run_jobs_ls"))
    rm = actions.add_parser(
        "rm", parents=[_connection_options()], help="delete jobs by id, or --all"
    )
    rm.add_argument("ids", nargs="*", metavar="ID", help="transcription id")
    rm.add_argument("--all", action="store_true", help="delete every job")
    rm.add_argument("--with-file", action="store_true", help="also delete each job's uploaded file")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask before --all")
    rm.set_defaults(handler=_lazy("cli_manage", "run_jobs_rm"))


def _add_models_command(subparsers: Any) -> None:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "models",
        parents=[_connection_options()],
        help="list the speech-to-text models",
        description="The models the API offers (aliases included).",
    )
    sub.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    sub.set_defaults(handler=_lazy("cli_manage", "run_models"))


COMMANDS: list[Callable[[Any], None]] = [
    _add_transcribe_command,
    _add_files_command,
    _add_jobs_command,
    _add_models_command,
    _add_demo_command,
    _add_emulator_command,
]
"""Subcommand registrars: each takes argparse's subparsers object and adds one command."""
