"""The realtime types under the official SDK's names: RealtimeSTTConfig (mutable, checked on
assignment and before sending), RealtimeEvent (one-pass msgspec decode, extra fields
tolerated), RealtimeControlType and the special token texts."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.types import (
    TOKEN_TEXT_END,
    TOKEN_TEXT_FIN,
    AudioFormat,
    RealtimeControlType,
    RealtimeEvent,
    RealtimeSTTConfig,
    Token,
    TranslationConfig,
)


def test_a_config_built_then_assigned_as_sonioxs_examples_do() -> None:
    """Fields set after construction are converted (dicts, enums) and sent."""
    config = RealtimeSTTConfig(model="stt-rt-v4")
    config.audio_format = "pcm_s16le"  # type: ignore[assignment]
    config.sample_rate = 16000
    config.num_channels = 1
    config.translation = {"type": "two_way", "language_a": "en", "language_b": "es"}  # type: ignore[assignment]
    config.context = {"general": {"domain": "support"}}  # type: ignore[assignment]
    assert config.audio_format is AudioFormat.PCM_S16LE
    assert isinstance(config.translation, TranslationConfig)
    wire = config.wire()
    assert wire["audio_format"] == "pcm_s16le"
    assert wire["translation"] == {"type": "two_way", "language_a": "en", "language_b": "es"}
    assert wire["context"] == {"general": [{"key": "domain", "value": "support"}]}
    assert "api_key" not in wire
    assert "language_hints" not in wire  # unset fields are not sent


def test_a_raw_format_without_rate_and_channels_is_refused_at_construction() -> None:
    """As officially: pcm_s16le alone is a ClientValidationError naming what is missing."""
    with pytest.raises(ClientValidationError, match="sample_rate and num_channels"):
        RealtimeSTTConfig(model="m", audio_format="pcm_s16le")  # type: ignore[arg-type]


def test_a_raw_format_assigned_later_is_checked_before_sending() -> None:
    """Assigning audio_format first is allowed; wire() refuses until rate and channels are set."""
    config = RealtimeSTTConfig(model="m")
    config.audio_format = AudioFormat.MULAW
    with pytest.raises(ClientValidationError, match="sample_rate"):
        config.wire()
    config.sample_rate, config.num_channels = 8000, 1
    assert config.wire()["audio_format"] == "mulaw"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_endpoint_delay_ms", 499),
        ("max_endpoint_delay_ms", 3001),
        ("endpoint_sensitivity", 1.5),
        ("endpoint_latency_adjustment_level", 4),
        ("endpoint_latency_adjustment_level", True),
        ("client_reference_id", "x" * 257),
        ("sample_rate", 0),
        ("enable_endpoint_detection", "yes"),
        ("language_hints", "en"),
    ],
)
def test_out_of_range_or_mistyped_fields_are_refused_naming_the_field(
    field: str, value: Any
) -> None:
    """Each official check, on assignment, as a ClientValidationError naming the field."""
    config = RealtimeSTTConfig(model="m")
    with pytest.raises(ClientValidationError) as caught:
        setattr(config, field, value)
    assert caught.value.field == field


@given(
    st.integers(500, 3000),
    st.floats(-1.0, 1.0),
    st.integers(0, 3),
    st.text(max_size=256),
)
def test_every_value_in_range_is_accepted_and_sent(
    delay: int, sensitivity: float, level: int, reference: str
) -> None:
    """The ranges' whole span is accepted and reaches the config frame unchanged."""
    config = RealtimeSTTConfig(
        model="m",
        enable_endpoint_detection=True,
        max_endpoint_delay_ms=delay,
        endpoint_sensitivity=sensitivity,
        endpoint_latency_adjustment_level=level,
        client_reference_id=reference,
    )
    wire = config.wire()
    assert (wire["max_endpoint_delay_ms"], wire["endpoint_latency_adjustment_level"]) == (
        delay,
        level,
    )
    assert wire["endpoint_sensitivity"] == sensitivity
    assert wire["client_reference_id"] == reference


_REQUIRED: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=10),
    "is_final": st.booleans(),
}
_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "start_ms": st.integers(0, 10**7),
    "end_ms": st.integers(0, 10**7),
    "confidence": st.floats(0, 1),
    "speaker": st.sampled_from(["1", "2"]),
    "language": st.sampled_from(["en", "es"]),
}
tokens: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    st.fixed_dictionaries(_REQUIRED, optional=_OPTIONAL), max_size=5
)


@given(
    tokens,
    st.integers(0, 10**7),
    st.booleans(),
    st.dictionaries(st.sampled_from(["x", "y"]), st.integers()),
)
def test_result_messages_decode_field_for_field(
    items: list[dict[str, Any]], watermark: int, finished: bool, extra: dict[str, int]
) -> None:
    """Any result message decodes to the same tokens and numbers; unknown fields are ignored."""
    raw = json.dumps(
        {
            "tokens": items,
            "final_audio_proc_ms": watermark,
            "total_audio_proc_ms": watermark + 100,
            "finished": finished,
            **extra,
        }
    )
    event = RealtimeEvent.validate_event(raw)
    assert [t.text for t in event.tokens] == [i["text"] for i in items]
    assert [t.is_final for t in event.tokens] == [i["is_final"] for i in items]
    assert [t.start_ms for t in event.tokens] == [i.get("start_ms") for i in items]
    assert (event.final_audio_proc_ms, event.finished) == (watermark, finished)
    assert event.error_code is None


def test_an_error_message_decodes_with_its_code_and_type() -> None:
    """The server's error frame is an event with error_code, error_message and error_type."""
    event = RealtimeEvent.validate_event(
        b'{"error_code": 503, "error_type": "service_unavailable",'
        b' "error_message": "Cannot continue request", "request_id": "r1"}'
    )
    assert event.is_error
    assert (event.error_code, event.error_type, event.request_id) == (
        503,
        "service_unavailable",
        "r1",
    )


@pytest.mark.parametrize("raw", [b"not json", b'{"tokens": 3}', b'{"finished": "no"}', b"[]"])
def test_malformed_messages_are_decode_errors(raw: bytes) -> None:
    """What is not a realtime message raises msgspec's typed error, never a bare KeyError."""
    with pytest.raises(msgspec.DecodeError):
        RealtimeEvent.validate_event(raw)


def test_the_official_constants_and_control_names() -> None:
    """TOKEN_TEXT_FIN / _END, RealtimeControlType values, and Token as the event's token."""
    assert (TOKEN_TEXT_FIN, TOKEN_TEXT_END) == ("<fin>", "<end>")
    assert [c.value for c in RealtimeControlType] == ["finish", "keep_alive", "finalize"]
    assert RealtimeControlType.FINALIZE == "finalize"
    event = RealtimeEvent.validate_event('{"tokens": [{"text": "<fin>", "is_final": true}]}')
    assert isinstance(event.tokens[0], Token)
    assert event.tokens[0].is_special
