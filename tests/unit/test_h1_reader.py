"""The native HTTP/1.1 lane's sans-IO parts: ResponseReader (llhttp), request_head and chunk."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.transport.h1_protocol import (
    ProtocolFailure,
    ResponseReader,
    chunk,
    origin_of,
    request_head,
)
from soniox.transport.request import URL

Headers = list[tuple[bytes, bytes]]

KINDS = (
    "length",
    "chunked",
    "close-delimited",
    "204",
    "304",
    "connection-close",
    "http/1.0",
    "http/1.0-keep-alive",
    "http/1.0-close-delimited",
)


@dataclass(frozen=True)
class Wire:
    """One response as bytes, and what parsing it must give."""

    data: bytes
    status: int
    headers: Headers
    body: bytes
    version: str
    reusable: bool
    needs_eof: bool


def build(kind: str, body: bytes, extra: Headers, pieces: list[int], interim: bool) -> Wire:
    """The bytes of a response of ``kind`` carrying ``body`` (``pieces``: chunk sizes)."""
    version = "HTTP/1.0" if kind.startswith("http/1.0") else "HTTP/1.1"
    status = {"204": 204, "304": 304}.get(kind, 200)
    if status != 200:
        body = b""
    headers = list(extra)
    if kind in ("length", "connection-close", "http/1.0", "http/1.0-keep-alive"):
        headers.append((b"Content-Length", str(len(body)).encode()))
    if kind == "304":
        headers.append((b"Content-Length", b"1234"))  # the size of what was not sent
    if kind == "connection-close":
        headers.append((b"Connection", b"close"))
    if kind == "http/1.0-keep-alive":
        headers.append((b"Connection", b"keep-alive"))
    if kind == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
        framed, rest = b"", body
        for size in pieces:
            if rest:
                framed += chunk(rest[:size])
                rest = rest[size:]
        framed += (chunk(rest) if rest else b"") + chunk(b"")
    else:
        framed = body
    head = f"{version} {status} Whatever\r\n".encode()
    head += b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n"
    data = (b"HTTP/1.1 100 Continue\r\n\r\n" if interim else b"") + head + framed
    needs_eof = kind in ("close-delimited", "http/1.0-close-delimited")
    reusable = kind in ("length", "chunked", "204", "304", "http/1.0-keep-alive")
    return Wire(data, status, headers, body, version, reusable, needs_eof)


header_name = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).map(
    lambda s: ("x-" + s).encode()
)
header_value = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_.;=/", min_size=1, max_size=40
).map(str.encode)


@st.composite
def wires(draw: st.DrawFn) -> Wire:
    """A response of any kind, with random headers, body and chunk sizes."""
    return build(
        draw(st.sampled_from(KINDS)),
        draw(st.binary(max_size=300)),
        draw(st.lists(st.tuples(header_name, header_value), max_size=5)),
        draw(st.lists(st.integers(1, 64), max_size=10)),
        draw(st.booleans()),
    )


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the positions ``cuts`` (empty pieces dropped: ``b""`` means EOF)."""
    edges = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


