"""``client.realtime``: the official SDK's ``RealtimeAPI`` / ``RealtimeSTTClient`` entry points.

``client.realtime.stt.connect(config=..., api_key=None, connect_timeout_sec=10.0)`` returns a
:class:`~.session.RealtimeSTTSession`, which connects on ``with``. What this SDK adds, all
keyword-only and optional: ``reconnect`` (a :class:`~.core.ReconnectPolicy`, ``False`` for the
official behaviour — no reconnection), ``raise_on_error`` (the session's error raised at the
end instead of delivered as an event), ``keepalive_interval_sec``, ``max_retained_bytes``. The
namespace leaves room for ``client.realtime.tts``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from functools import cached_property
from typing import Any, Protocol

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.types import RealtimeSTTConfig

from ._shell import (
    DEFAULT_CONNECT_TIMEOUT_SEC,
    DEFAULT_RETAINED_BYTES,
    KEEP_ALIVE_INTERVAL_SEC,
    RECEIVE_TIMEOUT_SEC,
    SessionOptions,
)
from .assembler import TranscriptAssembler, TranscriptUpdate
from .async_session import AsyncRealtimeSTTSession
from .core import ReconnectPolicy
from .helpers import RealtimeTranscript, stream_async, stream_sync, transcript_of
from .session import RealtimeSTTSession
from .source import DEFAULT_CHUNK_MS, AudioSource

__all__ = [
    "AsyncRealtimeAPI",
    "AsyncRealtimeSTTClient",
    "RealtimeAPI",
    "RealtimeClientLike",
    "RealtimeSTTClient",
    "ssl_context_for",
]


class RealtimeClientLike(Protocol):
    """What the realtime namespace needs of a client."""

    @property
    def api_key(self) -> str: ...

    @property
    def websocket_base_url(self) -> str: ...

    @property
    def config(self) -> SonioxConfig: ...


def ssl_context_for(config: SonioxConfig, url: str) -> ssl.SSLContext | None:
    """The TLS context a ``wss://`` connection uses, from the client's ``verify``."""
    if not url.startswith("wss:"):
        return None
    verify = config.verify
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


class _SttClients:
    """What the sync and async ``client.realtime.stt`` share: how a session is set up."""

    def __init__(self, client: RealtimeClientLike) -> None:
        self._client = client

    def _session_args(
        self,
        api_key: str | Callable[[], str] | None,
        connect_timeout_sec: float,
        reconnect: ReconnectPolicy | bool,
        raise_on_error: bool,
        keepalive_interval_sec: float | None,
        max_retained_bytes: int,
        receive_timeout_sec: float | None,
    ) -> tuple[str, str | Callable[[], str], SessionOptions]:
        key = api_key if api_key is not None else self._client.api_key
        if not key:
            raise ClientValidationError(
                "API key is required to start a realtime session", field="api_key"
            )
        url = self._client.websocket_base_url
        client_config = self._client.config
        if reconnect is True:
            policy = ReconnectPolicy()
        elif reconnect is False:
            policy = ReconnectPolicy(max_attempts=0)
        else:
            policy = reconnect
        options = SessionOptions(
            connect_timeout_sec=connect_timeout_sec,
            ping_interval=client_config.ws_ping_interval,
            ping_timeout=client_config.ws_ping_timeout,
            ssl=ssl_context_for(client_config, url),
            policy=policy,
            keepalive_interval_sec=keepalive_interval_sec,
            max_retained_bytes=max_retained_bytes,
            raise_on_error=raise_on_error,
            receive_timeout_sec=receive_timeout_sec,
        )
        return url, key, options


