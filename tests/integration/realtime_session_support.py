"""What the realtime integration tests share: the official pattern — audio sent from a thread
while this one reads the events — and the final tokens it yields."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable

from soniox.errors import SonioxRealtimeError
from soniox.realtime import RealtimeSTTSession

Final = tuple[str, int | None, int | None]
"""A final token as the tests compare them: text, start_ms, end_ms."""


def chunks_of(audio: bytes, size: int) -> list[bytes]:
    return [audio[i : i + size] for i in range(0, len(audio), size)]


def finals_while_sending(
    session: RealtimeSTTSession,
    chunks: Iterable[bytes],
    errors: list[BaseException] | None = None,
) -> list[Final]:
    """Send ``chunks`` from a thread (then finish) and read every event here: the final
    tokens. A sender refused by the session (a failed session, a full buffer) keeps the error
    in ``errors`` and finishes what it could."""

    def send() -> None:
        try:
            session.send_bytes(chunks)
        except SonioxRealtimeError as error:
            if errors is not None:
                errors.append(error)
            with contextlib.suppress(SonioxRealtimeError):
                session.finish()

    sender = threading.Thread(target=send)
    sender.start()
    finals = [
        (t.text, t.start_ms, t.end_ms)
        for event in session.receive_events()
        for t in event.tokens
        if t.is_final
    ]
    sender.join()
    return finals
