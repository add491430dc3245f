"""Every code block of README.md and docs/*.md runs against the emulator, so a stale snippet fails.

One test per page (its id is the file name). The page's blocks run in order — python blocks in
one shared namespace, shell blocks command by command — in a fresh working directory holding a
copy of the bundled sample under every audio file name the page mentions, with the environment
set so that a client built the documented way (``SonioxClient()``, any profile) reaches this
test's emulator. The rules (languages, the ``<!-- snippet: skip (reason) -->`` marker, which
shell commands run, ``example.com``) are in the docstring of ``tests/docs_support.py``.

A failure names the page and the block's line, and shows the block and the error; tracebacks
point at lines of the Markdown file itself.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from docs_support import (
    PYTHON_LANGS,
    ROOT,
    SHELL_LANGS,
    Block,
    PythonRunner,
    SnippetFailure,
    audio_names,
    example_com,
    parse_page,
    run_shell_block,
    shell_commands,
    split_command,
)
from soniox.data import sample_path
from soniox.emulator import Emulator
from soniox.middleware import registry

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

PAGE_ENVIRONMENT: dict[str, dict[str, str]] = {
    # The page's secret comes "from your environment"; any value does.
    "webhooks.md": {"MY_WEBHOOK_SECRET": "docs-test-webhook-secret"},
}
"""Variables a page's snippets read besides the SONIOX_* ones every page gets."""

PENDING_DOC_FIXES: list[tuple[str, str, str]] = []
"""Known failures in pages being rewritten elsewhere: (page, text in the failing block, why).

A block containing the text may fail: the page then reports xfail naming it, and its later
blocks still run. An entry whose block no longer fails fails the test, so it is removed as soon
as the page is fixed. Keep this empty whenever possible."""


def _page_id(path: Path) -> str:
    return path.name


@pytest.mark.parametrize("page_path", PAGES, ids=_page_id)
def test_markers_and_languages(page_path: Path) -> None:
    """Every skip marker gives a reason and sits right before a block; every block's language
    is one the runner knows (an untyped block that reads as Python must say so)."""
    page = parse_page(page_path)
    assert not page.problems, "\n".join(page.problems)


