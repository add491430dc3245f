"""The network transport over loopback: streaming, upload lanes, timeouts, deadlines, refusals."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.emulator import Emulator
from soniox.errors import (
    DeadlineExceededError,
    NotFoundError,
    ReadTimeoutError,
    RequestNotSentError,
)
from soniox.middleware import Stack
from soniox.transport import HttpcoreTransport, Request, StreamBody, Timeout


def cfg(emu: Emulator, **changes: object) -> SonioxConfig:
    return SonioxConfig.testing(api_key=emu.api_key, base_url=emu.rest_base_url, **changes)


def multipart(payload: bytes) -> tuple[bytes, bytes, str]:
    """(head, tail, content-type) of a one-file multipart/form-data body around ``payload``."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.raw"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- responses ---------------------------------------------------------------------------------


def test_streaming_response_yields_the_same_bytes(emulator: Emulator) -> None:
    """stream=True hands back an unread body whose chunks add up to the full answer."""
    with SonioxClient(config=cfg(emulator)) as client:
        whole = client.request("GET", "/models").content
        with client.request("GET", "/models", stream=True) as response:
            assert not response.is_stream_consumed
            assert b"".join(response.iter_bytes()) == whole


def test_async_streaming_response(emulator: Emulator) -> None:
    """The async client streams with aiter_bytes."""

    async def main() -> tuple[bytes, bytes]:
        async with AsyncSonioxClient(config=cfg(emulator, http2=True)) as client:
            whole = (await client.request("GET", "/models")).content
            response = await client.request("GET", "/models", stream=True)
            async with response:
                return whole, b"".join([c async for c in response.aiter_bytes()])

    whole, streamed = asyncio.run(main())
    assert whole == streamed


def test_error_answers_are_read_even_when_streaming(emulator: Emulator) -> None:
    """An error status arrives fully read, so the error carries the body's details."""
    emulator.faults.fail("/v1/models", status=404, error_type="file_not_found")
    client = SonioxClient(config=cfg(emulator, max_retries=0))
    with client, pytest.raises(NotFoundError, match="file_not_found"):
        client.request("GET", "/models", stream=True).raise_for_status()


# --- protocol lanes -----------------------------------------------------------------------------


def test_http2_carries_small_calls_and_http11_carries_large_uploads(emulator: Emulator) -> None:
    """With http2 on, a GET rides h2 while an upload above http2_max_body rides HTTP/1.1."""
    head, tail, ctype = multipart(b"\0" * 64_000)
    with SonioxClient(config=cfg(emulator, http2=True, http2_max_body=16_384)) as client:
        client.models.list()
        created = client.request(
            "POST", "/files", content=head + b"\0" * 64_000 + tail, headers={"content-type": ctype}
        )
    assert created.status == 201
    assert emulator.journal.entries(path="/v1/models")[0].http_version == "2"
    assert emulator.journal.entries(path="/v1/files", method="POST")[0].http_version == "1.1"


def test_a_replayable_stream_upload_is_sent_and_stored(emulator: Emulator) -> None:
    """A factory body of unknown length streams chunked over HTTP/1.1 (even with http2 on)."""
    head, tail, ctype = multipart(b"")
    chunk = b"ab" * 32_768

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(8):
            yield chunk
        yield tail

    body = StreamBody.from_factory(chunks)
    with SonioxClient(config=cfg(emulator, http2=True)) as client:
        created = client.request("POST", "/files", content=body, headers={"content-type": ctype})
        info = client.request("GET", f"/files/{created.json()['id']}").json()
    assert info["size"] == 8 * len(chunk)
    assert emulator.journal.entries(path="/v1/files", method="POST")[0].http_version == "1.1"


def test_async_streaming_upload_from_an_async_iterator(emulator: Emulator) -> None:
    """asend accepts an async chunk source."""
    head, tail, ctype = multipart(b"")

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        yield b"x" * 1000
        yield tail

    async def main() -> int:
        async with AsyncSonioxClient(config=cfg(emulator)) as client:
            body = StreamBody.one_shot(chunks())
            created = await client.request(
                "POST", "/files", content=body, headers={"content-type": ctype}
            )
            return int(created.json()["size"])

    assert asyncio.run(main()) == 1000


# --- failures ----------------------------------------------------------------------------------


def test_a_refused_connection_never_reached_the_server() -> None:
    """Nothing listening: RequestNotSentError (safe to retry), after the retries ran."""
    config = SonioxConfig.testing(api_key="k" * 20, base_url=f"http://127.0.0.1:{free_port()}/v1")
    with SonioxClient(config=config) as client, pytest.raises(RequestNotSentError):
        client.models.list()


def test_the_call_deadline_cuts_a_slow_answer(emulator: Emulator) -> None:
    """deadline=0.3 s against a 3 s answer: DeadlineExceededError well before 3 s."""
    emulator.faults.inject("latency", "/v1/models", delay_s=3.0, times=3)
    started = time.monotonic()
    with SonioxClient(config=cfg(emulator)) as client, pytest.raises(DeadlineExceededError):
        client.with_options(deadline=0.3).models.list()
    assert time.monotonic() - started < 2.0


def test_the_async_deadline_cuts_a_slow_answer(emulator: Emulator) -> None:
    """The async client honours the same deadline."""
    emulator.faults.inject("latency", "/v1/models", delay_s=3.0, times=3)

    async def main() -> None:
        async with AsyncSonioxClient(config=cfg(emulator, http2=True)) as client:
            await client.with_options(deadline=0.3).models.list()

    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        asyncio.run(main())
    assert time.monotonic() - started < 2.0


def test_a_stalled_body_hits_the_read_timeout(emulator: Emulator) -> None:
    """Bytes arriving slower than the read timeout end in ReadTimeoutError."""
    emulator.faults.inject("slow_body", "/v1/models", chunk_size=64, chunk_delay_s=1.0, times=5)
    client = SonioxClient(config=cfg(emulator, read_timeout=0.2, max_retries=0))
    with client, pytest.raises(ReadTimeoutError):
        client.models.list()


def test_transport_alone_sends_a_request(emulator: Emulator) -> None:
    """The transport works without any client or middleware (the layer is usable alone)."""
    transport = HttpcoreTransport(timeout=Timeout.of(5))
    from soniox.transport import URL

    request = Request("GET", URL.parse(emulator.rest_base_url).join("/models"))
    request = request.with_header("authorization", f"Bearer {emulator.api_key}")
    try:
        response = Stack().run(request, transport)
    finally:
        transport.close()
    assert response.status == 200
    assert response.http_version == "HTTP/1.1"
    assert response.json()["models"]
