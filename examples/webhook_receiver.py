"""Receive Soniox webhooks with nothing but the standard library: verify, parse, act.

    python examples/webhook_receiver.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/webhook_receiver.py --public-url https://<tunnel>/hook

A tiny ``http.server`` receiver checks each request with ``client.webhooks.unwrap`` (the auth
header compared in constant time, the body parsed into a ``WebhookEvent``) and answers 401 to
anything forged. The script then transcribes the bundled sample with ``webhook_url`` pointing
at the receiver and waits for Soniox (or the emulator, when no ``SONIOX_API_KEY`` is set) to call
it. The real API needs a URL it can reach: pass ``--public-url`` (e.g. a tunnel to the port).

The secret comes from ``SONIOX_API_WEBHOOK_SECRET`` (a random one is made for the demo).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import queue
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path
from soniox.errors import DecodeError, SonioxError, WebhookSignatureError
from soniox.resources.webhooks import Webhooks
from soniox.types import WebhookEvent


def make_receiver(webhooks: Webhooks, events: queue.Queue[WebhookEvent]) -> ThreadingHTTPServer:
    """A local HTTP server that verifies and parses every POST, then queues the event."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                event = webhooks.unwrap(body, self.headers)
            except WebhookSignatureError as exc:
                print(f"receiver: refused a request: {exc}")
                self.send_response(401)
            except DecodeError as exc:
                print(f"receiver: bad body: {exc}")
                self.send_response(400)
            else:
                events.put(event)
                self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    parser.add_argument("--public-url", help="the URL Soniox should call (default: local)")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    secret = os.environ.get("SONIOX_API_WEBHOOK_SECRET") or secrets.token_urlsafe(24)
    events: queue.Queue[WebhookEvent] = queue.Queue()
    with soniox_client(args.api_key, args.base_url) as client:
        webhooks = client.webhooks.with_secret(secret)
        receiver = make_receiver(webhooks, events)
        threading.Thread(
            target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        local_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        print(f"receiver listening on {local_url}")

        # Anyone can POST to a public URL: a request without the secret header is refused.
        probe = http.client.HTTPConnection("127.0.0.1", receiver.server_address[1], timeout=5)
        probe.request("POST", "/hook", b'{"id": "forged", "status": "completed"}')
        print(f"forged request answered {probe.getresponse().status}")
        probe.close()

        file = client.files.upload(sample_path())
        job: dict[str, Any] = {}
        try:
            job = client.request(
                "POST",
                "/transcriptions",
                json={
                    "model": "stt-async-v4",
                    "file_id": file.id,
                    **webhooks.webhook_payload(args.public_url or local_url),
                },
            ).json()
            print(f"transcription {job['id']} created; waiting for the webhook")
            event = events.get(timeout=args.timeout)
            print(f"webhook: transcription {event.id} {event.status}")
            if event.id == job["id"] and event.status == "completed":
                transcript = client.request("GET", f"/transcriptions/{event.id}/transcript")
                print(f"transcript: {transcript.json()['text'].strip()}")
        finally:
            if job:
                with contextlib.suppress(SonioxError):  # e.g. still processing after a timeout
                    client.request("DELETE", f"/transcriptions/{job['id']}")
            client.files.delete_if_exists(file.id)
            receiver.shutdown()


if __name__ == "__main__":
    main()
