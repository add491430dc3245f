"""Shared fixtures: running emulators with fast job timings, the OpenAPI spec, the soak switch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soniox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT.parent / "shared" / "specs" / "soniox-openapi.json"

FAST_TIMINGS: dict[str, Any] = {
    "queue_delay_s": 0.01,
    "processing_speed": 1000.0,
    "min_processing_s": 0.01,
    "webhook_retry_delay_s": 0.05,
}
"""Job and webhook timings that keep lifecycle tests in the tens of milliseconds."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-soak",
        action="store_true",
        default=False,
        help="also run the long-running tests marked 'soak'",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --run-soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started thread-mode emulator with fast job timings, stopped after the test."""
    with Emulator(**FAST_TIMINGS) as emu:
        yield emu


@pytest.fixture
def tls_emulator() -> Iterator[Emulator]:
    """Like ``emulator``, also serving HTTPS/WSS (``tls_url``, ``ssl_context()``)."""
    with Emulator(tls=True, **FAST_TIMINGS) as emu:
        yield emu


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The Soniox OpenAPI document from ``<repo>/../shared/specs`` (skips when it is absent)."""
    if not SPEC_PATH.is_file():
        pytest.skip(
            f"the Soniox OpenAPI spec is not at {SPEC_PATH}; "
            "put a checkout of the shared/ folder beside the repository to run spec tests"
        )
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def anyio_backend() -> str:
    """anyio's pytest plugin runs ``@pytest.mark.anyio`` tests on asyncio only."""
    return "asyncio"
