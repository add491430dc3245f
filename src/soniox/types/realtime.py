"""Realtime STT WebSocket messages: the config frame, control frames, results and error frames.

Order on the wire: one config text frame, then binary audio with optional control frames
(``finalize`` / ``keepalive``), then an empty frame to end. The server answers with
:class:`RealtimeResponse` frames (final tokens first, then the current non-final ones, which are
replaced, not appended, by the next response) and ends with ``finished: true``, or sends one
:class:`RealtimeErrorFrame` and closes. Tokens are GC-untracked :class:`msgspec.Struct` values like
:class:`~soniox.types.TranscriptionTranscriptToken` (use :func:`msgspec.structs.replace`, e.g. to
shift timestamps after a resumed stream).
"""

from __future__ import annotations

from typing import Literal

import attrs
import msgspec

from .common import ModelMethods, OpenStrEnum, mask_secret, omit_none
from .transcriptions import StructuredContext, TranslationConfig, TranslationStatus

__all__ = [
    "AudioFormat",
    "RAW_AUDIO_FORMATS",
    "RealtimeConfig",
    "FinalizeMessage",
    "KeepaliveMessage",
    "RealtimeToken",
    "RealtimeResponse",
    "RealtimeErrorFrame",
    "END_TOKEN",
    "FIN_TOKEN",
]

END_TOKEN = "<end>"  # noqa: S105 (a marker, not a password)
"""Text of the special token marking a detected endpoint (``enable_endpoint_detection``)."""
FIN_TOKEN = "<fin>"  # noqa: S105
"""Text of the special token that completes a ``finalize`` request."""


class AudioFormat(OpenStrEnum):
    """``audio_format`` of the config: ``auto``, a container format, or a raw PCM/G.711 format.

    Raw formats need ``sample_rate`` and ``num_channels`` (see :attr:`is_raw`).
    """

    AUTO = "auto"
    AAC = "aac"
    AIFF = "aiff"
    AMR = "amr"
    ASF = "asf"
    FLAC = "flac"
    MP3 = "mp3"
    OGG = "ogg"
    WAV = "wav"
    WEBM = "webm"
    PCM_S8 = "pcm_s8"
    PCM_S16LE = "pcm_s16le"
    PCM_S16BE = "pcm_s16be"
    PCM_S24LE = "pcm_s24le"
    PCM_S24BE = "pcm_s24be"
    PCM_S32LE = "pcm_s32le"
    PCM_S32BE = "pcm_s32be"
    PCM_U8 = "pcm_u8"
    PCM_U16LE = "pcm_u16le"
    PCM_U16BE = "pcm_u16be"
    PCM_U24LE = "pcm_u24le"
    PCM_U24BE = "pcm_u24be"
    PCM_U32LE = "pcm_u32le"
    PCM_U32BE = "pcm_u32be"
    PCM_F32LE = "pcm_f32le"
    PCM_F32BE = "pcm_f32be"
    PCM_F64LE = "pcm_f64le"
    PCM_F64BE = "pcm_f64be"
    MULAW = "mulaw"
    ALAW = "alaw"

    @property
    def is_raw(self) -> bool:
        """True for headerless formats, which need ``sample_rate`` and ``num_channels``."""
        return self.startswith("pcm_") or self in (AudioFormat.MULAW, AudioFormat.ALAW)


RAW_AUDIO_FORMATS: frozenset[AudioFormat] = frozenset(f for f in AudioFormat if f.is_raw)
"""Every known raw format (unknown ``pcm_*`` values are raw too: see :attr:`AudioFormat.is_raw`)."""


@omit_none
@attrs.define(frozen=True, kw_only=True)
class RealtimeConfig(ModelMethods):
    """The first (text) frame of a realtime session. Unset fields are not sent.

    ``api_key`` is the deprecated in-message credential (masked in repr); prefer sending the key
    with the connection. ``max_endpoint_delay_ms`` is 500..3000, ``endpoint_sensitivity``
    -1..1, ``endpoint_latency_adjustment_level`` 0..3.
    """

    model: str
    audio_format: AudioFormat = AudioFormat.AUTO
    sample_rate: int | None = None
    num_channels: int | None = None
    language_hints: list[str] | None = None
    language_hints_strict: bool | None = None
    context: StructuredContext | str | None = None
    enable_speaker_diarization: bool | None = None
    enable_language_identification: bool | None = None
    enable_endpoint_detection: bool | None = None
    max_endpoint_delay_ms: int | None = None
    endpoint_sensitivity: float | None = None
    endpoint_latency_adjustment_level: int | None = None
    translation: TranslationConfig | None = None
    client_reference_id: str | None = None
    api_key: str | None = attrs.field(default=None, repr=mask_secret)

    def problems(self) -> list[str]:
        """What the server would reject before any audio: checked client-side to fail early."""
        found: list[str] = []
        if AudioFormat(self.audio_format).is_raw and (
            self.sample_rate is None or self.num_channels is None
        ):
            fmt = str(self.audio_format)
            found.append(f"audio_format {fmt!r} needs sample_rate and num_channels")
        return found


@omit_none
@attrs.define(frozen=True, kw_only=True)
class FinalizeMessage(ModelMethods):
    """Control frame: finalize everything sent so far (answered by a ``<fin>`` token)."""

    type: Literal["finalize"] = "finalize"
    trailing_silence_ms: int | None = None


@attrs.define(frozen=True, kw_only=True)
class KeepaliveMessage(ModelMethods):
    """Control frame: keep an idle session open (send one at least every 20 s)."""

    type: Literal["keepalive"] = "keepalive"


@omit_none
class RealtimeToken(
    msgspec.Struct, ModelMethods, frozen=True, kw_only=True, gc=False, repr_omit_defaults=True
):
    """A realtime token. Non-final ones may still change; translated ones may lack timing."""

    text: str
    is_final: bool = False
    start_ms: int | None = None
    end_ms: int | None = None
    confidence: float | None = None
    speaker: str | None = None
    language: str | None = None
    translation_status: TranslationStatus | None = None
    source_language: str | None = None
    is_audio_event: bool | None = None

    @property
    def is_special(self) -> bool:
        """True for the ``<end>`` / ``<fin>`` markers, which are not transcript text."""
        return self.text in (END_TOKEN, FIN_TOKEN)


@attrs.define(frozen=True, kw_only=True)
class RealtimeResponse(ModelMethods):
    """One result frame: new final tokens, then the current non-final ones.

    ``final_audio_proc_ms`` is the audio finalized so far (the resume watermark);
    ``total_audio_proc_ms`` includes the non-final part. ``finished`` marks the last frame.
    """

    tokens: list[RealtimeToken] = attrs.field(factory=list[RealtimeToken])
    final_audio_proc_ms: int = 0
    total_audio_proc_ms: int = 0
    finished: bool = False

    @property
    def final_tokens(self) -> list[RealtimeToken]:
        """The tokens that will not change any more."""
        return [t for t in self.tokens if t.is_final]

    @property
    def non_final_tokens(self) -> list[RealtimeToken]:
        """The tokens that replace the previous response's non-final ones."""
        return [t for t in self.tokens if not t.is_final]


@omit_none
@attrs.define(frozen=True, kw_only=True)
class RealtimeErrorFrame(ModelMethods):
    """The error frame the server sends once before closing (also the TTS REST error body).

    ``error_code`` is HTTP-like (400, 401, 402, 403, 408, 413, 429, 500, 503).
    """

    error_code: int | None = None
    error_type: str | None = None
    error_message: str = ""
    more_info: str | None = None
    request_id: str | None = None
