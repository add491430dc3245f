"""After — one call for the same workflow: upload → create (exactly once) → wait (adaptive
polling) → fetch → clean up, the clean-up also on errors, timeouts and Ctrl-C."""

import os
from pathlib import Path

from soniox import SonioxClient, render_by_speaker

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

with SonioxClient() as client:
    transcript = client.stt.transcribe_and_wait_with_tokens(
        file=Path(AUDIO), enable_speaker_diarization=True, delete_after=True
    )
    print(render_by_speaker(transcript.tokens).splitlines()[0])
    print(f"result: {transcript.text}")
