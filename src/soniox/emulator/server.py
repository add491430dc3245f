"""The emulator's wire layer: listening sockets, protocol detection, TLS, clean shutdown.

One plain port speaks HTTP/1.1 (h11, with the WebSocket upgrade) and HTTP/2 with prior knowledge
("h2c", recognised by its 24-byte connection preface). With ``EmulatorConfig.tls`` a second port
serves the same over TLS with a certificate generated at start (trustme), negotiating ``h2`` or
``http/1.1`` through ALPN. Requests go to an :class:`Application` (``EmulatorApp`` in practice);
the ``http``-family faults of the fault plan are applied here, on the wire, where they belong.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from typing import Protocol

from ._exchange import Application, ClientDisconnected, logger
from ._http1 import KEEP_ALIVE_TIMEOUT_S, Http1Connection
from ._http2 import Http2Connection
from .config import EmulatorConfig

__all__ = ["H2_PREFACE", "Application", "ClientDisconnected", "EmulatorServer", "TlsMaterial"]

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_SNIFF_READ = 65536
SHUTDOWN_GRACE_S = 0.5
"""How long in-flight requests may finish after stop() closed their connections."""


class _Connection(Protocol):
    @property
    def idle(self) -> bool: ...

    async def run(self) -> None: ...

    def close_now(self) -> None: ...


class TlsMaterial:
    """A throw-away CA and a server certificate for the loopback names, made at start."""

    def __init__(self, hosts: tuple[str, ...]) -> None:
        import trustme

        ca = trustme.CA(organization_name="soniox emulator")
        names = ["127.0.0.1", "localhost", "::1", *(h for h in hosts if h not in _LOOPBACK_NAMES)]
        cert = ca.issue_cert(*names)
        self.ca_cert_pem: bytes = ca.cert_pem.bytes()
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.server_context)
        self.server_context.set_alpn_protocols(["h2", "http/1.1"])

    def __repr__(self) -> str:
        return "TlsMaterial(<generated CA>)"

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this CA (and only it)."""
        return ssl.create_default_context(cadata=self.ca_cert_pem.decode("ascii"))


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def bind_host(host: str) -> str:
    """``localhost`` may resolve to two addresses, each with its own port 0: bind one."""
    return "127.0.0.1" if host == "localhost" else host


def url_host(host: str) -> str:
    host = bind_host(host)
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """Serve an :class:`Application` on a plain port and, with ``config.tls``, a TLS port."""

    def __init__(self, app: Application, config: EmulatorConfig) -> None:
        self._app = app
        self._config = config
        self._plain: asyncio.Server | None = None
        self._secure: asyncio.Server | None = None
        self._tls: TlsMaterial | None = None
        self._connections: set[_Connection] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[object]] = set()
        self._closing = False
        self._app_started = False

    def __repr__(self) -> str:
        state = "closing" if self._closing else ("listening" if self._plain else "new")
        return (
            f"EmulatorServer({state}, port={self.port if self._plain else None}, "
            f"tls_port={self.tls_port}, connections={len(self._connections)})"
        )

    # Lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the application, then listen; on failure nothing stays open."""
        await self._app.start()
        self._app_started = True
        try:
            host = bind_host(self._config.host)
            self._plain = await asyncio.start_server(
                self._wrap(self._on_plain), host, self._config.port, reuse_address=True
            )
            if self._config.tls:
                self._tls = TlsMaterial((self._config.host,))
                self._secure = await asyncio.start_server(
                    self._wrap(self._on_tls),
                    host,
                    self._config.tls_port,
                    ssl=self._tls.server_context,
                    ssl_handshake_timeout=10.0,
                    reuse_address=True,
                )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop listening, close every connection (GOAWAY on HTTP/2), stop the application."""
        self._closing = True
        for server in (self._plain, self._secure):
            if server is not None:
                server.close()
        for conn in list(self._connections):
            conn.close_now()
        for writer in list(self._writers):
            writer.close()
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for server in (self._plain, self._secure):
            if server is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server.wait_closed(), 1.0)
        if self._app_started:
            self._app_started = False
            await self._app.aclose()

    # Addresses ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._plain is None:
            raise RuntimeError("the server is not listening")
        return int(self._plain.sockets[0].getsockname()[1])

    @property
    def tls_port(self) -> int | None:
        if self._secure is None:
            return None
        return int(self._secure.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        """The host part of this server's URLs (IPv6 in brackets)."""
        return url_host(self._config.host)

    @property
    def ca_cert_pem(self) -> bytes | None:
        return None if self._tls is None else self._tls.ca_cert_pem

    @property
    def tls(self) -> TlsMaterial | None:
        return self._tls

    # Connections -------------------------------------------------------------------------------
    def _wrap(
        self, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if self._closing or task is None:
                writer.close()
                return
            self._tasks.add(task)
            self._writers.add(writer)
            try:
                await handler(reader, writer)
            except (ConnectionError, TimeoutError, ssl.SSLError):
                pass
            except asyncio.CancelledError:
                pass  # server shutdown; the task ends here
            except Exception as exc:
                logger.warning("emulator connection failed: %s: %s", type(exc).__name__, exc)
            finally:
                writer.close()
                self._writers.discard(writer)
                self._tasks.discard(task)

        return serve

    async def _on_plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve_sniffed(reader, writer, "http")

    async def _on_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        alpn = (
            ssl_object.selected_alpn_protocol() if isinstance(ssl_object, ssl.SSLObject) else None
        )
        if alpn == "h2":
            await self._run(Http2Connection(self._app, reader, writer, scheme="https"))
        else:
            await self._serve_sniffed(reader, writer, "https")

    async def _serve_sniffed(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str
    ) -> None:
        initial = await _sniff(reader)
        if not initial:
            return
        conn: _Connection
        if initial.startswith(H2_PREFACE):
            conn = Http2Connection(self._app, reader, writer, scheme=scheme, initial_data=initial)
        else:
            conn = Http1Connection(self._app, reader, writer, scheme=scheme, initial_data=initial)
        await self._run(conn)

    async def _run(self, conn: _Connection) -> None:
        self._connections.add(conn)
        try:
            await conn.run()
        finally:
            self._connections.discard(conn)


async def _sniff(reader: asyncio.StreamReader) -> bytes:
    """Read until the bytes can no longer be (or are) the HTTP/2 preface."""
    buffer = b""
    async with asyncio.timeout(KEEP_ALIVE_TIMEOUT_S):
        while len(buffer) < len(H2_PREFACE) and H2_PREFACE.startswith(buffer):
            chunk = await reader.read(_SNIFF_READ)
            if not chunk:
                break
            buffer += chunk
    return buffer
