"""Before — the official SDK's exceptions: the names its users catch."""

import os

from soniox import SonioxClient
from soniox.errors import SonioxAPIError, SonioxNotFoundError

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
)  # SONIOX_API_KEY from the environment
try:
    client.stt.get("00000000-0000-4000-8000-000000000000")
except SonioxNotFoundError as e:
    print(f"result: not found, HTTP {e.status_code}")
except SonioxAPIError as e:
    print(f"result: other API error {e.status_code}")
client.close()
