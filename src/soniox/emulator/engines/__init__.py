"""Recognition engines: ``deterministic`` (default, dependency-free) and ``pocketsphinx``."""

from __future__ import annotations

from .base import (
    AudioDecodeError,
    FileTranscript,
    RecognitionEngine,
    RecognitionOptions,
    RecognizedToken,
    StreamFormat,
    StreamRecognizer,
    StreamUpdate,
)

__all__ = [
    "ENGINE_NAMES",
    "AudioDecodeError",
    "EngineUnavailable",
    "FileTranscript",
    "RecognitionEngine",
    "RecognitionOptions",
    "RecognizedToken",
    "StreamFormat",
    "StreamRecognizer",
    "StreamUpdate",
    "create_engine",
]

ENGINE_NAMES: tuple[str, ...] = ("deterministic", "pocketsphinx")


class EngineUnavailable(RuntimeError):
    """The configured engine needs an optional dependency that is not installed."""


def create_engine(
    name: str = "deterministic", *, window_ms: int | None = None
) -> RecognitionEngine:
    """The engine called ``name``; :class:`EngineUnavailable` / :class:`ValueError` otherwise.

    ``window_ms`` sets the deterministic engine's window (ignored by the others).
    """
    if name == "deterministic":
        from .deterministic import DeterministicEngine, EngineParams

        return DeterministicEngine(None if window_ms is None else EngineParams(window_ms=window_ms))
    if name == "pocketsphinx":
        try:
            from .pocketsphinx_engine import PocketsphinxEngine
        except ImportError as exc:  # pocketsphinx itself is missing
            raise EngineUnavailable(
                "the 'pocketsphinx' recognition engine needs the optional dependency pocketsphinx; "
                "install it with: pip install 'soniox-transport[emulator-asr]'"
            ) from exc
        return PocketsphinxEngine()
    raise ValueError(f"unknown recognition engine {name!r}; expected one of {list(ENGINE_NAMES)}")
