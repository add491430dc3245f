"""What the API commands of ``soniox`` share: the client, the output, errors → exit codes.

Exit codes: 0 success; 1 the API or the job failed (the message shows the HTTP status,
``error_type``, message, request id and each validation error); 2 a usage problem found before
anything was sent (no API key, a missing file, bad settings); 130 interrupted by Ctrl-C (after
cleaning up what the command created).

Output: results go to stdout, progress and messages to stderr. With the optional ``rich``
package (``pip install 'soniox-transport[cli]'``) and a terminal, progress shows as live bars and
tables are drawn; without it, or when output is piped, the same information is printed as plain
lines, so scripts and logs get stable text.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import FrameType
from typing import Any, TextIO

from soniox.client import SonioxClient
from soniox.errors import (
    ClientValidationError,
    SonioxAPIError,
    SonioxError,
    TranscriptionFailedError,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Output",
    "UsageError",
    "describe_error",
    "make_client",
    "run_command",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

MISSING_KEY_HELP = (
    "no Soniox API key. Set one with:\n"
    "  export SONIOX_API_KEY=<your key>      (get a key at https://console.soniox.com)\n"
    "or pass --api-key KEY. To try the CLI without a key: soniox demo"
)


class UsageError(Exception):
    """A problem with the command line or the environment (exit code 2)."""


def rich_available() -> bool:
    """True when the optional ``rich`` package is installed (the ``cli`` extra)."""
    try:
        return importlib.util.find_spec("rich") is not None
    except (ImportError, ValueError):  # pragma: no cover - broken environments
        return False


class Output:
    """Where a command writes: results to stdout, the rest to stderr; rich when it can."""

    def __init__(self, command: str, *, quiet: bool = False) -> None:
        self.command = command
        self.quiet = quiet
        self.stdout: TextIO = sys.stdout
        self.stderr: TextIO = sys.stderr
        self.fancy = rich_available() and _is_terminal(self.stderr)
        """Live progress bars (rich, and stderr is a terminal)."""
        self.fancy_tables = rich_available() and _is_terminal(self.stdout)

    def __repr__(self) -> str:
        return f"Output(command={self.command!r}, quiet={self.quiet}, fancy={self.fancy})"

    def result(self, text: str) -> None:
        """A result on stdout (newline added unless present)."""
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def info(self, text: str) -> None:
        """A progress or status line on stderr (silent with --quiet)."""
        if not self.quiet:
            print(text, file=self.stderr, flush=True)

    def error(self, text: str) -> None:
        """An error message on stderr, prefixed with the command."""
        print(f"soniox {self.command}: {text}", file=self.stderr, flush=True)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Rows as a table on stdout (drawn by rich on a terminal, aligned text otherwise)."""
        if self.fancy_tables:
            from rich.console import Console
            from rich.table import Table

            table = Table(*headers, box=None, header_style="bold", pad_edge=False)
            for row in rows:
                table.add_row(*row)
            Console(file=self.stdout, soft_wrap=True).print(table)
            return
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        for row in [list(headers), *rows]:
            line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip() + "\n")
        self.stdout.flush()

    def live(self) -> AbstractContextManager[Any]:
        """A rich Progress display on stderr (or a no-op context without rich / a terminal)."""
        if not self.fancy or self.quiet:
            if not self.quiet and _is_terminal(self.stderr) and not rich_available():
                self.info("(plain progress: pip install 'soniox-transport[cli]' for progress bars)")
            return nullcontext(None)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=self.stderr),
        )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_client(args: argparse.Namespace) -> SonioxClient:
    """A client from --api-key / --base-url over the environment; UsageError without a key."""
    try:
        return SonioxClient(api_key=args.api_key, base_url=args.base_url)
    except ClientValidationError as exc:
        if exc.field == "api_key":
            raise UsageError(MISSING_KEY_HELP) from None
        raise UsageError(f"invalid settings: {exc}") from None


def describe_error(exc: BaseException) -> str:
    """A readable, multi-line account of an SDK error (never a secret: messages are redacted)."""
    if isinstance(exc, TranscriptionFailedError):  # before SonioxAPIError: it is a 409 too
        job = exc.transcription_id or "?"
        kind = f" ({exc.error_type})" if exc.error_type else ""
        reason = exc.error_message or "no reason given"
        return f"transcription {job} failed{kind}: {reason}"
    if isinstance(exc, SonioxAPIError):
        lines = [f"API error {exc.status}" + (f" {exc.error_type}" if exc.error_type else "")]
        lines.append(f"  message:    {exc.message}")
        if exc.request_id:
            lines.append(f"  request id: {exc.request_id}")
        if exc.retry_after is not None:
            lines.append(f"  retry after {exc.retry_after:g} s")
        for problem in exc.validation_errors:
            lines.append(f"  - {problem.location}: {problem.message} ({problem.error_type})")
        return "\n".join(lines)
    return f"{type(exc).__name__}: {exc}"


class _InterruptNotice:
    """While active (main thread only), the first Ctrl-C prints ``notice`` at once — before the
    clean-up it starts, which may take a while — and every Ctrl-C raises KeyboardInterrupt as
    usual; :attr:`count` says how many there were (a second one cut the clean-up short)."""

    def __init__(self, out: Output, notice: str | None) -> None:
        self._out = out
        self._notice = notice
        self.count = 0
        self._previous: Any = None
        self._installed = False

    def _handler(self, _signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1 and self._notice:
            # stderr may be mid-write (a reentrant call) or closed: the notice is not worth a
            # traceback.
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                self._out.error(self._notice)
        raise KeyboardInterrupt

    def __enter__(self) -> _InterruptNotice:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


def run_command(
    args: argparse.Namespace,
    command: str,
    body: Callable[[SonioxClient, Output], int],
    *,
    quiet: bool = False,
    on_interrupt: Callable[[Output, bool], None] | None = None,
    interrupt_notice: str | None = None,
    describe: Callable[[SonioxError], str] = describe_error,
) -> int:
    """Build the client, run ``body``, and turn every failure into a message and an exit code.

    ``describe`` words an SDK error; ``interrupt_notice`` is printed the moment Ctrl-C is
    pressed (what clean-up follows); ``on_interrupt(out, repeated)`` reports the outcome —
    ``repeated``: Ctrl-C was pressed again, cutting that clean-up short.
    """
    out = Output(command, quiet=quiet)
    try:
        client = make_client(args)
    except UsageError as exc:
        out.error(str(exc))
        return EXIT_USAGE
    notice = _InterruptNotice(out, interrupt_notice)
    try:
        with notice, client:
            return body(client, out)
    except UsageError as exc:
        out.error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        if on_interrupt is not None:
            on_interrupt(out, notice.count > 1)
        else:
            out.error("interrupted")
        return EXIT_INTERRUPTED
    except SonioxError as exc:
        out.error(describe(exc))
        return EXIT_FAILURE
