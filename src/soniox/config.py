"""Every knob of the SDK in one frozen value, and named profiles that set them together.

``SonioxConfig()`` is the production profile. Whatever the profile, a client takes the API key
and the endpoints from the environment (``SONIOX_API_KEY``, ``SONIOX_API_BASE_URL``,
``SONIOX_WEBSOCKET_URL``) when neither the call nor the config sets them
(:meth:`SonioxConfig.with_environment`), as the official SDK and openai-python do.
``SonioxConfig.from_env()`` also reads the profile and a few knobs (below).
Each profile documents the middleware stack it assembles (outermost first) and why in that
order; ``print(client.stack)`` shows it.

A bad value fails at construction with :class:`~soniox.errors.ClientValidationError` naming the
field and what would be accepted. The API key never appears in ``repr``.
"""

from __future__ import annotations

import math
import os
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, cast
from urllib.parse import urlsplit

import attrs

from soniox.errors import ClientValidationError, register_secret

__all__ = [
    "SonioxConfig",
    "DEFAULT_BASE_URL",
    "DEFAULT_WEBSOCKET_URL",
    "DEFAULT_TTS_BASE_URL",
    "DEFAULT_TTS_WEBSOCKET_URL",
    "DEFAULT_RETRY_STATUSES",
    "PROFILES",
    "PRODUCTION_STACK",
    "REALTIME_CHAIN",
]

DEFAULT_BASE_URL: Final = "https://api.soniox.com/v1"
DEFAULT_WEBSOCKET_URL: Final = "wss://stt-rt.soniox.com/transcribe-websocket"
DEFAULT_TTS_BASE_URL: Final = "https://tts-rt.soniox.com"
DEFAULT_TTS_WEBSOCKET_URL: Final = "wss://tts-rt.soniox.com/tts-websocket"
DEFAULT_RETRY_STATUSES: Final = frozenset({408, 429, *range(500, 600)})
PROFILES: Final = ("production", "realtime", "cost", "development", "testing")
PRODUCTION_STACK: Final = (
    "headers",
    "tracing",
    "metrics",
    "cache",
    "dedup",
    "retry",
    "concurrency",
    "rate_limit",
    "logging",
)
"""The default stack, outermost first (see :meth:`SonioxConfig.production` for why)."""
REALTIME_CHAIN: Final = (
    "observe",
    "pacing",
    "buffer",
    "keepalive",
    "health",
    "quota",
    "reconnect",
)
"""The default realtime chain, from the user's side to the socket (see
:mod:`soniox.realtime.chain`)."""
_OVERFLOWS: Final = ("block", "drop_oldest", "raise")

C = TypeVar("C", bound="SonioxConfig")


# --- validators ------------------------------------------------------------------------------


def _fail(attribute: attrs.Attribute[Any], wanted: str, value: object) -> ClientValidationError:
    return ClientValidationError(
        f"SonioxConfig.{attribute.name} must be {wanted}, got {value!r}", field=attribute.name
    )


