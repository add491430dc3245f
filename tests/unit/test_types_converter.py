"""Converter rules: tolerance of new fields and values, omitted request fields, dates, money."""

from __future__ import annotations

import gc
import json
import time
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import msgspec
import pytest

from soniox.errors import DecodeError, SonioxError
from soniox.types import (
    AudioFormat,
    ConcurrencyLimits,
    CreateTemporaryApiKeyResponse,
    CreateTranscriptionPayload,
    File,
    FinalizeMessage,
    GetFilesPayload,
    KeepaliveMessage,
    RealtimeConfig,
    RealtimeErrorFrame,
    RealtimeResponse,
    RealtimeToken,
    StructuredContext,
    Transcription,
    TranscriptionStatus,
    TranscriptionTranscript,
    TranscriptionTranscriptToken,
    TranslationConfig,
    UsageLogEntry,
    UsageSummaryEntry,
    WebhookEvent,
    dumps,
    format_datetime,
    loads,
    loads_control_message,
    loads_realtime_message,
    parse_datetime,
    structure,
    unstructure,
)

FILE = {
    "id": "84c32fc6-4fb5-4e7a-b656-b5ec70493753",
    "filename": "example.mp3",
    "size": 123456,
    "created_at": "2024-11-26T00:00:00Z",
}
JOB = {
    "id": "73d4357d-cad2-4338-a60d-ec6f2044f721",
    "status": "completed",
    "created_at": "2024-11-26T00:00:00Z",
    "model": "stt-async-v5",
    "filename": "a.mp3",
}
USAGE_LOG = {
    "uuid": "u1",
    "request_scope": "api",
    "client_reference_id": "",
    "model": "stt-async-v5",
    "start_time": "2026-01-01T00:00:00Z",
    "end_time": "2026-01-01T00:01:00.250Z",
    "input_text_tokens": 0,
    "input_audio_tokens": 10,
    "input_audio_duration_ms": 60000,
    "output_text_tokens": 5,
    "output_audio_tokens": 0,
    "output_audio_duration_ms": 0,
    "cost_usd": "0.0012",
    "input_cost_usd": "0.001",
    "input_text_cost_usd": "0",
    "input_audio_cost_usd": "0.001",
    "output_cost_usd": "0.0002",
    "output_text_cost_usd": "0.0002",
    "output_audio_cost_usd": "0",
}


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


# --- forward compatibility ---------------------------------------------------------------------


def test_loads_ignores_unknown_fields() -> None:
    """A field added to an answer later does not break parsing from bytes."""
    assert loads(_body({**FILE, "new_field": {"x": 1}}), File).size == 123456


def test_structure_ignores_unknown_fields() -> None:
    """A field added to an answer later does not break parsing from a dict."""
    assert structure({**FILE, "new_field": [1, 2]}, File).filename == "example.mp3"


def test_unknown_enum_value_parses() -> None:
    """A status added to the API later parses instead of failing the whole response."""
    job = loads(_body({**JOB, "status": "archived"}), Transcription)
    assert job.status == "archived"
    assert not job.status.is_known


def test_unknown_enum_value_is_written_back_unchanged() -> None:
    """An unknown enum value round-trips to the same wire string."""
    job = structure({**JOB, "status": "archived"}, Transcription)
    assert unstructure(job)["status"] == "archived"


def test_known_enum_value_is_the_member() -> None:
    """A known value parses to the canonical member, so ``is`` comparisons work."""
    assert loads(_body(JOB), Transcription).status is TranscriptionStatus.COMPLETED


def test_structure_gives_enum_not_plain_str() -> None:
    """The dict path also produces the enum type (a StrEnum compares equal to str either way)."""
    assert type(structure(JOB, Transcription).status) is TranscriptionStatus


def test_unknown_enum_repr_says_unknown() -> None:
    """An unknown value's repr flags it as unknown to this SDK version."""
    assert "unknown" in repr(TranscriptionStatus("archived"))


def test_missing_schema_required_flags_default_false() -> None:
    """The API's own Transcription examples lack the enable_* flags: they default to False."""
    assert loads(_body(JOB), Transcription).enable_speaker_diarization is False


def test_lenient_path_accepts_numeric_strings() -> None:
    """A number sent as a string (type drift) still parses, through the lenient path."""
    assert loads(_body({**FILE, "size": "42"}), File).size == 42


