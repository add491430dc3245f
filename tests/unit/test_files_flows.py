"""The files flows over the in-memory transport: lost answers, reconciliation, deletes."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.errors import (
    NotFoundError,
    OutcomeUnknownError,
    RequestNotSentError,
    ResponseLostError,
    ServerError,
)
from soniox.flows.files import delete_all_files_flow, delete_file_flow, upload_flow
from soniox.transport import FakeClock, InMemoryTransport, Reply, Request

KEY = "sk-unit-0123456789abcdef"
BASE = "http://127.0.0.1:9/v1"


class FakeFiles:
    """A tiny files API: stores uploads, lists newest first, deletes; scripted failures."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.transport = InMemoryTransport(self, clock=clock)
        self.files: list[dict[str, Any]] = []
        self.failures: list[tuple[str, BaseException, bool]] = []
        """(method, error, after_processing): raise ``error`` on the next such request."""
        self.uploads = 0

    def fail(self, method: str, error: BaseException, *, processed: bool = False) -> None:
        self.failures.append((method, error, processed))

    def __call__(self, request: Request) -> Reply:
        failure = next((f for f in self.failures if f[0] == request.method), None)
        if failure is not None:
            self.failures.remove(failure)
            if failure[2]:
                self._handle(request)
            raise failure[1]
        return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        path = request.url.path.removeprefix("/v1")
        if request.method == "POST" and path == "/files":
            self.uploads += 1
            return Reply(201, json_body=self._store(request))
        if request.method == "GET" and path == "/files":
            return Reply(200, json_body={"files": self.files[::-1], "next_page_cursor": None})
        if request.method == "GET" and path.startswith("/files/"):
            file_id = path.rsplit("/", 1)[1]
            found = [f for f in self.files if f["id"] == file_id]
            if found:
                return Reply(200, json_body=found[0])
            return Reply(404, json_body={"error_type": "file_not_found", "message": "gone"})
        if request.method == "DELETE":
            file_id = path.rsplit("/", 1)[1]
            before = len(self.files)
            self.files = [f for f in self.files if f["id"] != file_id]
            if len(self.files) == before:
                return Reply(404, json_body={"error_type": "file_not_found", "message": "gone"})
            return Reply(204)
        return Reply(404)

    def _store(self, request: Request) -> dict[str, Any]:
        body = self.transport.bodies[-1] or b""
        head = f"Content-Type: {request.headers.get('content-type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True))
        filename, content = fields["file"]
        reference = fields.get("client_reference_id", (None, None))[1]
        record = {
            "id": str(uuid.uuid4()),
            "filename": filename,
            "size": len(content),
            "created_at": datetime.fromtimestamp(self.clock.wall(), UTC).isoformat(),
            "client_reference_id": reference.decode() if reference is not None else None,
        }
        self.files.append(record)
        return record


def make(max_retries: int = 2) -> tuple[SonioxClient, FakeFiles, InMemoryTransport]:
    server = FakeFiles(FakeClock())
    config = SonioxConfig.testing(api_key=KEY, base_url=BASE, max_retries=max_retries)
    return SonioxClient(config=config, transport=server.transport), server, server.transport


def lost() -> ResponseLostError:
    return ResponseLostError("connection dropped", method="POST", url=BASE + "/files")


def test_upload_returns_the_stored_file() -> None:
    """A plain upload parses the 201 answer into a File with a generated reference."""
    client, _server, _ = make()
    stored = client.run(upload_flow(client, b"abc", filename="a.wav"))
    assert (stored.filename, stored.size) == ("a.wav", 3)
    assert stored.client_reference_id is not None
    uuid.UUID(stored.client_reference_id)


def test_a_given_reference_is_kept() -> None:
    """The caller's client_reference_id is sent as is."""
    client, _, _ = make()
    stored = client.run(upload_flow(client, b"abc", client_reference_id="mine"))
    assert stored.client_reference_id == "mine"


def test_a_lost_answer_after_storing_is_reconciled_not_resent() -> None:
    """The server stored the file, the answer was lost: the upload finds it, no second copy."""
    client, server, transport = make()
    server.fail("POST", lost(), processed=True)
    stored = client.run(upload_flow(client, b"abc"))
    assert server.uploads == 1
    assert len(server.files) == 1
    assert stored.id == server.files[0]["id"]
    assert [r.method for r in transport.requests] == ["POST", "GET"]


