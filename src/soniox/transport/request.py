"""The request value: what one attempt sends, independent of any HTTP library.

A :class:`Request` is frozen; middleware derive a changed copy with :meth:`Request.evolve`
(``attrs.evolve``), so an attempt can never mutate what the next attempt sends. A body says
whether it can be sent twice (:attr:`Request.replayable`): bytes and body factories can, a one-shot
stream cannot, and the retry middleware never replays one.

No repr shows a credential. A header value appears in a repr (or a log record) only when its name
is on an allowlist *and* is not credential-bearing (:func:`is_credential_header`), and even then it
passes through :func:`soniox.errors.redact`, which masks every registered secret wherever it
appears; every other value shows ``<redacted>``. The reprs of :class:`Headers`,
:class:`RequestOptions` (its ``extra_headers``), :class:`Request` and :class:`URL` are redacted as
a whole too. All of this runs when a repr or a record is made, never on the way to the wire.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Final, TypeAlias, cast
from urllib.parse import urlencode, urlsplit

import attrs

from soniox.errors import ClientValidationError, redact

__all__ = [
    "Headers",
    "HeadersInput",
    "URL",
    "Timeout",
    "StreamBody",
    "RequestBody",
    "RequestOptions",
    "Request",
    "IDEMPOTENT_METHODS",
    "REDACTED",
    "CREDENTIAL_HEADERS",
    "is_credential_header",
]

REDACTED: Final = "<redacted>"
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
"""Methods RFC 9110 defines as idempotent: safe to resend after a lost answer."""

_SAFE_TO_SHOW: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "idempotency-key",
        "retry-after",
        "retry-after-ms",
        "server",
        "transfer-encoding",
        "user-agent",
        "x-request-id",
    }
)
"""Header names whose values a repr or a log record may show; everything else is redacted."""

CREDENTIAL_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
"""Header names that carry credentials (see :func:`is_credential_header` for the whole rule)."""
_CREDENTIAL_WORDS: Final = (
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
_NOT_CREDENTIALS: Final = frozenset({"idempotency-key"})


@functools.lru_cache(maxsize=1024)
def is_credential_header(name: str) -> bool:
    """Whether header ``name`` (any case) may carry a credential, so its value is never shown.

    The rule: a name in :data:`CREDENTIAL_HEADERS`, or any name containing ``key``, ``token``,
    ``secret``, ``auth``, ``password``/``passwd``, ``cookie``, ``session``, ``credential`` or
    ``signature`` (``x-api-key``, ``x-auth-token``, ``x-soniox-webhook-secret``,
    ``www-authenticate`` …) — except ``idempotency-key``, a request's de-duplication id. The
    values of such headers are also registered with :func:`soniox.errors.register_secret` by
    the headers middleware, so they are masked in any text, whatever header carried them.
    """
    lname = name.lower()
    if lname in CREDENTIAL_HEADERS:
        return True
    if lname in _NOT_CREDENTIALS:
        return False
    return any(word in lname for word in _CREDENTIAL_WORDS)


# --- headers -----------------------------------------------------------------------------------

HeadersInput: TypeAlias = "Headers | Mapping[str, str] | Iterable[tuple[str, str]]"


@attrs.frozen(repr=False)
class Headers:
    """An immutable, ordered, case-insensitive multi-map of header fields.

    Names are stored lower-cased (HTTP/2 requires it and lookups stay a plain compare). Every
    "change" returns a new object. ``repr`` shows only allow-listed values (:meth:`redacted`): an
    ``Authorization`` or ``X-Api-Key`` header can never leak through a repr.
    """

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, source: HeadersInput | None = None) -> Headers:
        """Normalise any header input (mapping, pairs, Headers) to Headers."""
        if source is None:
            return EMPTY_HEADERS
        if isinstance(source, Headers):
            return source
        pairs: Iterable[tuple[str, str]] = (
            cast("Mapping[str, str]", source).items() if isinstance(source, Mapping) else source
        )
        return cls(tuple((name.lower(), value) for name, value in pairs))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (case-insensitive), else ``default``."""
        name = name.lower()
        for key, value in self.items:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        name = name.lower()
        return [value for key, value in self.items if key == name]

    def set(self, name: str, value: str) -> Headers:
        """A copy where ``name`` has exactly this one value (appended if it was absent)."""
        name = name.lower()
        kept = tuple(pair for pair in self.items if pair[0] != name)
        return Headers((*kept, (name, value)))

    def add(self, name: str, value: str) -> Headers:
        """A copy with one more ``name: value`` field (multi-valued headers)."""
        return Headers((*self.items, (name.lower(), value)))

    def remove(self, name: str) -> Headers:
        """A copy without any ``name`` field."""
        name = name.lower()
        return Headers(tuple(pair for pair in self.items if pair[0] != name))

    def merge(self, other: HeadersInput) -> Headers:
        """A copy where every name in ``other`` replaces the same name here."""
        extra = Headers.of(other)
        if not extra.items:
            return self
        if not self.items:
            return extra
        replaced = {key for key, _ in extra.items}
        kept = tuple(pair for pair in self.items if pair[0] not in replaced)
        return Headers(kept + extra.items)

    def redacted(self, allow: frozenset[str] = _SAFE_TO_SHOW) -> list[tuple[str, str]]:
        """Pairs fit to show: a value stays only when its name is on ``allow`` and is not
        credential-bearing (:func:`is_credential_header`), and then with registered secrets
        masked (:func:`soniox.errors.redact`); every other value is ``<redacted>``."""
        return [
            (key, redact(value) if key in allow and not is_credential_header(key) else REDACTED)
            for key, value in self.items
        ]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __repr__(self) -> str:
        return redact(f"Headers({self.redacted()!r})")


