"""After — one call that paces the file, keeps the connection alive, and resumes after a dropped
connection without losing or repeating a word; the session's figures come back with the text."""

import os
from pathlib import Path

from soniox import SonioxClient
from soniox.types import RealtimeSTTConfig

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

with SonioxClient() as client:
    config = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")
    result = client.realtime.stt.transcribe(Path(AUDIO), config=config, pace=8.0)
    print(f"reconnects: {result.reconnects}")
    print(f"result: {result.text.strip()}")
