"""models, tts_models, auth, usage, usage_logs and concurrency_limits."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from compat_support import CompatEmulator

from soniox import AsyncSonioxClient, SonioxClient
from soniox.errors import SonioxInvalidRequestError
from soniox.types import GetModelsResponse, Model


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _finished_job(emu: CompatEmulator, wav: bytes, reference: str) -> dict[str, object]:
    file_id = emu.upload(wav)["id"]
    return emu.wait_done(emu.create(file_id, client_reference_id=reference)["id"])


# Models -----------------------------------------------------------------------------------------
def test_models_list(client: SonioxClient) -> None:
    """``models.list().models`` describes the async and realtime models and their aliases."""
    response = client.models.list()
    assert isinstance(response, GetModelsResponse)
    by_id = {m.id: m for m in response.models}
    assert all(isinstance(m, Model) for m in response.models)
    async_model = by_id["stt-async-v5"]
    assert async_model.transcription_mode == "async"
    assert async_model.aliased_model_id is None
    assert async_model.name
    assert ("en", "English") in {(lang.code, lang.name) for lang in async_model.languages}
    assert by_id["stt-rt-v5"].transcription_mode == "real_time"
    assert by_id["stt-async-v4"].aliased_model_id == "stt-async-v5"


def test_tts_models_list(client: SonioxClient) -> None:
    """``tts_models.list().models`` lists text-to-speech models with their voices."""
    models = client.tts_models.list().models
    assert models
    for model in models:
        assert model.id
        assert model.name
        assert model.voices
        assert all(v.id and v.gender in ("male", "female", "neutral") for v in model.voices)


# Temporary keys ---------------------------------------------------------------------------------
def test_create_temporary_api_key_defaults(client: SonioxClient, emu: CompatEmulator) -> None:
    """With no arguments: a websocket key that expires in five minutes."""
    before = datetime.now(UTC)
    key = client.auth.create_temporary_api_key()
    assert key.api_key
    assert key.api_key != emu.api_key
    assert key.expires_at.tzinfo is not None
    lifetime = key.expires_at - before
    assert timedelta(seconds=290) < lifetime < timedelta(seconds=310)


def test_create_temporary_api_key_with_every_option(client: SonioxClient) -> None:
    """usage_type, expires_in_seconds, client_reference_id, single_use and the session cap."""
    before = datetime.now(UTC)
    key = client.auth.create_temporary_api_key(
        usage_type="transcribe_websocket",
        expires_in_seconds=60,
        client_reference_id="kiosk-7",
        single_use=True,
        max_session_duration_seconds=600,
    )
    assert key.api_key
    assert timedelta(seconds=50) < key.expires_at - before < timedelta(seconds=70)


# Usage summary ----------------------------------------------------------------------------------
def test_usage_summary_counts_a_finished_job(
    client: SonioxClient, emu: CompatEmulator, wav: bytes, window: tuple[str, str]
) -> None:
    """A finished job adds one request and its audio to the total and to its model's entry."""
    start, end = window
    before = client.usage.summary(start, end)
    _finished_job(emu, wav, "summary")
    after = client.usage.summary(start_time=start, end_time=end)
    total = after.total
    assert total.model is None
    assert total.total_num_requests == before.total.total_num_requests + 1
    assert total.total_input_audio_duration_ms == before.total.total_input_audio_duration_ms + 2000
    assert all(isinstance(d, date) for d in total.days)
    assert total.days[-1] == datetime.now(UTC).date()
    assert len(total.num_requests) == len(total.days) == len(total.cost_usd)
    assert float(total.total_cost_usd) > 0
    [entry] = [m for m in after.models if m.model == "stt-async-v5"]
    assert entry.total_num_requests >= 1


def test_usage_summary_rejects_a_reversed_window(client: SonioxClient) -> None:
    """``end_time`` before ``start_time`` is a SonioxInvalidRequestError."""
    with pytest.raises(SonioxInvalidRequestError):
        client.usage.summary("2026-02-02T00:00:00Z", "2026-02-01T00:00:00Z")


# Usage logs -------------------------------------------------------------------------------------
def test_usage_logs_list_the_job(
    client: SonioxClient, emu: CompatEmulator, wav: bytes, window: tuple[str, str]
) -> None:
    """A finished job is one usage-log entry with its reference, model and audio duration."""
    start, end = window
    _finished_job(emu, wav, "logged-job")
    newest = client.usage_logs.list(start, end, limit=1, sort="end_time_desc")
    [entry] = newest.usage_logs
    assert entry.client_reference_id == "logged-job"
    assert entry.model == "stt-async-v5"
    assert entry.input_audio_duration_ms == 2000
    assert entry.request_scope == "api"
    assert isinstance(entry.end_time, datetime)
    assert entry.start_time <= entry.end_time