EMPTY_HEADERS: Final = Headers()


# --- URL ---------------------------------------------------------------------------------------

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@attrs.frozen(repr=False)
class URL:
    """An absolute URL split once: the transport reuses the parts instead of re-parsing.

    ``path`` is the full path on the server (base path included), ``query`` the encoded query
    string without ``?``. Userinfo is not supported (credentials go in headers).
    """

    scheme: str
    host: str
    port: int | None
    path: str = "/"
    query: str = ""

    @classmethod
    def parse(cls, url: str) -> URL:
        """Split an absolute ``http(s)://`` or ``ws(s)://`` URL; anything else is an error."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ClientValidationError(
                f"expected an absolute http(s):// or ws(s):// URL, got {url!r}", field="url"
            )
        if parts.username or parts.password:
            raise ClientValidationError(
                "URLs with user:password are not supported; pass the API key instead",
                field="url",
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise ClientValidationError(f"invalid port in URL {url!r}", field="url") from exc
        return cls(parts.scheme, parts.hostname, port, parts.path or "/", parts.query)

    @property
    def effective_port(self) -> int:
        """The port connected to: the explicit one, else the scheme's default."""
        return self.port if self.port is not None else _DEFAULT_PORTS[self.scheme]

    @property
    def origin(self) -> tuple[str, str, int]:
        """``(scheme, host, port)``: what a connection is keyed by."""
        return (self.scheme, self.host, self.effective_port)

    @property
    def netloc(self) -> str:
        """``host[:port]`` as it goes in the ``Host`` header (default ports omitted)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None or self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def target(self) -> str:
        """The request target: path plus ``?query``."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def join(self, path: str, params: Mapping[str, Any] | None = None) -> URL:
        """This URL's path extended by ``path`` (``/v1`` + ``/models``), with query ``params``.

        ``None`` values in ``params`` are left out; lists repeat the key.
        """
        base = self.path.rstrip("/")
        full = base + (path if path.startswith("/") else "/" + path) if path else self.path
        query = _encode_params(params) if params else ""
        return URL(self.scheme, self.host, self.port, full, query)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.target}"

    def __repr__(self) -> str:
        return redact(f"URL({str(self)!r})")


def _encode_params(params: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, _param(v)) for v in cast("Iterable[object]", value))
        else:
            pairs.append((key, _param(value)))
    return urlencode(pairs)


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- timeouts ----------------------------------------------------------------------------------