def parse(pieces: list[bytes], eof: bool) -> tuple[ResponseReader, bytes]:
    """Feed ``pieces`` (taking the body after each), then the end of stream when ``eof``."""
    reader = ResponseReader()
    body = b""
    for piece in pieces:
        reader.feed(piece)
        body += reader.take()
    if eof:
        reader.feed(b"")
        body += reader.take()
    return reader, body


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(wire=wires(), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_gives_the_same_response(wire: Wire, cuts: list[int]) -> None:
    """Fed in arbitrary pieces, a response gives the same status, headers, body and reusable."""
    reader, body = parse(split(wire.data, cuts), eof=wire.needs_eof)
    assert reader.complete
    assert (reader.status, reader.headers, body) == (wire.status, wire.headers, wire.body)
    assert (reader.version, reader.reusable) == (wire.version, wire.reusable)


@settings(max_examples=100, deadline=None)
@given(wire=wires(), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_a_close_delimited_body_waits_for_the_end_of_stream(wire: Wire, cuts: list[int]) -> None:
    """Without a length, the body is complete only at EOF; any other response before it."""
    reader, _ = parse(split(wire.data, cuts), eof=False)
    assert reader.complete is not wire.needs_eof
    assert reader.headers_done


@settings(max_examples=100, deadline=None)
@given(wire=wires(), cut=st.integers(0, 10_000))
def test_a_truncated_response_fails_at_the_end_of_stream(wire: Wire, cut: int) -> None:
    """Any strict prefix of a length-delimited response, then EOF: ProtocolFailure."""
    if wire.needs_eof:
        return
    data = wire.data.rstrip(b"\r\n")  # shorter than the message when it ends in a CRLF
    prefix = data[: cut % len(data)]
    with pytest.raises(ProtocolFailure):
        parse([prefix] if prefix else [], eof=True)


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=500),
    sizes=st.lists(st.integers(1, 100), max_size=20),
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_chunk_framing_round_trips_through_the_reader(
    body: bytes, sizes: list[int], cuts: list[int]
) -> None:
    """A body framed by chunk() and ended by chunk(b"") parses back to the same bytes."""
    framed, rest = b"", body
    for size in sizes:
        framed += chunk(rest[:size]) if rest[:size] else b""
        rest = rest[size:]
    framed += (chunk(rest) if rest else b"") + chunk(b"")
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    reader, parsed = parse(split(head + framed, cuts), eof=False)
    assert (parsed, reader.reusable) == (body, True)


# --- examples ----------------------------------------------------------------------------------


def test_an_interim_100_continue_is_skipped() -> None:
    """A 100 Continue (with headers of its own) is not the answer: the final one is."""
    reader, body = parse(
        [
            b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        ],
        eof=False,
    )
    assert (reader.status, reader.headers, body) == (201, [(b"Content-Length", b"2")], b"ok")
    assert reader.reusable


def test_the_head_is_not_done_after_only_an_interim_answer() -> None:
    """After a 100 Continue alone, headers_done stays False (the real answer is awaited)."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert (reader.headers_done, reader.complete, reader.status) == (False, False, 0)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    ids=["content-length", "mid-chunk", "no-last-chunk"],
)
def test_a_truncated_body_then_eof_raises(data: bytes) -> None:
    """A body cut short by the end of stream is a ProtocolFailure naming the body."""
    reader = ResponseReader()
    reader.feed(data)
    with pytest.raises(ProtocolFailure, match="mid-body"):
        reader.feed(b"")


def test_eof_before_any_bytes_raises() -> None:
    """A connection closed with no answer at all is a ProtocolFailure."""
    with pytest.raises(ProtocolFailure, match="without sending a response"):
        ResponseReader().feed(b"")


def test_eof_in_the_middle_of_the_head_raises() -> None:
    """A head cut short is a ProtocolFailure (no response was received)."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Le")
    with pytest.raises(ProtocolFailure, match="without sending a response"):
        reader.feed(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
    ids=["text", "ssh", "status", "content-length", "chunk-size", "tls-hello"],
)
def test_garbage_raises_protocol_failure(data: bytes) -> None:
    """Bytes that are not an HTTP/1.x response raise ProtocolFailure (not a parser error)."""
    with pytest.raises(ProtocolFailure, match=r"invalid HTTP/1\.1 response"):
        ResponseReader().feed(data)


def test_a_protocol_upgrade_raises() -> None:
    """A 101 Switching Protocols is not something this lane can carry."""
    with pytest.raises(ProtocolFailure, match="upgrade"):
        ResponseReader().feed(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
        )


