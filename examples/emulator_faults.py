"""Script failures into the emulator from Python and watch them in the journal.

    python examples/emulator_faults.py

Starts an emulator in-process, makes the second GET of a transcription answer 429 with
Retry-After, resets the connection of the next upload after the server processed it, and prints
what the journal recorded. Use the same rules over HTTP with POST /_emulator/faults when the
emulator runs in another process (`soniox emulator`).
"""

from __future__ import annotations

import httpx

from soniox.emulator import Emulator


def main() -> list[str]:
    lines: list[str] = []
    with Emulator() as emu:
        emu.faults.fail("/v1/models", status=429, retry_after=2, nth=2)
        emu.faults.inject("reset_after", "/v1/files", method="POST")
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client(base_url=emu.rest_base_url, headers=headers) as http:
            first = http.get("/models")
            second = http.get("/models")
            lines.append(
                f"GET /models -> {first.status_code}, then {second.status_code} "
                f"(Retry-After: {second.headers.get('retry-after')})"
            )
            try:
                http.post("/files", files={"file": ("a.wav", b"RIFF....", "audio/wav")})
            except httpx.TransportError as exc:
                lines.append(
                    f"POST /files -> {type(exc).__name__} (but the server stored the file)"
                )
            count = http.get("/files/count").json()["total"]
            lines.append(f"files stored: {count}")
        for entry in emu.journal.entries():
            lines.append(
                f"journal: {entry.method} {entry.path} -> {entry.status} {entry.outcome} {entry.faults}"
            )
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
