"""Audio decoding for the emulator: every input format to mono signed 16-bit PCM, incrementally.

Recognition engines only ever see mono ``array('h')`` samples at the source rate. Decoders are
fed bytes in whatever pieces the wire delivered (a WebSocket frame may end in the middle of a
sample or of a WAV header) and keep the remainder, so any split of a byte stream decodes to
the same samples as the whole stream.

What is decoded for real:

* every raw format of the realtime API (``pcm_s8`` … ``pcm_f64be``, ``mulaw``, ``alaw``);
  multi-channel audio keeps **channel 0** (cheap, deterministic, and what a mono recogniser
  hears from a typical stereo recording's left channel);
* WAV (``RIFF``/``RF64``/``BW64``; integer PCM of 8/16/24/32 bits, float 32/64, A-law, mu-law,
  ``WAVE_FORMAT_EXTENSIBLE``) and AIFF/AIFF-C (big-endian PCM, ``sowt``, ``fl32``/``fl64``,
  ``ulaw``/``alaw``), headers arriving in any number of pieces.

Compressed containers (mp3, flac, ogg, webm, mp4/m4a, aac, amr, asf) cannot be decoded without
ffmpeg. They are recognised by their signature and then treated as an *opaque* stream: each
byte becomes one pseudo-sample at :data:`OPAQUE_SAMPLE_RATE` (16,000 bytes per second, the byte
rate of a 128 kbit/s MP3), so durations are plausible and the deterministic engine still maps
the same bytes to the same tokens. WAV codecs other than PCM/float/G.711 (ADPCM, MP3-in-WAV …)
are opaque too, at the byte rate the WAV header declares.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

import attrs

from .audio_format import AudioDecodeError, StreamFormat

__all__ = [
    "AUTO_FORMATS",
    "CONTAINER_FORMATS",
    "FILE_CONTAINER_FORMATS",
    "OPAQUE_SAMPLE_RATE",
    "RAW_FORMATS",
    "AudioDecoder",
    "AutoDecoder",
    "ChunkedContainerDecoder",
    "DecodedFile",
    "OpaqueDecoder",
    "RawDecoder",
    "decoder_for_stream",
    "iter_file_samples",
    "samples_to_bytes",
    "sniff_container",
]

OPAQUE_SAMPLE_RATE: Final = 16_000
"""Nominal byte rate of undecodable containers: one byte is one pseudo-sample at 16 kHz."""

CONTAINER_FORMATS: Final = ("aac", "aiff", "amr", "asf", "flac", "mp3", "ogg", "wav", "webm")
"""Container formats the realtime API accepts by name (and detects with ``auto``)."""

FILE_CONTAINER_FORMATS: Final = (*CONTAINER_FORMATS, "m4a", "mp4")
"""Containers detected in uploaded files (async transcription)."""

AUTO_FORMATS: Final = ("auto", *CONTAINER_FORMATS)

_BIG_ENDIAN_HOST: Final = sys.byteorder == "big"
_SNIFF_BYTES: Final = 16
_MAX_HEADER_CHUNK: Final = 1 << 16
_MAX_SAMPLE_RATE: Final = 1_000_000
_MAX_CHANNELS: Final = 64


# ---------------------------------------------------------------------------------------------
# Raw sample conversion


@attrs.frozen
class _RawSpec:
    """Layout of one raw sample format: bytes per sample, kind and byte order."""

    width: int
    kind: str  # "int" | "uint" | "float" | "mulaw" | "alaw"
    big_endian: bool = False


RAW_FORMATS: Final[dict[str, _RawSpec]] = {
    "pcm_s8": _RawSpec(1, "int"),
    "pcm_u8": _RawSpec(1, "uint"),
    "pcm_s16le": _RawSpec(2, "int"),
    "pcm_s16be": _RawSpec(2, "int", True),
    "pcm_u16le": _RawSpec(2, "uint"),
    "pcm_u16be": _RawSpec(2, "uint", True),
    "pcm_s24le": _RawSpec(3, "int"),
    "pcm_s24be": _RawSpec(3, "int", True),
    "pcm_u24le": _RawSpec(3, "uint"),
    "pcm_u24be": _RawSpec(3, "uint", True),
    "pcm_s32le": _RawSpec(4, "int"),
    "pcm_s32be": _RawSpec(4, "int", True),
    "pcm_u32le": _RawSpec(4, "uint"),
    "pcm_u32be": _RawSpec(4, "uint", True),
    "pcm_f32le": _RawSpec(4, "float"),
    "pcm_f32be": _RawSpec(4, "float", True),
    "pcm_f64le": _RawSpec(8, "float"),
    "pcm_f64be": _RawSpec(8, "float", True),
    "mulaw": _RawSpec(1, "mulaw"),
    "alaw": _RawSpec(1, "alaw"),
}
"""Raw formats of the realtime API (they need ``sample_rate`` and ``num_channels``)."""


def _mulaw_to_linear(code: int) -> int:
    u = ~code & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    return 0x84 - magnitude if u & 0x80 else magnitude - 0x84


def _alaw_to_linear(code: int) -> int:
    a = code ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a >> 4) & 0x07
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def _split_table(decode: Callable[[int], int]) -> tuple[bytes, bytes]:
    """Two ``bytes.translate`` tables: code -> low byte and code -> high byte of the s16 value."""
    values = [decode(code) & 0xFFFF for code in range(256)]
    return bytes(v & 0xFF for v in values), bytes(v >> 8 for v in values)


_MULAW_LO, _MULAW_HI = _split_table(_mulaw_to_linear)
_ALAW_LO, _ALAW_HI = _split_table(_alaw_to_linear)
_FLIP_SIGN: Final = bytes(b ^ 0x80 for b in range(256))
"""Unsigned -> signed: flipping the top bit of the most significant byte subtracts the bias."""


def _s16le_bytes_to_array(data: bytes | bytearray) -> array[int]:
    out = array("h")
    out.frombytes(data)
    if _BIG_ENDIAN_HOST:
        out.byteswap()
    return out


def samples_to_bytes(samples: array[int]) -> bytes:
    """Little-endian s16 bytes of ``samples`` (whatever the host byte order)."""
    if _BIG_ENDIAN_HOST:
        swapped = array("h", samples)
        swapped.byteswap()
        return swapped.tobytes()
    return samples.tobytes()


def _float_to_s16(values: array[float]) -> array[int]:
    return array(
        "h",
        [
            int(x * 32768.0)
            if -1.0 < x < 1.0
            else (32767 if x >= 1.0 else -32768 if x <= -1.0 else 0)
            for x in values
        ],
    )


def _convert(spec: _RawSpec, data: bytes, channels: int) -> array[int]:
    """Whole frames of ``spec`` samples -> channel-0 s16 samples (``data`` is frame-aligned)."""
    step = spec.width * channels
    if spec.kind == "float":
        values = array("f" if spec.width == 4 else "d")
        values.frombytes(data)
        if spec.big_endian != _BIG_ENDIAN_HOST:
            values.byteswap()
        return _float_to_s16(values[::channels] if channels > 1 else values)
    if spec.kind == "int" and spec.width == 2 and not spec.big_endian and channels == 1:
        return _s16le_bytes_to_array(data)
    first = data[::step] if step > 1 else data
    out = bytearray(2 * len(first))
    if spec.kind in ("mulaw", "alaw"):
        lo, hi = (_MULAW_LO, _MULAW_HI) if spec.kind == "mulaw" else (_ALAW_LO, _ALAW_HI)
        out[0::2] = first.translate(lo)
        out[1::2] = first.translate(hi)
        return _s16le_bytes_to_array(out)
    # Integer PCM: keep the two most significant bytes of each sample (truncation to 16 bits).
    hi_index = 0 if spec.big_endian else spec.width - 1
    high = data[hi_index::step]
    if spec.kind == "uint":
        high = high.translate(_FLIP_SIGN)
    out[1::2] = high
    if spec.width > 1:
        lo_index = 1 if spec.big_endian else spec.width - 2
        out[0::2] = data[lo_index::step]
    return _s16le_bytes_to_array(out)


# ---------------------------------------------------------------------------------------------
# Decoders


class AudioDecoder:
    """Incremental decoder: bytes in (any split), mono s16 samples out.

    ``sample_rate`` is ``None`` until the format is known (a container header may still be
    arriving). :meth:`finish` flushes at end of stream and raises :class:`AudioDecodeError`
    when the stream ended in a state that cannot be audio (e.g. a truncated header).
    """

    sample_rate: int | None = None

    def decode(self, data: bytes) -> array[int]:
        raise NotImplementedError

    def finish(self) -> array[int]:
        return array("h")


class RawDecoder(AudioDecoder):
    """Headerless audio in one of :data:`RAW_FORMATS`; a trailing partial frame is kept."""

    def __init__(self, audio_format: str, sample_rate: int, num_channels: int) -> None:
        spec = RAW_FORMATS.get(audio_format)
        if spec is None:
            raise AudioDecodeError(f"unsupported raw audio format {audio_format!r}")
        if not 1 <= sample_rate <= _MAX_SAMPLE_RATE:
            raise AudioDecodeError(f"sample_rate must be between 1 and {_MAX_SAMPLE_RATE}")
        if not 1 <= num_channels <= _MAX_CHANNELS:
            raise AudioDecodeError(f"num_channels must be between 1 and {_MAX_CHANNELS}")
        self._spec = spec
        self._channels = num_channels
        self._frame = spec.width * num_channels
        self._rest = b""
        self.audio_format = audio_format
        self.sample_rate = sample_rate

    def __repr__(self) -> str:
        return (
            f"RawDecoder({self.audio_format}, {self.sample_rate} Hz, {self._channels} ch, "
            f"{len(self._rest)} pending byte(s))"
        )

    def decode(self, data: bytes) -> array[int]:
        buf = self._rest + data if self._rest else data
        usable = len(buf) - len(buf) % self._frame
        self._rest = bytes(buf[usable:])
        if usable == 0:
            return array("h")
        return _convert(self._spec, bytes(buf[:usable]), self._channels)


class OpaqueDecoder(AudioDecoder):
    """Undecodable bytes as pseudo-samples: one byte is one unsigned 8-bit sample at ``rate``."""

    def __init__(self, rate: int = OPAQUE_SAMPLE_RATE) -> None:
        self._raw = RawDecoder("pcm_u8", rate, 1)
        self.sample_rate = rate

    def __repr__(self) -> str:
        return f"OpaqueDecoder({self.sample_rate} B/s)"

    def decode(self, data: bytes) -> array[int]:
        return self._raw.decode(data)


def _check_layout(rate: int, channels: int, what: str) -> None:
    if not 1 <= rate <= _MAX_SAMPLE_RATE:
        raise AudioDecodeError(f"{what} header declares an invalid sample rate ({rate})")
    if not 1 <= channels <= _MAX_CHANNELS:
        raise AudioDecodeError(f"{what} header declares an invalid channel count ({channels})")


_WAVE_TAGS: Final[dict[tuple[int, int], str]] = {
    (1, 1): "pcm_u8",
    (1, 2): "pcm_s16le",
    (1, 3): "pcm_s24le",
    (1, 4): "pcm_s32le",
    (3, 4): "pcm_f32le",
    (3, 8): "pcm_f64le",
    (6, 1): "alaw",
    (7, 1): "mulaw",
}
_WAVE_FORMAT_EXTENSIBLE: Final = 0xFFFE


def _wav_fmt(body: bytes) -> AudioDecoder:
    if len(body) < 16:
        raise AudioDecodeError("WAV 'fmt ' chunk is too short")
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 26:
            raise AudioDecodeError("WAV WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is too short")
        (tag,) = struct.unpack_from("<H", body, 24)  # first two bytes of the SubFormat GUID
    _check_layout(rate, channels, "WAV")
    if block_align and block_align % channels == 0:
        width = block_align // channels
    else:
        width = max(1, math.ceil(bits / 8))
    fmt = _WAVE_TAGS.get((tag, width))
    if fmt is not None:
        return RawDecoder(fmt, rate, channels)
    if tag in (1, 3, 6, 7):
        raise AudioDecodeError(
            f"unsupported WAV sample layout: {bits}-bit in {width}-byte containers"
        )
    if byte_rate <= 0 or byte_rate > _MAX_SAMPLE_RATE:
        raise AudioDecodeError(f"WAV header declares an invalid byte rate ({byte_rate})")
    # A compressed WAV codec (ADPCM, GSM, MP3 …): opaque at the declared byte rate.
    return OpaqueDecoder(byte_rate)


def _extended_to_int(raw: bytes) -> int:
    """IEEE 754 80-bit extended float (AIFF sample rate) -> nearest int."""
    exponent, mantissa = struct.unpack(">HQ", raw)
    sign = -1 if exponent & 0x8000 else 1
    exponent &= 0x7FFF
    if exponent == 0 and mantissa == 0:
        return 0
    if exponent == 0x7FFF:
        raise AudioDecodeError("AIFF header declares an invalid sample rate")
    return sign * round(math.ldexp(mantissa, exponent - 16383 - 63))


_AIFC_CODECS: Final[dict[bytes, tuple[str, ...]]] = {
    b"NONE": ("", "pcm_s8", "pcm_s16be", "pcm_s24be", "pcm_s32be"),
    b"twos": ("", "pcm_s8", "pcm_s16be", "pcm_s24be", "pcm_s32be"),
    b"sowt": ("", "pcm_s8", "pcm_s16le", "pcm_s24le", "pcm_s32le"),
    b"in24": ("", "", "", "pcm_s24be"),
    b"in32": ("", "", "", "", "pcm_s32be"),
    b"fl32": ("", "", "", "", "pcm_f32be"),
    b"FL32": ("", "", "", "", "pcm_f32be"),
    b"fl64": ("", "", "", "", "", "", "", "", "pcm_f64be"),
    b"FL64": ("", "", "", "", "", "", "", "", "pcm_f64be"),
    b"ulaw": ("", "mulaw"),
    b"ULAW": ("", "mulaw"),
    b"alaw": ("", "alaw"),
    b"ALAW": ("", "alaw"),
}


def _aiff_comm(body: bytes, aifc: bool) -> AudioDecoder:
    if len(body) < 18:
        raise AudioDecodeError("AIFF 'COMM' chunk is too short")
    channels, _frames, bits = struct.unpack_from(">hIh", body)
    rate = _extended_to_int(body[8:18])
    _check_layout(rate, channels, "AIFF")
    codec = body[18:22] if aifc and len(body) >= 22 else b"NONE"
    width = max(1, math.ceil(bits / 8))
    if codec in (b"ulaw", b"ULAW", b"alaw", b"ALAW"):
        width = 1
    elif codec in (b"fl32", b"FL32"):
        width = 4
    elif codec in (b"fl64", b"FL64"):
        width = 8
    layouts = _AIFC_CODECS.get(codec)
    if layouts is None:
        return OpaqueDecoder()
    fmt = layouts[width] if width < len(layouts) else ""
    if not fmt:
        raise AudioDecodeError(
            f"unsupported AIFF sample layout: {bits}-bit {codec.decode('latin-1')}"
        )
    return RawDecoder(fmt, rate, channels)


class ChunkedContainerDecoder(AudioDecoder):
    """WAV (``RIFF``/``RF64``/``BW64``) and AIFF/AIFF-C, parsed as the bytes arrive.

    Chunks before the audio are buffered only when they describe the format (``fmt ``,
    ``COMM``); others (``LIST``, ``fact`` …) are skipped by counting bytes. Audio chunk bytes go
    straight to a :class:`RawDecoder`. A data size of 0 or 0xFFFFFFFF (streaming writers,
    RF64) means "until the end of the stream"; bytes after a sized data chunk are ignored.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._kind = ""  # "wav" | "aiff" | "aifc" once the 12-byte header was read
        self._state = "header"  # header | chunk | body | skip | ssnd | audio | trailer
        self._chunk_left = 0
        self._format_body: bytes | None = None
        self._inner: AudioDecoder | None = None
        self._audio_left: int | None = None  # None: until the end of the stream
        self._audio_skip = 0

    def __repr__(self) -> str:
        kind = self._kind or "?"
        return f"ChunkedContainerDecoder({kind}, state={self._state}, inner={self._inner!r})"

    def decode(self, data: bytes) -> array[int]:
        out = array("h")
        view = memoryview(data)
        pos = 0
        while pos < len(view) or self._state == "audio":
            state = self._state
            if state == "trailer":
                break
            if state == "audio":
                self._feed_audio(view[pos:], out)
                break
            if state == "skip":
                step = min(self._chunk_left, len(view) - pos)
                pos += step
                self._chunk_left -= step
                if not self._chunk_left:
                    self._state = "chunk"
                continue
            need = self._needed()
            take = min(need - len(self._buf), len(view) - pos)
            self._buf += view[pos : pos + take]
            pos += take
            if len(self._buf) < need:
                break
            block = bytes(self._buf)
            self._buf.clear()
            self._advance(block)
        return out

    def _feed_audio(self, view: memoryview, out: array[int]) -> None:
        if self._audio_skip:
            dropped = min(self._audio_skip, len(view))
            self._audio_skip -= dropped
            view = view[dropped:]
        if self._audio_left is not None:
            view = view[: self._audio_left]
            self._audio_left -= len(view)
            if self._audio_left == 0:
                self._state = "trailer"
        if len(view):
            assert self._inner is not None
            out.extend(self._inner.decode(bytes(view)))

    def _needed(self) -> int:
        if self._state == "header":
            return 12
        if self._state in ("chunk", "ssnd"):
            return 8
        return self._chunk_left  # "body": a format chunk, buffered whole

    def _advance(self, block: bytes) -> None:
        if self._state == "header":
            self._read_header(block)
        elif self._state == "chunk":
            self._read_chunk_header(block)
        elif self._state == "body":
            self._read_format(block)
        elif self._state == "ssnd":
            offset, _block_size = struct.unpack(">II", block)
            if self._audio_left is not None:
                self._audio_left = max(0, self._audio_left - 8)
            self._start_audio(skip=offset)

    def _read_header(self, block: bytes) -> None:
        magic, form = block[:4], block[8:12]
        if magic in (b"RIFF", b"RF64", b"BW64") and form == b"WAVE":
            self._kind = "wav"
        elif magic == b"FORM" and form in (b"AIFF", b"AIFC"):
            self._kind = "aifc" if form == b"AIFC" else "aiff"
        else:
            raise AudioDecodeError(
                "not a WAV or AIFF stream (missing RIFF/WAVE or FORM/AIFF header)"
            )
        self._state = "chunk"

    def _read_chunk_header(self, block: bytes) -> None:
        wav = self._kind == "wav"
        chunk_id = block[:4]
        (size,) = struct.unpack("<I" if wav else ">I", block[4:8])
        padded = size + (size & 1)
        if chunk_id == (b"data" if wav else b"SSND"):
            if self._format_body is None:
                what = "WAV 'data' chunk before its 'fmt '" if wav else "AIFF 'SSND' before 'COMM'"
                raise AudioDecodeError(f"malformed audio header: {what} chunk")
            self._audio_left = None if size in (0, 0xFFFFFFFF) else size
            if wav:
                self._start_audio(skip=0)
            else:
                self._state = "ssnd"
            return
        if chunk_id == (b"fmt " if wav else b"COMM"):
            if size > _MAX_HEADER_CHUNK:
                raise AudioDecodeError("audio format chunk is implausibly large")
            self._chunk_left = padded
            if padded:
                self._state = "body"
            else:
                self._read_format(b"")
            return
        self._chunk_left = padded
        self._state = "skip" if padded else "chunk"

    def _make_inner(self) -> AudioDecoder:
        assert self._format_body is not None
        if self._kind == "wav":
            return _wav_fmt(self._format_body)
        return _aiff_comm(self._format_body, self._kind == "aifc")

    def _read_format(self, block: bytes) -> None:
        self._format_body = block
        self.sample_rate = self._make_inner().sample_rate  # validates the header early
        self._state = "chunk"

    def _start_audio(self, *, skip: int) -> None:
        self._inner = self._make_inner()
        self.sample_rate = self._inner.sample_rate
        self._audio_skip = skip
        self._state = "trailer" if self._audio_left == 0 else "audio"

    def finish(self) -> array[int]:
        if self._state == "header" and not self._buf:
            return array("h")  # nothing at all was sent: no audio, not an error
        if self._state not in ("audio", "trailer"):
            raise AudioDecodeError(
                "audio stream ended inside its header (no audio data chunk was found)"
            )
        return array("h")


