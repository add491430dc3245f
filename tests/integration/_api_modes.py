"""Run one namespace call with the sync or the async client, so a test covers both."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator

MODES = ["sync", "async"]


class Api:
    """``api(lambda c: c.files.get(id))`` with a fresh client of the chosen kind.

    Awaitables are awaited and iterators (sync or async) collected into lists, so the same
    lambda serves both clients.
    """

    def __init__(self, mode: str, config: SonioxConfig) -> None:
        self.mode = mode
        self.config = config

    @classmethod
    def for_emulator(cls, mode: str, emulator: Emulator, **config: Any) -> Api:
        values: dict[str, Any] = {"api_key": emulator.api_key, "base_url": emulator.rest_base_url}
        return cls(mode, SonioxConfig.testing(**(values | config)))

    def __call__(self, call: Callable[[Any], Any]) -> Any:
        if self.mode == "sync":
            with SonioxClient(config=self.config) as client:
                result = call(client)
                return list(result) if isinstance(result, Iterator) else result

        async def main() -> Any:
            async with AsyncSonioxClient(config=self.config) as client:
                result = call(client)
                if inspect.isawaitable(result):
                    return await result
                if isinstance(result, AsyncIterator):
                    return [item async for item in result]
                return result

        return asyncio.run(main())
