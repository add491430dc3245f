"""Mint a short-lived API key for a browser or another untrusted client.

    python examples/temporary_key.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/temporary_key.py --expires-in 120

Your server keeps the real key and hands out ``temp:`` keys that open realtime connections only,
expire quickly and can be limited to one stream or a session length. The returned object masks
the key in ``repr`` (safe to log); read ``.api_key`` to pass it on.
"""

from __future__ import annotations

import argparse
import json

from _connect import add_connection_args, soniox_client

from soniox.errors import ClientValidationError


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    parser.add_argument("--expires-in", type=int, default=60, help="seconds (1..3600)")
    args = parser.parse_args()

    with soniox_client(args.api_key, args.base_url) as client:
        key = client.auth.create_temporary_api_key(
            usage_type="transcribe_websocket",
            expires_in_seconds=args.expires_in,
            client_reference_id="browser-session-42",  # shows up in usage logs
            single_use=True,
            max_session_duration_seconds=600,
        )
        print(f"safe to log: {key!r}")
        # What your endpoint would return to the browser (the key shortened here on purpose):
        print(json.dumps({"api_key": key.api_key[:5] + "...", "expires_at": str(key.expires_at)}))

        try:  # limits are checked before anything is sent
            client.auth.create_temporary_api_key(expires_in_seconds=86_400)
        except ClientValidationError as exc:
            print(f"refused locally: {exc} (field {exc.field})")


if __name__ == "__main__":
    main()
