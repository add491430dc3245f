"""MkDocs hooks for the site (mkdocs.yml ``hooks``).

* Links from a page to files outside ``docs/`` — an example, a benchmark, the changelog — point
  at the repository on GitHub in the built site, and a link to a file that does not exist fails
  the build (as a broken link between pages does under ``--strict``).
* ``<!-- figure: NAME -->`` becomes benchmark figure NAME (``docs/img/NAME.png``, drawn by
  ``benchmarks/plots.py``) with what it was measured on, when, and the commands that regenerate
  it — read from ``docs/data/NAME.json``; a figure without its data or picture fails the build.
* ``<!-- pair: SURFACE -->`` becomes the two scripts of a migration pair side by side
  (``examples/migration/SURFACE_before.py`` and ``_after.py``), read when the site is built.
* ``<!-- exception-tree -->`` on a page becomes a Mermaid diagram of :mod:`soniox.errors`'s
  classes, drawn from the code at build time, so the picture never drifts from the tree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
_PAIR = re.compile(r"<!-- pair: ([a-z_]+) -->")
_FIGURE = re.compile(r"<!-- figure: ([a-z0-9_]+) -->")
_OUTSIDE = re.compile(r"\]\((\.\./[^)#\s]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    source = Path(page.file.abs_src_path)
    repo = str(config.repo_url).rstrip("/")

    def outside(match: re.Match[str]) -> str:
        target = (source.parent / match.group(1)).resolve()
        if not target.exists():
            raise PluginError(f"{page.file.src_path}: link to a missing file {match.group(1)}")
        relative = target.relative_to(ROOT).as_posix()
        kind = "tree" if target.is_dir() else "blob"
        return f"]({repo}/{kind}/main/{relative}{match.group(2) or ''})"

    markdown = _PAIR.sub(lambda match: pair(match.group(1), page.file.src_path), markdown)
    markdown = _OUTSIDE.sub(outside, markdown)
    markdown = _FIGURE.sub(lambda match: figure(match.group(1), page.file.src_path), markdown)
    if "<!-- exception-tree -->" in markdown:
        markdown = markdown.replace("<!-- exception-tree -->", exception_tree())
    return markdown


def pair(surface: str, where: str) -> str:
    """The before / after scripts of migration ``surface``, as two code blocks."""
    parts: list[str] = []
    for side, label in (("before", "Before — the official SDK"), ("after", "After")):
        path = ROOT / "examples" / "migration" / f"{surface}_{side}.py"
        if not path.exists():
            raise PluginError(f"{where}: no migration script {path.relative_to(ROOT)}")
        link = f"../examples/migration/{path.name}"
        parts.append(
            f"**{label}** ([`{path.name}`]({link})):\n\n```python\n{path.read_text()}```\n"
        )
    return "\n".join(parts)


def figure(name: str, where: str) -> str:
    """The Markdown of benchmark figure ``name``: the picture and its provenance."""
    data, picture = ROOT / "docs" / "data" / f"{name}.json", ROOT / "docs" / "img" / f"{name}.png"
    for needed in (data, picture):
        if not needed.exists():
            raise PluginError(
                f"{where}: figure {name!r} needs {needed.relative_to(ROOT)} "
                "(run its benchmark, then python benchmarks/plots.py)"
            )
    payload = json.loads(data.read_text())
    box = payload["machine"]
    machine = (
        f"{box['os']}, {box['cpu']}, {box['cores']} cores, {box['memory_gib']} GiB, "
        f"Python {box['python']}"
    )
    libraries = ", ".join(f"{k} {v}" for k, v in payload["versions"].items())
    return (
        f"![{payload['title']}](img/{name}.png)\n\n"
        f"| measured | on | with | regenerate |\n|---|---|---|---|\n"
        f"| {payload['date']} | {machine} | {libraries} | `{payload['command']}` then "
        f"`python benchmarks/plots.py {name}` |\n"
    )


def exception_tree() -> str:
    """A Mermaid flowchart of the exception classes :mod:`soniox.errors` exports: an arrow from
    each class's first SDK base (dashed from its other SDK bases: a realtime error is also the
    HTTP status's class), the Python or httpx bases named in the box."""
    import soniox.errors as errors

    classes = {
        value
        for name in errors.__all__
        if isinstance(value := getattr(errors, name), type) and issubclass(value, BaseException)
    }
    lines = ["```mermaid", "flowchart LR"]
    for cls in sorted(classes, key=lambda c: c.__name__):
        outside = [
            f"{'httpx.' if base.__module__.startswith('httpx') else ''}{base.__name__}"
            for base in cls.__bases__
            if base not in classes and base is not Exception
        ]
        label = cls.__name__ + (f"<br/><small>{', '.join(outside)}</small>" if outside else "")
        lines.append(f'  {cls.__name__}["{label}"]')
        inside = [base for base in cls.__bases__ if base in classes]
        for index, base in enumerate(inside):
            arrow = "-->" if index == 0 else "-.->"
            lines.append(f"  {base.__name__} {arrow} {cls.__name__}")
    lines.append("```")
    return "\n".join(lines)
