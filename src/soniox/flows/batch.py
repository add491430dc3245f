"""``transcribe_many``: many transcribe workflows with bounded concurrency, one result per item.

Each item runs :func:`~soniox.flows.transcribe.transcribe_flow` (the same flow as
``transcribe_and_wait``). Two drivers:

- :func:`run_batch_sync`: a thread pool of ``concurrency`` workers, each running flows with the
  blocking driver (the client's connection pool is thread-safe);
- :func:`run_batch_async`: ``concurrency`` worker tasks pulling the next item, so a batch of
  100,000 items holds ``concurrency`` tasks, not 100,000.

A failing item never sinks the batch: its :class:`BatchResult` carries the error (typed: the
:class:`~soniox.errors.SonioxError` subclass or the OSError of a missing file). Results come
back in the order of the sources. ``progress(result, done, total)`` is called as each item
finishes (in the calling thread, resp. on the event loop). If the caller is interrupted
(KeyboardInterrupt, task cancellation) or ``progress`` raises, the items in flight are stopped
through their own clean-up (nothing leaks with ``delete_after=True``) and the exception
propagates.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeAlias, cast

import attrs

from soniox.errors import ClientValidationError
from soniox.middleware import Flow
from soniox.types import Transcription, TranscriptionTranscript

from .effects import CancelScope, FlowCancelled, cancellable
from .protocol import AsyncApiClient, SyncApiClient
from .transcribe import TranscribeOutcome

__all__ = [
    "BatchSource",
    "BatchResult",
    "BatchProgress",
    "describe_source",
    "source_arguments",
    "run_batch_sync",
    "run_batch_async",
]

BatchSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | Any | Mapping[str, Any]"
"""One item: a path, an ``http(s)://`` URL, bytes, a binary file object, or a mapping of
transcribe arguments (``{"file_id": ...}``, ``{"audio_url": ..., "language_hints": ["de"]}``)."""

_ITEM_KEYS = frozenset({"file", "file_id", "audio_url", "filename", "client_reference_id", "model"})


@attrs.frozen
class BatchResult:
    """The outcome of one item: the finished job (and transcript, if asked for) or the error."""

    index: int
    source: str
    """A short description of the item (path, URL, file id, or the source's type)."""
    transcription: Transcription | None = None
    transcript: TranscriptionTranscript | None = None
    error: Exception | None = None
    elapsed: float = 0.0
    """Seconds the item took, on the transport clock."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def value(self) -> Transcription | TranscriptionTranscript | None:
        """The transcript when it was fetched, else the transcription (None on failure)."""
        return self.transcript if self.transcript is not None else self.transcription

    def unwrap(self) -> Transcription | TranscriptionTranscript:
        """:attr:`value`, or raise the item's error."""
        if self.error is not None:
            raise self.error
        value = self.value
        assert value is not None
        return value


BatchProgress: TypeAlias = Callable[[BatchResult, int, int], None]
"""``progress(result, done, total)``, called as each item finishes."""


def describe_source(source: object) -> str:
    """A short label of a batch item for results and logs (never the bytes themselves)."""
    if isinstance(source, Mapping):
        item = cast("Mapping[str, object]", source)
        for key in ("file", "file_id", "audio_url"):
            if item.get(key) is not None:
                return describe_source(item[key]) if key == "file" else str(item[key])
        return "<mapping>"
    if isinstance(source, str | os.PathLike):
        return os.fspath(cast("str | os.PathLike[str]", source))
    if isinstance(source, bytes | bytearray):
        return f"<{len(source)} bytes>"
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else f"<{type(source).__name__}>"


def source_arguments(source: object) -> dict[str, Any]:
    """The transcribe arguments one item stands for."""
    if isinstance(source, Mapping):
        return dict(cast("Mapping[str, Any]", source))
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return {"audio_url": source}
    if source is None:
        raise ClientValidationError("a batch item is None", field="sources")
    return {"file": source}


ItemFlow: TypeAlias = Callable[[int], Flow[TranscribeOutcome]]
"""Builds the flow of item ``i`` (may raise ClientValidationError: an item error)."""


def _check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ClientValidationError(
            f"concurrency must be an integer >= 1, got {concurrency!r}", field="concurrency"
        )
    return concurrency


def _result(
    index: int, label: str, outcome: TranscribeOutcome | Exception, elapsed: float
) -> BatchResult:
    """An item's result: its job (and transcript), or the error it ended with."""
    if isinstance(outcome, Exception):
        return BatchResult(index, label, error=outcome, elapsed=elapsed)
    return BatchResult(index, label, outcome.transcription, outcome.transcript, elapsed=elapsed)


class _Tally:
    """What both runners keep: the results in item order, and the progress callback's count;
    ``workers`` is how many items run at once (checked)."""

    def __init__(self, total: int, concurrency: int, progress: BatchProgress | None) -> None:
        self.workers = min(_check_concurrency(concurrency), max(total, 1))
        self._results: list[BatchResult | None] = [None] * total
        self._progress = progress
        self._done = 0

    def record(self, result: BatchResult) -> None:
        self._results[result.index] = result
        self._done += 1
        if self._progress is not None:
            self._progress(result, self._done, len(self._results))

    def results(self) -> list[BatchResult]:
        return [r for r in self._results if r is not None]


def run_batch_sync(
    client: SyncApiClient,
    labels: Sequence[str],
    make_flow: ItemFlow,
    *,
    concurrency: int,
    progress: BatchProgress | None = None,
) -> list[BatchResult]:
    """Run item flows ``0..len(labels)-1`` on a thread pool; results in item order."""
    tally = _Tally(len(labels), concurrency, progress)
    clock = client.transport.clock
    stop = CancelScope()

    def work(index: int) -> BatchResult:
        started = clock.now()
        outcome: TranscribeOutcome | Exception
        try:
            outcome = client.run(cancellable(make_flow(index), stop))
        except FlowCancelled:
            raise
        except Exception as exc:
            outcome = exc
        return _result(index, labels[index], outcome, clock.now() - started)

    if not labels:
        return []
    pool = ThreadPoolExecutor(max_workers=tally.workers, thread_name_prefix="soniox-batch")
    pending: set[Future[BatchResult]] = set()
    try:
        pending = {pool.submit(work, i) for i in range(len(labels))}
        while pending:
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                tally.record(future.result())
    except BaseException:
        stop.cancel()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    return tally.results()


async def run_batch_async(
    client: AsyncApiClient,
    labels: Sequence[str],
    make_flow: ItemFlow,
    *,
    concurrency: int,
    progress: BatchProgress | None = None,
) -> list[BatchResult]:
    """Run item flows with ``concurrency`` worker tasks; results in item order."""
    tally = _Tally(len(labels), concurrency, progress)
    clock = client.transport.clock
    indices = iter(range(len(labels)))

    async def worker() -> None:
        for index in indices:
            started = clock.now()
            outcome: TranscribeOutcome | Exception
            try:
                outcome = await client.arun(make_flow(index))
            except Exception as exc:
                outcome = exc
            tally.record(_result(index, labels[index], outcome, clock.now() - started))

    tasks = [asyncio.ensure_future(worker()) for _ in range(tally.workers if labels else 0)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return tally.results()
