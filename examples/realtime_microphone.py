"""Live captions from a microphone: a live source that must never block, and never lag behind.

    pip install "soniox-transport[mic]"          # sounddevice (needs the PortAudio library)
    python examples/realtime_microphone.py --seconds 10
    python examples/realtime_microphone.py --simulate   # no microphone: the sample, in real time

The microphone's callback runs on PortAudio's thread and must return at once, so it only puts
20 ms frames on a queue; the main thread sends them and prints captions as they settle. A live
source wants latency over completeness: the session's buffer uses ``overflow="drop_oldest"``
with a 2 s bound, so after a long reconnection the captions go on from *now* (the dropped audio
is counted and reported as a gap, and the clock stays right) instead of catching up on stale
speech; ``pause()`` / ``resume()`` would mute it (push-to-talk), keepalives holding the stream.

Without a key (or with ``--simulate``, or when no microphone or PortAudio is found) it runs
against a local emulator, with the bundled sample played at real time as the "microphone".
"""

from __future__ import annotations

import argparse
import importlib
import queue
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _connect import add_connection_args, soniox_client

import soniox.data
from soniox.realtime import AudioDropped, GapNotice, RealtimeSTTSession, TranscriptAssembler
from soniox.types import RealtimeSTTConfig

RATE = 16_000
FRAME_MS = 20
SAMPLE = Path(soniox.data.__file__).parent / "sample-en.wav"


def microphone(frames: queue.Queue[bytes | None], stop: threading.Event) -> Callable[[], None]:
    """Start capturing 16 kHz mono PCM into ``frames``; returns how to stop. Raises OSError or
    ImportError when there is no microphone (or no PortAudio)."""
    sounddevice: Any = importlib.import_module("sounddevice")

    def callback(data: Any, _count: int, _time: Any, _status: Any) -> None:
        frames.put_nowait(bytes(data))  # never blocks PortAudio's thread

    stream = sounddevice.RawInputStream(
        samplerate=RATE,
        channels=1,
        dtype="int16",
        blocksize=RATE * FRAME_MS // 1000,
        callback=callback,
    )
    stream.start()

    def close() -> None:
        stream.stop()
        stream.close()

    return close


def simulated_microphone(
    frames: queue.Queue[bytes | None], stop: threading.Event
) -> Callable[[], None]:
    """The sample as a microphone would give it: 20 ms frames, at real time, on a thread."""
    with wave.open(str(SAMPLE)) as w:
        audio = w.readframes(w.getnframes())
    size = RATE * 2 * FRAME_MS // 1000

    def run() -> None:
        start = time.perf_counter()
        for index, offset in enumerate(range(0, len(audio), size)):
            if stop.is_set():
                break
            delay = start + index * FRAME_MS / 1000 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            frames.put_nowait(audio[offset : offset + size])
        frames.put_nowait(None)  # the simulated speaker is done

    threading.Thread(target=run, daemon=True).start()
    return stop.set


def frames_until(frames: queue.Queue[bytes | None], deadline: float) -> Iterator[bytes]:
    while time.monotonic() < deadline:
        try:
            frame = frames.get(timeout=0.1)
        except queue.Empty:
            continue
        if frame is None:
            return
        yield frame


def caption(session: RealtimeSTTSession, transcript: TranscriptAssembler) -> None:
    """Print each settled line of speech as the finals arrive."""
    for event in session.receive_events():
        update = transcript.feed(event)
        if update.new_finals:
            print("".join(t.text for t in update.new_finals), end="", flush=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to listen")
    parser.add_argument("--simulate", action="store_true", help="the sample instead of a mic")
    args = parser.parse_args()
    frames: queue.Queue[bytes | None] = queue.Queue()
    stop = threading.Event()
    close: Callable[[], None] | None = None
    if not args.simulate and args.api_key:
        try:
            close = microphone(frames, stop)
            print(f"listening for {args.seconds:g} s …")
        except (ImportError, OSError) as error:
            print(f"no microphone ({error}); playing the sample instead")
    if close is None:
        close = simulated_microphone(frames, stop)
    config = RealtimeSTTConfig(
        model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=RATE, num_channels=1
    )
    with soniox_client(args.api_key, args.base_url) as client:
        session = client.realtime.stt.connect(config=config, overflow="drop_oldest", buffer_ms=2000)
        transcript = TranscriptAssembler()
        with session:
            reader = threading.Thread(target=caption, args=(session, transcript))
            reader.start()
            session.send_bytes(frames_until(frames, time.monotonic() + args.seconds))
            close()
            reader.join()
        lost = [n for n in session.notices if isinstance(n, AudioDropped | GapNotice)]
        print(
            f"{len(transcript.final_tokens)} final tokens, {session.reconnects} reconnects, "
            f"{len(lost)} drop/gap notices"
        )


if __name__ == "__main__":
    main()
