"""After — the same helpers with a constant-time check, and a config that refuses deliveries
when no secret is configured (the official SDK accepts them)."""

from soniox import SonioxClient, SonioxConfig
from soniox.errors import WebhookSignatureError

config = SonioxConfig.production(webhook_secret="s3cret", webhook_require_secret=True)
with SonioxClient(config=config) as client:
    fields = client.webhooks.webhook_payload("https://example.com/hook")
    body = b'{"id": "3f2a6d1e-1234-4a5b-9c8d-0123456789ab", "status": "completed"}'
    headers = {fields["webhook_auth_header_name"]: fields["webhook_auth_header_value"]}
    try:
        client.webhooks.unwrap(body, {fields["webhook_auth_header_name"]: "a guess"})
    except WebhookSignatureError:
        print("a delivery without the secret is refused")
    event = client.webhooks.unwrap(body, headers)
    print(f"result: {event.id} {event.status}")
