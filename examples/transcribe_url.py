"""Transcribe audio the API downloads itself from a URL, step by step as in the official SDK.

    python examples/transcribe_url.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/transcribe_url.py https://example.com/talk.mp3

``transcribe_from_url`` creates the job (nothing is uploaded), ``wait`` polls it adaptively,
``get_transcript`` fetches the typed transcript and ``destroy`` deletes the job. The same in one
call: ``transcribe_and_wait_with_tokens(audio_url=url, delete_after=True)``.

Without a URL the script serves the bundled sample from a small HTTP server on this machine:
the local emulator fetches ``audio_url`` for real, like the API does, so it needs something to
fetch. (The real API cannot reach your loopback address: pass a public URL with a key.)
Without ``SONIOX_API_KEY`` the script starts a local emulator; ``--api-key`` / ``--base-url``
point it anywhere else.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import threading
from collections.abc import Generator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves files from one directory without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(path: Path) -> Generator[str]:
    """Serve ``path`` over HTTP on a loopback port for the duration of the block; its URL."""
    handler = functools.partial(QuietHandler, directory=str(path.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="audio-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url", nargs="?", help="audio URL (default: serve the bundled sample)")
    add_connection_args(parser)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        url: str | None = args.url
        if url is None:
            if args.api_key and not args.base_url:
                sys.exit("the real API cannot fetch from this machine: give a public audio URL")
            url = stack.enter_context(serve(sample_path()))
            print(f"serving the bundled sample at {url}")
        client = stack.enter_context(soniox_client(args.api_key, args.base_url))

        job = client.stt.transcribe_from_url(audio_url=url, client_reference_id="example-url")
        print(f"created job {job.id} for {job.filename} ({job.status})")
        try:
            job = client.stt.wait(job.id)  # a failed job is returned, as officially
            if job.status == "error":
                # e.g. error_type "audio_download_failed" when the URL cannot be fetched.
                print(f"transcription failed: {job.error_type}: {job.error_message}")
            else:
                seconds = (job.audio_duration_ms or 0) / 1000
                print(f"job {job.id}: {job.status}, {seconds:.1f} s of audio")
                transcript = client.stt.get_transcript(job.id)
                print(f"text: {transcript.text.strip()}")
        finally:
            client.stt.delete_if_exists(job.id)
            print(f"deleted job {job.id}")


if __name__ == "__main__":
    main()
