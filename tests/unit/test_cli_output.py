"""The CLI's output layer: rich on a terminal, plain text otherwise, readable API errors."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from soniox.cli import common as cli_common
from soniox.cli.common import Output, describe_error
from soniox.cli.transcribe import _Tracker  # pyright: ignore[reportPrivateUsage]
from soniox.errors import error_from_response
from soniox.types import Transcription, TranscriptionStatus


class Terminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def output(monkeypatch: pytest.MonkeyPatch, *, rich: bool) -> tuple[Output, Terminal, Terminal]:
    monkeypatch.setattr(cli_common, "rich_available", lambda: rich)
    stdout, stderr = Terminal(), Terminal()
    monkeypatch.setattr("sys.stdout", stdout)
    monkeypatch.setattr("sys.stderr", stderr)
    return Output("test"), stdout, stderr


def test_without_rich_tables_are_plain_aligned_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """No rich installed: columns padded with spaces, even on a terminal."""
    out, stdout, _ = output(monkeypatch, rich=False)
    assert not out.fancy
    out.table(["ID", "NAME"], [["1", "alpha"], ["22", "b"]])
    assert stdout.getvalue() == "ID  NAME\n1   alpha\n22  b\n"


def test_with_rich_on_a_terminal_tables_are_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich and a terminal: rich renders the table (same cells)."""
    out, stdout, _ = output(monkeypatch, rich=True)
    assert out.fancy
    out.table(["ID", "NAME"], [["1", "alpha"]])
    text = stdout.getvalue()
    assert "ID" in text
    assert "alpha" in text


def job(status: str) -> Transcription:
    return Transcription(
        id="job-1",
        status=TranscriptionStatus(status),
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        model="stt-async-v5",
        filename="a.wav",
    )


@pytest.mark.parametrize("rich", [True, False])
def test_progress_reports_upload_and_status(monkeypatch: pytest.MonkeyPatch, rich: bool) -> None:
    """Upload bytes and status changes show as bars (rich) or as one line per change (with a
    hint about the cli extra on a terminal)."""
    out, _, stderr = output(monkeypatch, rich=rich)
    with out.live() as live:
        tracker = _Tracker(out, live, "a.wav")
        for sent in (0, 512, 1024):
            tracker.upload(sent, 1024)
        for status in ("queued", "queued", "processing", "completed"):
            tracker.status(job(status))
    assert tracker.job_id == "job-1"
    if not rich:
        assert stderr.getvalue().splitlines() == [
            "(plain progress: pip install 'soniox-transport[cli]' for progress bars)",
            "a.wav: uploading (1.0 KiB)",
            "a.wav: uploaded",
            "a.wav: queued",
            "a.wav: processing",
            "a.wav: completed",
        ]
    else:
        assert "a.wav" in stderr.getvalue()


def test_quiet_prints_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """--quiet: nothing on stderr for progress."""
    monkeypatch.setattr(cli_common, "rich_available", lambda: True)
    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    out = Output("test", quiet=True)
    with out.live() as live:
        tracker = _Tracker(out, live, "a.wav")
        tracker.upload(10, 10)
        tracker.status(job("completed"))
    assert stderr.getvalue() == ""


def test_api_errors_show_status_type_message_request_id_and_fields() -> None:
    """A 400 lists each validation error under the headline."""
    body = {
        "status_code": 400,
        "error_type": "invalid_request",
        "message": "Invalid request.",
        "validation_errors": [
            {"error_type": "value_error", "location": "body.model", "message": "Invalid model"}
        ],
        "request_id": "req-123",
    }
    text = describe_error(error_from_response(400, {}, json.dumps(body)))
    assert text.splitlines() == [
        "API error 400 invalid_request",
        "  message:    Invalid request.",
        "  request id: req-123",
        "  - body.model: Invalid model (value_error)",
    ]
