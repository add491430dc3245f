"""In-memory state of the async API: uploaded files, transcriptions, and their paginated listing.

Listing is newest first with opaque cursors. A cursor names a *position* (the creation
sequence number of the last item served), not an offset, so it stays valid when items are
deleted between pages; it is signed with a per-process key so a garbage or edited cursor, or a
files cursor replayed on transcriptions, is refused with ``invalid_cursor`` instead of silently
listing the wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

import attrs

from .engines.base import RecognizedToken
from .errors import ApiFailure
from .timefmt import iso_z

__all__ = [
    "MASKED_SECRET",
    "Cursors",
    "Page",
    "Store",
    "StoredFile",
    "StoredTranscription",
    "TranscriptionStatus",
]

MASKED_SECRET = "******************"  # noqa: S105 (a mask, not a password)
"""How ``webhook_auth_header_value`` is always returned."""


class TranscriptionStatus:
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERROR = "error"
    TERMINAL = frozenset({COMPLETED, ERROR})


@attrs.define(kw_only=True)
class StoredFile:
    """An uploaded file: metadata as the API shows it plus where its bytes live."""

    id: str
    seq: int
    filename: str
    size: int
    created_at: datetime
    path: Path
    client_reference_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "size": self.size,
            "created_at": iso_z(self.created_at),
            "client_reference_id": self.client_reference_id,
        }


@attrs.define(kw_only=True)
class StoredTranscription:
    """One async job. Mutated only on the event loop by the REST app and its job runner."""

    id: str
    seq: int
    created_at: datetime
    model: str
    filename: str
    audio_url: str | None = None
    file_id: str | None = None
    language_hints: tuple[str, ...] | None = None
    language_hints_strict: bool | None = None
    enable_speaker_diarization: bool = False
    enable_language_identification: bool = False
    translation: dict[str, str] | None = None
    context: str | dict[str, Any] | None = None
    webhook_url: str | None = None
    webhook_auth_header_name: str | None = None
    webhook_auth_header_value: str | None = attrs.field(default=None, repr=False)
    webhook_status_code: int | None = None
    client_reference_id: str | None = None
    status: str = TranscriptionStatus.QUEUED
    audio_duration_ms: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    tokens: list[RecognizedToken] | None = attrs.field(default=None, repr=False)
    text: str | None = attrs.field(default=None, repr=False)
    audio_path: Path | None = None
    """The job's private copy of its audio (removed once the job is finished)."""
    processing_started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TranscriptionStatus.TERMINAL

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "created_at": iso_z(self.created_at),
            "model": self.model,
            "audio_url": self.audio_url,
            "file_id": self.file_id,
            "filename": self.filename,
            "language_hints": list(self.language_hints)
            if self.language_hints is not None
            else None,
            "enable_speaker_diarization": self.enable_speaker_diarization,
            "enable_language_identification": self.enable_language_identification,
            "context": self.context,
            "audio_duration_ms": self.audio_duration_ms,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "webhook_url": self.webhook_url,
            "webhook_auth_header_name": self.webhook_auth_header_name,
            "webhook_auth_header_value": (
                MASKED_SECRET if self.webhook_auth_header_value is not None else None
            ),
            "webhook_status_code": self.webhook_status_code,
            "client_reference_id": self.client_reference_id,
        }

    def transcript_json(self) -> dict[str, Any]:
        """The transcript as the API answers it: ``text`` is the tokens joined, and the first
        token has no leading space (the API's example: ``"Hel"``, ``"lo"`` → ``"Hello"``)."""
        tokens: list[dict[str, Any]] = []
        for token in self.tokens or []:
            item = token.to_json()
            # The async transcript schema requires timing and confidence on every token.
            item.setdefault("start_ms", 0)
            item.setdefault("end_ms", item["start_ms"])
            item.setdefault("confidence", 1.0)
            tokens.append(item)
        if tokens and isinstance(tokens[0].get("text"), str):
            tokens[0]["text"] = tokens[0]["text"].lstrip()
        return {"id": self.id, "text": self.text or "", "tokens": tokens}


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


