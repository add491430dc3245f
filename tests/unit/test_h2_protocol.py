"""The sans-IO HTTP/2 client connection (transport/h2_protocol.py), checked against independent
implementations: ``hyperframe`` for framing, ``hpack.Decoder`` for our header blocks, and the
``h2`` library as the server on the other end (bytes passed by hand, no sockets)."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import hpack
import hyperframe.frame as hf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from soniox.errors import ClientValidationError
from soniox.transport.h2_protocol import (
    CANCEL,
    PREFACE,
    RST_STREAM,
    WINDOW_UPDATE,
    FieldEncoder,
    H2Client,
    H2Stream,
    encode_field,
    parse_frames,
)

AUTH = (b"authorization", b"Bearer sk-test-secret")


class Server:
    """The ``h2`` library as a server, wired to one :class:`H2Client` by hand."""

    def __init__(self, client: H2Client | None = None, **settings: int) -> None:
        self.client = client or H2Client(sensitive=[b"authorization"])
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(
                {getattr(h2.settings.SettingCodes, k.upper()): v for k, v in settings.items()}
            )
        self.events: list[h2.events.Event] = []

    def to_server(self) -> list[h2.events.Event]:
        events = self.conn.receive_data(self.client.output())
        self.events += events
        return events

    def to_client(self) -> list[H2Stream]:
        return self.client.receive(self.conn.data_to_send())

    def handshake(self) -> None:
        self.to_server()
        self.to_client()
        self.to_server()

    def get(self, path: bytes = b"/v1/models", body: bytes | None = None) -> H2Stream:
        return self.client.open(
            b"POST" if body else b"GET", b"http", b"example.test", path, [AUTH], body
        )

    def answer(self, stream_id: int, body: bytes = b"{}", status: bytes = b"200") -> None:
        headers = [(b":status", status), (b"content-type", b"application/json")]
        self.conn.send_headers(stream_id, headers)
        self.conn.send_data(stream_id, body, end_stream=True)


def requests_of(events: list[h2.events.Event]) -> list[h2.events.RequestReceived]:
    return [e for e in events if isinstance(e, h2.events.RequestReceived)]


# --- framing and HPACK, against the libraries ----------------------------------------------------


@given(
    st.lists(
        st.tuples(st.integers(1, 2**31 - 1), st.binary(max_size=300), st.booleans()), max_size=6
    ),
    st.integers(1, 64),
)
def test_frames_parse_as_hyperframe_serialises_them(
    specs: list[tuple[int, bytes, bool]], cut: int
) -> None:
    """Frames serialised by hyperframe come out of parse_frames whole, however the bytes are cut."""
    wire = b""
    for stream_id, data, end in specs:
        frame = hf.DataFrame(stream_id, data)
        if end:
            frame.flags.add("END_STREAM")
        wire += frame.serialize()
    buffer = bytearray()
    parsed: list[tuple[int, int, int, bytes]] = []
    for start in range(0, len(wire), cut):
        buffer += wire[start : start + cut]
        parsed += parse_frames(buffer)
    assert not buffer
    assert parsed == [(0, 1 if end else 0, sid, data) for sid, data, end in specs]


header_names = st.binary(min_size=1, max_size=20).filter(lambda n: not n.startswith(b":"))


@given(
    st.lists(st.tuples(header_names, st.binary(max_size=200)), max_size=8), st.binary(max_size=50)
)
def test_our_header_blocks_decode_with_hpack(pairs: list[tuple[bytes, bytes]], path: bytes) -> None:
    """Whatever the fields, hpack.Decoder reads back exactly what FieldEncoder wrote."""
    encoder = FieldEncoder([b"authorization"])
    head = ((b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"api.soniox.com"))
    for _ in range(2):  # the second block comes from the remembered encodings
        block = encoder.block(head, b"/" + path, pairs)
        decoded = hpack.Decoder().decode(block, raw=True)
        assert decoded == [*head, (b":path", b"/" + path), *pairs]


def test_credentials_are_sent_never_indexed_and_not_remembered() -> None:
    """An authorization field is HPACK "never indexed" and not kept by the encoder."""
    encoder = FieldEncoder([b"authorization"])
    block = encoder.encode([AUTH])
    assert block[0] & 0xF0 == 0x10
    decoded = list(hpack.Decoder().decode(block, raw=True))
    assert decoded == [AUTH]
    assert isinstance(decoded[0], hpack.NeverIndexedHeaderTuple)
    assert all(AUTH not in key for key in encoder._known)  # pyright: ignore[reportPrivateUsage]


@given(st.integers(0, 2**20))
def test_static_pairs_are_one_byte_and_large_integers_round_trip(value: int) -> None:
    """A static-table pair encodes as one byte; long values' length prefixes decode."""
    assert encode_field(b":method", b"GET") == b"\x82"
    data = b"x" * (value % 5000)
    assert hpack.Decoder().decode(encode_field(b"x-long", data), raw=True) == [(b"x-long", data)]


