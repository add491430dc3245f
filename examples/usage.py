"""Cost and activity: the usage summary, per-request usage logs and concurrency limits.

    python examples/usage.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/usage.py --days 30

Money comes back as ``Decimal``. The local emulator starts empty, so the script first transcribes
the bundled sample once there to have some usage to show.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from soniox.client import SonioxClient
from soniox.data import sample_path


@contextlib.contextmanager
def soniox_client(api_key: str | None, base_url: str | None) -> Iterator[tuple[SonioxClient, bool]]:
    """The real API when a key is given, else a local emulator started for this run."""
    with contextlib.ExitStack() as stack:
        local = not api_key
        if local:
            from soniox.emulator import Emulator

            emulator = stack.enter_context(Emulator())
            api_key, base_url = emulator.api_key, emulator.rest_base_url
            print(f"no SONIOX_API_KEY: using a local emulator at {base_url}")
        yield stack.enter_context(SonioxClient(api_key=api_key, base_url=base_url)), local


def transcribe_sample(client: SonioxClient) -> None:
    """One finished job, so the emulator has a usage record."""
    file = client.files.upload(sample_path())
    job = client.request(
        "POST",
        "/transcriptions",
        json={"model": "stt-async-v4", "file_id": file.id, "client_reference_id": "usage-demo"},
    ).json()
    while job["status"] in ("queued", "processing"):
        time.sleep(0.05)
        job = client.request("GET", f"/transcriptions/{job['id']}").json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", default=os.environ.get("SONIOX_API_KEY"))
    parser.add_argument("--base-url", default=os.environ.get("SONIOX_API_BASE_URL"))
    parser.add_argument("--days", type=int, default=7, help="window length (at most 366)")
    args = parser.parse_args()

    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(days=args.days)
    with soniox_client(args.api_key, args.base_url) as (client, local):
        if local:
            transcribe_sample(client)

        summary = client.usage.summary(start, end)
        total = summary.total
        print(
            f"last {args.days} days: {total.total_num_requests} request(s), ${total.total_cost_usd}"
        )
        for entry in summary.models:
            print(
                f"  {entry.model}: {entry.total_num_requests} request(s), ${entry.total_cost_usd}"
            )

        print("usage logs (newest first):")
        for log in client.usage_logs.list_all(start, end, limit=100, sort="end_time_desc"):
            seconds = log.input_audio_duration_ms / 1000
            print(
                f"  {log.end_time:%Y-%m-%d %H:%M:%S}  {log.model}  {seconds:.1f}s audio  "
                f"${log.cost_usd}  ref={log.client_reference_id or '-'}"
            )

        limits = client.concurrency_limits.get()
        cap = limits.project.limits.transcribe_concurrent
        print(
            f"realtime streams now: {limits.project.current.transcribe_concurrent} "
            f"(project cap: {'none' if cap is None else cap})"
        )


if __name__ == "__main__":
    main()