T = TypeVar("T", bound=_Sequenced)


@attrs.frozen
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class Cursors:
    """Signed, opaque position cursors: ``base64url(json).base64url(hmac)``."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def __repr__(self) -> str:
        return "Cursors(<key>)"

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[:16]

    @staticmethod
    def _b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    @staticmethod
    def _unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    def encode(self, kind: str, position: Sequence[str | int]) -> str:
        data = json.dumps({"k": kind, "p": list(position)}, separators=(",", ":")).encode()
        return f"{self._b64(data)}.{self._b64(self._mac(data))}"

    def decode(self, kind: str, cursor: str) -> list[str | int]:
        """The position inside ``cursor``; 400 ``invalid_cursor`` if it is not one of ours."""
        try:
            data_part, _, mac_part = cursor.partition(".")
            data = self._unb64(data_part)
            if not hmac.compare_digest(self._unb64(mac_part), self._mac(data)):
                raise ValueError("bad signature")
            decoded: object = json.loads(data)
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            payload = cast(dict[str, object], decoded)
            position = payload.get("p")
            if payload.get("k") != kind or not isinstance(position, list):
                raise ValueError("wrong cursor kind")
            items: list[str | int] = []
            for item in cast(list[object], position):
                if not isinstance(item, str | int):
                    raise ValueError("bad position")
                items.append(item)
            return items
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiFailure(400, "invalid_cursor") from None


class Store:
    """Files and transcriptions by id, with creation order kept for listing."""

    def __init__(self, cursors: Cursors | None = None) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self.cursors = cursors if cursors is not None else Cursors()
        self._files: dict[str, StoredFile] = {}
        self._transcriptions: dict[str, StoredTranscription] = {}

    def __repr__(self) -> str:
        return f"Store({len(self._files)} files, {len(self._transcriptions)} transcriptions)"

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    # Files ------------------------------------------------------------------------------------
    def add_file(self, record: StoredFile) -> None:
        with self._lock:
            self._files[record.id] = record

    def get_file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def remove_file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.pop(file_id, None)

    def file_count(self) -> int:
        with self._lock:
            return len(self._files)

    def files(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    # Transcriptions ----------------------------------------------------------------------------
    def add_transcription(self, record: StoredTranscription) -> None:
        with self._lock:
            self._transcriptions[record.id] = record

    def get_transcription(self, transcription_id: str) -> StoredTranscription | None:
        with self._lock:
            return self._transcriptions.get(transcription_id)

    def remove_transcription(self, transcription_id: str) -> StoredTranscription | None:
        with self._lock:
            return self._transcriptions.pop(transcription_id, None)

    def transcriptions(self) -> list[StoredTranscription]:
        with self._lock:
            return list(self._transcriptions.values())

    def count_transcriptions(
        self, predicate: Callable[[StoredTranscription], bool] | None = None
    ) -> int:
        with self._lock:
            if predicate is None:
                return len(self._transcriptions)
            return sum(1 for t in self._transcriptions.values() if predicate(t))

    # Listing -----------------------------------------------------------------------------------
    def page(self, kind: str, items: Sequence[T], limit: int, cursor: str | None) -> Page[T]:
        """Newest-first page of ``items`` after ``cursor`` (signed for ``kind``)."""
        ordered = sorted(items, key=lambda item: item.seq, reverse=True)
        if cursor:
            position = self.cursors.decode(kind, cursor)
            if len(position) != 1 or not isinstance(position[0], int):
                raise ApiFailure(400, "invalid_cursor")
            after = position[0]
            ordered = [item for item in ordered if item.seq < after]
        chunk = ordered[:limit]
        more = len(ordered) > limit
        next_cursor = self.cursors.encode(kind, [chunk[-1].seq]) if more and chunk else None
        return Page(chunk, next_cursor)
