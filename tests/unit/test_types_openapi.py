"""The typed models against the OpenAPI document: coverage of every schema and every example."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import msgspec
import pytest

from soniox.types import SCHEMA_TYPES, dumps, loads, structure, unstructure

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "soniox-openapi.json"
SPEC: dict[str, Any] | None = json.loads(SPEC_PATH.read_text()) if SPEC_PATH.exists() else None
NO_SPEC = f"OpenAPI document not found at {SPEC_PATH} (shared/ is not checked out beside the repo)"


def _schemas() -> dict[str, Any]:
    return {} if SPEC is None else SPEC["components"]["schemas"]


def _params(items: list[tuple[str, Any]]) -> list[Any]:
    """pytest params named by their id, or one skipped param when the spec is absent."""
    if SPEC is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_SPEC), id="no-spec")]
    return [pytest.param(value, id=name) for name, value in items]


def _component_examples() -> list[tuple[str, Any]]:
    return [(name, (name, s["example"])) for name, s in _schemas().items() if "example" in s]


def _success_examples() -> list[tuple[str, Any]]:
    """(schema name, example) of every documented 2xx JSON answer."""
    found: list[tuple[str, Any]] = []
    for path, operations in ({} if SPEC is None else SPEC["paths"]).items():
        for method, op in operations.items():
            for code, response in op.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                ref = content.get("schema", {}).get("$ref", "")
                if code.startswith("2") and "example" in content and ref:
                    name = ref.rsplit("/", 1)[-1]
                    found.append((f"{method} {path} {code}", (name, content["example"])))
    return found


def _object_schemas() -> list[tuple[str, Any]]:
    return [(n, n) for n, s in _schemas().items() if s.get("type") == "object"]


def _enum_schemas() -> list[tuple[str, Any]]:
    return [(n, n) for n, s in _schemas().items() if "enum" in s]


def _field_names(cls: Any) -> set[str]:
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return set(cls.__struct_fields__)
    return {f.name for f in attrs.fields(cls)}


def _validator(name: str) -> jsonschema.Draft202012Validator:
    assert SPEC is not None
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_every_schema_has_a_type() -> None:
    """Every OpenAPI component schema is modelled, and every mapping names a real schema."""
    if SPEC is None:
        pytest.skip(NO_SPEC)
    assert set(SCHEMA_TYPES) == set(_schemas())


@pytest.mark.parametrize("name", _params(_object_schemas()))
def test_model_has_every_schema_property(name: str) -> None:
    """An object schema's properties are all fields of its class (none silently dropped)."""
    assert set(_schemas()[name]["properties"]) <= _field_names(SCHEMA_TYPES[name])


@pytest.mark.parametrize("name", _params(_enum_schemas()))
def test_enum_has_every_schema_value(name: str) -> None:
    """An enum schema's values are exactly the members of its enum class."""
    cls = SCHEMA_TYPES[name]
    assert issubclass(cls, enum.Enum)
    assert {m.value for m in cls} == set(_schemas()[name]["enum"])


@pytest.mark.parametrize("case", _params(_component_examples()))
def test_component_example_loads(case: tuple[str, Any]) -> None:
    """A component's own example parses from bytes into its class."""
    name, example = case
    assert isinstance(loads(json.dumps(example), SCHEMA_TYPES[name]), SCHEMA_TYPES[name])


@pytest.mark.parametrize("case", _params(_component_examples()))
def test_component_example_structures_like_it_loads(case: tuple[str, Any]) -> None:
    """The dict path (structure) and the bytes path (loads) agree on a component example."""
    name, example = case
    assert structure(example, SCHEMA_TYPES[name]) == loads(json.dumps(example), SCHEMA_TYPES[name])


@pytest.mark.parametrize("case", _params(_success_examples()))
def test_response_example_loads(case: tuple[str, Any]) -> None:
    """Every documented success answer parses into the class of its schema."""
    name, example = case
    assert isinstance(loads(json.dumps(example), SCHEMA_TYPES[name]), SCHEMA_TYPES[name])


@pytest.mark.parametrize("case", _params(_success_examples()))
def test_response_example_dumps_valid_against_schema(case: tuple[str, Any]) -> None:
    """What we write back for an answer validates against the OpenAPI schema."""
    name, example = case
    written = json.loads(dumps(loads(json.dumps(example), SCHEMA_TYPES[name])))
    _validator(name).validate(written)


def test_request_example_dumps_as_documented() -> None:
    """The temporary-key request example survives a parse/dump cycle unchanged."""
    if SPEC is None:
        pytest.skip(NO_SPEC)
    example = _schemas()["CreateTemporaryApiKeyPayload"]["example"]
    payload = structure(example, SCHEMA_TYPES["CreateTemporaryApiKeyPayload"])
    assert unstructure(payload) == example
