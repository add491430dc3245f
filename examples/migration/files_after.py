"""After — a streamed upload with progress (flat memory, retried safely: a lost answer is looked
up, not uploaded twice), and a delete that says what it did."""

import os
from pathlib import Path

from soniox import SonioxClient

AUDIO = os.environ.get("AUDIO_PATH", "meeting.wav")  # a recording of yours

with SonioxClient() as client:
    path = Path(AUDIO)
    seen: list[int] = []
    with path.open("rb") as audio:  # any file object or iterator of bytes streams too
        uploaded = client.files.upload(
            audio, filename=path.name, progress=lambda sent, total: seen.append(sent)
        )
    print(f"progress reports: {len(seen)}, last {seen[-1]} bytes")
    found = client.files.get(uploaded.id)
    names = [f.filename for f in client.files.list_all() if f.id == uploaded.id]
    assert client.files.delete_if_exists(uploaded.id)  # True: it was there (official: None)
    print(f"result: {found.filename} {found.size} {names}")