def test_a_lost_answer_before_storing_resends_the_whole_body() -> None:
    """Nothing stored: after the lookup the body is sent again, whole."""
    client, server, transport = make()
    server.fail("POST", lost())
    stored = client.run(upload_flow(client, b"x" * 100_000))
    assert stored.size == 100_000
    assert len(server.files) == 1
    assert [r.method for r in transport.requests] == ["POST", "GET", "POST"]


def test_a_one_shot_source_is_never_resent() -> None:
    """An iterator body is not replayed: once the look-up finds nothing stored, the error
    surfaces with a note naming the reference."""
    client, server, transport = make()
    server.fail("POST", lost())
    with pytest.raises(ResponseLostError) as caught:
        client.run(upload_flow(client, iter([b"abc"]), client_reference_id="ref-1"))
    assert [r.method for r in transport.requests] == ["POST", "GET"]
    assert any("ref-1" in note for note in caught.value.__notes__)


def test_a_one_shot_source_is_not_retried_even_when_never_sent() -> None:
    """A connection failure before sending is not retried either: the iterator is spent."""
    client, server, transport = make()
    server.fail("POST", RequestNotSentError("refused", method="POST", url=BASE))
    with pytest.raises(RequestNotSentError):
        client.run(upload_flow(client, iter([b"abc"])))
    assert len(transport.requests) == 1


def test_max_retries_zero_means_no_resend() -> None:
    """With retries disabled a lost answer that stored nothing is raised after the lookup."""
    client, server, transport = make(max_retries=0)
    server.fail("POST", lost())
    with pytest.raises(ResponseLostError):
        client.run(upload_flow(client, b"abc"))
    assert [r.method for r in transport.requests] == ["POST", "GET"]


def test_resends_are_bounded_by_max_retries() -> None:
    """Every attempt lost: 1 + max_retries uploads, each followed by a lookup, then the error."""
    client, server, transport = make(max_retries=2)
    for _ in range(5):
        server.fail("POST", lost())
    with pytest.raises(ResponseLostError):
        client.run(upload_flow(client, b"abc"))
    assert [r.method for r in transport.requests].count("POST") == 3


def test_a_500_on_upload_is_looked_up_before_each_resend() -> None:
    """A 5xx on the upload may have been processed: the file is looked for before each resend;
    with nothing stored, the last 5xx is raised."""
    clock = FakeClock()

    def answer(request: Request) -> Reply:
        if request.method == "POST":
            return Reply(500)
        return Reply(200, json_body={"files": [], "next_page_cursor": None})

    transport = InMemoryTransport(answer, clock=clock)
    client = SonioxClient(
        config=SonioxConfig.testing(api_key=KEY, base_url=BASE), transport=transport
    )
    with pytest.raises(ServerError):
        client.run(upload_flow(client, b"abc"))
    assert [r.method for r in transport.requests] == ["POST", "GET"] * 3


def test_a_source_error_surfaces_as_the_original_exception() -> None:
    """A failing user iterator raises its own exception, not a transport error."""

    def chunks() -> Iterator[bytes]:
        yield b"a"
        raise ValueError("microphone unplugged")

    client, _, _ = make()
    with pytest.raises(ValueError, match="microphone unplugged"):
        client.run(upload_flow(client, chunks()))


def test_delete_returns_true_and_missing_ok_false() -> None:
    """delete_file_flow: True when deleted; False for a missing file with missing_ok."""
    client, _server, _ = make()
    stored = client.run(upload_flow(client, b"abc"))
    assert client.run(delete_file_flow(client, stored.id)) is True
    assert client.run(delete_file_flow(client, stored.id, missing_ok=True)) is False
    with pytest.raises(NotFoundError):
        client.run(delete_file_flow(client, stored.id))


def test_a_404_on_a_retried_delete_counts_as_deleted() -> None:
    """The first DELETE removed the file but its answer was lost; the retry's 404 is success."""
    client, server, _ = make()
    stored = client.run(upload_flow(client, b"abc"))
    server.fail("DELETE", ResponseLostError("lost", method="DELETE", url=BASE), processed=True)
    assert client.run(delete_file_flow(client, stored.id)) is True


