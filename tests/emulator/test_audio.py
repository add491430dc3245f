"""Audio decoding: raw formats, WAV/AIFF parsing, container sniffing, incremental feeding."""

from __future__ import annotations

import itertools
import math
import struct
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soniox.emulator.audio import (
    OPAQUE_SAMPLE_RATE,
    RAW_FORMATS,
    AudioDecoder,
    AutoDecoder,
    ChunkedContainerDecoder,
    OpaqueDecoder,
    RawDecoder,
    decoder_for_stream,
    iter_file_samples,
    sniff_container,
)
from soniox.emulator.engines.base import AudioDecodeError, StreamFormat

# Reference encoders (slow and obvious, one sample at a time) --------------------------------

_INT_FORMATS = {name: spec for name, spec in RAW_FORMATS.items() if spec.kind in ("int", "uint")}


def _encode_int(value: int, width: int, unsigned: bool, big: bool) -> bytes:
    """An s16 value as a ``width``-byte integer sample (scaled to the full width)."""
    wide = value << (8 * (width - 2)) if width >= 2 else value >> 8
    if unsigned:
        wide += 1 << (8 * width - 1)
    return wide.to_bytes(width, "big" if big else "little", signed=not unsigned)


def _expected_int(value: int, width: int) -> int:
    """What decoding keeps: the top 16 bits (8-bit formats keep only the top 8)."""
    return (value >> 8) << 8 if width == 1 else value


def _encode(name: str, values: list[int], channels: int = 1) -> bytes:
    spec = RAW_FORMATS[name]
    out = bytearray()
    for v in values:
        for ch in range(channels):
            sample = v if ch == 0 else -v // 2  # other channels carry different audio
            if spec.kind in ("int", "uint"):
                out += _encode_int(sample, spec.width, spec.kind == "uint", spec.big_endian)
            elif spec.kind == "float":
                code = (">" if spec.big_endian else "<") + ("f" if spec.width == 4 else "d")
                out += struct.pack(code, sample / 32768)
            else:
                raise AssertionError(name)
    return bytes(out)


def _expected(name: str, values: list[int]) -> list[int]:
    spec = RAW_FORMATS[name]
    if spec.kind == "float":
        return list(values)  # v / 32768 round-trips exactly
    return [_expected_int(v, spec.width) for v in values]


_VALUES = [0, 1, -1, 255, -256, 1000, -1000, 32767, -32768, 12345, -23456]


@pytest.mark.parametrize(
    "name", sorted(n for n, s in RAW_FORMATS.items() if s.kind != "mulaw" and s.kind != "alaw")
)
def test_raw_format_decodes_to_s16(name: str) -> None:
    """Every PCM layout decodes to the s16 value it encodes (top 16 bits)."""
    decoder = RawDecoder(name, 16000, 1)
    assert list(decoder.decode(_encode(name, _VALUES))) == _expected(name, _VALUES)


@pytest.mark.parametrize("name", ["pcm_s16le", "pcm_u24be", "pcm_f32le", "pcm_s8"])
def test_multichannel_keeps_channel_zero(name: str) -> None:
    """Interleaved channels: the decoder keeps the first channel."""
    decoder = RawDecoder(name, 16000, 3)
    assert list(decoder.decode(_encode(name, _VALUES, channels=3))) == _expected(name, _VALUES)


def test_float_out_of_range_and_nan_are_clamped() -> None:
    """Floats beyond [-1, 1] clamp; NaN becomes silence."""
    data = struct.pack("<4f", 2.0, -3.0, math.nan, 0.5)
    assert list(RawDecoder("pcm_f32le", 8000, 1).decode(data)) == [32767, -32768, 0, 16384]


def test_mulaw_known_points() -> None:
    """G.711 mu-law: 0xFF/0x7F are zero, 0x00/0x80 the extremes."""
    decoded = list(RawDecoder("mulaw", 8000, 1).decode(bytes([0xFF, 0x7F, 0x00, 0x80])))
    assert decoded == [0, 0, -32124, 32124]


def test_alaw_known_points() -> None:
    """G.711 A-law: 0xD5/0x55 are the smallest steps, 0xAA/0x2A the extremes."""
    decoded = list(RawDecoder("alaw", 8000, 1).decode(bytes([0xD5, 0x55, 0xAA, 0x2A])))
    assert decoded == [8, -8, 32256, -32256]