class RealtimeSTTClient(_SttClients):
    """Makes realtime speech-to-text sessions (``client.realtime.stt``)."""

    def connect(
        self,
        *,
        config: RealtimeSTTConfig,
        api_key: str | Callable[[], str] | None = None,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        reconnect: ReconnectPolicy | bool = True,
        raise_on_error: bool = False,
        keepalive_interval_sec: float | None = KEEP_ALIVE_INTERVAL_SEC,
        max_retained_bytes: int = DEFAULT_RETAINED_BYTES,
        receive_timeout_sec: float | None = RECEIVE_TIMEOUT_SEC,
    ) -> RealtimeSTTSession:
        """A session for ``config``, connected on ``with``. ``api_key``: a key or a provider
        called before each connection (default: the client's key)."""
        url, key, options = self._session_args(
            api_key,
            connect_timeout_sec,
            reconnect,
            raise_on_error,
            keepalive_interval_sec,
            max_retained_bytes,
            receive_timeout_sec,
        )
        return RealtimeSTTSession(url, config, key, options=options)

    def stream(
        self,
        source: AudioSource,
        *,
        config: RealtimeSTTConfig,
        pace: float | None = 1.0,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        **connect: Any,
    ) -> Iterator[TranscriptUpdate]:
        """Transcribe ``source`` live: a :class:`~.assembler.TranscriptUpdate` per result (finals
        appended once, non-finals replaced), across reconnections. ``source``: a path, bytes, a
        binary file object (paced at ``pace`` x real time; None: unpaced) or an iterable of
        chunks (sent as it comes). Other keywords go to :meth:`connect`; errors raise, typed."""
        connect.setdefault("raise_on_error", True)
        session = self.connect(config=config, **connect)
        return stream_sync(lambda: session, source, config, pace=pace, chunk_ms=chunk_ms)

    def transcribe(
        self,
        source: AudioSource,
        *,
        config: RealtimeSTTConfig,
        pace: float | None = 1.0,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        **connect: Any,
    ) -> RealtimeTranscript:
        """The final transcript of ``source`` (see :meth:`stream`)."""
        connect.setdefault("raise_on_error", True)
        session = self.connect(config=config, **connect)
        assembler = TranscriptAssembler()
        for _ in stream_sync(
            lambda: session, source, config, pace=pace, chunk_ms=chunk_ms, assembler=assembler
        ):
            pass
        return transcript_of(assembler, session.reconnects, session.notices)


class AsyncRealtimeSTTClient(_SttClients):
    """Makes asyncio realtime speech-to-text sessions (``async_client.realtime.stt``)."""

    def connect(
        self,
        *,
        config: RealtimeSTTConfig,
        api_key: str | Callable[[], str] | None = None,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        reconnect: ReconnectPolicy | bool = True,
        raise_on_error: bool = False,
        keepalive_interval_sec: float | None = KEEP_ALIVE_INTERVAL_SEC,
        max_retained_bytes: int = DEFAULT_RETAINED_BYTES,
        receive_timeout_sec: float | None = RECEIVE_TIMEOUT_SEC,
    ) -> AsyncRealtimeSTTSession:
        """A session for ``config``, connected on ``async with`` (see the sync ``connect``)."""
        url, key, options = self._session_args(
            api_key,
            connect_timeout_sec,
            reconnect,
            raise_on_error,
            keepalive_interval_sec,
            max_retained_bytes,
            receive_timeout_sec,
        )
        return AsyncRealtimeSTTSession(url, config, key, options=options)

    def stream(
        self,
        source: AudioSource | AsyncIterable[bytes],
        *,
        config: RealtimeSTTConfig,
        pace: float | None = 1.0,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        **connect: Any,
    ) -> AsyncIterator[TranscriptUpdate]:
        """The sync :meth:`RealtimeSTTClient.stream`, as an async iterator; ``source`` may
        also be an async iterable of chunks."""
        connect.setdefault("raise_on_error", True)
        session = self.connect(config=config, **connect)
        return stream_async(lambda: session, source, config, pace=pace, chunk_ms=chunk_ms)

    async def transcribe(
        self,
        source: AudioSource | AsyncIterable[bytes],
        *,
        config: RealtimeSTTConfig,
        pace: float | None = 1.0,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        **connect: Any,
    ) -> RealtimeTranscript:
        """The final transcript of ``source`` (see :meth:`stream`)."""
        connect.setdefault("raise_on_error", True)
        session = self.connect(config=config, **connect)
        assembler = TranscriptAssembler()
        async for _ in stream_async(
            lambda: session, source, config, pace=pace, chunk_ms=chunk_ms, assembler=assembler
        ):
            pass
        return transcript_of(assembler, session.reconnects, session.notices)


class RealtimeAPI:
    """``client.realtime``: realtime entry points (``stt`` now; ``tts`` can join)."""

    def __init__(self, client: RealtimeClientLike) -> None:
        self._client = client

    @cached_property
    def stt(self) -> RealtimeSTTClient:
        return RealtimeSTTClient(self._client)


class AsyncRealtimeAPI:
    """``async_client.realtime``."""

    def __init__(self, client: RealtimeClientLike) -> None:
        self._client = client

    @cached_property
    def stt(self) -> AsyncRealtimeSTTClient:
        return AsyncRealtimeSTTClient(self._client)
