"""After — the same calls; the key's secret stays out of logs and reprs, and a realtime session
can mint a fresh single-use key per connection itself (``temporary_keys=True``)."""

from datetime import UTC, datetime, timedelta

from soniox import SonioxClient

with SonioxClient() as client:
    key = client.auth.create_temporary_api_key(
        usage_type="transcribe_websocket", expires_in_seconds=60, single_use=True
    )
    print("temp:" not in repr(key))  # the secret is never in a repr
    now = datetime.now(UTC)
    usage = client.usage.summary(now - timedelta(days=1), now)
    print(f"result: temporary key {key.api_key.startswith('temp:')}, {type(usage).__name__}")
