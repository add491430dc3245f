"""The ``soniox`` command: ``soniox emulator`` / ``python -m soniox.emulator``."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from soniox import cli
from soniox.emulator import EmulatorConfig
from soniox.emulator import cli as emulator_cli
from soniox.emulator.runner import config_to_json

SCRIPT = shutil.which("soniox", path=str(Path(sys.executable).parent))


def _spawn(
    args: list[str], *, module: bool = True, stdin: int | None = None
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "soniox.emulator", *args] if module else [SCRIPT or "", *args]
    return subprocess.Popen(
        command,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def stop_after() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to terminate at the end of the test whatever happens."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _ready(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "no output"
    return dict(json.loads(line))


def test_ready_json_reports_urls_and_stops_on_sigterm(
    stop_after: list[subprocess.Popen[str]],
) -> None:
    """--ready-json prints one JSON line; SIGTERM stops the server with exit code 0."""
    process = _spawn(["--ready-json"])
    stop_after.append(process)
    info = _ready(process)
    assert info["rest_base_url"] == info["url"] + "/v1"
    assert info["ws_url"].endswith("/transcribe-websocket")
    assert info["api_key"] == "soniox-emulator-key"
    assert info["pid"] == process.pid
    assert info["tls_url"] is None
    with httpx.Client(trust_env=False) as c:
        assert c.get(info["url"] + "/_emulator/health").status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0


@pytest.mark.skipif(SCRIPT is None, reason="the soniox console script is not installed")
def test_console_script_human_output_with_tls(stop_after: list[subprocess.Popen[str]]) -> None:
    """`soniox emulator --tls` prints REST, WebSocket, TLS URLs, a CA file and the key."""
    process = _spawn(["emulator", "--tls", "--api-key", "my-local-key"], module=False)
    stop_after.append(process)
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(8)]
    text = "".join(lines)
    assert "REST base URL:      http://127.0.0.1:" in text
    assert "WebSocket URL:      ws://127.0.0.1:" in text
    assert "TLS REST base URL:  https://127.0.0.1:" in text
    assert "API key:            my-local-key" in text
    ca_file = Path(text.split("CA certificate:", 1)[1].split()[0])
    tls_base = text.split("TLS REST base URL:", 1)[1].split()[0]
    context = ssl.create_default_context(cafile=str(ca_file))
    with httpx.Client(verify=context, trust_env=False) as c:
        response = c.get(tls_base + "/models", headers={"Authorization": "Bearer my-local-key"})
    assert response.status_code == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert not ca_file.exists()


def test_config_on_stdin_and_lifeline(stop_after: list[subprocess.Popen[str]]) -> None:
    """--config-stdin reads the whole config; closing stdin stops the emulator."""
    process = _spawn(["--ready-json", "--config-stdin"], stdin=subprocess.PIPE)
    stop_after.append(process)
    assert process.stdin is not None
    config = EmulatorConfig(api_keys=("from-stdin",), queue_delay_s=0.0)
    process.stdin.write(json.dumps(config_to_json(config)) + "\n")
    process.stdin.flush()
    assert _ready(process)["api_key"] == "from-stdin"
    process.stdin.close()
    assert process.wait(10) == 0


def test_missing_extra_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the emulator extra the command explains how to install it and exits 2."""
    monkeypatch.setattr(emulator_cli, "_module_available", lambda name: name != "wsproto")
    assert cli.main(["emulator"]) == 2
    err = capsys.readouterr().err
    assert "missing: wsproto" in err
    assert "pip install 'soniox-transport[emulator]'" in err


def test_non_loopback_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Binding beyond loopback needs --allow-non-loopback; the error names the CLI flag, not
    the Python keyword (``allow_non_loopback=True``) a shell user cannot pass."""
    assert cli.main(["emulator", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--allow-non-loopback" in err
    assert "allow_non_loopback" not in err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`soniox` alone shows the available commands."""
    assert cli.main([]) == 2
    assert "emulator" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`soniox --version` prints the package version."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("soniox ")


def test_commands_are_registered_by_functions() -> None:
    """The parser is built from COMMANDS, so later commands plug in the same way."""
    parser = cli.build_parser()
    args = parser.parse_args(["emulator", "--port", "0", "--engine", "deterministic"])
    assert args.handler is not None
    assert args.engine == "deterministic"


def test_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A port that cannot be bound is reported and exits 1 (signal handlers restored)."""
    before = signal.getsignal(signal.SIGINT)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        port = blocker.getsockname()[1]
        assert cli.main(["emulator", "--port", str(port)]) == 1
    finally:
        blocker.close()
    assert "cannot listen" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before


# --- issue 11: stdout closing does not stop the server -------------------------------------------


def _models_status(rest_base_url: str, api_key: str) -> int:
    headers = {"authorization": f"Bearer {api_key}"}
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(f"{rest_base_url}/models", headers=headers).status_code


def test_keeps_serving_after_the_reader_of_its_stdout_goes_away(
    stop_after: list[subprocess.Popen[str]],
) -> None:
    """`soniox emulator | head -3`: once it printed its URLs, the reader of its stdout may
    close the pipe; the server goes on answering, and stops cleanly (no traceback) later."""
    process = _spawn(["emulator", "--port", "0"], module=False)
    stop_after.append(process)
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    rest_base_url = lines[1].split()[-1]
    assert rest_base_url.startswith("http://127.0.0.1:"), lines
    process.stdout.close()  # the reader is gone
    for _ in range(5):
        assert _models_status(rest_base_url, "soniox-emulator-key") == 200
        assert process.poll() is None
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_keeps_serving_when_its_stdout_reader_is_gone_before_it_prints(
    stop_after: list[subprocess.Popen[str]],
) -> None:
    """`soniox emulator --port N | true`: the URLs cannot be printed; it serves anyway."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reader, writer = socket.socketpair()  # a stdout whose reading end is closed
    reader.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "soniox.emulator", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=writer.fileno(),
        stderr=subprocess.PIPE,
        text=True,
    )
    writer.close()
    stop_after.append(process)
    url = f"http://127.0.0.1:{port}/v1"
    status = None
    for _ in range(100):  # until it listens (≤ 10 s)
        try:
            status = _models_status(url, "soniox-emulator-key")
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
    assert status == 200
    assert process.poll() is None
    process.terminate()
    assert process.wait(10) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


def test_limit_flags_switch_the_account_limits_on() -> None:
    """--rest-rpm / --realtime-streams / --realtime-rpm set the EmulatorConfig limits."""
    import io

    parser = cli.build_parser()
    args = parser.parse_args(
        ["emulator", "--rest-rpm", "600", "--realtime-streams", "10", "--realtime-rpm", "100"]
    )
    config = emulator_cli._emulator_config(args, io.StringIO())  # pyright: ignore[reportPrivateUsage]
    assert config.rest_requests_per_minute == 600
    assert config.realtime_streams == 10
    assert config.realtime_connects_per_minute == 100
