"""The sans-IO half of the native HTTP/2 lane (``h2``): frames and streams, bytes in, decisions out.

:class:`H2Client` is one client connection (RFC 9113): it frames requests (HPACK through the
``hpack`` package, the encoder and decoder ``h2`` itself uses), reads the server's frames into
per-stream state (:class:`H2Stream`: status, headers, body chunks, end, failure), keeps both
directions' flow-control windows, answers SETTINGS and PING, and turns GOAWAY, RST_STREAM and a
lost connection into stream failures that say whether the server can have processed the
request. It does no I/O: the shells (``h2.py``) write :meth:`H2Client.output` and feed what
they read to :meth:`H2Client.receive`.

Why not ``h2``'s connection? It is complete and general — server and client, push, priority,
every event as an object, validation and normalisation of each header — and a small GET through
it costs ~250 µs of CPU on this machine (``benchmarks/bench_client_cost.py``, the HTTP/2 floor
row), about half of a whole raw ``httpx`` HTTP/2 request. A client that sends requests and
reads answers needs a fraction of that machine: the frame layout is fixed (a 9-byte header,
parsed with one ``struct`` call; the framing is checked against ``hyperframe`` in the tests) and
the hard part, HPACK, stays the library's.

Header blocks we send are encoded here (:class:`FieldEncoder`: the static table and literals,
never the dynamic table, so a field's bytes can be remembered); the server's blocks are decoded
by ``hpack.Decoder`` (Huffman codes, the dynamic table).

What it does not do: server push (disabled in our SETTINGS; a PUSH_PROMISE is a connection
error), priorities (ignored, as RFC 9113 allows), the CONNECT method, trailers (read past).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

import hpack
from hpack.table import HeaderTable

from soniox.errors import ClientValidationError

from .h1_protocol import valid_field_name

__all__ = [
    "FieldEncoder",
    "H2Client",
    "H2Stream",
    "StreamFailure",
    "PREFACE",
    "encode_field",
    "frame",
    "parse_frames",
]

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 §6).
DATA: Final = 0x0
HEADERS: Final = 0x1
PRIORITY: Final = 0x2
RST_STREAM: Final = 0x3
SETTINGS: Final = 0x4
PUSH_PROMISE: Final = 0x5
PING: Final = 0x6
GOAWAY: Final = 0x7
WINDOW_UPDATE: Final = 0x8
CONTINUATION: Final = 0x9

# Flags.
END_STREAM: Final = 0x1
ACK: Final = 0x1
END_HEADERS: Final = 0x4
PADDED: Final = 0x8
PRIORITY_FLAG: Final = 0x20

# Error codes (§7).
NO_ERROR: Final = 0x0
PROTOCOL_ERROR: Final = 0x1
FLOW_CONTROL_ERROR: Final = 0x3
FRAME_SIZE_ERROR: Final = 0x6
REFUSED_STREAM: Final = 0x7
CANCEL: Final = 0x8
COMPRESSION_ERROR: Final = 0x9

_ERROR_NAMES: Final = {
    0x0: "NO_ERROR",
    0x1: "PROTOCOL_ERROR",
    0x2: "INTERNAL_ERROR",
    0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT",
    0x5: "STREAM_CLOSED",
    0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM",
    0x8: "CANCEL",
    0x9: "COMPRESSION_ERROR",
    0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY",
    0xD: "HTTP_1_1_REQUIRED",
}

# Settings (§6.5.2).
HEADER_TABLE_SIZE: Final = 0x1
ENABLE_PUSH: Final = 0x2
MAX_CONCURRENT_STREAMS: Final = 0x3
INITIAL_WINDOW_SIZE: Final = 0x4
MAX_FRAME_SIZE: Final = 0x5

DEFAULT_WINDOW: Final = 65_535
MAX_WINDOW: Final = 2**31 - 1
MIN_FRAME: Final = 16_384
MAX_FRAME: Final = 2**24 - 1
MAX_STREAM_ID: Final = 2**31 - 1

STREAM_WINDOW: Final = 1 << 20
"""What each of our streams may receive before the reader catches up (advertised)."""
CONNECTION_WINDOW: Final = 16 << 20
"""What the whole connection may receive before the readers catch up (advertised)."""

_HEAD: Final = struct.Struct("!HBBBL")
"""A frame header: length (24 bits, as 16 + 8), type, flags, stream id (31 bits + reserved)."""
_SETTING: Final = struct.Struct("!HL")
_U32: Final = struct.Struct("!L")
_GOAWAY: Final = struct.Struct("!LL")
_DROPPED_HEADERS: Final = frozenset(
    {b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
"""HTTP/1.1 connection headers that HTTP/2 forbids (``host`` becomes ``:authority``)."""


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One frame, serialised."""
    size = len(payload)
    return _HEAD.pack(size >> 8, size & 0xFF, kind, flags, stream) + payload


