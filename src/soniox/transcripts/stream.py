"""Stream a transcript's tokens one at a time, with flat memory, through the client's stack.

``GET /v1/transcriptions/{id}/transcript`` of a long recording is tens of megabytes. Instead of
reading it whole, :func:`iter_transcript_tokens` sends the request through the client's
middleware (auth, retry, logging ...) with ``stream=True``, feeds each arriving chunk to a
:class:`~soniox.transcripts.TranscriptParser` and yields typed tokens as they complete.

If the connection drops mid-body (:class:`~soniox.errors.ResponseLostError`, read timeouts
included), the download resumes: a transcript never changes, so the request is sent again and
the tokens already yielded are skipped (at most ``max_resumes`` times). Errors before the body
(404 unknown id, 409 not completed yet or failed) raise the usual typed errors from the first
``next()``.

The logic lives once, in :class:`_Download` (the request, parsing and counting, the resume
policy); the sync and async iterators are thin shells that only make the I/O calls — send the
request, read the body, close it — blocking or awaited.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

from soniox.errors import ClientValidationError, ResponseLostError
from soniox.flows.protocol import AsyncApiClient, SyncApiClient
from soniox.middleware import Flow, sleep
from soniox.transport.response import Response
from soniox.types import TranscriptionTranscriptToken

from ._parser import TranscriptParser

__all__ = [
    "AsyncTranscriptTokenStream",
    "TranscriptTokenStream",
    "aiter_transcript_tokens",
    "iter_transcript_tokens",
]

Token = TranscriptionTranscriptToken
_RESUME_DELAY_S: Final = 0.25
_RESUME_DELAY_MAX_S: Final = 2.0


class _Download:
    """What both iterators share: the request, a parser per attempt, the count of tokens handed
    out, the resume policy. Per attempt a shell calls :meth:`open`, then, inside ``with
    download.attempt():``, feeds each chunk of the body (:meth:`feed`) and calls :meth:`end`;
    after the last attempt it hands out :meth:`last_tokens`."""

    __slots__ = (
        "client",
        "count",
        "keep_text",
        "max_resumes",
        "parser",
        "resumes",
        "tail",
        "transcription_id",
    )

    def __init__(
        self,
        client: SyncApiClient | AsyncApiClient,
        transcription_id: str,
        *,
        keep_text: bool,
        max_resumes: int,
    ) -> None:
        if not isinstance(transcription_id, str) or not transcription_id.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ClientValidationError(
                "transcription_id must be a non-empty string", field="transcription_id"
            )
        if max_resumes < 0:
            raise ClientValidationError("max_resumes must be >= 0", field="max_resumes")
        self.client = client
        self.transcription_id = transcription_id
        self.keep_text = keep_text
        self.max_resumes = max_resumes
        self.resumes = 0
        self.count = 0
        self.parser: TranscriptParser[Token] = TranscriptParser(Token, keep_text=keep_text)
        self.tail: list[Token] | None = None
        """The tokens the end of the body completed; None until the body was read whole."""

    def open(self) -> Flow[Response]:
        """Send the request (after a short pause when resuming); a fresh parser goes with it."""
        if self.resumes:
            yield from sleep(min(_RESUME_DELAY_S * 2 ** (self.resumes - 1), _RESUME_DELAY_MAX_S))
        client = self.client
        path = f"/transcriptions/{quote(self.transcription_id, safe='')}/transcript"
        request = client.build_request("GET", path, operation="stt.iter_tokens", stream=True)
        return (yield from client.call(request))

    def attempt(self) -> _Attempt:
        """Around reading one response: a body cut short resumes (see :meth:`lost`)."""
        return _Attempt(self)

    def feed(self, chunk: bytes) -> Iterator[Token]:
        """The tokens ``chunk`` completes, each counted as it is handed out."""
        return self._counted(self.parser.feed(chunk))

    def end(self) -> None:
        """The body ended: its last tokens become :attr:`tail` (DecodeError if incomplete)."""
        self.tail = self.parser.close()

    def last_tokens(self) -> Iterator[Token]:
        """The tail, counted (after the response was released)."""
        return self._counted(self.tail or [])

    def _counted(self, tokens: list[Token]) -> Iterator[Token]:
        for token in tokens:
            self.count += 1
            yield token

    def lost(self, exc: ResponseLostError) -> None:
        """The body broke off after :attr:`count` tokens: resume (a fresh parser skipping those
        tokens), or re-raise when out of tries."""
        if self.resumes >= self.max_resumes:
            raise exc
        self.resumes += 1
        previous = self.parser
        self.parser = TranscriptParser(Token, keep_text=self.keep_text, skip=self.count)
        self.parser.id = previous.id
        self.parser.text = previous.text

    def __repr__(self) -> str:
        return (
            f"transcription_id={self.transcription_id!r}, resumes={self.resumes}/"
            f"{self.max_resumes}, {self.parser!r}"
        )


class _Attempt:
    """``with download.attempt():`` — a :class:`ResponseLostError` inside is either swallowed
    (the download will resume: the shell opens the request again) or re-raised when out of
    tries. Other failures, and the shell being closed early, pass through."""

    __slots__ = ("_download",)

    def __init__(self, download: _Download) -> None:
        self._download = download

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, ResponseLostError):
            self._download.lost(exc)
            return True
        return False


class _StreamInfo:
    """The attributes both stream classes show while and after iterating."""

    _download: _Download

    @property
    def count(self) -> int:
        """Tokens handed out so far."""
        return self._download.count

    @property
    def id(self) -> str:
        """The transcript's id (from the body once read; the requested id before)."""
        return self._download.parser.id or self._download.transcription_id

    @property
    def text(self) -> str | None:
        """The whole transcript text: only with ``keep_text=True``, once the parser passed it."""
        return self._download.parser.text

    @property
    def resumes(self) -> int:
        """How many times a dropped connection was resumed."""
        return self._download.resumes

    def __repr__(self) -> str:
        return f"{type(self).__name__}(count={self.count}, {self._download!r})"


