"""Before — the official SDK's async transcription: upload, create, wait, fetch, clean up."""

import os

from soniox import SonioxClient
from soniox.types import CreateTranscriptionConfig

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
)  # SONIOX_API_KEY from the environment
file = client.files.upload(AUDIO)
config = CreateTranscriptionConfig(enable_speaker_diarization=True)
job = client.stt.create(config=config, file_id=file.id)
job = client.stt.wait(job.id, interval_sec=0.2)
transcript = client.stt.get_transcript(job.id)
client.stt.delete(job.id)
client.files.delete(file.id)
print(f"result: {transcript.text}")
client.close()