# --- a conversation with h2 as the server ----------------------------------------------------------


def test_a_get_is_answered() -> None:
    """Preface, SETTINGS, a GET and its answer: status, headers and body arrive."""
    server = Server()
    stream = server.get()
    received = requests_of(server.to_server())
    assert len(received) == 1
    fields = dict(received[0].headers or [])
    assert fields[b":path"] == b"/v1/models"
    assert fields[b"authorization"] == AUTH[1]
    server.answer(stream.id, b'{"ok": true}')
    assert set(server.to_client()) == {stream}
    assert stream.status == 200
    assert stream.ended
    assert stream.failure is None
    assert (b"content-type", b"application/json") in stream.headers
    assert server.client.take(stream) == b'{"ok": true}'
    assert server.client.idle
    assert server.client.available


def test_settings_are_acknowledged_and_applied() -> None:
    """The server's SETTINGS are applied (max streams, frame size) and acknowledged."""
    server = Server(max_concurrent_streams=2, max_frame_size=32768)
    server.handshake()
    assert server.client.peer_max_streams == 2
    assert server.client.peer_max_frame == 32768
    assert any(isinstance(e, h2.events.SettingsAcknowledged) for e in server.events)
    server.get()
    server.get()
    assert not server.client.available  # two streams open: the limit


def test_ping_is_answered() -> None:
    """A PING gets a PING ACK with the same payload."""
    server = Server()
    server.handshake()
    server.conn.ping(b"12345678")
    server.to_client()
    events = server.to_server()
    assert any(
        isinstance(e, h2.events.PingAckReceived) and e.ping_data == b"12345678" for e in events
    )


def test_a_body_larger_than_the_window_waits_for_window_updates() -> None:
    """A body beyond the server's window is sent as WINDOW_UPDATEs grant room, and arrives whole."""
    server = Server()
    server.handshake()
    body = bytes(range(256)) * 1024  # 256 KiB, four times the default window
    stream = server.get(body=body)
    received = bytearray()
    ended = False
    for _ in range(20):
        for event in server.to_server():
            if isinstance(event, h2.events.DataReceived):
                received += event.data or b""
                server.conn.acknowledge_received_data(event.flow_controlled_length, stream.id)
            ended = ended or isinstance(event, h2.events.StreamEnded)
        if ended:
            break
        server.to_client()
    assert ended
    assert stream.sent
    assert bytes(received) == body


def test_goaway_fails_the_streams_it_did_not_take_as_never_processed() -> None:
    """Streams above GOAWAY's last id fail with processed=False; the ones below go on."""
    server = Server()
    first, second = server.get(), server.get()
    server.to_server()
    server.conn.close_connection(last_stream_id=first.id)
    changed = server.to_client()
    assert second in changed
    assert second.failure is not None
    assert second.failure.processed is False
    assert first.failure is None
    assert not server.client.available
    assert not server.client.reusable


