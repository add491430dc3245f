"""``client.realtime``: the official SDK's ``RealtimeAPI`` / ``RealtimeSTTClient`` entry points.

``client.realtime.stt.connect(config=..., api_key=None, connect_timeout_sec=10.0)`` returns a
:class:`~.session.RealtimeSTTSession`, which connects on ``with``. What this SDK adds, all
keyword-only and optional: ``reconnect`` (a :class:`~.core.ReconnectPolicy`, ``False`` for the
official behaviour — no reconnection), ``raise_on_error`` (the session's error raised at the
end instead of delivered as an event), ``keepalive_interval_sec``, ``max_retained_bytes``. The
namespace leaves room for ``client.realtime.tts``.
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from functools import cached_property, partial
from typing import Any, Final, Generic, Protocol, TypeVar, cast

import attrs

from soniox.config import SonioxConfig
from soniox.errors import ClientValidationError
from soniox.types import RealtimeSTTConfig

from ._shell import DEFAULT_CONNECT_TIMEOUT_SEC, Credential, SessionOptions
from .assembler import TranscriptAssembler, TranscriptUpdate
from .async_session import AsyncRealtimeSTTSession
from .chain import Buffer, Health, Keepalive, RealtimeChain, Reconnect, build_chain
from .core import Overflow, ReconnectPolicy
from .helpers import RealtimeTranscript, stream_async, stream_sync, transcript_of
from .idle import IdlePolicy
from .observe import Observe as Observe  # registers the "observe" link
from .options import KEEP_ALIVE_INTERVAL_SEC
from .preconnect import (
    AsyncRealtimeSTTConnection,
    AsyncRealtimeSTTConnectionPool,
    RealtimeSTTConnection,
    RealtimeSTTConnectionPool,
)
from .quota import Quota as Quota  # registers the "quota" link
from .session import RealtimeSTTSession
from .source import AudioSource

__all__ = [
    "TEMPORARY_KEY_SECONDS",
    "UNSET",
    "AsyncRealtimeAPI",
    "AsyncRealtimeSTTClient",
    "RealtimeAPI",
    "RealtimeClientLike",
    "RealtimeSTTClient",
    "ssl_context_for",
    "tune_chain",
]

DEFAULT_POOL_SIZE: Final = 5
"""Links a pool made by ``create_connection_pool`` keeps (the official default)."""
TEMPORARY_KEY_SECONDS: Final = 60
"""How long a temporary key minted for one connection lives: long enough to connect."""
_TEMPORARY_KEY: Final[dict[str, Any]] = {
    "usage_type": "transcribe_websocket",
    "expires_in_seconds": TEMPORARY_KEY_SECONDS,
    "single_use": True,
}
"""What a key minted for one connection is: for realtime, short-lived, single-use."""


class RealtimeClientLike(Protocol):
    """What the realtime namespace needs of a client."""

    @property
    def api_key(self) -> str: ...

    @property
    def websocket_base_url(self) -> str: ...

    @property
    def config(self) -> SonioxConfig: ...

    @property
    def auth(self) -> Any:
        """``create_temporary_api_key`` (sync or async), for ``temporary_keys``."""
        ...


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


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""A ``connect`` keyword not given: the chain's setting stands."""


def tune_chain(
    chain: RealtimeChain,
    *,
    reconnect: ReconnectPolicy | bool | _Unset = UNSET,
    keepalive_interval_sec: float | _Unset | None = UNSET,
    receive_timeout_sec: float | _Unset | None = UNSET,
    max_retained_bytes: int | _Unset = UNSET,
    buffer_ms: int | _Unset | None = UNSET,
    overflow: Overflow | _Unset = UNSET,
    temporary_keys: bool | _Unset = UNSET,
) -> RealtimeChain:
    """``chain`` with ``connect``'s shortcut keywords applied: each changes (or adds, or with
    None / False removes) the link it belongs to; what is not given stays as the chain has it."""
    if reconnect is not UNSET:
        if reconnect is False:
            chain = chain.without("reconnect")
        else:
            link = chain.find(Reconnect) or Reconnect()
            if isinstance(reconnect, ReconnectPolicy):
                link = attrs.evolve(link, policy=reconnect)
            chain = chain.with_link(link)
    if max_retained_bytes is not UNSET or temporary_keys is not UNSET:
        link = chain.find(Reconnect)
        if link is not None:
            if max_retained_bytes is not UNSET:
                link = attrs.evolve(link, max_retained_bytes=max_retained_bytes)
            if temporary_keys is not UNSET:
                link = attrs.evolve(link, temporary_keys=temporary_keys)
            chain = chain.with_link(link)
    if keepalive_interval_sec is not UNSET:
        chain = (
            chain.without("keepalive")
            if keepalive_interval_sec is None
            else chain.with_link(Keepalive(keepalive_interval_sec))
        )
    if receive_timeout_sec is not UNSET:
        if receive_timeout_sec is None:
            chain = chain.without("health")
        else:
            health = chain.find(Health) or Health()
            chain = chain.with_link(attrs.evolve(health, receive_timeout_sec=receive_timeout_sec))
    if buffer_ms is not UNSET or overflow is not UNSET:
        buffer = chain.find(Buffer) or Buffer()
        if buffer_ms is not UNSET:
            buffer = attrs.evolve(buffer, max_ms=buffer_ms)
        if overflow is not UNSET:
            buffer = attrs.evolve(buffer, overflow=overflow)
        chain = chain.with_link(buffer)
    return chain