def _seconds_or_none(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a number of seconds > 0, or None for no limit", value)
    if not (value > 0 and math.isfinite(value)):
        raise _fail(attribute, "a number of seconds > 0, or None for no limit", value)


def _non_negative(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a finite number >= 0", value)
    if not (value >= 0 and math.isfinite(value)):
        raise _fail(attribute, "a finite number >= 0", value)


def _positive_seconds(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a number of seconds > 0", value)
    if not (value > 0 and math.isfinite(value)):
        raise _fail(attribute, "a number of seconds > 0", value)


def _poll_cap(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < instance.poll_first_delay:
        raise _fail(attribute, f">= poll_first_delay ({instance.poll_first_delay})", value)


def _count_or_none(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(attribute, "a whole number >= 1, or None for unlimited", value)


def _bytes(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number of bytes >= 0", value)


def _retries(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number >= 0 (0 disables retries)", value)


def _factor(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a finite number >= 1", value)
    if not (value >= 1 and math.isfinite(value)):
        raise _fail(attribute, "a finite number >= 1", value)


# --- rate limit, concurrency cap, retry budget ---------------------------------------------------


def _rate_or_none(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a number of requests per second > 0, or None for no limit", value)
    if not (value > 0 and math.isfinite(value)):
        raise _fail(attribute, "a number of requests per second > 0, or None for no limit", value)


def _burst_or_none(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(attribute, "a whole number >= 1, or None for one second's worth", value)


def _whole_non_negative(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number >= 0", value)


def _route_limits(value: object) -> tuple[tuple[str, float, int | None], ...]:
    """``{route: rate}`` / ``{route: (rate, burst)}``, or ``(route, rate[, burst])`` items, as
    ``(route, rate, burst)`` triples (the values are checked by the validator)."""
    wanted = (
        "a mapping of route templates to a rate or (rate, burst), e.g. "
        "{'POST /v1/transcriptions': 2.0}"
    )
    if isinstance(value, Mapping):
        pairs = list(cast("Mapping[object, object]", value).items())
        items: list[tuple[object, ...]] = []
        for route, limit in pairs:
            items.append((route, *limit) if isinstance(limit, tuple | list) else (route, limit))  # pyright: ignore[reportUnknownArgumentType]
    elif isinstance(value, tuple | list):
        items = [tuple(item) if isinstance(item, tuple | list) else (item,) for item in value]  # pyright: ignore[reportUnknownArgumentType,reportUnknownVariableType]
    else:
        raise ClientValidationError(
            f"SonioxConfig.rate_limit_routes must be {wanted}, got {value!r}",
            field="rate_limit_routes",
        )
    triples: list[tuple[str, float, int | None]] = []
    for item in items:
        if len(item) not in (2, 3):
            raise ClientValidationError(
                f"SonioxConfig.rate_limit_routes must be {wanted}, got {item!r}",
                field="rate_limit_routes",
            )
        route, rate, burst = (*item, None) if len(item) == 2 else item
        triples.append((route, rate, burst))  # type: ignore[arg-type]
    return tuple(triples)


def _route_limits_valid(
    _i: object, attribute: attrs.Attribute[Any], value: tuple[tuple[object, object, object], ...]
) -> None:
    for route, rate, burst in value:
        if not isinstance(route, str) or "/" not in route:
            raise _fail(attribute, "route templates like 'POST /v1/transcriptions'", route)
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not (rate > 0 and math.isfinite(rate))
        ):
            raise _fail(attribute, f"a rate > 0 requests per second for {route!r}", rate)
        if burst is not None and (
            isinstance(burst, bool) or not isinstance(burst, int) or burst < 1
        ):
            raise _fail(attribute, f"a whole burst >= 1 (or None) for {route!r}", burst)


# --- end of rate limit, concurrency cap, retry budget ---------------------------------------------


def _url(schemes: tuple[str, ...]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in schemes or not parts.hostname:
            raise _fail(attribute, f"an absolute {' or '.join(schemes)} URL", value)
        if parts.username or parts.password:
            raise _fail(attribute, "a URL without user:password (pass api_key instead)", "<url>")

    return check


def _statuses(_i: object, attribute: attrs.Attribute[Any], value: frozenset[object]) -> None:
    bad = sorted(repr(s) for s in value if not (isinstance(s, int) and 100 <= s <= 599))
    if bad:
        raise _fail(attribute, "HTTP status codes between 100 and 599", bad)


def _statuses_repr(statuses: frozenset[int]) -> str:
    """``{408, 429, 500-599}``: runs of three or more consecutive statuses as ranges, not a
    hundred numbers."""
    runs: list[list[int]] = []
    for status in sorted(statuses):
        if runs and status == runs[-1][1] + 1:
            runs[-1][1] = status
        else:
            runs.append([status, status])
    parts: list[str] = []
    for first, last in runs:
        if last - first >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(str(status) for status in range(first, last + 1))
    return "{" + ", ".join(parts) + "}"


def _middleware(_i: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    # Which names exist is the middleware registry's business (checked when the stack is built).
    bad = [name for name in value if not isinstance(name, str) or not name.strip()]  # pyright: ignore[reportUnnecessaryIsInstance]
    if bad:
        raise _fail(attribute, "middleware names (non-empty strings)", bad)
    if len(set(value)) != len(value):
        raise _fail(attribute, "a list without duplicates", list(value))


def _shared_state(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, str) and not value.startswith(("redis://", "rediss://", "unix://")):
        raise _fail(attribute, "a redis:// URL, a SharedState object or None", "<url>")


def _on_failure(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("fail_open", "fail_closed"):
        raise _fail(attribute, "'fail_open' or 'fail_closed'", value)


def _overflow(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in _OVERFLOWS:
        raise _fail(attribute, "one of " + ", ".join(_OVERFLOWS), value)


def _positive_count(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(attribute, "a whole number > 0", value)


def _count_from_zero(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number >= 0", value)


def _api_key(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ClientValidationError(
            "SonioxConfig.api_key must be a non-empty string (or None to read SONIOX_API_KEY)",
            field=attribute.name,
        )


def _key_repr(value: object) -> str:
    return "None" if value is None else "'***'"


def _optional_text(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(attribute, "a non-empty string, or None", "<value>")


def _secret_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A secret: checked like :func:`_optional_text`, then registered for redaction."""
    _optional_text(instance, attribute, value)
    if isinstance(value, str):
        register_secret(value)


METRICS_SINK_NAMES: Final = ("memory", "prometheus", "otel", "none")


def _metrics_sink(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # A sink object is duck-typed here: its protocol lives in soniox.middleware.metrics, above.
    if isinstance(value, str):
        if value not in METRICS_SINK_NAMES:
            raise _fail(attribute, f"one of {list(METRICS_SINK_NAMES)} or a sink object", value)
        return
    hooks = ("record_attempt", "record_call", "record_operation")
    if not all(callable(getattr(value, hook, None)) for hook in hooks):
        raise _fail(
            attribute, f"one of {list(METRICS_SINK_NAMES)} or an object with {hooks}", value
        )


def _prewarm(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number of connections >= 0 (0: no pre-warming)", value)


# --- the config --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class SonioxConfig:
    """All settings. Defaults are the ``production`` profile."""

    # Identity and endpoints ------------------------------------------------------------------
    api_key: str | None = attrs.field(default=None, validator=_api_key, repr=_key_repr)
    api_key_provider: Callable[[], str] | None = attrs.field(
        default=None, repr=lambda v: "None" if v is None else "<provider>"
    )
    """Asked for the key on every request (temporary keys, vaults); wins over ``api_key``."""
    base_url: str | None = attrs.field(default=None, validator=_url(("http", "https")))
    """The REST API (official: ``api_base_url``); None: ``SONIOX_API_BASE_URL``, else
    :data:`DEFAULT_BASE_URL`."""
    websocket_url: str | None = attrs.field(default=None, validator=_url(("ws", "wss")))
    """The realtime endpoint (official: ``websocket_base_url``); None: ``SONIOX_WEBSOCKET_URL``,
    else :data:`DEFAULT_WEBSOCKET_URL`."""
    tts_base_url: str = attrs.field(default=DEFAULT_TTS_BASE_URL, validator=_url(("http", "https")))
    """Text-to-speech REST endpoint (official: ``tts_api_base_url``)."""
    tts_websocket_url: str = attrs.field(
        default=DEFAULT_TTS_WEBSOCKET_URL, validator=_url(("ws", "wss"))
    )
    """Text-to-speech WebSocket endpoint (official: ``tts_websocket_base_url``)."""

    # Timeouts (seconds; None = no limit) -----------------------------------------------------
    connect_timeout: float | None = attrs.field(default=5.0, validator=_seconds_or_none)
    read_timeout: float | None = attrs.field(default=60.0, validator=_seconds_or_none)
    write_timeout: float | None = attrs.field(default=60.0, validator=_seconds_or_none)
    pool_timeout: float | None = attrs.field(default=10.0, validator=_seconds_or_none)
    deadline: float | None = attrs.field(default=None, validator=_seconds_or_none)
    """Default total budget of one call (every attempt and wait); per call: ``with_options``."""

    # Connections -------------------------------------------------------------------------------
    max_connections: int | None = attrs.field(default=100, validator=_count_or_none)
    max_keepalive_connections: int | None = attrs.field(default=20, validator=_count_or_none)
    keepalive_expiry: float | None = attrs.field(default=5.0, validator=_seconds_or_none)
    http2: bool = False
    """HTTP/2 for small calls (multiplexed); large uploads still use HTTP/1.1."""
    http2_max_body: int = attrs.field(default=1_048_576, validator=_non_negative)
    """Bodies above this many bytes (or of unknown length) go over HTTP/1.1 even with http2."""
    native_http1: bool = True
    """HTTP/1.1 on the SDK's own lane (sockets and asyncio, parsed by httptools' llhttp): about
    a tenth of httpcore's CPU per request. False carries HTTP/1.1 over httpcore + h11 instead
    (as a proxy always does)."""
    native_http2: bool = True
    """With ``http2``, HTTP/2 on the SDK's own lane (a small sans-IO connection on the
    ``hpack`` package, sockets and asyncio): a third of the CPU of httpcore + ``h2`` per
    request. False carries HTTP/2 over httpcore + ``h2`` (as a proxy or a user's
    ``SSLContext`` always does)."""
    verify: bool | str | ssl.SSLContext = True
    proxy: str | None = None
    trust_env: bool = True
    prewarm_connections: int = attrs.field(default=0, validator=_prewarm)
    """Connections (TLS handshake included) to open ahead of need: at the first call, beside
    it (a thread or task), for the calls that follow; ``client.prewarm()`` / ``await
    client.aprewarm()`` open them at once, before the first call. 0: none."""

    # Retries -------------------------------------------------------------------------------------
    max_retries: int = attrs.field(default=2, validator=_retries)
    backoff_base: float = attrs.field(default=0.5, validator=_non_negative)
    backoff_factor: float = attrs.field(default=2.0, validator=_factor)
    backoff_cap: float = attrs.field(default=8.0, validator=_non_negative)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES,
        converter=frozenset,
        validator=_statuses,
        repr=_statuses_repr,
    )
    retry_after_cap: float = attrs.field(default=60.0, validator=_non_negative)
    """The longest server-requested wait honoured; longer ones fail fast with ``retry_after``."""

    # Client-side rate limit and concurrency cap (middleware ``rate_limit``, ``concurrency``) ----
    rate_limit_per_second: float | None = attrs.field(default=None, validator=_rate_or_none)
    """Attempts per second for the whole client, retries included (None: no limit). Soniox
    states its limits per minute: divide by 60."""
    rate_limit_burst: int | None = attrs.field(default=None, validator=_burst_or_none)
    """How many attempts may go at once after a quiet spell (None: one second's worth)."""
    rate_limit_routes: tuple[tuple[str, float, int | None], ...] = attrs.field(
        default=(), converter=_route_limits, validator=_route_limits_valid
    )
    """Limits of their own for some routes, on top of the client's: ``{"POST
    /v1/transcriptions": 2.0, "/v1/files/{file_id}": (5.0, 10)}`` — attempts per second, and
    optionally the burst; a path template (``{name}`` is one segment, ``*`` anything), with or
    without a method. The first route that matches applies."""
    rate_limit_adaptive: bool = True
    """Slow the whole client down when the server throttles (429, or an error with
    Retry-After), then speed back up along a CUBIC curve (botocore's adaptive mode)."""
    max_concurrent_calls: int | None = attrs.field(default=100, validator=_count_or_none)
    """Attempts in flight at once through this client (None: no cap)."""

    # Retry budget (the ``retry`` middleware's; botocore's standard retry quota) -----------------
    retry_budget: int | None = attrs.field(default=500, validator=_count_or_none)
    """Tokens shared by the client and its ``with_options`` views (None: no budget; the
    default is botocore's 500). A retry spends ``retry_cost``, or ``retry_timeout_cost`` after a timeout or
    connection failure; a success pays back its last retry's cost, or 1. Empty: no retries."""
    retry_cost: int = attrs.field(default=5, validator=_whole_non_negative)
    retry_timeout_cost: int = attrs.field(default=10, validator=_whole_non_negative)

    # Cache (the ``cache`` middleware; seconds an answer is reused, 0: never) --------------------
    cache_max_bytes: int = attrs.field(default=64 * 2**20, validator=_bytes)
    """Bytes the in-memory cache holds at most (bodies, headers, URLs, per-entry overhead)."""
    cache_max_entry_bytes: int = attrs.field(default=8 * 2**20, validator=_bytes)
    """The largest body kept, streamed or not (a streamed one is passed through uncached)."""
    cache_shared_max_bytes: int = attrs.field(default=0, validator=_bytes)
    """Bytes of a cache tier shared by every process on ``shared_state``'s Redis, for answers
    that never change (completed transcripts): a transcript one worker fetched is served to
    the others from Redis. 0: no shared tier (needs ``shared_state`` when set)."""
    cache_ttl_models: float = attrs.field(default=3600.0, validator=_non_negative)
    """``GET /models`` and ``/tts-models``."""
    cache_ttl_files: float = attrs.field(default=600.0, validator=_non_negative)
    """``GET /files/{id}`` (file metadata never changes; a DELETE drops it)."""
    cache_ttl_transcripts: float = attrs.field(default=3600.0, validator=_non_negative)
    """``GET /transcriptions/{id}/transcript`` (a completed job's transcript never changes)."""
    cache_ttl_finished_jobs: float = attrs.field(default=60.0, validator=_non_negative)
    """``GET /transcriptions/{id}`` once ``completed`` / ``error`` (only
    ``webhook_status_code`` can still change)."""
    cache_ttl_pending_jobs: float = attrs.field(default=0.25, validator=_non_negative)
    """``GET /transcriptions/{id}`` while ``queued`` / ``processing``: kept below ``wait()``'s
    shortest regular poll interval (0.5 s)."""

    # Polling (``wait()`` without ``poll=``: :class:`soniox.flows.polling.PollingPolicy`) --------
    poll_first_delay: float = attrs.field(default=1.0, validator=_positive_seconds)
    """Seconds before the first poll of a job whose processing time can't be predicted yet."""
    poll_max_delay: float = attrs.field(default=10.0, validator=[_positive_seconds, _poll_cap])
    """The longest wait between two unpredicted polls (delays grow x1.5 up to it)."""
    poll_hint_margin: float = attrs.field(default=1.0, validator=_non_negative)
    """How many spreads before a predicted end the hinted poll lands (0: at the prediction,
    fewer early polls, a later finish seen)."""

    # Realtime WebSocket -------------------------------------------------------------------------
    ws_open_timeout: float | None = attrs.field(default=10.0, validator=_seconds_or_none)
    ws_ping_interval: float | None = attrs.field(default=20.0, validator=_seconds_or_none)
    ws_ping_timeout: float | None = attrs.field(default=20.0, validator=_seconds_or_none)
    realtime_chain: tuple[str, ...] = attrs.field(
        default=REALTIME_CHAIN, converter=tuple, validator=_middleware
    )
    """Names of the realtime chain's links, from the user's side to the socket: the built-ins
    (``observe``, ``pacing``, ``buffer``, ``keepalive``, ``health``, ``reconnect``) or any
    name given to :func:`soniox.realtime.register_realtime_link`. A link left out is off
    (without ``reconnect``, a dropped stream ends, as in the official SDK)."""
    realtime_buffer_ms: int = attrs.field(default=30_000, validator=_positive_count)
    """``buffer``: the audio that may wait for a connection (while connecting or reconnecting),
    in milliseconds of the session's audio (a compressed format: 32 KiB per second)."""
    realtime_overflow: str = attrs.field(default="block", validator=_overflow)
    """``buffer``: past its bound — ``block`` (the sender waits for the connection),
    ``drop_oldest`` (oldest waiting audio dropped, counted, reported) or ``raise``."""
    realtime_pace: float | None = attrs.field(default=1.0, validator=_seconds_or_none)
    """``pacing``: files sent at this many times real time by ``stream`` / ``transcribe``
    (None: as fast as the socket takes them)."""
    realtime_chunk_ms: int = attrs.field(default=120, validator=_positive_count)
    """``pacing``: the audio per frame when a file is cut into chunks."""
    realtime_keepalive_sec: float | None = attrs.field(default=5.0, validator=_seconds_or_none)
    """``keepalive``: a keepalive goes out when nothing did for this long (the server drops a
    stream idle 20 s), paused or not."""
    realtime_receive_timeout_sec: float | None = attrs.field(
        default=10.0, validator=_seconds_or_none
    )
    """``health``: a connection silent this long while the server owes an answer is dead."""
    realtime_reconnect_attempts: int = attrs.field(default=5, validator=_positive_count)
    """``reconnect``: attempts in a row before the session fails."""
    realtime_retained_bytes: int = attrs.field(default=16 << 20, validator=_positive_count)
    """``reconnect``: audio kept for an exact resume, at most (past it, a reported gap)."""
    realtime_temporary_keys: bool = False
    """``reconnect``: every connection (the first and each reconnection) gets a fresh
    temporary key minted with ``auth.create_temporary_api_key`` instead of the API key."""
    realtime_max_streams: int | None = attrs.field(default=None, validator=_count_or_none)
    """``quota``: at most this many realtime sessions at once for the key — fleet-wide with a
    ``shared_state`` (Soniox allows 10), this process's without; None: the link is off."""
    realtime_connects_per_minute: float | None = attrs.field(
        default=None, validator=_seconds_or_none
    )
    """``quota``: realtime connections a minute for the key (Soniox allows 100); None: off."""
    realtime_pool_size: int = attrs.field(default=0, validator=_count_from_zero)
    """Idle realtime links the client keeps ready (official: ``stt_connection_pool_size``);
    ``connect()`` sessions take their first link from them. 0: none (connect on demand)."""
    realtime_idle_max_lifetime_sec: float = attrs.field(default=600.0, validator=_positive_seconds)
    """An idle link is used within this long of opening (official: ``stt_idle_max_lifetime_sec``)."""
    realtime_idle_refresh_before_sec: float = attrs.field(default=60.0, validator=_positive_seconds)
    """…and replaced this long before that (official: ``stt_idle_refresh_before_sec``)."""

    # Shared state (many processes, one key) -------------------------------------------------------
    shared_state: object = attrs.field(default=None, validator=_shared_state, repr=False)
    """Where limits shared by processes live: None (this process only), a ``redis://`` URL
    (:class:`soniox.shared.RedisState`, extra ``redis``) or a :class:`soniox.shared.SharedState`
    object. The client-wide and per-route rate limits then hold for every process on the key."""
    pending_transcriptions_limit: int | None = attrs.field(default=None, validator=_count_or_none)
    """At most this many of the key's transcriptions waiting to start (Soniox allows 100): each
    ``transcribe`` / ``transcribe_many`` item leases a slot before its create and gives it back
    once the job has started (or failed) — fleet-wide with ``shared_state``. None: unchecked."""
    pending_lease_ttl: float = attrs.field(default=900.0, validator=_positive_seconds)
    """How long a pending slot lasts unless renewed (every poll renews it): the slot of a job
    no one waits for, or of a worker that died, comes back after this."""
    shared_state_prefix: str = "soniox"
    """The prefix of the shared state's keys (one per deployment sharing a Redis)."""
    shared_state_timeout: float = attrs.field(default=0.05, validator=_positive_seconds)
    """Seconds any shared-state call may take before it counts as failed."""
    shared_state_on_failure: str = attrs.field(default="fail_open", validator=_on_failure)
    """``fail_open`` (per-process limits while the shared state is away, warned once) or
    ``fail_closed`` (calls refused with ``SharedStateUnavailableError``)."""

    # Webhooks ---------------------------------------------------------------------------------
    webhook_secret: str | None = attrs.field(default=None, validator=_secret_text, repr=_key_repr)
    """The value the webhook auth header must carry (official: ``webhook_secret``); None:
    ``SONIOX_API_WEBHOOK_SECRET``, read when a webhook is checked. Never in a repr, and
    registered for redaction (:func:`soniox.errors.register_secret`) when set."""
    webhook_header: str | None = attrs.field(default=None, validator=_optional_text)
    """The webhook auth header's name (official: ``webhook_signature_header``); None:
    ``SONIOX_API_WEBHOOK_HEADER``, else ``X-Soniox-Webhook-Secret``."""
    webhook_require_secret: bool = False
    """Refuse a webhook when no secret is configured (the official SDK, and the default, accept
    it unchecked, with a warning)."""

    # Observability --------------------------------------------------------------------------
    log_headers: bool = True
    user_agent_extra: str | None = None
    metrics_sink: object = attrs.field(default="memory", validator=_metrics_sink)
    """Where the ``metrics`` middleware records: ``"memory"`` (``client.metrics.snapshot()``),
    ``"prometheus"`` / ``"otel"`` (that exporter, plus in memory), ``"none"``, or a sink object
    (:class:`soniox.middleware.metrics.MetricsSink`)."""
    trace_propagation: bool = True
    """The ``tracing`` middleware sends W3C ``traceparent`` (the global propagator's headers)."""

    # Assembly ---------------------------------------------------------------------------------
    middleware: tuple[str, ...] = attrs.field(
        default=PRODUCTION_STACK, converter=tuple, validator=_middleware
    )
    """Names of the middleware to stack, outermost first: the built-ins, or any name given to
    :func:`soniox.middleware.register_middleware` (checked when a client builds its stack)."""
    profile: str = "production"

    def evolve(self: C, **changes: Any) -> C:
        """A copy with ``changes`` (validated like the constructor)."""
        return attrs.evolve(self, **changes)

    @property
    def resolved_api_key(self) -> str | Callable[[], str] | None:
        """The provider if set, else the key."""
        return self.api_key_provider or self.api_key

    def with_environment(self: C, env: Mapping[str, str] | None = None) -> C:
        """This config with what it leaves unset taken from the environment, then the defaults:
        the key from ``SONIOX_API_KEY`` (unless a key or provider is set), ``base_url`` from
        ``SONIOX_API_BASE_URL``, ``websocket_url`` from ``SONIOX_WEBSOCKET_URL``. Every client
        resolves its config this way, whatever the profile."""
        source = os.environ if env is None else env
        changes: dict[str, Any] = {}
        key = source.get("SONIOX_API_KEY", "").strip()
        if self.api_key is None and self.api_key_provider is None and key:
            changes["api_key"] = key
        if self.base_url is None:
            changes["base_url"] = source.get("SONIOX_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
        if self.websocket_url is None:
            changes["websocket_url"] = (
                source.get("SONIOX_WEBSOCKET_URL", "").strip() or DEFAULT_WEBSOCKET_URL
            )
        return self.evolve(**changes) if changes else self

    # --- environment ---------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SonioxConfig:
        """Settings from the environment, on top of a profile, then ``overrides``.

        ``SONIOX_API_KEY``, ``SONIOX_API_BASE_URL``, ``SONIOX_WEBSOCKET_URL``,
        ``SONIOX_PROFILE`` (one of :data:`PROFILES`), ``SONIOX_HTTP2`` (1/0, true/false),
        ``SONIOX_NATIVE_HTTP1`` (1/0: the native HTTP/1.1 lane, or httpcore's), ``SONIOX_NATIVE_HTTP2`` (the same for HTTP/2), ``SONIOX_MAX_RETRIES``, ``SONIOX_TIMEOUT`` (read timeout, seconds).
        """
        source = os.environ if env is None else env
        profile = source.get("SONIOX_PROFILE", "production").strip().lower() or "production"
        if profile not in PROFILES:
            raise ClientValidationError(
                f"SONIOX_PROFILE must be one of {list(PROFILES)}, got {profile!r}",
                field="SONIOX_PROFILE",
            )
        values: dict[str, Any] = {}
        if key := source.get("SONIOX_API_KEY", "").strip():
            values["api_key"] = key
        if url := source.get("SONIOX_API_BASE_URL", "").strip():
            values["base_url"] = url
        if ws := source.get("SONIOX_WEBSOCKET_URL", "").strip():
            values["websocket_url"] = ws
        if (raw := source.get("SONIOX_HTTP2")) is not None and raw.strip():
            values["http2"] = _env_bool("SONIOX_HTTP2", raw)
        if (raw := source.get("SONIOX_NATIVE_HTTP1")) is not None and raw.strip():
            values["native_http1"] = _env_bool("SONIOX_NATIVE_HTTP1", raw)
        if (raw := source.get("SONIOX_NATIVE_HTTP2")) is not None and raw.strip():
            values["native_http2"] = _env_bool("SONIOX_NATIVE_HTTP2", raw)
        if (raw := source.get("SONIOX_MAX_RETRIES")) is not None and raw.strip():
            values["max_retries"] = _env_number("SONIOX_MAX_RETRIES", raw, int)
        if (raw := source.get("SONIOX_TIMEOUT")) is not None and raw.strip():
            values["read_timeout"] = _env_number("SONIOX_TIMEOUT", raw, float)
        values.update(overrides)
        factory: Callable[..., SonioxConfig] = getattr(cls, profile)
        return factory(**values)

    # --- profiles --------------------------------------------------------------------------
    @classmethod
    def production(cls, **overrides: Any) -> SonioxConfig:
        """Balanced defaults for services: every middleware family on.

        Stack: ``headers → tracing → metrics → cache → dedup → retry → concurrency →
        rate_limit → logging → transport``. Why this order: ``headers`` first, so every
        attempt carries the same identity; the observers (``tracing``, ``metrics``) outside
        everything they report on, so they see cache hits, dedup joins, retry and rate-limit
        waits and every attempt; ``cache`` before ``dedup`` (a hit never waits for anyone),
        ``dedup`` before ``retry`` (one upstream call, retries included, for all joiners);
        ``concurrency`` and ``rate_limit`` inside ``retry``, so every attempt pays and no permit
        is held through a retry's back-off, the cap outside the bucket so attempts leave paced;
        ``logging`` innermost, one line per attempt.

        HTTP/1.1 keep-alive (fastest for sequential calls), 2 retries with full-jitter backoff
        (0.5 s base, 8 s cap) and a 500-token retry budget (botocore's), Retry-After honoured up
        to 60 s, adaptive client-side rate (unthrottled until a 429), at most 100 attempts in
        flight (the pool's size: calls queue in the SDK, deadline-aware, not in the pool),
        in-memory metrics (``client.metrics``), spans through the OpenTelemetry API (free until
        the application installs an SDK), timeouts connect 5 s / read 60 s.
        """
        values: dict[str, Any] = {"profile": "production", **overrides}
        return cls(**values)

    @classmethod
    def realtime(cls, **overrides: Any) -> SonioxConfig:
        """For applications whose work is realtime sessions: REST calls (temporary keys) are
        few and on the critical path, so fail or recover quickly.

        Stack: ``headers → tracing → metrics → retry → rate_limit → logging → transport``
        (no cache or dedup: temporary keys are POSTs, nothing to reuse). Connect 3 s / read
        10 s, 2 quick retries (0.1 s base, 1 s cap) under a small retry budget (50 tokens: a
        failing region stops being hammered after a handful of retries), adaptive rate,
        Retry-After honoured up to 5 s, WebSocket pings every 10 s with a 10 s timeout.

        Realtime chain ``observe → pacing → buffer → keepalive → health → reconnect`` (the
        default chain, tightened): a silent connection that owes an answer is called dead after
        5 s instead of 10, and a dropped stream gets 8 reconnection attempts instead of 5.
        """
        values: dict[str, Any] = {
            "profile": "realtime",
            "connect_timeout": 3.0,
            "read_timeout": 10.0,
            "write_timeout": 10.0,
            "pool_timeout": 3.0,
            "backoff_base": 0.1,
            "backoff_cap": 1.0,
            "retry_after_cap": 5.0,
            "retry_budget": 50,
            "max_concurrent_calls": None,
            "ws_ping_interval": 10.0,
            "ws_ping_timeout": 10.0,
            "realtime_receive_timeout_sec": 5.0,
            "realtime_reconnect_attempts": 8,
            "middleware": ("headers", "tracing", "metrics", "retry", "rate_limit", "logging"),
        }
        return cls(**(values | overrides))

    @classmethod
    def cost(cls, **overrides: Any) -> SonioxConfig:
        """For batch work where requests and failed runs cost more than slow ones: ask less,
        reuse more, wait rather than fail.

        Stack: the production one, ``headers → tracing → metrics → cache → dedup → retry →
        concurrency → rate_limit → logging → transport``, with a cache four times larger
        (256 MiB, entries up to 32 MiB) that keeps transcripts a day, file metadata an hour,
        model lists six hours and finished jobs ten minutes; slow polling (first poll after
        2 s, then up to every 30 s, aiming at the predicted end rather than ahead of it);
        HTTP/2 multiplexing for many small calls (uploads stay on HTTP/1.1), 5 retries (1 s
        base, 30 s cap), Retry-After honoured up to 5 minutes, read timeout 120 s.
        """
        values: dict[str, Any] = {
            "profile": "cost",
            "http2": True,
            "read_timeout": 120.0,
            "max_retries": 5,
            "backoff_base": 1.0,
            "backoff_cap": 30.0,
            "retry_after_cap": 300.0,
            "cache_max_bytes": 256 * 2**20,
            "cache_max_entry_bytes": 32 * 2**20,
            "cache_ttl_models": 6 * 3600.0,
            "cache_ttl_files": 3600.0,
            "cache_ttl_transcripts": 24 * 3600.0,
            "cache_ttl_finished_jobs": 600.0,
            "cache_ttl_pending_jobs": 1.0,
            "poll_first_delay": 2.0,
            "poll_max_delay": 30.0,
            "poll_hint_margin": 0.0,
        }
        return cls(**(values | overrides))

    @classmethod
    def development(cls, **overrides: Any) -> SonioxConfig:
        """For working on an integration: see every failure at once, and every request.

        Stack: ``headers → tracing → metrics → logging → transport`` (no retry layer: failures
        surface immediately; no cache or dedup: every call reaches the server; enable DEBUG on
        the ``soniox`` logger to see requests with allow-listed headers, and read
        ``client.metrics.snapshot()`` for counts and latencies). Connect 2 s / read 30 s.
        """
        values: dict[str, Any] = {
            "profile": "development",
            "connect_timeout": 2.0,
            "read_timeout": 30.0,
            "max_retries": 0,
            "retry_budget": None,
            "rate_limit_adaptive": False,
            "max_concurrent_calls": None,
            "log_headers": True,
            "middleware": ("headers", "tracing", "metrics", "logging"),
        }
        return cls(**(values | overrides))

    @classmethod
    def testing(cls, **overrides: Any) -> SonioxConfig:
        """For test suites against the emulator: full retry behaviour with millisecond waits,
        and every call reaching the emulator.

        Stack: ``headers → tracing → metrics → retry → logging → transport`` (no cache or dedup,
        so a test sees each request it makes; no adaptive rate or retry budget, so injected
        429s and faults give the same retries every run). 2 retries with 1 ms base / 10 ms cap
        backoff, Retry-After honoured up to 1 s, connect 2 s / read 10 s, no keep-alive pool
        beyond 10 connections.
        """
        values: dict[str, Any] = {
            "profile": "testing",
            "connect_timeout": 2.0,
            "read_timeout": 10.0,
            "write_timeout": 10.0,
            "pool_timeout": 5.0,
            "max_connections": 10,
            "max_keepalive_connections": 10,
            "backoff_base": 0.001,
            "backoff_cap": 0.01,
            "retry_after_cap": 1.0,
            "retry_budget": None,
            "rate_limit_adaptive": False,
            "max_concurrent_calls": None,
            "trust_env": False,
            "middleware": ("headers", "tracing", "metrics", "retry", "logging"),
        }
        return cls(**(values | overrides))

    # --- repr --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        """The profile, the stack, then only what differs from the class defaults (the
        production profile) — short enough to read in a log line; secrets shown as ``'***'``."""
        parts = [f"profile={self.profile!r}", f"middleware={self.middleware!r}"]
        for field in attrs.fields(type(self)):
            if field.name in ("profile", "middleware"):
                continue
            value = getattr(self, field.name)
            if value == field.default:
                continue
            shown = field.repr(value) if callable(field.repr) else repr(value)
            parts.append(f"{field.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _env_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ClientValidationError(f"{name} must be 1/0 or true/false, got {raw!r}", field=name)


N = TypeVar("N", int, float)


def _env_number(name: str, raw: str, kind: type[N]) -> N:
    try:
        return kind(raw.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ClientValidationError(f"{name} must be {what}, got {raw!r}", field=name) from None
