"""Before — the official SDK's account calls: a temporary key for a browser, the usage summary."""

import os
from datetime import UTC, datetime, timedelta

from soniox import SonioxClient

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
)  # SONIOX_API_KEY from the environment
key = client.auth.create_temporary_api_key(usage_type="transcribe_websocket", expires_in_seconds=60)
now = datetime.now(UTC)
usage = client.usage.summary((now - timedelta(days=1)).isoformat(), now.isoformat())
print(f"result: temporary key {key.api_key.startswith('temp:')}, {type(usage).__name__}")
client.close()
