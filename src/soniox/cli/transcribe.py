"""``soniox transcribe PATH...``: upload, transcribe (or translate), wait, print or write results.

Each PATH is a local audio file (uploaded with a progress bar) or an ``http(s)://`` URL (the API
fetches it). Files are checked before anything is sent (a missing one is exit code 2). Jobs run
one after another through ``client.stt.transcribe_and_wait_with_tokens`` (or
``translate_and_wait_with_tokens``), whose ``delete_after`` removes the upload and the job when
done — also after an error, a timeout or Ctrl-C — unless ``--keep``. With several PATHs a
failure is reported and the rest still run (exit code 1 at the end).

Formats: ``text`` (the transcript; ``Speaker N:`` paragraphs with ``--speakers``), ``json`` (the
API's transcript object; several PATHs print a JSON array), ``srt`` and ``vtt`` subtitles. With
``--translate-to`` the text and subtitle formats show the translation; ``json`` has both.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from soniox.cli import audio_path_problem
from soniox.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Output,
    describe_error,
    run_command,
)
from soniox.client import SonioxClient
from soniox.errors import SonioxError, WaitTimeoutError
from soniox.flows.payload import TranscriptionOptions
from soniox.transcripts import Only, render_by_speaker, render_text, to_srt, to_vtt
from soniox.types import Transcription, TranscriptionTranscript, unstructure

__all__ = ["Source", "render_transcript", "run_transcribe"]

_EXTENSIONS: Final = {"text": "txt", "json": "json", "srt": "srt", "vtt": "vtt"}


@attrs.frozen
class Source:
    """One PATH argument: a local file or a URL."""

    label: str
    path: Path | None = None
    url: str | None = None

    @classmethod
    def parse(cls, raw: str) -> Source:
        if raw.lower().startswith(("http://", "https://")):
            return cls(raw, url=raw)
        return cls(raw, path=Path(raw))

    @property
    def stem(self) -> str:
        if self.path is not None:
            return self.path.stem
        name = Path(urlsplit(self.url or "").path).stem
        return name or "transcript"


def render_transcript(
    transcript: TranscriptionTranscript, fmt: str, *, speakers: bool, translated: bool
) -> str:
    """The transcript in ``fmt`` (text, json, srt, vtt) as the CLI prints it."""
    only: Only = "translation" if translated else None
    tokens = transcript.tokens
    if fmt == "json":
        return json.dumps(unstructure(transcript), indent=2, ensure_ascii=False)
    if fmt == "srt":
        return to_srt(tokens, only=only, speakers=speakers)
    if fmt == "vtt":
        return to_vtt(tokens, only=only, speakers=speakers)
    if speakers:
        return render_by_speaker(tokens, only=only)
    return render_text(tokens, only=only).strip()


class _Tracker:
    """Upload and job progress of one source: rich bars when live, else plain lines."""

    def __init__(self, out: Output, live: Any, label: str) -> None:
        self.out = out
        self.live = live
        self.label = label
        self.job_id: str | None = None
        self._upload_task: Any = None
        self._job_task: Any = None
        self._status: str | None = None
        self._announced = False
        self._sent_all = False

    def upload(self, sent: int, total: int | None) -> None:
        if self.live is not None:
            if self._upload_task is None:
                self._upload_task = self.live.add_task(f"upload {self.label}", total=total)
            self.live.update(self._upload_task, completed=sent)
            return
        if not self._announced:
            self._announced = True
            size = f" ({_size(total)})" if total else ""
            self.out.info(f"{self.label}: uploading{size}")
        # All bytes sent is not yet "uploaded": the server may still refuse the file (a wrong
        # key's 401 arrives after the body). It was accepted once a job exists: see status().
        self._sent_all = total is not None and sent >= total

    def status(self, transcription: Transcription) -> None:
        self.job_id = transcription.id
        if self._sent_all and self.live is None:
            self._sent_all = False
            self.out.info(f"{self.label}: uploaded")
        status = str(transcription.status)
        if status == self._status:
            return
        self._status = status
        if self.live is not None:
            description = f"{self.label}: {status}"
            if self._job_task is None:
                self._job_task = self.live.add_task(description, total=None)
            else:
                self.live.update(self._job_task, description=description)
            if status in ("completed", "error"):
                self.live.update(self._job_task, total=1, completed=1)
            return
        self.out.info(f"{self.label}: {status}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _transcribe_one(
    client: SonioxClient, source: Source, args: argparse.Namespace, tracker: _Tracker
) -> TranscriptionTranscript:
    options: TranscriptionOptions = {}
    if args.language_hints:
        options["language_hints"] = list(args.language_hints)
    if args.speakers:
        options["enable_speaker_diarization"] = True
    extra: dict[str, Any] = {}
    if args.model:
        extra["model"] = args.model
    stt = client.stt
    common: dict[str, Any] = {
        "file": source.path,
        "audio_url": source.url,
        "delete_after": not args.keep,
        "timeout": args.timeout,
        "progress": tracker.upload if source.path is not None else None,
        "on_status": tracker.status,
        **extra,
    }
    if args.translate_to:
        return stt.translate_and_wait_with_tokens(to=args.translate_to, **common, **options)
    return stt.transcribe_and_wait_with_tokens(**common, **options)


def run_transcribe(args: argparse.Namespace) -> int:
    """The ``soniox transcribe`` command (see the module docs)."""
    sources = [Source.parse(raw) for raw in args.paths]
    out = Output("transcribe", quiet=args.quiet)
    for source in sources:
        problem = None if source.path is None else audio_path_problem(source.path)
        if problem is not None:
            out.error(problem)
            return EXIT_USAGE
    output_dir: Path | None = args.output_dir
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        out.error(f"--output-dir is not a directory: {output_dir}")
        return EXIT_USAGE
    trackers: list[_Tracker] = []

    def body(client: SonioxClient, out: Output) -> int:
        return _transcribe_all(client, out, args, sources, trackers)

    def interrupted(out: Output, repeated: bool) -> None:
        jobs = [t.job_id for t in trackers if t.job_id]
        delete = f"delete with: soniox jobs rm --with-file {' '.join(jobs)}"
        if args.keep:
            if jobs:
                out.error(f"interrupted; kept on the server (--keep): {', '.join(jobs)} — {delete}")
            else:
                out.error("interrupted")
        elif repeated:
            # The second Ctrl-C stopped the clean-up: say what may be left and how to remove it.
            where = f"{', '.join(jobs)} — {delete}" if jobs else "an upload — see: soniox files ls"
            out.error(f"interrupted again: clean-up stopped; possibly left on the server: {where}")
        else:
            out.error("interrupted: the uploads and jobs of this run were deleted")

    notice = (
        None
        if args.keep
        else "interrupted: deleting this run's upload and job (a job still processing can only "
        "be deleted once it ends); Ctrl-C again to leave them on the server"
    )

    def describe(exc: SonioxError) -> str:
        return _describe(exc, keep=args.keep)

    return run_command(
        args,
        "transcribe",
        body,
        quiet=args.quiet,
        on_interrupt=interrupted,
        interrupt_notice=notice,
        describe=describe,
    )


def _cleanup_failure(exc: BaseException) -> str | None:
    """The SDK's note when ``delete_after`` could not delete what it created, if it could not."""
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, str) and note.startswith("clean-up failed"):
            return note
    return None


