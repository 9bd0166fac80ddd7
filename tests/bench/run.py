"""Run the benchmarks: `python -m tests.bench.run [--only GROUP]` (what `make bench` calls).

Each `tests/bench/bench_<group>.py` module defines `run() -> None` and prints its figures
with `report()`. Benchmarks print; they never assert on time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def groups() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help=f"one group: {', '.join(groups())}")
    args = parser.parse_args(argv)
    selected = [args.only] if args.only else groups()
    unknown = set(selected) - set(groups())
    if unknown:
        print(
            f"unknown benchmark group(s): {', '.join(sorted(unknown))}; known: {', '.join(groups())}", file=sys.stderr
        )
        return 2
    for group in selected:
        started = time.monotonic()
        print(f"# {group}", flush=True)
        importlib.import_module(f"tests.bench.bench_{group}").run()
        print(f"# {group} done in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
