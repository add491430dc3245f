"""Run the code blocks of README.md and docs/*.md: parsing, markers, and the two runners.

The runner rules (``tests/test_docs_snippets.py`` applies them page by page):

* Every fenced block is found (```` ``` ```` or ``~~~``, indented up to three spaces, as in
  CommonMark) and sorted by its language: ``python``/``py`` blocks run, ``sh``/``bash``/
  ``shell``/``console`` blocks have their commands run, ``text`` and untyped blocks are
  pictures (diagrams, directory layouts) and are not run — unless an untyped block reads as
  Python, which is an error (give it its language). Any other language is an error too, so no
  block escapes by accident.
* ``<!-- snippet: skip (reason) -->`` on the line(s) right before a block excludes it; the
  reason is required (a test checks every marker). Nothing else is a marker.
* A page's python blocks share one namespace, in page order (like a doctest). A block with
  top-level ``await`` / ``async with`` / ``async for`` is compiled with
  ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` and run on the page's event loop (one per page, so an
  async client made in one block still works in the next).
* Shell commands run one by one, each with a timeout: ``soniox ...``, ``python -m soniox...``
  (with this interpreter) and ``curl`` (given ``--silent --show-error --fail``). A server
  (``soniox emulator``) passes when it prints its URL, and is then stopped with Ctrl-C.
  ``export NAME=...`` with the placeholder ``...`` asserts that the test environment provides
  ``NAME``; with a real value it sets it for the block's later commands. Anything else —
  another program, a pipe, ``&&`` — is refused: mark the block ``skip`` with a reason.
* ``https://example.com/...`` (the documentation domain of RFC 2606) is rewritten to a loopback
  HTTP server that answers every GET with the bundled sample (the emulator really downloads an
  ``audio_url``) and every POST (a webhook) with 200.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PYTHON_LANGS = frozenset({"python", "py"})
SHELL_LANGS = frozenset({"sh", "bash", "shell", "console"})
PICTURE_LANGS = frozenset({"", "text"})

AUDIO_NAME = re.compile(r"(?<![\w./:-])([\w-]+\.(?:wav|mp3|flac|ogg|m4a|webm|aac))\b")
"""A bare audio file name in a snippet (``"meeting.wav"``, ``talk.mp3``), not part of a URL."""

EXAMPLE_URL = re.compile(r"https?://example\.com/")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$")
_MARKER_BODY = re.compile(r"^(?P<verb>[\w-]+)\s*(?:\((?P<reason>.*)\))?$")
_SHELL_OPERATORS = frozenset("();<>|&")
SERVER_WAIT_S = 20.0
COMMAND_TIMEOUT_S = 30.0


# --- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    """1-based line of the opening fence."""
    lang: str
    source: str
    """The content, with the fence's indentation removed; its first line is ``line + 1``."""
    skip_reason: str | None = None

    @property
    def where(self) -> str:
        return f"{display(self.page)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.skip_reason is None and self.lang in PYTHON_LANGS | SHELL_LANGS


@dataclass
class Page:
    path: Path
    blocks: list[Block] = field(default_factory=list[Block])
    problems: list[str] = field(default_factory=list[str])
    """Marker and language errors, as ``page:line: message``."""


def parse_page(path: Path) -> Page:
    """The page's fenced blocks with their skip markers, and what is wrong with its markup."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page(path)
    rel = display(path)
    pending: tuple[int, str] | None = None  # (line, reason) of a marker waiting for its block
    i = 0
    while i < len(lines):
        text = lines[i]
        if marker := _MARKER.match(text):
            if pending is not None:
                page.problems.append(f"{rel}:{pending[0]}: snippet marker not followed by a block")
            body = _MARKER_BODY.match(marker["body"])
            if body is None or body["verb"] != "skip":
                page.problems.append(
                    f"{rel}:{i + 1}: unknown snippet marker {marker['body']!r} "
                    "(the only one is 'skip (reason)')"
                )
            elif not (body["reason"] or "").strip():
                page.problems.append(f"{rel}:{i + 1}: 'snippet: skip' needs a reason in brackets")
            else:
                pending = (i + 1, (body["reason"] or "").strip())
            i += 1
            continue
        fence = _FENCE.match(text)
        if fence is None:
            if text.strip() and pending is not None:
                page.problems.append(f"{rel}:{pending[0]}: snippet marker not followed by a block")
                pending = None
            i += 1
            continue
        indent, opener = len(fence["indent"]), fence["fence"]
        lang = fence["info"].lower()
        body_lines: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(opener[0] * len(opener)) and not stripped.strip(opener[0]):
                break
            body_lines.append(_dedent(lines[j], indent))
            j += 1
        block = Block(
            page=path,
            line=i + 1,
            lang=lang,
            source="\n".join(body_lines) + "\n",
            skip_reason=pending[1] if pending else None,
        )
        pending = None
        page.blocks.append(block)
        if lang not in PYTHON_LANGS | SHELL_LANGS | PICTURE_LANGS:
            page.problems.append(
                f"{block.where}: unknown block language {lang!r}: teach tests/docs_support.py "
                "whether to run it"
            )
        elif lang == "" and _reads_as_python(block.source):
            page.problems.append(
                f"{block.where}: untyped block that reads as Python: label it ```python "
                "(or ```text if it is not meant to run)"
            )
        i = j + 1
    if pending is not None:
        page.problems.append(f"{rel}:{pending[0]}: snippet marker not followed by a block")
    return page


def display(path: Path) -> str:
    """The page's path as the failure messages name it: relative to the repository."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _dedent(line: str, indent: int) -> str:
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable) :]


