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

Differences from the official SDK, all additive: ``wait`` and ``transcribe_and_wait`` return a
failed job as the official ones do (``wait(raise_on_error=True)`` raises
:class:`~soniox.errors.TranscriptionFailedError` instead), ``…_with_tokens`` raise it (a
:class:`~soniox.errors.ConflictError`, as the official SDK's transcript request fails with 409
there); a timeout is :class:`~soniox.errors.WaitTimeoutError` (a ``TimeoutError``);
``delete_if_exists`` / ``delete_all`` / ``destroy_all`` return what they deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, TypedDict, Unpack

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
from soniox.flows.pages import aiterate_pages, iterate_pages
from soniox.flows.payload import (
    DEFAULT_MODEL,
    OPTION_NAMES,
    BaseTranscriptionOptions,
    TranscriptionOptions,
    build_payload,
    config_overrides,
    merge_options,
    translate_options,
)
from soniox.flows.polling import PollingPolicy
from soniox.flows.protocol import ApiClient
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
from soniox.flows.uploads import ProgressCallback, UploadSource
from soniox.middleware import Flow
from soniox.transcripts import (
    AsyncTranscriptTokenStream,
    TranscriptTokenStream,
    aiter_transcript_tokens,
    iter_transcript_tokens,
)
from soniox.types import (
    CreateTranscriptionConfig,
    GetTranscriptionsCountResponse,
    GetTranscriptionsResponse,
    Transcription,
    TranscriptionTranscript,
    WebhookAuthConfig,
)

from ._base import AsyncNamespace, SyncNamespace
from .webhooks import Webhooks

__all__ = [
    "DEFAULT_MODEL",
    "AsyncStt",
    "BatchArgs",
    "BatchResult",
    "CreateTranscriptionConfig",
    "FileJobArgs",
    "JobArgs",
    "PollingPolicy",
    "SourceArgs",
    "Stt",
    "TranscribeArgs",
    "TranscribeWaitArgs",
    "TranscriptionOptions",
    "TranslateArgs",
    "TranslateFileArgs",
    "TranslateJobArgs",
    "TranslateWaitArgs",
    "WebhookFileArgs",
]


# --- the helpers' keyword arguments, declared once for both namespaces ----------------------------
#
# Every helper takes keyword arguments only. They are TypedDicts (PEP 692), so type checkers and
# IDEs see each name and type, while the sync and the async namespace share one declaration; a
# name no helper knows is refused at run time with a ClientValidationError.


class _JobCore(TypedDict, total=False):
    model: str
    """The model (default ``stt-async-v5``, as in the official SDK)."""
    client_reference_id: str | None
    """Your id for the job (generated when not given; it is what makes create exactly-once)."""
    config: CreateTranscriptionConfig | None
    """Job options as one object; keyword options override its fields."""


class _FileSource(TypedDict, total=False):
    filename: str | None
    """The name stored with an uploaded file (default: the path's name, else ``upload.bin``)."""
    progress: ProgressCallback | None
    """``progress(bytes_sent, total_or_None)`` while a file is uploaded."""


class _Translation(TypedDict, total=False):
    to: str | None
    """One-way translation target (``"de"``)."""
    source: str | None
    """One-way: the spoken language, sent as a strict language hint."""
    between: tuple[str, str] | None
    """Two-way translation between two languages (``("en", "es")``)."""


class _Waiting(TypedDict, total=False):
    timeout: float | None
    """Seconds to wait for the job (default: the client's deadline, else none)."""
    poll: PollingPolicy | None
    """How to poll (default: adaptive, see :class:`PollingPolicy`)."""
    on_status: StatusCallback | None
    """Called with each fetched job state while waiting."""


class _WaitingAndCleanup(_Waiting, total=False):
    delete_after: bool
    """Delete job and uploaded file once done — also on errors, timeouts, Ctrl-C, cancellation."""
    wait_interval_sec: float | None
    """The official SDK's fixed polling interval (instead of ``poll``)."""
    wait_timeout_sec: float | None
    """The official SDK's name for ``timeout``."""


class JobArgs(_JobCore, TranscriptionOptions, total=False):
    """Keywords of a job created from a given URL or file id."""


class WebhookFileArgs(_JobCore, _FileSource, BaseTranscriptionOptions, total=False):
    """Keywords of :meth:`Stt.transcribe_file_with_webhook` (``webhook_url`` is its argument)."""

    webhook_auth: WebhookAuthConfig | None
    """The header Soniox sends with the webhook (default: the client's webhook secret)."""


