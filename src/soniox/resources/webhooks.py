"""``client.webhooks``: check and parse the webhook Soniox POSTs when a job ends.

Soniox does not sign webhooks: it adds the header you configured when creating the job
(``webhook_auth_header_name`` / ``_value``) to its request. So a receiver must compare that header
with the secret, and this module does, in constant time (:func:`hmac.compare_digest`) with a
case-insensitive header lookup.

Configuration: a per-call ``auth=WebhookAuthConfig(name, value)``, else the ``secret`` and
``header_name`` given to :class:`Webhooks` (the client's ``webhook_secret`` /
``webhook_signature_header``), else the environment (``SONIOX_API_WEBHOOK_SECRET``,
``SONIOX_API_WEBHOOK_HEADER``), else the header name ``X-Soniox-Webhook-Secret``.

With no secret anywhere, the official SDK lets every request through, and so does this one — code
written for it keeps working — but it logs a warning on the ``soniox.webhooks`` logger (once per
:class:`Webhooks`; a log record, not a ``warnings`` warning, so ``-W error`` cannot turn it into a
failure the official SDK would not have), and ``Webhooks(require_secret=True)`` (or ``SonioxConfig(
webhook_require_secret=True)``) refuses instead with
:class:`~soniox.errors.WebhookNotConfiguredError`: what a production receiver should do. The
secret never appears in a repr or an error: every secret this module is given or reads (the
argument, the environment's, a per-call ``auth.value``) is registered with
:func:`soniox.errors.register_secret`, so it is masked in any text. No I/O: the same object
serves both clients.

::

    hooks = Webhooks(secret=os.environ["MY_WEBHOOK_SECRET"])
    create_args = hooks.webhook_payload("https://example.com/soniox-hook?job=42")
    ...
    event = hooks.unwrap(request_body, request_headers)   # WebhookSignatureError if forged
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, TypeAlias, cast
from urllib.parse import urlsplit

from soniox.errors import (
    ClientValidationError,
    DecodeError,
    WebhookNotConfiguredError,
    WebhookSignatureError,
    register_secret,
)
from soniox.types import WebhookAuthConfig, WebhookEvent, loads, structure

__all__ = [
    "DEFAULT_WEBHOOK_HEADER",
    "SECRET_ENV",
    "HEADER_ENV",
    "WebhookHeaders",
    "WebhookNotConfiguredError",
    "Webhooks",
]

DEFAULT_WEBHOOK_HEADER: Final = "X-Soniox-Webhook-Secret"
HEADER_ENV: Final = "SONIOX_API_WEBHOOK_HEADER"
SECRET_ENV: Final = "SONIOX_API_WEBHOOK_SECRET"  # noqa: S105 - a variable name


class _HasItems(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


WebhookHeaders: TypeAlias = "Mapping[str, str] | _HasItems | Iterable[tuple[str, str]]"
"""Request headers in any common form: a dict, ``http.server``'s ``HTTPMessage``, a framework's
headers object (anything with ``items()``), or ``(name, value)`` pairs."""


log = logging.getLogger("soniox.webhooks")


def _header(headers: WebhookHeaders, name: str) -> str | None:
    """The first value of header ``name``, compared case-insensitively."""
    pairs: Iterable[tuple[str, str]]
    if hasattr(headers, "items"):
        pairs = cast(_HasItems, headers).items()
    else:
        pairs = cast("Iterable[tuple[str, str]]", headers)
    wanted = name.lower()
    for key, value in pairs:
        if key.lower() == wanted:
            return value
    return None


class Webhooks:
    """Verifies and parses Soniox webhook requests; builds the ``webhook_*`` create fields.

    ``secret`` and ``header_name`` default to the environment, read at each call (so a client
    made before the variables were set still sees them).
    """

    __slots__ = ("_environ", "_header_name", "_require_secret", "_secret", "_warned")

    def __init__(
        self,
        secret: str | None = None,
        header_name: str | None = None,
        *,
        require_secret: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if secret is not None and not secret:
            raise ClientValidationError("secret must be a non-empty string", field="secret")
        if header_name is not None and not header_name.strip():
            raise ClientValidationError(
                "header_name must be a non-empty string", field="header_name"
            )
        if secret is not None:
            register_secret(secret)
        self._secret = secret
        self._header_name = header_name
        self._require_secret = require_secret
        self._environ = environ
        self._warned = False

    # --- configuration ----------------------------------------------------------------------------
    def _env(self) -> Mapping[str, str]:
        return self._environ if self._environ is not None else os.environ

    @property
    def header_name(self) -> str:
        """The header carrying the secret: the argument, else ``SONIOX_API_WEBHOOK_HEADER``,
        else ``X-Soniox-Webhook-Secret``."""
        return (
            self._header_name or self._env().get(HEADER_ENV, "").strip() or DEFAULT_WEBHOOK_HEADER
        )

    def _resolved_secret(self) -> str | None:
        secret = self._secret or self._env().get(SECRET_ENV) or None
        if secret is not None and secret is not self._secret:
            register_secret(secret)  # the environment's, read now
        return secret

    def _auth(self, auth: WebhookAuthConfig | None) -> WebhookAuthConfig | None:
        """The header to check: ``auth`` if given, else the configured one (None: no secret)."""
        if auth is not None:
            register_secret(auth.value)
            return auth
        secret = self._resolved_secret()
        return None if secret is None else WebhookAuthConfig(name=self.header_name, value=secret)

    @property
    def configured(self) -> bool:
        """True when a secret is set (argument or environment)."""
        return self._resolved_secret() is not None

    def with_secret(
        self, secret: str, header_name: str | None = None, *, require_secret: bool | None = None
    ) -> Webhooks:
        """A copy configured with ``secret`` (and ``header_name``, else this one's)."""
        return Webhooks(
            secret,
            header_name if header_name is not None else self._header_name,
            require_secret=self._require_secret if require_secret is None else require_secret,
            environ=self._environ,
        )

    # --- receiving --------------------------------------------------------------------------------
    def verify(self, headers: WebhookHeaders, *, auth: WebhookAuthConfig | None = None) -> None:
        """Check the auth header in constant time; :class:`~soniox.errors.WebhookSignatureError`
        when it is missing or wrong. With no secret configured and no ``auth``: accepted, with a
        logged warning (as the official SDK accepts it), or
        :class:`~soniox.errors.WebhookNotConfiguredError` under ``require_secret``."""
        expected = self._auth(auth)
        if expected is None:
            if self._require_secret:
                raise WebhookNotConfiguredError(
                    "no webhook secret is configured, so the request cannot be verified: pass "
                    f"webhook_secret=... / Webhooks(secret=...) or set {SECRET_ENV}",
                    field="secret",
                )
            if not self._warned:
                self._warned = True
                log.warning(
                    "accepting a webhook without checking it: no webhook secret is configured "
                    "(set %s, or pass webhook_secret=...; require_secret=True refuses such "
                    "requests)",
                    SECRET_ENV,
                )
            return
        name = expected.name
        received = _header(headers, name)
        if received is None:
            raise WebhookSignatureError(
                f"the webhook request has no {name} header", header_name=name
            )
        # compare_digest on bytes: constant time for any characters (on str it needs ASCII).
        if not hmac.compare_digest(
            received.encode("utf-8", "surrogateescape"),
            expected.value.encode("utf-8", "surrogateescape"),
        ):
            raise WebhookSignatureError(
                f"the webhook request's {name} header does not match the configured secret",
                header_name=name,
            )

    def verify_signature(
        self, headers: WebhookHeaders, *, auth: WebhookAuthConfig | None = None
    ) -> None:
        """The official SDK's name for :meth:`verify`."""
        self.verify(headers, auth=auth)

    def unwrap(
        self,
        payload: bytes | bytearray | str | Mapping[str, Any],
        headers: WebhookHeaders,
        *,
        auth: WebhookAuthConfig | None = None,
    ) -> WebhookEvent:
        """Verify ``headers``, then parse the body into a :class:`~soniox.types.WebhookEvent`.

        ``payload`` is the raw body (bytes or text) or JSON already parsed by a framework.
        A body that is not ``{"id": <non-empty string>, "status": <string>}`` raises
        :class:`~soniox.errors.DecodeError`; a status added to the API later parses as an
        unknown :class:`~soniox.types.TranscriptionStatus` value.
        """
        self.verify(headers, auth=auth)
        if isinstance(payload, Mapping):
            event = structure(payload, WebhookEvent)
        else:
            data = payload.encode() if isinstance(payload, str) else bytes(payload)
            event = loads(data, WebhookEvent)
        if not event.id.strip():
            raise DecodeError("cannot read WebhookEvent: id is empty", expected="WebhookEvent")
        return event

    # --- sending ----------------------------------------------------------------------------------
    def webhook_payload(self, url: str, *, auth: WebhookAuthConfig | None = None) -> dict[str, str]:
        """The ``webhook_url`` / ``webhook_auth_header_name`` / ``_value`` fields of a create
        request, so Soniox sends the header :meth:`verify` expects (``auth``'s, else the
        configured one). Without a secret only ``webhook_url`` is returned."""
        parts = urlsplit(url) if isinstance(url, str) else None  # pyright: ignore[reportUnnecessaryIsInstance]
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ClientValidationError(
                f"webhook_url must be an absolute http(s) URL, got {url!r}", field="webhook_url"
            )
        fields = {"webhook_url": url}
        expected = self._auth(auth)
        if expected is not None:
            fields["webhook_auth_header_name"] = expected.name
            fields["webhook_auth_header_value"] = expected.value
        return fields

    def __repr__(self) -> str:
        state = "configured" if self.configured else "not configured"
        extra = ", require_secret=True" if self._require_secret else ""
        return f"Webhooks(header_name={self.header_name!r}, secret={state}{extra})"
