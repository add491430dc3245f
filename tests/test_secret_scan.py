"""No secret anywhere: a distinctive API key and webhook secret, run through every kind of flow.

Each test gets fresh values (``sk-scan-`` / ``whsec-scan-`` + 32 random hex digits, see
``secret_scan_support.Secrets``) and an emulator that accepts that key, drives one kind of flow —
a whole transcription, a wrong key (401), 5xx after retries, connection resets, timeouts, bad
arguments, webhooks, keys in extra headers, the CLI — with the ``soniox`` logger tree at DEBUG
and, in the ``structlog`` variant, structlog configured at DEBUG, then asserts that neither the
secrets nor their random parts appear in: log records and structlog events, every exception's
str/repr/args/notes/attributes and its whole ``__cause__``/``__context__`` chain and traceback,
the reprs and strs of clients, configs, stacks (and each middleware), options, transports,
requests, responses and returned models, CLI output, and the emulator's journal.

The test never registers a secret: masking must come from the SDK.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from secret_scan_support import Logs, Recorder, Scan, Secrets
from soniox.cli import main
from soniox.client import AsyncSonioxClient, SonioxClient
from soniox.config import SonioxConfig
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.errors import (
    AuthenticationError,
    ClientValidationError,
    DeadlineExceededError,
    ReadTimeoutError,
    ServiceUnavailableError,
    SonioxError,
    SourceNotFoundError,
    TransportError,
    WebhookNotConfiguredError,
    WebhookSignatureError,
    redact,
)
from soniox.flows.polling import PollingPolicy
from soniox.middleware.logging import SAFE_HEADERS, LoggingMiddleware
from soniox.resources.webhooks import Webhooks
from soniox.transport.request import RequestOptions
from soniox.types import WebhookAuthConfig, WebhookEvent

FAST: dict[str, Any] = {
    "queue_delay_s": 0.01,
    "processing_speed": 1000.0,
    "min_processing_s": 0.01,
    "webhook_retry_delay_s": 0.05,
    "webhook_attempts": 1,
}
POLL = PollingPolicy(first_delay=0.05, max_delay=0.2)
MISSING_ID = "00000000-0000-4000-8000-000000000000"
WAV = sample_path()


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def secrets() -> Iterator[Secrets]:
    values = Secrets.new()
    yield values
    values.forget()


@pytest.fixture(params=["stdlib", "structlog"])
def logs(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    captured = Logs(caplog, str(request.param))
    yield captured
    captured.close()


@pytest.fixture
def emu(secrets: Secrets) -> Iterator[Emulator]:
    with Emulator(api_keys=(secrets.key,), **FAST) as emulator:
        yield emulator


@pytest.fixture
def scan(secrets: Secrets, logs: Logs, emu: Emulator) -> Scan:
    found = Scan(secrets, logs)
    found.journal = emu.journal
    return found


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- helpers ---------------------------------------------------------------------------------------


def config(emu: Emulator, key: str, **overrides: Any) -> SonioxConfig:
    return SonioxConfig.testing(api_key=key, base_url=emu.rest_base_url, **overrides)


async def _resolve(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    if isinstance(value, AsyncIterator):
        return [item async for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def calls(
    mode: str,
    scan: Scan,
    cfg: SonioxConfig,
    steps: list[Callable[[Any], Any]],
    **client_options: Any,
) -> list[Any]:
    """Run each step with one client of ``mode`` (a Recorder innermost in its stack); a step's
    result, or the exception it raised, goes to the scan and into the returned list."""
    outcomes: list[Any] = []

    def record(result: Any) -> None:
        if isinstance(result, BaseException):
            scan.error(result)
        else:
            scan.obj("result", result)
        outcomes.append(result)

    if mode == "sync":
        with SonioxClient(config=cfg, **client_options) as client:
            client.stack.append(Recorder(scan))
            scan.client(client)
            for step in steps:
                try:
                    result = step(client)
                    if isinstance(result, Iterator):
                        result = list(cast("Iterator[Any]", result))
                    record(result)
                except Exception as exc:
                    record(exc)
        return outcomes

    async def run() -> None:
        async with AsyncSonioxClient(config=cfg, **client_options) as client:
            client.stack.append(Recorder(scan))
            scan.client(client)
            for step in steps:
                try:
                    record(await _resolve(step(client)))
                except Exception as exc:
                    record(exc)

    asyncio.run(run())
    return outcomes


def assert_scanned(scan: Scan, *, logged: bool = True) -> None:
    """The scan saw log records (when requests were made), and found no secret."""
    if logged:
        assert scan.logs.count() > 0
    scan.assert_clean()


def test_the_scan_finds_a_leak(scan: Scan, secrets: Secrets) -> None:
    """The scan itself works: a secret (or only its random part) in any text is reported."""
    scan.text("a text", f"prefix {secrets.key} suffix")
    scan.obj("a tuple", ("x", secrets.webhook_secret.rsplit("-", 1)[-1]))
    labels = [leak.split(" in ")[0] for leak in scan.leaks()]
    assert "key" in labels
    assert "webhook_secret (random part)" in labels
    assert secrets.key not in "\n".join(scan.leaks())


# --- the cases -------------------------------------------------------------------------------------


def test_a_whole_transcription_shows_no_secret(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """Upload, create, wait, transcript, delete (step by step, then as one helper), with both
    clients: the key and the configured webhook secret appear in no log, repr or result."""
    cfg = config(emu, secrets.key, webhook_secret=secrets.webhook_secret)
    state: dict[str, Any] = {}

    def keep(name: str, value: Any) -> Any:
        """Keep a step's result for the next steps (awaiting it first with the async client)."""
        if not inspect.isawaitable(value):
            state[name] = value
            return value

        async def kept() -> Any:
            state[name] = await value
            return state[name]

        return kept()

    steps: list[Callable[[Any], Any]] = [
        lambda c: keep("file", c.files.upload(WAV, client_reference_id="scan-upload")),
        lambda c: keep("job", c.stt.create(file_id=state["file"].id)),
        lambda c: c.stt.wait(state["job"].id, poll=POLL),
        lambda c: c.stt.get_transcript(state["job"].id),
        lambda c: c.stt.delete(state["job"].id),
        lambda c: c.files.delete(state["file"].id),
        lambda c: c.stt.transcribe_and_wait_with_tokens(file=WAV, delete_after=True, poll=POLL),
    ]
    outcomes = calls(mode, scan, cfg, steps)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert outcomes[-1].text
    assert_scanned(scan)


