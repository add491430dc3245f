"""The Emulator runner: thread and subprocess modes, addresses, storage, clean start and stop."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from server_support import RawH2, WireTestApp, connect, wire_emulator

from soniox.emulator import DEFAULT_API_KEY, Emulator, EmulatorConfig, Fault, FaultPlan, Journal


def test_thread_mode_exposes_addresses(emulator: Emulator) -> None:
    """url, rest_base_url, ws_url and api_key describe the running server."""
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.rest_base_url == emulator.url + "/v1"
    assert emulator.ws_url == emulator.url.replace("http://", "ws://") + "/transcribe-websocket"
    assert emulator.api_key == DEFAULT_API_KEY
    assert emulator.pid == os.getpid()
    with httpx.Client(trust_env=False) as c:
        assert c.get(emulator.url + "/_emulator/health").json() == {"status": "ok"}


def test_tls_addresses_and_context(tls_emulator: Emulator) -> None:
    """With tls=True the runner exposes https/wss URLs, the CA PEM and a trusting context."""
    assert tls_emulator.tls_url.startswith("https://127.0.0.1:")
    assert tls_emulator.tls_ws_url.startswith("wss://127.0.0.1:")
    assert tls_emulator.ca_cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    with httpx.Client(verify=tls_emulator.ssl_context(), trust_env=False) as c:
        assert c.get(tls_emulator.tls_url + "/_emulator/health").status_code == 200


def test_tls_attributes_need_tls(emulator: Emulator) -> None:
    """Asking for TLS details of a plain emulator says how to get them."""
    with pytest.raises(RuntimeError, match="tls=True"):
        emulator.ssl_context()
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = emulator.tls_url


def test_config_overrides_and_repr_hide_keys() -> None:
    """Keyword overrides reach the config; neither repr shows an API key."""
    emu = Emulator(EmulatorConfig(api_keys=("super-secret-1",)), queue_delay_s=0.5)
    assert emu.config.queue_delay_s == 0.5
    assert emu.api_key == "super-secret-1"
    assert "super-secret-1" not in repr(emu)
    assert "super-secret-1" not in repr(emu.config)


def test_faults_and_journal_exist_before_start() -> None:
    """In thread mode a test can script faults before the server starts."""
    emu = Emulator()
    emu.faults.add(Fault(kind="latency", delay_s=0.01))
    assert isinstance(emu.journal, Journal)
    with emu:
        assert emu.faults.snapshot()[0]["fault"]["kind"] == "latency"


def test_app_is_the_live_emulator_app(emulator: Emulator) -> None:
    """emu.app is the EmulatorApp sharing the runner's fault plan and journal."""
    from soniox.emulator.app import EmulatorApp

    assert isinstance(emulator.app, EmulatorApp)
    assert emulator.app.faults is emulator.faults
    assert emulator.app.journal is emulator.journal


def _emulator_threads() -> set[threading.Thread]:
    """The emulator threads alive now (other suites may keep a session emulator running)."""
    return {t for t in threading.enumerate() if t.name == "soniox-emulator"}


def test_startup_error_is_reraised() -> None:
    """A port already in use fails start() with the OSError, leaving nothing running."""
    before = _emulator_threads()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        port = blocker.getsockname()[1]
        emu = Emulator(port=port)
        with pytest.raises(OSError):
            emu.start()
    finally:
        blocker.close()
    assert _emulator_threads() <= before


def test_temporary_storage_is_removed_at_stop() -> None:
    """Without storage_dir a temporary directory is created and removed on stop."""
    with Emulator() as emu:
        storage = emu.storage_dir
        assert storage.is_dir()
    assert not storage.exists()


def test_configured_storage_is_kept(tmp_path: Path) -> None:
    """A configured storage_dir is created if needed and left in place."""
    target = tmp_path / "uploads"
    with Emulator(storage_dir=str(target)) as emu:
        assert emu.storage_dir == target
        assert target.is_dir()
    assert target.is_dir()


