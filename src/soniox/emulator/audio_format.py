"""What decoders and recognizers agree on about audio: its declared format, and the error for
audio that cannot be understood. Its own module, so the decoders (:mod:`.audio`) and the engines
(:mod:`.engines`) both depend on it and not on each other."""

from __future__ import annotations

import attrs

__all__ = ["AudioDecodeError", "StreamFormat"]


class AudioDecodeError(Exception):
    """The audio could not be understood; the message is shown to the API user."""


@attrs.frozen(kw_only=True)
class StreamFormat:
    """Realtime audio format from the config message (``auto`` means: sniff the container)."""

    audio_format: str = "auto"
    sample_rate: int | None = None
    num_channels: int | None = None