def _reads_as_python(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    code_nodes = (ast.Import, ast.ImportFrom, ast.Call, ast.Assign, ast.With, ast.FunctionDef)
    return any(isinstance(node, code_nodes) for node in ast.walk(tree))


def audio_names(blocks: list[Block]) -> set[str]:
    """The audio file names the page's runnable blocks refer to (each gets a copy of the sample)."""
    return {m for b in blocks if b.runs for m in AUDIO_NAME.findall(b.source)}


def render_block(block: Block) -> str:
    """The block as it stands in the page, with line numbers."""
    rows = [f"{block.line:5} | ```{block.lang}"]
    for n, text in enumerate(block.source.rstrip("\n").split("\n"), block.line + 1):
        rows.append(f"{n:5} | {text}")
    return "\n".join(rows)


class SnippetFailure(Exception):
    """A block failed; ``str()`` shows where, the block and the error."""

    def __init__(self, block: Block, detail: str) -> None:
        super().__init__(
            f"{block.where}: ```{block.lang} block failed\n\n{render_block(block)}\n\n{detail}"
        )
        self.block = block


# --- python blocks ------------------------------------------------------------------------------


class PythonRunner:
    """Runs a page's python blocks in one namespace; async blocks on one event loop."""

    def __init__(self, rewrite: Callable[[str], str]) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self._rewrite = rewrite
        self._loop: asyncio.Runner | None = None

    def run(self, block: Block) -> None:
        # Padding keeps the block's lines at their page line numbers, so tracebacks (and
        # linecache's source lines) point into the Markdown file itself.
        source = "\n" * block.line + self._rewrite(block.source)
        try:
            code = compile(
                source,
                str(block.page),
                "exec",
                flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                dont_inherit=True,
            )
        except SyntaxError as exc:
            raise SnippetFailure(block, _format_exception(exc, block.page)) from exc
        try:
            # eval, not exec: code compiled with top-level await evaluates to a coroutine
            # (and plain code to None), so the same call serves both kinds of block.
            result = eval(code, self.namespace)
            if asyncio.iscoroutine(result):
                self.loop.run(result)
        except Exception as exc:
            raise SnippetFailure(block, _format_exception(exc, block.page)) from exc

    @property
    def loop(self) -> asyncio.Runner:
        if self._loop is None:
            self._loop = asyncio.Runner()
        return self._loop

    def close(self) -> None:
        """Close the clients the snippets left open, then the event loop."""
        from soniox import AsyncSonioxClient, SonioxClient

        for value in list(self.namespace.values()):
            if isinstance(value, SonioxClient):
                value.close()
            elif isinstance(value, AsyncSonioxClient):
                self.loop.run(value.aclose())
        if self._loop is not None:
            self._loop.close()
            self._loop = None


def _format_exception(exc: BaseException, page: Path) -> str:
    """The traceback from the snippet's own frame on (the runner's frames add nothing); a
    syntax error, which has no such frame, as its message with the offending line."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(page):
        tb = tb.tb_next
    if tb is None:
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))


# --- shell blocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    line: int
    text: str


def shell_commands(block: Block) -> list[Command]:
    """The commands of a shell block: ``$ `` lines of a console block (the rest is output),
    every non-comment line of the others; a trailing backslash continues a line."""
    commands: list[Command] = []
    current: list[str] = []
    start = 0
    for n, raw in enumerate(block.source.split("\n"), block.line + 1):
        text = raw.strip()
        if not current:
            if block.lang == "console":
                if not text.startswith("$"):
                    continue
                text = text[1:].strip()
            if not text or text.startswith("#"):
                continue
            start = n
        if text.endswith("\\"):
            current.append(text[:-1])
            continue
        current.append(text)
        commands.append(Command(start, " ".join(current)))
        current = []
    if current:
        commands.append(Command(start, " ".join(current)))
    return commands


def split_command(text: str) -> list[str]:
    """The command's words, as a POSIX shell splits them (quotes, ``#`` comments); an operator
    (pipe, ``&&``, ``;``, redirection, subshell) comes out as its own word."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def expand(word: str, env: Mapping[str, str]) -> str:
    """``$NAME`` / ``${NAME}`` from ``env``; an unset variable is an error, not an empty word."""

    def value(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if name not in env:
            raise LookupError(f"${name} is not set")
        return env[name]

    return re.sub(r"\$(?:\{(?P<braced>\w+)\}|(?P<bare>[A-Za-z_]\w*))", value, word)


def run_shell_block(
    block: Block, env: dict[str, str], cwd: Path, rewrite: Callable[[str], str]
) -> list[str]:
    """Run every command of the block; the transcript of what ran (for the test's output)."""
    env = dict(env)
    ran: list[str] = []
    for command in shell_commands(block):
        try:
            words = split_command(command.text)
        except ValueError as exc:
            raise SnippetFailure(
                block, f"line {command.line}: cannot split {command.text!r}: {exc}"
            ) from exc
        if any(w and set(w) <= _SHELL_OPERATORS for w in words):
            raise SnippetFailure(
                block,
                f"line {command.line}: `{command.text}` is a compound shell command; only single "
                "soniox/python -m soniox/curl commands run here. Mark the block "
                "<!-- snippet: skip (reason) --> if it must not run in a test.",
            )
        if not words:
            continue
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                if value == "...":
                    if name not in env:
                        raise SnippetFailure(
                            block,
                            f"line {command.line}: `export {name}=...` is a placeholder, but the "
                            f"test environment does not set {name}",
                        )
                else:
                    env[name] = value
            ran.append(f"$ {command.text}  (environment)")
            continue
        try:
            words = [rewrite(expand(w, env)) for w in words]
        except LookupError as exc:
            raise SnippetFailure(block, f"line {command.line}: {exc}") from exc
        argv, server = _argv(words)
        if argv is None:
            raise SnippetFailure(
                block,
                f"line {command.line}: `{command.text}` is not a command this runner runs "
                "(soniox, python -m soniox..., curl). Mark the block "
                "<!-- snippet: skip (reason) --> if it must not run in a test.",
            )
        if argv[0] == "curl" and shutil.which("curl") is None:
            ran.append(f"$ {command.text}  (not run: curl is not installed)")
            continue
        detail = _run_server(argv, env, cwd) if server else _run_command(argv, env, cwd)
        if detail is not None:
            raise SnippetFailure(block, f"line {command.line}: `{command.text}`\n{detail}")
        ran.append(f"$ {command.text}")
    return ran


def _argv(words: list[str]) -> tuple[list[str] | None, bool]:
    """What to execute for the command's words, and whether it is a server (runs until stopped)."""
    program, args = words[0], words[1:]
    if program == "soniox":
        return [sys.executable, "-m", "soniox", *args], args[:1] == ["emulator"]
    if program in ("python", "python3") and len(args) >= 2 and args[0] == "-m":
        module = args[1]
        if module == "soniox" or module.startswith("soniox."):
            server = module == "soniox.emulator" or (
                module == "soniox" and args[2:3] == ["emulator"]
            )
            return [sys.executable, *args], server
    if program == "curl":
        return ["curl", "--silent", "--show-error", "--fail", *args], False
    return None, False


def _run_command(argv: list[str], env: Mapping[str, str], cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            argv,
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return (
            f"no exit within {COMMAND_TIMEOUT_S:g} s\nstdout:\n{exc.stdout}\nstderr:\n{exc.stderr}"
        )
    if result.returncode != 0:
        return f"exit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return None


def _run_server(argv: list[str], env: Mapping[str, str], cwd: Path) -> str | None:
    """Start a server, wait for it to print a URL, stop it with Ctrl-C (SIGINT)."""
    proc = subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for text in proc.stdout:
            lines.put(text)
        lines.put(None)

    reader = threading.Thread(target=pump, name="server-output", daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while True:
            try:
                text = lines.get(timeout=SERVER_WAIT_S)
            except queue.Empty:
                return f"printed no URL within {SERVER_WAIT_S:g} s:\n{''.join(seen)}"
            if text is None:
                return f"exited ({proc.wait()}) before printing a URL:\n{''.join(seen)}"
            seen.append(text)
            if re.search(r"\bhttps?://127\.0\.0\.1:\d+", text):
                return None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


# --- the audio server ---------------------------------------------------------------------------


class _AudioHandler(BaseHTTPRequestHandler):
    audio: bytes = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.audio)))
        self.end_headers()
        self.wfile.write(self.audio)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def example_com(audio: bytes) -> Generator[Callable[[str], str]]:
    """A loopback stand-in for ``https://example.com/``; yields the rewrite function."""
    handler = type("Handler", (_AudioHandler,), {"audio": audio})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="example.com", daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield functools.partial(EXAMPLE_URL.sub, base)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