def test_a_wrong_key_shows_neither_key(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """A key the server refuses (itself distinctive): every call fails with 401, and neither the
    wrong key nor the right one shows in the errors, their chains, the logs or the reprs."""
    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.wrong_key),
        [
            lambda c: c.models.list(),
            lambda c: c.files.upload(WAV),
            lambda c: c.stt.transcribe_and_wait_with_tokens(file=WAV, delete_after=True),
        ],
    )
    assert all(isinstance(o, AuthenticationError) for o in outcomes)
    assert_scanned(scan)


def test_server_errors_after_retries_show_no_secret(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """503s and 500s on every attempt: the retries' log records and the final errors are clean."""
    emu.faults.fail("/v1/models", status=503, times=None)
    emu.faults.fail("/v1/files", method="POST", status=500, times=None)
    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.key),
        [lambda c: c.models.list(), lambda c: c.files.upload(WAV)],
    )
    assert isinstance(outcomes[0], ServiceUnavailableError)
    assert isinstance(outcomes[1], SonioxError)
    assert_scanned(scan)


def test_connection_resets_show_no_secret(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """Connections reset before an answer (a GET, an upload): the transport errors, their
    httpcore/OS causes and the upload's reconciliation are clean."""
    emu.faults.inject("reset_before", "/v1/models", times=None)
    emu.faults.inject("reset_before", "/v1/files", method="POST", times=None)
    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.key),
        [lambda c: c.models.list(), lambda c: c.files.upload(WAV)],
    )
    assert isinstance(outcomes[0], TransportError)
    assert isinstance(outcomes[1], SonioxError)
    assert_scanned(scan)


def test_timeouts_show_no_secret(mode: str, scan: Scan, emu: Emulator, secrets: Secrets) -> None:
    """A read timeout on every attempt, and a call deadline that runs out: clean."""
    emu.faults.inject("latency", "/v1/models", delay_s=0.4, times=None)
    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.key, read_timeout=0.1, max_retries=1),
        [
            lambda c: c.models.list(),
            lambda c: c.with_options(deadline=0.15, timeout=5.0).models.list(),
        ],
    )
    assert isinstance(outcomes[0], ReadTimeoutError)
    assert isinstance(outcomes[1], DeadlineExceededError)
    assert_scanned(scan)


