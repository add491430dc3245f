"""Reuse answers that cannot change, and share identical requests that are in flight.

    python examples/cache_and_dedup.py          # against a local emulator
    SONIOX_API_KEY=... python examples/cache_and_dedup.py

Two middleware of the production profile's stack (``headers → tracing → metrics → cache →
dedup → retry → …``), named in a config like any other:

- ``cache`` keeps what cannot change — a completed job's transcript, a finished job, file
  metadata, the model lists — per API key, bounded in bytes; a delete through the client drops
  what it kept about that object. ``client.cache`` shows its stats and clears it.
- ``dedup`` makes identical GETs that are in flight at the same time share one request: here 50
  tasks ask for the same transcript at once and the server sees one request.

The script transcribes the bundled sample, fetches its transcript twice (a miss, then a hit),
shares one request among 50 concurrent fetches, and deletes the job at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _connect import add_connection_args, async_soniox_client, soniox_client

from soniox import SonioxConfig
from soniox.data import sample_path
from soniox.errors import NotFoundError
from soniox.middleware import Dedup

CONFIG = SonioxConfig.production()  # cache and dedup are in its stack


def cached_fetches(args: argparse.Namespace) -> None:
    """The cache: the second fetch of a transcript never leaves the process."""
    with soniox_client(args.api_key, args.base_url, config=CONFIG) as client:
        print(client.stack)
        job = client.stt.transcribe_and_wait(file=sample_path(), wait_timeout_sec=120)
        for label in ("first fetch (miss)", "second fetch (hit)"):
            started = time.perf_counter()
            transcript = client.stt.get_transcript(job.id)
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(f"{label}: {len(transcript.tokens)} tokens in {elapsed_ms:.2f} ms")
        stats = client.cache.stats  # the wait's last status poll kept the finished job too
        print(f"cache: {stats.hits} hit, {stats.misses} misses, {stats.entries} entries")
        client.stt.destroy(job.id)  # the job and its file; the cached transcript goes with them
        try:
            client.stt.get_transcript(job.id)
        except NotFoundError:
            print("after delete: the transcript is asked again, and is gone (404)")


async def shared_fetches(args: argparse.Namespace) -> None:
    """Dedup: 50 concurrent fetches of one transcript, one request upstream."""
    async with async_soniox_client(args.api_key, args.base_url, config=CONFIG) as client:
        job = await client.stt.transcribe_and_wait(file=sample_path(), wait_timeout_sec=120)
        dedup = client.stack["dedup"]
        assert isinstance(dedup, Dedup)
        before = dedup.stats
        results = await asyncio.gather(*[client.stt.get_transcript(job.id) for _ in range(50)])
        upstream = dedup.stats.leaders - before.leaders
        shared = dedup.stats.shared - before.shared
        same = all(result == results[0] for result in results)
        print(
            f"dedup: {len(results)} concurrent fetches -> {upstream} upstream request "
            f"({shared} shared), all equal: {same}"
        )
        await client.stt.destroy(job.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()
    cached_fetches(args)
    asyncio.run(shared_fetches(args))


if __name__ == "__main__":
    main()