def test_lenient_path_accepts_number_for_text() -> None:
    """A speaker label sent as a number still parses as text."""
    body = _body({"text": "a", "start_ms": 0, "end_ms": 1, "confidence": 1, "speaker": 2})
    assert loads(body, TranscriptionTranscriptToken).speaker == "2"


def test_boolean_text_is_rejected() -> None:
    """ "false" is not silently read as True (bool("false") would be)."""
    with pytest.raises(DecodeError):
        structure({**JOB, "enable_speaker_diarization": "false"}, Transcription)


# --- requests omit what is unset -------------------------------------------------------------


def test_request_omits_unset_fields() -> None:
    """A create request carries only the fields the caller set."""
    assert unstructure(CreateTranscriptionPayload(model="m", file_id="f")) == {
        "model": "m",
        "file_id": "f",
    }


def test_request_keeps_explicit_false() -> None:
    """False is a value, not "unset": it is sent."""
    payload = CreateTranscriptionPayload(model="m", enable_speaker_diarization=False)
    assert unstructure(payload)["enable_speaker_diarization"] is False


def test_nested_request_objects_omit_unset_fields() -> None:
    """Unset fields inside nested request objects are left out too."""
    payload = CreateTranscriptionPayload(
        model="m",
        translation=TranslationConfig.one_way("fr"),
        context=StructuredContext(terms=["Soniox"]),
    )
    assert unstructure(payload) == {
        "model": "m",
        "translation": {"type": "one_way", "target_language": "fr"},
        "context": {"terms": ["Soniox"]},
    }


def test_query_payload_with_nothing_set_is_empty() -> None:
    """A list query with defaults sends no parameters (the server's defaults apply)."""
    assert unstructure(GetFilesPayload()) == {}


def test_legacy_string_context_is_kept() -> None:
    """``context`` accepts the legacy plain-string form in both directions."""
    payload = structure({"model": "m", "context": "medical call"}, CreateTranscriptionPayload)
    assert payload.context == "medical call"
    assert unstructure(payload)["context"] == "medical call"


def test_structured_context_dict_parses_to_class() -> None:
    """An object ``context`` parses into StructuredContext, not a dict."""
    payload = structure({"model": "m", "context": {"text": "x"}}, CreateTranscriptionPayload)
    assert payload.context == StructuredContext(text="x")


def test_response_keeps_nulls() -> None:
    """Answers are written with every key, nulls included, as the API sends them."""
    written = unstructure(loads(_body(JOB), Transcription))
    assert "error_message" in written
    assert written["error_message"] is None


def test_token_omits_absent_features() -> None:
    """A token without diarization/language ID is written without those keys."""
    token = TranscriptionTranscriptToken(text="a", start_ms=0, end_ms=5, confidence=0.5)
    assert unstructure(token) == {"text": "a", "start_ms": 0, "end_ms": 5, "confidence": 0.5}


def test_dumps_gives_compact_json_bytes() -> None:
    """dumps() produces the request body bytes."""
    assert dumps(FinalizeMessage(trailing_silence_ms=300)) == (
        b'{"type":"finalize","trailing_silence_ms":300}'
    )


def test_keepalive_wire_form() -> None:
    """The keepalive control frame is exactly {"type": "keepalive"}."""
    assert dumps(KeepaliveMessage()) == b'{"type":"keepalive"}'


def test_realtime_config_sends_auto_format_by_default() -> None:
    """The config names ``audio_format: auto`` unless told otherwise, and nothing unset."""
    assert unstructure(RealtimeConfig(model="stt-rt-v5")) == {
        "model": "stt-rt-v5",
        "audio_format": "auto",
    }


# --- timestamps and money ----------------------------------------------------------------------


def test_z_timestamp_parses_as_aware_utc() -> None:
    """``...Z`` becomes an aware UTC datetime."""
    created = loads(_body(FILE), File).created_at
    assert created == datetime(2024, 11, 26, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)


def test_fractional_z_timestamp_parses() -> None:
    """Millisecond timestamps (temporary key expiry) parse exactly."""
    assert parse_datetime("2025-02-22T22:47:37.150Z").microsecond == 150000


def test_naive_timestamp_is_read_as_utc() -> None:
    """A timestamp without offset is taken as UTC (the API documents UTC)."""
    created = loads(_body({**FILE, "created_at": "2024-11-26T00:00:00"}), File).created_at
    assert created.tzinfo is not None
    assert created == datetime(2024, 11, 26, tzinfo=UTC)


def test_timestamp_written_in_api_form() -> None:
    """Timestamps are written back as UTC with a ``Z`` suffix."""
    assert unstructure(loads(_body(FILE), File))["created_at"] == "2024-11-26T00:00:00Z"