ConnT = TypeVar("ConnT", RealtimeSTTConnection, AsyncRealtimeSTTConnection)
PoolT = TypeVar("PoolT", RealtimeSTTConnectionPool, AsyncRealtimeSTTConnectionPool)
SessT = TypeVar("SessT", RealtimeSTTSession, AsyncRealtimeSTTSession)


class _SttClients(Generic[ConnT, PoolT, SessT]):
    """What the sync and async ``client.realtime.stt`` share: how a session is set up, and
    pre-connected links and pools of their flavour."""

    _connection_type: Callable[[str, str | Credential, SessionOptions], ConnT]
    _pool_type: Callable[..., PoolT]
    _session_type: Callable[..., SessT]

    def __init__(self, client: RealtimeClientLike) -> None:
        self._client = client

    @cached_property
    def chain(self) -> RealtimeChain:
        """The chain sessions get unless ``connect(chain=...)`` says otherwise: the one the
        client's config names (``SonioxConfig.realtime_chain``)."""
        return build_chain(self._client.config)

    def _minter(self) -> Credential:
        """A provider of fresh temporary keys, through the client."""
        raise NotImplementedError

    def _policy(
        self,
        pool_size: int,
        idle_max_lifetime_sec: float | None,
        idle_refresh_before_sec: float | None,
    ) -> IdlePolicy:
        config = self._client.config
        return IdlePolicy(
            pool_size,
            config.realtime_idle_max_lifetime_sec
            if idle_max_lifetime_sec is None
            else idle_max_lifetime_sec,
            config.realtime_idle_refresh_before_sec
            if idle_refresh_before_sec is None
            else idle_refresh_before_sec,
        )

    def _pooled(self, use_connection_pool: bool | None, api_key: object) -> bool:
        """Whether a ``connect()`` session takes its first link from the client's pool: the
        client keeps one (``stt_connection_pool_size``), the caller did not say no, and the
        session uses the client's key (a link is opened with it)."""
        if self._client.config.realtime_pool_size <= 0 or use_connection_pool is False:
            return False
        return api_key is None

    # --- pre-connect (the official SDK's main-branch names) --------------------------------------
    def connect_idle(
        self,
        *,
        api_key: str | Credential | None = None,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        chain: RealtimeChain | None = None,
        raise_on_error: bool = False,
    ) -> ConnT:
        """A link opened ahead of its session (on ``with`` / ``async with``, or ``open()``),
        its config sent later by ``start_session(config=...)``: the handshake off the
        first-token path. The session gets ``chain`` (default: the client's)."""
        url, key, options = self._session_args(
            api_key, connect_timeout_sec, raise_on_error, chain, {}
        )
        return self._connection_type(url, key, options)

    def create_connection_pool(
        self,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        api_key: str | Credential | None = None,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        idle_keepalive: bool = True,
        keepalive_interval_sec: float | None = None,
        idle_max_lifetime_sec: float | None = None,
        idle_refresh_before_sec: float | None = None,
        chain: RealtimeChain | None = None,
    ) -> PoolT:
        """``pool_size`` idle links kept ready (enter it, or ``warmup()``, to open them)."""
        policy = self._policy(pool_size, idle_max_lifetime_sec, idle_refresh_before_sec)
        return self._pool_type(
            partial(
                self.connect_idle,
                api_key=api_key,
                connect_timeout_sec=connect_timeout_sec,
                chain=chain,
            ),
            policy,
            idle_keepalive=idle_keepalive,
            keepalive_interval_sec=keepalive_interval_sec or KEEP_ALIVE_INTERVAL_SEC,
        )

    def create_preconnect_pool(self, **options: Any) -> PoolT:
        """The official alias of :meth:`create_connection_pool`."""
        return self.create_connection_pool(**options)

    @cached_property
    def connection_pool(self) -> PoolT:
        """The client's own pool (``stt_connection_pool_size`` links; made on first use)."""
        size = self._client.config.realtime_pool_size
        if size <= 0:
            raise ClientValidationError(
                "this client keeps no realtime connection pool: make it with "
                "stt_connection_pool_size=N",
                field="stt_connection_pool_size",
            )
        return self.create_connection_pool(pool_size=size)

    def _pool_made(self) -> PoolT | None:
        """The client's pool if it was made, forgotten (closing it is the caller's)."""
        return cast("PoolT | None", self.__dict__.pop("connection_pool", None))

    def connect(
        self,
        *,
        config: RealtimeSTTConfig,
        api_key: str | Credential | None = None,
        connect_timeout_sec: float = DEFAULT_CONNECT_TIMEOUT_SEC,
        chain: RealtimeChain | None = None,
        raise_on_error: bool = False,
        reconnect: ReconnectPolicy | bool | _Unset = UNSET,
        keepalive_interval_sec: float | _Unset | None = UNSET,
        receive_timeout_sec: float | _Unset | None = UNSET,
        max_retained_bytes: int | _Unset = UNSET,
        buffer_ms: int | _Unset | None = UNSET,
        overflow: Overflow | _Unset = UNSET,
        temporary_keys: bool | _Unset = UNSET,
        use_connection_pool: bool | None = None,
    ) -> SessT:
        """A session for ``config``, connected on ``with`` (``async with``). ``api_key``: a key or a provider
        called before each connection (default: the client's key). ``chain``: the links the
        session runs through (default: :attr:`chain`, from the client's config); the other
        keywords change one link each (see :func:`tune_chain`)."""
        tuning = {
            "reconnect": reconnect,
            "keepalive_interval_sec": keepalive_interval_sec,
            "receive_timeout_sec": receive_timeout_sec,
            "max_retained_bytes": max_retained_bytes,
            "buffer_ms": buffer_ms,
            "overflow": overflow,
            "temporary_keys": temporary_keys,
        }
        url, key, options = self._session_args(
            api_key, connect_timeout_sec, raise_on_error, chain, tuning
        )
        session = self._session_type(url, config, key, options=options)
        if self._pooled(use_connection_pool, api_key):
            session.hand_over(self._borrower(self.connection_pool))
        return session

    def _borrower(self, pool: PoolT) -> Callable[[], object]:
        """How a ``connect()`` session takes its first link from ``pool``."""
        raise NotImplementedError

    def _helper_session(
        self,
        config: RealtimeSTTConfig,
        pace: float | _Unset | None,
        chunk_ms: int | _Unset,
        connect: dict[str, Any],
    ) -> tuple[SessT, float | None, int]:
        """What ``stream`` / ``transcribe`` run on: a session raising its errors (unless told
        otherwise), and the pace and chunk size — the caller's, else the chain's."""
        connect.setdefault("raise_on_error", True)
        session = self.connect(config=config, **connect)
        chosen_pace, chosen_chunk = _pacing(session.options, pace, chunk_ms)
        return session, chosen_pace, chosen_chunk

    def _session_args(
        self,
        api_key: str | Credential | None,
        connect_timeout_sec: float,
        raise_on_error: bool,
        chain: RealtimeChain | None,
        tuning: dict[str, Any],
    ) -> tuple[str, str | Credential, SessionOptions]:
        key = api_key if api_key is not None else self._client.api_key
        if not key:
            raise ClientValidationError(
                "API key is required to start a realtime session", field="api_key"
            )
        url = self._client.websocket_base_url
        client_config = self._client.config
        chosen = tune_chain(chain if chain is not None else self.chain, **tuning)
        options = chosen.configure(
            SessionOptions.bare(
                connect_timeout_sec=connect_timeout_sec,
                ping_interval=client_config.ws_ping_interval,
                ping_timeout=client_config.ws_ping_timeout,
                ssl=ssl_context_for(client_config, url),
                raise_on_error=raise_on_error,
                chain=chosen,
                client=self._client,
            )
        )
        if options.temporary_keys and api_key is None:
            key = self._minter()
        return url, key, options


