"""A FastAPI service for browsers: it hands out temporary keys, and relays audio for those that
must not talk to Soniox directly.

    pip install "soniox-transport[relay]"
    python examples/realtime_fastapi_relay.py            # runs both ways against an emulator
    uvicorn realtime_fastapi_relay:app                   # serve it (SONIOX_API_KEY set)

Two endpoints (and ``GET /realtime/stats``), the two ways a web page does realtime transcription:

* ``GET /realtime/key`` mints a short-lived, single-use temporary key
  (``auth.create_temporary_api_key``): the page opens the Soniox WebSocket itself and puts the
  key in its config message (a browser cannot set headers on a WebSocket). The API key never
  leaves the server.
* ``WebSocket /realtime/relay``: the page sends its config (JSON) then audio frames, and an
  empty text frame to finish; the service runs a session of this SDK — the realtime chain:
  buffer, keepalive, watchdog, reconnection with exact resume — and forwards every event as
  JSON. The page sees one unbroken stream even when the service's connection to Soniox drops.

``main()`` plays the browser twice against a local emulator (with one dropped connection on the
relay's side) and prints both transcripts.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect

import soniox.data
from soniox.client import AsyncSonioxClient
from soniox.config import SonioxConfig
from soniox.errors import SonioxError
from soniox.realtime import AsyncRealtimeSTTSession
from soniox.types import RealtimeSTTConfig

SAMPLE = Path(soniox.data.__file__).parent / "sample-en.wav"
CHUNK = 3840


def make_app(config: SonioxConfig | None = None) -> FastAPI:
    """The service: one async client for its lifetime (connection pools, metrics)."""
    clients: list[AsyncSonioxClient] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncGenerator[None]:
        clients.append(AsyncSonioxClient(config=config))
        yield
        await clients[0].aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/realtime/key")
    async def temporary_key() -> dict[str, str]:  # pyright: ignore[reportUnusedFunction]
        """A key for one browser connection, valid for a minute."""
        client = clients[0]
        made = await client.auth.create_temporary_api_key(
            usage_type="transcribe_websocket", expires_in_seconds=60, single_use=True
        )
        return {
            "api_key": made.api_key,
            "expires_at": made.expires_at.isoformat(),
            "websocket_url": client.websocket_base_url,
        }

    @app.get("/realtime/stats")
    async def stats() -> dict[str, int]:  # pyright: ignore[reportUnusedFunction]
        """What the relay's sessions did (the client's metrics)."""
        realtime = clients[0].metrics.snapshot().realtime
        return {"sessions": realtime.sessions, "reconnects": realtime.reconnects}

    @app.websocket("/realtime/relay")
    async def relay(browser: WebSocket) -> None:  # pyright: ignore[reportUnusedFunction]
        """Config, then audio in; events out, across reconnections on the service's side."""
        await browser.accept()
        try:
            settings: dict[str, Any] = json.loads(await browser.receive_text())
            stt_config = RealtimeSTTConfig(**settings)
        except (ValueError, TypeError, SonioxError) as error:
            await browser.close(code=1003, reason=f"bad config: {error}"[:120])
            return
        session = clients[0].realtime.stt.connect(config=stt_config)
        async with session:
            pump = asyncio.create_task(_audio_in(browser, session))
            async for event in session.receive_events():
                await browser.send_text(event.model_dump_json())
            await pump
        await browser.close()

    return app


async def _audio_in(browser: WebSocket, session: AsyncRealtimeSTTSession) -> None:
    """The browser's frames into the session: bytes are audio, an empty text frame finishes."""
    try:
        while True:
            message = await browser.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data:
                await session.send_byte_chunk(data)
            elif message.get("text") == "":
                break
    except WebSocketDisconnect:
        pass
    await session.finish()


app = make_app()
"""For ``uvicorn realtime_fastapi_relay:app`` (the client reads SONIOX_API_KEY when it starts)."""


# --- playing the browser ---------------------------------------------------------------------


async def browser_direct(service: str) -> str:
    """Ask the service for a temporary key, then talk to Soniox directly with it."""
    async with httpx.AsyncClient() as http:
        key = (await http.get(f"{service}/realtime/key")).json()
    config = {"api_key": key["api_key"], "model": "stt-rt-v4", "audio_format": "auto"}
    async with connect(key["websocket_url"]) as ws:
        await ws.send(json.dumps(config))
        audio = SAMPLE.read_bytes()
        for i in range(0, len(audio), CHUNK):
            await ws.send(audio[i : i + CHUNK])
        await ws.send("")
        words: list[str] = []
        async for raw in ws:
            event = json.loads(raw)
            words += [t["text"] for t in event["tokens"] if t["is_final"]]
            if event.get("finished"):
                break
    return "".join(words).strip()


async def browser_relayed(service: str) -> str:
    """Send config and audio through the service's relay; read the events it forwards."""
    url = service.replace("http://", "ws://") + "/realtime/relay"
    async with connect(url) as ws:
        await ws.send(json.dumps({"model": "stt-rt-v4", "audio_format": "auto"}))
        audio = SAMPLE.read_bytes()
        for i in range(0, len(audio), CHUNK):
            await ws.send(audio[i : i + CHUNK])
        await ws.send("")
        words: list[str] = []
        async for raw in ws:
            event = json.loads(raw)
            words += [t["text"] for t in event["tokens"] if t["is_final"]]
    return "".join(words).strip()


def serve(service_app: FastAPI) -> tuple[str, uvicorn.Server]:
    """Run ``service_app`` on a free loopback port in a thread; its base URL and server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    settings = uvicorn.Config(service_app, log_level="warning", lifespan="on", loop="asyncio")
    server = uvicorn.Server(settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    host, port = sock.getsockname()
    return f"http://{host}:{port}", server


def main() -> None:
    from soniox.emulator import Emulator

    with Emulator() as emu:
        config = SonioxConfig(
            api_key=emu.api_key, base_url=emu.rest_base_url, websocket_url=emu.ws_url
        )
        service, server = serve(make_app(config))
        try:
            direct = asyncio.run(browser_direct(service))
            emu.faults.inject("ws_drop", "/transcribe-websocket", after_frames=10)
            relayed = asyncio.run(browser_relayed(service))
            stats = httpx.get(f"{service}/realtime/stats").json()
        finally:
            server.should_exit = True
        print(f"direct, with a temporary key: {direct}")
        print(f"through the relay:            {relayed}")
        print(f"relay sessions {stats['sessions']}, reconnects {stats['reconnects']}")
        print(f"same words: {direct == relayed}")


if __name__ == "__main__":
    main()
