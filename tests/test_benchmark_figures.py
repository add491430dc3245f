"""The results page's figures are drawn by one command from the benchmarks' committed data, and
every piece of data has its figure, its picture and its place on the page."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def plots() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import plots as module  # benchmarks/plots.py

        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


def names_with_data() -> list[str]:
    return sorted(path.stem for path in (DOCS / "data").glob("*.json"))


def test_every_figure_has_its_data_its_picture_and_a_place_on_the_results_page(
    plots: Any,
) -> None:
    """Each FIGURES entry has docs/data/<name>.json, docs/img/<name>.png and a marker in
    docs/results.md, and no data file lacks a figure."""
    page = (DOCS / "results.md").read_text()
    assert sorted(plots.FIGURES) == names_with_data()
    for name in plots.FIGURES:
        assert (DOCS / "img" / f"{name}.png").exists(), name
        assert f"<!-- figure: {name} -->" in page, name


@pytest.mark.parametrize("name", names_with_data())
def test_a_figure_is_redrawn_from_its_data(plots: Any, name: str, tmp_path: Path) -> None:
    """plots.draw turns the committed JSON into a PNG; the JSON says how it was measured."""
    payload = json.loads((DOCS / "data" / f"{name}.json").read_text())
    assert payload["command"].startswith("python benchmarks/")
    assert {"os", "cpu", "cores", "python"} <= set(payload["machine"])
    drawn = plots.draw(name, DOCS / "data", tmp_path)
    assert drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn.stat().st_size > 10_000
