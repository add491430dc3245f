"""``soniox files ls|rm``, ``soniox jobs ls|rm`` and ``soniox models``.

Listings walk every page (``list_all``) and print a table, or JSON lines with ``--json``.
``rm ID...`` deletes each id and reports each failure (exit code 1 if any failed, the rest are
still deleted); ``rm --all`` deletes everything (asking first on a terminal unless ``--yes``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime

from soniox.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Output,
    UsageError,
    describe_error,
    run_command,
)
from soniox.client import SonioxClient
from soniox.errors import SonioxAPIError
from soniox.types import File, Model, Transcription, unstructure

__all__ = ["run_files_ls", "run_files_rm", "run_jobs_ls", "run_jobs_rm", "run_models"]


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _json_lines(out: Output, items: list[File] | list[Transcription] | list[Model]) -> None:
    for item in items:
        out.result(json.dumps(unstructure(item), ensure_ascii=False))


def _check_targets(args: argparse.Namespace, what: str) -> None:
    if args.all and args.ids:
        raise UsageError(f"give {what} ids or --all, not both")
    if not args.all and not args.ids:
        raise UsageError(f"give the {what} ids to delete, or --all")


def _confirm(out: Output, question: str, yes: bool) -> bool:
    """Ask on a terminal (``--yes`` skips it); piped or scripted runs go ahead."""
    if yes or not sys.stdin.isatty():
        return True
    out.stderr.write(f"{question} [y/N] ")
    out.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _delete_each(out: Output, ids: list[str], delete: Callable[[str], None], noun: str) -> int:
    failures = 0
    for item_id in ids:
        try:
            delete(item_id)
        except SonioxAPIError as exc:
            failures += 1
            out.error(f"{item_id}: {describe_error(exc)}")
        else:
            out.info(f"deleted {noun} {item_id}")
    return EXIT_FAILURE if failures else EXIT_OK


# files -----------------------------------------------------------------------------------------


def run_files_ls(args: argparse.Namespace) -> int:
    """``soniox files ls``."""

    def body(client: SonioxClient, out: Output) -> int:
        files = list(client.files.list_all())
        if args.json:
            _json_lines(out, files)
            return EXIT_OK
        rows = [[f.id, f.filename, str(f.size), _when(f.created_at)] for f in files]
        out.table(["ID", "FILENAME", "BYTES", "CREATED (UTC)"], rows)
        return EXIT_OK

    return run_command(args, "files ls", body)


def run_files_rm(args: argparse.Namespace) -> int:
    """``soniox files rm ID... | --all``."""

    def body(client: SonioxClient, out: Output) -> int:
        _check_targets(args, "file")
        if args.all:
            if not _confirm(out, "Delete every uploaded file?", args.yes):
                out.info("nothing deleted")
                return EXIT_OK
            count = client.files.delete_all()
            out.info(f"deleted {count} file(s)")
            return EXIT_OK
        return _delete_each(out, list(args.ids), client.files.delete, "file")

    return run_command(args, "files rm", body)


# jobs ------------------------------------------------------------------------------------------


def run_jobs_ls(args: argparse.Namespace) -> int:
    """``soniox jobs ls``."""

    def body(client: SonioxClient, out: Output) -> int:
        jobs = list(client.stt.list_all())
        if args.json:
            _json_lines(out, jobs)
            return EXIT_OK
        rows = [
            [
                job.id,
                str(job.status),
                job.model,
                job.filename,
                "" if job.audio_duration_ms is None else f"{job.audio_duration_ms / 1000:.1f}",
                _when(job.created_at),
            ]
            for job in jobs
        ]
        out.table(["ID", "STATUS", "MODEL", "FILENAME", "AUDIO S", "CREATED (UTC)"], rows)
        return EXIT_OK

    return run_command(args, "jobs ls", body)


def run_jobs_rm(args: argparse.Namespace) -> int:
    """``soniox jobs rm ID... | --all`` (``--with-file``: their uploads too)."""

    def body(client: SonioxClient, out: Output) -> int:
        _check_targets(args, "job")
        stt = client.stt
        if args.all:
            if not _confirm(out, "Delete every transcription job?", args.yes):
                out.info("nothing deleted")
                return EXIT_OK
            count = stt.destroy_all() if args.with_file else stt.delete_all()
            out.info(f"deleted {count} job(s)")
            return EXIT_OK
        delete = stt.destroy if args.with_file else stt.delete
        return _delete_each(out, list(args.ids), delete, "job")

    return run_command(args, "jobs rm", body)


# models ----------------------------------------------------------------------------------------


def run_models(args: argparse.Namespace) -> int:
    """``soniox models``."""

    def body(client: SonioxClient, out: Output) -> int:
        models = client.models.list().models
        if args.json:
            _json_lines(out, models)
            return EXIT_OK
        rows = [
            [
                m.id,
                m.aliased_model_id or "",
                str(m.transcription_mode),
                str(len(m.languages)),
                "yes" if m.translation_targets or m.one_way_translation else "",
            ]
            for m in models
        ]
        out.table(["ID", "ALIAS OF", "MODE", "LANGUAGES", "TRANSLATION"], rows)
        return EXIT_OK

    return run_command(args, "models", body)