def _non_negative_or_none(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 0:
        raise ClientValidationError(
            f"timeout {attribute.name} must be >= 0 seconds or None, got {value!r}",
            field=attribute.name,
        )


@attrs.frozen(cache_hash=True)
class Timeout:
    """Per-attempt limits in seconds; ``None`` means no limit for that phase.

    ``connect``: TCP+TLS set-up; ``read``: between bytes of the answer; ``write``: between bytes
    of the request; ``pool``: waiting for a free connection.
    """

    connect: float | None = attrs.field(default=5.0, validator=_non_negative_or_none)
    read: float | None = attrs.field(default=60.0, validator=_non_negative_or_none)
    write: float | None = attrs.field(default=60.0, validator=_non_negative_or_none)
    pool: float | None = attrs.field(default=10.0, validator=_non_negative_or_none)

    @classmethod
    def of(cls, value: Timeout | float | None) -> Timeout:
        """A Timeout from a Timeout, one number for every phase, or None (no limits)."""
        if isinstance(value, Timeout):
            return value
        return cls(value, value, value, value)

    def clamp(self, remaining: float) -> Timeout:
        """Every phase limited to ``remaining`` seconds (what is left of a deadline)."""
        return Timeout(
            *(remaining if v is None else min(v, remaining) for v in attrs.astuple(self))
        )

    def as_dict(self) -> dict[str, float | None]:
        """The form HTTP libraries take (``{"connect": ..., "read": ..., ...}``)."""
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


# --- bodies ------------------------------------------------------------------------------------

BodySource: TypeAlias = "Iterable[bytes] | AsyncIterable[bytes]"


@attrs.frozen(repr=False)
class StreamBody:
    """A request body sent in chunks, and whether it can be sent again.

    Build one with :meth:`from_factory` (replayable: each attempt calls the factory for a fresh
    iterator), :meth:`from_file` (replayable when the file can seek back) or :meth:`one_shot` (a
    generator or socket: sent once, never retried).
    """

    open: Callable[[], BodySource]
    length: int | None = None
    replayable: bool = True
    _state: list[bool] = attrs.field(factory=lambda: [False], alias="_state", eq=False)

    @classmethod
    def from_factory(
        cls, factory: Callable[[], BodySource], length: int | None = None
    ) -> StreamBody:
        """A replayable body: ``factory()`` returns a fresh chunk iterator per attempt."""
        return cls(factory, length, True)

    @classmethod
    def one_shot(cls, chunks: BodySource, length: int | None = None) -> StreamBody:
        """A body that can be read once (a generator, a pipe): never replayed by retries."""
        used = [False]

        def _open() -> BodySource:
            if used[0]:
                raise ClientValidationError(
                    "a one-shot request body was already sent and cannot be replayed; "
                    "pass bytes, a file or StreamBody.from_factory() to allow retries",
                    field="body",
                )
            used[0] = True
            return chunks

        return cls(_open, length, False, _state=used)

    @classmethod
    def from_file(
        cls, file: IO[bytes] | str | os.PathLike[str], chunk_size: int = 256 * 1024
    ) -> StreamBody:
        """A file body: a path is re-opened per attempt; an open file seeks back if it can."""
        if isinstance(file, str | os.PathLike):
            path = os.fspath(file)
            length = os.path.getsize(path)

            def _open_path() -> Iterator[bytes]:
                with open(path, "rb") as handle:
                    yield from iter(lambda: handle.read(chunk_size), b"")

            return cls(_open_path, length, True)
        handle = file
        seekable = handle.seekable()
        start = handle.tell() if seekable else 0
        length = None
        if seekable:
            length = handle.seek(0, io.SEEK_END) - start
            handle.seek(start)

        def _open_handle() -> Iterator[bytes]:
            if seekable:
                handle.seek(start)
            yield from iter(lambda: handle.read(chunk_size), b"")

        if seekable:
            return cls(_open_handle, length, True)
        return cls.one_shot(_open_handle(), length)

    @property
    def consumed(self) -> bool:
        """True once a one-shot body was opened (it cannot be sent again)."""
        return self._state[0]

    def __repr__(self) -> str:
        kind = "replayable" if self.replayable else "one-shot"
        return f"StreamBody({kind}, length={self.length})"


RequestBody: TypeAlias = "bytes | StreamBody | None"


# --- options and the request -------------------------------------------------------------------


def _to_pairs(value: HeadersInput | None) -> tuple[tuple[str, str], ...]:
    return Headers.of(value).items


@attrs.frozen(repr=False)
class RequestOptions:
    """Per-call knobs that travel with the request through every middleware.

    ``timeout`` is per attempt (None: the transport's default); ``deadline`` is absolute, on the
    transport clock, and spans every attempt and wait of the call; ``max_retries`` overrides the
    retry policy; ``idempotency_key`` makes a POST safe to resend; ``idempotent`` overrides the
    method rule; ``stream`` asks for an unread, streaming response.
    """

    timeout: Timeout | None = None
    deadline: float | None = None
    max_retries: int | None = None
    idempotency_key: str | None = None
    idempotent: bool | None = None
    extra_headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_pairs)
    operation: str | None = None
    stream: bool = False

    def merge(self, other: RequestOptions) -> RequestOptions:
        """``other``'s set fields win; extra headers are merged (``other`` wins per name)."""
        if other is DEFAULT_OPTIONS:
            return self
        if self is DEFAULT_OPTIONS:
            return other
        return RequestOptions(
            timeout=other.timeout if other.timeout is not None else self.timeout,
            deadline=other.deadline if other.deadline is not None else self.deadline,
            max_retries=other.max_retries if other.max_retries is not None else self.max_retries,
            idempotency_key=other.idempotency_key or self.idempotency_key,
            idempotent=other.idempotent if other.idempotent is not None else self.idempotent,
            extra_headers=Headers(self.extra_headers).merge(Headers(other.extra_headers)).items,
            operation=other.operation or self.operation,
            stream=other.stream or self.stream,
        )

    def __repr__(self) -> str:
        # extra_headers may carry a key (``x-api-key``): shown like Headers, then redacted.
        shown: list[str] = []
        for field in attrs.fields(RequestOptions):
            value: object = getattr(self, field.name)
            if field.name == "extra_headers":
                value = Headers(self.extra_headers).redacted()
            shown.append(f"{field.name}={value!r}")
        return redact(f"RequestOptions({', '.join(shown)})")