def test_g711_tables_match_audioop_when_available() -> None:
    """The precomputed tables agree with the (deprecated) stdlib implementation."""
    audioop = pytest.importorskip("audioop", reason="audioop was removed in Python 3.13")
    every = bytes(range(256))
    for name, ref in (("mulaw", audioop.ulaw2lin), ("alaw", audioop.alaw2lin)):
        expected = array("h")
        expected.frombytes(ref(every, 2))
        assert list(RawDecoder(name, 8000, 1).decode(every)) == list(expected)


def test_partial_frames_are_kept_until_complete() -> None:
    """A frame split across feeds is decoded once it is complete."""
    decoder = RawDecoder("pcm_s24le", 16000, 2)
    data = _encode("pcm_s24le", [1000, -2000], channels=2)
    assert list(decoder.decode(data[:5])) == []
    assert list(decoder.decode(data[5:7])) == [1000]
    assert list(decoder.decode(data[7:])) == [-2000]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(RAW_FORMATS)),
    channels=st.integers(1, 3),
    payload=st.binary(min_size=0, max_size=400),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_raw_any_split_decodes_like_one_frame(
    name: str, channels: int, payload: bytes, cuts: list[int]
) -> None:
    """Splitting a raw stream anywhere never changes the decoded samples."""
    whole = RawDecoder(name, 16000, channels).decode(payload)
    pieces = RawDecoder(name, 16000, channels)
    got = array("h")
    for piece in _split(payload, cuts):
        got.extend(pieces.decode(piece))
    assert got == whole


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def test_raw_decoder_rejects_bad_layout() -> None:
    """Unknown formats and impossible rates/channel counts are decode errors."""
    with pytest.raises(AudioDecodeError):
        RawDecoder("pcm_s12le", 16000, 1)
    with pytest.raises(AudioDecodeError):
        RawDecoder("pcm_s16le", 0, 1)
    with pytest.raises(AudioDecodeError):
        RawDecoder("pcm_s16le", 16000, 0)


# WAV / AIFF ------------------------------------------------------------------------------------


def wav_bytes(
    frames: bytes,
    *,
    tag: int = 1,
    channels: int = 1,
    rate: int = 16000,
    bits: int = 16,
    extensible: bool = False,
    data_size: int | None = None,
    extra_chunks: bytes = b"",
    trailer: bytes = b"",
) -> bytes:
    """A WAV file built by hand (so the tests do not trust the stdlib ``wave`` writer)."""
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack(
            "<HHIIHHHHI16s",
            0xFFFE,
            channels,
            rate,
            rate * block,
            block,
            bits,
            22,
            bits,
            0,
            struct.pack("<H", tag) + bytes.fromhex("000000001000800000aa00389b71"),
        )
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    size = len(frames) if data_size is None else data_size
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + extra_chunks
        + b"data"
        + struct.pack("<I", size)
        + frames
        + trailer
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _decode_all(decoder: AudioDecoder, data: bytes, cuts: list[int] | None = None) -> array[int]:
    out = array("h")
    for piece in _split(data, cuts or []):
        out.extend(decoder.decode(piece))
    out.extend(decoder.finish())
    return out


def test_wav_pcm16_decodes() -> None:
    """A plain 16-bit PCM WAV yields its samples and rate."""
    decoder = ChunkedContainerDecoder()
    samples = _decode_all(decoder, wav_bytes(_encode("pcm_s16le", _VALUES), rate=22050))
    assert list(samples) == _VALUES
    assert decoder.sample_rate == 22050


@pytest.mark.parametrize(
    ("tag", "bits", "raw_name"),
    [
        (1, 8, "pcm_u8"),
        (1, 24, "pcm_s24le"),
        (1, 32, "pcm_s32le"),
        (3, 32, "pcm_f32le"),
        (3, 64, "pcm_f64le"),
    ],
)
def test_wav_sample_layouts(tag: int, bits: int, raw_name: str) -> None:
    """8/24/32-bit integer and 32/64-bit float WAVs decode like the matching raw format."""
    frames = _encode(raw_name, _VALUES, channels=2)
    data = wav_bytes(frames, tag=tag, bits=bits, channels=2)
    assert list(_decode_all(ChunkedContainerDecoder(), data)) == _expected(raw_name, _VALUES)


@pytest.mark.parametrize(("tag", "name"), [(6, "alaw"), (7, "mulaw")])
def test_wav_g711(tag: int, name: str) -> None:
    """A-law and mu-law WAVs use the G.711 tables."""
    codes = bytes(range(0, 256, 7))
    expected = RawDecoder(name, 8000, 1).decode(codes)
    assert (
        _decode_all(ChunkedContainerDecoder(), wav_bytes(codes, tag=tag, bits=8, rate=8000))
        == expected
    )