def test_bad_arguments_show_no_secret(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets, tmp_path: Path
) -> None:
    """Arguments refused before sending — a too-long client_reference_id, a missing file (a
    typed error that is also FileNotFoundError), a directory, two audio sources, a bad webhook
    URL with a webhook secret, bad options and settings — name no secret."""
    cfg = config(emu, secrets.key, webhook_secret=secrets.webhook_secret)
    auth = WebhookAuthConfig(name="X-Hook-Secret", value=secrets.wrong_secret)
    outcomes = calls(
        mode,
        scan,
        cfg,
        [
            lambda c: c.files.upload(WAV, client_reference_id="x" * 300),
            lambda c: c.files.upload(tmp_path / "missing.wav"),
            lambda c: c.files.upload(tmp_path),
            lambda c: c.stt.create(file_id=MISSING_ID, audio_url="https://example.com/a.wav"),
            lambda c: c.stt.transcribe_file_with_webhook(file=WAV, webhook_url="not a url"),
            lambda c: c.stt.transcribe_file_with_webhook(
                file=WAV, webhook_url="ftp://x", webhook_auth=auth
            ),
            lambda c: c.with_options(max_retries=-1),
            lambda c: c.with_options(deadline=0),
        ],
    )
    assert all(isinstance(o, ClientValidationError) for o in outcomes), outcomes
    missing = outcomes[1]
    assert isinstance(missing, SourceNotFoundError)
    assert isinstance(missing, FileNotFoundError)
    assert (missing.errno, missing.filename) == (errno.ENOENT, str(tmp_path / "missing.wav"))
    assert "directory" in str(outcomes[2])
    for make in (
        lambda: SonioxClient(api_key=secrets.key, base_url="ftp://example.com/v1"),
        lambda: SonioxClient(api_key=secrets.key, base_url=emu.rest_base_url, bogus=1),
        lambda: SonioxConfig(api_key=secrets.key, webhook_secret=secrets.webhook_secret).evolve(
            max_retries=-1
        ),
        lambda: SonioxConfig(api_key=f"  {secrets.key}\n", webhook_secret=" "),
        lambda: Webhooks(secret=""),
    ):
        with pytest.raises(ClientValidationError) as caught:
            make()
        scan.error(caught.value)
    scan.obj("config", SonioxConfig(api_key=secrets.key, webhook_secret=secrets.webhook_secret))
    assert_scanned(scan, logged=False)


