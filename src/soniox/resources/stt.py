"""``client.stt``: async transcription jobs (``/v1/transcriptions``) and the helpers around them.

The official SDK's names and arguments (``create``, ``get``, ``wait``, ``transcribe_and_wait``,
``translate`` …), so migrating is changing an import. What differs is underneath, and written
once as flows (:mod:`soniox.flows`): adaptive polling in :meth:`Stt.wait`, a create that never
leaves a second job behind after a lost answer, clean-up (``delete_after``) that also survives
errors, timeouts, Ctrl-C and cancellation, and :meth:`Stt.transcribe_many` for batches. Job
options are keyword arguments (:class:`~soniox.flows.payload.TranscriptionOptions`) or a
:class:`~soniox.flows.payload.CreateTranscriptionConfig` (keywords win)::

    with SonioxClient() as client:
        transcript = client.stt.transcribe_and_wait_with_tokens(
            file="meeting.wav", enable_speaker_diarization=True, delete_after=True
        )

Differences from the official SDK, all additive: ``wait`` raises
:class:`~soniox.errors.TranscriptionFailedError` for a failed job (``raise_on_error=False``
returns it instead) and :class:`~soniox.errors.WaitTimeoutError` (a ``TimeoutError``) on
timeout; ``delete_if_exists`` / ``delete_all`` / ``destroy_all`` return what they deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from soniox.errors import ClientValidationError
from soniox.flows.batch import (
    BatchProgress,
    BatchResult,
    BatchSource,
    describe_source,
    run_batch_async,
    run_batch_sync,
    source_arguments,
)
from soniox.flows.payload import (
    DEFAULT_MODEL,
    OPTION_NAMES,
    BaseTranscriptionOptions,
    CreateTranscriptionConfig,
    TranscriptionOptions,
    build_payload,
    merge_options,
    translate_options,
)
from soniox.flows.polling import PollingPolicy
from soniox.flows.transcribe import TranscribeOutcome, transcribe_flow
from soniox.flows.transcriptions import (
    StatusCallback,
    count_flow,
    create_flow,
    delete_all_flow,
    delete_flow,
    destroy_all_flow,
    destroy_flow,
    get_flow,
    get_transcript_flow,
    list_flow,
    page_flow,
    wait_flow,
)
from soniox.middleware import Flow
from soniox.transcripts import (
    AsyncTranscriptTokenStream,
    TranscriptTokenStream,
    aiter_transcript_tokens,
    iter_transcript_tokens,
)
from soniox.types import (
    GetTranscriptionsCountResponse,
    GetTranscriptionsResponse,
    Transcription,
    TranscriptionTranscript,
)
from soniox.uploads import ProgressCallback, UploadSource

from ._base import AsyncNamespace, SyncNamespace, aiterate_pages, iterate_pages

if TYPE_CHECKING:
    from soniox.client import _ClientBase  # pyright: ignore[reportPrivateUsage]

__all__ = [
    "DEFAULT_MODEL",
    "AsyncStt",
    "BatchResult",
    "CreateTranscriptionConfig",
    "PollingPolicy",
    "Stt",
    "TranscriptionOptions",
]


# --- glue: arguments → one flow ---------------------------------------------------------------------


def _policy(poll: PollingPolicy | None, interval_sec: float | None) -> PollingPolicy | None:
    if interval_sec is None:
        return poll
    if poll is not None:
        raise ClientValidationError("give poll= or interval_sec=, not both", field="interval_sec")
    if not interval_sec > 0:
        raise ClientValidationError(
            f"interval_sec must be > 0 seconds, got {interval_sec!r}", field="interval_sec"
        )
    return PollingPolicy.fixed(interval_sec)


def _timeout(timeout: float | None, timeout_sec: float | None, name: str) -> float | None:
    if timeout_sec is None:
        return timeout
    if timeout is not None:
        raise ClientValidationError(f"give timeout= or {name}=, not both", field=name)
    return timeout_sec


def _create(
    client: _ClientBase,
    model: str,
    file_id: str | None,
    audio_url: str | None,
    client_reference_id: str | None,
    config: CreateTranscriptionConfig | None,
    options: TranscriptionOptions,
) -> Flow[Transcription]:
    payload = build_payload(
        model=model,
        file_id=file_id,
        audio_url=audio_url,
        client_reference_id=client_reference_id,
        options=merge_options(config, options),
    )
    return create_flow(client, payload)


def _workflow(
    client: _ClientBase,
    *,
    model: str,
    file: UploadSource | None = None,
    file_id: str | None = None,
    audio_url: str | None = None,
    filename: str | None = None,
    client_reference_id: str | None = None,
    config: CreateTranscriptionConfig | None = None,
    options: TranscriptionOptions,
    translate: dict[str, Any] | None = None,
    wait: bool = False,
    fetch_transcript: bool = False,
    delete_after: bool = False,
    timeout: float | None = None,
    poll: PollingPolicy | None = None,
    progress: ProgressCallback | None = None,
    on_status: StatusCallback | None = None,
) -> Flow[TranscribeOutcome]:
    merged = merge_options(config, options)
    if translate is not None:
        merged = translate_options(options=merged, **translate)
    return transcribe_flow(
        client,
        model=model,
        file=file,
        file_id=file_id,
        audio_url=audio_url,
        filename=filename,
        client_reference_id=client_reference_id,
        options=merged,
        wait=wait,
        fetch_transcript=fetch_transcript,
        delete_after=delete_after,
        timeout=timeout,
        policy=poll,
        progress=progress,
        on_status=on_status,
    )


def _job(flow: Flow[TranscribeOutcome]) -> Flow[Transcription]:
    outcome = yield from flow
    return outcome.transcription


def _transcript(flow: Flow[TranscribeOutcome]) -> Flow[TranscriptionTranscript]:
    outcome = yield from flow
    assert outcome.transcript is not None
    return outcome.transcript


def _translation(
    to: str | None, source: str | None, between: tuple[str, str] | Sequence[str] | None
) -> dict[str, Any]:
    return {"to": to, "source": source, "between": between}


class _Batch:
    """The items of a ``transcribe_many`` call and how to build each one's flow."""

    def __init__(
        self,
        client: _ClientBase,
        sources: Iterable[BatchSource],
        *,
        model: str,
        config: CreateTranscriptionConfig | None,
        with_tokens: bool,
        delete_after: bool,
        timeout: float | None,
        poll: PollingPolicy | None,
        options: TranscriptionOptions,
    ) -> None:
        if isinstance(sources, str | bytes):
            raise ClientValidationError(
                "sources must be a list of items (paths, URLs, bytes, files or mappings), "
                "not one string",
                field="sources",
            )
        self.items = list(sources)
        self.labels = [describe_source(item) for item in self.items]
        self._client = client
        self._model = model
        self._config = config
        self._with_tokens = with_tokens
        self._delete_after = delete_after
        self._timeout = timeout
        self._poll = poll
        self._options = merge_options(config, options)

    def flow(self, index: int) -> Flow[TranscribeOutcome]:
        args = source_arguments(self.items[index])
        unknown = sorted(
            set(args)
            - {"file", "file_id", "audio_url", "filename", "client_reference_id", "model"}
            - set(OPTION_NAMES)
        )
        if unknown:
            raise ClientValidationError(
                f"unknown key(s) {unknown} in batch item {index}", field=unknown[0]
            )
        options: dict[str, Any] = dict(self._options)
        options.update({k: v for k, v in args.items() if k in OPTION_NAMES})
        return transcribe_flow(
            self._client,
            model=args.get("model", self._model),
            file=args.get("file"),
            file_id=args.get("file_id"),
            audio_url=args.get("audio_url"),
            filename=args.get("filename"),
            client_reference_id=args.get("client_reference_id"),
            options=options,
            wait=True,
            fetch_transcript=self._with_tokens,
            delete_after=self._delete_after,
            timeout=self._timeout,
            policy=self._poll,
        )