def test_refused_stream_is_never_processed_and_other_resets_may_be() -> None:
    """RST_STREAM(REFUSED_STREAM) means not processed; RST_STREAM(INTERNAL_ERROR) may have been."""
    server = Server()
    refused, broken = server.get(), server.get()
    server.to_server()
    server.conn.reset_stream(refused.id, h2.errors.ErrorCodes.REFUSED_STREAM)
    server.conn.reset_stream(broken.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
    server.to_client()
    assert refused.failure is not None
    assert refused.failure.processed is False
    assert broken.failure is not None
    assert broken.failure.processed is None
    assert "INTERNAL_ERROR" in broken.failure.detail


def test_a_lost_connection_fails_every_open_stream() -> None:
    """lost() fails what is open (may have been processed) and marks the connection broken."""
    client = H2Client()
    stream = client.open(b"GET", b"http", b"h", b"/", [], None)
    assert client.lost("the server closed the connection") == [stream]
    assert stream.failure is not None
    assert stream.failure.processed is None
    assert client.broken is not None
    assert not client.available


def test_informational_answers_are_skipped() -> None:
    """A 100 Continue before the answer is read past; the final status is what counts."""
    server = Server()
    stream = server.get()
    server.to_server()
    server.conn.send_headers(stream.id, [(b":status", b"100")])
    server.to_client()
    assert stream.status == 0
    assert not stream.answered
    server.answer(stream.id)
    server.to_client()
    assert stream.status == 200
    assert stream.ended


def test_a_header_block_in_continuation_frames_is_assembled() -> None:
    """A response header block split over HEADERS + CONTINUATION is decoded once whole."""
    client = H2Client()
    stream = client.open(b"GET", b"http", b"h", b"/", [], None)
    block = hpack.Encoder().encode([(b":status", b"200"), (b"x-big", b"v" * 40_000)])
    head = hf.HeadersFrame(stream.id, block[:16384])
    middle = hf.ContinuationFrame(stream.id, block[16384:32768])
    tail = hf.ContinuationFrame(stream.id, block[32768:])
    tail.flags.add("END_HEADERS")
    client.receive(head.serialize() + middle.serialize())
    assert stream.status == 0
    client.receive(tail.serialize())
    assert stream.status == 200
    assert (b"x-big", b"v" * 40_000) in stream.headers


def test_push_promise_breaks_the_connection() -> None:
    """A PUSH_PROMISE (push is disabled) is a protocol error: GOAWAY queued, streams failed."""
    client = H2Client()
    stream = client.open(b"GET", b"http", b"h", b"/", [], None)
    client.output()
    promise = hf.PushPromiseFrame(stream.id, promised_stream_id=2, data=b"\x82")
    promise.flags.add("END_HEADERS")
    client.receive(promise.serialize())
    assert client.broken is not None
    assert stream.failure is not None
    frames = parse_frames(bytearray(client.output()))
    assert [kind for kind, *_ in frames] == [0x7]


def test_header_injection_is_refused_naming_the_header_not_its_value() -> None:
    """A value with CR/LF is a ClientValidationError naming the header only."""
    client = H2Client()
    with pytest.raises(ClientValidationError) as caught:
        client.open(b"GET", b"http", b"h", b"/", [(b"x-evil", b"a\r\nb: secret")], None)
    assert "x-evil" in str(caught.value)
    assert "secret" not in str(caught.value)
    with pytest.raises(ClientValidationError):
        client.open(b"GET", b"http", b"h", b"/", [(b"Bad Name", b"v")], None)


def test_connection_headers_are_not_sent() -> None:
    """host, connection and transfer-encoding (HTTP/1.1 only) are dropped."""
    server = Server()
    server.client.open(
        b"GET",
        b"http",
        b"h",
        b"/",
        [(b"host", b"h"), (b"connection", b"keep-alive"), (b"x-ok", b"1")],
        None,
    )
    (request,) = requests_of(server.to_server())
    names = [name for name, _ in request.headers or []]
    assert b"host" not in names
    assert b"connection" not in names
    assert b"x-ok" in names


def test_an_answer_before_the_whole_body_cancels_the_rest() -> None:
    """When the server answers before the body is sent, the rest is dropped: RST_STREAM(CANCEL)."""
    server = Server()
    server.handshake()
    stream = server.get(body=b"x" * 200_000)
    server.to_server()
    server.answer(stream.id, b"{}", status=b"413")
    server.to_client()
    assert stream.ended
    assert stream.status == 413
    assert stream.pending is None
    frames = parse_frames(bytearray(server.client.output()))
    assert (RST_STREAM, 0, stream.id, CANCEL.to_bytes(4, "big")) in frames


def test_a_streamed_body_grows_its_window_as_it_is_taken() -> None:
    """For a streamed answer, WINDOW_UPDATE follows what the reader takes, per half window."""
    client = H2Client(stream_window=1000)
    stream = client.open(b"GET", b"http", b"h", b"/", [], None, streamed=True)
    client.output()
    encoder = hpack.Encoder()
    headers = hf.HeadersFrame(stream.id, encoder.encode([(b":status", b"200")]))
    headers.flags.add("END_HEADERS")
    client.receive(headers.serialize() + hf.DataFrame(stream.id, b"a" * 600).serialize())
    assert not any(
        kind == WINDOW_UPDATE and sid
        for kind, _, sid, _ in parse_frames(bytearray(client.output()))
    )
    assert client.take(stream) == b"a" * 600
    frames = parse_frames(bytearray(client.output()))
    assert (WINDOW_UPDATE, 0, stream.id, (600).to_bytes(4, "big")) in frames


def test_data_beyond_the_window_breaks_the_connection() -> None:
    """A server that ignores our window is a flow-control error."""
    client = H2Client(stream_window=100)
    stream = client.open(b"GET", b"http", b"h", b"/", [], None, streamed=True)
    headers = hf.HeadersFrame(stream.id, hpack.Encoder().encode([(b":status", b"200")]))
    headers.flags.add("END_HEADERS")
    client.receive(headers.serialize() + hf.DataFrame(stream.id, b"a" * 101).serialize())
    assert client.broken is not None
    assert stream.failure is not None


def test_a_cancelled_stream_is_reset_and_its_late_frames_ignored() -> None:
    """cancel() sends RST_STREAM(CANCEL); the answer arriving after it changes nothing."""
    server = Server()
    stream = server.get()
    server.to_server()
    server.client.cancel(stream)
    assert stream.failure is not None
    events = server.to_server()
    assert any(isinstance(e, h2.events.StreamReset) for e in events)
    assert server.client.idle


def test_the_preface_starts_the_output() -> None:
    """The first bytes are the connection preface, then our SETTINGS (push disabled)."""
    output = H2Client().output()
    assert output.startswith(PREFACE)
    frames = parse_frames(bytearray(output[len(PREFACE) :]))
    assert frames[0][0] == 0x4
    assert b"\x00\x02\x00\x00\x00\x00" in frames[0][3]


def test_a_streamed_request_read_whole_after_all_grows_its_window_again() -> None:
    """read_whole(): an error answer to a streamed request is credited as it arrives."""
    client = H2Client(stream_window=1000)
    stream = client.open(b"GET", b"http", b"h", b"/", [], None, streamed=True)
    client.output()
    headers = hf.HeadersFrame(stream.id, hpack.Encoder().encode([(b":status", b"500")]))
    headers.flags.add("END_HEADERS")
    client.receive(headers.serialize() + hf.DataFrame(stream.id, b"e" * 600).serialize())
    client.read_whole(stream)
    frames = parse_frames(bytearray(client.output()))
    assert (WINDOW_UPDATE, 0, stream.id, (600).to_bytes(4, "big")) in frames