DEFAULT_OPTIONS: Final = RequestOptions()


@attrs.frozen(repr=False)
class Request:
    """One HTTP request as the middleware stack sees it. ``attempt`` counts from 1."""

    method: str
    url: URL
    headers: Headers = EMPTY_HEADERS
    body: bytes | StreamBody | None = None
    options: RequestOptions = DEFAULT_OPTIONS
    attempt: int = 1

    @property
    def path(self) -> str:
        """The server path (base path included), for logs and routing."""
        return self.url.path

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (no body and bytes always can)."""
        body = self.body
        return not isinstance(body, StreamBody) or body.replayable

    @property
    def idempotent(self) -> bool:
        """Safe to resend after a lost answer: the method says so, or a key or option does."""
        options = self.options
        if options.idempotent is not None:
            return options.idempotent
        return self.method in IDEMPOTENT_METHODS or options.idempotency_key is not None

    @property
    def body_length(self) -> int | None:
        """Body size in bytes when known up front."""
        body = self.body
        if body is None:
            return 0
        if isinstance(body, bytes):
            return len(body)
        return body.length

    def evolve(self, **changes: Any) -> Request:
        """A copy with ``changes`` (``attrs.evolve``)."""
        return attrs.evolve(self, **changes)

    def with_header(self, name: str, value: str) -> Request:
        """A copy with ``name`` set to ``value``."""
        return attrs.evolve(self, headers=self.headers.set(name, value))

    def __repr__(self) -> str:
        body = self.body
        shown = f"<{len(body)} bytes>" if isinstance(body, bytes) else repr(body)
        options = "" if self.options == DEFAULT_OPTIONS else f", options={self.options!r}"
        return redact(
            f"Request({self.method} {self.url}, attempt={self.attempt}, "
            f"headers={self.headers.redacted()!r}, body={shown}{options})"
        )
