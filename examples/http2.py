"""HTTP/2: many calls multiplexed over one connection, on the SDK's own HTTP/2 lane.

    python examples/http2.py                      # against a local emulator (no key needed)
    SONIOX_API_KEY=... python examples/http2.py   # against the real API (HTTPS, ALPN h2)

``http2=True`` puts small requests on HTTP/2 (uploads larger than ``http2_max_body`` stay on
HTTP/1.1). The SDK carries them on its own lane (``native_http2``, on by default): a small
sans-IO connection on the ``hpack`` package, a third of httpcore + h2's CPU per request.
``native_http2=False`` puts them on httpcore + h2 instead; proxies and your own ``SSLContext``
always do. A server that does not choose ``h2`` by ALPN simply gets HTTP/1.1.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

from _connect import add_connection_args, soniox_client

from soniox.config import SonioxConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_connection_args(parser)
    args = parser.parse_args()
    for native in (True, False):
        config = SonioxConfig.production(http2=True, native_http2=native)
        with soniox_client(args.api_key, args.base_url, config=config) as client:
            first = client.request("GET", "/models")

            def list_files(_: int) -> int:
                # listings are never cached: every call goes out to the server
                return client.request("GET", "/files").status

            with ThreadPoolExecutor(20) as workers:  # 20 threads, one client
                statuses = list(workers.map(list_files, range(40)))
            pool = client.metrics.snapshot().pool
            opened = "?" if pool is None else pool.opened
            lane = "native HTTP/2 lane" if native else "httpcore + h2"
            print(
                f"{lane}: {first.http_version}, {statuses.count(200)} of {len(statuses)} "
                "concurrent calls answered 200, "
                f"connections opened: {opened}"
            )


if __name__ == "__main__":
    main()
