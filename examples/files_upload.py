"""Upload an audio file with a progress bar, then list, look up and delete files.

    python examples/files_upload.py [PATH]                     # against a local emulator
    SONIOX_API_KEY=... python examples/files_upload.py call.wav

The upload is streamed (memory stays flat even for a 1 GiB file) and safe to retry: a path is
re-read from the start if the connection fails. Without ``SONIOX_API_KEY`` the script starts a
local emulator; ``--api-key`` / ``--base-url`` point it anywhere else. PATH defaults to the
bundled sample recording.
"""

from __future__ import annotations

import argparse
import sys

from _connect import add_connection_args, soniox_client

from soniox.data import sample_path


def progress_bar(sent: int, total: int | None) -> None:
    """Draw ``[#####     ]  52%`` on one line (total is None for streams of unknown size)."""
    if total:
        done = sent * 30 // total
        sys.stdout.write(f"\r[{'#' * done}{' ' * (30 - done)}] {sent * 100 // total:3d}%")
    else:
        sys.stdout.write(f"\r{sent:,} bytes")
    if total is not None and sent == total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(sample_path()))
    add_connection_args(parser)
    parser.add_argument("--keep", action="store_true", help="do not delete the uploaded file")
    args = parser.parse_args()

    with soniox_client(args.api_key, args.base_url) as client:
        file = client.files.upload(
            args.path, client_reference_id="example-upload", progress=progress_bar
        )
        print(f"uploaded {file.filename} ({file.size:,} bytes) as {file.id}")

        # The same call takes bytes, an open binary file or an iterator of chunks.
        chunks = client.files.upload(iter([b"RIFF", b"\0" * 1000]), filename="chunks.bin")
        print(f"uploaded {chunks.filename} ({chunks.size:,} bytes) from an iterator")

        print(f"{client.files.count().total} file(s) stored:")
        for stored in client.files.list_all(limit=100):
            print(f"  {stored.id}  {stored.size:>12,}  {stored.filename}")

        assert client.files.get(file.id) == file
        client.files.delete(chunks.id)
        if not args.keep:
            client.files.delete(file.id)
            print(f"deleted {file.id}; get_or_none now gives {client.files.get_or_none(file.id)}")


if __name__ == "__main__":
    main()