def test_offset_timestamp_written_as_utc() -> None:
    """A datetime with another offset is converted to UTC when written."""
    plus_two = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(plus_two) == "2024-01-01T00:00:00Z"


def test_money_parses_to_decimal() -> None:
    """Cost strings become exact Decimals, never floats."""
    assert loads(_body(USAGE_LOG), UsageLogEntry).cost_usd == Decimal("0.0012")


def test_money_written_as_string() -> None:
    """Decimals are written back as the same decimal strings."""
    assert unstructure(structure(USAGE_LOG, UsageLogEntry))["cost_usd"] == "0.0012"


def test_usage_days_parse_to_dates() -> None:
    """The per-day axis of a usage summary parses to dates."""
    entry: dict[str, object] = {"model": None, "days": ["2026-01-01"]}
    for name, annotation in typing.get_type_hints(UsageSummaryEntry).items():
        if name not in entry:
            scalar = "0" if "Decimal" in str(annotation) else 0
            entry[name] = [scalar] if "list" in str(annotation) else scalar
    assert loads(_body(entry), UsageSummaryEntry).days == [date(2026, 1, 1)]


def test_concurrency_null_cap_means_unlimited() -> None:
    """A null limit parses as None (no cap at that scope)."""
    scope = {
        "current": {"transcribe_concurrent": 1, "tts_concurrent": 0},
        "limits": {"transcribe_concurrent": None, "tts_concurrent": 3},
    }
    limits = loads(_body({"project": scope, "organization": scope}), ConcurrencyLimits)
    assert limits.project.limits.transcribe_concurrent is None


# --- failures -------------------------------------------------------------------------------------


def test_invalid_json_raises_decode_error() -> None:
    """A body that is not JSON raises DecodeError, a SonioxError and a ValueError."""
    with pytest.raises(DecodeError) as info:
        loads(b"<html>oops</html>", File)
    assert isinstance(info.value, SonioxError)
    assert isinstance(info.value, ValueError)


def test_missing_required_field_raises_decode_error() -> None:
    """An answer missing a required field names the problem in a DecodeError."""
    with pytest.raises(DecodeError, match="File"):
        loads(_body({"id": "x"}), File)


def test_decode_error_does_not_echo_secrets() -> None:
    """A decode failure on a key-bearing answer does not put the key in the message."""
    with pytest.raises(DecodeError) as info:
        loads(_body({"api_key": "temp:WYJ67RBEFUWQXXPKYPD2UGXKWB", "expires_at": 5}),
              CreateTemporaryApiKeyResponse)  # fmt: skip
    assert "WYJ67RBEFUWQXXPKYPD2UGXKWB" not in str(info.value)
    assert "WYJ67RBEFUWQXXPKYPD2UGXKWB" not in repr(info.value)


# --- reprs ----------------------------------------------------------------------------------------


