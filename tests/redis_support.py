"""The suite's real Redis: :class:`soniox.shared.testing.RedisServer` (started and stopped by the
tests, on a free loopback port, without persistence)."""

from __future__ import annotations

from soniox.shared.testing import RedisServer, free_port, server_binary

__all__ = ["RedisServer", "free_port", "server_binary"]
