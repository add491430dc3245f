"""Request journal: what the emulator received, how it answered, and which faults fired.

Tests assert on it instead of on timing: "the second POST /v1/transcriptions was reset after it
was processed", "this upload travelled over HTTP/2", "the WebSocket authenticated with the
subprotocol". Secrets never enter it: the ``authorization`` header is stored redacted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

__all__ = ["Journal", "JournalEntry", "redact_headers"]

_REDACTED_HEADERS = frozenset({"authorization", "sec-websocket-protocol", "cookie"})


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Lower-case names; replace credential-bearing values with a length-only marker."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lname = name.lower()
        if lname in _REDACTED_HEADERS:
            scheme = value.split(" ", 1)[0] if lname == "authorization" and " " in value else ""
            value = f"{scheme} <redacted {len(value)} chars>".strip()
        out.append((lname, value))
    return out


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