def test_temporary_key_is_masked_in_repr() -> None:
    """The temporary key never shows in the model's repr."""
    response = CreateTemporaryApiKeyResponse(
        api_key="temp:WYJ67RBEFUWQXXPKYPD2UGXKWB", expires_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert "WYJ67" not in repr(response)


def test_webhook_header_value_is_masked_in_repr() -> None:
    """The webhook auth header value (a shared secret) never shows in a request's repr."""
    payload = CreateTranscriptionPayload(model="m", webhook_auth_header_value="s3cr3t-value")
    assert "s3cr3t-value" not in repr(payload)


def test_legacy_realtime_key_is_masked_in_repr() -> None:
    """The deprecated in-config api_key never shows in the config's repr."""
    assert "sk-live-123456" not in repr(RealtimeConfig(model="m", api_key="sk-live-123456"))


def test_transcript_repr_summarises_tokens() -> None:
    """A transcript's repr counts its tokens instead of printing all of them."""
    token = TranscriptionTranscriptToken(text="a", start_ms=0, end_ms=1, confidence=1.0)
    transcript = TranscriptionTranscript(id="x", text="a" * 500, tokens=[token] * 1000)
    assert "<1000 tokens>" in repr(transcript)
    assert len(repr(transcript)) < 200


# --- realtime -------------------------------------------------------------------------------------


def test_realtime_result_frame_parses() -> None:
    """A result frame parses with final and non-final tokens told apart."""
    frame = {
        "tokens": [
            {"text": "Hel", "start_ms": 120, "end_ms": 240, "confidence": 0.97, "is_final": True},
            {"text": "lo", "is_final": False},
        ],
        "final_audio_proc_ms": 1560,
        "total_audio_proc_ms": 1680,
    }
    message = loads_realtime_message(_body(frame))
    assert isinstance(message, RealtimeResponse)
    assert [t.text for t in message.final_tokens] == ["Hel"]
    assert [t.text for t in message.non_final_tokens] == ["lo"]


def test_realtime_finished_frame_parses() -> None:
    """The last frame carries ``finished: true``."""
    message = loads_realtime_message(
        {"tokens": [], "final_audio_proc_ms": 5, "total_audio_proc_ms": 5, "finished": True}
    )
    assert isinstance(message, RealtimeResponse)
    assert message.finished


def test_realtime_error_frame_parses() -> None:
    """An error frame is recognised as such, not as an empty result."""
    frame = {"error_code": 429, "error_type": "limit_exceeded", "error_message": "slow down"}
    message = loads_realtime_message(_body(frame))
    assert message == RealtimeErrorFrame(
        error_code=429, error_type="limit_exceeded", error_message="slow down"
    )


def test_realtime_translation_token_without_timing() -> None:
    """Translated tokens may lack timing and confidence; they still parse."""
    token = structure(
        {"text": "Hola", "is_final": True, "translation_status": "translation",
         "source_language": "en"},
        RealtimeToken,
    )  # fmt: skip
    assert token.start_ms is None
    assert token.translation_status == "translation"


def test_special_tokens_are_flagged() -> None:
    """<end> and <fin> are markers, not transcript text."""
    assert RealtimeToken(text="<fin>", is_final=True).is_special


def test_control_messages_parse_by_type() -> None:
    """A server (or the emulator) reads control frames by their ``type``."""
    assert loads_control_message(b'{"type":"finalize","trailing_silence_ms":200}') == (
        FinalizeMessage(trailing_silence_ms=200)
    )
    assert loads_control_message('{"type":"keepalive"}') == KeepaliveMessage()


def test_unknown_control_message_is_a_decode_error() -> None:
    """An unknown control type is reported, not guessed."""
    with pytest.raises(DecodeError):
        loads_control_message(b'{"type":"pause"}')


def test_raw_audio_format_needs_rate_and_channels() -> None:
    """A raw PCM config without sample_rate/num_channels is flagged before connecting."""
    assert RealtimeConfig(model="m", audio_format=AudioFormat.PCM_S16LE).problems()
    assert not RealtimeConfig(
        model="m", audio_format=AudioFormat.PCM_S16LE, sample_rate=16000, num_channels=1
    ).problems()


def test_container_formats_are_not_raw() -> None:
    """Self-describing formats need no rate or channel count."""
    assert not AudioFormat.MP3.is_raw
    assert AudioFormat.MULAW.is_raw


def test_terminal_statuses() -> None:
    """Polling stops on completed or error only."""
    assert [s.is_terminal for s in TranscriptionStatus] == [False, False, True, True]


def test_webhook_event_parses() -> None:
    """The webhook body parses into WebhookEvent."""
    event = loads(b'{"id":"73d4357d","status":"error"}', WebhookEvent)
    assert event.status is TranscriptionStatus.ERROR


# --- the hot path --------------------------------------------------------------------------------


def test_tokens_are_not_tracked_by_the_gc() -> None:
    """Transcript tokens are GC-untracked Structs: no collector work for 200k of them."""
    token = TranscriptionTranscriptToken(text="a", start_ms=0, end_ms=1, confidence=1.0)
    assert isinstance(token, msgspec.Struct)
    assert not gc.is_tracked(token)


def test_large_transcript_parses_faster_than_json_loads() -> None:
    """Typed parsing of 20k tokens beats plain json.loads (benchmarks/bench_parse.py: ~3x)."""
    tokens = [
        {"text": " w", "start_ms": i * 10, "end_ms": i * 10 + 9, "confidence": 0.9,
         "speaker": "1", "language": "en"}
        for i in range(20_000)
    ]  # fmt: skip
    body = _body({"id": "x", "text": "w" * 20_000, "tokens": tokens})

    def best(fn: object) -> float:
        runs: list[float] = []
        for _ in range(3):
            start = time.perf_counter()
            fn(body)  # type: ignore[operator]
            runs.append(time.perf_counter() - start)
        return min(runs)

    assert best(lambda b: loads(b, TranscriptionTranscript)) < best(json.loads)
