"""How a session connects and recovers: the options a realtime chain's links write."""

from __future__ import annotations

from typing import Any, Final

from soniox.errors import ClientValidationError

from .core import Overflow, ReconnectPolicy
from .ledger import AudioLayout

__all__ = [
    "COMPRESSED_BYTES_PER_SECOND",
    "DEFAULT_CONNECT_TIMEOUT_SEC",
    "DEFAULT_RETAINED_BYTES",
    "KEEP_ALIVE_INTERVAL_SEC",
    "RECEIVE_TIMEOUT_SEC",
    "SessionOptions",
]

COMPRESSED_BYTES_PER_SECOND: Final = 32 * 1024
"""How a bound in milliseconds becomes bytes when the audio's layout is unknown (a compressed
format): generous for speech codecs (Opus and MP3 at 32-128 kbit/s take 4-16 KiB per second)."""

DEFAULT_CONNECT_TIMEOUT_SEC: Final = 10.0
KEEP_ALIVE_INTERVAL_SEC: Final = 5.0
"""A keepalive goes out when no frame did for this long (the server drops a stream idle 20 s)."""
RECEIVE_TIMEOUT_SEC: Final = 10.0
"""Audio went out but no message came back for this long: the connection is treated as dead
(a half-open socket, a stalled server) and the session reconnects."""
DEFAULT_RETAINED_BYTES: Final = 16 << 20
"""Audio kept for an exact resume, at most (about 8 minutes of 16 kHz mono PCM)."""


class SessionOptions:
    """How a session connects and recovers: WebSocket settings, and what the chain's links
    wrote (reconnection, keepalive, watchdog, buffer, pacing). Made directly, every feature
    is on with its default; :meth:`bare` is the starting point a chain configures."""

    __slots__ = (
        "buffer_bytes",
        "buffer_ms",
        "chain",
        "chunk_ms",
        "client",
        "connect_timeout_sec",
        "keepalive_interval_sec",
        "max_retained_bytes",
        "overflow",
        "pace",
        "ping_interval",
        "ping_timeout",
        "policy",
        "raise_on_error",
        "receive_timeout_sec",
        "ssl",
        "temporary_keys",
    )

    def __init__(
        self,
        *,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        ssl: Any = None,
        policy: ReconnectPolicy | None = None,
        keepalive_interval_sec: float | None = KEEP_ALIVE_INTERVAL_SEC,
        receive_timeout_sec: float | None = RECEIVE_TIMEOUT_SEC,
        max_retained_bytes: int = DEFAULT_RETAINED_BYTES,
        raise_on_error: bool = False,
        buffer_ms: int | None = None,
        buffer_bytes: int | None = None,
        overflow: Overflow = "block",
        pace: float | None = 1.0,
        chunk_ms: int = 120,
        temporary_keys: bool = False,
        chain: Any = None,
        client: object | None = None,
    ) -> None:
        if connect_timeout_sec <= 0:
            raise ClientValidationError(
                "connect_timeout_sec must be greater than zero", field="connect_timeout_sec"
            )
        self.connect_timeout_sec = connect_timeout_sec
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.ssl = ssl
        self.policy = policy or ReconnectPolicy()
        self.keepalive_interval_sec = keepalive_interval_sec
        self.receive_timeout_sec = receive_timeout_sec
        self.max_retained_bytes = max_retained_bytes
        self.raise_on_error = raise_on_error
        self.buffer_ms = buffer_ms
        self.buffer_bytes = buffer_bytes
        self.overflow: Overflow = overflow
        self.pace = pace
        self.chunk_ms = chunk_ms
        self.temporary_keys = temporary_keys
        self.chain: Any = chain
        """The :class:`~.chain.RealtimeChain` that wrote these options (its links' hooks join
        the session)."""
        self.client = client
        """The client that made the session, for links that report through it."""

    @classmethod
    def bare(cls, **settings: Any) -> SessionOptions:
        """Options with every chain feature off — no reconnection, keepalive, watchdog,
        buffer bound or pacing — for a chain to switch on link by link."""
        return cls(
            policy=ReconnectPolicy(max_attempts=0),
            keepalive_interval_sec=None,
            receive_timeout_sec=None,
            pace=None,
            **settings,
        )

    def buffer_bound(self, layout: AudioLayout | None) -> int | None:
        """The buffer's bound in bytes: ``buffer_ms`` of audio in ``layout`` (unknown: 32 KiB
        a second), ``buffer_bytes``, or the smaller of both."""
        bounds: list[int] = []
        if self.buffer_ms is not None:
            if layout is not None:
                bounds.append(max(layout.offset_of(self.buffer_ms), layout.frame_bytes))
            else:
                bounds.append(self.buffer_ms * COMPRESSED_BYTES_PER_SECOND // 1000)
        if self.buffer_bytes is not None:
            bounds.append(self.buffer_bytes)
        return min(bounds) if bounds else None
