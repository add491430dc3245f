"""The RQ task of the distributed batch: transcribe one file, exactly once, under the key's
shared limits, and write its transcript to the results directory.

Each job runs in a forked RQ work horse, which makes its own client (never one inherited across
the fork) from the environment: ``SONIOX_API_KEY`` (and ``SONIOX_API_BASE_URL`` for an
emulator), ``REDIS_URL`` — the same Redis the queue uses — for the shared limits.

Exactly once, even when a worker dies mid-job and RQ runs the job again: the transcription
carries a ``client_reference_id`` derived from the file, and a job run again first looks for a
transcription with that reference and waits for it instead of creating another.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from soniox.client import SonioxClient
from soniox.config import SonioxConfig


def client() -> SonioxClient:
    return SonioxClient(
        config=SonioxConfig.production(
            shared_state=os.environ["REDIS_URL"],
            pending_transcriptions_limit=int(os.environ.get("PENDING_LIMIT", "100")),
            rate_limit_per_second=float(os.environ.get("RATE_LIMIT", "5")),
        )
    )


def reference_of(path: Path) -> str:
    """The file's transcription reference: the same whichever worker, whichever attempt."""
    digest = hashlib.sha256(f"{path.resolve()}:{path.stat().st_size}".encode()).hexdigest()
    return f"distributed-{digest[:32]}"


def transcribe_file(path: str, results_dir: str) -> str:
    """Transcribe ``path`` (or finish the transcription an earlier attempt started) and write
    ``<results_dir>/<name>.txt``; returns that path."""
    source = Path(path)
    results = Path(results_dir)
    running = results / ".running"
    running.mkdir(parents=True, exist_ok=True)
    (running / f"{source.name}.pid").write_text(str(os.getpid()))
    reference = reference_of(source)
    with client() as soniox:
        job = next((j for j in soniox.stt.list_all() if j.client_reference_id == reference), None)
        if job is None:  # the first attempt: upload and create
            job = soniox.stt.transcribe(file=source, client_reference_id=reference)
        job = soniox.stt.wait(job.id)
        text = soniox.stt.get_transcript(job.id).text
        target = results / f"{source.name}.txt"
        partial = target.with_suffix(".part")
        partial.write_text(text + "\n")
        partial.replace(target)  # a result appears whole or not at all
        soniox.stt.destroy(job.id)  # the job and its file: the result is kept here
    (running / f"{source.name}.pid").unlink(missing_ok=True)
    return str(target)