def test_delete_all_counts_what_it_deleted() -> None:
    """delete_all lists everything first, then deletes; the count is returned."""
    client, server, _ = make()
    for _ in range(3):
        client.run(upload_flow(client, b"abc"))
    assert client.run(delete_all_files_flow(client)) == 3
    assert server.files == []


def test_the_async_client_runs_the_same_upload_flow() -> None:
    """One flow, two drivers: the async client reconciles a lost answer the same way."""
    server = FakeFiles(FakeClock())
    server.fail("POST", lost(), processed=True)

    async def main() -> str:
        config = SonioxConfig.testing(api_key=KEY, base_url=BASE)
        async with AsyncSonioxClient(config=config, transport=server.transport) as client:
            return (await client.files.upload(b"abc")).id

    assert asyncio.run(main()) == server.files[0]["id"]
    assert server.uploads == 1


def test_a_failing_progress_callback_raises_its_own_exception() -> None:
    """An exception from progress() comes out unchanged, even before the first byte (one-shot)."""

    def boom(_sent: int, _total: int | None) -> None:
        raise KeyError("stop")

    client, _, transport = make()
    with pytest.raises(KeyError):
        client.run(upload_flow(client, iter([b"abc"]), progress=boom))
    assert transport.requests == []
    with pytest.raises(KeyError):
        client.run(upload_flow(client, b"abc", progress=boom))


def test_a_one_shot_upload_stored_despite_a_lost_answer_is_returned() -> None:
    """The look-up finds what the server stored: the file, not an error, even for an iterator."""
    client, server, transport = make()
    server.fail("POST", lost(), processed=True)
    stored = client.run(upload_flow(client, iter([b"abc"]), client_reference_id="ref-2"))
    assert (stored.client_reference_id, stored.size) == ("ref-2", 3)
    assert [r.method for r in transport.requests] == ["POST", "GET"]
    assert len(server.files) == 1


def test_a_look_up_that_keeps_failing_raises_outcome_unknown() -> None:
    """When the listing never answers before the deadline, the outcome is unknown, not failed:
    OutcomeUnknownError names the reference and the call that tells."""
    client, server, _transport = make()
    server.fail("POST", lost(), processed=True)
    for _ in range(200):
        server.fail("GET", lost())
    view = client.with_options(deadline=5)
    with pytest.raises(OutcomeUnknownError) as caught:
        client.run(upload_flow(view, b"abc", client_reference_id="ref-3"))
    error = caught.value
    assert (error.operation, error.client_reference_id) == ("files.upload", "ref-3")
    assert error.recovery is not None
    assert "ref-3" in error.recovery
    assert isinstance(error, ResponseLostError)
    assert isinstance(error.__cause__, ResponseLostError)


def test_a_look_up_that_recovers_finds_the_upload() -> None:
    """Transient look-up failures are retried until the listing answers."""
    client, server, _transport = make()
    server.fail("POST", lost(), processed=True)
    for _ in range(7):  # more than the stack's own retries of one GET
        server.fail("GET", lost())
    stored = client.run(upload_flow(client, b"abc", client_reference_id="ref-4"))
    assert stored.client_reference_id == "ref-4"
    assert len(server.files) == 1


def test_a_lost_delete_answer_is_checked_not_assumed() -> None:
    """A DELETE whose answers are all lost: a GET tells the file is gone, so it counts deleted."""
    client, server, transport = make(max_retries=0)
    stored = client.run(upload_flow(client, b"abc"))
    server.fail("DELETE", lost(), processed=True)
    assert client.run(delete_file_flow(client, stored.id)) is True
    assert server.files == []
    assert [r.method for r in transport.requests][-2:] == ["DELETE", "GET"]


def test_a_lost_delete_that_did_not_happen_raises_saying_so() -> None:
    """A DELETE lost before processing: the GET finds the file, the error says it still exists."""
    client, server, _transport = make(max_retries=0)
    stored = client.run(upload_flow(client, b"abc"))
    server.fail("DELETE", lost())
    with pytest.raises(ResponseLostError) as caught:
        client.run(delete_file_flow(client, stored.id))
    assert any("still exists" in note for note in caught.value.__notes__)
    assert [f["id"] for f in server.files] == [stored.id]
