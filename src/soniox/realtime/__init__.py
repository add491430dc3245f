"""Realtime speech-to-text: the session logic (sans-IO), the realtime middleware chain, and the
sync and async shells that run them over WebSockets.

Built in layers, each tested on its own: :mod:`~soniox.realtime.assembler` (a transcript as it
grows, and the time shift of a resumed connection), :mod:`~soniox.realtime.ledger` (the audio
sent, what is kept for an exact resume, and its replay), :mod:`~soniox.realtime.core` (the
session's states and decisions: what to send, what to deliver, when and how to reconnect) —
all three sans-IO — then :mod:`~soniox.realtime.chain` (the ordered links between the user and
the socket: ``print(session.chain)``) and :mod:`~soniox.realtime.observe` (metrics, a span and
log lines per session).
"""

from __future__ import annotations

from .api import AsyncRealtimeAPI, AsyncRealtimeSTTClient, RealtimeAPI, RealtimeSTTClient
from .assembler import TranscriptAssembler, TranscriptUpdate, shift_event, shift_token, text_of
from .async_session import AsyncRealtimeSTTSession
from .chain import (
    Buffer,
    Health,
    Keepalive,
    LinkContext,
    LinkHooks,
    Pacing,
    RealtimeChain,
    RealtimeLink,
    Reconnect,
    build_chain,
    realtime_links,
    register_realtime_link,
)
from .core import AudioDropped, GapNotice, Reconnecting, ReconnectPolicy, Resumed, SessionNotice
from .helpers import RealtimeTranscript
from .idle import IdlePolicy
from .observe import Observe
from .preconnect import (
    AsyncRealtimeSTTConnection,
    AsyncRealtimeSTTConnectionPool,
    AsyncRealtimeSTTPreconnectPool,
    AsyncRealtimeSTTStream,
    RealtimeSTTConnection,
    RealtimeSTTConnectionPool,
    RealtimeSTTPreconnectPool,
    RealtimeSTTStream,
)
from .quota import Quota
from .session import RealtimeSTTSession

__all__ = [
    "AsyncRealtimeAPI",
    "AsyncRealtimeSTTConnection",
    "AsyncRealtimeSTTConnectionPool",
    "AsyncRealtimeSTTPreconnectPool",
    "AsyncRealtimeSTTStream",
    "IdlePolicy",
    "RealtimeSTTConnection",
    "RealtimeSTTConnectionPool",
    "RealtimeSTTPreconnectPool",
    "RealtimeSTTStream",
    "AudioDropped",
    "Buffer",
    "GapNotice",
    "Health",
    "Keepalive",
    "LinkContext",
    "LinkHooks",
    "Observe",
    "Pacing",
    "Quota",
    "RealtimeChain",
    "RealtimeLink",
    "Reconnect",
    "Reconnecting",
    "Resumed",
    "SessionNotice",
    "build_chain",
    "realtime_links",
    "register_realtime_link",
    "AsyncRealtimeSTTClient",
    "AsyncRealtimeSTTSession",
    "RealtimeAPI",
    "RealtimeSTTClient",
    "RealtimeSTTSession",
    "ReconnectPolicy",
    "RealtimeTranscript",
    "TranscriptAssembler",
    "TranscriptUpdate",
    "shift_event",
    "shift_token",
    "text_of",
]
