"""Before — the official SDK's realtime session: connect, send audio from a thread, read events."""

import os

from soniox import SonioxClient
from soniox.types import RealtimeSTTConfig
from soniox.utils import start_audio_thread, throttle_audio

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
)  # SONIOX_API_KEY from the environment
config = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")
final_text = ""
with client.realtime.stt.connect(config=config) as session:
    audio = throttle_audio(AUDIO, chunk_size_bytes=3840, delay_seconds=0.01)
    sender = start_audio_thread(session, audio)
    for event in session.receive_events():
        final_text += "".join(t.text for t in event.tokens if t.is_final)
    sender.join()
print(f"result: {final_text.strip()}")
client.close()
