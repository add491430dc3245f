"""Before — the official SDK's webhook helpers: the create fields, then checking a delivery."""

import os

from soniox import SonioxClient

client = SonioxClient(
    api_base_url=os.environ.get("SONIOX_API_BASE_URL"),  # None: the service
    websocket_base_url=os.environ.get("SONIOX_WEBSOCKET_URL"),
    webhook_secret="s3cret",
)  # SONIOX_API_KEY from the environment
fields = client.webhooks.webhook_payload("https://example.com/hook")
body = b'{"id": "3f2a6d1e-1234-4a5b-9c8d-0123456789ab", "status": "completed"}'
headers = {fields["webhook_auth_header_name"]: fields["webhook_auth_header_value"]}
event = client.webhooks.unwrap(body, headers)
print(f"result: {event.id} {event.status}")
client.close()
