"""Enqueue one transcription job per file on the ``soniox`` RQ queue.

    python examples/distributed/producer.py RESULTS_DIR FILE...

``REDIS_URL`` names the Redis of the queue (and of the shared limits). Each job may run up to 3
more times if its worker dies (``Retry``); the task makes a run again finish the same
transcription rather than create another.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from redis import Redis
from rq import Queue, Retry


def enqueue(redis_url: str, results_dir: Path, files: list[Path]) -> list[str]:
    queue = Queue("soniox", connection=Redis.from_url(redis_url))
    jobs = [
        queue.enqueue(
            "tasks.transcribe_file",
            str(path.resolve()),
            str(results_dir.resolve()),
            retry=Retry(max=3),  # at once: a delay would need the RQ scheduler
            job_timeout=600,
            description=f"transcribe {path.name}",
        )
        for path in files
    ]
    return [job.id for job in jobs]


def main() -> None:
    results_dir, *files = sys.argv[1:]
    ids = enqueue(os.environ["REDIS_URL"], Path(results_dir), [Path(f) for f in files])
    print(f"enqueued {len(ids)} jobs")


if __name__ == "__main__":
    main()
