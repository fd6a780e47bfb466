"""Run every `bench_*.py` module's `main()` in turn, or only the modules named on the command line.

python -m benchmarks                 # all benchmarks
python -m benchmarks audit           # benchmarks/bench_audit.py only
python -m benchmarks --quick         # small counts: a smoke run, not a measurement
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Sequence
from types import ModuleType

import benchmarks
from benchmarks.report import print_aims

PREFIX = "bench_"


def available() -> list[str]:
    """The benchmark modules in this package, by name without the `bench_` prefix."""
    return sorted(
        info.name.removeprefix(PREFIX)
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith(PREFIX) and not info.ispkg
    )


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.{PREFIX}{name.removeprefix(PREFIX)}")


def main(argv: Sequence[str] | None = None) -> int:
    known = available()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run atmpchain's benchmarks."
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {known})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts, for a smoke run (numbers are noisy)"
    )
    args = parser.parse_args(argv)
    wanted = [str(n).removeprefix(PREFIX).removesuffix(".py") for n in args.names] or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}; known: {', '.join(known)}")
    started = time.perf_counter()
    for name in wanted:
        _load(name).main(quick=args.quick)
    print_aims()
    print(f"benchmarks finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
