"""A distributed batch on one machine: Redis, an emulator, RQ workers, a producer — and a worker
killed mid-job, to see that nothing is lost or done twice.

    pip install "soniox-transport[distributed]"
    python examples/distributed/run_local.py --files 8 --workers 4 --kill-one

Why RQ rather than Celery: the shared limits already live in Redis, and RQ is a queue on
Redis and nothing else — one dependency, no broker or result backend to configure, a worker is
``rq worker``. (Celery works the same way: make the client in ``worker_process_init``.)

What it does: starts a ``redis-server`` (``REDIS_URL`` to use yours) and an emulator enforcing
the account's limits (3 pending transcriptions, 300 requests a minute), starts ``--workers``
``rq worker`` processes on the ``soniox`` queue, enqueues ``--files`` copies of the sample
(``producer.py``), and waits for every result in a results directory. With ``--kill-one`` it
kills the work horse of the first job to start while it waits for its transcription: RQ runs the
job again, and the task finds the transcription the dead attempt created (by its
``client_reference_id``) instead of creating another. At the end: results, transcriptions
created, 429s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from pathlib import Path

from soniox.data import sample_path
from soniox.emulator import Emulator

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def redis_url() -> Generator[str]:
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    from soniox.shared.testing import RedisServer

    with RedisServer() as server:
        yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-one", action="store_true", help="kill a worker mid-job")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soniox-distributed-"))
    inputs, results = work / "inputs", work / "results"
    inputs.mkdir()
    results.mkdir()
    for index in range(args.files):
        shutil.copy(sample_path(), inputs / f"call-{index:03d}.wav")
    emulator = Emulator(
        mode="subprocess",
        max_pending_transcriptions=3,
        rest_requests_per_minute=300,
        queue_delay_s=0.5,  # jobs wait a while: the pending slots fill, a kill lands mid-job
        processing_speed=50.0,
    )
    with redis_url() as url, emulator as emu:
        env = {
            **os.environ,
            "REDIS_URL": url,
            "SONIOX_API_KEY": emu.api_key,
            "SONIOX_API_BASE_URL": emu.rest_base_url,
            "PENDING_LIMIT": "3",
            "RATE_LIMIT": "4",
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
        command = [sys.executable, "-m", "rq.cli", "worker", "soniox", "--url", url, "-q"]
        workers = [
            subprocess.Popen(command, env=env, cwd=HERE, stdout=subprocess.DEVNULL)
            for _ in range(args.workers)
        ]
        try:
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "producer.py"),
                    str(results),
                    *map(str, sorted(inputs.iterdir())),
                ],
                env=env,
                check=True,
            )
            killed = False
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                done = len(list(results.glob("*.txt")))
                if done == args.files:
                    break
                pids = sorted((results / ".running").glob("*.pid")) if args.kill_one else []
                if pids and not killed:
                    pid = int(pids[0].read_text())
                    time.sleep(0.2)  # let it create its transcription and start waiting
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        killed = True
                        print(f"killed the work horse of {pids[0].stem} (pid {pid}) mid-job")
                time.sleep(0.05)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
        done = sorted(p.name for p in results.glob("*.txt"))
        creates = [
            e
            for e in emu.journal.entries(path="/v1/transcriptions", method="POST")
            if e.status == 201
        ]
        refused = [e for e in emu.journal.entries() if e.status == 429]
        print(f"results: {len(done)} of {args.files} files")
        print(
            f"transcriptions created: {len(creates)}; refused by the server (429): {len(refused)}"
        )
        print(f"results in {results}")


if __name__ == "__main__":
    main()
