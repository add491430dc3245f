"""Draw every benchmark's figure from its data: ``docs/data/<name>.json`` → ``docs/img/<name>.png``.

    python benchmarks/plots.py              # all figures
    python benchmarks/plots.py polling      # one (by name)
    python benchmarks/plots.py --out DIR    # somewhere else (the test suite draws into a temp dir)

Each benchmark writes its results as data (``_util.record_data``) and owns the drawing of its
figure (a ``plot(data, fig)`` function next to the measurement, so the two change together);
this script only finds them. The results page (docs/results.md) shows each figure with the
machine, the versions, the date and the command that measured it, read from the same JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"

FIGURES: dict[str, str] = {
    "middleware_cost": "bench_middleware_cost",
    "transport_concurrency": "bench_transport",
    "upload_memory": "bench_upload",
    "transcript_parse": "bench_transcript",
    "polling": "bench_polling",
    "retry_storm": "bench_retry_storm",
    "realtime_chunk_size": "bench_realtime_latency",
    "realtime_reconnect": "bench_realtime_resume",
}
"""Figure name (its JSON and PNG) → the benchmark module that measures and draws it."""


class Plotter(Protocol):
    def plot(self, data: dict[str, Any], fig: Any) -> None: ...


def draw(name: str, data_dir: Path, out_dir: Path) -> Path:
    """Draw figure ``name`` from ``data_dir/<name>.json`` into ``out_dir/<name>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    payload = json.loads((data_dir / f"{name}.json").read_text())
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module: Plotter = importlib.import_module(FIGURES[name])  # type: ignore[assignment]
    fig = plt.figure(figsize=(9, 4.5), dpi=110)
    module.plot(payload["data"], fig)
    fig.suptitle(payload["title"], fontsize=11)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", help="figures to draw (default: all with data)")
    parser.add_argument("--data", type=Path, default=DOCS / "data", help="where the JSON is")
    parser.add_argument("--out", type=Path, default=DOCS / "img", help="where the PNGs go")
    args = parser.parse_args()
    names = args.names or [name for name in FIGURES if (args.data / f"{name}.json").exists()]
    for name in names:
        if name not in FIGURES:
            parser.error(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        print(draw(name, args.data, args.out))


if __name__ == "__main__":
    main()
