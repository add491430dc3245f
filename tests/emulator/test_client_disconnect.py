"""A client that goes away mid-upload is an ordinary event: one log line, no traceback (issue 11)."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from soniox.emulator import Emulator


def _cut_upload_short(emu: Emulator) -> None:
    """Announce a 10 MB multipart upload, send 200 kB of it, and close the connection."""
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = (
            "POST /v1/files HTTP/1.1\r\nHost: emulator\r\n"
            f"Authorization: Bearer {emu.api_key}\r\n"
            "Content-Type: multipart/form-data; boundary=XX\r\n"
            "Content-Length: 10000000\r\n\r\n"
        )
        part = (
            b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            b"Content-Type: audio/wav\r\n\r\n"
        )
        sock.sendall(head.encode() + part + b"x" * 200_000)
        time.sleep(0.2)  # the server is reading the body now


def test_a_client_leaving_mid_upload_is_one_line(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The journal says "disconnected"; the log has one INFO line without a traceback, and no
    error (it used to log "unhandled error on POST /v1/files" with two chained tracebacks)."""
    caplog.set_level(logging.INFO, logger="soniox.emulator")
    _cut_upload_short(emulator)
    emulator.journal.wait_for(
        lambda entries: any(e.path == "/v1/files" and e.outcome == "disconnected" for e in entries),
        timeout=5,
    )
    records = [r for r in caplog.records if r.name.startswith("soniox.emulator")]
    assert [r.levelno for r in records] == [logging.INFO], [r.getMessage() for r in records]
    (record,) = records
    assert record.exc_info is None
    assert "\n" not in record.getMessage()
    assert record.getMessage().startswith("client disconnected during POST /v1/files")
