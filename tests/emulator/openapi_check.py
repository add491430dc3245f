"""Validate emulator responses against the OpenAPI document (operation + status -> schema).

The document is read from ``<repo>/../shared/specs/soniox-openapi.json``; it is never copied
into the repository. ``$ref`` pointers resolve inside the document; ``uuid`` and ``date-time``
formats are checked (date-time strictly as RFC 3339).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "soniox-openapi.json"
_SPEC_URI = "urn:soniox-openapi"
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", flags=re.IGNORECASE
)

_formats = jsonschema.FormatChecker(formats=["uuid"])


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    return not isinstance(value, str) or bool(_RFC3339.match(value))


def load_spec() -> dict[str, Any] | None:
    """The parsed OpenAPI document, or ``None`` when the shared specs are not checked out."""
    if not SPEC_PATH.is_file():
        return None
    return json.loads(SPEC_PATH.read_text())


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenApiChecker:
    """``check(method, template, status, body, content_type)`` raises on any mismatch."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)

    def operation(self, method: str, template: str) -> Mapping[str, Any]:
        paths = self.spec["paths"]
        assert template in paths, f"{template} is not a path of the OpenAPI document"
        operation = paths[template].get(method.lower())
        assert operation is not None, f"{method} {template} is not in the OpenAPI document"
        return operation

    def documented_statuses(self, method: str, template: str) -> set[int]:
        return {int(code) for code in self.operation(method, template)["responses"]}

    def validate_schema(self, pointer: str, instance: object) -> None:
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"{_SPEC_URI}#/{pointer}"},
            registry=self._registry,
            format_checker=_formats,
        )
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            details = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
            raise AssertionError(f"response does not match {pointer}: {details}")

    def check(
        self,
        method: str,
        template: str,
        status: int,
        body: bytes,
        content_type: str | None,
        *,
        allow_undocumented_error: bool = False,
    ) -> Any:
        """Validate one response; returns the parsed JSON body (``None`` for no-content)."""
        responses = self.operation(method, template)["responses"]
        key = str(status)
        if key not in responses:
            undocumented = f"{method} {template} answered {status}, which the spec does not list"
            assert allow_undocumented_error, undocumented
            assert status >= 400, undocumented
            pointer = "components/schemas/ApiError"
        else:
            response = responses[key]
            if "content" not in response:
                assert body == b"", f"{status} must have no body, got {body[:80]!r}"
                return None
            pointer = _pointer(
                "paths", template, method.lower(), "responses", key, "content", "application/json"
            )
            pointer += "/schema"
        assert (content_type or "").split(";")[0].strip() == "application/json", content_type
        parsed = json.loads(body)
        self.validate_schema(pointer, parsed)
        return parsed