class RealtimeSTTClient(
    _SttClients[RealtimeSTTConnection, RealtimeSTTConnectionPool, RealtimeSTTSession]
):
    """Makes realtime speech-to-text sessions (``client.realtime.stt``)."""

    _connection_type = RealtimeSTTConnection
    _pool_type = RealtimeSTTConnectionPool
    _session_type = RealtimeSTTSession

    def _borrower(self, pool: RealtimeSTTConnectionPool) -> Callable[[], object]:
        return lambda: pool.borrow_connection().release()

    def _minter(self) -> Credential:
        auth = self._client.auth

        def mint() -> str:
            return auth.create_temporary_api_key(**_TEMPORARY_KEY).api_key

        return mint

    def warmup_connection_pool(self) -> None:
        """Open the client's idle links now (nothing without ``stt_connection_pool_size``)."""
        if self._client.config.realtime_pool_size > 0:
            self.connection_pool.warmup()

    def close_connection_pool(self) -> None:
        """Close the client's idle links (the client's ``close()`` does)."""
        pool = self._pool_made()
        if pool is not None:
            pool.close()

    def stream(
        self,
        source: AudioSource,
        *,
        config: RealtimeSTTConfig,
        pace: float | _Unset | None = UNSET,
        chunk_ms: int | _Unset = UNSET,
        **connect: Any,
    ) -> Iterator[TranscriptUpdate]:
        """Transcribe ``source`` live: a :class:`~.assembler.TranscriptUpdate` per result (finals
        appended once, non-finals replaced), across reconnections. ``source``: a path, bytes, a
        binary file object (paced at ``pace`` x real time; None: unpaced) or an iterable of
        chunks (sent as it comes). Other keywords go to :meth:`connect`; errors raise, typed."""
        session, pace, chunk_ms = self._helper_session(config, pace, chunk_ms, connect)
        return stream_sync(lambda: session, source, config, pace=pace, chunk_ms=chunk_ms)

    def transcribe(
        self,
        source: AudioSource,
        *,
        config: RealtimeSTTConfig,
        pace: float | _Unset | None = UNSET,
        chunk_ms: int | _Unset = UNSET,
        **connect: Any,
    ) -> RealtimeTranscript:
        """The final transcript of ``source`` (see :meth:`stream`)."""
        session, pace, chunk_ms = self._helper_session(config, pace, chunk_ms, connect)
        assembler = TranscriptAssembler()
        for _ in stream_sync(
            lambda: session, source, config, pace=pace, chunk_ms=chunk_ms, assembler=assembler
        ):
            pass
        return transcript_of(assembler, session.reconnects, session.notices)


