"""Create jobs, then wait for them with a custom PollingPolicy and watch adaptive polling work.

    python examples/wait_polling.py                       # against a local emulator
    SONIOX_API_KEY=... python examples/wait_polling.py talk.wav

``client.stt.wait(id, poll=PollingPolicy(...), on_status=...)`` polls the job until it ends.
Delays start at ``first_delay`` and grow by ``growth`` (with jitter) up to ``max_delay``: that
is the *blind* phase, used while nothing better is known. Once a job is processing, the API says
how long its audio is; after the first finished job the client knows how fast the server works
(learned per base URL, shared in the process), so the next wait sleeps until just before the
predicted end (*hinted*) and usually finds the job done with one request. The script shows:

1. a cold wait (blind delays growing), then what was learned;
2. a warm wait for a second job (hinted: fewer polls);
3. the official SDK's fixed interval (``interval_sec=``), for comparison;
4. ``timeout=``: WaitTimeoutError names the job, which is kept; waiting again picks it up.

Without ``SONIOX_API_KEY`` the script starts a local emulator whose jobs take about a second,
and scales the policy down to match (first delay 0.1 s instead of 1 s), so the polling is
visible in a few seconds; ``--api-key`` / ``--base-url`` point it anywhere else.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from _connect import add_connection_args, is_local, soniox_client

from soniox.data import sample_path
from soniox.errors import WaitTimeoutError
from soniox.flows import PollingPolicy, processing_rates
from soniox.types import Transcription


def status_printer(polls: list[float]) -> Callable[[Transcription], None]:
    """An ``on_status`` callback that prints each poll with the time since the one before."""

    def on_status(job: Transcription) -> None:
        now = time.monotonic()
        gap = f"+{now - polls[-1]:.2f} s" if polls else "first"
        polls.append(now)
        duration = (
            f", {job.audio_duration_ms / 1000:.1f} s of audio" if job.audio_duration_ms else ""
        )
        print(f"    poll {len(polls)} ({gap}): {job.status}{duration}")

    return on_status


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=sample_path())
    parser.add_argument(
        "--first-delay", type=float, help="first blind delay (s; default 1, 0.1 on the emulator)"
    )
    add_connection_args(parser)
    args = parser.parse_args()

    # Without a key: a local emulator whose jobs wait 0.05 s in the queue, then process 5 audio
    # seconds per second.
    with soniox_client(
        args.api_key, args.base_url, queue_delay_s=0.05, processing_speed=5.0
    ) as client:
        first: float = args.first_delay or (0.1 if is_local(args.api_key) else 1.0)
        fixed = 2.5 * first  # step 3's interval
        # PollingPolicy()'s defaults suit the real API, whose jobs take seconds to minutes: this
        # one keeps their proportions, scaled by the first delay.
        policy = PollingPolicy(
            first_delay=first,  # blind: 1x, then 1.5x, 2.25x, ... (minus up to 20 % jitter)
            growth=1.5,
            max_delay=20 * first,
            hint_margin=0.5,  # hinted: aim half a typical deviation before the predicted end
            hint_lag=first / 4,
            overdue_delay=first / 2,  # overdue: restart the blind schedule small
        )
        print(
            f"policy: first delay {policy.first_delay:g} s, x{policy.growth:g} per poll "
            f"(jitter {policy.jitter:.0%}), at most {policy.max_delay:g} s blind"
        )
        file = client.files.upload(args.path)
        jobs: list[str] = []
        try:
            for label, poll in (
                ("1. cold (blind)", policy),
                ("2. warm (hinted)", policy),
                (f"3. fixed every {fixed:g} s", None),
            ):
                job = client.stt.create(file_id=file.id)
                jobs.append(job.id)
                polls: list[float] = []
                print(f"{label}: job {job.id}")
                if poll is None:
                    client.stt.wait(job.id, interval_sec=fixed, on_status=status_printer(polls))
                else:
                    client.stt.wait(job.id, poll=poll, on_status=status_printer(polls))
                print(f"  {len(polls)} polls, {polls[-1] - polls[0]:.2f} s from first to last")
                learned = processing_rates.rate(str(client.config.base_url))
                if learned is not None and poll is not None:
                    rate, spread = learned
                    print(f"  learned: {rate:.3f} s per audio second (spread {spread:.0%})")

            print("4. timeout=0.05:")
            job = client.stt.create(file_id=file.id)
            jobs.append(job.id)
            try:
                client.stt.wait(job.id, timeout=0.05, poll=policy)
            except WaitTimeoutError as exc:
                last = exc.transcription.status if exc.transcription else "unknown"
                print(f"  WaitTimeoutError: job {exc.transcription_id} is kept (last seen {last})")
            done = client.stt.wait(job.id, poll=policy)
            print(f"  waited again: {done.status}")
        finally:
            for job_id in jobs:
                client.stt.delete_if_exists(job_id)
            client.files.delete(file.id)
            print(f"deleted {len(jobs)} jobs and file {file.id}")


if __name__ == "__main__":
    main()
