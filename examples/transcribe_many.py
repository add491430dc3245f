"""Transcribe a batch of recordings with bounded concurrency; one failure does not sink the batch.

    python examples/transcribe_many.py                       # against a local emulator
    SONIOX_API_KEY=... python examples/transcribe_many.py a.wav b.mp3 https://example.com/c.mp3

``client.stt.transcribe_many(sources, concurrency=N)`` runs every item through the same workflow
as ``transcribe_and_wait`` (upload, create, wait, transcript, clean-up) with at most N in flight,
and returns one ``BatchResult`` per item, in order: the transcript, or the item's own typed error.
An item is a path, an ``http(s)://`` URL, bytes, a binary file object, or a mapping of transcribe
arguments with per-item options. ``progress(result, done, total)`` is called as each item ends.

Without paths the batch is the bundled sample several times over (as a path, as bytes, and with
per-item options), plus one file that does not exist, to show a per-item error. Without
``SONIOX_API_KEY`` the script starts a local emulator; ``--api-key`` / ``--base-url`` point it
anywhere else.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path
from soniox.flows import BatchResult


def demo_sources() -> list[Any]:
    """The bundled sample in every shape a batch item can take, and one missing file."""
    sample = sample_path()
    return [
        str(sample),
        sample,  # a Path
        sample.read_bytes(),
        {"file": sample, "enable_speaker_diarization": True},  # per-item options
        "does-not-exist.wav",
        {"file": sample, "language_hints": ["en"], "client_reference_id": "batch-item-6"},
    ]


def on_progress(result: BatchResult, done: int, total: int) -> None:
    """One line per finished item, in the order they finish."""
    outcome = "ok" if result.ok else f"failed: {type(result.error).__name__}"
    print(f"[{done}/{total}] item {result.index} {outcome} after {result.elapsed:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sources", nargs="*", help="paths or URLs (default: a demo batch)")
    parser.add_argument("--concurrency", type=int, default=3, help="jobs in flight (default 3)")
    add_connection_args(parser)
    args = parser.parse_args()
    sources: list[Any] = args.sources or demo_sources()

    with soniox_client(args.api_key, args.base_url) as client:
        started = time.monotonic()
        results = client.stt.transcribe_many(
            sources,
            concurrency=args.concurrency,
            with_tokens=True,
            delete_after=True,  # every job and upload is deleted, whatever happens
            progress=on_progress,
        )
        elapsed = time.monotonic() - started

    for result in results:
        if result.transcript is not None:
            words = result.transcript.text.split()
            print(f"{result.index}: {result.source}: {len(words)} words: {' '.join(words[:6])} ...")
        else:
            print(f"{result.index}: {result.source}: {type(result.error).__name__}: {result.error}")
    failed = sum(not result.ok for result in results)
    print(
        f"{len(results) - failed} transcribed, {failed} failed, in {elapsed:.1f} s "
        f"with concurrency {args.concurrency}"
    )


if __name__ == "__main__":
    main()