def test_usage_logs_pages_and_list_all(
    client: SonioxClient, emu: CompatEmulator, wav: bytes, window: tuple[str, str]
) -> None:
    """``list(limit=1, cursor=)`` pages in order; ``list_all`` yields the same entries."""
    start, end = window
    _finished_job(emu, wav, "page-a")
    _finished_job(emu, wav, "page-b")
    everything = client.usage_logs.list(start_time=start, end_time=end).usage_logs
    paged = []
    cursor = None
    for _ in range(len(everything) + 1):
        page = client.usage_logs.list(start, end, limit=1, cursor=cursor)
        paged += page.usage_logs
        cursor = page.next_page_cursor
        if not cursor:
            break
    assert [e.uuid for e in paged] == [e.uuid for e in everything]
    assert [e.uuid for e in client.usage_logs.list_all(start, end, limit=1)] == [
        e.uuid for e in everything
    ]
    ends = [e.end_time for e in everything]
    assert ends == sorted(ends)
    assert {"page-a", "page-b"} <= {e.client_reference_id for e in everything}


# Concurrency ------------------------------------------------------------------------------------
def test_concurrency_limits_get(client: SonioxClient) -> None:
    """``get()`` reports both scopes: nothing open now, no configured caps."""
    limits = client.concurrency_limits.get()
    for scope in (limits.project, limits.organization):
        assert (scope.current.transcribe_concurrent, scope.current.tts_concurrent) == (0, 0)
        assert (scope.limits.transcribe_concurrent, scope.limits.tts_concurrent) == (None, None)


def test_concurrency_history_hourly(client: SonioxClient) -> None:
    """``history(start, end, period_sec=3600, kind="stt")``: one aligned entry per hour, no gaps."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    history = client.concurrency_limits.history(
        _iso(start), _iso(start + timedelta(hours=5)), period_sec=3600, kind="stt"
    )
    assert history.kind == "stt"
    assert [e.period_start for e in history.entries] == [
        start + timedelta(hours=i) for i in range(5)
    ]
    for entry in history.entries:
        assert (entry.period_sec, entry.total_count, entry.sample_min) == (3600, 60, 0)
        assert entry.sample_count <= entry.total_count


def test_concurrency_history_per_minute_tts(client: SonioxClient) -> None:
    """Per-minute ``tts`` history: ten entries a minute apart, peak 0."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    history = client.concurrency_limits.history(
        start_time=_iso(start),
        end_time=_iso(start + timedelta(minutes=10)),
        period_sec=60,
        kind="tts",
    )
    assert history.kind == "tts"
    assert len(history.entries) == 10
    assert all(
        b.period_start - a.period_start == timedelta(minutes=1)
        for a, b in itertools.pairwise(history.entries)
    )
    assert max(e.sample_max for e in history.entries) == 0


def test_concurrency_history_refuses_a_too_long_window(client: SonioxClient) -> None:
    """Per-minute history over more than seven days is a SonioxInvalidRequestError."""
    with pytest.raises(SonioxInvalidRequestError) as caught:
        client.concurrency_limits.history(
            "2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z", period_sec=60, kind="stt"
        )
    assert caught.value.status_code == 400


# Async ------------------------------------------------------------------------------------------
def test_async_models_and_auth(conn: dict[str, str]) -> None:
    """Async ``models.list``, ``tts_models.list`` and ``auth.create_temporary_api_key``."""

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            models = await client.models.list()
            assert "stt-async-v5" in {m.id for m in models.models}
            assert (await client.tts_models.list()).models
            key = await client.auth.create_temporary_api_key(
                expires_in_seconds=120, client_reference_id="a"
            )
            assert key.api_key
            remaining = key.expires_at - datetime.now(UTC)
            assert timedelta(seconds=100) < remaining <= timedelta(seconds=121)

    asyncio.run(main())


def test_async_usage(
    conn: dict[str, str], emu: CompatEmulator, wav: bytes, window: tuple[str, str]
) -> None:
    """Async ``usage.summary``, ``usage_logs.list`` and ``async for`` over ``usage_logs.list_all``."""
    start, end = window
    _finished_job(emu, wav, "async-usage")

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            summary = await client.usage.summary(start, end)
            assert summary.total.total_num_requests >= 1
            page = await client.usage_logs.list(start, end, limit=1, sort="end_time_desc")
            assert page.usage_logs[0].client_reference_id == "async-usage"
            references = [
                e.client_reference_id async for e in client.usage_logs.list_all(start, end, limit=2)
            ]
            assert "async-usage" in references

    asyncio.run(main())


def test_async_concurrency_limits(conn: dict[str, str]) -> None:
    """Async ``concurrency_limits.get`` and a daily ``history``."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            limits = await client.concurrency_limits.get()
            assert limits.project.current.transcribe_concurrent == 0
            history = await client.concurrency_limits.history(
                _iso(start - timedelta(days=2)), _iso(start), period_sec=86400, kind="stt"
            )
            assert [e.period_start for e in history.entries] == [
                start - timedelta(days=2),
                start - timedelta(days=1),
            ]
            assert {e.total_count for e in history.entries} == {24}

    asyncio.run(main())


def test_async_concurrency_history_refuses_a_reversed_window(conn: dict[str, str]) -> None:
    """Async ``history`` with end before start raises SonioxInvalidRequestError."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    async def main() -> None:
        async with AsyncSonioxClient(**conn) as client:
            with pytest.raises(SonioxInvalidRequestError):
                await client.concurrency_limits.history(
                    _iso(start), _iso(start - timedelta(days=1)), period_sec=3600, kind="stt"
                )

    asyncio.run(main())