def test_wav_extensible() -> None:
    """WAVE_FORMAT_EXTENSIBLE takes the format code from the SubFormat GUID."""
    frames = _encode("pcm_f32le", _VALUES)
    data = wav_bytes(frames, tag=3, bits=32, extensible=True)
    assert list(_decode_all(ChunkedContainerDecoder(), data)) == _expected("pcm_f32le", _VALUES)


def test_wav_skips_other_chunks_and_ignores_trailer() -> None:
    """LIST chunks (odd-sized, padded) are skipped; bytes after a sized data chunk are ignored."""
    listing = b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"
    data = wav_bytes(
        _encode("pcm_s16le", _VALUES), extra_chunks=listing, trailer=b"id3 \x04\x00\x00\x00abcd"
    )
    assert list(_decode_all(ChunkedContainerDecoder(), data)) == _VALUES


def test_wav_streaming_size_means_until_end() -> None:
    """A data size of 0xFFFFFFFF (streaming writers) reads to the end of the stream."""
    data = wav_bytes(_encode("pcm_s16le", _VALUES), data_size=0xFFFFFFFF)
    assert list(_decode_all(ChunkedContainerDecoder(), data)) == _VALUES


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(0, 200), max_size=12), extensible=st.booleans())
def test_wav_any_split_decodes_like_one_frame(cuts: list[int], extensible: bool) -> None:
    """A WAV header and data split at any byte boundaries decode identically."""
    listing = b"LIST" + struct.pack("<I", 3) + b"abc\x00"
    data = wav_bytes(
        _encode("pcm_s24le", _VALUES * 3), bits=24, extensible=extensible, extra_chunks=listing
    )
    whole = _decode_all(ChunkedContainerDecoder(), data)
    assert _decode_all(ChunkedContainerDecoder(), data, cuts) == whole
    assert _decode_all(AutoDecoder(), data, cuts) == whole


def test_wav_truncated_header_is_an_error_at_finish() -> None:
    """A stream that ends inside its header cannot be audio."""
    data = wav_bytes(_encode("pcm_s16le", _VALUES))[:30]
    decoder = ChunkedContainerDecoder()
    assert list(decoder.decode(data)) == []
    with pytest.raises(AudioDecodeError, match="header"):
        decoder.finish()


def test_wav_data_before_fmt_is_an_error() -> None:
    """A data chunk before the fmt chunk is malformed."""
    data = b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd"
    with pytest.raises(AudioDecodeError, match="fmt"):
        ChunkedContainerDecoder().decode(data)


def test_wav_adpcm_is_opaque_at_declared_byte_rate() -> None:
    """A compressed WAV codec becomes pseudo-samples at the header's byte rate."""
    fmt = struct.pack("<HHIIHH", 0x11, 1, 16000, 8000, 256, 4)
    payload = bytes(range(200))
    body = (
        b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 200) + payload
    )
    decoder = ChunkedContainerDecoder()
    samples = _decode_all(decoder, b"RIFF" + struct.pack("<I", len(body)) + body)
    assert len(samples) == 200
    assert decoder.sample_rate == 8000


def _extended(rate: int) -> bytes:
    exponent = rate.bit_length() - 1
    mantissa = rate << (63 - exponent)
    return struct.pack(">HQ", exponent + 16383, mantissa)


def aiff_bytes(
    frames: bytes, *, channels: int, bits: int, rate: int, codec: bytes | None = None
) -> bytes:
    comm = struct.pack(">hIh", channels, len(frames) // (channels * bits // 8), bits) + _extended(
        rate
    )
    form = b"AIFF"
    if codec is not None:
        comm += codec + b"\x00\x00"
        form = b"AIFC"
    ssnd = struct.pack(">II", 0, 0) + frames
    body = (
        form
        + b"COMM"
        + struct.pack(">I", len(comm))
        + comm
        + b"SSND"
        + struct.pack(">I", len(ssnd))
        + ssnd
    )
    return b"FORM" + struct.pack(">I", len(body)) + body


def test_aiff_big_endian_pcm() -> None:
    """AIFF: big-endian PCM with an 80-bit float sample rate."""
    data = aiff_bytes(_encode("pcm_s16be", _VALUES, channels=2), channels=2, bits=16, rate=44100)
    decoder = AutoDecoder()
    assert list(_decode_all(decoder, data, [3, 17, 40])) == _VALUES
    assert decoder.sample_rate == 44100
    assert decoder.detected == "aiff"


