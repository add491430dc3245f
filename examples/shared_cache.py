"""Completed transcripts shared by worker processes through Redis: the server sends each once.

    python examples/shared_cache.py                     # emulator + a throwaway redis-server
    REDIS_URL=redis://127.0.0.1:6379/0 python examples/shared_cache.py

Three completed jobs; then three worker processes (``multiprocessing``: gunicorn, Celery or RQ
workers are the same) each read all three transcripts, one worker after another. Their clients
share a cache tier in Redis (``cache_shared_max_bytes``, on ``shared_state``): the first worker
fetches the transcripts from the server, the others are served from Redis. The script prints
what each worker read from where, what the tier holds, and how many transcripts the server sent.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from _connect import redis_url

from soniox.client import SonioxClient
from soniox.config import SonioxConfig
from soniox.data import sample_path
from soniox.emulator import Emulator

WORKERS = 3


def worker(name: str, base_url: str, api_key: str, url: str, jobs: list[str], out: Any) -> None:
    """One worker process: every transcript; (name, words, hits from Redis)."""
    config = SonioxConfig.production(
        api_key=api_key,
        base_url=base_url,
        shared_state=url,  # every worker: the same Redis
        cache_shared_max_bytes=64 * 2**20,  # the tier's bound, for all workers together
    )
    with SonioxClient(config=config) as client:
        words = sum(len(client.stt.get_transcript(job).text.split()) for job in jobs)
        out.put((name, words, client.cache.stats.shared_hits))


def main() -> None:
    emulator = Emulator(queue_delay_s=0.0, processing_speed=1000.0, min_processing_s=0.01)
    with redis_url() as url, emulator as emu:
        with SonioxClient(api_key=emu.api_key, base_url=emu.rest_base_url) as client:
            jobs = [client.stt.transcribe(file=sample_path(), wait=True).id for _ in range(3)]
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        for i in range(WORKERS):  # one after another: each finds what the earlier ones fetched
            process = context.Process(
                target=worker, args=(f"worker-{i}", emu.rest_base_url, emu.api_key, url, jobs, out)
            )
            process.start()
            process.join(timeout=60)
            name, words, hits = out.get(timeout=5)
            print(f"{name}: {words} words, {hits} of {len(jobs)} transcripts from Redis")
        config = SonioxConfig.production(
            api_key=emu.api_key,
            base_url=emu.rest_base_url,
            shared_state=url,
            cache_shared_max_bytes=64 * 2**20,
        )
        with SonioxClient(config=config) as client:
            usage = client.cache.shared_usage()
            assert usage is not None
            print(
                f"shared tier: {usage.entries} entries, {usage.bytes:,} of {usage.max_bytes:,} bytes"
            )
        sent = sum(
            1
            for entry in emu.journal.entries(method="GET")
            if entry.path.endswith("/transcript") and entry.status == 200
        )
        print(f"transcripts the server sent: {sent} (for {WORKERS * len(jobs)} reads)")


if __name__ == "__main__":
    main()
