"""The emulator's own control API under ``/_emulator/``: health, fault plan, journal.

This is how a test drives an emulator it does not share memory with (``Emulator(mode=
"subprocess")``, or one started with ``soniox emulator`` in another shell): post fault rules,
read what was received. Admin requests are never faulted and never journaled, so scripting the
emulator does not disturb what a test asserts on. The API is JSON in, JSON out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, cast
from urllib.parse import parse_qs

from .faults import Fault, FaultPlan
from .http_types import BodyTooLarge, IncomingRequest, OutgoingResponse
from .journal import Journal
from .limits import AccountLimits, LimitSettings

__all__ = ["ADMIN_PREFIX", "AdminApp"]

ADMIN_PREFIX = "/_emulator/"
_MAX_BODY = 1024 * 1024


class _Target(Protocol):
    @property
    def faults(self) -> FaultPlan: ...

    @property
    def journal(self) -> Journal: ...


def _json(status: int, payload: object) -> OutgoingResponse:
    return OutgoingResponse(
        status=status,
        headers=[("content-type", "application/json"), ("cache-control", "no-store")],
        body=json.dumps(payload, default=str).encode(),
    )


def _error(
    status: int, message: str, headers: list[tuple[str, str]] | None = None
) -> OutgoingResponse:
    response = _json(status, {"error": message})
    response.headers.extend(headers or [])
    return response


def _no_content() -> OutgoingResponse:
    return OutgoingResponse(status=204)


class AdminApp:
    """Serves ``/_emulator/health``, ``/_emulator/faults``, ``/_emulator/journal`` and
    ``/_emulator/limits`` (GET the settings and counts; PUT settings as JSON —
    ``{"rest_requests_per_minute": 600, "realtime_streams": 10}``, absent fields off; DELETE:
    all off)."""

    _ALLOWED: Mapping[str, tuple[str, ...]] = {
        "health": ("GET",),
        "faults": ("GET", "POST", "DELETE"),
        "journal": ("GET", "DELETE"),
        "limits": ("GET", "PUT", "DELETE"),
    }

    def __init__(self, app: _Target) -> None:
        self._app = app

    def __repr__(self) -> str:
        return f"AdminApp({sorted(self._ALLOWED)})"

    async def handle(self, request: IncomingRequest) -> OutgoingResponse:
        name = request.path.removeprefix(ADMIN_PREFIX).strip("/")
        allowed = self._ALLOWED.get(name)
        if allowed is None:
            return _error(404, f"unknown admin endpoint {request.path!r}")
        if request.method not in allowed:
            return _error(
                405,
                f"{request.method} is not allowed on {request.path}",
                [("allow", ", ".join(allowed))],
            )
        if name == "health":
            return _json(200, {"status": "ok"})
        if name == "faults":
            return await self._faults(request)
        if name == "limits":
            return await self._limits(request)
        return self._journal(request)

    async def _limits(self, request: IncomingRequest) -> OutgoingResponse:
        limits: object = getattr(self._app, "limits", None)
        if not isinstance(limits, AccountLimits):
            return _error(404, "this application has no account limits")
        if request.method == "DELETE":
            limits.configure(LimitSettings())
            return _no_content()
        if request.method == "PUT":
            try:
                raw = await request.read_body(limit=_MAX_BODY)
                data: object = json.loads(raw or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("the body must be a JSON object of limits")
                limits.configure(LimitSettings.from_json(cast(dict[str, object], data)))
            except BodyTooLarge:
                return _error(413, f"limit bodies are limited to {_MAX_BODY} bytes")
            except (TypeError, ValueError) as exc:
                return _error(400, f"invalid limits: {exc}")
        return _json(200, limits.snapshot())

    async def _faults(self, request: IncomingRequest) -> OutgoingResponse:
        plan = self._app.faults
        if request.method == "GET":
            return _json(200, plan.snapshot())
        if request.method == "DELETE":
            plan.clear()
            return _no_content()
        try:
            raw = await request.read_body(limit=_MAX_BODY)
        except BodyTooLarge:
            return _error(413, f"fault plan bodies are limited to {_MAX_BODY} bytes")
        try:
            data: object = json.loads(raw or b"null")
        except ValueError as exc:
            return _error(400, f"request body is not valid JSON: {exc}")
        items: list[object] = cast(list[object], data) if isinstance(data, list) else [data]
        faults: list[Fault] = []
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                return _error(400, f"fault #{position} must be a JSON object, got {_kind(item)}")
            try:
                faults.append(Fault.from_json(cast(dict[str, Any], item)))
            except (TypeError, ValueError) as exc:
                return _error(400, f"fault #{position} is invalid: {exc}")
        indexes = plan.extend(faults)
        return _json(201, {"indexes": indexes})

    def _journal(self, request: IncomingRequest) -> OutgoingResponse:
        journal = self._app.journal
        if request.method == "DELETE":
            journal.clear()
            return _no_content()
        params = parse_qs(request.query)
        entries = journal.entries(
            path=_param(params, "path"),
            method=_param(params, "method"),
            protocol=_param(params, "protocol"),
        )
        return _json(200, [entry.to_json() for entry in entries])


def _param(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else type(value).__name__