def test_aifc_sowt_little_endian() -> None:
    """AIFF-C 'sowt' is little-endian PCM."""
    data = aiff_bytes(_encode("pcm_s16le", _VALUES), channels=1, bits=16, rate=16000, codec=b"sowt")
    assert list(_decode_all(ChunkedContainerDecoder(), data)) == _VALUES


# Sniffing --------------------------------------------------------------------------------------

_SIGNATURES = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(20),
    "flac": b"fLaC\x00\x00\x00\x22" + bytes(20),
    "ogg": b"OggS\x00\x02" + bytes(30),
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81" + bytes(20),
    "mp4": b"\x00\x00\x00\x20ftypisom" + bytes(20),
    "m4a": b"\x00\x00\x00\x20ftypM4A " + bytes(20),
    "amr": b"#!AMR\n" + bytes(20),
    "asf": bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes(20),
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(20),
}


@pytest.mark.parametrize("name", sorted(_SIGNATURES))
def test_sniff_compressed_containers(name: str) -> None:
    """Each compressed container is recognised from its first bytes."""
    assert sniff_container(_SIGNATURES[name]) == name


def test_sniff_bare_mpeg_frame() -> None:
    """An MP3 without an ID3 tag is recognised by its frame header."""
    assert sniff_container(b"\xff\xfb\x90\x64" + bytes(20)) == "mp3"


def test_sniff_does_not_mistake_pcm_for_mpeg() -> None:
    """Raw s16le audio of small negative values (0xFFFF...) is not an MPEG frame."""
    assert sniff_container(b"\xff\xff\xfe\xff" * 8) is None


def test_opaque_container_has_nominal_byte_rate() -> None:
    """Undecodable containers become one pseudo-sample per byte at 16 kHz."""
    decoder = AutoDecoder()
    data = _SIGNATURES["ogg"] + bytes(range(256)) * 10
    samples = _decode_all(decoder, data, [5, 9])
    assert len(samples) == len(data)
    assert decoder.sample_rate == OPAQUE_SAMPLE_RATE
    assert decoder.detected == "ogg"


def test_auto_rejects_unknown_bytes_with_a_clear_message() -> None:
    """Raw PCM sent with audio_format auto is refused, naming the fix."""
    decoder = AutoDecoder()
    with pytest.raises(AudioDecodeError, match="sample_rate and num_channels"):
        decoder.decode(bytes(64))


def test_auto_waits_for_enough_bytes() -> None:
    """A few bytes are buffered until the signature can be judged."""
    decoder = AutoDecoder()
    data = wav_bytes(_encode("pcm_s16le", _VALUES))
    assert list(decoder.decode(data[:4])) == []
    assert decoder.sample_rate is None
    assert list(decoder.decode(data[4:])) == _VALUES


def test_auto_short_garbage_fails_at_finish() -> None:
    """Fewer bytes than a signature, then the end: an error, not silence."""
    decoder = AutoDecoder()
    decoder.decode(b"abc")
    with pytest.raises(AudioDecodeError):
        decoder.finish()


def test_auto_empty_stream_is_no_audio() -> None:
    """Ending a stream without audio is not an error."""
    assert list(AutoDecoder().finish()) == []


def test_decoder_for_stream_requires_rate_and_channels_for_raw() -> None:
    """Raw formats need sample_rate and num_channels."""
    with pytest.raises(AudioDecodeError, match="sample_rate"):
        decoder_for_stream(StreamFormat(audio_format="pcm_s16le"))
    assert isinstance(decoder_for_stream(StreamFormat(audio_format="flac")), OpaqueDecoder)
    assert isinstance(decoder_for_stream(StreamFormat(audio_format="wav")), ChunkedContainerDecoder)


# Files -----------------------------------------------------------------------------------------


def test_iter_file_samples_streams_a_wav(tmp_path: Path) -> None:
    """A WAV file is read block by block with its rate."""
    path = tmp_path / "a.wav"
    values = list(range(-3000, 3000, 3))
    path.write_bytes(wav_bytes(_encode("pcm_s16le", values), rate=8000))
    got = array("h")
    for info, block in iter_file_samples(path, chunk_size=64):
        assert info.sample_rate == 8000
        assert info.container == "wav"
        got.extend(block)
    assert list(got) == values


def test_iter_file_samples_rejects_raw_pcm(tmp_path: Path) -> None:
    """A headerless file cannot be interpreted."""
    path = tmp_path / "a.raw"
    path.write_bytes(bytes(1000))
    with pytest.raises(AudioDecodeError, match="could not detect"):
        list(iter_file_samples(path))


def test_iter_file_samples_rejects_empty_file(tmp_path: Path) -> None:
    """An empty upload is not audio."""
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        list(iter_file_samples(path))
