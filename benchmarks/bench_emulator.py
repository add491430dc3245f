"""Emulator capacity: memory while receiving a 1 GiB upload, and realtime throughput.

The emulator runs in a subprocess so its resident memory is measured alone (sampled every
20 ms with psutil) and the client does not share its GIL. Run:

    python benchmarks/bench_emulator.py            # 1 GiB upload, 10-minute realtime stream
    python benchmarks/bench_emulator.py --quick    # 256 MiB, 2 minutes (a smoke run)

Results are printed as markdown and recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
from _util import RssSampler, median, record_section, speechlike_pcm, table
from websockets.asyncio.client import connect

from soniox.emulator import Emulator

CHUNK = 1 << 20


def multipart_stream(size: int, boundary: str) -> tuple[Iterator[bytes], int]:
    """A multipart/form-data body with one ``file`` part of ``size`` bytes, generated lazily."""
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.raw"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = bytes(range(256)) * (CHUNK // 256)

    def gen() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            n = min(left, CHUNK)
            yield block[:n]
            left -= n
        yield tail

    return gen(), len(head) + size + len(tail)


def upload_once(emu: Emulator, size: int, http2: bool) -> tuple[float, float]:
    """Upload ``size`` bytes; return (throughput MiB/s, emulator peak RSS delta MiB)."""
    boundary = uuid.uuid4().hex
    body, length = multipart_stream(size, boundary)
    headers = {
        "authorization": f"Bearer {emu.api_key}",
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(length),
    }
    with (
        httpx.Client(http1=not http2, http2=http2, timeout=600) as client,
        RssSampler(emu.pid) as rss,
    ):
        start = time.perf_counter()
        response = client.post(f"{emu.rest_base_url}/files", content=body, headers=headers)
        elapsed = time.perf_counter() - start
    response.raise_for_status()
    assert response.json()["size"] == size, "the emulator stored a different size"
    file_id = response.json()["id"]
    auth = {"authorization": headers["authorization"]}
    httpx.delete(f"{emu.rest_base_url}/files/{file_id}", headers=auth).raise_for_status()
    return size / 2**20 / elapsed, rss.delta_mib


async def stream_once(emu: Emulator, audio: bytes, chunk_ms: int = 120) -> float:
    """Send ``audio`` (16 kHz s16le) as fast as possible; return audio-seconds per wall-second."""
    step = 16_000 * 2 * chunk_ms // 1000
    async with connect(
        emu.ws_url, additional_headers={"Authorization": f"Bearer {emu.api_key}"}, max_size=None
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "model": "stt-rt-v5",
                    "audio_format": "pcm_s16le",
                    "sample_rate": 16_000,
                    "num_channels": 1,
                }
            )
        )
        start = time.perf_counter()

        async def sender() -> None:
            for i in range(0, len(audio), step):
                await ws.send(audio[i : i + step])
            await ws.send("")

        send_task = asyncio.create_task(sender())
        async for message in ws:
            if json.loads(message).get("finished"):
                break
        await send_task
        elapsed = time.perf_counter() - start
    return len(audio) / 32_000 / elapsed


async def concurrent_streams(emu: Emulator, audio: bytes, sessions: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(stream_once(emu, audio) for _ in range(sessions)))
    return sessions * len(audio) / 32_000 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller upload and stream")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    upload_size = (256 if args.quick else 1024) * 2**20
    stream_seconds = 120 if args.quick else 600

    with Emulator(mode="subprocess") as emu:
        rows: list[list[str]] = []
        for label, size, http2 in (
            ("HTTP/1.1", upload_size, False),
            ("HTTP/2 (h2c)", min(upload_size, 256 * 2**20), True),
        ):
            runs = [upload_once(emu, size, http2) for _ in range(args.repeat)]
            rows.append(
                [
                    label,
                    f"{size / 2**20:.0f} MiB",
                    f"{median([r[0] for r in runs]):.0f} MiB/s",
                    f"{max(r[1] for r in runs):.1f} MiB",
                ]
            )
        upload_table = table(
            [
                "protocol",
                "upload size",
                "throughput (median)",
                "emulator peak RSS above baseline (max)",
            ],
            rows,
        )

        audio = speechlike_pcm(stream_seconds)
        single = [asyncio.run(stream_once(emu, audio)) for _ in range(args.repeat)]
        short = audio[: 60 * 32_000]
        multi = asyncio.run(concurrent_streams(emu, short, 8))
        rt_table = table(
            ["scenario", "audio-seconds per wall-second"],
            [
                [
                    f"1 session, {stream_seconds} s of audio, median of {args.repeat}",
                    f"{median(single):.0f}",
                ],
                ["8 concurrent sessions x 60 s, aggregate", f"{multi:.0f}"],
            ],
        )

    body = (
        "Emulator in a subprocess, client in this process, loopback. Memory is the emulator's "
        "resident set sampled every 20 ms (psutil); the upload is generated lazily by the client.\n\n"
        f"{upload_table}\n\n{rt_table}\n\n"
        "Reproduce: `python benchmarks/bench_emulator.py`"
    )
    print(body)
    record_section("performance.md", "Emulator capacity", body)


if __name__ == "__main__":
    main()
