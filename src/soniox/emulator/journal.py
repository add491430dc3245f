"""Request journal: what the emulator received, how it answered, and which faults fired.

Tests assert on it instead of on timing: "the second POST /v1/transcriptions was reset after it
was processed", "this upload travelled over HTTP/2", "the WebSocket authenticated with the
subprotocol". Secrets never enter it (:func:`redact_headers`, :func:`redact_query`): the value of
every credential-bearing header is stored as a length-only marker, keeping an auth scheme
(``Bearer <redacted 21 chars>``). A header is credential-bearing when its name is
``authorization``, ``proxy-authorization``, ``cookie``, ``set-cookie``, ``x-api-key``,
``api-key`` or ``sec-websocket-protocol`` (the realtime key travels there), or contains ``key``,
``token``, ``secret``, ``auth``, ``password``/``passwd``, ``cookie``, ``session``,
``credential`` or ``signature`` (``x-soniox-webhook-secret``, ``x-auth-token`` …) — except
``idempotency-key``; and whatever its name when its value starts with ``Bearer`` or ``Basic``.
Query parameters are judged by the same name rule (``api_key=``,
``webhook_auth_header_value=``). This is the emulator's own rule: it imports nothing of the SDK.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus

import attrs

__all__ = ["Journal", "JournalEntry", "is_credential_name", "redact_headers", "redact_query"]

_CREDENTIAL_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "sec-websocket-protocol",
    }
)
_CREDENTIAL_WORDS = (
    "key",
    "token",
    "secret",
    "auth",
    "password",
    "passwd",
    "cookie",
    "session",
    "credential",
    "signature",
)
_NOT_CREDENTIALS = frozenset({"idempotency-key"})
_SCHEMES = frozenset({"bearer", "basic"})
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})


def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter called ``name`` may carry a credential."""
    lname = name.lower()
    if lname in _CREDENTIAL_NAMES:
        return True
    if lname in _NOT_CREDENTIALS:
        return False
    return any(word in lname for word in _CREDENTIAL_WORDS)


def _marker(value: str, scheme: str = "") -> str:
    return f"{scheme} <redacted {len(value)} chars>".strip()


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Lower-case names; replace credential-bearing values with a length-only marker (an
    ``Authorization`` value keeps its scheme, as any ``Bearer``/``Basic`` value does)."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lname = name.lower()
        first, space, _rest = value.strip().partition(" ")
        has_scheme = bool(space) and first.lower() in _SCHEMES
        if has_scheme or is_credential_name(lname):
            keep = has_scheme or (bool(space) and lname in _SCHEME_HEADERS)
            value = _marker(value, first if keep else "")
        out.append((lname, value))
    return out


def redact_query(query: str) -> str:
    """``query`` with the value of every credential-named parameter replaced by a marker."""
    if not query:
        return query
    parts: list[str] = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and is_credential_name(unquote_plus(name)):
            part = f"{name}={_marker(unquote_plus(value))}"
        parts.append(part)
    return "&".join(parts)


@attrs.define(kw_only=True)
class JournalEntry:
    """One HTTP request or WebSocket session as the emulator saw it."""

    seq: int
    started_at: float
    protocol: str  # "http" or "ws"
    http_version: str  # "1.1" or "2"
    scheme: str  # "http" or "https"
    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = attrs.field(factory=list[tuple[str, str]])
    request_id: str = ""
    status: int | None = None
    faults: list[str] = attrs.field(factory=list[str])
    outcome: str = "pending"  # completed | reset | truncated | dropped | closed | error | stalled
    request_bytes: int = 0
    response_bytes: int = 0
    duration_s: float | None = None
    auth: str | None = None  # "bearer" | "subprotocol" | "legacy" | "temporary" | None
    ws_frames_in: int = 0
    ws_audio_bytes: int = 0
    ws_messages_out: int = 0
    close_code: int | None = None
    notes: dict[str, Any] = attrs.field(factory=dict[str, Any])

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key == lname:
                return value
        return None

    def finish(self, outcome: str, status: int | None = None) -> None:
        self.outcome = outcome
        if status is not None:
            self.status = status
        self.duration_s = time.monotonic() - self.started_at

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["headers"] = [list(h) for h in self.headers]
        return data


class Journal:
    """Thread-safe, bounded list of :class:`JournalEntry` (oldest dropped past ``max_entries``)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._lock = threading.Condition()
        self._entries: list[JournalEntry] = []
        self._seq = 0
        self._max = max_entries

    def __repr__(self) -> str:
        return f"Journal({len(self)} entries)"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def open(self, **fields: Any) -> JournalEntry:
        """Start an entry (called by the server as soon as a request's head is parsed)."""
        with self._lock:
            self._seq += 1
            entry = JournalEntry(seq=self._seq, started_at=time.monotonic(), **fields)
            self._entries.append(entry)
            if len(self._entries) > self._max:
                del self._entries[: len(self._entries) - self._max]
            self._lock.notify_all()
            return entry

    def touch(self) -> None:
        """Wake waiters after an entry changed (outcome, status, counters)."""
        with self._lock:
            self._lock.notify_all()

    def entries(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        protocol: str | None = None,
    ) -> list[JournalEntry]:
        """A snapshot, optionally filtered by exact path, method and protocol."""
        with self._lock:
            items = list(self._entries)
        return [
            e
            for e in items
            if (path is None or e.path == path)
            and (method is None or e.method == method.upper())
            and (protocol is None or e.protocol == protocol)
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def wait_for(
        self, predicate: Callable[[list[JournalEntry]], bool], timeout: float = 5.0
    ) -> list[JournalEntry]:
        """Block until ``predicate(entries)`` holds (or raise ``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                items = list(self._entries)
                if predicate(items):
                    return items
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"journal condition not met within {timeout}s")
                self._lock.wait(min(remaining, 0.05))

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [e.to_json() for e in self._entries]
