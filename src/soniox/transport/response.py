"""The response value: status, headers and a body that is either read or still streaming.

By default the transport reads the whole body before returning (small JSON answers, and error
bodies the retry and error layers need). With ``RequestOptions(stream=True)`` a successful answer
comes back unread; iterate it (``iter_bytes`` / ``aiter_bytes``) or ``read()`` it, and close it —
a ``with`` block does that.
"""

from __future__ import annotations

import http
import json
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from types import TracebackType
from typing import Any

import attrs

from soniox.errors import error_from_response, redact

from .request import Headers, HeadersInput, Request

__all__ = ["Response", "ResponseNotReadError", "RawHeaders"]

RawHeaders = Sequence[tuple[bytes, bytes]]
"""Header pairs as the wire gives them; decoded into :class:`Headers` only when looked at."""


class ResponseNotReadError(RuntimeError):
    """``content`` of a streaming response was used before ``read()`` / ``aread()``."""


def _decode_raw(raw: RawHeaders) -> Headers:
    return Headers(tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw))


@attrs.define(repr=False, eq=False)
class Response:
    """One HTTP answer. ``elapsed`` is seconds from send to the body being read (or headers,
    for a streaming response); ``http_version`` is ``"HTTP/1.1"``, ``"HTTP/2"`` or ``"memory"``.
    """

    status: int
    request: Request
    http_version: str = "HTTP/1.1"
    elapsed: float = 0.0
    _headers: Headers | None = attrs.field(default=None, alias="headers")
    _raw_headers: RawHeaders | None = attrs.field(default=None, alias="raw_headers")
    _content: bytes | None = attrs.field(default=None, alias="content")
    _stream: Iterable[bytes] | AsyncIterable[bytes] | None = attrs.field(
        default=None, alias="stream"
    )
    _on_close: Callable[[], None] | None = attrs.field(default=None, alias="on_close")
    _on_aclose: Callable[[], Awaitable[None]] | None = attrs.field(default=None, alias="on_aclose")
    _closed: bool = attrs.field(default=False, alias="closed")

    @classmethod
    def build(
        cls,
        status: int,
        request: Request,
        *,
        headers: HeadersInput | None = None,
        content: bytes | None = None,
        json_body: Any = None,
        http_version: str = "memory",
    ) -> Response:
        """A fully read response (for in-memory transports and tests)."""
        hdrs = Headers.of(headers)
        if json_body is not None:
            content = json.dumps(json_body).encode()
            if "content-type" not in hdrs:
                hdrs = hdrs.add("content-type", "application/json")
        return cls(status, request, http_version, headers=hdrs, content=content or b"", closed=True)

    # --- metadata ---------------------------------------------------------------------------
    @property
    def headers(self) -> Headers:
        """Response headers (decoded from the wire on first use)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _decode_raw(self._raw_headers or ())
        return headers

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def status_code(self) -> int:
        """``status`` under httpx's name (what code written for the official SDK reads)."""
        return self.status

    @property
    def reason_phrase(self) -> str:
        """The standard phrase of the status (``"Not Found"``), as httpx gives it."""
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def raise_for_status(self) -> Response:
        """Raise the typed :class:`~soniox.errors.SonioxAPIError` of an error status (>= 400);
        returns the response otherwise, as httpx does. A streamed body is read first."""
        if self.status >= 400:
            raise error_from_response(
                self.status,
                self.headers,
                self.content if self.is_stream_consumed else None,
                reason=self.reason_phrase,
                response=self,
            )
        return self

    @property
    def is_stream_consumed(self) -> bool:
        """True once the body was read or closed."""
        return self._content is not None or self._closed

    # --- body -------------------------------------------------------------------------------
    @property
    def content(self) -> bytes:
        """The whole body; a streaming response must be ``read()`` first."""
        if self._content is None:
            raise ResponseNotReadError(
                "this is a streaming response: call read() / aread() or iterate it first"
            )
        return self._content

    @property
    def text(self) -> str:
        """The body decoded with the charset from ``Content-Type`` (default UTF-8)."""
        charset = "utf-8"
        ctype = self.headers.get("content-type") or ""
        for part in ctype.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        return self.content.decode(charset, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (plain Python data)."""
        return json.loads(self.content)

    # The sync and async forms below are shells: which stream they may consume is decided once
    # (_sync_stream / _async_stream, None when the body was read already), and they only make
    # the blocking or awaited calls, closing the response when the body ends or breaks.
    def _sync_stream(self, instead: str) -> Iterable[bytes] | None:
        if self._content is not None:
            return None
        if isinstance(self._stream, Iterable):
            return self._stream
        raise TypeError(f"this response streams asynchronously: use {instead}()")

    def _async_stream(self, instead: str) -> AsyncIterable[bytes] | None:
        if self._content is not None:
            return None
        if isinstance(self._stream, AsyncIterable):
            return self._stream
        raise TypeError(f"this response streams synchronously: use {instead}()")

    def read(self) -> bytes:
        """Read the rest of a streaming body and close it; returns the whole body."""
        stream = self._sync_stream("aread")
        if stream is not None:
            try:
                self._content = b"".join(stream)
            finally:
                self.close()
        return self.content

    async def aread(self) -> bytes:
        """``read()`` for a response from ``asend``."""
        stream = self._async_stream("read")
        if stream is not None:
            try:
                self._content = b"".join([chunk async for chunk in stream])
            finally:
                await self.aclose()
        return self.content

    def iter_bytes(self) -> Iterator[bytes]:
        """Body chunks as they arrive (the whole body at once if it was already read)."""
        stream = self._sync_stream("aiter_bytes")
        if stream is None:
            yield from self._read_whole()
            return
        try:
            yield from stream
        finally:
            self.close()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """``iter_bytes()`` for a response from ``asend``."""
        stream = self._async_stream("iter_bytes")
        if stream is None:
            for chunk in self._read_whole():
                yield chunk
            return
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await self.aclose()

    def _read_whole(self) -> tuple[bytes, ...]:
        """A body that was read already, as chunks (none when it is empty)."""
        content = self.content
        return (content,) if content else ()

    def close(self) -> None:
        """Release the connection. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close()

    async def aclose(self) -> None:
        """``close()`` for a response from ``asend``."""
        if not self._closed:
            self._closed = True
            if self._on_aclose is not None:
                await self._on_aclose()
            elif self._on_close is not None:
                self._on_close()

    def evolve(self, **changes: Any) -> Response:
        """A copy with ``changes`` (the body, read or not, is shared)."""
        return attrs.evolve(self, **changes)

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        body = "streaming" if self._content is None else f"{len(self._content)} bytes"
        req = self.request
        # Headers stay out (see ``headers``' own repr); the path is redacted like every repr.
        return redact(
            f"<Response {self.status} {req.method} {req.url.path} {self.http_version} {body}>"
        )
