"""The emulator's command line: ``python -m soniox.emulator`` and ``soniox emulator``.

It lives inside the emulator package, so the server starts with nothing of the SDK imported (the
emulator is the independent other side of the wire); the ``soniox`` command registers it with
:func:`add_arguments` and :func:`run`. Top-level imports are the standard library only: the
server and its protocol libraries (the ``emulator`` extra) load when it runs, after
:func:`missing_modules` has said whether they are installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .config import EmulatorConfig
    from .runner import Emulator

__all__ = [
    "EMULATOR_MODULES",
    "add_arguments",
    "extra_missing_message",
    "main",
    "missing_modules",
    "run",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

EMULATOR_MODULES = {
    "h11": "h11",
    "h2": "h2",
    "wsproto": "wsproto",
    "python_multipart": "python-multipart",
    "trustme": "trustme",
}
"""Module → distribution of every package the ``emulator`` extra brings in."""

DESCRIPTION = (
    "Run a local Soniox-compatible API server with fault injection. It prints its REST "
    "base URL, WebSocket URL and the API key it accepts, and runs until Ctrl-C."
)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m soniox.emulator [options]``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m soniox.emulator", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(sub: argparse.ArgumentParser) -> None:
    """The emulator's options, on ``sub`` (its own parser, or the ``soniox emulator`` one)."""
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
        "--rest-rpm",
        type=int,
        default=None,
        metavar="N",
        help="REST requests per API key per minute; past it 429 limit_exceeded (default: off)",
    )
    sub.add_argument(
        "--realtime-streams",
        type=int,
        default=None,
        metavar="N",
        help="concurrent realtime streams per API key; past it 429 "
        "max_concurrent_connections_reached (default: off)",
    )
    sub.add_argument(
        "--realtime-rpm",
        type=int,
        default=None,
        metavar="N",
        help="realtime streams opened per API key per minute (default: off)",
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


def missing_modules() -> list[str]:
    """The distributions of the emulator extra that are not installed."""
    return [dist for module, dist in EMULATOR_MODULES.items() if not _module_available(module)]


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def extra_missing_message(missing: Sequence[str]) -> str:
    """What to print when the extra is missing, with the command that installs it."""
    return (
        "soniox emulator: the emulator extra is not installed "
        f"(missing: {', '.join(missing)}).\n"
        "Install it with:  pip install 'soniox-transport[emulator]'"
    )


def _emulator_config(args: argparse.Namespace, stdin: TextIO) -> EmulatorConfig:
    from .config import EmulatorConfig
    from .runner import config_from_json

    if args.config_stdin:
        line = stdin.readline()
        if not line.strip():
            raise ValueError("--config-stdin: no configuration line on standard input")
        return config_from_json(json.loads(line))
    from .config import is_loopback_host

    if not args.allow_non_loopback and not is_loopback_host(args.host):
        raise ValueError(
            f"--host {args.host} is not a loopback address; add --allow-non-loopback to serve "
            "beyond this machine"
        )
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
    for flag, field in (
        ("rest_rpm", "rest_requests_per_minute"),
        ("realtime_streams", "realtime_streams"),
        ("realtime_rpm", "realtime_connects_per_minute"),
    ):
        value = getattr(args, flag)
        if value is not None:
            fields[field] = value
    return EmulatorConfig(**fields)


def run(args: argparse.Namespace) -> int:
    """Start the emulator from parsed options and serve until Ctrl-C, SIGTERM or (with the
    hidden ``--config-stdin``) until the parent closes our standard input."""
    missing = missing_modules()
    if missing:
        print(extra_missing_message(missing), file=sys.stderr)
        return EXIT_USAGE
    from .runner import Emulator

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
            _announce(json.dumps(info) if args.ready_json else _human_text(info))
            if args.config_stdin:
                _watch_lifeline(sys.stdin, stop)
            while not stop.wait(0.5):
                pass
    except ImportError as exc:
        name = exc.name or ""
        if name.split(".")[0] in EMULATOR_MODULES:
            print(extra_missing_message([name]), file=sys.stderr)
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


def _announce(text: str) -> None:
    """Print the URLs on stdout. Nothing else is ever written there, so the server keeps
    serving whatever becomes of stdout's reader; if it is gone already (``soniox emulator |
    true``), stdout is pointed at the null device and the server runs on (the URLs can be
    read from ``--ready-json`` or a fixed ``--port``)."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):  # BrokenPipeError; a closed stream
        _detach_stdout()


def _detach_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life


def _human_text(info: dict[str, Any]) -> str:
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
    return "\n".join(lines)


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
