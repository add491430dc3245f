"""The whole async transcription flow with plain httpx against a running emulator.

Start an emulator, then run this script against it:

    soniox emulator --port 8765 &
    python examples/emulator_rest_flow.py --base-url http://127.0.0.1:8765/v1 --api-key soniox-emulator-key
    python examples/emulator_rest_flow.py ... --http2      # the same flow over HTTP/2 (h2c)

Upload → create → poll → transcript → delete, using nothing but httpx: the emulator speaks the
real API, so the same script works against api.soniox.com with a real key.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

STAND_IN_NOTE = (
    "(with the emulator's default deterministic engine these words are stand-ins, not what the "
    "audio says; `soniox emulator --engine pocketsphinx` recognizes English speech)"
)


def _is_local(url: str) -> bool:
    """A server on this machine: the emulator (the real API is never on loopback)."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def run(base_url: str, api_key: str, audio: Path, http2: bool) -> str:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(
        base_url=base_url, headers=headers, http1=not http2, http2=http2, timeout=30
    ) as http:
        with audio.open("rb") as fh:
            uploaded = http.post("/files", files={"file": (audio.name, fh, "audio/wav")})
        uploaded.raise_for_status()
        file_id = uploaded.json()["id"]

        created = http.post("/transcriptions", json={"model": "stt-async-v5", "file_id": file_id})
        created.raise_for_status()
        job = created.json()

        deadline = time.monotonic() + 60
        while job["status"] in ("queued", "processing") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = http.get(f"/transcriptions/{job['id']}").raise_for_status().json()
        if job["status"] != "completed":
            raise SystemExit(f"job ended as {job['status']}: {job.get('error_message')}")

        transcript = http.get(f"/transcriptions/{job['id']}/transcript").raise_for_status().json()
        http.delete(f"/transcriptions/{job['id']}").raise_for_status()
        http.delete(f"/files/{file_id}").raise_for_status()
        protocol = uploaded.http_version
    print(f"[{protocol}] {len(transcript['tokens'])} tokens: {transcript['text'].strip()}")
    if _is_local(base_url):
        print(STAND_IN_NOTE)
    return str(transcript["text"])


def main() -> None:
    from soniox.data import sample_path

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--base-url", required=True, help="REST base URL, e.g. http://127.0.0.1:8765/v1"
    )
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--audio", type=Path, default=sample_path())
    parser.add_argument("--http2", action="store_true", help="use HTTP/2 (h2c prior knowledge)")
    args = parser.parse_args()
    run(args.base_url, args.api_key, args.audio, args.http2)


if __name__ == "__main__":
    main()