class FileJobArgs(JobArgs, _FileSource, total=False):
    """Keywords of a job created from a file that is uploaded first."""


class SourceArgs(FileJobArgs, total=False):
    """Keywords of a job from exactly one of ``file``, ``file_id`` or ``audio_url``."""

    audio_url: str | None
    """Audio the API downloads itself."""
    file_id: str | None
    """An uploaded file."""
    file: UploadSource | None
    """A path, bytes, a binary file object or an iterator of bytes, uploaded first."""


class TranscribeArgs(SourceArgs, _Waiting, total=False):
    """Keywords of :meth:`Stt.transcribe`."""

    wait: bool
    """Also wait for the job to finish."""


class TranscribeWaitArgs(SourceArgs, _WaitingAndCleanup, total=False):
    """Keywords of :meth:`Stt.transcribe_and_wait` and ``…_with_tokens``."""


class TranslateJobArgs(JobArgs, _Translation, total=False):
    """Keywords of :meth:`Stt.translate_from_url` / ``translate_from_file_id``."""


class TranslateFileArgs(FileJobArgs, _Translation, total=False):
    """Keywords of :meth:`Stt.translate_from_file`."""


class TranslateArgs(SourceArgs, _Translation, total=False):
    """Keywords of :meth:`Stt.translate`."""


class TranslateWaitArgs(TranslateArgs, _WaitingAndCleanup, total=False):
    """Keywords of :meth:`Stt.translate_and_wait` and ``…_with_tokens``."""


class BatchArgs(TranscriptionOptions, total=False):
    """Keywords of :meth:`Stt.transcribe_many` (options apply to every item; an item given as
    a mapping overrides them, and names its own ``client_reference_id``)."""

    model: str
    """The model of every item (default ``stt-async-v5``)."""
    config: CreateTranscriptionConfig | None
    """Job options as one object; keyword options override its fields."""

    with_tokens: bool
    """Fetch each item's transcript too."""
    delete_after: bool
    """Delete each item's job and file once it is done (also on failure or interruption)."""
    timeout: float | None
    """Seconds each item may wait for its job."""
    poll: PollingPolicy | None
    """How each item polls (default: adaptive)."""


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
    client: ApiClient,
    model: str,
    file_id: str | None,
    audio_url: str | None,
    client_reference_id: str | None,
    config: CreateTranscriptionConfig | None,
    options: TranscriptionOptions,
) -> Flow[Transcription]:
    model, client_reference_id = config_overrides(config, model, client_reference_id)
    payload = build_payload(
        model=model,
        file_id=file_id,
        audio_url=audio_url,
        client_reference_id=client_reference_id,
        options=merge_options(config, options),
    )
    return create_flow(client, payload)


_TRANSLATION_KEYS = ("to", "source", "between")


def _workflow(
    client: ApiClient,
    args: Mapping[str, Any],
    *,
    translate: bool = False,
    wait: bool = False,
    fetch_transcript: bool = False,
) -> Flow[TranscribeOutcome]:
    """The transcribe workflow for one helper call: ``args`` are its keywords (the job's
    options are whatever is left once the helper's own names are taken out)."""
    rest = dict(args)
    take = rest.pop
    model: str = take("model", DEFAULT_MODEL)
    file = take("file", None)
    file_id = take("file_id", None)
    audio_url = take("audio_url", None)
    filename = take("filename", None)
    reference = take("client_reference_id", None)
    config = take("config", None)
    wait = take("wait", wait)
    delete_after = take("delete_after", False)
    timeout = _timeout(take("timeout", None), take("wait_timeout_sec", None), "wait_timeout_sec")
    poll = _policy(take("poll", None), take("wait_interval_sec", None))
    progress = take("progress", None)
    on_status = take("on_status", None)
    translation = {key: take(key, None) for key in _TRANSLATION_KEYS} if translate else None
    model, reference = config_overrides(config, model, reference)
    merged = merge_options(config, rest)
    if translation is not None:
        merged = translate_options(options=merged, **translation)
    return transcribe_flow(
        client,
        model=model,
        file=file,
        file_id=file_id,
        audio_url=audio_url,
        filename=filename,
        client_reference_id=reference,
        options=merged,
        wait=wait,
        fetch_transcript=fetch_transcript,
        delete_after=delete_after,
        timeout=timeout,
        policy=poll,
        progress=progress,
        on_status=on_status,
        raise_on_error=False,
    )


