"""Pre-connected realtime links over the emulator: a link opened ahead of its session and kept
alive while idle, its session exact like any other (resume included), pools that refill and
replace old links, and the client's own pool behind connect()."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realtime_session_support import Final, chunks_of, finals_while_sending

import soniox.data
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import ClientValidationError, SonioxRealtimeError
from soniox.realtime import AsyncRealtimeSTTSession, RealtimeSTTSession
from soniox.realtime.preconnect import RealtimeSTTConnection
from soniox.types import RealtimeSTTConfig

AUDIO = (Path(soniox.data.__file__).parent / "sample-en.wav").read_bytes()
CHUNK = 3840


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def client_for(emu: Emulator, **keywords: object) -> SonioxClient:
    config = SonioxConfig.testing(
        api_key=emu.api_key, base_url=emu.rest_base_url, websocket_url=emu.ws_url
    )
    return SonioxClient(config=config, **keywords)  # type: ignore[arg-type]


def config() -> RealtimeSTTConfig:
    return RealtimeSTTConfig(model="stt-rt-v4", audio_format="auto")  # type: ignore[arg-type]


def finals_of(session: RealtimeSTTSession) -> list[Final]:
    """The official pattern on a session or stream: audio from a thread, events here."""
    return finals_while_sending(session, chunks_of(AUDIO, CHUNK))


@pytest.fixture(scope="module")
def fault_free(emulator: Emulator) -> list[Final]:
    with client_for(emulator).realtime.stt.connect(config=config()) as session:
        return finals_of(session)


def sockets(emulator: Emulator) -> int:
    return sum(1 for entry in emulator.journal.entries() if entry.protocol == "ws")


def test_an_idle_link_carries_its_session_later(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """connect_idle(): the handshake on with, the config only at start_session; the stream
    has the session's members and gives the transcript on that one connection."""
    emulator.journal.clear()
    with client_for(emulator).realtime.stt.connect_idle() as link:
        assert link.connected
        assert sockets(emulator) == 1
        stream = link.start_session(config=config())
        assert not link.connected  # the stream has it now
        with stream:
            finals = finals_of(stream)
    assert finals == fault_free
    assert sockets(emulator) == 1


def test_idle_keepalives_hold_a_link_past_the_servers_idle_timeout(
    fault_free: list[Final],
) -> None:
    """start_idle_keepalive: keepalives before the config keep a link the server would drop
    after 0.6 s idle; the session started 1.5 s later works on it."""
    with Emulator(ws_idle_timeout_s=0.6) as emu:
        stt = client_for(emu).realtime.stt
        with stt.connect_idle() as link:
            link.start_idle_keepalive(interval_sec=0.1)
            time.sleep(1.5)
            stream = link.start_session(config=config())
            with stream:
                finals = finals_of(stream)
            assert stream.reconnects == 0
        assert finals == fault_free
        assert sockets(emu) == 1


def test_a_link_carries_one_session_only(emulator: Emulator) -> None:
    """A second start_session, or one after discard: SonioxRealtimeError."""
    stt = client_for(emulator).realtime.stt
    with stt.connect_idle() as link:
        with link.start_session(config=config()) as stream:
            stream.finish()
            list(stream.receive_events())
        with pytest.raises(SonioxRealtimeError, match="already has a session"):
            link.start_session(config=config())
    unused = stt.connect_idle().open()
    unused.discard()
    with pytest.raises(SonioxRealtimeError, match="discarded"):
        unused.start_session(config=config())


def test_a_preconnected_session_that_drops_resumes_exactly(
    emulator: Emulator, fault_free: list[Final]
) -> None:
    """The link drops mid-stream: the stream reconnects like any session, nothing lost."""
    emulator.faults.clear()
    emulator.faults.inject("ws_drop", "/transcribe-websocket", after_frames=12)
    try:
        with (
            client_for(emulator).realtime.stt.connect_idle() as link,
            link.start_session(config=config()) as stream,
        ):
            finals = finals_of(stream)
    finally:
        emulator.faults.clear()
    assert finals == fault_free
    assert stream.reconnects == 1


def test_a_session_with_another_key_opens_its_own_connection(emulator: Emulator) -> None:
    """start_session(api_key=other): the idle link (opened with the client's key) is closed and
    the session connects with the key it was given."""
    emulator.journal.clear()
    with (
        client_for(emulator).realtime.stt.connect_idle() as link,
        link.start_session(config=config(), api_key=emulator.api_key + "x") as stream,
    ):
        events = list(stream.receive_events())
    assert events[-1].error_code == 401
    assert sockets(emulator) == 2


