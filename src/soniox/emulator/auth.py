"""Who may call the emulator: permanent API keys and the temporary keys minted over REST.

Shared by the REST application (bearer check, ``POST /v1/auth/temporary-api-key``) and the
realtime endpoint (key on the upgrade, in the subprotocol, or legacy in the config message).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

import attrs

from .limits import account_of

__all__ = ["AuthResult", "Authenticator", "TemporaryKey"]


@attrs.frozen(repr=False)
class TemporaryKey:
    """A minted ``temp:`` key and the limits it carries."""

    key: str
    usage_type: str
    expires_at: datetime
    client_reference_id: str | None = None
    single_use: bool = False
    max_session_duration_seconds: int | None = None
    account: str = ""
    """The account (a digest of the key that minted it) its use counts against."""

    def __repr__(self) -> str:
        return f"TemporaryKey(usage_type={self.usage_type!r}, expires_at={self.expires_at.isoformat()})"


@attrs.frozen
class AuthResult:
    """Outcome of a key check. ``reason`` is safe to show (never contains the key)."""

    ok: bool
    temporary: TemporaryKey | None = None
    reason: str = ""
    account: str = ""
    """Whose limits the request counts against (a digest, never the key)."""


class Authenticator:
    """Constant-time key checks; temporary keys expire, may be single-use, and are scoped."""

    def __init__(self, api_keys: tuple[str, ...]) -> None:
        self._api_keys = tuple(k.encode() for k in api_keys)
        self._lock = threading.Lock()
        self._temporary: dict[str, TemporaryKey] = {}
        self._used: set[str] = set()

    def __repr__(self) -> str:
        return f"Authenticator({len(self._api_keys)} key(s), {len(self._temporary)} temporary)"

    def is_api_key(self, key: str) -> bool:
        candidate = key.encode()
        # Compare against every key so timing does not reveal which one (or none) matched.
        matched = False
        for known in self._api_keys:
            matched |= hmac.compare_digest(candidate, known)
        return matched

    def check_bearer(self, authorization: str | None) -> AuthResult:
        """REST: ``Authorization: Bearer <permanent key>``. Temporary keys are not REST keys."""
        if not authorization:
            return AuthResult(False, reason="missing Authorization header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AuthResult(False, reason="Authorization header is not a bearer token")
        if self.is_api_key(token.strip()):
            return AuthResult(True, account=account_of(token.strip()))
        return AuthResult(False, reason="unknown API key")

    def issue_temporary(
        self,
        *,
        usage_type: str,
        expires_in_seconds: int,
        client_reference_id: str | None = None,
        single_use: bool = False,
        max_session_duration_seconds: int | None = None,
        account: str = "",
    ) -> TemporaryKey:
        temp = TemporaryKey(
            key="temp:" + secrets.token_urlsafe(24),
            usage_type=usage_type,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in_seconds),
            client_reference_id=client_reference_id,
            single_use=single_use,
            max_session_duration_seconds=max_session_duration_seconds,
            account=account,
        )
        with self._lock:
            self._temporary[temp.key] = temp
        return temp

    def check_stream_key(self, key: str, usage_type: str = "transcribe_websocket") -> AuthResult:
        """Realtime: a permanent key, or an unexpired temporary key for ``usage_type``.

        A single-use temporary key is consumed by the first successful check.
        """
        if self.is_api_key(key):
            return AuthResult(True, account=account_of(key))
        with self._lock:
            temp = self._temporary.get(key)
            if temp is None:
                return AuthResult(False, reason="unknown API key")
            if temp.usage_type != usage_type:
                return AuthResult(False, temp, reason=f"temporary key is for {temp.usage_type}")
            if temp.expires_at <= datetime.now(UTC):
                return AuthResult(False, temp, reason="temporary API key expired")
            if temp.single_use:
                if key in self._used:
                    return AuthResult(
                        False, temp, reason="single-use temporary API key already used"
                    )
                self._used.add(key)
            return AuthResult(True, temp, account=temp.account)

    @staticmethod
    def now() -> float:
        return time.time()
