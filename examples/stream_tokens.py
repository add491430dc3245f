"""Stream a long transcript token by token with flat memory, and write subtitles as it streams.

    python examples/stream_tokens.py [PATH]                      # against a local emulator
    SONIOX_API_KEY=... python examples/stream_tokens.py --id <transcription id>

``client.stt.iter_tokens(id)`` (or ``soniox.transcripts.iter_transcript_tokens``) sends
``GET /v1/transcriptions/{id}/transcript`` through the client's middleware and parses the body
as it arrives, yielding typed tokens one at a time: a 200,000-token transcript needs well under
1 MiB instead of the ~140 MiB of ``response.json()``. If the connection drops mid-body, the
download resumes where it stopped. :func:`soniox.transcripts.iter_cues` is lazy too, so the
SRT file is written cue by cue while the tokens stream in.

Without ``--id`` the script first transcribes PATH (default: the bundled sample) and deletes
the job at the end. Without ``SONIOX_API_KEY`` it starts a local emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tracemalloc
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path

from soniox.client import SonioxClient
from soniox.data import sample_path
from soniox.transcripts import iter_cues
from soniox.types import TranscriptionTranscriptToken as Token


@contextlib.contextmanager
def soniox_client(api_key: str | None, base_url: str | None) -> Generator[SonioxClient]:
    """The real API when a key is given, else a local emulator started for this run."""
    with contextlib.ExitStack() as stack:
        if not api_key:
            from soniox.emulator import Emulator

            emulator = stack.enter_context(Emulator())
            api_key, base_url = emulator.api_key, emulator.rest_base_url
            print(f"no SONIOX_API_KEY: using a local emulator at {base_url}")
        yield stack.enter_context(SonioxClient(api_key=api_key, base_url=base_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument("--id", help="an existing completed transcription to stream")
    parser.add_argument("--srt", type=Path, default=Path("streamed.srt"), help="output file")
    parser.add_argument("--api-key", default=os.environ.get("SONIOX_API_KEY"))
    parser.add_argument("--base-url", default=os.environ.get("SONIOX_API_BASE_URL"))
    args = parser.parse_args()

    with soniox_client(args.api_key, args.base_url) as client:
        job_id = args.id
        if job_id is None:
            job = client.stt.transcribe_and_wait(
                file=args.path, enable_speaker_diarization=True, wait_timeout_sec=120
            )
            job_id = job.id
            print(f"transcribed {args.path.name} as {job_id}")

        speakers: Counter[str] = Counter()

        def counted(tokens: Iterable[Token]) -> Iterator[Token]:
            """Pass tokens through, counting them per speaker on the way."""
            for token in tokens:
                speakers[token.speaker or "-"] += 1
                yield token

        tracemalloc.start()
        cues = 0
        with client.stt.iter_tokens(job_id) as stream, args.srt.open("w", encoding="utf-8") as srt:
            for cues, cue in enumerate(iter_cues(counted(stream)), 1):
                srt.write(cue.srt(cues))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"streamed {stream.count} tokens of {stream.id} (resumed {stream.resumes}x)")
        print("tokens per speaker: " + ", ".join(f"{s}={n}" for s, n in sorted(speakers.items())))
        print(f"wrote {cues} cues to {args.srt}; peak Python memory {peak / 1024:.0f} KiB")

        if args.id is None:
            client.stt.destroy(job_id)  # the job and its uploaded file
            print(f"deleted {job_id}")


if __name__ == "__main__":
    main()
