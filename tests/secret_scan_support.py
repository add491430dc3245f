"""What tests/test_secret_scan.py needs: distinctive secrets, and a scan that looks for them.

A :class:`Secrets` holds a fresh API key, a wrong key, a webhook secret and a wrong one, each a
prefix and 32 random hex digits that appear nowhere else. A :class:`Scan` gathers every text an
application (or its logs) could show — log records of both backends, reprs and strs of objects,
whole exception chains, the requests and responses the stack saw, CLI output, the emulator's
journal — and :meth:`Scan.assert_clean` fails naming where a secret (or its random part) was
found, without printing the secret itself.

The test never registers a secret itself: masking has to come from the SDK.
"""

from __future__ import annotations

import logging
import secrets as _random
import traceback
from collections.abc import Iterable, Iterator
from typing import Any, cast

import attrs
import pytest
import structlog
from structlog.testing import LogCapture

from soniox.errors import forget_secret
from soniox.middleware.engine import HookMiddleware
from soniox.transport.request import Request
from soniox.transport.response import Response

__all__ = ["Logs", "Recorder", "Scan", "Secrets", "exception_texts"]


@attrs.frozen
class Secrets:
    """The values that must never appear: ``key`` (the emulator accepts it), ``wrong_key``,
    ``webhook_secret``, ``wrong_secret``, and ``extra_key`` (sent only in ``x-api-key``)."""

    key: str
    wrong_key: str
    webhook_secret: str
    wrong_secret: str
    extra_key: str

    @classmethod
    def new(cls) -> Secrets:
        def make(prefix: str) -> str:
            return prefix + _random.token_hex(16)

        return cls(
            key=make("sk-scan-"),
            wrong_key=make("sk-scan-wrong-"),
            webhook_secret=make("whsec-scan-"),
            wrong_secret=make("whsec-scan-wrong-"),
            extra_key=make("sk-scan-extra-"),
        )

    @property
    def named(self) -> dict[str, str]:
        return attrs.asdict(self)

    def needles(self) -> Iterator[tuple[str, str]]:
        """(label, text) for each secret and for its random tail alone (a partial leak)."""
        for name, value in self.named.items():
            yield name, value
            yield f"{name} (random part)", value.rsplit("-", 1)[-1]

    def forget(self) -> None:
        """Undo what the SDK registered, so the process-wide set does not grow test by test."""
        for value in self.named.values():
            forget_secret(value)
            forget_secret(f"Bearer {value}")


_SHOWN_ATTRIBUTES = (
    "response",
    "request",
    "api_error",
    "validation_errors",
    "url",
    "more_info",
    "field",
    "filename",
    "header_name",
    "transcription",
)
"""Attributes of the SDK's errors that are there to be read or printed (``body``, the raw bytes
of the answer, is data the docs say is never shown, and is not scanned)."""


def exception_texts(error: BaseException) -> Iterator[tuple[str, str]]:
    """Every text of ``error`` and of its whole chain (``__cause__``, ``__context__``, groups):
    str, repr, args, notes, the reprs of its readable attributes (the response and request it
    carries, ``api_error`` …), and the formatted traceback."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        name = type(exc).__name__
        yield f"str({name})", str(exc)
        yield f"repr({name})", repr(exc)
        yield f"{name}.args", repr(exc.args)
        for note in getattr(exc, "__notes__", ()):
            yield f"{name} note", str(note)
        for attribute in _SHOWN_ATTRIBUTES:
            try:
                value = getattr(exc, attribute, None)
            except Exception:  # httpx raises RuntimeError for an unset .request
                continue
            if value is not None:
                yield f"{name}.{attribute}", repr(value)
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(cast("BaseExceptionGroup[BaseException]", exc).exceptions)
        pending.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
    yield "traceback", "".join(traceback.format_exception(error))


class Logs:
    """Records of the ``soniox`` logger tree at DEBUG (stdlib, through ``caplog``), and structlog
    events when the test configured structlog (then the SDK's own records go there)."""

    def __init__(self, caplog: pytest.LogCaptureFixture, backend: str) -> None:
        self.backend = backend
        self._caplog = caplog
        self.structlog: LogCapture | None = None
        caplog.set_level(logging.DEBUG, logger="soniox")
        if backend == "structlog":
            self.structlog = LogCapture()
            structlog.configure(
                processors=[structlog.processors.add_log_level, self.structlog],
                wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
            )

    def close(self) -> None:
        if self.structlog is not None:
            structlog.reset_defaults()

    def count(self) -> int:
        """How many SDK records were made (to check the scan saw some)."""
        stdlib = [r for r in self._caplog.records if r.name == "soniox"]
        events = self.structlog.entries if self.structlog is not None else []
        return len(stdlib) + len(events)

    def texts(self) -> Iterator[tuple[str, str]]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in self._caplog.records:
            where = f"log record {record.name}"
            yield where, formatter.format(record)
            yield where + " (fields)", repr(record.__dict__)
        if self.structlog is not None:
            for entry in self.structlog.entries:
                yield "structlog event", repr(entry)


class Scan:
    """Texts gathered during a test, checked at the end for the secrets."""

    def __init__(self, secrets: Secrets, logs: Logs) -> None:
        self.secrets = secrets
        self.logs = logs
        self._texts: list[tuple[str, str]] = []
        self.errors = 0
        self.journal: Any = None

    def text(self, where: str, text: str) -> None:
        self._texts.append((where, text))

    def obj(self, where: str, *objects: object) -> None:
        """repr() and str() of each object."""
        for value in objects:
            self._texts.append((f"repr({where})", repr(value)))
            self._texts.append((f"str({where})", str(value)))

    def error(self, error: BaseException) -> None:
        """Every text of ``error``'s chain."""
        self.errors += 1
        self._texts.extend(exception_texts(error))

    def client(self, client: Any) -> None:
        """The client and everything it shows: config, stack (and each middleware), options,
        transport, webhooks."""
        self.obj("client", client)
        self.obj("config", client.config)
        self.obj("stack", client.stack)
        for middleware in client.stack:
            self.obj("middleware", middleware)
        self.obj("options", client.options)
        self.obj("transport", client.transport)
        self.obj("webhooks", client.webhooks)

    def all_texts(self) -> Iterable[tuple[str, str]]:
        yield from self._texts
        yield from self.logs.texts()
        if self.journal is not None:
            for entry in self.journal.entries():
                yield f"journal {entry.method} {entry.path}", repr(entry.to_json())

    def leaks(self) -> list[str]:
        found: list[str] = []
        for where, text in self.all_texts():
            for label, needle in self.secrets.needles():
                if needle in text:
                    start = text.find(needle)
                    context = text[max(0, start - 60) : start].replace("\n", " ")
                    found.append(f"{label} in {where}, after: ...{context!r}")
        return found

    def assert_clean(self) -> None:
        leaks = self.leaks()
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


class Recorder(HookMiddleware):
    """Innermost middleware: every request, response and error the stack saw goes to the scan."""

    name = "scan"

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.requests = 0

    def _request(self, request: Request) -> None:
        self.requests += 1
        self.scan.obj("request", request, request.headers, request.options)
        # str(url) is the URL itself (what is sent), not a display: only its repr is scanned.
        self.scan.text("repr(url)", repr(request.url))

    def on_request(self, request: Request) -> Request:
        self._request(request)
        return request

    def on_response(self, request: Request, response: Response) -> Response:
        self.scan.obj("response", response, response.headers, response.request)
        return response

    def on_error(self, request: Request, error: Exception) -> None:
        self.scan.error(error)

    def __repr__(self) -> str:
        return "Recorder()"
