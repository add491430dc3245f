"""Before — the official SDK's files namespace: upload, get, list, delete."""

import os

from soniox import SonioxClient

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
)  # SONIOX_API_KEY from the environment
uploaded = client.files.upload(AUDIO)
found = client.files.get(uploaded.id)
names = [f.filename for f in client.files.list().files if f.id == uploaded.id]
client.files.delete(uploaded.id)
print(f"result: {found.filename} {found.size} {names}")
client.close()
