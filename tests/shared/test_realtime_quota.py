"""The realtime quota link: many sessions of one key, in many clients, never hold more streams
than the account allows — the emulator, enforcing the same limit, refuses none — and a session
waits for its slot, or fails typed once it has waited enough."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import soniox.data
from redis_support import RedisServer
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import RealtimeRateLimitError, SonioxRealtimeError
from soniox.realtime import Quota
from soniox.shared import LocalState
from soniox.types import RealtimeSTTConfig

AUDIO = (Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes()
CONFIG = RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


def client_for(emu: Emulator, shared: str | None, max_streams: int | None) -> SonioxClient:
    return SonioxClient(
        config=SonioxConfig.testing(
            api_key=emu.api_key,
            base_url=emu.rest_base_url,
            websocket_url=emu.ws_url,
            shared_state=shared,
            realtime_max_streams=max_streams,
        )
    )


def session_outcome(client: SonioxClient) -> str:
    """Stream the sample (paced 4x) and tell how the session ended."""
    try:
        result = client.realtime.stt.transcribe(AUDIO, config=CONFIG, pace=4.0, reconnect=False)
    except SonioxRealtimeError as error:
        return type(error).__name__
    return "ok" if result.tokens else "empty"


def run_many(emu: Emulator, shared: str | None, max_streams: int | None) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        outcome = session_outcome(client_for(emu, shared, max_streams))
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_six_clients_share_two_streams_and_none_is_refused(server: RedisServer) -> None:
    """Emulator: 2 streams per key. Six clients with realtime_max_streams=2 over Redis: all
    six transcribe (taking turns), the emulator refuses none; without the quota it refuses."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator(realtime_streams=2) as emu:
        assert run_many(emu, server.url, 2) == ["ok"] * 6
        assert emu.limits.snapshot()["refused"]["streams"] == 0
    with Emulator(realtime_streams=2) as emu:
        outcomes = run_many(emu, None, None)
        assert "RealtimeRateLimitError" in outcomes
        assert emu.limits.snapshot()["refused"]["streams"] > 0


def test_a_session_that_waits_too_long_for_a_slot_fails_typed() -> None:
    """max_wait_s=0.2 while another holder has the only slot: RealtimeRateLimitError, no
    connection opened; the slot freed, the next session runs."""
    state = LocalState()
    quota = Quota(max_streams=1, connects_per_minute=None, max_wait_s=0.2, state=state)
    with Emulator() as emu:
        client = client_for(emu, None, None)
        chain = client.realtime.stt.chain.insert_before("reconnect", quota)
        assert state.lease("shared", "realtime_streams", "someone", limit=1, ttl_s=30).granted
        emu.journal.clear()
        with pytest.raises(RealtimeRateLimitError, match="concurrent-stream slot"):
            client.realtime.stt.transcribe(
                AUDIO, config=CONFIG, pace=None, chain=chain, reconnect=False
            )
        assert not [e for e in emu.journal.entries() if e.protocol == "ws"]
        state.release("shared", "realtime_streams", "someone")
        result = client.realtime.stt.transcribe(AUDIO, config=CONFIG, pace=None, chain=chain)
        assert result.tokens
        assert state.held("shared", "realtime_streams") == 0  # released at the end


def test_the_wait_for_a_slot_shows_in_the_sessions_stats_and_the_metrics() -> None:
    """A slot held elsewhere for 0.3 s: the session waits for it, and says so —
    session.stats['quota_wait_s'] and client.metrics.snapshot().realtime.quota_wait_s."""
    state = LocalState()
    quota = Quota(max_streams=1, connects_per_minute=None, max_wait_s=5, state=state)
    with Emulator() as emu:
        client = client_for(emu, None, None)
        chain = client.realtime.stt.chain.insert_before("reconnect", quota)
        assert state.lease("shared", "realtime_streams", "someone", limit=1, ttl_s=30).granted
        timer = threading.Timer(0.3, state.release, ("shared", "realtime_streams", "someone"))
        timer.start()
        session = client.realtime.stt.connect(config=CONFIG, chain=chain)
        with session:
            session.send_bytes(AUDIO[:38400], finish=False)
            session.finish()
            list(session.receive_events())
        timer.join()
        assert session.stats["quota_wait_s"] >= 0.25
        assert client.metrics.snapshot().realtime.quota_wait_s >= 0.25


def test_async_sessions_take_turns_for_the_keys_streams(server: RedisServer) -> None:
    """Asyncio: three sessions at once on a quota of 1 shared through Redis, the emulator
    allowing 1 stream: all three transcribe, one after another, none refused."""
    redis.Redis.from_url(server.url).flushall()
    with Emulator(realtime_streams=1) as emu:

        async def main() -> list[int]:
            config = SonioxConfig.testing(
                api_key=emu.api_key,
                base_url=emu.rest_base_url,
                websocket_url=emu.ws_url,
                shared_state=server.url,
                realtime_max_streams=1,
            )
            async with AsyncSonioxClient(config=config) as client:
                results = await asyncio.gather(
                    *(
                        client.realtime.stt.transcribe(AUDIO, config=CONFIG, pace=None)
                        for _ in range(3)
                    )
                )
            return [len(r.tokens) for r in results]

        counts = asyncio.run(main())
        assert all(count > 0 for count in counts)
        assert emu.limits.snapshot()["refused"]["streams"] == 0
