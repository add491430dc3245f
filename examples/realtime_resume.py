"""A realtime stream that loses its connection twice and still gives every word exactly once.

    python examples/realtime_resume.py

Runs against a local emulator with fault injection: the connection is dropped (no close frame)
after 8 frames, and the second connection gets a ``503`` error frame after 25.
The session reconnects each time, sends the config again and the audio after the last final
watermark, and shifts the new connection's timestamps — so the final transcript, timing
included, is the same as without faults. ``session.notices`` tells what happened.
"""

from __future__ import annotations

from pathlib import Path

import soniox.data
from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.realtime import TranscriptAssembler
from soniox.types import RealtimeSTTConfig
from soniox.utils import start_audio_thread, stream_audio

SAMPLE = Path(soniox.data.__file__).parent / "sample-en.wav"


def transcribe(client: SonioxClient) -> tuple[list[tuple[str, int | None]], list[object]]:
    config = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")
    transcript = TranscriptAssembler()
    with client.realtime.stt.connect(config=config) as session:
        sender = start_audio_thread(session, stream_audio(SAMPLE, chunk_size_bytes=3840))
        for event in session.receive_events():
            transcript.feed(event)
        sender.join()
    words = [(t.text, t.start_ms) for t in transcript.final_tokens]
    return words, list(session.notices)


def main() -> None:
    with Emulator() as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        clean, _ = transcribe(client)
        emu.faults.inject("ws_drop", "/transcribe-websocket", after_frames=8)
        emu.faults.inject(
            "ws_error", "/transcribe-websocket", nth=2, after_frames=25, error_code=503
        )
        faulty, notices = transcribe(client)
        for notice in notices:
            print(f"  {notice}")
        print(f"{len(clean)} final tokens without faults, {len(faulty)} with two lost connections")
        print(f"identical, timing included: {faulty == clean}")


if __name__ == "__main__":
    main()