@pytest.fixture
def middleware_registry() -> Iterator[None]:
    """Middleware a page registers (configuration.md does) is process-wide: unregistered after."""
    before = set(registry.names)
    yield
    for name in set(registry.names) - before:
        registry.unregister(name)


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("middleware_registry")
@pytest.mark.parametrize("page_path", PAGES, ids=_page_id)
def test_page_snippets_run(
    page_path: Path, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's python and shell blocks run, in order, against the emulator."""
    page = parse_page(page_path)
    runnable = [b for b in page.blocks if b.runs]
    if not runnable:
        return

    for name in audio_names(runnable):
        shutil.copyfile(sample_path(), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SONIOX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SONIOX_API_KEY", emulator.api_key)
    monkeypatch.setenv("SONIOX_API_BASE_URL", emulator.rest_base_url)
    monkeypatch.setenv("SONIOX_WEBSOCKET_URL", emulator.ws_url)
    monkeypatch.setenv("URL", emulator.url)  # the emulator's root: `$URL` in emulator.md
    for name, value in PAGE_ENVIRONMENT.get(page_path.name, {}).items():
        monkeypatch.setenv(name, value)

    pending = {needle: why for p, needle, why in PENDING_DOC_FIXES if p == page_path.name}
    excused: dict[str, str] = {}  # needle -> where it failed
    failed: SnippetFailure | None = None
    with example_com(sample_path().read_bytes()) as rewrite:
        runner = PythonRunner(rewrite)
        try:
            for block in runnable:
                try:
                    if block.lang in PYTHON_LANGS:
                        runner.run(block)
                    elif block.lang in SHELL_LANGS:
                        for command in run_shell_block(block, dict(os.environ), tmp_path, rewrite):
                            print(command)
                except SnippetFailure as failure:
                    needle = next((n for n in pending if n in block.source), None)
                    if needle is None:
                        failed = failure
                        break
                    excused[needle] = block.where
                    print(failure)
        finally:
            runner.close()
    if failed is not None:
        pytest.fail(str(failed), pytrace=False)

    fixed = sorted(set(pending) - set(excused))
    assert not fixed, f"PENDING_DOC_FIXES entries of {page_path.name} that no longer fail: {fixed}"
    if excused:
        pytest.xfail(
            "pending doc fixes: " + "; ".join(f"{w}: {pending[n]}" for n, w in excused.items())
        )


# --- the runner's own rules -----------------------------------------------------------------------


def test_parser_reports_bad_markers_and_languages(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- snippet: skip -->\n"  # 1: no reason
        "```sh\nrm -rf build\n```\n"  # 2-4
        "<!-- snippet: skip (needs a GPU) -->\n"  # 5
        "\n"
        "```python\nprint(1)\n```\n"  # 7-9: skipped, with its reason
        "<!-- snippet: skip (stray) -->\n"  # 10: no block follows
        "Some prose.\n"
        "<!-- snippet: run-twice (why) -->\n"  # 12: unknown marker
        "```yaml\na: 1\n```\n"  # 13-15: unknown language
        "```\nimport os\nos.getcwd()\n```\n"  # 16-19: untyped, but Python
        "  ```text\n  a picture\n  ```\n",  # 20-22: indented, not run
        encoding="utf-8",
    )
    parsed = parse_page(page)
    assert [(b.line, b.lang, b.skip_reason, b.runs) for b in parsed.blocks] == [
        (2, "sh", None, True),
        (7, "python", "needs a GPU", False),
        (13, "yaml", None, False),
        (16, "", None, False),
        (20, "text", None, False),
    ]
    assert parsed.blocks[-1].source == "a picture\n"
    problems = "\n".join(parsed.problems)
    assert ":1: 'snippet: skip' needs a reason" in problems
    assert ":10: snippet marker not followed by a block" in problems
    assert ":12: unknown snippet marker 'run-twice (why)'" in problems
    assert ":13: unknown block language 'yaml'" in problems
    assert ":16: untyped block that reads as Python" in problems
    assert len(parsed.problems) == 5


def test_shell_commands_and_refusals(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n$ soniox models   # list\nstt-async-v5 ...\n$ soniox files \\\n  ls\n```\n"
        "```sh\n# a comment\npip install x && soniox demo\nrm -rf build\n```\n",
        encoding="utf-8",
    )
    console, sh = parse_page(page).blocks
    assert [(c.line, c.text) for c in shell_commands(console)] == [
        (2, "soniox models   # list"),
        (4, "soniox files  ls"),
    ]
    assert split_command("curl -d '{\"a\": 1}' $URL/x  # note") == [
        "curl",
        "-d",
        '{"a": 1}',
        "$URL/x",
    ]
    assert "&&" in split_command("pip install x && soniox demo")
    with pytest.raises(SnippetFailure, match="compound shell command"):
        run_shell_block(sh, {}, tmp_path, str)
    only_rm = Block(page=sh.page, line=sh.line, lang="sh", source="rm -rf build\n")
    with pytest.raises(SnippetFailure, match="not a command this runner runs"):
        run_shell_block(only_rm, {}, tmp_path, str)
    placeholder = Block(page=sh.page, line=sh.line, lang="sh", source="export NOPE=...\n")
    with pytest.raises(SnippetFailure, match="does not set NOPE"):
        run_shell_block(placeholder, {}, tmp_path, str)


def test_python_blocks_share_a_namespace_and_an_event_loop(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n"  # 1
        "import asyncio\n"
        "queue = asyncio.Queue()\n"
        "```\n"
        "Prose.\n"
        "```py\n"  # 6: top-level await, on the same loop as the next block
        "await queue.put(41)\n"
        "```\n"
        "```python\n"  # 9
        "answer = await queue.get() + 1\n"
        "```\n"
        "```python\n"  # 12
        "x = 1\n"
        "answer / (x - 1)\n"  # 14
        "```\n",
        encoding="utf-8",
    )
    runner = PythonRunner(str)
    *good, bad = parse_page(page).blocks
    try:
        for block in good:
            runner.run(block)
        assert runner.namespace["answer"] == 42
        with pytest.raises(SnippetFailure) as failure:
            runner.run(bad)
    finally:
        runner.close()
    message = str(failure.value)
    assert message.startswith(f"{page}:12: ```python block failed")
    assert "   14 | answer / (x - 1)" in message
    assert f'File "{page}", line 14, in <module>' in message
    assert message.rstrip().endswith("ZeroDivisionError: division by zero")
