"""One attempt's way through a transport, whatever carries it: limits, content-decoding, the
:class:`Response` built from a status line and headers, and the two kinds of lost request.

Both connection engines use it — httpcore's pools (``httpcore_transport``) and the native
HTTP/1.1 lane (``h1``) — so a response, a gzip body or a cut-short body means the same thing
whichever engine carried it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Literal, Protocol, TypeAlias

from soniox.errors import RequestNotSentError, ResponseLostError, SonioxError

from .base import Clock
from .request import Request, Timeout
from .response import RawHeaders, Response

__all__ = ["Exchange", "Lane", "Limits", "lost", "not_sent"]

Lane: TypeAlias = Literal["h1", "h2", "h2c"]
Limits: TypeAlias = tuple[Timeout, Timeout]
"""(this attempt's limits, the limits before the call's deadline clamped them)."""


def _where(request: Request) -> str:
    return f"{request.method} {request.url.scheme}://{request.url.netloc}{request.path}"


def not_sent(request: Request, detail: str) -> RequestNotSentError:
    """The request certainly never reached the server (safe to send again, any method)."""
    return RequestNotSentError(
        f"request not sent ({detail}): {_where(request)}",
        method=request.method,
        url=str(request.url),
    )


def lost(request: Request, detail: str, *, answered: bool) -> ResponseLostError:
    """The request may have been processed: no answer came (``answered=False``), or the answer's
    body was cut short (``answered=True``: it certainly was processed)."""
    what = "response body cut short" if answered else "response lost after the request was sent"
    return ResponseLostError(
        f"{what} ({detail}): {_where(request)}", method=request.method, url=str(request.url)
    )


class Decoder(Protocol):
    def decompress(self, data: bytes, /) -> bytes: ...

    def flush(self) -> bytes: ...


def decoder_for(raw: RawHeaders) -> Decoder | None:
    """A decompressor for the body's ``Content-Encoding`` (gzip, deflate), or None."""
    for key, value in raw:
        if key.lower() == b"content-encoding":
            coding = value.strip().lower()
            if coding == b"gzip" or coding == b"x-gzip":
                return zlib.decompressobj(16 + zlib.MAX_WBITS)
            if coding == b"deflate":
                return zlib.decompressobj()
            return None
    return None


class Exchange:
    """One attempt of one request: its lane and limits, and what becomes of the answer. The
    engines call it once the status line and headers are in, and around a streamed body."""

    __slots__ = ("accept_encoding", "clock", "lane", "limits", "request", "started")

    def __init__(
        self, request: Request, lane: Lane, limits: Limits, clock: Clock, accept_encoding: bool
    ) -> None:
        self.request = request
        self.lane: Lane = lane
        self.limits = limits
        self.clock = clock
        self.accept_encoding = accept_encoding
        self.started = clock.now()

    def undecodable(self, exc: zlib.error) -> ResponseLostError:
        return ResponseLostError(
            f"could not decode the compressed body of {self.request.method} "
            f"{self.request.path}: {exc}",
            method=self.request.method,
            url=str(self.request.url),
        )

    def streams(self, status: int) -> bool:
        """Stream the body to the caller only for successes that asked for it."""
        return status < 400 and self.request.options.stream

    def decoder(self, raw: RawHeaders) -> Decoder | None:
        return decoder_for(raw) if self.accept_encoding else None

    def streaming(
        self,
        status: int,
        raw: RawHeaders,
        http_version: str,
        body: Iterable[bytes] | AsyncIterable[bytes],
        *,
        on_close: Callable[[], None] | None = None,
        on_aclose: Callable[[], Awaitable[None]] | None = None,
    ) -> Response:
        """A response whose ``body`` the caller reads."""
        return Response(
            status,
            self.request,
            http_version,
            self.clock.now() - self.started,
            raw_headers=raw,
            stream=body,
            on_close=on_close,
            on_aclose=on_aclose,
        )

    def read(self, status: int, raw: RawHeaders, http_version: str, data: bytes) -> Response:
        """A response whose body was read whole (``data``, content-encoding still applied)."""
        elapsed = self.clock.now() - self.started
        decoder = self.decoder(raw)
        if decoder is not None:
            try:
                data = decoder.decompress(data) + decoder.flush()
            except zlib.error as exc:
                raise self.undecodable(exc) from exc
        return Response(
            status,
            self.request,
            http_version,
            elapsed,
            raw_headers=raw,
            content=data,
            closed=True,
        )


class BodyDecoding:
    """A streamed body's logic: content-decoding each chunk, the decoder's tail at the end, and
    failures mid-body turned into the request's errors by ``cut``. Engines iterate their own
    stream and pass each chunk through; used as a context manager around that loop."""

    __slots__ = ("_cut", "_decoder", "_exchange")

    def __init__(
        self,
        exchange: Exchange,
        raw: RawHeaders,
        cut: Callable[[BaseException], SonioxError],
    ) -> None:
        self._exchange = exchange
        self._decoder = exchange.decoder(raw)
        self._cut = cut

    def decoded(self, chunk: bytes) -> bytes:
        decoder = self._decoder
        if decoder is None:
            return chunk
        try:
            return decoder.decompress(chunk)
        except zlib.error as exc:
            raise self._exchange.undecodable(exc) from exc

    def tail(self) -> bytes:
        decoder = self._decoder
        if decoder is None:
            return b""
        try:
            return decoder.flush()
        except zlib.error as exc:
            raise self._exchange.undecodable(exc) from exc

    def __enter__(self) -> BodyDecoding:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, Exception) and not isinstance(exc, SonioxError):
            raise self._cut(exc) from exc

    def sync(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The decoded body of a sync engine's ``chunks``."""
        with self:
            for chunk in chunks:
                if out := self.decoded(chunk):
                    yield out
            if tail := self.tail():
                yield tail

    async def asynchronous(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """The decoded body of an async engine's ``chunks``."""
        with self:
            async for chunk in chunks:
                if out := self.decoded(chunk):
                    yield out
            if tail := self.tail():
                yield tail
