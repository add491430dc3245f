"""Project invariants: the README's commands, CI, packaging and the emulator's independence."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDK_CLIENT_MODULES = ("client", "resources", "middleware", "transport", "realtime", "flows")


def _readme_setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", setup, flags=re.S)]


def test_readme_shows_exactly_two_setup_commands() -> None:
    """The README's set-up section holds two one-line commands: the demo and the tests."""
    commands = _readme_setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].endswith("soniox demo")


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run executes the README's test command verbatim."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_setup_commands()[1] in ci


def test_setup_commands_install_from_lockfiles() -> None:
    """Both commands install from a pinned, hashed lockfile that exists in the repo."""
    for command in _readme_setup_commands():
        lock = re.search(r"-r (requirements/\S+\.txt)", command)
        assert lock is not None
        text = (ROOT / lock.group(1)).read_text()
        assert "--hash=sha256:" in text


def test_emulator_dependencies_are_behind_an_extra() -> None:
    """SDK users don't install the emulator's server libraries."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    for server_only in ("wsproto", "python-multipart", "trustme", "pocketsphinx"):
        assert server_only not in core
        assert any(server_only in dep for dep in project["optional-dependencies"]["emulator-asr"])


def test_emulator_does_not_import_sdk_client_code() -> None:
    """The emulator stays the independent other side of the wire."""
    offenders: list[str] = []
    for path in (ROOT / "src" / "soniox" / "emulator").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level >= 2:  # from ..client import X
                    names = [f"soniox.{node.module or ''}"]
                else:
                    names = [node.module or ""] if node.level == 0 else []
            for name in names:
                parts = name.split(".")
                if parts[0] == "soniox" and len(parts) > 1 and parts[1] in SDK_CLIENT_MODULES:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_soak_tests_are_opt_in() -> None:
    """The soak marker is registered so long runs stay out of the default suite."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert any(m.startswith("soak:") for m in config["markers"])


def test_public_api_is_reexported_flat_and_lazily() -> None:
    """Every name in soniox.__all__ resolves, and importing soniox loads no client code."""
    import subprocess
    import sys

    import soniox

    for name in soniox.__all__:
        assert getattr(soniox, name) is not None
    probe = "import sys, soniox; print('soniox.client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
