"""Fixtures of the compatibility suite: user code written for the official ``soniox`` SDK 2.10.0.

Every test here imports only official paths (``soniox``, ``soniox.client``, ``soniox.errors``,
``soniox.types``, ``soniox.utils``) and runs unchanged against either SDK: this project's
package (``.venv/bin/pytest tests/compat``) or the official wheel (``scripts/compat_official.sh``).
Both talk to this project's emulator, in this process when the package under test is ours, else
in a child process started from ``$SONIOX_COMPAT_EMULATOR_PYTHON`` (or this repository's
``.venv``). Server state is reset before every test, so counts are exact.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from compat_support import CompatEmulator, SideServer, make_wav, start_emulator

import soniox
from soniox import SonioxClient

_ENV_VARS = ("SONIOX_API_KEY", "SONIOX_API_WEBHOOK_SECRET", "SONIOX_API_WEBHOOK_HEADER")


def _sdk_under_test() -> str:
    versions: list[str] = []
    for dist in ("soniox", "soniox-transport"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return f"{', '.join(versions) or 'unknown distribution'} at {Path(soniox.__file__).parent}"


def pytest_report_header(config: pytest.Config) -> str:
    return f"compat: SDK under test: {_sdk_under_test()}"


@pytest.fixture(scope="session")
def emu() -> Iterator[CompatEmulator]:
    """The emulator every test talks to (one per session; state is wiped before each test)."""
    emulator = start_emulator()
    print(f"\ncompat: emulator {emulator.how} at {emulator.url}")
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture(scope="session")
def wav() -> bytes:
    """Two seconds of tones: eight words from the emulator's deterministic engine."""
    return make_wav(2.0)


@pytest.fixture(scope="session")
def side(wav: bytes) -> Iterator[SideServer]:
    """The user's own web server: serves audio URLs and receives webhooks."""
    server = SideServer(wav)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def _fresh_state(
    emu: CompatEmulator, side: SideServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No Soniox variables from the caller's environment, no faults, no files or jobs, an
    empty journal."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    emu.clear_faults()
    emu.wipe()
    emu.clear_journal()
    yield
    side.release_all()
    emu.clear_faults()


@pytest.fixture
def wav_path(tmp_path: Path, wav: bytes) -> Path:
    path = tmp_path / "meeting.wav"
    path.write_bytes(wav)
    return path


@pytest.fixture
def client(emu: CompatEmulator) -> Iterator[SonioxClient]:
    """A sync client the way users build one: key and base URL, closed by ``with``."""
    with SonioxClient(api_key=emu.api_key, api_base_url=emu.rest_base_url) as c:
        yield c


@pytest.fixture
def conn(emu: CompatEmulator) -> dict[str, str]:
    """Keyword arguments for ``AsyncSonioxClient(**conn)`` (async tests build their own)."""
    return {"api_key": emu.api_key, "api_base_url": emu.rest_base_url}


@pytest.fixture
def window() -> tuple[str, str]:
    """An ISO-8601 window around now: yesterday 00:00 UTC to one hour ahead."""
    now = datetime.now(UTC)
    start = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = now + timedelta(hours=1)
    return (
        start.isoformat().replace("+00:00", "Z"),
        end.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
