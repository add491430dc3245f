"""Start and stop an emulator from Python: in a background thread, or in a child process.

Thread mode (the default) runs the server on its own event loop in a daemon thread, so sync and
async tests alike talk to it over real loopback sockets, and the test can reach into the live
fault plan, journal and application. Subprocess mode runs ``python -m soniox.emulator`` and
drives the same fault plan and journal over the admin API, for tests that must not share a
process (or a GIL) with the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, Self, cast

import attrs

from .config import EmulatorConfig
from .faults import Fault, FaultPlan, FiredFault
from .journal import Journal, JournalEntry
from .limits import AccountLimits, LimitSettings

if TYPE_CHECKING:
    import httpx

    from ._exchange import Application
    from .app import EmulatorApp
    from .server import EmulatorServer

__all__ = ["REALTIME_PATH", "AppFactory", "Emulator", "RemoteFaultPlan", "RemoteJournal"]

REALTIME_PATH = "/transcribe-websocket"

AppFactory = Callable[[EmulatorConfig, Path, FaultPlan, Journal], "Application"]
"""Builds the application the server serves: ``(config, storage_dir, faults, journal) -> app``."""

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@attrs.frozen(repr=False)
class _Endpoints:
    url: str
    tls_url: str | None
    ca_cert_pem: bytes | None


class Emulator:
    """A running Soniox-compatible emulator on loopback.

    ``Emulator(config, mode="thread", **overrides)``: ``overrides`` are :class:`EmulatorConfig`
    fields (``Emulator(tls=True, queue_delay_s=0)``). Use it as a context manager or call
    :meth:`start` / :meth:`stop`. ``app_factory`` (thread mode) serves another application
    through the same wire layer; it is how the server itself is tested.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        mode: Literal["thread", "subprocess"] = "thread",
        app_factory: AppFactory | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
        **config_overrides: Any,
    ) -> None:
        if mode not in ("thread", "subprocess"):
            raise ValueError(f"mode must be 'thread' or 'subprocess', got {mode!r}")
        if app_factory is not None and mode != "thread":
            raise ValueError("app_factory is only supported in thread mode")
        base = config if config is not None else EmulatorConfig()
        self.config: EmulatorConfig = (
            attrs.evolve(base, **config_overrides) if config_overrides else base
        )
        self.mode = mode
        self._app_factory = app_factory
        self._startup_timeout_s = startup_timeout_s
        self._state = "new"  # new | running | stopped
        self._endpoints: _Endpoints | None = None
        self._storage: Path | None = None
        self._owns_storage = False
        # Thread mode: the live objects, shared with the server's loop (both are thread-safe).
        self._faults: FaultPlan | None = None
        self._journal: Journal | None = None
        if mode == "thread":
            self._faults = FaultPlan()
            self._journal = Journal(self.config.journal_max_entries)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._application: Application | None = None
        self._server: EmulatorServer | None = None
        # Subprocess mode.
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._http: httpx.Client | None = None
        self._pid: int | None = None

    def __repr__(self) -> str:
        where = self._endpoints.url if self._endpoints else "-"
        return f"Emulator(mode={self.mode!r}, state={self._state!r}, url={where!r})"

    # Context manager -----------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Lifecycle -----------------------------------------------------------------------------------
    def start(self) -> Self:
        """Start serving; returns once the ports are listening (or raises the startup error)."""
        if self._state == "running":
            return self
        if self._state == "stopped":
            raise RuntimeError("an Emulator cannot be restarted; create a new one")
        try:
            if self.mode == "thread":
                self._start_thread()
            else:
                self._start_subprocess()
        except BaseException:
            self._cleanup()
            self._state = "stopped"
            raise
        self._state = "running"
        return self

    def stop(self) -> None:
        """Close every connection, stop the server, remove the temporary storage. Idempotent."""
        if self._state == "stopped":
            return
        self._state = "stopped"
        self._cleanup()

    def _cleanup(self) -> None:
        # The temporary storage goes even if stopping is cut short (a second Ctrl-C while the
        # server thread is joined): stop() only runs once, so nothing else would remove it.
        try:
            if self.mode == "thread":
                self._stop_thread()
            else:
                self._stop_subprocess()
        finally:
            if self._owns_storage and self._storage is not None:
                shutil.rmtree(self._storage, ignore_errors=True)
                self._storage = None

    # Addresses -----------------------------------------------------------------------------------
    def _require_endpoints(self) -> _Endpoints:
        if self._endpoints is None:
            raise RuntimeError("the emulator is not running; call start() or use 'with'")
        return self._endpoints

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (HTTP/1.1 and h2c on the same port)."""
        return self._require_endpoints().url

    @property
    def rest_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + REALTIME_PATH

    @property
    def tls_url(self) -> str:
        """``https://127.0.0.1:TLS_PORT`` (needs ``tls=True``)."""
        tls_url = self._require_endpoints().tls_url
        if tls_url is None:
            raise RuntimeError("TLS is off; start the emulator with tls=True")
        return tls_url

    @property
    def tls_rest_base_url(self) -> str:
        return self.tls_url + "/v1"

    @property
    def tls_ws_url(self) -> str:
        return "wss" + self.tls_url.removeprefix("https") + REALTIME_PATH

    @property
    def ca_cert_pem(self) -> bytes:
        """PEM of the CA that signed the TLS port's certificate (needs ``tls=True``)."""
        pem = self._require_endpoints().ca_cert_pem
        if pem is None:
            raise RuntimeError("TLS is off; start the emulator with tls=True")
        return pem

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context that trusts the emulator's CA (and nothing else)."""
        return ssl.create_default_context(cadata=self.ca_cert_pem.decode("ascii"))

    @property
    def api_key(self) -> str:
        """The first key the emulator accepts."""
        return self.config.api_keys[0]

    @property
    def storage_dir(self) -> Path:
        if self._storage is None:
            raise RuntimeError("the emulator is not running")
        return self._storage

    @property
    def pid(self) -> int:
        """The server's process id (this process in thread mode)."""
        return self._pid if self._pid is not None else os.getpid()

    # Live state ----------------------------------------------------------------------------------
    @property
    def faults(self) -> FaultPlan:
        """The fault plan (in subprocess mode, a proxy over ``/_emulator/faults``)."""
        if self._faults is None:
            raise RuntimeError("start() the subprocess emulator before scripting faults")
        return self._faults

    @property
    def limits(self) -> AccountLimits:
        """The account limits (``set(...)``, ``clear()``, ``snapshot()``; in subprocess mode a
        proxy over ``/_emulator/limits``)."""
        if self.mode == "subprocess":
            if self._http is None:
                raise RuntimeError("start() the subprocess emulator before setting limits")
            return RemoteLimits(self._http)
        return self.app.limits

    @property
    def journal(self) -> Journal:
        """The request journal (in subprocess mode, a proxy over ``/_emulator/journal``)."""
        if self._journal is None:
            raise RuntimeError("start() the subprocess emulator before reading its journal")
        return self._journal

    @property
    def application(self) -> Application:
        """The application being served (thread mode)."""
        if self._application is None:
            raise RuntimeError(
                "the application is only reachable in a running thread-mode emulator"
            )
        return self._application

    @property
    def app(self) -> EmulatorApp:
        """The live :class:`~soniox.emulator.app.EmulatorApp` (thread mode, built-in app only)."""
        if self._app_factory is not None:
            raise RuntimeError("this emulator serves a custom application; use .application")
        return cast("EmulatorApp", self.application)

    # Storage -------------------------------------------------------------------------------------
    def _prepare_storage(self) -> Path:
        if self.config.storage_dir is not None:
            path = Path(self.config.storage_dir)
            path.mkdir(parents=True, exist_ok=True)
            self._owns_storage = False
        else:
            path = Path(tempfile.mkdtemp(prefix="soniox-emulator-"))
            self._owns_storage = True
        self._storage = path
        return path

    # Thread mode ---------------------------------------------------------------------------------
    def _start_thread(self) -> None:
        self._prepare_storage()
        self._thread = threading.Thread(
            target=self._thread_main, name="soniox-emulator", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(self._startup_timeout_s):
            raise TimeoutError(f"the emulator did not start within {self._startup_timeout_s}s")
        if self._startup_error is not None:
            error = self._startup_error
            self._startup_error = None
            raise error

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
                self._ready.set()
            else:  # pragma: no cover - the server's stop() does not raise
                from ._exchange import logger

                logger.exception("the emulator's event loop failed")

    async def _serve(self) -> None:
        from .server import EmulatorServer, url_host

        assert self._faults is not None
        assert self._journal is not None
        assert self._storage is not None
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        app = self._build_app(self._storage, self._faults, self._journal)
        server = EmulatorServer(app, self.config)
        await server.start()
        self._application = app
        self._server = server
        host = url_host(self.config.host)
        tls_port = server.tls_port
        self._endpoints = _Endpoints(
            url=f"http://{host}:{server.port}",
            tls_url=None if tls_port is None else f"https://{host}:{tls_port}",
            ca_cert_pem=server.ca_cert_pem,
        )
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await server.stop()

    def _build_app(self, storage: Path, faults: FaultPlan, journal: Journal) -> Application:
        if self._app_factory is not None:
            return self._app_factory(self.config, storage, faults, journal)
        from .app import EmulatorApp

        return EmulatorApp(self.config, storage, faults=faults, journal=journal)

    def _stop_thread(self) -> None:
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(event.set)
        if thread is not None:
            thread.join(STOP_TIMEOUT_S)
        self._thread = None
        self._loop = None
        self._stop_event = None

    # Subprocess mode -----------------------------------------------------------------------------
    def _start_subprocess(self) -> None:
        import httpx

        command = [
            sys.executable,
            "-m",
            "soniox.emulator",
            "--ready-json",
            "--config-stdin",
        ]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        stdin = self._process.stdin
        assert stdin is not None
        # The config travels on stdin (keys stay out of the process list); stdin then stays open
        # as a lifeline: the child stops when it reaches EOF, so it never outlives this process.
        stdin.write(json.dumps(config_to_json(self.config)) + "\n")
        stdin.flush()
        line = self._read_ready_line()
        info = json.loads(line)
        self._pid = int(info["pid"])
        self._storage = Path(info["storage_dir"])
        self._owns_storage = False  # the child removes its own temporary storage
        ca = info.get("ca_cert_pem")
        self._endpoints = _Endpoints(
            url=str(info["url"]),
            tls_url=info.get("tls_url"),
            ca_cert_pem=ca.encode("ascii") if isinstance(ca, str) else None,
        )
        self._http = httpx.Client(base_url=self._endpoints.url, timeout=10.0, trust_env=False)
        self._faults = RemoteFaultPlan(self._http)
        self._journal = RemoteJournal(self._http)

    def _read_ready_line(self) -> str:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        stdout = process.stdout
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(
            target=lambda: lines.put(stdout.readline()), name="soniox-emulator-ready", daemon=True
        )
        reader.start()
        try:
            line = lines.get(timeout=self._startup_timeout_s)
        except queue.Empty:
            raise TimeoutError(
                f"the emulator subprocess did not start within {self._startup_timeout_s}s"
                + self._stderr_tail()
            ) from None
        if not line.strip():
            process.wait(5)
            raise RuntimeError(
                f"the emulator subprocess exited with code {process.returncode}"
                + self._stderr_tail()
            )
        return line

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        tail = self._stderr.read()[-4000:].decode("utf-8", "replace").strip()
        return f"; its stderr:\n{tail}" if tail else ""

    def _stop_subprocess(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        process = self._process
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
            if process.stdout is not None:
                process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def config_to_json(config: EmulatorConfig) -> dict[str, Any]:
    """Every config field as JSON (how subprocess mode hands its config to the child)."""
    return attrs.asdict(config)


def config_from_json(data: dict[str, Any]) -> EmulatorConfig:
    """Inverse of :func:`config_to_json`; unknown keys are an error."""
    known = {f.name for f in attrs.fields(EmulatorConfig)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown config field(s): {sorted(unknown)}")
    values = dict(data)
    if "api_keys" in values:
        values["api_keys"] = tuple(str(k) for k in values["api_keys"])
    return EmulatorConfig(**values)


# Remote proxies (subprocess mode) ---------------------------------------------------------------
def _raise_for_admin(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        message = str(response.json().get("error", response.text))
    except ValueError:
        message = response.text
    if response.status_code == 400:
        raise ValueError(message)
    raise RuntimeError(f"emulator admin API answered {response.status_code}: {message}")


class RemoteFaultPlan(FaultPlan):
    """The fault plan of an emulator in another process, over ``/_emulator/faults``.

    The scripting methods (``add``, ``extend``, ``fail``, ``inject``, ``clear``, ``faults``,
    ``snapshot``) behave like :class:`FaultPlan`'s; ``take`` only runs inside the emulator.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        super().__init__()

    def __repr__(self) -> str:
        return f"RemoteFaultPlan({self._client.base_url})"

    def add(self, fault: Fault) -> int:
        return self.extend([fault])[0]

    def extend(self, faults: Iterable[Fault]) -> list[int]:
        payload = [f.to_json() for f in faults]
        response = self._client.post("/_emulator/faults", json=payload)
        _raise_for_admin(response)
        return [int(i) for i in response.json()["indexes"]]

    def clear(self) -> None:
        _raise_for_admin(self._client.delete("/_emulator/faults"))

    def snapshot(self) -> list[dict[str, Any]]:
        response = self._client.get("/_emulator/faults")
        _raise_for_admin(response)
        return cast(list[dict[str, Any]], response.json())

    def faults(self) -> list[Fault]:
        return [Fault.from_json(item["fault"]) for item in self.snapshot()]

    def take(self, family: str, method: str, path: str) -> list[FiredFault]:
        raise NotImplementedError("faults are taken inside the emulator process")


class RemoteLimits(AccountLimits):
    """The account limits of an emulator in another process, over ``/_emulator/limits``."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        super().__init__()

    def __repr__(self) -> str:
        return f"RemoteLimits({self._client.base_url})"

    def configure(self, settings: LimitSettings) -> None:
        _raise_for_admin(self._client.put("/_emulator/limits", json=settings.to_json()))

    def snapshot(self) -> dict[str, Any]:
        response = self._client.get("/_emulator/limits")
        _raise_for_admin(response)
        return cast(dict[str, Any], response.json())


class RemoteJournal(Journal):
    """The journal of an emulator in another process, over ``/_emulator/journal``.

    Entries are snapshots: re-read them (or :meth:`wait_for`) to see later changes.
    """

    POLL_S = 0.05

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        super().__init__()

    def __repr__(self) -> str:
        return f"RemoteJournal({self._client.base_url})"

    def __len__(self) -> int:
        return len(self.to_json())

    def open(self, **fields: Any) -> JournalEntry:
        raise NotImplementedError("journal entries are opened inside the emulator process")

    def touch(self) -> None:
        """Nothing to wake here: remote waiters poll."""

    def to_json(self) -> list[dict[str, Any]]:
        response = self._client.get("/_emulator/journal")
        _raise_for_admin(response)
        return cast(list[dict[str, Any]], response.json())

    def entries(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        protocol: str | None = None,
    ) -> list[JournalEntry]:
        params = {
            k: v for k, v in (("path", path), ("method", method), ("protocol", protocol)) if v
        }
        response = self._client.get("/_emulator/journal", params=params)
        _raise_for_admin(response)
        return [entry_from_json(item) for item in cast(list[dict[str, Any]], response.json())]

    def clear(self) -> None:
        _raise_for_admin(self._client.delete("/_emulator/journal"))

    def wait_for(
        self, predicate: Callable[[list[JournalEntry]], bool], timeout: float = 5.0
    ) -> list[JournalEntry]:
        deadline = time.monotonic() + timeout
        while True:
            items = self.entries()
            if predicate(items):
                return items
            if time.monotonic() >= deadline:
                raise TimeoutError(f"journal condition not met within {timeout}s")
            time.sleep(self.POLL_S)


def entry_from_json(data: dict[str, Any]) -> JournalEntry:
    """Rebuild a :class:`JournalEntry` from :meth:`JournalEntry.to_json` output."""
    known = {f.name for f in attrs.fields(JournalEntry)}
    values = {k: v for k, v in data.items() if k in known}
    values["headers"] = [(str(k), str(v)) for k, v in values.get("headers", [])]
    return JournalEntry(**values)
