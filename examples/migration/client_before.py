"""Before — the official SDK's client: keywords, environment, a plain request."""

import os

from soniox import SonioxClient

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
    timeout_sec=30,
)  # SONIOX_API_KEY from the environment
models = client.models.list()
print(f"result: {sorted(m.id for m in models.models)[:3]}")
client.close()
