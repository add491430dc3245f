"""A realtime transcription session with a plain `websockets` client against a running emulator.

    soniox emulator --port 8765 &
    python examples/emulator_realtime.py --ws-url ws://127.0.0.1:8765/transcribe-websocket --api-key soniox-emulator-key

Sends the config as the first text frame, streams WAV audio in 120 ms binary frames, asks for a
finalization, ends the stream with an empty frame, and prints final tokens as they arrive.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import urlsplit

from websockets.sync.client import connect

STAND_IN_NOTE = (
    "(with the emulator's default deterministic engine these words are stand-ins, not what the "
    "audio says; `soniox emulator --engine pocketsphinx` recognizes English speech)"
)


def _is_local(url: str) -> bool:
    """A server on this machine: the emulator (the real API is never on loopback)."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def run(ws_url: str, api_key: str, audio: Path) -> str:
    data = audio.read_bytes()
    finals: list[str] = []
    with connect(ws_url, additional_headers={"Authorization": f"Bearer {api_key}"}) as ws:
        ws.send(json.dumps({"model": "stt-rt-v5", "audio_format": "auto"}))
        step = 3840  # 120 ms of 16 kHz 16-bit mono
        for i in range(0, len(data), step):
            ws.send(data[i : i + step])
        ws.send(json.dumps({"type": "finalize"}))
        ws.send("")  # end of audio
        for message in ws:
            response = json.loads(message)
            if "error_code" in response:
                raise SystemExit(f"error {response['error_code']}: {response['error_message']}")
            finals += [t["text"] for t in response["tokens"] if t.get("is_final")]
            if response.get("finished"):
                break
    text = "".join(t for t in finals if not t.startswith("<"))
    print(f"final transcript: {text.strip()}")
    if _is_local(ws_url):
        print(STAND_IN_NOTE)
    return text


def main() -> None:
    from soniox.data import sample_path

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--audio", type=Path, default=sample_path())
    args = parser.parse_args()
    run(args.ws_url, args.api_key, args.audio)


if __name__ == "__main__":
    main()