class Receiver:
    """A local webhook endpoint that checks each call with ``webhooks.unwrap``: 200 when it
    verifies, 401 (and the error kept) when it does not."""

    def __init__(self, webhooks: Webhooks) -> None:
        self.events: queue.Queue[WebhookEvent | BaseException] = queue.Queue()
        events = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    events.put(webhooks.unwrap(body, self.headers))
                    self.send_response(200)
                except WebhookSignatureError as exc:
                    events.put(exc)
                    self.send_response(401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhooks_show_no_secret(scan: Scan, emu: Emulator, secrets: Secrets) -> None:
    """Webhooks end to end (the emulator calls a receiver that verifies with the configured
    secret; a job created with a wrong secret is refused), and verify/unwrap locally with the
    secret, a wrong one, a per-call ``WebhookAuthConfig``, the environment's, and none."""
    name = "X-Soniox-Webhook-Secret"
    good = {name: secrets.webhook_secret}
    wrong = {name: secrets.wrong_secret}
    body = b'{"id": "job-1", "status": "completed"}'
    with SonioxClient(config=config(emu, secrets.key, webhook_secret=secrets.webhook_secret)) as c:
        c.stack.append(Recorder(scan))
        scan.client(c)
        receiver = Receiver(c.webhooks)
        try:
            job = c.stt.transcribe_file_with_webhook(file=WAV, webhook_url=receiver.url)
            assert isinstance(receiver.events.get(timeout=10), WebhookEvent)
            refused = c.stt.transcribe_file_with_webhook(
                file=WAV,
                webhook_url=receiver.url,
                webhook_auth=WebhookAuthConfig(name=name, value=secrets.wrong_secret),
            )
            outcome = receiver.events.get(timeout=10)
            assert isinstance(outcome, WebhookSignatureError)
            scan.error(outcome)
            scan.obj("job", job, refused, c.stt.get(job.id), c.stt.get(refused.id))
        finally:
            receiver.close()
        hooks = c.webhooks
        hooks.verify(good)
        scan.obj("event", hooks.unwrap(body, good))
        per_call = WebhookAuthConfig(name="X-Other", value=secrets.wrong_secret)
        hooks.verify({"x-other": secrets.wrong_secret}, auth=per_call)
        scan.obj("auth", per_call)
    from_env = Webhooks(environ={"SONIOX_API_WEBHOOK_SECRET": secrets.webhook_secret})
    scan.obj("webhooks", from_env, Webhooks(secret=secrets.webhook_secret))
    unconfigured = Webhooks(environ={})
    unconfigured.verify(wrong)  # accepted, with a logged warning
    failures: list[Callable[[], object]] = [
        lambda: hooks.verify(wrong),
        lambda: hooks.verify({}),
        lambda: hooks.unwrap(body, wrong),
        lambda: hooks.verify(good, auth=per_call),
        lambda: from_env.unwrap(body, wrong),
        lambda: hooks.unwrap(b"not json", good),
        lambda: Webhooks(environ={}, require_secret=True).verify(wrong),
    ]
    raised: list[SonioxError] = []
    for failure in failures:
        with pytest.raises(SonioxError) as caught:
            failure()
        raised.append(caught.value)
        scan.error(caught.value)
    assert isinstance(raised[-1], WebhookNotConfiguredError)
    assert_scanned(scan)


def test_keys_in_extra_headers_show_no_secret(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """A key in ``x-api-key`` — the client's ``headers=``, ``with_options(extra_headers=...)``
    (another key, and the client's own), a request's own headers, a query parameter — and a
    wrong bearer key in extra headers: reprs mask them, the SDK registers them (any later text
    masks them), the journal redacts them, and the failing call is clean."""
    extra = {"x-api-key": secrets.extra_key}
    view_options: list[RequestOptions] = []

    def view(c: Any) -> Any:
        v = c.with_options(extra_headers={"X-Api-Key": secrets.extra_key, "X-Trace": "t-1"})
        view_options.append(v.options)
        scan.obj("view", v, v.options)
        return v.models.list()

    def wrong_bearer(c: Any) -> Any:
        v = c.with_options(extra_headers={"Authorization": f"Bearer {secrets.wrong_key}"})
        scan.obj("view", v, v.options)
        return v.models.list()

    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.key),
        [
            lambda c: c.models.list(),
            view,
            lambda c: c.with_options(extra_headers={"x-api-key": secrets.key}).models.list(),
            lambda c: c.request("GET", "/models", headers=extra),
            lambda c: c.request("GET", "/models", params={"api_key": secrets.extra_key}),
            wrong_bearer,
        ],
        headers=extra,
    )
    scan.obj("options", RequestOptions(extra_headers={"Api-Key": secrets.extra_key}))
    assert_scanned(scan)
    assert not [o for o in outcomes[:5] if isinstance(o, BaseException)]
    assert isinstance(outcomes[5], AuthenticationError)
    assert "<redacted>" in repr(view_options[0])
    # Registered by the SDK when the requests went out: masked in any text from now on.
    for value in (secrets.key, secrets.extra_key, secrets.wrong_key):
        assert value not in redact(f"echo: {value}")