class AsyncRealtimeSTTClient(
    _SttClients[AsyncRealtimeSTTConnection, AsyncRealtimeSTTConnectionPool, AsyncRealtimeSTTSession]
):
    """Makes asyncio realtime speech-to-text sessions (``async_client.realtime.stt``)."""

    _connection_type = AsyncRealtimeSTTConnection
    _pool_type = AsyncRealtimeSTTConnectionPool
    _session_type = AsyncRealtimeSTTSession

    def _borrower(self, pool: AsyncRealtimeSTTConnectionPool) -> Callable[[], object]:
        async def borrow() -> object:
            link = await pool.borrow_connection()
            return await link.release()

        return borrow

    def _minter(self) -> Credential:
        auth = self._client.auth

        async def mint() -> str:
            made = await auth.create_temporary_api_key(**_TEMPORARY_KEY)
            return made.api_key

        return mint

    async def warmup_connection_pool(self) -> None:
        if self._client.config.realtime_pool_size > 0:
            await self.connection_pool.warmup()

    async def close_connection_pool(self) -> None:
        pool = self._pool_made()
        if pool is not None:
            await pool.close()

    def stream(
        self,
        source: AudioSource | AsyncIterable[bytes],
        *,
        config: RealtimeSTTConfig,
        pace: float | _Unset | None = UNSET,
        chunk_ms: int | _Unset = UNSET,
        **connect: Any,
    ) -> AsyncIterator[TranscriptUpdate]:
        """The sync :meth:`RealtimeSTTClient.stream`, as an async iterator; ``source`` may
        also be an async iterable of chunks."""
        session, pace, chunk_ms = self._helper_session(config, pace, chunk_ms, connect)
        return stream_async(lambda: session, source, config, pace=pace, chunk_ms=chunk_ms)

    async def transcribe(
        self,
        source: AudioSource | AsyncIterable[bytes],
        *,
        config: RealtimeSTTConfig,
        pace: float | _Unset | None = UNSET,
        chunk_ms: int | _Unset = UNSET,
        **connect: Any,
    ) -> RealtimeTranscript:
        """The final transcript of ``source`` (see :meth:`stream`)."""
        session, pace, chunk_ms = self._helper_session(config, pace, chunk_ms, connect)
        assembler = TranscriptAssembler()
        async for _ in stream_async(
            lambda: session, source, config, pace=pace, chunk_ms=chunk_ms, assembler=assembler
        ):
            pass
        return transcript_of(assembler, session.reconnects, session.notices)


def _pacing(
    options: SessionOptions, pace: float | _Unset | None, chunk_ms: int | _Unset
) -> tuple[float | None, int]:
    """The pace and chunk size a helper uses: what the caller said, else the chain's
    ``pacing`` link (none: unpaced, default chunks)."""
    chosen_pace = options.pace if pace is UNSET else pace
    chosen_chunk = options.chunk_ms if chunk_ms is UNSET else chunk_ms
    return chosen_pace, chosen_chunk


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
