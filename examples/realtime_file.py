"""Realtime transcription of a file: audio from a thread, events as they come.

    python examples/realtime_file.py [AUDIO]            # a local emulator, no key needed
    SONIOX_API_KEY=... python examples/realtime_file.py AUDIO

The official SDK's pattern, unchanged: ``client.realtime.stt.connect(config=...)``, audio sent
from a thread (``start_audio_thread`` with ``throttle_audio`` pacing the file like live audio),
``receive_events()`` on this one. Final tokens are appended, non-final ones replaced (printed
in brackets) — which is what :class:`soniox.realtime.TranscriptAssembler` keeps for you.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _connect import add_connection_args, soniox_client

import soniox.data
from soniox.realtime import TranscriptAssembler
from soniox.types import RealtimeSTTConfig
from soniox.utils import start_audio_thread, throttle_audio

SAMPLE = Path(soniox.data.__file__).parent / "sample-en.wav"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("audio", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between 120 ms chunks")
    add_connection_args(parser)
    args = parser.parse_args()
    config = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")
    with soniox_client(args.api_key, args.base_url) as client:
        transcript = TranscriptAssembler()
        with client.realtime.stt.connect(config=config) as session:
            audio = throttle_audio(args.audio, chunk_size_bytes=3840, delay_seconds=args.pace)
            sender = start_audio_thread(session, audio)
            for event in session.receive_events():
                update = transcript.feed(event)
                pending = "".join(t.text for t in update.non_finals)
                print(f"{transcript.final_text}[{pending}]")
            sender.join()
        print(f"final: {transcript.final_text.strip()}")
        print(f"reconnects: {session.reconnects}")


if __name__ == "__main__":
    main()
