"""Helpers for the engine and realtime tests: synthetic audio and a plain WebSocket client."""

from __future__ import annotations

import json
import random
import struct
import sys
import time
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from soniox.emulator import Emulator

RATE = 16_000
BYTES_PER_MS = RATE * 2 // 1000
RAW_CONFIG: dict[str, Any] = {
    "model": "stt-rt-v5",
    "audio_format": "pcm_s16le",
    "sample_rate": RATE,
    "num_channels": 1,
}


def synth(segments: Sequence[tuple[int, int]], seed: int = 0, rate: int = RATE) -> bytes:
    """s16le noise: ``(duration_ms, amplitude_shift)`` pieces; a shift of 16 is silence."""
    rnd = random.Random(seed)
    out = array("h")
    for duration_ms, shift in segments:
        n = duration_ms * rate // 1000
        if shift >= 16:
            out.extend(array("h", bytes(2 * n)))
            continue
        noise = array("h")
        noise.frombytes(rnd.randbytes(2 * n))
        out.extend(array("h", [x >> shift for x in noise]))
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def wav(frames: bytes, rate: int = RATE) -> bytes:
    """A 16-bit mono PCM WAV around ``frames``."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = (
        b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(frames))
        + frames
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@attrs.define
class Outcome:
    """Everything the server sent in one session, and how it ended."""

    messages: list[dict[str, Any]]
    close_code: int | None  # None: the connection dropped without a close frame
    subprotocol: str | None = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "error_code" in m]

    @property
    def results(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "tokens" in m]

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [t for m in self.results for t in m["tokens"] if t["is_final"]]

    @property
    def final_text(self) -> str:
        return "".join(t["text"] for t in self.finals)

    @property
    def finished(self) -> bool:
        return any(m.get("finished") for m in self.messages)


def open_ws(
    emu: Emulator,
    *,
    key: str | None = None,
    auth: str = "bearer",
) -> ClientConnection:
    """Connect with the key as a bearer header (``auth="bearer"``) or subprotocol, or without."""
    key = emu.api_key if key is None else key
    if auth == "bearer":
        return connect(
            emu.ws_url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=5
        )
    if auth == "subprotocol":
        return connect(emu.ws_url, subprotocols=["soniox-api-key", key], open_timeout=5)  # type: ignore[list-item]
    return connect(emu.ws_url, open_timeout=5)


def collect(ws: ClientConnection, timeout: float = 5.0) -> Outcome:
    """Read until the server closes (bounded by ``timeout``)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    close_code: int | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"server did not close within {timeout}s; got {messages[-3:]}")
        try:
            raw = ws.recv(timeout=remaining)
        except ConnectionClosed as exc:
            close_code = exc.rcvd.code if exc.rcvd is not None else None
            break
        messages.append(json.loads(raw))
    return Outcome(messages, close_code, ws.subprotocol)


def run_session(
    emu: Emulator,
    config: dict[str, Any] | str | bytes | None,
    frames: Iterable[str | bytes] = (),
    *,
    key: str | None = None,
    auth: str = "bearer",
    timeout: float = 5.0,
) -> Outcome:
    """Open, send the config (a dict is JSON-encoded) and the frames without waiting, collect."""
    with open_ws(emu, key=key, auth=auth) as ws:
        try:
            if config is not None:
                ws.send(json.dumps(config) if isinstance(config, dict) else config)
            for frame in frames:
                ws.send(frame)
        except ConnectionClosed:
            pass
        return collect(ws, timeout)
