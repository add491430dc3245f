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
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from _connect import add_connection_args, output_dir, soniox_client

from soniox.data import sample_path
from soniox.transcripts import iter_cues
from soniox.types import TranscriptionTranscriptToken as Token


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument("--id", help="an existing completed transcription to stream")
    parser.add_argument(
        "--srt", type=Path, help="output file (default: streamed.srt in a new temporary directory)"
    )
    add_connection_args(parser)
    args = parser.parse_args()
    srt_path: Path = args.srt or output_dir(None, "stream-tokens") / "streamed.srt"

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
        with client.stt.iter_tokens(job_id) as stream, srt_path.open("w", encoding="utf-8") as srt:
            for cues, cue in enumerate(iter_cues(counted(stream)), 1):
                srt.write(cue.srt(cues))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"streamed {stream.count} tokens of {stream.id} (resumed {stream.resumes}x)")
        print("tokens per speaker: " + ", ".join(f"{s}={n}" for s, n in sorted(speakers.items())))
        print(f"wrote {cues} cues to {srt_path}; peak Python memory {peak / 1024:.0f} KiB")

        if args.id is None:
            client.stt.destroy(job_id)  # the job and its uploaded file
            print(f"deleted {job_id}")


if __name__ == "__main__":
    main()
