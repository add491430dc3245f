"""Wires the emulator's parts together: one object the wire layer hands requests to.

Routing between the three applications is by path only: ``/_emulator/*`` is the admin API
(never faulted, never journaled), ``/transcribe-websocket`` is the realtime endpoint, everything
else is the REST application.
"""

from __future__ import annotations

from pathlib import Path

from .admin import AdminApp
from .auth import Authenticator
from .config import EmulatorConfig
from .engines import create_engine
from .faults import FaultPlan
from .http_types import IncomingRequest, OutgoingResponse, WebSocketChannel
from .journal import Journal
from .limits import AccountLimits, LimitSettings
from .realtime import RealtimeEndpoint
from .rest import RestApp
from .usage import UsageLedger

__all__ = ["ADMIN_PREFIX", "REALTIME_PATH", "EmulatorApp"]

ADMIN_PREFIX = "/_emulator/"
REALTIME_PATH = "/transcribe-websocket"


class EmulatorApp:
    """The emulator's applications and shared state, independent of sockets."""

    def __init__(
        self,
        config: EmulatorConfig,
        storage_dir: Path,
        faults: FaultPlan | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.config = config
        self.faults = faults if faults is not None else FaultPlan()
        self.journal = journal if journal is not None else Journal(config.journal_max_entries)
        self.auth = Authenticator(config.api_keys)
        self.limits = AccountLimits(
            LimitSettings(
                rest_requests_per_minute=config.rest_requests_per_minute,
                realtime_streams=config.realtime_streams,
                realtime_connects_per_minute=config.realtime_connects_per_minute,
            )
        )
        self.usage = UsageLedger()
        self.engine = create_engine(config.engine, window_ms=config.engine_window_ms)
        self.rest = RestApp(
            config=config,
            faults=self.faults,
            auth=self.auth,
            engine=self.engine,
            usage=self.usage,
            storage_dir=storage_dir,
            limits=self.limits,
        )
        self.realtime = RealtimeEndpoint(
            config=config,
            faults=self.faults,
            auth=self.auth,
            engine=self.engine,
            usage=self.usage,
            limits=self.limits,
        )
        self.admin = AdminApp(self)

    def __repr__(self) -> str:
        return f"EmulatorApp({self.config!r}, {self.faults!r}, {self.journal!r})"

    async def start(self) -> None:
        await self.rest.start()

    async def aclose(self) -> None:
        await self.rest.aclose()

    @staticmethod
    def is_admin(path: str) -> bool:
        return path.startswith(ADMIN_PREFIX)

    @staticmethod
    def is_realtime(path: str) -> bool:
        return path == REALTIME_PATH

    async def handle_http(self, request: IncomingRequest) -> OutgoingResponse:
        if self.is_admin(request.path):
            return await self.admin.handle(request)
        return await self.rest.handle(request)

    async def handle_websocket(self, request: IncomingRequest, channel: WebSocketChannel) -> None:
        await self.realtime.handle(request, channel)
