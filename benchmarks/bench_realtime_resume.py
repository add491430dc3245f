"""Resume soak: one long realtime stream that loses its connection many times, and the final
transcript compared with the fault-free one, token for token (text, start_ms, end_ms).

The emulator (in a subprocess) is told to break connection k of the stream — a drop without a
close frame, or a 503 error frame — after a random number of frames (seeded), for k = 1 .. N.
The session reconnects each time (fresh connection, the config, the audio since the last final
watermark, timestamps shifted). Reported: whether every run's transcript equals the fault-free
one, the reconnections, and the wall time a reconnection adds (the faulty run's wall time minus
the fault-free one's, per reconnection).

The audio is paced (20x real time by default) as a live source is: the server keeps up, so what
a resume replays — the audio after the last final watermark — stays short. Unpaced, an hour of
audio would be sent long before the server finalized it, and every reconnection would replay
most of it.

Opt-in and bounded: ``python benchmarks/bench_realtime_resume.py`` (200 faults over 10 minutes
of audio at 20x, about 40 s; ``--faults N``, ``--minutes M``, ``--pace X``, ``--quick``: 20
faults, records nothing). Results go to docs/reliability.md, "Realtime resume soak".

**Reconnection timeline** (run after the soak, or alone with ``--timeline``; about 15 s): one
session of 24 s of audio paced at 2x real time, whose first three connections each break 6 s of
audio after they opened (the emulator counts a connection's own audio) — a drop without a close
frame, a 503 error frame, a stalled server that the watchdog (``receive_timeout_sec=1.5``) gives
up on — with a 200-500 ms reconnection backoff. A chain link of the benchmark's own watches the
session's notices (``Reconnecting``, ``Resumed``) and events on the wall clock; the final
transcript is compared with a fault-free run's, token for token. The timeline goes to
docs/data/realtime_reconnect.json (to ``$SONIOX_BENCH_DATA_DIR`` instead if set; a ``--quick``
or ``--no-record`` run writes it only then), from which ``python benchmarks/plots.py
realtime_reconnect`` draws docs/img/realtime_reconnect.png: the audio sent and the end of the
final tokens received (s of audio) against wall-clock time, each loss and reconnection shaded,
and a zoom on each showing every final token once, the new connection's first one starting
where the old connection's last one ended.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import threading
import time
from typing import Any, ClassVar

from _util import record_data, record_section, speechlike_pcm, table

from soniox.client import SonioxClient
from soniox.emulator import Emulator
from soniox.realtime import (
    LinkContext,
    LinkHooks,
    RealtimeLink,
    RealtimeSTTSession,
    Reconnecting,
    ReconnectPolicy,
    Resumed,
    SessionNotice,
)
from soniox.types import RealtimeEvent, RealtimeSTTConfig

FRAME = 3840
CHUNK_S = 0.12
CONFIG = RealtimeSTTConfig(
    model="stt-rt-v4", audio_format="pcm_s16le", sample_rate=16_000, num_channels=1
)  # type: ignore[arg-type]
Final = tuple[str, int | None, int | None]


def stream(
    session: RealtimeSTTSession,
    chunks: list[bytes],
    pace: float | None,
    sent: list[tuple[float, float]] | None = None,
) -> list[Final]:
    """Send ``chunks`` at ``pace`` x real time (None: at once) from a thread, as a live source
    would (the server keeps up, so the audio kept for a resume stays short), while reading the
    final tokens; ``sent`` gets (wall time, audio s) per chunk."""
    started = time.perf_counter()

    def send() -> None:
        for index, chunk in enumerate(chunks):
            if pace is not None:
                delay = started + index * CHUNK_S / pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            session.send_byte_chunk(chunk)
            if sent is not None:
                sent.append((time.perf_counter(), (index + 1) * CHUNK_S))
        session.finish()

    sender = threading.Thread(target=send)
    sender.start()
    finals = [
        (t.text, t.start_ms, t.end_ms)
        for event in session.receive_events()
        for t in event.tokens
        if t.is_final
    ]
    sender.join()
    return finals


def run(client: SonioxClient, chunks: list[bytes], pace: float) -> tuple[list[Final], int, float]:
    """(final tokens, reconnections, wall s) of one stream sent at ``pace`` x real time."""
    policy = ReconnectPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05)
    started = time.perf_counter()
    with client.realtime.stt.connect(config=CONFIG, reconnect=policy) as session:
        finals = stream(session, chunks, pace)
    return finals, session.reconnects, time.perf_counter() - started


# --- the reconnection timeline (docs/data/realtime_reconnect.json) ----------------------------

TIMELINE_AUDIO_S = 24.0
TIMELINE_PACE = 2.0
TIMELINE_TIMEOUT_S = 1.5
"""The watchdog: a connection silent this long while the server owes an answer is given up."""
TIMELINE_POLICY = ReconnectPolicy(max_attempts=5, base_delay_s=0.2, max_delay_s=0.5)
TIMELINE_FAULTS: list[tuple[str, str, dict[str, Any]]] = [
    ("drop (no close frame)", "ws_drop", {"at_audio_ms": 6000}),
    ("503 error frame", "ws_error", {"at_audio_ms": 6000, "error_code": 503}),
    ("stalled server", "ws_stall", {"at_audio_ms": 6000, "delay_s": 0}),
]
"""Connection k of the stream breaks like fault k, once it has received 6 s of audio."""


class Watch(RealtimeLink):
    """Writes down, on the wall clock, what the session tells: its notices, its final tokens."""

    name: ClassVar[str] = "watch"

    def __init__(self) -> None:
        self.notices: list[tuple[float, SessionNotice]] = []
        self.answers: list[float] = []
        """When each event came (any event: the server's answers)."""
        self.finals: list[tuple[float, int, int, int]] = []
        """(wall, start_ms, end_ms, connection) of every final token."""

    def open(self, context: LinkContext) -> LinkHooks:
        watch = self

        class Hooks(LinkHooks):
            def on_notice(self, notice: SessionNotice) -> None:
                watch.notices.append((time.perf_counter(), notice))

            def on_event(self, event: RealtimeEvent) -> None:
                now = time.perf_counter()
                watch.answers.append(now)
                connection = 1 + sum(1 for _, n in watch.notices if isinstance(n, Resumed))
                watch.finals += [
                    (now, t.start_ms or 0, t.end_ms or 0, connection)
                    for t in event.tokens
                    if t.is_final
                ]

        return Hooks()


def fault_free(client: SonioxClient, chunks: list[bytes]) -> list[Final]:
    """The final tokens of the stream without faults (unpaced: the transcript is the same)."""
    with client.realtime.stt.connect(config=CONFIG) as session:
        return stream(session, chunks, None)


def timeline(emu: Emulator, client: SonioxClient) -> dict[str, Any]:
    """One paced session through :data:`TIMELINE_FAULTS`, on the wall clock (the figure's data)."""
    audio = speechlike_pcm(TIMELINE_AUDIO_S)
    chunks = [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]
    clean = fault_free(client, chunks)
    for k, (_, kind, params) in enumerate(TIMELINE_FAULTS, start=1):
        emu.faults.inject(kind, "/transcribe-websocket", nth=k, **params)
    watch = Watch()
    chain = client.realtime.stt.chain.with_link(watch)
    sent: list[tuple[float, float]] = []
    opened = time.perf_counter()
    with client.realtime.stt.connect(
        config=CONFIG,
        chain=chain,
        reconnect=TIMELINE_POLICY,
        receive_timeout_sec=TIMELINE_TIMEOUT_S,
    ) as session:
        started = time.perf_counter()
        finals = stream(session, chunks, TIMELINE_PACE, sent)
    wall = time.perf_counter() - started
    emu.faults.clear()

    def at(moment: float) -> float:
        return round(moment - started, 4)

    reconnections: list[dict[str, Any]] = []
    pending: tuple[float, Reconnecting] | None = None
    for moment, notice in watch.notices:
        if isinstance(notice, Reconnecting) and pending is None:
            pending = (moment, notice)
        elif isinstance(notice, Resumed) and pending is not None:
            lost, reconnecting = pending
            pending = None
            label, kind, params = (
                TIMELINE_FAULTS[len(reconnections)]
                if len(reconnections) < len(TIMELINE_FAULTS)
                else ("unplanned", "none", {})  # not injected: the machine was too slow?
            )
            before = [f for f in watch.finals if f[0] <= lost]
            after = [f for f in watch.finals if f[0] >= moment]
            reconnections.append(
                {
                    "fault": kind,
                    "label": label,
                    "connection": len(reconnections) + 1,
                    "at_connection_audio_s": params.get("at_audio_ms", 0) / 1000,
                    "last_answer_s": at(max((a for a in watch.answers if a <= lost), default=lost)),
                    "reconnecting_s": at(lost),
                    "resumed_s": at(moment),
                    "reason": reconnecting.reason,
                    "attempts": notice.attempt,
                    "backoff_s": round(reconnecting.delay_s, 4),
                    "last_final_end_s": before[-1][2] / 1000 if before else 0.0,
                    "resumed_from_s": notice.offset_ms / 1000,
                    "replayed_s": round(notice.replayed_bytes / (FRAME / CHUNK_S), 4),
                    "first_final_start_s": after[0][1] / 1000 if after else None,
                }
            )
    # a word again: a token seen before, or one starting inside the audio already transcribed
    # (the sub-word tokens of a word share its span, so they do not count)
    repeated, seen, reached, last_span = 0, set[Final](), 0, (-1, -1)
    for token in finals:
        span = (token[1] or 0, token[2] or 0)
        if token in seen or (span != last_span and span[0] < reached):
            repeated += 1
        seen.add(token)
        reached, last_span = max(reached, span[1]), span
    return {
        "audio_s": TIMELINE_AUDIO_S,
        "pace": TIMELINE_PACE,
        "chunk_ms": round(CHUNK_S * 1000),
        "receive_timeout_s": TIMELINE_TIMEOUT_S,
        "backoff_s": [TIMELINE_POLICY.base_delay_s, TIMELINE_POLICY.max_delay_s],
        "connect_s": round(started - opened, 4),
        "wall_s": round(wall, 3),
        "reconnects": session.reconnects,
        "final_token_count": len(finals),
        "identical_to_fault_free": finals == clean,
        "repeated_tokens": repeated,
        "sent": [[at(moment), round(position, 3)] for moment, position in sent],
        "final_tokens": [
            [at(moment), start / 1000, end / 1000, connection]
            for moment, start, end, connection in watch.finals
        ],
        "reconnections": reconnections,
    }


def timeline_table(data: dict[str, Any]) -> str:
    rows = [
        [
            r["label"],
            f"{r['reconnecting_s']:.2f}",
            f"{(r['resumed_s'] - r['reconnecting_s']) * 1000:.0f}",
            f"{r['last_final_end_s']:.2f}",
            f"{r['resumed_from_s']:.2f}",
            f"{r['first_final_start_s']:.2f}" if r["first_final_start_s"] is not None else "-",
            f"{r['replayed_s']:.2f}",
        ]
        for r in data["reconnections"]
    ]
    return table(
        [
            "fault",
            "noticed at wall s",
            "reconnection ms",
            "last final before ends at s",
            "resumed from s",
            "first final after starts at s",
            "audio replayed s",
        ],
        rows,
    )


def plot(data: dict[str, Any], fig: Any) -> None:
    """The stream on the wall clock (top): audio sent and the end of the final tokens received,
    each loss and reconnection shaded; below, a zoom on each reconnection with every final
    token drawn as a bar over the audio it covers, at the moment it arrived."""
    grid = fig.add_gridspec(2, max(1, len(data["reconnections"])), height_ratios=[1.7, 1])
    main = fig.add_subplot(grid[0, :])
    sent: list[list[float]] = data["sent"]
    tokens: list[list[float]] = data["final_tokens"]
    ends: list[float] = []
    for token in tokens:
        ends.append(max(token[2], ends[-1] if ends else 0.0))
    colors = ("tab:purple", "tab:green")  # final tokens of even / odd connections

    def draw(ax: Any, bars: bool) -> None:
        ax.plot(
            [0.0] + [p[0] for p in sent],
            [0.0] + [p[1] for p in sent],
            drawstyle="steps-post",
            color="tab:grey",
            linewidth=1.2,
            label=f"audio sent ({data['pace']:g}x real time)",
        )
        ax.plot(
            [0.0] + [t[0] for t in tokens],
            [0.0, *ends],
            drawstyle="steps-post",
            color="tab:blue",
            linewidth=0.8 if bars else 1.4,
            label="end of the final tokens received",
        )
        if bars:
            for parity, name in ((1, "odd"), (0, "even")):
                chosen = [t for t in tokens if int(t[3]) % 2 == parity]
                ax.vlines(
                    [t[0] for t in chosen],
                    [t[1] for t in chosen],
                    [t[2] for t in chosen],
                    color=colors[parity],
                    linewidth=3,
                    label=f"a final token, {name} connection",
                )
        for r in data["reconnections"]:
            if r["fault"] == "ws_stall":
                ax.axvspan(r["last_answer_s"], r["reconnecting_s"], color="tab:red", alpha=0.12)
            ax.axvspan(r["reconnecting_s"], r["resumed_s"], color="tab:orange", alpha=0.35)
            ax.axvline(r["reconnecting_s"], color="tab:red", linewidth=0.9, linestyle="--")
        ax.plot(
            [r["resumed_s"] for r in data["reconnections"]],
            [r["resumed_from_s"] for r in data["reconnections"]],
            linestyle="none",
            marker="o",
            markersize=6,
            markerfacecolor="none",
            markeredgecolor="black",
            label="resumed from (the last final watermark)",
        )
        ax.grid(alpha=0.3)

    draw(main, bars=False)
    # legend entries for the spans (drawn once per reconnection above)
    main.axvspan(0, 0, color="tab:orange", alpha=0.35, label="reconnecting (backoff, handshake)")
    main.axvspan(0, 0, color="tab:red", alpha=0.12, label="stalled: silent until the watchdog")
    main.axvline(-1, color="tab:red", linewidth=0.9, linestyle="--", label="connection lost")
    for r in data["reconnections"]:
        main.annotate(
            r["label"],
            xy=(r["reconnecting_s"], 0.03),
            xycoords=main.get_xaxis_transform(),
            xytext=(-3, 0),
            textcoords="offset points",
            ha="right",
            fontsize=7.5,
            color="tab:red",
        )
    main.set_xlim(0, data["wall_s"] * 1.01)
    main.set_ylim(0, data["audio_s"] * 1.22)  # room for the legend
    main.set_xlabel("wall-clock time since the session opened (s)", fontsize=8)
    main.set_ylabel("position in the stream\n(s of audio)", fontsize=8)
    verdict = "identical to" if data["identical_to_fault_free"] else "DIFFERS from"
    repeated = data["repeated_tokens"]
    main.set_title(
        f"{data['final_token_count']} final tokens, {verdict} the fault-free run's "
        f"(timing included); {repeated or 'no'} word{'' if repeated == 1 else 's'} repeated",
        fontsize=8.5,
    )
    main.legend(loc="upper left", ncol=3, fontsize=7)
    for i, r in enumerate(data["reconnections"]):
        ax = fig.add_subplot(grid[1, i])
        draw(ax, bars=True)
        left = min(r["last_answer_s"], r["reconnecting_s"]) - 0.5
        right = r["resumed_s"] + 0.5
        ax.set_xlim(left, right)
        inside = [t for t in tokens if left <= t[0] <= right]
        low = min([t[1] for t in inside] + [r["resumed_from_s"]]) - 0.3
        high = max([t[2] for t in inside] + [r["resumed_from_s"]]) + 0.3
        ax.set_ylim(low, high)
        silent = (
            f"silent {r['reconnecting_s'] - r['last_answer_s']:.1f} s, then "
            if r["fault"] == "ws_stall"
            else ""
        )
        ax.set_title(
            f"{r['label']}: {silent}back in "
            f"{(r['resumed_s'] - r['reconnecting_s']) * 1000:.0f} ms,\n"
            f"resumed at {r['resumed_from_s']:.2f} s of audio",
            fontsize=7.5,
        )
        ax.set_xlabel("wall s", fontsize=7.5)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.set_ylabel("s of audio\n(bars: final tokens)", fontsize=7.5)
            handles, labels = ax.get_legend_handles_labels()
            bars_only = [
                (h, label) for h, label in zip(handles, labels, strict=True) if "token," in label
            ]
            ax.legend(
                [h for h, _ in bars_only],
                [label for _, label in bars_only],
                loc="lower right",
                fontsize=6.5,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--faults", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pace", type=float, default=20.0, help="x real time (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 faults; records nothing")
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument(
        "--timeline", action="store_true", help="only the reconnection timeline (seconds)"
    )
    args = parser.parse_args()
    recording = not (args.quick or args.no_record)
    if not args.timeline:
        soak(args, recording)
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        data = timeline(emu, client)
    print(
        f"\nReconnection timeline: {data['audio_s']:g} s of audio at {data['pace']:g}x, "
        f"{data['reconnects']} reconnections, {data['final_token_count']} final tokens, "
        f"identical to the fault-free run: {data['identical_to_fault_free']}, repeated "
        f"tokens: {data['repeated_tokens']}, wall {data['wall_s']:.1f} s\n"
    )
    print(timeline_table(data))
    if recording or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        path = record_data(
            "realtime_reconnect",
            title="Realtime: one stream through a drop, a 503 frame and a stalled server",
            command="python benchmarks/bench_realtime_resume.py --timeline",
            data=data,
        )
        print(f"data: {path}")
    if not data["identical_to_fault_free"] or data["repeated_tokens"]:
        raise SystemExit("the timeline's transcript differs from the fault-free run")


def soak(args: argparse.Namespace, recording: bool) -> None:
    """The resume soak: a long stream broken ``--faults`` times, compared with a fault-free run."""
    faults = 20 if args.quick else args.faults
    audio = speechlike_pcm(args.minutes * 60)
    chunks = [audio[i : i + FRAME] for i in range(0, len(audio), FRAME)]
    rng = random.Random(args.seed)
    frames_per_connection = max(3, len(chunks) // (faults + 1))
    with Emulator(mode="subprocess") as emu:
        client = SonioxClient(
            api_key=emu.api_key, api_base_url=emu.rest_base_url, websocket_base_url=emu.ws_url
        )
        clean, _, clean_wall = run(client, chunks, args.pace)
        kinds = {"ws_drop": 0, "ws_error 503": 0}
        for k in range(1, faults + 1):
            after = rng.randint(2, frames_per_connection)
            if rng.random() < 0.5:
                emu.faults.inject("ws_drop", "/transcribe-websocket", nth=k, after_frames=after)
                kinds["ws_drop"] += 1
            else:
                emu.faults.inject(
                    "ws_error", "/transcribe-websocket", nth=k, after_frames=after, error_code=503
                )
                kinds["ws_error 503"] += 1
        faulty, reconnects, faulty_wall = run(client, chunks, args.pace)
        emu.faults.clear()
    identical = faulty == clean
    added = (faulty_wall - clean_wall) / reconnects * 1000 if reconnects else 0.0
    result = table(
        ["run", "final tokens", "reconnections", "wall s", "identical to fault-free"],
        [
            ["fault-free", f"{len(clean):,}", "0", f"{clean_wall:.1f}", "-"],
            [
                f"{faults} faults ({kinds['ws_drop']} drops, {kinds['ws_error 503']} 503 frames)",
                f"{len(faulty):,}",
                str(reconnects),
                f"{faulty_wall:.1f}",
                "yes" if identical else "**NO**",
            ],
        ],
    )
    env = (
        f"Python {platform.python_version()}; {args.minutes:g} min of 16 kHz mono PCM in "
        f"{len(chunks):,} frames of {FRAME} bytes, sent at {args.pace:g}x real time; seed "
        f"{args.seed}; reconnection backoff 10-50 ms; emulator in a subprocess, loopback."
    )
    body = (
        "Measured by `python benchmarks/bench_realtime_resume.py` (opt-in). One stream, "
        "broken again and again by the emulator (connection k drops, or gets a 503 error "
        "frame, after a random number of frames); the session resumes each time from the last "
        "final watermark.\n\n"
        f"{result}\n\n"
        f"Added wall time per reconnection: {max(0.0, added):.0f} ms — the backoff, a new "
        "connection, the config and the replayed audio since the watermark, which a paced "
        "stream absorbs: the sender is ahead of the server's watermark by less than the pacing "
        "leaves idle.\n\n"
        f"{env}"
    )
    print(body)
    if not identical:
        raise SystemExit("the transcript differs from the fault-free run")
    if recording:
        record_section("reliability.md", "Realtime resume soak", body)


if __name__ == "__main__":
    main()
