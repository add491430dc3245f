"""Fixtures for the REST tests, loaded with ``pytest_plugins = ["rest_fixtures"]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_check import OpenApiChecker
from rest_support import FAST, Api, EmulatorFactory

from soniox.emulator import Emulator


@pytest.fixture
def checker(spec: dict[str, Any]) -> OpenApiChecker:
    """An OpenAPI response checker over the shared spec (skips when the spec is absent)."""
    return OpenApiChecker(spec)


@pytest.fixture
def api(emulator: Emulator, checker: OpenApiChecker) -> Iterator[Api]:
    """A spec-checking HTTP/1.1 client for the ``emulator`` fixture."""
    client = Api(emulator.rest_base_url, emulator.api_key, checker)
    yield client
    client.close()


@pytest.fixture
def make_emulator(checker: OpenApiChecker) -> Iterator[EmulatorFactory]:
    """Start an emulator with config overrides (fast timings unless overridden) and a client."""
    started: list[tuple[Emulator, Api]] = []

    def factory(**overrides: Any) -> tuple[Emulator, Api]:
        emu = Emulator(**{**FAST, **overrides}).start()
        client = Api(emu.rest_base_url, emu.api_key, checker)
        started.append((emu, client))
        return emu, client

    yield factory
    for emu, client in started:
        client.close()
        emu.stop()