# --- the blocking namespace -------------------------------------------------------------------------


class Stt(SyncNamespace):
    """``client.stt``: async transcription jobs (the official SDK's names and arguments)."""

    __slots__ = ()

    # Plain operations ---------------------------------------------------------------------------
    def create(
        self,
        *,
        model: str = DEFAULT_MODEL,
        file_id: str | None = None,
        audio_url: str | None = None,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job from an uploaded file or a URL (exactly one), exactly once: a lost
        answer is reconciled through ``client_reference_id`` (generated if not given)."""
        return self._run(
            _create(self._client, model, file_id, audio_url, client_reference_id, config, options)
        )

    def get(self, transcription_id: str) -> Transcription:
        """One job; NotFoundError if there is none."""
        job = self._run(get_flow(self._client, transcription_id))
        assert job is not None
        return job

    def get_or_none(self, transcription_id: str) -> Transcription | None:
        """One job, or None if there is none."""
        return self._run(get_flow(self._client, transcription_id, missing_ok=True))

    def list(self, limit: int = 100, cursor: str | None = None) -> GetTranscriptionsResponse:
        """One page of jobs (newest first) and ``next_page_cursor``."""
        return self._run(list_flow(self._client, limit, cursor))

    def list_all(self, limit: int = 100) -> Iterator[Transcription]:
        """Every job, fetching ``limit`` per page as the iteration gets there."""
        return iterate_pages(self._client.run, page_flow(self._client, limit))

    def count(self) -> GetTranscriptionsCountResponse:
        """How many jobs exist (``total``, ``public_api``, ``playground``)."""
        return self._run(count_flow(self._client))

    def delete(self, transcription_id: str) -> None:
        """Delete a job (NotFoundError if none; ConflictError while it is processing)."""
        self._run(delete_flow(self._client, transcription_id))

    def delete_if_exists(self, transcription_id: str) -> bool:
        """Delete a job if it exists; True if it was deleted."""
        return self._run(delete_flow(self._client, transcription_id, missing_ok=True))

    def delete_all(self, *, limit: int = 1000) -> int:
        """Delete every job; returns how many (a processing job stops it: ConflictError)."""
        return self._run(delete_all_flow(self._client, limit))

    def destroy(self, transcription_id: str) -> None:
        """Delete a job and the uploaded file it was made from."""
        self._run(destroy_flow(self._client, transcription_id))

    def destroy_all(self, *, limit: int = 1000) -> int:
        """Delete every job and its uploaded file; returns how many jobs."""
        return self._run(destroy_all_flow(self._client, limit))

    def get_transcript(self, transcription_id: str) -> TranscriptionTranscript:
        """Text and typed tokens of a completed job (ConflictError before it completes)."""
        return self._run(get_transcript_flow(self._client, transcription_id))

    def iter_tokens(
        self, transcription_id: str, *, keep_text: bool = False
    ) -> TranscriptTokenStream:
        """The tokens of a completed job one at a time, parsed as they arrive (flat memory)."""
        return iter_transcript_tokens(self._client, transcription_id, keep_text=keep_text)

    def wait(
        self,
        transcription_id: str,
        *,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        raise_on_error: bool = True,
        on_status: StatusCallback | None = None,
        interval_sec: float | None = None,
        timeout_sec: float | None = None,
    ) -> Transcription:
        """Poll until the job is ``completed`` (adaptive polling, see :class:`PollingPolicy`).

        ``timeout`` / ``timeout_sec``: seconds (default: the client's deadline, else none) →
        WaitTimeoutError; ``interval_sec``: poll at a fixed interval (official SDK); a failed job
        raises TranscriptionFailedError unless ``raise_on_error=False``.
        """
        return self._run(
            wait_flow(
                self._client,
                transcription_id,
                timeout=_timeout(timeout, timeout_sec, "timeout_sec"),
                policy=_policy(poll, interval_sec),
                raise_on_error=raise_on_error,
                on_status=on_status,
            )
        )

    # Transcribe helpers ---------------------------------------------------------------------------
    def transcribe(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        wait: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job from a file (uploaded first), a file id or a URL — exactly one.

        ``wait=True`` also waits for it to finish; ``progress(sent, total)`` follows the upload.
        """
        return self._run(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=wait,
                    timeout=timeout,
                    poll=poll,
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    def transcribe_from_url(
        self,
        *,
        audio_url: str,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job for the audio at ``audio_url`` (the API downloads it)."""
        return self.transcribe(
            audio_url=audio_url,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    def transcribe_from_file_id(
        self,
        *,
        file_id: str,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job for an already uploaded file."""
        return self.transcribe(
            file_id=file_id,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    def transcribe_from_file(
        self,
        *,
        file: UploadSource,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` (path, bytes, file object, iterator) and create a job for it; the
        upload is deleted again if the job cannot be created."""
        return self.transcribe(
            file=file,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            **options,
        )

    transcribe_file = transcribe_from_file

    def transcribe_file_with_webhook(
        self,
        *,
        file: UploadSource,
        webhook_url: str,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[BaseTranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` and create a job that posts to ``webhook_url`` when it ends (pass
        ``webhook_auth_header_name`` / ``_value`` to authenticate the call)."""
        return self.transcribe(
            file=file,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            webhook_url=webhook_url,
            **options,
        )

    def transcribe_and_wait(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job and wait for it; ``delete_after`` deletes job and file when done — also
        when anything fails or is interrupted."""
        return self._run(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    def transcribe_and_wait_with_tokens(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> TranscriptionTranscript:
        """:meth:`transcribe_and_wait`, returning the transcript (text and tokens)."""
        return self._run(
            _transcript(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=True,
                    fetch_transcript=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    # Translate helpers ----------------------------------------------------------------------------
    def translate(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a translating job: ``to="de"`` (one-way; ``source="en"`` becomes a strict
        language hint) or ``between=("en", "es")`` (two-way). Language identification is on."""
        return self._run(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    progress=progress,
                )
            )
        )

    def translate_from_url(
        self,
        *,
        audio_url: str,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` the audio at a URL."""
        return self.translate(
            audio_url=audio_url,
            to=to,
            source=source,
            between=between,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    def translate_from_file_id(
        self,
        *,
        file_id: str,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` an already uploaded file."""
        return self.translate(
            file_id=file_id,
            to=to,
            source=source,
            between=between,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    def translate_from_file(
        self,
        *,
        file: UploadSource,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` and :meth:`translate` it."""
        return self.translate(
            file=file,
            to=to,
            source=source,
            between=between,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            **options,
        )

    def translate_and_wait(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` and wait for the job (``delete_after`` as in transcribe_and_wait)."""
        return self._run(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    wait=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    def translate_and_wait_with_tokens(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> TranscriptionTranscript:
        """:meth:`translate_and_wait`, returning the transcript (original and translated
        tokens, told apart by ``translation_status``)."""
        return self._run(
            _transcript(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    wait=True,
                    fetch_transcript=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    # Batches --------------------------------------------------------------------------------------
    def transcribe_many(
        self,
        sources: Iterable[BatchSource],
        *,
        concurrency: int = 4,
        model: str = DEFAULT_MODEL,
        with_tokens: bool = False,
        delete_after: bool = False,
        timeout: float | None = None,
        poll: PollingPolicy | None = None,
        progress: BatchProgress | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> list[BatchResult]:
        """Transcribe every source (path, URL, bytes, file object, or a mapping of transcribe
        arguments) with at most ``concurrency`` in flight; one :class:`BatchResult` per source,
        in order, holding the job (and transcript with ``with_tokens``) or the error."""
        batch = _Batch(
            self._client,
            sources,
            model=model,
            config=config,
            with_tokens=with_tokens,
            delete_after=delete_after,
            timeout=timeout,
            poll=poll,
            options=options,
        )
        return run_batch_sync(
            self._client, batch.labels, batch.flow, concurrency=concurrency, progress=progress
        )


# --- the asyncio namespace --------------------------------------------------------------------------


class AsyncStt(AsyncNamespace):
    """``client.stt`` of the async client: the same operations, awaited."""

    __slots__ = ()

    # Plain operations ---------------------------------------------------------------------------
    async def create(
        self,
        *,
        model: str = DEFAULT_MODEL,
        file_id: str | None = None,
        audio_url: str | None = None,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job from an uploaded file or a URL, exactly once (see :meth:`Stt.create`)."""
        return await self._arun(
            _create(self._client, model, file_id, audio_url, client_reference_id, config, options)
        )

    async def get(self, transcription_id: str) -> Transcription:
        """One job; NotFoundError if there is none."""
        job = await self._arun(get_flow(self._client, transcription_id))
        assert job is not None
        return job

    async def get_or_none(self, transcription_id: str) -> Transcription | None:
        """One job, or None if there is none."""
        return await self._arun(get_flow(self._client, transcription_id, missing_ok=True))

    async def list(self, limit: int = 100, cursor: str | None = None) -> GetTranscriptionsResponse:
        """One page of jobs (newest first) and ``next_page_cursor``."""
        return await self._arun(list_flow(self._client, limit, cursor))

    def list_all(self, limit: int = 100) -> AsyncIterator[Transcription]:
        """Every job (``async for``), fetching ``limit`` per page."""
        return aiterate_pages(self._client.arun, page_flow(self._client, limit))

    async def count(self) -> GetTranscriptionsCountResponse:
        """How many jobs exist."""
        return await self._arun(count_flow(self._client))

    async def delete(self, transcription_id: str) -> None:
        """Delete a job (NotFoundError if none; ConflictError while it is processing)."""
        await self._arun(delete_flow(self._client, transcription_id))

    async def delete_if_exists(self, transcription_id: str) -> bool:
        """Delete a job if it exists; True if it was deleted."""
        return await self._arun(delete_flow(self._client, transcription_id, missing_ok=True))

    async def delete_all(self, *, limit: int = 1000) -> int:
        """Delete every job; returns how many."""
        return await self._arun(delete_all_flow(self._client, limit))

    async def destroy(self, transcription_id: str) -> None:
        """Delete a job and the uploaded file it was made from."""
        await self._arun(destroy_flow(self._client, transcription_id))

    async def destroy_all(self, *, limit: int = 1000) -> int:
        """Delete every job and its uploaded file; returns how many jobs."""
        return await self._arun(destroy_all_flow(self._client, limit))

    async def get_transcript(self, transcription_id: str) -> TranscriptionTranscript:
        """Text and typed tokens of a completed job."""
        return await self._arun(get_transcript_flow(self._client, transcription_id))

    def iter_tokens(
        self, transcription_id: str, *, keep_text: bool = False
    ) -> AsyncTranscriptTokenStream:
        """The tokens of a completed job (``async for``), parsed as they arrive."""
        return aiter_transcript_tokens(self._client, transcription_id, keep_text=keep_text)

    async def wait(
        self,
        transcription_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        raise_on_error: bool = True,
        on_status: StatusCallback | None = None,
        interval_sec: float | None = None,
        timeout_sec: float | None = None,
    ) -> Transcription:
        """Poll until the job is ``completed`` (see :meth:`Stt.wait`)."""
        return await self._arun(
            wait_flow(
                self._client,
                transcription_id,
                timeout=_timeout(timeout, timeout_sec, "timeout_sec"),
                policy=_policy(poll, interval_sec),
                raise_on_error=raise_on_error,
                on_status=on_status,
            )
        )

    # Transcribe helpers ---------------------------------------------------------------------------
    async def transcribe(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        wait: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job from a file, a file id or a URL (see :meth:`Stt.transcribe`)."""
        return await self._arun(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=wait,
                    timeout=timeout,
                    poll=poll,
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    async def transcribe_from_url(
        self,
        *,
        audio_url: str,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job for the audio at ``audio_url``."""
        return await self.transcribe(
            audio_url=audio_url,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    async def transcribe_from_file_id(
        self,
        *,
        file_id: str,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job for an already uploaded file."""
        return await self.transcribe(
            file_id=file_id,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    async def transcribe_from_file(
        self,
        *,
        file: UploadSource,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` and create a job for it."""
        return await self.transcribe(
            file=file,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            **options,
        )

    transcribe_file = transcribe_from_file

    async def transcribe_file_with_webhook(
        self,
        *,
        file: UploadSource,
        webhook_url: str,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[BaseTranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` and create a job that posts to ``webhook_url`` when it ends."""
        return await self.transcribe(
            file=file,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            webhook_url=webhook_url,
            **options,
        )

    async def transcribe_and_wait(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a job and wait for it (see :meth:`Stt.transcribe_and_wait`)."""
        return await self._arun(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    async def transcribe_and_wait_with_tokens(
        self,
        *,
        model: str = DEFAULT_MODEL,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> TranscriptionTranscript:
        """:meth:`transcribe_and_wait`, returning the transcript."""
        return await self._arun(
            _transcript(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    wait=True,
                    fetch_transcript=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    # Translate helpers ----------------------------------------------------------------------------
    async def translate(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Create a translating job (see :meth:`Stt.translate`)."""
        return await self._arun(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    progress=progress,
                )
            )
        )

    async def translate_from_url(
        self,
        *,
        audio_url: str,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` the audio at a URL."""
        return await self.translate(
            audio_url=audio_url,
            to=to,
            source=source,
            between=between,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    async def translate_from_file_id(
        self,
        *,
        file_id: str,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` an already uploaded file."""
        return await self.translate(
            file_id=file_id,
            to=to,
            source=source,
            between=between,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            **options,
        )

    async def translate_from_file(
        self,
        *,
        file: UploadSource,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        config: CreateTranscriptionConfig | None = None,
        progress: ProgressCallback | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """Upload ``file`` and :meth:`translate` it."""
        return await self.translate(
            file=file,
            to=to,
            source=source,
            between=between,
            filename=filename,
            model=model,
            client_reference_id=client_reference_id,
            config=config,
            progress=progress,
            **options,
        )

    async def translate_and_wait(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> Transcription:
        """:meth:`translate` and wait for the job."""
        return await self._arun(
            _job(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    wait=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    async def translate_and_wait_with_tokens(
        self,
        *,
        to: str | None = None,
        source: str | None = None,
        between: tuple[str, str] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        file: UploadSource | None = None,
        filename: str | None = None,
        model: str = DEFAULT_MODEL,
        client_reference_id: str | None = None,
        delete_after: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        wait_interval_sec: float | None = None,
        wait_timeout_sec: float | None = None,
        progress: ProgressCallback | None = None,
        on_status: StatusCallback | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> TranscriptionTranscript:
        """:meth:`translate_and_wait`, returning the transcript."""
        return await self._arun(
            _transcript(
                _workflow(
                    self._client,
                    model=model,
                    file=file,
                    file_id=file_id,
                    audio_url=audio_url,
                    filename=filename,
                    client_reference_id=client_reference_id,
                    config=config,
                    options=options,
                    translate=_translation(to, source, between),
                    wait=True,
                    fetch_transcript=True,
                    delete_after=delete_after,
                    timeout=_timeout(timeout, wait_timeout_sec, "wait_timeout_sec"),
                    poll=_policy(poll, wait_interval_sec),
                    progress=progress,
                    on_status=on_status,
                )
            )
        )

    # Batches --------------------------------------------------------------------------------------
    async def transcribe_many(
        self,
        sources: Iterable[BatchSource],
        *,
        concurrency: int = 4,
        model: str = DEFAULT_MODEL,
        with_tokens: bool = False,
        delete_after: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109 - a wait budget: on expiry the job is kept and named
        poll: PollingPolicy | None = None,
        progress: BatchProgress | None = None,
        config: CreateTranscriptionConfig | None = None,
        **options: Unpack[TranscriptionOptions],
    ) -> list[BatchResult]:
        """Transcribe every source with at most ``concurrency`` in flight (see
        :meth:`Stt.transcribe_many`)."""
        batch = _Batch(
            self._client,
            sources,
            model=model,
            config=config,
            with_tokens=with_tokens,
            delete_after=delete_after,
            timeout=timeout,
            poll=poll,
            options=options,
        )
        return await run_batch_async(
            self._client, batch.labels, batch.flow, concurrency=concurrency, progress=progress
        )