def test_bytes_fed_after_a_complete_answer_make_it_not_reusable() -> None:
    """Anything arriving after the answer, in a later feed, marks it extra and not reusable."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    assert reader.reusable
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    assert (reader.extra, reader.reusable, reader.take()) == (True, False, b"hi")


def test_a_second_answer_in_the_same_bytes_does_not_replace_the_first() -> None:
    """A whole second response after the first, in one feed: the first stands, not reusable."""
    reader = ResponseReader()
    reader.feed(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        b"HTTP/1.1 404 Not Found\r\nX-Second: yes\r\nContent-Length: 4\r\n\r\nnope"
    )
    assert (reader.status, reader.headers, reader.take()) == (
        200,
        [(b"Content-Length", b"2")],
        b"hi",
    )
    assert (reader.extra, reader.reusable) == (True, False)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiXYZ",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200",
    ],
    ids=["junk", "after-connection-close"],
)
def test_junk_in_the_same_bytes_as_a_complete_answer_is_not_a_failure(data: bytes) -> None:
    """Unparseable bytes right after a complete answer: the answer stands, not reusable."""
    reader = ResponseReader()
    reader.feed(data)
    assert (reader.status, reader.take(), reader.complete) == (200, b"hi", True)
    assert (reader.extra, reader.reusable) == (True, False)


def test_eof_after_a_complete_answer_is_fine_but_not_reusable() -> None:
    """The end of stream after a whole answer raises nothing; the connection is done."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    reader.feed(b"")
    assert (reader.complete, reader.reusable, reader.status) == (True, False, 200)


def test_connection_close_is_complete_but_not_reusable() -> None:
    """Connection: close with a Content-Length completes without EOF and is not reusable."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi")
    assert (reader.complete, reader.keep_alive, reader.reusable) == (True, False, False)


def test_http10_reports_its_version() -> None:
    """The response's version comes from its status line."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert (reader.version, reader.reusable) == ("HTTP/1.0", False)


def test_take_empties_the_buffer() -> None:
    """take() hands over the pending body bytes once, resetting ``buffered``."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
    reader.feed(b"def")
    assert reader.buffered == 6
    assert (reader.take(), reader.take(), reader.buffered) == (b"abcdef", b"", 0)


def test_headers_done_before_the_body_is_complete() -> None:
    """The head is usable as soon as it is parsed, before the body arrives."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    assert (reader.headers_done, reader.complete, reader.status) == (True, False, 200)


# --- request framing ---------------------------------------------------------------------------


def test_request_head_frames_the_request_line_and_headers() -> None:
    """request_head writes the request line, one line per header and the blank line."""
    head = request_head(
        "POST", "/v1/files?a=1", [(b"host", b"api.example:8080"), (b"content-length", b"3")]
    )
    assert head == (
        b"POST /v1/files?a=1 HTTP/1.1\r\nhost: api.example:8080\r\ncontent-length: 3\r\n\r\n"
    )


def test_request_head_without_headers() -> None:
    """No headers: the request line and the blank line only."""
    assert request_head("GET", "/", []) == b"GET / HTTP/1.1\r\n\r\n"


def test_request_head_keeps_header_order_and_repeats() -> None:
    """Headers go out in the order given, repeated names included."""
    head = request_head("GET", "/x", [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
    assert head == b"GET /x HTTP/1.1\r\na: 1\r\nb: 2\r\na: 3\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "framed"),
    [
        (b"hello", b"5\r\nhello\r\n"),
        (b"x" * 255, b"ff\r\n" + b"x" * 255 + b"\r\n"),
        (b"\r\n", b"2\r\n\r\n\r\n"),
        (b"", b"0\r\n\r\n"),
    ],
    ids=["small", "hex-size", "crlf-data", "last"],
)
def test_chunk_framing_is_exact(data: bytes, framed: bytes) -> None:
    """chunk() writes the hex size, CRLF, the data and CRLF; b"" is the last chunk."""
    assert chunk(data) == framed


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1/x", ("http", "127.0.0.1", 80)),
        ("https://api.soniox.com/v1", ("https", "api.soniox.com", 443)),
        ("http://localhost:8080/", ("http", "localhost", 8080)),
    ],
)
def test_origin_fills_in_the_default_port(url: str, origin: tuple[str, str, int]) -> None:
    """A connection's origin has the scheme's default port when the URL names none."""
    assert origin_of(URL.parse(url)) == origin


def test_a_stray_crlf_in_the_same_bytes_as_the_answer_is_tolerated() -> None:
    """An empty line after the answer, read with it, is skipped by llhttp (no failure)."""
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\r\n")
    assert (reader.status, reader.take(), reader.complete) == (200, b"hi", True)