def test_a_pool_keeps_its_size_after_borrows(emulator: Emulator, fault_free: list[Final]) -> None:
    """create_connection_pool(pool_size=2): warm, a session borrows one link, the pool refills
    in the background to two; closing it closes the idle links."""
    stt = client_for(emulator).realtime.stt
    with stt.create_connection_pool(pool_size=2) as pool:
        assert pool.idle_count == 2
        with pool.start_session(config=config()) as stream:
            finals = finals_of(stream)
        deadline = time.monotonic() + 5
        while pool.idle_count < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.idle_count == 2
        assert pool.opened == 3
    assert pool.idle_count == 0
    assert finals == fault_free
    with pytest.raises(SonioxRealtimeError, match="closed"):
        pool.borrow_connection()


def test_a_pool_replaces_links_before_their_lifetime_ends(emulator: Emulator) -> None:
    """idle_max_lifetime_sec=0.5, refresh 0.3 s before: every first link is closed and
    replaced, and the pool holds its size again."""
    stt = client_for(emulator).realtime.stt
    with stt.create_connection_pool(
        pool_size=2,
        keepalive_interval_sec=0.05,
        idle_max_lifetime_sec=0.5,
        idle_refresh_before_sec=0.3,
    ) as pool:
        first = pool.idle_links()
        deadline = time.monotonic() + 5.0

        def replaced() -> bool:
            idle = pool.idle_links()
            return len(idle) == 2 and not any(link in idle for link in first)

        time.sleep(0.5)
        while not replaced() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert replaced()
        assert pool.opened >= 4
        assert all(not link.connected for link in first)


def test_bad_pool_settings_are_client_validation_errors(emulator: Emulator) -> None:
    """pool_size 0, or a refresh window not inside the lifetime: refused when made."""
    stt = client_for(emulator).realtime.stt
    with pytest.raises(ClientValidationError, match="pool_size"):
        stt.create_connection_pool(pool_size=0)
    with pytest.raises(ClientValidationError, match="idle_refresh_before_sec"):
        stt.create_connection_pool(idle_max_lifetime_sec=10, idle_refresh_before_sec=20)


def test_the_clients_pool_serves_connect(emulator: Emulator, fault_free: list[Final]) -> None:
    """SonioxClient(stt_connection_pool_size=1): warmup opens a link, connect() sessions take
    it (no handshake of their own), use_connection_pool=False connects on demand, and closing
    the client closes the pool."""
    client = client_for(emulator, stt_connection_pool_size=1)
    stt = client.realtime.stt
    stt.warmup_connection_pool()
    pool = stt.connection_pool
    assert pool.idle_count == 1
    link: RealtimeSTTConnection = pool.idle_links()[0]
    with stt.connect(config=config()) as session:
        finals = finals_of(session)
    assert finals == fault_free
    assert not link.connected  # the session took it
    opened = pool.opened
    with stt.connect(config=config(), use_connection_pool=False) as session:
        finals_of(session)
    assert pool.opened == opened
    client.close()
    assert pool.idle_count == 0
    assert client.stt_connection_pool_size == 1


def test_a_client_without_a_pool_says_so(emulator: Emulator) -> None:
    """connection_pool on a client made without stt_connection_pool_size: a typed error;
    warmup_connection_pool does nothing."""
    stt = client_for(emulator).realtime.stt
    stt.warmup_connection_pool()
    with pytest.raises(ClientValidationError, match="stt_connection_pool_size"):
        _ = stt.connection_pool


def test_the_async_link_pool_and_client_pool(emulator: Emulator, fault_free: list[Final]) -> None:
    """The asyncio twins: connect_idle + start_session, a pool's session, the client's pool."""

    async def finals(session: AsyncRealtimeSTTSession) -> list[Final]:
        async def send() -> None:
            await session.send_bytes([AUDIO[i : i + CHUNK] for i in range(0, len(AUDIO), CHUNK)])

        sender = asyncio.create_task(send())
        found = [
            (t.text, t.start_ms, t.end_ms)
            async for event in session.receive_events()
            for t in event.tokens
            if t.is_final
        ]
        await sender
        return found

    async def main() -> list[list[Final]]:
        client = AsyncSonioxClient(
            config=SonioxConfig.testing(
                api_key=emulator.api_key,
                base_url=emulator.rest_base_url,
                websocket_url=emulator.ws_url,
            ),
            stt_connection_pool_size=1,
        )
        stt = client.realtime.stt
        results: list[list[Final]] = []
        async with stt.connect_idle() as link:
            await link.start_idle_keepalive(interval_sec=0.05)
            await asyncio.sleep(0.2)
            async with await link.start_session(config=config()) as stream:
                results.append(await finals(stream))
        async with (
            stt.create_connection_pool(pool_size=1) as pool,
            await pool.start_session(config=config()) as stream,
        ):
            results.append(await finals(stream))
        await stt.warmup_connection_pool()
        assert stt.connection_pool.idle_count == 1
        async with stt.connect(config=config()) as session:
            results.append(await finals(session))
        await client.aclose()
        return results

    assert asyncio.run(main()) == [fault_free] * 3
