"""Every knob of the SDK in one frozen value, and named profiles that set them together.

``SonioxConfig()`` is the production profile. Whatever the profile, a client takes the API key
and the endpoints from the environment (``SONIOX_API_KEY``, ``SONIOX_API_BASE_URL``,
``SONIOX_WEBSOCKET_URL``) when neither the call nor the config sets them
(:meth:`SonioxConfig.with_environment`), as the official SDK and openai-python do.
``SonioxConfig.from_env()`` also reads the profile and a few knobs (below).
Each profile documents the middleware stack it assembles (outermost first); the stacks grow as
later middleware (rate limit, cache, metrics, tracing) lands.

A bad value fails at construction with :class:`~soniox.errors.ClientValidationError` naming the
field and what would be accepted. The API key never appears in ``repr``.
"""

from __future__ import annotations

import math
import os
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar
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
]

DEFAULT_BASE_URL: Final = "https://api.soniox.com/v1"
DEFAULT_WEBSOCKET_URL: Final = "wss://stt-rt.soniox.com/transcribe-websocket"
DEFAULT_TTS_BASE_URL: Final = "https://tts-rt.soniox.com"
DEFAULT_TTS_WEBSOCKET_URL: Final = "wss://tts-rt.soniox.com/tts-websocket"
DEFAULT_RETRY_STATUSES: Final = frozenset({408, 429, *range(500, 600)})
PROFILES: Final = ("production", "realtime", "cost", "development", "testing")

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


def _count_or_none(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(attribute, "a whole number >= 1, or None for unlimited", value)


def _retries(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(attribute, "a whole number >= 0 (0 disables retries)", value)


def _factor(_i: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(attribute, "a finite number >= 1", value)
    if not (value >= 1 and math.isfinite(value)):
        raise _fail(attribute, "a finite number >= 1", value)


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


# --- the config --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
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
    verify: bool | str | ssl.SSLContext = True
    proxy: str | None = None
    trust_env: bool = True

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

    # Client-side rate limit (placeholder knobs until the rate-limit middleware lands) ----------
    rate_limit_per_minute: float | None = attrs.field(default=None, validator=_seconds_or_none)
    rate_limit_burst: int | None = attrs.field(default=None, validator=_count_or_none)
    rate_limit_adaptive: bool = False

    # Realtime WebSocket -------------------------------------------------------------------------
    ws_open_timeout: float | None = attrs.field(default=10.0, validator=_seconds_or_none)
    ws_ping_interval: float | None = attrs.field(default=20.0, validator=_seconds_or_none)
    ws_ping_timeout: float | None = attrs.field(default=20.0, validator=_seconds_or_none)

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

    # Assembly ---------------------------------------------------------------------------------
    middleware: tuple[str, ...] = attrs.field(
        default=("headers", "retry", "logging"), converter=tuple, validator=_middleware
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
        ``SONIOX_MAX_RETRIES``, ``SONIOX_TIMEOUT`` (read timeout, seconds).
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
        """Balanced defaults for services.

        Stack: ``headers → retry → logging → transport``. HTTP/1.1 keep-alive (fastest for
        sequential calls), 2 retries with full-jitter backoff (0.5 s base, 8 s cap),
        Retry-After honoured up to 60 s, timeouts connect 5 s / read 60 s.
        """
        values: dict[str, Any] = {"profile": "production", **overrides}
        return cls(**values)

    @classmethod
    def realtime(cls, **overrides: Any) -> SonioxConfig:
        """For applications whose work is realtime sessions: REST calls (temporary keys) are
        few and on the critical path, so fail or recover quickly.

        Stack: ``headers → retry → logging → transport``. Connect 3 s / read 10 s, 2 quick
        retries (0.1 s base, 1 s cap), Retry-After honoured up to 5 s, WebSocket pings every
        10 s with a 10 s timeout.
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
            "ws_ping_interval": 10.0,
            "ws_ping_timeout": 10.0,
        }
        return cls(**(values | overrides))

    @classmethod
    def cost(cls, **overrides: Any) -> SonioxConfig:
        """For batch work where a failed run costs more than a slow one: wait, don't fail.

        Stack: ``headers → retry → logging → transport`` (cache/dedup and a shared rate limit
        join here as they land). HTTP/2 multiplexing for many small calls (uploads stay on
        HTTP/1.1), 5 retries (1 s base, 30 s cap), Retry-After honoured up to 5 minutes,
        read timeout 120 s.
        """
        values: dict[str, Any] = {
            "profile": "cost",
            "http2": True,
            "read_timeout": 120.0,
            "max_retries": 5,
            "backoff_base": 1.0,
            "backoff_cap": 30.0,
            "retry_after_cap": 300.0,
        }
        return cls(**(values | overrides))

    @classmethod
    def development(cls, **overrides: Any) -> SonioxConfig:
        """For working on an integration: see every failure at once, and every request.

        Stack: ``headers → logging → transport`` (no retry layer: failures surface immediately;
        enable DEBUG on the ``soniox`` logger to see requests with allow-listed headers).
        Connect 2 s / read 30 s.
        """
        values: dict[str, Any] = {
            "profile": "development",
            "connect_timeout": 2.0,
            "read_timeout": 30.0,
            "max_retries": 0,
            "log_headers": True,
            "middleware": ("headers", "logging"),
        }
        return cls(**(values | overrides))

    @classmethod
    def testing(cls, **overrides: Any) -> SonioxConfig:
        """For test suites against the emulator: full retry behaviour with millisecond waits.

        Stack: ``headers → retry → logging → transport``. 2 retries with 1 ms base / 10 ms cap
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
            "trust_env": False,
        }
        return cls(**(values | overrides))


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