def test_secrets_quoted_by_the_server_are_masked(
    mode: str, scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """Error answers that quote the key, an ``x-api-key`` value, the configured webhook secret
    and a per-call webhook secret (a proxy's page, a validation message): the SDK registered
    each one before sending, so errors and logs show ``***``."""
    emu.faults.fail("/v1/models", status=401, message=f"invalid key {secrets.key}", times=None)
    emu.faults.fail(
        "/v1/files", method="GET", status=400, message=f"x-api-key {secrets.extra_key} refused"
    )
    for nth, secret in ((1, secrets.webhook_secret), (2, secrets.wrong_secret)):
        emu.faults.fail(
            "/v1/transcriptions",
            method="POST",
            status=400,
            nth=nth,
            message=f"webhook_auth_header_value {secret!r} too weak",
        )
    auth = WebhookAuthConfig(name="X-Hook", value=secrets.wrong_secret)
    outcomes = calls(
        mode,
        scan,
        config(emu, secrets.key, webhook_secret=secrets.webhook_secret),
        [
            lambda c: c.models.list(),
            lambda c: c.with_options(extra_headers={"x-api-key": secrets.extra_key}).files.list(),
            lambda c: c.stt.transcribe_file_with_webhook(
                file=WAV, webhook_url="https://example.com/hook"
            ),
            lambda c: c.stt.transcribe_file_with_webhook(
                file=WAV, webhook_url="https://example.com/hook", webhook_auth=auth
            ),
        ],
    )
    assert [type(o).__name__ for o in outcomes] == [
        "AuthenticationError",
        "InvalidRequestError",
        "InvalidRequestError",
        "InvalidRequestError",
    ]
    assert all("***" in str(o) for o in outcomes)
    assert_scanned(scan)


class HookFailure(Exception):
    """The application's own error, raised by its event hook."""


def test_the_logs_mask_what_the_application_lets_through(
    scan: Scan, emu: Emulator, secrets: Secrets
) -> None:
    """A logging middleware told that ``authorization`` and ``x-api-key`` are safe still masks
    them, and an event hook's error quoting the ``x-api-key`` value is logged masked (the
    exception itself is the application's own, and is not scanned)."""

    def hook(request: Any) -> None:
        if request.headers.get("x-fail"):
            raise HookFailure(f"refusing to send {request.headers.get('x-api-key')}")

    extra = {"x-api-key": secrets.extra_key}
    trusting = LoggingMiddleware(safe_headers=SAFE_HEADERS | {"authorization", "x-api-key"})
    with SonioxClient(
        config=config(emu, secrets.key), headers=extra, event_hooks={"request": [hook]}
    ) as client:
        client.stack.replace("logging", trusting)
        client.stack.append(Recorder(scan))
        scan.client(client)
        scan.obj("models", client.models.list())
        with pytest.raises(HookFailure):
            client.with_options(extra_headers={"x-fail": "1"}).models.list()
    assert_scanned(scan)


def run_cli(capsys: pytest.CaptureFixture[str], scan: Scan, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    scan.text(f"soniox {argv[0]} stdout", out)
    scan.text(f"soniox {argv[0]} stderr", err)
    return code, out, err


def test_the_cli_with_api_key_option_shows_no_secret(
    scan: Scan, emu: Emulator, secrets: Secrets, capsys: pytest.CaptureFixture[str]
) -> None:
    """``soniox ... --api-key KEY``: a transcription, a 404 and a wrong key's 401 (error exits),
    and a bad setting: nothing printed or logged carries either key."""
    url = ("--base-url", emu.rest_base_url)
    code, out, _ = run_cli(capsys, scan, "transcribe", str(WAV), "--api-key", secrets.key, *url)
    assert code == 0
    assert out.strip()
    code, _, err = run_cli(capsys, scan, "files", "rm", MISSING_ID, "--api-key", secrets.key, *url)
    assert code != 0
    assert err
    code, _, err = run_cli(capsys, scan, "models", "--api-key", secrets.wrong_key, *url)
    assert code != 0
    assert "401" in err
    bad = ("--base-url", "ftp://example.com")
    code, _, err = run_cli(capsys, scan, "models", "--api-key", secrets.key, *bad)
    assert code != 0
    assert err
    assert_scanned(scan)


def test_the_cli_with_the_environment_key_shows_no_secret(
    scan: Scan,
    emu: Emulator,
    secrets: Secrets,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``SONIOX_API_KEY`` (and the webhook secret) from the environment: listings, a
    transcription, a missing file, and a wrong key's 401: clean output and logs."""
    monkeypatch.setenv("SONIOX_API_KEY", secrets.key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emu.rest_base_url)
    monkeypatch.setenv("SONIOX_API_WEBHOOK_SECRET", secrets.webhook_secret)
    monkeypatch.setenv("SONIOX_PROFILE", "testing")
    assert run_cli(capsys, scan, "transcribe", str(WAV))[0] == 0
    assert run_cli(capsys, scan, "files", "ls")[0] == 0
    assert run_cli(capsys, scan, "jobs", "ls", "--json")[0] == 0
    assert run_cli(capsys, scan, "transcribe", str(tmp_path / "missing.wav"))[0] != 0
    monkeypatch.setenv("SONIOX_API_KEY", secrets.wrong_key)
    code, _, err = run_cli(capsys, scan, "jobs", "ls")
    assert code != 0
    assert "401" in err
    assert os.environ["SONIOX_API_KEY"] == secrets.wrong_key
    assert_scanned(scan)
