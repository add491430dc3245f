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

from enum import StrEnum
from typing import Any, Literal

import attrs
import msgspec

from soniox.errors import ClientValidationError

from .common import ModelMethods, OpenStrEnum, mask_secret, omit_none
from .transcriptions import (
    StructuredContext,
    TranslationConfig,
    TranslationStatus,
    _check_type,  # pyright: ignore[reportPrivateUsage]
    _context_input,  # pyright: ignore[reportPrivateUsage]
    _str_list,  # pyright: ignore[reportPrivateUsage]
    _translation_input,  # pyright: ignore[reportPrivateUsage]
)

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
    "RealtimeSTTConfig",
    "RealtimeEvent",
    "RealtimeControlType",
    "TOKEN_TEXT_FIN",
    "TOKEN_TEXT_END",
]

END_TOKEN = "<end>"  # noqa: S105 (a marker, not a password)
"""Text of the special token marking a detected endpoint (``enable_endpoint_detection``)."""
FIN_TOKEN = "<fin>"  # noqa: S105
"""Text of the special token that completes a ``finalize`` request."""
TOKEN_TEXT_FIN = FIN_TOKEN
"""The official SDK's name for :data:`FIN_TOKEN`."""
TOKEN_TEXT_END = END_TOKEN
"""The official SDK's name for :data:`END_TOKEN`."""


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


# --- the official SDK's realtime names ------------------------------------------------------------


def _audio_format(value: AudioFormat | str) -> AudioFormat:
    try:
        return AudioFormat(value)
    except ValueError:  # not a string: left to the validator, which names the field
        return value  # type: ignore[return-value]


def _in_range(low: float, high: float, kinds: type | tuple[type, ...]) -> Any:
    """An attrs validator: None, or a number of ``kinds`` within ``low``..``high``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ClientValidationError(
                f"{type(instance).__name__}.{attribute.name} must be a number from {low:g} to "
                f"{high:g}, got {value!r}",
                field=attribute.name,
            )
        if not low <= value <= high:  # type: ignore[operator]
            raise ClientValidationError(
                f"{type(instance).__name__}.{attribute.name} must be from {low:g} to {high:g}, "
                f"got {value!r}",
                field=attribute.name,
            )

    return check


def _positive_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ClientValidationError(
            f"{type(instance).__name__}.{attribute.name} must be a whole number > 0, got {value!r}",
            field=attribute.name,
        )


def _reference(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > 256:
        raise ClientValidationError(
            f"{type(instance).__name__}.client_reference_id must be a string of at most 256 "
            "characters",
            field=attribute.name,
        )


_BOOL = _check_type(bool, "True or False")


@attrs.define(kw_only=True)
class RealtimeSTTConfig(ModelMethods):
    """The settings of a realtime speech-to-text session — the official SDK's model, mutable
    like it: Soniox's own examples build one and then set ``audio_format``, ``sample_rate``,
    ``translation`` … by assignment. Each assignment is converted (a dict becomes the typed
    object, a string the enum) and checked on the spot (types, ranges, the 256-character
    reference); the rule that spans fields — a raw ``audio_format`` needs ``sample_rate`` and
    ``num_channels`` — is checked at construction, as officially, and again by :meth:`check`
    before a session sends anything. The API key is never part of it: a session sends it with
    the connection.
    """

    model: str = attrs.field(validator=_check_type(str, "a model id"))
    audio_format: AudioFormat = attrs.field(
        default=AudioFormat.AUTO,
        converter=_audio_format,
        validator=_check_type(str, "an audio format such as 'auto' or 'pcm_s16le'"),
    )
    num_channels: int | None = attrs.field(default=None, validator=_positive_int)
    sample_rate: int | None = attrs.field(default=None, validator=_positive_int)
    language_hints: list[str] | None = attrs.field(default=None, validator=_str_list)
    language_hints_strict: bool | None = attrs.field(default=None, validator=_BOOL)
    context: StructuredContext | str | None = attrs.field(
        default=None,
        converter=_context_input,
        validator=_check_type((StructuredContext, str), "a StructuredContext, dict or string"),
    )
    enable_speaker_diarization: bool | None = attrs.field(default=None, validator=_BOOL)
    enable_language_identification: bool | None = attrs.field(default=None, validator=_BOOL)
    enable_endpoint_detection: bool | None = attrs.field(default=None, validator=_BOOL)
    max_endpoint_delay_ms: int | None = attrs.field(
        default=None, validator=_in_range(500, 3000, int)
    )
    endpoint_sensitivity: float | None = attrs.field(
        default=None, validator=_in_range(-1.0, 1.0, (int, float))
    )
    endpoint_latency_adjustment_level: int | None = attrs.field(
        default=None, validator=_in_range(0, 3, int)
    )
    translation: TranslationConfig | None = attrs.field(
        default=None,
        converter=_translation_input,
        validator=_check_type(TranslationConfig, "a TranslationConfig or its dict"),
    )
    client_reference_id: str | None = attrs.field(default=None, validator=_reference)

    def __attrs_post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise :class:`~soniox.errors.ClientValidationError` for what the server would refuse
        before any audio: a raw format without ``sample_rate`` / ``num_channels``."""
        if not self.audio_format.is_raw:
            return
        missing = [name for name in ("sample_rate", "num_channels") if getattr(self, name) is None]
        if missing:
            raise ClientValidationError(
                f"audio_format={str(self.audio_format)!r} has no header and requires "
                f"{' and '.join(missing)} to be set explicitly",
                field=missing[0],
            )

    def wire(self) -> dict[str, Any]:
        """The session's first (config) frame, without the API key: the fields that are set."""
        self.check()
        return self.model_dump(mode="json", exclude_none=True)


class RealtimeEvent(msgspec.Struct, ModelMethods, kw_only=True, gc=False):
    """One message of a realtime session — the official SDK's model: a result (``tokens``,
    ``final_audio_proc_ms``, ``total_audio_proc_ms``, ``finished``) or an error
    (``error_code``, ``error_message``, and ``error_type`` / ``more_info`` / ``request_id``
    when the server sends them). Other fields the server may add are tolerated (ignored). Decoded by msgspec in
    one pass (:meth:`validate_event`)."""

    tokens: list[RealtimeToken] = msgspec.field(default_factory=list[RealtimeToken])
    final_audio_proc_ms: int | None = None
    total_audio_proc_ms: int | None = None
    finished: bool = False
    error_code: int | None = None
    error_message: str | None = None
    error_type: str | None = None
    more_info: str | None = None
    request_id: str | None = None

    @classmethod
    def validate_event(cls, raw: str | bytes | bytearray) -> RealtimeEvent:
        """Decode one message (text or bytes); ``msgspec.DecodeError`` / ``ValidationError``
        when it is not JSON or not of this shape."""
        return _EVENT_DECODER.decode(raw)

    @property
    def is_error(self) -> bool:
        return self.error_code is not None


_EVENT_DECODER: msgspec.json.Decoder[RealtimeEvent] = msgspec.json.Decoder(RealtimeEvent)


class RealtimeControlType(StrEnum):
    """Control messages a session sends (the official SDK's names)."""

    FINISH = "finish"
    KEEP_ALIVE = "keep_alive"
    FINALIZE = "finalize"