def test_stop_is_clean_with_open_connections() -> None:
    """stop() closes idle and busy connections and the thread within ~2 s."""
    before = _emulator_threads()
    with wire_emulator() as (emu, _app):
        idle = connect(emu.url)
        idle.sendall(b"GET /info HTTP/1.1\r\nhost: x\r\n\r\n")
        idle.recv(65536)
        busy = connect(emu.url)
        busy.sendall(b"GET /sleep?s=30 HTTP/1.1\r\nhost: x\r\n\r\n")
        emu.journal.wait_for(lambda es: any(e.path == "/sleep" for e in es))
        started = time.monotonic()
        emu.stop()
        elapsed = time.monotonic() - started
        idle.close()
        busy.close()
    assert elapsed < 2.5
    assert _emulator_threads() <= before
    assert emu.journal.entries(path="/sleep")[0].outcome == "cancelled"


def test_stop_is_clean_with_busy_http2_streams() -> None:
    """stop() also ends HTTP/2 connections whose streams are still being processed."""
    with wire_emulator() as (emu, _app):
        raw = RawH2(emu.url)
        try:
            raw.headers("GET", "/sleep?s=30", end_stream=True)
            emu.journal.wait_for(lambda es: any(e.path == "/sleep" for e in es))
            started = time.monotonic()
            emu.stop()
            elapsed = time.monotonic() - started
        finally:
            raw.close()
    assert elapsed < 2.5
    assert emu.journal.entries(path="/sleep")[0].outcome == "cancelled"


def test_application_lifecycle_follows_the_server() -> None:
    """The application is started before listening and closed at stop."""
    with wire_emulator() as (emu, app):
        assert app.started
        assert not app.closed
    assert app.closed
    with pytest.raises(RuntimeError, match="restarted"):
        emu.start()


def test_app_factory_is_thread_mode_only() -> None:
    """A custom application cannot be sent to a subprocess."""
    with pytest.raises(ValueError, match="thread mode"):
        Emulator(mode="subprocess", app_factory=lambda *_: None)  # type: ignore[arg-type,return-value]


def test_custom_application_is_not_app() -> None:
    """emu.app is only for the built-in application; emu.application serves any."""
    with wire_emulator() as (emu, app):
        assert emu.application is app
        with pytest.raises(RuntimeError, match="custom application"):
            _ = emu.app


def test_failing_application_start_fails_emulator_start() -> None:
    """An exception from the application's start() surfaces from Emulator.start()."""

    class Broken(WireTestApp):
        async def start(self) -> None:
            raise RuntimeError("cannot start")

    def factory(
        config: EmulatorConfig, storage: Path, faults: FaultPlan, journal: Journal
    ) -> Broken:
        return Broken(config, storage, faults, journal)

    with pytest.raises(RuntimeError, match="cannot start"):
        Emulator(app_factory=factory).start()


def test_subprocess_mode_with_remote_faults_and_journal() -> None:
    """A subprocess emulator serves the real API and is scripted over the admin endpoint."""
    with Emulator(mode="subprocess", queue_delay_s=0.01) as emu:
        assert emu.pid != os.getpid()
        assert "subprocess" in repr(emu)
        index = emu.faults.fail("/v1/models", status=429, retry_after=1)
        assert index == 0
        assert emu.faults.faults()[0].status == 429
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client(trust_env=False) as c:
            first = c.get(emu.rest_base_url + "/models", headers=headers)
            second = c.get(emu.rest_base_url + "/models", headers=headers)
        assert (first.status_code, second.status_code) == (429, 200)
        entries = emu.journal.wait_for(lambda es: len(es) == 2)
        assert [e.status for e in entries] == [429, 200]
        assert entries[0].faults == ["status#0"]
        assert emu.journal.entries(path="/v1/models", method="GET")[1].outcome == "completed"
        invalid = Fault(kind="status")
        object.__setattr__(invalid, "kind", "explode")  # only the server validates it now
        with pytest.raises(ValueError, match="unknown fault kind"):
            emu.faults.add(invalid)
        emu.faults.clear()
        emu.journal.clear()
        assert emu.faults.snapshot() == []
        assert len(emu.journal) == 0
        process = emu._process
        assert process is not None
    assert process.poll() is not None
    assert process.returncode == 0