class TranscriptTokenStream(_StreamInfo, Iterator[Token]):
    """The tokens of a transcript, parsed as the body arrives. Iterate it once; ``close()`` (or
    a ``with`` block) releases the connection when you stop early. ``count``: tokens so far."""

    def __init__(self, client: SyncApiClient, download: _Download) -> None:
        self._client = client
        self._download = download
        self._tokens = self._generate()

    def _generate(self) -> Generator[Token, None, None]:
        download = self._download
        while download.tail is None:
            response = self._client.run(download.open())
            with download.attempt(), response:
                for chunk in response.iter_bytes():
                    yield from download.feed(chunk)
                download.end()
        yield from download.last_tokens()

    def __next__(self) -> Token:
        return next(self._tokens)

    def __iter__(self) -> TranscriptTokenStream:
        return self

    def close(self) -> None:
        """Stop early and release the connection. Idempotent."""
        self._tokens.close()

    def __enter__(self) -> TranscriptTokenStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTranscriptTokenStream(_StreamInfo, AsyncIterator[Token]):
    """:class:`TranscriptTokenStream` for the async client (``async for``, ``aclose()``)."""

    def __init__(self, client: AsyncApiClient, download: _Download) -> None:
        self._client = client
        self._download = download
        self._tokens = self._generate()

    async def _generate(self) -> AsyncGenerator[Token, None]:
        download = self._download
        while download.tail is None:
            response = await self._client.arun(download.open())
            with download.attempt():
                async with response:
                    async for chunk in response.aiter_bytes():
                        for token in download.feed(chunk):
                            yield token
                    download.end()
        for token in download.last_tokens():
            yield token

    async def __anext__(self) -> Token:
        return await anext(self._tokens)

    def __aiter__(self) -> AsyncTranscriptTokenStream:
        return self

    async def aclose(self) -> None:
        """Stop early and release the connection. Idempotent."""
        await self._tokens.aclose()

    async def __aenter__(self) -> AsyncTranscriptTokenStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def iter_transcript_tokens(
    client: SyncApiClient,
    transcription_id: str,
    *,
    keep_text: bool = False,
    max_resumes: int = 2,
) -> TranscriptTokenStream:
    """The tokens of a completed transcription, one at a time, with flat memory.

    ``keep_text``: also collect the transcript's ``text`` (as ``stream.text``). Raises
    :class:`~soniox.errors.NotFoundError` / :class:`~soniox.errors.ConflictError` (not
    completed, or failed) from the first ``next()``; a body cut short beyond ``max_resumes``
    resumes raises :class:`~soniox.errors.ResponseLostError`.
    """
    download = _Download(client, transcription_id, keep_text=keep_text, max_resumes=max_resumes)
    return TranscriptTokenStream(client, download)


def aiter_transcript_tokens(
    client: AsyncApiClient,
    transcription_id: str,
    *,
    keep_text: bool = False,
    max_resumes: int = 2,
) -> AsyncTranscriptTokenStream:
    """:func:`iter_transcript_tokens` for :class:`~soniox.client.AsyncSonioxClient`."""
    download = _Download(client, transcription_id, keep_text=keep_text, max_resumes=max_resumes)
    return AsyncTranscriptTokenStream(client, download)
