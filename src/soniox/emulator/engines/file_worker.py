"""Whole-file recognition in a child process, for engines that keep the GIL while they decode.

PocketSphinx decodes each utterance of a file (up to 30 s of speech) in one C call that holds
the GIL. Run in the emulator's own process, that call freezes the event loop (no request is
answered, not even a ``DELETE``) and, in thread mode, the program hosting the emulator: its
main thread cannot even handle Ctrl-C until the call returns — ``soniox demo`` on a long
recording ignored Ctrl-C for tens of seconds. An engine that sets ``isolate_file_jobs = True``
therefore has its ``transcribe_file`` run here, by :func:`transcribe_file_isolated`:
``python -m soniox.emulator.engines.file_worker`` reads one JSON request on stdin, creates the
engine, and prints one JSON answer on stdout. The job runner kills it when the job is deleted or
the emulator stops. SIGINT keeps its default action in the worker (it cannot run a Python
handler while the decoder holds the GIL), so a Ctrl-C at the terminal ends it at once too; on
Linux it is also killed if the thread that started it ends (a host killed without clean-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

import attrs

from .base import AudioDecodeError, FileTranscript, RecognitionOptions, RecognizedToken

__all__ = ["WorkerStopped", "isolates_file_jobs", "main", "transcribe_file_isolated"]

_STDERR_TAIL = 2000


class WorkerStopped(RuntimeError):
    """The worker ended without an answer: stopped by a signal (a Ctrl-C at the terminal, which
    reaches it too, or a kill) or crashed. The message says how, with the last line of its
    stderr; a traceback of this process would show nothing more."""


def isolates_file_jobs(engine: object) -> bool:
    """True when ``engine`` asks for its file jobs to run in a child process."""
    return bool(getattr(engine, "isolate_file_jobs", False))


def _request(engine: str, path: Path, options: RecognitionOptions) -> bytes:
    fields = attrs.asdict(options)
    fields["language_hints"] = list(options.language_hints)
    return json.dumps({"engine": engine, "path": str(path), "options": fields}).encode()


def _options(data: dict[str, Any]) -> RecognitionOptions:
    values = dict(data)
    values["language_hints"] = tuple(values.get("language_hints") or ())
    return RecognitionOptions(**values)


async def transcribe_file_isolated(
    engine: str, path: Path, options: RecognitionOptions
) -> FileTranscript:
    """``create_engine(engine).transcribe_file(path, options)`` in a child process; raises
    :class:`AudioDecodeError` as the engine would, :class:`WorkerStopped` if the worker ends
    without an answer. Cancelling the awaiting task kills the worker."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate(_request(engine, path, options))
    except BaseException:  # cancelled (job deleted, emulator stopping): the answer is not wanted
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await process.wait()
        raise
    try:
        answer: dict[str, Any] = json.loads(out) if out.strip() else {}
    except ValueError:
        answer = {}
    if "decode_error" in answer:
        raise AudioDecodeError(str(answer["decode_error"]))
    if process.returncode != 0 or "tokens" not in answer:
        code = process.returncode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        lines = err.decode("utf-8", "replace").strip().splitlines()
        last = f": {lines[-1][:_STDERR_TAIL]}" if lines else ""
        raise WorkerStopped(
            f"the {engine} recognition worker ended without an answer ({how}){last}"
        )
    tokens = [RecognizedToken(**token) for token in answer["tokens"]]
    return FileTranscript(tokens, int(answer["audio_duration_ms"]))


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the thread that started this process ends."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    except (OSError, AttributeError):  # no prctl here: the parent's kill on stop still applies
        pass


def main() -> int:
    """The worker: one request on stdin, one answer on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent()
    from . import create_engine

    request = json.loads(sys.stdin.read())
    engine = create_engine(str(request["engine"]))
    try:
        transcript = engine.transcribe_file(Path(request["path"]), _options(request["options"]))
    except AudioDecodeError as exc:
        answer: dict[str, Any] = {"decode_error": str(exc)}
    else:
        answer = {
            "tokens": [attrs.asdict(token) for token in transcript.tokens],
            "audio_duration_ms": transcript.audio_duration_ms,
        }
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
