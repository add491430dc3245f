"""Emulator settings: where it listens, which keys it accepts, how fast jobs run, which limits bite."""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

__all__ = ["DEFAULT_API_KEY", "EmulatorConfig"]

DEFAULT_API_KEY = "soniox-emulator-key"
"""The key the emulator accepts unless told otherwise. Not a secret: it only opens the emulator."""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (what the emulator binds by default)."""
    return _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"EmulatorConfig.{attribute.name} must be > 0, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"EmulatorConfig.{attribute.name} must be >= 0, got {value!r}")


def _optional_limit(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"EmulatorConfig.{attribute.name} must be a whole number >= 1, or None")


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """Every knob of the emulator. Defaults follow the documented limits of the real API."""

    # Network ---------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    """Also serve HTTPS/WSS on ``tls_port`` with a certificate generated at start (ALPN h2, http/1.1)."""
    tls_port: int = 0
    allow_non_loopback: bool = False
    """Binding anything but a loopback address must be asked for explicitly."""

    # Auth ------------------------------------------------------------------------------------
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)

    # Storage and limits -----------------------------------------------------------------------
    storage_dir: str | None = None
    """Where uploads are written; ``None``: a temporary directory removed at stop."""
    max_upload_bytes: int = attrs.field(default=1_073_741_824, validator=_positive)
    max_files: int = attrs.field(default=1_000, validator=_positive)
    max_pending_transcriptions: int = attrs.field(default=100, validator=_positive)
    max_total_transcriptions: int = attrs.field(default=2_000, validator=_positive)

    # Async job lifecycle -----------------------------------------------------------------------
    queue_delay_s: float = attrs.field(default=0.05, validator=_non_negative)
    """How long a job stays ``queued`` before ``processing``."""
    processing_speed: float = attrs.field(default=200.0, validator=_positive)
    """Audio seconds processed per wall second while ``processing``."""
    min_processing_s: float = attrs.field(default=0.05, validator=_non_negative)
    audio_url_timeout_s: float = attrs.field(default=10.0, validator=_positive)

    # Webhooks ------------------------------------------------------------------------------------
    webhook_attempts: int = attrs.field(default=3, validator=_positive)
    webhook_retry_delay_s: float = attrs.field(default=0.2, validator=_non_negative)
    webhook_timeout_s: float = attrs.field(default=5.0, validator=_positive)

    # Realtime ------------------------------------------------------------------------------------
    ws_idle_timeout_s: float = attrs.field(default=20.0, validator=_positive)
    """No audio or keepalive for this long closes the session with a 408 error frame."""
    ws_max_session_s: float = attrs.field(default=300 * 60, validator=_positive)
    engine: str = "deterministic"
    """Recognition engine: ``deterministic`` (default) or ``pocketsphinx`` (extra ``emulator-asr``)."""
    engine_window_ms: int | None = attrs.field(default=None)
    """Window of the deterministic engine (one word per non-silent window); ``None``: 240 ms.
    Smaller windows yield more tokens per second of audio (long-transcript benchmarks)."""

    # Account limits (off by default: None) --------------------------------------------------------
    rest_requests_per_minute: int | None = attrs.field(default=None, validator=_optional_limit)
    """REST requests per API key per minute (``429 limit_exceeded`` + ``Retry-After`` past it)."""
    realtime_streams: int | None = attrs.field(default=None, validator=_optional_limit)
    """Concurrent realtime streams per API key (error frame ``429
    max_concurrent_connections_reached`` past it)."""
    realtime_connects_per_minute: int | None = attrs.field(default=None, validator=_optional_limit)
    """Realtime streams opened per API key per minute (error frame ``429 limit_exceeded``)."""

    # Journal ------------------------------------------------------------------------------------
    journal_max_entries: int = attrs.field(default=10_000, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if not self.allow_non_loopback and not _is_loopback(self.host):
            raise ValueError(
                f"EmulatorConfig.host={self.host!r} is not a loopback address; "
                "pass allow_non_loopback=True to serve beyond this machine"
            )
        if not self.api_keys:
            raise ValueError("EmulatorConfig.api_keys must hold at least one key")

    def __repr__(self) -> str:
        # API keys stay out of reprs even though the default one is public.
        return (
            f"EmulatorConfig(host={self.host!r}, port={self.port}, tls={self.tls}, "
            f"engine={self.engine!r}, api_keys=<{len(self.api_keys)} key(s)>)"
        )
