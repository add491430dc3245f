"""Property tests: every model survives unstructure→structure and dumps→loads unchanged."""

from __future__ import annotations

import enum
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import soniox.types as t
from soniox.types import OpenStrEnum, dumps, loads, structure, unstructure

MODELS: list[type[Any]] = sorted(
    {
        obj
        for name in t.__all__
        if isinstance(obj := getattr(t, name), type)
        and (attrs.has(obj) or issubclass(obj, msgspec.Struct))
    },
    key=lambda c: c.__name__,
)

_JSON_INTS = st.integers(min_value=-(2**53), max_value=2**53)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_DATETIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def _enum_values(cls: type[OpenStrEnum]) -> st.SearchStrategy[Any]:
    """Known members, and values a newer API might add — not the string "null" in any case,
    which the lenient reader takes for a JSON null on an optional field (msgspec's lax mode)."""
    unknown = st.text(min_size=1, max_size=12).filter(lambda s: s.lower() != "null").map(cls)
    return st.one_of(st.sampled_from(list(cls)), unknown)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for one field type, as the wire can carry it (JSON-safe ints, aware UTC)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return strategy_for(args[0])
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy_for(a) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(strategy_for(args[0]), max_size=3)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, OpenStrEnum):
        return _enum_values(tp)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=20),
        bool: st.booleans(),
        int: _JSON_INTS,
        float: _FLOATS,
        datetime: _DATETIMES,
        date: st.dates(),
        Decimal: st.decimals(allow_nan=False, allow_infinity=False, places=6),
    }
    if tp in simple:
        return simple[tp]
    if attrs.has(tp) or (isinstance(tp, type) and issubclass(tp, msgspec.Struct)):
        return model_strategy(tp)
    raise AssertionError(f"no strategy for {tp!r}")


_CODES = st.text(min_size=2, max_size=2)
_TRANSLATIONS = st.one_of(
    st.builds(t.TranslationConfig.one_way, _CODES),
    st.builds(t.TranslationConfig.two_way, _CODES, _CODES),
)
_VALID: dict[type[Any], st.SearchStrategy[Any]] = {
    # Models that check rules spanning fields (or ranges) at construction: only valid
    # instances exist.
    t.TranslationConfig: _TRANSLATIONS,
    t.RealtimeSTTConfig: st.builds(
        t.RealtimeSTTConfig,
        model=st.text(min_size=1, max_size=10),
        audio_format=st.sampled_from(
            [t.AudioFormat.AUTO, t.AudioFormat.WAV, t.AudioFormat.PCM_S16LE, t.AudioFormat.MULAW]
        ),
        sample_rate=st.integers(8000, 48000),
        num_channels=st.integers(1, 2),
        language_hints=st.none() | st.lists(_CODES, max_size=3),
        enable_endpoint_detection=st.none() | st.booleans(),
        max_endpoint_delay_ms=st.none() | st.integers(500, 3000),
        endpoint_sensitivity=st.none() | st.floats(-1, 1),
        endpoint_latency_adjustment_level=st.none() | st.integers(0, 3),
        translation=st.none() | _TRANSLATIONS,
        client_reference_id=st.none() | st.text(max_size=256),
    ),
}


def model_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Instances of an attrs model or a msgspec Struct, every field drawn from its type."""
    if cls in _VALID:
        return _VALID[cls]
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in attrs.fields(cls)] if attrs.has(cls) else cls.__struct_fields__
    return st.builds(
        cls, **{name: st.deferred(lambda h=hints[name]: strategy_for(h)) for name in names}
    )


def _ids(models: list[type[Any]]) -> list[str]:
    return [m.__name__ for m in models]


@pytest.mark.parametrize("cls", MODELS, ids=_ids(MODELS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_structure_inverts_unstructure(cls: type[Any], data: st.DataObject) -> None:
    """structure(unstructure(x)) == x for every model."""
    value = data.draw(model_strategy(cls))
    assert structure(unstructure(value), cls) == value


@pytest.mark.parametrize("cls", MODELS, ids=_ids(MODELS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_loads_inverts_dumps(cls: type[Any], data: st.DataObject) -> None:
    """loads(dumps(x)) == x for every model: the fast bytes path reads what we write."""
    value = data.draw(model_strategy(cls))
    assert loads(dumps(value), cls) == value


@pytest.mark.parametrize("cls", MODELS, ids=_ids(MODELS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_unstructure_is_plain_json(cls: type[Any], data: st.DataObject) -> None:
    """unstructure() yields only JSON types (no enums, datetimes or Decimals leak out)."""
    value = data.draw(model_strategy(cls))

    def plain(node: object) -> bool:
        if isinstance(node, dict):
            return all(type(k) is str and plain(v) for k, v in node.items())
        if isinstance(node, list):
            return all(plain(v) for v in node)
        return node is None or type(node) in (str, int, float, bool)

    assert plain(unstructure(value))


def test_every_model_is_covered() -> None:
    """The property tests see every exported model, including the usage and realtime shapes."""
    names = {m.__name__ for m in MODELS}
    assert {
        "GetUsageSummaryResponse",
        "GetConcurrencyLimitsResponse",
        "GetConcurrentStreamsHistoryResponse",
        "CreateTranscriptionConfig",
        "RealtimeConfig",
        "WebhookEvent",
    } <= names
    assert all(issubclass(m, enum.Enum) is False for m in MODELS)
