"""Generate the API reference at build time (mkdocs-gen-files): one page per public module.

A module is public unless its name (or a package above it) starts with an underscore, or it is
an implementation detail of the command line or the emulator — those are documented as tools
(docs/cli.md, docs/emulator.md), and their reference is the few names users import
(``soniox.emulator``, ``EmulatorConfig``, the fault and journal types). The pages hold one
``::: module`` each, rendered from the docstrings by mkdocstrings; ``reference/SUMMARY.md`` is
their navigation (mkdocs-literate-nav).
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files  # pyright: ignore[reportMissingTypeStubs]

SRC = Path(__file__).resolve().parent.parent / "src"
EMULATOR_PUBLIC = {"config", "faults", "journal", "limits", "runner"}
"""The emulator's modules whose names users import (the rest is the server itself)."""


def is_public(parts: tuple[str, ...]) -> bool:
    if any(part.startswith("_") for part in parts):
        return False
    if parts[:2] == ("soniox", "cli") and len(parts) > 2:
        return False
    if parts[:2] == ("soniox", "data"):
        return False
    if parts[:2] == ("soniox", "emulator") and len(parts) > 2:
        return parts[2] in EMULATOR_PUBLIC and len(parts) == 3
    return True


def modules() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for path in sorted((SRC / "soniox").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-1] == "__main__":
            continue
        if is_public(parts):
            found.append(parts)
    return sorted(found)


def main() -> None:
    nav = mkdocs_gen_files.Nav()  # pyright: ignore[reportUnknownVariableType]
    for parts in modules():
        name = ".".join(parts)
        nav[parts] = f"{name}.md"
        with mkdocs_gen_files.open(f"reference/{name}.md", "w") as out:
            out.write(f"# `{name}`\n\n::: {name}\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as summary:
        summary.writelines(nav.build_literate_nav())  # pyright: ignore[reportUnknownMemberType]


main()