def _with_webhook(client: ApiClient, url: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` plus the ``webhook_*`` fields for ``url``, authenticated as the official SDK
    does: ``webhook_auth``, else the client's webhook secret (explicit header keywords win)."""
    rest = dict(args)
    auth: WebhookAuthConfig | None = rest.pop("webhook_auth", None)
    config = client.config
    hooks = Webhooks(config.webhook_secret, config.webhook_header)
    return {**hooks.webhook_payload(url, auth=auth), **rest}


def _job(flow: Flow[TranscribeOutcome]) -> Flow[Transcription]:
    outcome = yield from flow
    return outcome.transcription


def _transcript(flow: Flow[TranscribeOutcome]) -> Flow[TranscriptionTranscript]:
    outcome = yield from flow
    assert outcome.transcript is not None
    return outcome.transcript


class _Batch:
    """The items of a ``transcribe_many`` call and how to build each one's flow."""

    def __init__(
        self, client: ApiClient, sources: Iterable[BatchSource], args: Mapping[str, Any]
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
        rest = dict(args)
        self._model: str = rest.pop("model", DEFAULT_MODEL)
        self._with_tokens: bool = rest.pop("with_tokens", False)
        self._delete_after: bool = rest.pop("delete_after", False)
        self._timeout: float | None = rest.pop("timeout", None)
        self._poll: PollingPolicy | None = rest.pop("poll", None)
        self._options = merge_options(rest.pop("config", None), rest)

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
            _create(self._client, model, file_id, audio_url, client_reference_id, config, options),
            "stt.create",
        )

    def get(self, transcription_id: str) -> Transcription:
        """One job; NotFoundError if there is none."""
        job = self._run(get_flow(self._client, transcription_id), "stt.get")
        assert job is not None
        return job

    def get_or_none(self, transcription_id: str) -> Transcription | None:
        """One job, or None if there is none."""
        return self._run(
            get_flow(self._client, transcription_id, missing_ok=True), "stt.get_or_none"
        )

    def list(self, limit: int = 100, cursor: str | None = None) -> GetTranscriptionsResponse:
        """One page of jobs (newest first) and ``next_page_cursor``."""
        return self._run(list_flow(self._client, limit, cursor), "stt.list")

    def list_all(self, limit: int = 100) -> Iterator[Transcription]:
        """Every job, fetching ``limit`` per page as the iteration gets there."""
        return iterate_pages(self._client.run, page_flow(self._client, limit))

    def count(self) -> GetTranscriptionsCountResponse:
        """How many jobs exist (``total``, ``public_api``, ``playground``)."""
        return self._run(count_flow(self._client), "stt.count")

    def delete(self, transcription_id: str) -> None:
        """Delete a job (NotFoundError if none; ConflictError while it is processing)."""
        self._run(delete_flow(self._client, transcription_id), "stt.delete")

    def delete_if_exists(self, transcription_id: str) -> bool:
        """Delete a job if it exists; True if it was deleted."""
        return self._run(
            delete_flow(self._client, transcription_id, missing_ok=True), "stt.delete_if_exists"
        )

    def delete_all(self, limit: int = 1000) -> int:
        """Delete every job; returns how many (a processing job stops it: ConflictError)."""
        return self._run(delete_all_flow(self._client, limit), "stt.delete_all")

    def destroy(self, transcription_id: str) -> None:
        """Delete a job and the uploaded file it was made from."""
        self._run(destroy_flow(self._client, transcription_id), "stt.destroy")

    def destroy_all(self, limit: int = 1000) -> int:
        """Delete every job and its uploaded file; returns how many jobs."""
        return self._run(destroy_all_flow(self._client, limit), "stt.destroy_all")

    def get_transcript(self, transcription_id: str) -> TranscriptionTranscript:
        """Text and typed tokens of a completed job (ConflictError before it completes)."""
        return self._run(get_transcript_flow(self._client, transcription_id), "stt.get_transcript")

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
        raise_on_error: bool = False,
        on_status: StatusCallback | None = None,
        interval_sec: float | None = None,
        timeout_sec: float | None = None,
    ) -> Transcription:
        """Poll until the job is ``completed`` (adaptive polling, see :class:`PollingPolicy`).

        ``timeout`` / ``timeout_sec``: seconds (default: the client's deadline, else none) →
        WaitTimeoutError; ``interval_sec``: poll at a fixed interval (official SDK); a failed job
        is returned (status ``error``), as officially, or raises TranscriptionFailedError with
        ``raise_on_error=True``.
        """
        return self._run(
            wait_flow(
                self._client,
                transcription_id,
                timeout=_timeout(timeout, timeout_sec, "timeout_sec"),
                policy=_policy(poll, interval_sec),
                raise_on_error=raise_on_error,
                on_status=on_status,
            ),
            "stt.wait",
        )

    # Transcribe helpers ---------------------------------------------------------------------------
    def transcribe(self, **args: Unpack[TranscribeArgs]) -> Transcription:
        """Create a job from a file (uploaded first), a file id or a URL — exactly one.

        ``wait=True`` also waits for it to finish; ``progress(sent, total)`` follows the upload."""
        return self._run(_job(_workflow(self._client, args)), "stt.transcribe")

    def transcribe_from_url(self, *, audio_url: str, **args: Unpack[JobArgs]) -> Transcription:
        """Create a job for the audio at ``audio_url`` (the API downloads it)."""
        return self._run(
            _job(_workflow(self._client, {**args, "audio_url": audio_url})),
            "stt.transcribe_from_url",
        )

    def transcribe_from_file_id(self, *, file_id: str, **args: Unpack[JobArgs]) -> Transcription:
        """Create a job for an already uploaded file."""
        return self._run(
            _job(_workflow(self._client, {**args, "file_id": file_id})),
            "stt.transcribe_from_file_id",
        )

    def transcribe_from_file(
        self, *, file: UploadSource, **args: Unpack[FileJobArgs]
    ) -> Transcription:
        """Upload ``file`` (path, bytes, file object, iterator) and create a job for it; the
        upload is deleted again if the job cannot be created."""
        return self._run(
            _job(_workflow(self._client, {**args, "file": file})), "stt.transcribe_from_file"
        )

    transcribe_file = transcribe_from_file

    def transcribe_file_with_webhook(
        self, *, file: UploadSource, webhook_url: str, **args: Unpack[WebhookFileArgs]
    ) -> Transcription:
        """Upload ``file`` and create a job that posts to ``webhook_url`` when it ends, with
        the client's webhook secret (or ``webhook_auth=WebhookAuthConfig(...)``) as its header."""
        args_ = _with_webhook(self._client, webhook_url, {**args, "file": file})
        return self._run(_job(_workflow(self._client, args_)), "stt.transcribe_file_with_webhook")

    def transcribe_and_wait(self, **args: Unpack[TranscribeWaitArgs]) -> Transcription:
        """Create a job and wait for it; ``delete_after`` deletes job and file when done — also
        when anything fails or is interrupted."""
        return self._run(_job(_workflow(self._client, args, wait=True)), "stt.transcribe_and_wait")

    def transcribe_and_wait_with_tokens(
        self, **args: Unpack[TranscribeWaitArgs]
    ) -> TranscriptionTranscript:
        """:meth:`transcribe_and_wait`, returning the transcript (text and tokens)."""
        return self._run(
            _transcript(_workflow(self._client, args, fetch_transcript=True)),
            "stt.transcribe_and_wait_with_tokens",
        )

    def translate(self, **args: Unpack[TranslateArgs]) -> Transcription:
        """Create a translating job: ``to="de"`` (one-way; ``source="en"`` becomes a strict
        language hint) or ``between=("en", "es")`` (two-way). Language identification is on."""
        return self._run(_job(_workflow(self._client, args, translate=True)), "stt.translate")

    def translate_from_url(
        self, *, audio_url: str, **args: Unpack[TranslateJobArgs]
    ) -> Transcription:
        """:meth:`translate` the audio at a URL."""
        return self._run(
            _job(_workflow(self._client, {**args, "audio_url": audio_url}, translate=True)),
            "stt.translate_from_url",
        )

    def translate_from_file_id(
        self, *, file_id: str, **args: Unpack[TranslateJobArgs]
    ) -> Transcription:
        """:meth:`translate` an already uploaded file."""
        return self._run(
            _job(_workflow(self._client, {**args, "file_id": file_id}, translate=True)),
            "stt.translate_from_file_id",
        )

    def translate_from_file(
        self, *, file: UploadSource, **args: Unpack[TranslateFileArgs]
    ) -> Transcription:
        """Upload ``file`` and :meth:`translate` it."""
        return self._run(
            _job(_workflow(self._client, {**args, "file": file}, translate=True)),
            "stt.translate_from_file",
        )

    def translate_and_wait(self, **args: Unpack[TranslateWaitArgs]) -> Transcription:
        """:meth:`translate` and wait for the job (``delete_after`` as in transcribe_and_wait)."""
        return self._run(
            _job(_workflow(self._client, args, translate=True, wait=True)), "stt.translate_and_wait"
        )

    def translate_and_wait_with_tokens(
        self, **args: Unpack[TranslateWaitArgs]
    ) -> TranscriptionTranscript:
        """:meth:`translate_and_wait`, returning the transcript (original and translated
        tokens, told apart by ``translation_status``)."""
        return self._run(
            _transcript(_workflow(self._client, args, translate=True, fetch_transcript=True)),
            "stt.translate_and_wait_with_tokens",
        )

    # Batches --------------------------------------------------------------------------------------
    def transcribe_many(
        self,
        sources: Iterable[BatchSource],
        *,
        concurrency: int = 4,
        progress: BatchProgress | None = None,
        **args: Unpack[BatchArgs],
    ) -> list[BatchResult]:
        """Transcribe every source (path, URL, bytes, file object, or a mapping of transcribe
        arguments) with at most ``concurrency`` in flight; one :class:`BatchResult` per source,
        in order, holding the job (and transcript with ``with_tokens``) or the error."""
        batch = _Batch(self._client, sources, args)
        with self._client.stack.operation("stt.transcribe_many"):
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
            _create(self._client, model, file_id, audio_url, client_reference_id, config, options),
            "stt.create",
        )

    async def get(self, transcription_id: str) -> Transcription:
        """One job; NotFoundError if there is none."""
        job = await self._arun(get_flow(self._client, transcription_id), "stt.get")
        assert job is not None
        return job

    async def get_or_none(self, transcription_id: str) -> Transcription | None:
        """One job, or None if there is none."""
        return await self._arun(
            get_flow(self._client, transcription_id, missing_ok=True), "stt.get_or_none"
        )

    async def list(self, limit: int = 100, cursor: str | None = None) -> GetTranscriptionsResponse:
        """One page of jobs (newest first) and ``next_page_cursor``."""
        return await self._arun(list_flow(self._client, limit, cursor), "stt.list")

    def list_all(self, limit: int = 100) -> AsyncIterator[Transcription]:
        """Every job (``async for``), fetching ``limit`` per page."""
        return aiterate_pages(self._client.arun, page_flow(self._client, limit))

    async def count(self) -> GetTranscriptionsCountResponse:
        """How many jobs exist."""
        return await self._arun(count_flow(self._client), "stt.count")

    async def delete(self, transcription_id: str) -> None:
        """Delete a job (NotFoundError if none; ConflictError while it is processing)."""
        await self._arun(delete_flow(self._client, transcription_id), "stt.delete")

    async def delete_if_exists(self, transcription_id: str) -> bool:
        """Delete a job if it exists; True if it was deleted."""
        return await self._arun(
            delete_flow(self._client, transcription_id, missing_ok=True), "stt.delete_if_exists"
        )

    async def delete_all(self, limit: int = 1000) -> int:
        """Delete every job; returns how many."""
        return await self._arun(delete_all_flow(self._client, limit), "stt.delete_all")

    async def destroy(self, transcription_id: str) -> None:
        """Delete a job and the uploaded file it was made from."""
        await self._arun(destroy_flow(self._client, transcription_id), "stt.destroy")

    async def destroy_all(self, limit: int = 1000) -> int:
        """Delete every job and its uploaded file; returns how many jobs."""
        return await self._arun(destroy_all_flow(self._client, limit), "stt.destroy_all")

    async def get_transcript(self, transcription_id: str) -> TranscriptionTranscript:
        """Text and typed tokens of a completed job."""
        return await self._arun(
            get_transcript_flow(self._client, transcription_id), "stt.get_transcript"
        )

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
        raise_on_error: bool = False,
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
            ),
            "stt.wait",
        )

    # Transcribe helpers ---------------------------------------------------------------------------
    async def transcribe(self, **args: Unpack[TranscribeArgs]) -> Transcription:
        """See :meth:`Stt.transcribe`."""
        return await self._arun(_job(_workflow(self._client, args)), "stt.transcribe")

    async def transcribe_from_url(
        self, *, audio_url: str, **args: Unpack[JobArgs]
    ) -> Transcription:
        """See :meth:`Stt.transcribe_from_url`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "audio_url": audio_url})),
            "stt.transcribe_from_url",
        )

    async def transcribe_from_file_id(
        self, *, file_id: str, **args: Unpack[JobArgs]
    ) -> Transcription:
        """See :meth:`Stt.transcribe_from_file_id`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "file_id": file_id})),
            "stt.transcribe_from_file_id",
        )

    async def transcribe_from_file(
        self, *, file: UploadSource, **args: Unpack[FileJobArgs]
    ) -> Transcription:
        """See :meth:`Stt.transcribe_from_file`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "file": file})), "stt.transcribe_from_file"
        )

    transcribe_file = transcribe_from_file

    async def transcribe_file_with_webhook(
        self, *, file: UploadSource, webhook_url: str, **args: Unpack[WebhookFileArgs]
    ) -> Transcription:
        """See :meth:`Stt.transcribe_file_with_webhook`."""
        args_ = _with_webhook(self._client, webhook_url, {**args, "file": file})
        return await self._arun(
            _job(_workflow(self._client, args_)), "stt.transcribe_file_with_webhook"
        )

    async def transcribe_and_wait(self, **args: Unpack[TranscribeWaitArgs]) -> Transcription:
        """See :meth:`Stt.transcribe_and_wait`."""
        return await self._arun(
            _job(_workflow(self._client, args, wait=True)), "stt.transcribe_and_wait"
        )

    async def transcribe_and_wait_with_tokens(
        self, **args: Unpack[TranscribeWaitArgs]
    ) -> TranscriptionTranscript:
        """See :meth:`Stt.transcribe_and_wait_with_tokens`."""
        return await self._arun(
            _transcript(_workflow(self._client, args, fetch_transcript=True)),
            "stt.transcribe_and_wait_with_tokens",
        )

    async def translate(self, **args: Unpack[TranslateArgs]) -> Transcription:
        """See :meth:`Stt.translate`."""
        return await self._arun(
            _job(_workflow(self._client, args, translate=True)), "stt.translate"
        )

    async def translate_from_url(
        self, *, audio_url: str, **args: Unpack[TranslateJobArgs]
    ) -> Transcription:
        """See :meth:`Stt.translate_from_url`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "audio_url": audio_url}, translate=True)),
            "stt.translate_from_url",
        )

    async def translate_from_file_id(
        self, *, file_id: str, **args: Unpack[TranslateJobArgs]
    ) -> Transcription:
        """See :meth:`Stt.translate_from_file_id`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "file_id": file_id}, translate=True)),
            "stt.translate_from_file_id",
        )

    async def translate_from_file(
        self, *, file: UploadSource, **args: Unpack[TranslateFileArgs]
    ) -> Transcription:
        """See :meth:`Stt.translate_from_file`."""
        return await self._arun(
            _job(_workflow(self._client, {**args, "file": file}, translate=True)),
            "stt.translate_from_file",
        )

    async def translate_and_wait(self, **args: Unpack[TranslateWaitArgs]) -> Transcription:
        """See :meth:`Stt.translate_and_wait`."""
        return await self._arun(
            _job(_workflow(self._client, args, translate=True, wait=True)), "stt.translate_and_wait"
        )

    async def translate_and_wait_with_tokens(
        self, **args: Unpack[TranslateWaitArgs]
    ) -> TranscriptionTranscript:
        """See :meth:`Stt.translate_and_wait_with_tokens`."""
        return await self._arun(
            _transcript(_workflow(self._client, args, translate=True, fetch_transcript=True)),
            "stt.translate_and_wait_with_tokens",
        )

    # Batches --------------------------------------------------------------------------------------
    async def transcribe_many(
        self,
        sources: Iterable[BatchSource],
        *,
        concurrency: int = 4,
        progress: BatchProgress | None = None,
        **args: Unpack[BatchArgs],
    ) -> list[BatchResult]:
        """Transcribe every source with at most ``concurrency`` in flight (see
        :meth:`Stt.transcribe_many`)."""
        batch = _Batch(self._client, sources, args)
        with self._client.stack.operation("stt.transcribe_many"):
            return await run_batch_async(
                self._client, batch.labels, batch.flow, concurrency=concurrency, progress=progress
            )
