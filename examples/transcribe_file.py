"""Transcribe a local audio file in one call, print the text, and leave nothing behind.

    python examples/transcribe_file.py [PATH]                      # against a local emulator
    SONIOX_API_KEY=... python examples/transcribe_file.py call.wav --speakers

``client.stt.transcribe_and_wait_with_tokens(file=..., delete_after=True)`` uploads the file
(streamed, with a progress callback), creates the job exactly once, waits with adaptive polling,
fetches the typed transcript and then deletes the job and the upload. The deletion also happens
when anything fails on the way: a failed job, a timeout, Ctrl-C.

Without ``SONIOX_API_KEY`` the script starts a local emulator; ``--api-key`` / ``--base-url``
point it anywhere else. PATH defaults to the bundled sample recording.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path
from soniox.errors import TranscriptionFailedError, WaitTimeoutError
from soniox.transcripts import render_by_speaker
from soniox.types import Transcription


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument("--speakers", action="store_true", help="label the text by speaker")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the job")
    add_connection_args(parser)
    args = parser.parse_args()
    path: Path = args.path

    statuses: list[str] = []

    def on_upload(sent: int, total: int | None) -> None:
        if total is not None and sent == total:
            print(f"uploaded {path.name} ({total:,} bytes)")

    def on_status(job: Transcription) -> None:
        if not statuses or statuses[-1] != str(job.status):
            statuses.append(str(job.status))
            print(f"job {job.id}: {job.status}")

    with soniox_client(args.api_key, args.base_url) as client:
        try:
            transcript = client.stt.transcribe_and_wait_with_tokens(
                file=path,
                enable_speaker_diarization=args.speakers,
                delete_after=True,
                timeout=args.timeout,
                progress=on_upload,
                on_status=on_status,
            )
        except FileNotFoundError as exc:
            sys.exit(f"no such file: {exc.filename}")
        except TranscriptionFailedError as exc:
            # The job ran and failed (unsupported audio, ...); it has been deleted already.
            sys.exit(f"transcription failed: {exc.error_type}: {exc.error_message}")
        except WaitTimeoutError as exc:
            sys.exit(f"gave up after {args.timeout:g} s; job {exc.transcription_id} was deleted")

        if args.speakers:
            print(render_by_speaker(transcript.tokens))
        else:
            print(f"text: {transcript.text.strip()}")
        print(f"{len(transcript.tokens)} tokens")

        # delete_after=True removed both the job and the uploaded file.
        gone = client.stt.get_or_none(transcript.id) is None
        print(f"job {transcript.id} deleted: {gone}")


if __name__ == "__main__":
    main()
