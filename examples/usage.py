"""Cost and activity: the usage summary, per-request usage logs and concurrency limits.

    python examples/usage.py                      # against a local emulator
    SONIOX_API_KEY=... python examples/usage.py --days 30

Money comes back as ``Decimal``. The local emulator starts empty, so the script first transcribes
the bundled sample once there to have some usage to show.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from _connect import add_connection_args, is_local, soniox_client

from soniox.client import SonioxClient
from soniox.data import sample_path


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    parser.add_argument("--days", type=int, default=7, help="window length (at most 366)")
    args = parser.parse_args()

    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(days=args.days)
    with soniox_client(args.api_key, args.base_url) as client:
        if is_local(args.api_key):
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
