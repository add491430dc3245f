"""A local, Soniox-compatible server (REST + realtime WebSocket) with fault injection.

It is the independent other side of the wire for tests, examples and benchmarks: HTTP/1.1 and
HTTP/2 (h2c and TLS with ALPN), the realtime WebSocket, the documented error bodies, and a
fault plan that injects 429/5xx answers, latency, connection resets, truncated bodies and
WebSocket drops. Needs the ``emulator`` extra (``pip install 'soniox-transport[emulator]'``)::

    from soniox.emulator import Emulator

    with Emulator() as emu:                      # a thread; mode="subprocess" also works
        emu.faults.fail("/v1/files", status=429, retry_after=1)
        print(emu.rest_base_url, emu.ws_url, emu.api_key)

The same server runs from a shell: ``soniox emulator`` (or ``python -m soniox.emulator``).
Importing this package is cheap: the server and its protocol libraries load at ``start()``.
"""

from __future__ import annotations

from .config import DEFAULT_API_KEY, EmulatorConfig
from .faults import Fault, FaultPlan, FiredFault
from .journal import Journal, JournalEntry
from .runner import Emulator

__all__ = [
    "DEFAULT_API_KEY",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "FaultPlan",
    "FiredFault",
    "Journal",
    "JournalEntry",
]