def _describe(exc: SonioxError, *, keep: bool) -> str:
    """An SDK error as this command words it: what happened to the job and the upload, and
    what the user can still do (the SDK's own wording cannot know what the CLI cleaned up)."""
    if isinstance(exc, WaitTimeoutError):
        job = exc.transcription_id or "?"
        waited = f" after {exc.timeout:g} s" if exc.timeout is not None else ""
        state = f" (still {exc.transcription.status})" if exc.transcription is not None else ""
        if keep:
            return (
                f"gave up waiting{waited} (--timeout): transcription {job}{state} is kept on "
                "the server (--keep) and may still finish; list it with: soniox jobs ls; "
                f"delete it with: soniox jobs rm --with-file {job}"
            )
        left = _cleanup_failure(exc)
        if left is not None:
            return f"gave up waiting{waited} (--timeout) on transcription {job}{state}; {left}"
        return (
            f"gave up waiting{waited} (--timeout): transcription {job}{state} and its upload "
            "were deleted"
        )
    message = describe_error(exc)
    left = _cleanup_failure(exc)
    return message if left is None else f"{message}\n  {left}"


def _has_words(transcript: TranscriptionTranscript) -> bool:
    return any(t.text.strip() and not t.text.startswith("<") for t in transcript.tokens)


def _transcribe_all(
    client: SonioxClient,
    out: Output,
    args: argparse.Namespace,
    sources: list[Source],
    trackers: list[_Tracker],
) -> int:
    failures = 0
    documents: list[Any] = []
    several = len(sources) > 1
    output_dir: Path | None = args.output_dir
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    with out.live() as live:
        for source in sources:
            tracker = _Tracker(out, live, source.label)
            trackers.append(tracker)
            try:
                transcript = _transcribe_one(client, source, args, tracker)
            except SonioxError as exc:
                if not several:
                    raise
                failures += 1
                out.error(f"{source.label}: {_describe(exc, keep=args.keep)}")
                continue
            if not _has_words(transcript):
                out.info(f"{source.label}: no speech found (the transcript is empty)")
            translated = bool(args.translate_to)
            if output_dir is not None:
                target = output_dir / f"{source.stem}.{_EXTENSIONS[args.format]}"
                text = render_transcript(
                    transcript, args.format, speakers=args.speakers, translated=translated
                )
                target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
                out.info(f"{source.label}: wrote {target}")
            elif args.format == "json":
                documents.append(unstructure(transcript))
            else:
                text = render_transcript(
                    transcript, args.format, speakers=args.speakers, translated=translated
                )
                out.result(f"==> {source.label} <==\n{text}" if several else text)
    if documents:
        value = documents if several else documents[0]
        out.result(json.dumps(value, indent=2, ensure_ascii=False))
    return EXIT_FAILURE if failures else EXIT_OK