def parse_frames(buffer: bytearray) -> list[tuple[int, int, int, bytes]]:
    """The complete frames at the start of ``buffer`` as (type, flags, stream, payload); what
    they took is removed from ``buffer`` (an incomplete frame's bytes stay for the next read).
    Sizes are not checked here (:meth:`H2Client.receive` does)."""
    view = memoryview(buffer)
    pos, end = 0, len(buffer)
    frames: list[tuple[int, int, int, bytes]] = []
    try:
        while end - pos >= 9:
            high, low, kind, flags, stream = _HEAD.unpack_from(view, pos)
            size = (high << 8) | low
            if end - pos - 9 < size:
                break
            frames.append(
                (kind, flags, stream & MAX_STREAM_ID, bytes(view[pos + 9 : pos + 9 + size]))
            )
            pos += 9 + size
    finally:
        view.release()
    if pos:
        del buffer[:pos]
    return frames


# --- HPACK, our side: encoding without the dynamic table ---------------------------------------

_STATIC_PAIRS: Final = {pair: index for index, pair in enumerate(HeaderTable.STATIC_TABLE, 1)}
_STATIC_NAMES: Final = {
    name: index for index, (name, _) in reversed(list(enumerate(HeaderTable.STATIC_TABLE, 1)))
}


def _integer(value: int, prefix: int, flags: int) -> bytes:
    """An HPACK integer (RFC 7541 §5.1) in a ``prefix``-bit prefix, ``flags`` in the rest."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes((flags | value,))
    out = bytearray((flags | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(data: bytes) -> bytes:
    """An HPACK string literal, raw (no Huffman: cheaper to make, a few bytes longer)."""
    return _integer(len(data), 7, 0) + data


def encode_field(name: bytes, value: bytes, sensitive: bool = False) -> bytes:
    """One header field, never entered in the dynamic table (RFC 7541 §6.1, §6.2.2, §6.2.3):
    indexed when the static table holds the pair, else a literal "without indexing" (or
    "never indexed" when ``sensitive``), its name from the static table when it is there.

    Requests never insert into the dynamic table, so a field's bytes depend on nothing but
    the field: no state to keep in order, and what repeats (the credential, the user agent)
    can be encoded once. ``hpack.Encoder`` indexes everything and searches its table per field
    (~100 µs a request here, as a request's unique ``:path`` keeps filling that table)."""
    if not sensitive:
        index = _STATIC_PAIRS.get((name, value))
        if index is not None:
            return _integer(index, 7, 0x80)
    flags = 0x10 if sensitive else 0x00
    name_index = _STATIC_NAMES.get(name)
    if name_index is not None:
        return _integer(name_index, 4, flags) + _string(value)
    return bytes((flags,)) + _string(name) + _string(value)


class FieldEncoder:
    """Header blocks from :func:`encode_field`, each distinct field encoded once (bounded);
    credentials (``sensitive`` names) are sent "never indexed" and never remembered."""

    __slots__ = ("_known", "_limit", "_sensitive")

    def __init__(self, sensitive: Iterable[bytes] = (), limit: int = 512) -> None:
        self._sensitive = frozenset(sensitive)
        self._known: dict[tuple[bytes, bytes], bytes] = {}
        self._limit = limit

    def encode(self, fields: Iterable[tuple[bytes, bytes]]) -> bytes:
        known = self._known
        parts: list[bytes] = []
        for pair in fields:
            encoded = known.get(pair)
            if encoded is None:
                if pair[0] in self._sensitive:  # a credential: encoded each time, never kept
                    encoded = encode_field(pair[0], pair[1], True)
                else:
                    encoded = encode_field(pair[0], pair[1])
                    if len(known) < self._limit:
                        known[pair] = encoded
            parts.append(encoded)
        return b"".join(parts)

    def block(
        self, head: Iterable[tuple[bytes, bytes]], path: bytes, rest: Iterable[tuple[bytes, bytes]]
    ) -> bytes:
        """A request's block: ``head`` (remembered), ``:path`` (never remembered: it is often
        unique), ``rest`` (remembered)."""
        return self.encode(head) + encode_field(b":path", path) + self.encode(rest)


class StreamFailure:
    """Why a stream ended without a complete answer, and whether the server can have acted on
    it: ``processed`` False means certainly not (a GOAWAY above it, REFUSED_STREAM), so any
    method may be sent again; None means it may have been."""

    __slots__ = ("detail", "processed")

    def __init__(self, detail: str, processed: bool | None) -> None:
        self.detail = detail
        self.processed = processed

    def __repr__(self) -> str:
        return f"StreamFailure({self.detail!r}, processed={self.processed})"


class H2Stream:
    """One request's stream: what has arrived of its answer, and what is left to send."""

    __slots__ = (
        "chunks",
        "ended",
        "failure",
        "headers",
        "id",
        "pending",
        "recv_window",
        "send_window",
        "sent",
        "status",
        "streamed",
        "unacked",
        "waiter",
    )

    def __init__(self, stream_id: int, send_window: int, recv_window: int, streamed: bool) -> None:
        self.id = stream_id
        self.status = 0
        """The final status (0 until the response headers arrived; 1xx are skipped)."""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.ended = False
        """The server's END_STREAM arrived: the answer is complete."""
        self.failure: StreamFailure | None = None
        self.send_window = send_window
        self.pending: memoryview | None = None
        """Request body bytes not yet framed (waiting for window)."""
        self.sent = False
        """The request's last frame (END_STREAM) has been framed."""
        self.streamed = streamed
        """The caller reads the body as it arrives: window granted as it takes the chunks."""
        self.recv_window = recv_window
        """What the server may still send on it before our next WINDOW_UPDATE."""
        self.unacked = 0
        self.waiter: object = None
        """The shell's wake-up handle (a future, say); never touched here."""

    @property
    def answered(self) -> bool:
        """The status line is in, or the stream failed: the caller can go on."""
        return self.status != 0 or self.failure is not None

    @property
    def done(self) -> bool:
        return self.ended or self.failure is not None

    def __repr__(self) -> str:
        state = "ended" if self.ended else "failed" if self.failure else "open"
        return f"H2Stream({self.id}, status={self.status}, {state})"


class ConnectionFailure(Exception):
    """The server broke the protocol: the connection is unusable (GOAWAY sent)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def check_fields(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Refuse a header that HTTP/2 cannot carry or that would smuggle another: a name that is
    not a lower-case token, a value with CR, LF or NUL. Names the header, never its value."""
    for name, value in headers:
        if not valid_field_name(name) or name != name.lower():
            raise ClientValidationError(f"invalid HTTP header name {name!r}", field="headers")
        if b"\r" in value or b"\n" in value or b"\x00" in value:
            raise ClientValidationError(
                f"HTTP header {name.decode('latin-1')!r} has a line break or NUL in its value",
                field="headers",
            )


class H2Client:
    """One HTTP/2 client connection's state (see the module docstring)."""

    def __init__(
        self,
        *,
        stream_window: int = STREAM_WINDOW,
        connection_window: int = CONNECTION_WINDOW,
        sensitive: Iterable[bytes] = (),
    ) -> None:
        self._encoder = FieldEncoder(sensitive)
        self._decoder = hpack.Decoder()
        self._stream_window = stream_window
        self._connection_window = connection_window
        self._inbound = bytearray()
        self._out: list[bytes] = [
            PREFACE,
            frame(
                SETTINGS,
                0,
                0,
                _SETTING.pack(ENABLE_PUSH, 0) + _SETTING.pack(INITIAL_WINDOW_SIZE, stream_window),
            ),
        ]
        if connection_window > DEFAULT_WINDOW:
            self._out.append(
                frame(WINDOW_UPDATE, 0, 0, _U32.pack(connection_window - DEFAULT_WINDOW))
            )
        self.streams: dict[int, H2Stream] = {}
        """Open streams (request or answer still going) by id."""
        self._next_id = 1
        self._continuing: tuple[int, int, bytearray] | None = None
        """A header block waiting for CONTINUATION frames: (stream, HEADERS flags, bytes)."""
        self._conn_unacked = 0
        self.peer_max_streams = 100
        """Until the server's SETTINGS say otherwise (RFC 9113 leaves it unlimited; servers
        commonly allow 100)."""
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame = MIN_FRAME
        self.send_window = DEFAULT_WINDOW
        """The connection's window for our DATA."""
        self.goaway: int | None = None
        """The last stream id the server said it may process, once it sent GOAWAY."""
        self.broken: str | None = None
        """Why the connection cannot carry anything more (lost, or a protocol error)."""
        self.settings_received = False

    # --- state --------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Can carry one more request now."""
        return (
            self.broken is None
            and self.goaway is None
            and len(self.streams) < self.peer_max_streams
            and self._next_id <= MAX_STREAM_ID
        )

    @property
    def reusable(self) -> bool:
        """May carry requests later (neither lost, nor told to go away, nor out of ids)."""
        return self.broken is None and self.goaway is None and self._next_id <= MAX_STREAM_ID

    @property
    def idle(self) -> bool:
        return not self.streams

    def output(self) -> bytes:
        """What to write to the socket now (in order); empty when nothing is due."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # --- requests -----------------------------------------------------------------------------
    def open(
        self,
        method: bytes,
        scheme: bytes,
        authority: bytes,
        path: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes | None,
        *,
        streamed: bool = False,
    ) -> H2Stream:
        """Start a request: its HEADERS (and DATA, as far as the windows allow) are queued for
        :meth:`output`. ``headers`` are lower-case; HTTP/1.1 connection headers are dropped.
        Raises RuntimeError when :attr:`available` is False (the pool picks another)."""
        if not self.available:
            raise RuntimeError("this HTTP/2 connection cannot open a stream now")
        fields = [pair for pair in headers if pair[0] not in _DROPPED_HEADERS]
        check_fields(fields)
        stream_id = self._next_id
        self._next_id += 2
        stream = H2Stream(stream_id, self.peer_initial_window, self._stream_window, streamed)
        self.streams[stream_id] = stream
        block = self._encoder.block(
            ((b":method", method), (b":scheme", scheme), (b":authority", authority)), path, fields
        )
        has_body = bool(body)
        self._queue_headers(stream_id, block, end_stream=not has_body)
        if has_body:
            assert body is not None
            stream.pending = memoryview(body)
            self._send_data(stream)
        else:
            stream.sent = True
        return stream

    def _queue_headers(self, stream_id: int, block: bytes, *, end_stream: bool) -> None:
        limit = self.peer_max_frame
        flags = END_STREAM if end_stream else 0
        if len(block) <= limit:
            self._out.append(frame(HEADERS, flags | END_HEADERS, stream_id, block))
            return
        self._out.append(frame(HEADERS, flags, stream_id, block[:limit]))
        for start in range(limit, len(block), limit):
            last = start + limit >= len(block)
            self._out.append(
                frame(
                    CONTINUATION,
                    END_HEADERS if last else 0,
                    stream_id,
                    block[start : start + limit],
                )
            )

    def _send_data(self, stream: H2Stream) -> None:
        """Frame as much of ``stream``'s pending body as both windows allow."""
        pending = stream.pending
        if pending is None:
            return
        out, limit = self._out, self.peer_max_frame
        while pending:
            room = min(limit, stream.send_window, self.send_window)
            if room <= 0:
                stream.pending = pending
                return
            piece = pending[:room]
            pending = pending[room:]
            size = len(piece)
            stream.send_window -= size
            self.send_window -= size
            out.append(frame(DATA, 0 if pending else END_STREAM, stream.id, bytes(piece)))
        stream.pending = None
        stream.sent = True

    def take(self, stream: H2Stream) -> bytes:
        """The body bytes that arrived and were not taken yet; a streamed stream's window grows
        back by as much (flow control follows the reader)."""
        chunks = stream.chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if stream.streamed:
            self._credit(stream, len(data))
        return data

    def read_whole(self, stream: H2Stream) -> None:
        """The caller reads ``stream``'s answer whole after all (an error status on a streamed
        request): its window follows what arrives again, starting with what is there."""
        if stream.streamed:
            stream.streamed = False
            self._credit(stream, sum(len(chunk) for chunk in stream.chunks))

    def _credit(self, stream: H2Stream, size: int) -> None:
        """``size`` bytes of ``stream`` were consumed: grow its window back once half of it is
        owed (one WINDOW_UPDATE per half window, not one per frame)."""
        if stream.ended:
            return
        stream.unacked += size
        if stream.unacked >= self._stream_window // 2:
            self._out.append(frame(WINDOW_UPDATE, 0, stream.id, _U32.pack(stream.unacked)))
            stream.recv_window += stream.unacked
            stream.unacked = 0

    def cancel(self, stream: H2Stream) -> None:
        """The caller gave up on ``stream`` (a timeout, a closed body): RST_STREAM(CANCEL)."""
        if self.streams.pop(stream.id, None) is not None and self.broken is None:
            self._out.append(frame(RST_STREAM, 0, stream.id, _U32.pack(CANCEL)))
        if stream.failure is None and not stream.ended:
            stream.failure = StreamFailure("cancelled by the client", None)

    def lost(self, detail: str) -> list[H2Stream]:
        """The connection is gone (end of stream, a socket error): every open stream fails.
        Returns them."""
        if self.broken is None:
            self.broken = detail
        failed = list(self.streams.values())
        self.streams.clear()
        goaway = self.goaway
        for stream in failed:
            processed = False if goaway is not None and stream.id > goaway else None
            if stream.failure is None:
                stream.failure = StreamFailure(detail, processed)
        return failed

    # --- what the server sends ---------------------------------------------------------------------
    def receive(self, data: bytes) -> list[H2Stream]:
        """Feed bytes read from the socket. Returns the streams whose state changed (an answer
        or failure to wake). A protocol violation breaks the connection: GOAWAY is queued and
        every open stream fails."""
        if self.broken is not None:
            return []
        self._inbound += data
        changed: list[H2Stream] = []
        try:
            for kind, flags, stream_id, payload in parse_frames(self._inbound):
                self._frame(kind, flags, stream_id, payload, changed)
        except ConnectionFailure as failure:
            self._out.append(frame(GOAWAY, 0, 0, _GOAWAY.pack(0, failure.code)))
            changed.extend(self.lost(f"HTTP/2 protocol error from the server: {failure}"))
        except hpack.HPACKError as error:
            self._out.append(frame(GOAWAY, 0, 0, _GOAWAY.pack(0, COMPRESSION_ERROR)))
            changed.extend(self.lost(f"HTTP/2 header compression error: {error}"))
        if self._conn_unacked >= self._connection_window // 2:
            self._out.append(frame(WINDOW_UPDATE, 0, 0, _U32.pack(self._conn_unacked)))
            self._conn_unacked = 0
        return changed

    def _frame(
        self, kind: int, flags: int, stream_id: int, payload: bytes, changed: list[H2Stream]
    ) -> None:
        if len(payload) > MIN_FRAME:  # we never raise SETTINGS_MAX_FRAME_SIZE
            raise ConnectionFailure(FRAME_SIZE_ERROR, f"a frame of {len(payload)} bytes")
        if self._continuing is not None and kind != CONTINUATION:
            raise ConnectionFailure(PROTOCOL_ERROR, "a header block interrupted")
        if kind == DATA:
            self._data(flags, stream_id, payload, changed)
        elif kind == HEADERS:
            if stream_id == 0:
                raise ConnectionFailure(PROTOCOL_ERROR, "HEADERS on stream 0")
            if flags & PADDED:
                payload = _unpad(payload)
            if flags & PRIORITY_FLAG:
                payload = payload[5:]
            if flags & END_HEADERS:
                self._headers(stream_id, flags, payload, changed)
            else:
                self._continuing = (stream_id, flags, bytearray(payload))
        elif kind == CONTINUATION:
            continuing = self._continuing
            if continuing is None or continuing[0] != stream_id:
                raise ConnectionFailure(PROTOCOL_ERROR, "an unexpected CONTINUATION")
            continuing[2].extend(payload)
            if flags & END_HEADERS:
                self._continuing = None
                self._headers(stream_id, continuing[1], bytes(continuing[2]), changed)
        elif kind == SETTINGS:
            self._settings(flags, stream_id, payload)
        elif kind == WINDOW_UPDATE:
            self._window_update(stream_id, payload)
        elif kind == PING:
            if len(payload) != 8 or stream_id:
                raise ConnectionFailure(PROTOCOL_ERROR, "a malformed PING")
            if not flags & ACK:
                self._out.append(frame(PING, ACK, 0, payload))
        elif kind == RST_STREAM:
            self._reset(stream_id, payload, changed)
        elif kind == GOAWAY:
            self._goaway(payload, changed)
        elif kind == PUSH_PROMISE:
            raise ConnectionFailure(PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled")
        # PRIORITY and unknown frame types are ignored (§5.5).

    def _data(self, flags: int, stream_id: int, payload: bytes, changed: list[H2Stream]) -> None:
        if stream_id == 0:
            raise ConnectionFailure(PROTOCOL_ERROR, "DATA on stream 0")
        counted = len(payload)  # padding included: it counts against the windows
        self._conn_unacked += counted
        if flags & PADDED:
            payload = _unpad(payload)
        stream = self.streams.get(stream_id)
        if stream is None:
            return  # a stream we cancelled: its frames in flight are read past
        if stream.status == 0:
            raise ConnectionFailure(PROTOCOL_ERROR, "DATA before the response headers")
        stream.recv_window -= counted
        if stream.recv_window < 0:
            raise ConnectionFailure(FLOW_CONTROL_ERROR, "more DATA than the stream's window")
        if payload:
            stream.chunks.append(payload)
        if flags & END_STREAM:
            self._ended(stream)
        elif not stream.streamed:
            self._credit(stream, counted)  # read whole: the window follows what arrives
        changed.append(stream)

    def _headers(self, stream_id: int, flags: int, block: bytes, changed: list[H2Stream]) -> None:
        fields = self._decoder.decode(block, raw=True)  # always: keeps HPACK in step
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        if stream.status == 0:
            status = 0
            headers: list[tuple[bytes, bytes]] = []
            for name, value in fields:
                if name == b":status":
                    status = int(value) if value.isdigit() else 0
                elif not name.startswith(b":"):
                    headers.append((name, value))
            if not 100 <= status <= 599:
                raise ConnectionFailure(PROTOCOL_ERROR, "a response without a valid :status")
            if status < 200:
                return  # informational (100 Continue, 103 Early Hints): the answer follows
            stream.status = status
            stream.headers = headers
        # else: trailers, read past
        if flags & END_STREAM:
            self._ended(stream)
        changed.append(stream)

    def _ended(self, stream: H2Stream) -> None:
        stream.ended = True
        del self.streams[stream.id]
        if not stream.sent:  # answered before the body was all sent: stop sending it
            stream.pending = None
            self._out.append(frame(RST_STREAM, 0, stream.id, _U32.pack(CANCEL)))

    def _settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id:
            raise ConnectionFailure(PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & ACK:
            return
        if len(payload) % 6:
            raise ConnectionFailure(FRAME_SIZE_ERROR, "a malformed SETTINGS frame")
        for offset in range(0, len(payload), 6):
            key, value = _SETTING.unpack_from(payload, offset)
            if key == MAX_CONCURRENT_STREAMS:
                self.peer_max_streams = value
            elif key == INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise ConnectionFailure(FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large")
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                for stream in self.streams.values():
                    stream.send_window += delta
            elif key == MAX_FRAME_SIZE:
                if not MIN_FRAME <= value <= MAX_FRAME:
                    raise ConnectionFailure(PROTOCOL_ERROR, "MAX_FRAME_SIZE out of range")
                self.peer_max_frame = value
            # HEADER_TABLE_SIZE (our blocks never use the dynamic table), ENABLE_PUSH,
            # MAX_HEADER_LIST_SIZE and unknown settings: nothing to do
        self.settings_received = True
        self._out.append(frame(SETTINGS, ACK, 0))
        self._flush_pending()

    def _window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise ConnectionFailure(FRAME_SIZE_ERROR, "a malformed WINDOW_UPDATE")
        increment = _U32.unpack(payload)[0] & MAX_WINDOW
        if stream_id == 0:
            if increment == 0:
                raise ConnectionFailure(PROTOCOL_ERROR, "a zero WINDOW_UPDATE")
            self.send_window += increment
            if self.send_window > MAX_WINDOW:
                raise ConnectionFailure(FLOW_CONTROL_ERROR, "the connection window overflowed")
            self._flush_pending()
            return
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        stream.send_window += increment
        if stream.send_window > MAX_WINDOW:
            raise ConnectionFailure(FLOW_CONTROL_ERROR, "a stream window overflowed")
        self._send_data(stream)

    def _flush_pending(self) -> None:
        for stream in list(self.streams.values()):
            if stream.pending is not None:
                self._send_data(stream)

    def _reset(self, stream_id: int, payload: bytes, changed: list[H2Stream]) -> None:
        if len(payload) != 4 or stream_id == 0:
            raise ConnectionFailure(PROTOCOL_ERROR, "a malformed RST_STREAM")
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        code = _U32.unpack(payload)[0]
        name = _ERROR_NAMES.get(code, hex(code))
        processed = False if code == REFUSED_STREAM else None
        stream.failure = StreamFailure(f"the server reset the stream ({name})", processed)
        changed.append(stream)

    def _goaway(self, payload: bytes, changed: list[H2Stream]) -> None:
        if len(payload) < 8:
            raise ConnectionFailure(FRAME_SIZE_ERROR, "a malformed GOAWAY")
        last, code = _GOAWAY.unpack_from(payload)
        last &= MAX_STREAM_ID
        self.goaway = last if self.goaway is None else min(self.goaway, last)
        name = _ERROR_NAMES.get(code, hex(code))
        for stream_id in [s for s in self.streams if s > last]:
            stream = self.streams.pop(stream_id)
            stream.failure = StreamFailure(
                f"the server sent GOAWAY ({name}) before processing this stream", False
            )
            changed.append(stream)

    def __repr__(self) -> str:
        state = self.broken or ("going away" if self.goaway is not None else "open")
        return f"H2Client({len(self.streams)} streams, {state})"


def _unpad(payload: bytes) -> bytes:
    if not payload:
        raise ConnectionFailure(PROTOCOL_ERROR, "a padded frame without its pad length")
    pad = payload[0]
    if pad >= len(payload):
        raise ConnectionFailure(PROTOCOL_ERROR, "padding longer than the frame")
    return payload[1 : len(payload) - pad]
