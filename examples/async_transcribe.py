"""The asyncio client: transcribe with tokens, stream a transcript, and cancel cleanly.

    python examples/async_transcribe.py [PATH]                    # against a local emulator
    SONIOX_API_KEY=... python examples/async_transcribe.py talk.wav

``AsyncSonioxClient`` has every method of ``SonioxClient``, awaited; both run the same flows.
The script

1. transcribes PATH with ``await client.stt.transcribe_and_wait_with_tokens(...)``;
2. streams the same transcript again with ``async for token in client.stt.iter_tokens(id)``
   (parsed as it arrives: flat memory for very long transcripts), then deletes the job and file
   with ``destroy``;
3. cancels a ``transcribe_and_wait(..., delete_after=True)`` midway (``asyncio.timeout``) and
   shows that the clean-up still ran: no job and no file are left.

Without ``SONIOX_API_KEY`` the script starts a local emulator; ``--api-key`` / ``--base-url``
point it anywhere else. PATH defaults to the bundled sample recording.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path

from _connect import add_connection_args, async_soniox_client

from soniox.data import sample_path


async def run(path: Path, api_key: str | None, base_url: str | None, cancel_after: float) -> None:
    async with async_soniox_client(api_key, base_url) as client:
        # 1. Upload, create, wait, fetch: one call.
        transcript = await client.stt.transcribe_and_wait_with_tokens(
            file=path, enable_speaker_diarization=True
        )
        print(f"transcribed {path.name} as {transcript.id}: {transcript.text.strip()}")

        # 2. The same tokens, streamed and parsed one at a time.
        per_speaker: Counter[str] = Counter()
        async with client.stt.iter_tokens(transcript.id) as stream:
            async for token in stream:
                per_speaker[token.speaker or "-"] += 1
        print(
            f"streamed {stream.count} tokens: "
            + ", ".join(
                f"speaker {speaker}: {count}" for speaker, count in sorted(per_speaker.items())
            )
        )
        await client.stt.destroy(transcript.id)  # the job and the uploaded file
        print(f"destroyed {transcript.id}")

        # 3. Cancelled midway: delete_after still removes the upload and the job.
        try:
            async with asyncio.timeout(cancel_after):
                await client.stt.transcribe_and_wait(file=path, delete_after=True)
            print("finished before the timeout (nothing to cancel)")
        except TimeoutError:
            print(f"cancelled after {cancel_after:g} s")
        files = (await client.files.count()).total
        jobs = (await client.stt.count()).total
        print(f"left behind: {files} file(s), {jobs} job(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument(
        "--cancel-after", type=float, default=0.3, help="seconds before step 3 is cancelled"
    )
    add_connection_args(parser)
    args = parser.parse_args()
    asyncio.run(run(args.path, args.api_key, args.base_url, args.cancel_after))


if __name__ == "__main__":
    main()
