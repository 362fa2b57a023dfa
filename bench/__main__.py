"""Run the benchmarks: every ``bench/bench_*.py`` module exposing ``run() -> dict``.

``python -m bench`` runs them all in name order; ``python -m bench catalog``
runs only the modules whose name contains one of the words given.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(
        f"bench.{info.name}"
        for info in pkgutil.iter_modules([str(HERE)])
        if info.name.startswith("bench_")
    )


def show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def main(argv: list[str]) -> int:
    names = [n for n in discover() if not argv or any(word in n for word in argv)]
    if not names:
        print(f"no benchmark matches {' '.join(argv)}", file=sys.stderr)
        return 2
    for name in names:
        started = time.perf_counter()
        results = importlib.import_module(name).run()
        elapsed = time.perf_counter() - started
        print(f"{name.removeprefix('bench.')}  ({elapsed:.1f} s)")
        width = max((len(key) for key in results), default=0)
        for key, value in results.items():
            print(f"  {key:<{width}}  {show(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