# ---------------------------------------------------------------------------------------------
# Sniffing


_ASF_GUID: Final = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def _is_mpeg_audio(head: bytes) -> bool:
    """MPEG-1/2/2.5 layer I-III frame header with valid bitrate and sample-rate indexes."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x03
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _is_adts(head: bytes) -> bool:
    """AAC ADTS frame header: 12-bit sync, layer 00, valid sampling-frequency index."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False
    return (head[2] >> 2) & 0x0F < 13


def sniff_container(head: bytes) -> str | None:
    """The container whose signature starts ``head`` (16 bytes decide every format), or ``None``."""
    checks: tuple[tuple[int, Callable[[bytes], bool], str], ...] = (
        (12, lambda h: h[:4] in (b"RIFF", b"RF64", b"BW64") and h[8:12] == b"WAVE", "wav"),
        (12, lambda h: h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC"), "aiff"),
        (4, lambda h: h[:4] == b"fLaC", "flac"),
        (4, lambda h: h[:4] == b"OggS", "ogg"),
        (4, lambda h: h[:4] == b"\x1a\x45\xdf\xa3", "webm"),
        (3, lambda h: h[:3] == b"ID3", "mp3"),
        (10, lambda h: h[4:8] == b"ftyp" and h[8:10] == b"M4", "m4a"),
        (8, lambda h: h[4:8] == b"ftyp", "mp4"),
        (5, lambda h: h[:5] == b"#!AMR", "amr"),
        (16, lambda h: h[:16] == _ASF_GUID, "asf"),
        (4, _is_adts, "aac"),
        (4, _is_mpeg_audio, "mp3"),
    )
    for size, check, name in checks:
        if len(head) >= size and check(head):
            return name
    return None


class AutoDecoder(AudioDecoder):
    """``audio_format: "auto"``: buffer up to 16 bytes, sniff the container, then delegate."""

    def __init__(self, *, allowed: tuple[str, ...] = CONTAINER_FORMATS) -> None:
        self._head = b""
        self._inner: AudioDecoder | None = None
        self._allowed = allowed
        self.detected: str | None = None

    def __repr__(self) -> str:
        return f"AutoDecoder(detected={self.detected!r})"

    def decode(self, data: bytes) -> array[int]:
        if self._inner is not None:
            out = self._inner.decode(data)
            self.sample_rate = self._inner.sample_rate
            return out
        self._head += data
        if len(self._head) < _SNIFF_BYTES:
            return array("h")
        return self._start(sniff_container(self._head))

    def _start(self, verdict: str | None) -> array[int]:
        if not verdict or verdict not in self._allowed:
            raise AudioDecodeError(_unknown_format_message(verdict))
        self.detected = verdict
        self._inner = container_decoder(verdict)
        head, self._head = self._head, b""
        out = self._inner.decode(head)
        self.sample_rate = self._inner.sample_rate
        return out

    def finish(self) -> array[int]:
        if self._inner is None:
            if not self._head:
                return array("h")
            out = self._start(sniff_container(self._head))
            return out + self._finish_inner()
        return self._finish_inner()

    def _finish_inner(self) -> array[int]:
        assert self._inner is not None
        out = self._inner.finish()
        self.sample_rate = self._inner.sample_rate
        return out


def _unknown_format_message(verdict: str | None, *, stream: bool = True) -> str:
    """Why the audio could not be read, with advice the sender can act on: a realtime stream
    can declare raw audio in its config; a file (async transcription) cannot — the create
    request has no ``audio_format`` / ``sample_rate`` / ``num_channels`` — so it must be sent
    in a container."""
    if verdict:
        return f"audio container {verdict!r} is not supported here"
    unknown = (
        "could not detect the audio format: the data does not start with a known container "
        "signature (wav, aiff, mp3, flac, ogg, webm, aac, amr, asf)"
    )
    if stream:
        return (
            f"{unknown}; for raw PCM, mu-law or A-law audio set audio_format, sample_rate and "
            "num_channels in the stream's config"
        )
    return (
        f"{unknown}; raw PCM, mu-law or A-law audio has no header to read its format from: "
        "convert the file to one of those formats (e.g. WAV) and send it again"
    )


def container_decoder(name: str) -> AudioDecoder:
    """Decoder for a named container: parsed for WAV/AIFF, opaque otherwise."""
    if name in ("wav", "aiff"):
        return ChunkedContainerDecoder()
    return OpaqueDecoder()


def decoder_for_stream(fmt: StreamFormat) -> AudioDecoder:
    """The decoder for a realtime ``audio_format``; :class:`AudioDecodeError` if unusable."""
    name = fmt.audio_format
    if name == "auto":
        return AutoDecoder()
    if name in RAW_FORMATS:
        if fmt.sample_rate is None or fmt.num_channels is None:
            raise AudioDecodeError(
                f"audio_format {name!r} is raw audio: sample_rate and num_channels are required"
            )
        return RawDecoder(name, fmt.sample_rate, fmt.num_channels)
    if name in CONTAINER_FORMATS:
        return container_decoder(name)
    raise AudioDecodeError(f"unsupported audio_format {name!r}")


# ---------------------------------------------------------------------------------------------
# Files


@attrs.frozen
class DecodedFile:
    """What :func:`iter_file_samples` found: the container and the sample rate."""

    container: str
    sample_rate: int


def iter_file_samples(
    path: Path, *, chunk_size: int = 1 << 16
) -> Iterator[tuple[DecodedFile, array[int]]]:
    """Stream a file's samples block by block (flat memory): ``(info, samples)`` pairs.

    Raises :class:`AudioDecodeError` when the file is not a known container (uploaded files
    carry no out-of-band format, so raw PCM cannot be interpreted) or is malformed.
    """
    with path.open("rb") as fh:
        yield from _iter_samples(fh, chunk_size)


def _iter_samples(fh: BinaryIO, chunk_size: int) -> Iterator[tuple[DecodedFile, array[int]]]:
    head = fh.read(_SNIFF_BYTES)
    if not head:
        raise AudioDecodeError("the audio file is empty")
    verdict = sniff_container(head)
    if not verdict:
        raise AudioDecodeError(_unknown_format_message(None, stream=False))
    decoder = container_decoder(verdict)
    data = head
    while data:
        samples = decoder.decode(data)
        if samples and decoder.sample_rate is not None:
            yield DecodedFile(verdict, decoder.sample_rate), samples
        data = fh.read(chunk_size)
    tail = decoder.finish()
    if decoder.sample_rate is None:
        raise AudioDecodeError("the audio file has no audio data")
    yield DecodedFile(verdict, decoder.sample_rate), tail
