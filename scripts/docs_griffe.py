"""A griffe extension for the API reference: the docstrings' Sphinx roles read as Markdown.

The SDK's docstrings name things the Sphinx way — ``:class:`~soniox.shared.RedisState```,
``:func:`scope_of``` — which Markdown would show verbatim. Each role becomes a code span of the
name a reader would see (the last part after ``~``, the text of ``text <target>``), and a
reST ``::`` that opens a literal block becomes ``:``. Applied to every object once the package
is loaded; nothing in the sources changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`<]*?)(?:\s*<([^`>]+)>)?`")
_LITERAL = re.compile(r"(\S)::$", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    tilde, text, target = match.group(1), match.group(2).strip(), match.group(3)
    if target is not None:
        shown = text or target
    elif tilde:
        shown = text.rsplit(".", 1)[-1]
    else:
        shown = text.lstrip(".")
    return f"`{shown}`"


def markdown_of(text: str) -> str:
    """``text`` with Sphinx roles as code spans and ``::`` as ``:``."""
    return _LITERAL.sub(r"\1:", _ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    """Rewrites the docstrings of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        pending: list[griffe.Object] = [pkg]
        while pending:
            obj = pending.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = markdown_of(obj.docstring.value)
            for member in obj.members.values():
                if not member.is_alias:
                    pending.append(member)  # type: ignore[arg-type]
