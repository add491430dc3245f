"""Fixtures of the integration tests: which client runs a call, and emulators with slow jobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _api_modes import MODES, Api
from stt_support import PROCESSING_JOBS, QUEUED_JOBS

from soniox.emulator import Emulator


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """``"sync"`` or ``"async"``: every test using it runs with both clients."""
    return str(request.param)


@pytest.fixture
def api(mode: str, emulator: Emulator) -> Api:
    """Run a namespace call with a fresh client of the current mode against the emulator."""
    return Api.for_emulator(mode, emulator)


@pytest.fixture
def queued() -> Iterator[Emulator]:
    """An emulator whose jobs stay queued."""
    with Emulator(**QUEUED_JOBS) as emu:
        yield emu


@pytest.fixture
def processing() -> Iterator[Emulator]:
    """An emulator whose jobs stay processing."""
    with Emulator(**PROCESSING_JOBS) as emu:
        yield emu
