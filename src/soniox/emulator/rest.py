"""The emulator's REST application: routing, bearer auth, handlers and error mapping.

Covers every path of the OpenAPI document (files, transcriptions, models, TTS models,
temporary keys) plus the usage endpoints the SDK knows (``/v1/usage/summary``,
``/v1/usage-logs``, ``/v1/concurrency-limits``, ``/v1/concurrent-streams-history``). Every
failure leaves as an ``ApiError`` body carrying the request's id: unknown path 404
``not_found``, wrong method 405 ``method_not_allowed`` (with ``Allow``), missing or wrong key 401
``unauthenticated``, and the documented per-route errors. Routing happens before auth, so a
typo in a path reads as 404 whatever the key.

Choices where the API is silent: the stored-file and transcription caps answer 429
``limit_exceeded``; deleting a transcription leaves its uploaded file alone (the SDK deletes it
separately); a malformed id in a path is simply not found (404).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from ._exchange import ClientDisconnected
from .auth import Authenticator
from .catalog import models_json, tts_models_json
from .config import EmulatorConfig
from .engines.base import RecognitionEngine
from .errors import ApiFailure, ValidationIssue, api_error_response
from .faults import FaultPlan
from .http_types import BodyTooLarge, IncomingRequest, OutgoingResponse
from .jobs import JobFailure, JobRunner, copy_into_job
from .limits import AccountLimits, retry_after_header
from .multipart import discard_body, receive_upload
from .store import Store, StoredFile, StoredTranscription, TranscriptionStatus
from .timefmt import iso_z, utc_now
from .usage import UsageLedger
from .usage_api import (
    concurrency_limits_json,
    concurrent_streams_history_json,
    usage_logs_json,
    usage_summary_json,
)
from .validation import (
    MAX_JSON_BODY_BYTES,
    TranscriptionRequest,
    normalize_uuid,
    parse_json_body,
    parse_limit,
    validate_create_transcription,
    validate_temporary_key,
)
from .webhooks import WebhookSender

__all__ = ["RestApp"]

log = logging.getLogger("soniox.emulator.rest")

Params = dict[str, str]
Handler = Callable[["_Call"], Awaitable[OutgoingResponse]]


@attrs.frozen
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


class _Call:
    """One request as a handler sees it: path params, parsed query, and guarded body access.

    The body is pulled only through :meth:`chunks` / :meth:`json`, so the app knows whether a
    handler started reading it and can discard an unread body before answering an error.
    """

    def __init__(self, request: IncomingRequest, params: Params) -> None:
        self.request = request
        self.params = params
        self.body_started = False
        self.account = ""
        pairs = urllib.parse.parse_qsl(request.query, keep_blank_values=True)
        self.query: dict[str, str] = dict(pairs)

    def chunks(self) -> AsyncIterator[bytes]:
        self.body_started = True
        return self.request.body_chunks()

    async def json(self) -> object:
        self.body_started = True
        try:
            raw = await self.request.read_body(MAX_JSON_BODY_BYTES)
        except BodyTooLarge:
            raise ApiFailure(
                400,
                "invalid_request",
                f"Request body too large (maximum is {MAX_JSON_BODY_BYTES} bytes).",
            ) from None
        return parse_json_body(raw)


def _json(status: int, payload: object) -> OutgoingResponse:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return OutgoingResponse(
        status=status, headers=[("content-type", "application/json")], body=body
    )


def _no_content() -> OutgoingResponse:
    return OutgoingResponse(status=204, headers=[], body=b"")


def _url_filename(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    name = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    return name or "audio"


class RestApp:
    """Handles every non-admin, non-WebSocket request; owns the async-API state and jobs."""

    def __init__(
        self,
        *,
        config: EmulatorConfig,
        faults: FaultPlan,
        auth: Authenticator,
        engine: RecognitionEngine,
        usage: UsageLedger,
        storage_dir: Path,
        limits: AccountLimits | None = None,
    ) -> None:
        self.config = config
        self.faults = faults
        self.auth = auth
        self.limits = limits if limits is not None else AccountLimits()
        self.usage = usage
        self.store = Store()
        self.files_dir = storage_dir / "files"
        self.jobs_dir = storage_dir / "jobs"
        self.webhooks = WebhookSender(config)
        self.jobs = JobRunner(
            config=config,
            engine=engine,
            usage=usage,
            webhooks=self.webhooks,
            jobs_dir=self.jobs_dir,
        )
        self._routes = self._build_routes()
        self._creating = 0
        """Creates past the caps check and not stored yet (their audio is being copied): they
        count against the caps, so concurrent creates cannot all pass the check together."""

    def __repr__(self) -> str:
        return f"RestApp({self.store!r}, {self.jobs!r})"

    async def start(self) -> None:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)

    async def aclose(self) -> None:
        """Cancel running jobs and pending webhook deliveries; close outgoing HTTP clients."""
        await self.jobs.aclose()
        await self.webhooks.aclose()

    # Routing ----------------------------------------------------------------------------------
    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/v1/files", self._list_files),
            ("POST", "/v1/files", self._upload_file),
            ("GET", "/v1/files/count", self._count_files),
            ("GET", "/v1/files/{file_id}", self._get_file),
            ("DELETE", "/v1/files/{file_id}", self._delete_file),
            ("GET", "/v1/transcriptions", self._list_transcriptions),
            ("POST", "/v1/transcriptions", self._create_transcription),
            ("GET", "/v1/transcriptions/count", self._count_transcriptions),
            ("GET", "/v1/transcriptions/{transcription_id}", self._get_transcription),
            ("DELETE", "/v1/transcriptions/{transcription_id}", self._delete_transcription),
            (
                "GET",
                "/v1/transcriptions/{transcription_id}/transcript",
                self._get_transcript,
            ),
            ("GET", "/v1/models", self._models),
            ("GET", "/v1/tts-models", self._tts_models),
            ("POST", "/v1/auth/temporary-api-key", self._temporary_key),
            ("GET", "/v1/usage/summary", self._usage_summary),
            ("GET", "/v1/usage-logs", self._usage_logs),
            ("GET", "/v1/concurrency-limits", self._concurrency_limits),
            ("GET", "/v1/concurrent-streams-history", self._concurrent_streams_history),
        ]
        routes: list[_Route] = []
        for method, template, handler in table:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append(_Route(method, template, re.compile(f"^{regex}$"), handler))
        return routes

    def _match(self, method: str, path: str) -> tuple[_Route, Params]:
        """First route (in table order, so ``/count`` beats ``/{id}``) matching path and method;
        404 if no route has this path, 405 if none of those allows the method."""
        allowed: list[str] = []
        for route in self._routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise ApiFailure(
                405,
                "method_not_allowed",
                "Method Not Allowed.",
                headers=[("allow", ", ".join(sorted(set(allowed))))],
            )
        raise ApiFailure(404, "not_found", "Not found.")

    async def handle(self, request: IncomingRequest) -> OutgoingResponse:
        call: _Call | None = None
        try:
            route, params = self._match(request.method.upper(), request.path)
            call = _Call(request, params)
            call.account = self._authenticate(request)
            self._check_rate(call.account)
            return await route.handler(call)
        except ApiFailure as failure:
            if call is None or not call.body_started:
                await discard_body(request.body_chunks())
            return api_error_response(failure, request.request_id)
        except ClientDisconnected as exc:
            # The client went away mid-request (an upload cut short): an ordinary event, one
            # line; the wire layer records the journal outcome ("disconnected").
            log.info(
                "client disconnected during %s %s (request_id=%s): %s",
                request.method,
                request.path,
                request.request_id,
                exc,
            )
            raise
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return api_error_response(ApiFailure(500, "internal_error"), request.request_id)

    def _authenticate(self, request: IncomingRequest) -> str:
        """The request's account, or ``401 unauthenticated``."""
        result = self.auth.check_bearer(request.headers.get("authorization"))
        if not result.ok:
            request.journal.notes["auth_failure"] = result.reason
            raise ApiFailure(401, "unauthenticated")
        request.journal.auth = "bearer"
        return result.account

    def _check_rate(self, account: str) -> None:
        """The account's requests per minute (when that limit is on)."""
        wait = self.limits.rest_request(account)
        if wait is not None:
            raise ApiFailure(
                429,
                "limit_exceeded",
                "Requests per minute limit has been exceeded for your project.",
                headers=[("retry-after", retry_after_header(wait))],
            )

    # Files ------------------------------------------------------------------------------------
    def _file(self, raw_id: str) -> StoredFile:
        file_id = normalize_uuid(raw_id)
        record = self.store.get_file(file_id) if file_id is not None else None
        if record is None:
            raise ApiFailure(404, "file_not_found")
        return record

    async def _list_files(self, call: _Call) -> OutgoingResponse:
        limit = parse_limit(call.query.get("limit"))
        page = self.store.page("files", self.store.files(), limit, call.query.get("cursor") or None)
        return _json(
            200,
            {"files": [f.to_json() for f in page.items], "next_page_cursor": page.next_cursor},
        )

    def _check_file_cap(self) -> None:
        limit = self.config.max_files
        if self.store.file_count() >= limit:
            raise ApiFailure(
                429,
                "limit_exceeded",
                f"Maximum number of stored files reached (limit is {limit}). "
                "Delete files to upload new ones.",
            )

    async def _upload_file(self, call: _Call) -> OutgoingResponse:
        self._check_file_cap()
        file_id = str(uuid.uuid4())
        partial = self.files_dir / f"{file_id}.part"
        part = await receive_upload(
            call.request.headers.get("content-type"),
            call.chunks(),
            partial,
            max_bytes=self.config.max_upload_bytes,
        )
        final = self.files_dir / file_id
        try:
            client_reference_id = part.fields.get("client_reference_id")
            if client_reference_id is not None and len(client_reference_id) > 256:
                raise ApiFailure(
                    400,
                    "invalid_request",
                    validation_errors=[
                        ValidationIssue(
                            "string_too_long",
                            "body.client_reference_id",
                            "String should have at most 256 characters",
                        )
                    ],
                )
            self._check_file_cap()  # concurrent uploads may have filled the store meanwhile
            partial.rename(final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        record = StoredFile(
            id=file_id,
            seq=self.store.next_seq(),
            filename=part.filename,
            size=part.size,
            created_at=utc_now(),
            path=final,
            client_reference_id=client_reference_id,
        )
        self.store.add_file(record)
        call.request.journal.notes["file_id"] = file_id
        return _json(201, record.to_json())

    async def _count_files(self, call: _Call) -> OutgoingResponse:
        total = self.store.file_count()
        return _json(200, {"total": total, "public_api": total, "playground": 0})

    async def _get_file(self, call: _Call) -> OutgoingResponse:
        record = self._file(call.params["file_id"])
        call.request.journal.notes["file_id"] = record.id
        return _json(200, record.to_json())

    async def _delete_file(self, call: _Call) -> OutgoingResponse:
        record = self._file(call.params["file_id"])
        self.store.remove_file(record.id)
        record.path.unlink(missing_ok=True)
        call.request.journal.notes["file_id"] = record.id
        return _no_content()

    # Transcriptions ----------------------------------------------------------------------------
    def _transcription(self, raw_id: str) -> StoredTranscription:
        transcription_id = normalize_uuid(raw_id)
        record = (
            self.store.get_transcription(transcription_id) if transcription_id is not None else None
        )
        if record is None:
            raise ApiFailure(404, "transcription_not_found")
        return record

    async def _list_transcriptions(self, call: _Call) -> OutgoingResponse:
        limit = parse_limit(call.query.get("limit"))
        page = self.store.page(
            "transcriptions", self.store.transcriptions(), limit, call.query.get("cursor") or None
        )
        return _json(
            200,
            {
                "transcriptions": [t.to_json() for t in page.items],
                "next_page_cursor": page.next_cursor,
            },
        )

    def _check_transcription_caps(self) -> None:
        pending_limit = self.config.max_pending_transcriptions
        pending = self._creating + self.store.count_transcriptions(
            lambda t: t.status == TranscriptionStatus.QUEUED
        )
        if pending >= pending_limit:
            raise ApiFailure(
                429,
                "limit_exceeded",
                f"Maximum number of pending transcriptions reached (limit is {pending_limit}). "
                "Wait for queued transcriptions to start processing.",
            )
        total_limit = self.config.max_total_transcriptions
        if self._creating + self.store.count_transcriptions() >= total_limit:
            raise ApiFailure(
                429,
                "limit_exceeded",
                f"Maximum number of transcriptions reached (limit is {total_limit}). "
                "Delete completed or failed transcriptions to create new ones.",
            )

    async def _create_transcription(self, call: _Call) -> OutgoingResponse:
        payload = await call.json()
        req = validate_create_transcription(
            payload, file_exists=lambda file_id: self.store.get_file(file_id) is not None
        )
        self._check_transcription_caps()
        self._creating += 1  # no await between the check and this: one event loop
        try:
            return await self._store_transcription(call, req)
        finally:
            self._creating -= 1

    async def _store_transcription(
        self, call: _Call, req: TranscriptionRequest
    ) -> OutgoingResponse:
        injected: JobFailure | None = None
        for fired in self.faults.take("job", "POST", "/v1/transcriptions"):
            call.request.journal.faults.append(fired.label)
            if fired.fault.kind == "job_error" and injected is None:
                injected = JobFailure.injected(fired.fault.error_type, fired.fault.message)

        transcription_id = str(uuid.uuid4())
        source: StoredFile | None = None
        if req.file_id is not None:
            source = self.store.get_file(req.file_id)
            if source is None:  # deleted since validation
                raise ApiFailure(
                    400,
                    "invalid_request",
                    validation_errors=[
                        ValidationIssue("value_error", "body.payload.file_id", "File not found")
                    ],
                )
            filename = source.filename
        else:
            assert req.audio_url is not None
            filename = _url_filename(req.audio_url)

        record = StoredTranscription(
            id=transcription_id,
            seq=self.store.next_seq(),
            created_at=utc_now(),
            model=req.model,
            filename=filename,
            audio_url=req.audio_url,
            file_id=req.file_id,
            language_hints=req.language_hints,
            language_hints_strict=req.language_hints_strict,
            enable_speaker_diarization=req.enable_speaker_diarization,
            enable_language_identification=req.enable_language_identification,
            translation=req.translation,
            context=req.context,
            webhook_url=req.webhook_url,
            webhook_auth_header_name=req.webhook_auth_header_name,
            webhook_auth_header_value=req.webhook_auth_header_value,
            client_reference_id=req.client_reference_id,
        )
        if source is not None:
            job_audio = self.jobs.audio_path(transcription_id)
            await asyncio.to_thread(copy_into_job, source.path, job_audio)
            record.audio_path = job_audio
        self.store.add_transcription(record)
        self.jobs.start(record, injected)
        call.request.journal.notes["transcription_id"] = transcription_id
        return _json(201, record.to_json())

    async def _count_transcriptions(self, call: _Call) -> OutgoingResponse:
        total = self.store.count_transcriptions()
        return _json(200, {"total": total, "public_api": total, "playground": 0})

    async def _get_transcription(self, call: _Call) -> OutgoingResponse:
        record = self._transcription(call.params["transcription_id"])
        call.request.journal.notes["transcription_id"] = record.id
        return _json(200, record.to_json())

    async def _delete_transcription(self, call: _Call) -> OutgoingResponse:
        record = self._transcription(call.params["transcription_id"])
        call.request.journal.notes["transcription_id"] = record.id
        if record.status == TranscriptionStatus.PROCESSING:
            raise ApiFailure(
                409,
                "transcription_invalid_state",
                "Cannot delete transcription with processing status.",
            )
        self.jobs.cancel(record)
        self.store.remove_transcription(record.id)
        return _no_content()

    async def _get_transcript(self, call: _Call) -> OutgoingResponse:
        record = self._transcription(call.params["transcription_id"])
        call.request.journal.notes["transcription_id"] = record.id
        if record.status == TranscriptionStatus.ERROR:
            raise ApiFailure(409, "transcription_invalid_state", "File transcription has failed.")
        if record.status != TranscriptionStatus.COMPLETED:
            raise ApiFailure(
                409,
                "transcription_invalid_state",
                "Can only get transcript with completed status.",
            )
        return _json(200, record.transcript_json())

    # Models, keys, usage ------------------------------------------------------------------------
    async def _models(self, call: _Call) -> OutgoingResponse:
        return _json(200, models_json())

    async def _tts_models(self, call: _Call) -> OutgoingResponse:
        return _json(200, tts_models_json())

    async def _temporary_key(self, call: _Call) -> OutgoingResponse:
        req = validate_temporary_key(await call.json())
        temp = self.auth.issue_temporary(
            usage_type=req.usage_type,
            expires_in_seconds=req.expires_in_seconds,
            client_reference_id=req.client_reference_id,
            single_use=req.single_use,
            max_session_duration_seconds=req.max_session_duration_seconds,
            account=call.account,
        )
        call.request.journal.notes["temporary_key_usage_type"] = req.usage_type
        return _json(201, {"api_key": temp.key, "expires_at": iso_z(temp.expires_at)})

    async def _usage_summary(self, call: _Call) -> OutgoingResponse:
        return _json(200, usage_summary_json(self.usage.records(), call.query))

    async def _usage_logs(self, call: _Call) -> OutgoingResponse:
        body: dict[str, Any] = usage_logs_json(self.usage.records(), call.query, self.store.cursors)
        return _json(200, body)

    async def _concurrency_limits(self, call: _Call) -> OutgoingResponse:
        return _json(200, concurrency_limits_json(self.usage.active_streams))

    async def _concurrent_streams_history(self, call: _Call) -> OutgoingResponse:
        body = concurrent_streams_history_json(self.usage.stream_intervals(), call.query, utc_now())
        return _json(200, body)
