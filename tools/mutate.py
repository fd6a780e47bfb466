"""Mutation testing of the pure domain rules: `make mutate` (not part of `make test`).

Each capability's domain modules are mutated by mutmut and checked against that capability's OWN
unit-test folder only (tests/unit/<capability>/): a pure rule must be pinned by its own fast tests,
not caught by chance through a service in an integration test. Every capability runs in its own
scratch folder var/mutate/<capability>/ (a copy of pyproject.toml with a [tool.mutmut] table, and
links to src/ and tests/), so the project's pyproject.toml carries no mutmut settings and one
capability's results never mix with another's.

The score is killed / (killed + survived), where "survived" also counts mutants in functions that
no unit test reaches: a planted bug that no unit test notices is a gap either way. The run exits
non-zero when any module is below its aim, when a capability's run fails or when it exceeds its
time limit. Equivalent mutants are NOT subtracted: they are listed, with the reason, in
docs/dev/mutation-testing.md and fit inside the 10 % the aim leaves.

Usage: python tools/mutate.py [--only CAPABILITY ...] [--max-children N] [--minutes-per-module M]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "var" / "mutate"
DEFAULT_AIM = 90.0


@dataclass(frozen=True)
class Capability:
    """The domain modules of one capability and the unit-test folder that must pin them."""

    name: str
    modules: tuple[str, ...]
    aim: float = DEFAULT_AIM

    @property
    def tests(self) -> str:
        return f"tests/unit/{self.name}"


# New capabilities' pure rule modules join this table as they are built (see
# docs/dev/mutation-testing.md). Paths are relative to src/atmpchain/.
CAPABILITIES: tuple[Capability, ...] = (
    Capability("identity", ("identity/check_character.py", "identity/din.py", "identity/chain.py")),
    Capability("hospital", ("hospital/domain.py",)),
    Capability(
        "coldchain", ("coldchain/domain.py", "coldchain/excursions.py", "coldchain/impact.py")
    ),
    Capability("audit", ("audit/domain.py",)),
    Capability("custody", ("custody/domain.py",)),
    Capability("accounts", ("accounts/domain.py",)),
    Capability("signatures", ("signatures/domain.py",)),
    Capability("facility", ("facility/domain.py",)),
    Capability("materials", ("materials/domain.py",)),
    Capability("equipment", ("equipment/domain.py",)),
    Capability("quality", ("quality/domain.py",)),
    Capability("manufacturing", ("manufacturing/domain.py", "manufacturing/retention.py")),
    Capability(
        "translation",
        (
            "translation/domain.py",
            "translation/assess.py",
            "translation/mbr_draft.py",
            "translation/process_format.py",
        ),
    ),
    Capability(
        "translation/doe",
        (
            "translation/doe/domain.py",
            "translation/doe/designs.py",
            "translation/doe/analysis.py",
            "translation/doe/optimise.py",
        ),
    ),
    Capability("translation/costing", ("translation/costing/domain.py",)),
)

# The outcomes mutmut reports (`mutmut results --all true`), grouped for the score.
KILLED = {"killed", "timeout", "caught by type check"}
SURVIVED = {"survived", "no tests"}


@dataclass(frozen=True)
class Score:
    module: str
    killed: int
    survived: int
    untested: int
    other: int
    aim: float

    @property
    def percent(self) -> float:
        tested = self.killed + self.survived
        return 100.0 * self.killed / tested if tested else 0.0

    @property
    def meets_aim(self) -> bool:
        # "other" means mutmut could not judge a mutant (suspicious, segfault, not checked): the
        # run is not trustworthy, so it does not pass.
        return self.percent >= self.aim and self.other == 0


def _mutmut_table(capability: Capability) -> str:
    only = ", ".join(f'"src/atmpchain/{module}"' for module in capability.modules)
    return (
        "\n\n# Written by tools/mutate.py for this scratch run only.\n"
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = [{only}]\n"
        f'pytest_add_cli_args_test_selection = ["{capability.tests}"]\n'
        # A derandomised Hypothesis profile without deadlines (tests/unit/conftest.py): a mutant
        # is killed by a rule, never by a slow shared machine or by a lucky random example.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "--hypothesis-profile=mutation"]\n'
    )


def _prepare(capability: Capability) -> Path:
    """A fresh scratch folder: results always describe the code and tests as they are now."""
    workdir = SCRATCH / capability.name
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / "src").symlink_to(ROOT / "src", target_is_directory=True)
    (workdir / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (workdir / "pyproject.toml").write_text(pyproject + _mutmut_table(capability), encoding="utf-8")
    return workdir


def _mutmut() -> str:
    found = shutil.which("mutmut", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("mutmut is not installed: pip install -c constraints.txt -e '.[mutate]'")
    return found


def _run(capability: Capability, max_children: int, minutes_per_module: float) -> list[Score]:
    workdir = _prepare(capability)
    limit = 60 * minutes_per_module * len(capability.modules)
    log = workdir / "run.log"
    started = time.monotonic()
    print(
        f"{capability.name}: mutating {', '.join(capability.modules)} "
        f"against {capability.tests}/ (log: {log.relative_to(ROOT)})",
        flush=True,
    )
    with log.open("w", encoding="utf-8") as out:
        try:
            completed = subprocess.run(
                [_mutmut(), "run", "--max-children", str(max_children)],
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            print(f"{capability.name}: exceeded its limit of {limit / 60:.0f} min", flush=True)
            return [_failed(capability, module) for module in capability.modules]
    if completed.returncode != 0:
        print(f"{capability.name}: mutmut exited {completed.returncode}; see {log}", flush=True)
        return [_failed(capability, module) for module in capability.modules]
    print(f"{capability.name}: done in {time.monotonic() - started:.0f} s", flush=True)
    return _scores(capability, workdir)


def _failed(capability: Capability, module: str) -> Score:
    return Score(module, killed=0, survived=0, untested=0, other=1, aim=capability.aim)


def _scores(capability: Capability, workdir: Path) -> list[Score]:
    listing = subprocess.run(
        [_mutmut(), "results", "--all", "true"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    outcomes: dict[str, Counter[str]] = {module: Counter() for module in capability.modules}
    survivors: list[str] = []
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        # atmpchain.custody.domain.x_normalise_code__mutmut_3 -> custody/domain.py
        dotted = name.split("__mutmut_")[0].rsplit(".", 1)[0]
        module = dotted.removeprefix("atmpchain.").replace(".", "/") + ".py"
        outcomes.setdefault(module, Counter())[status] += 1
        if status in SURVIVED:
            survivors.append(f"{status}: {name}")
    (workdir / "survivors.txt").write_text(
        "# Show one with: cd var/mutate/<capability> && mutmut show '<name>'\n"
        + "\n".join(survivors)
        + "\n",
        encoding="utf-8",
    )
    scores = []
    for module in capability.modules:
        counts = outcomes.get(module, Counter())
        scores.append(
            Score(
                module,
                killed=sum(counts[s] for s in KILLED),
                survived=sum(counts[s] for s in SURVIVED),
                untested=counts["no tests"],
                other=sum(n for s, n in counts.items() if s not in KILLED | SURVIVED),
                aim=capability.aim,
            )
        )
    return scores


def _table(scores: list[Score]) -> str:
    lines = [
        "| module | killed | survived | score | aim |",
        "|---|---:|---:|---:|---:|",
    ]
    for score in scores:
        survived = f"{score.survived}" + (f" ({score.untested} no test)" if score.untested else "")
        verdict = "" if score.meets_aim else " BELOW AIM"
        if score.other:
            verdict += " (run failed or unjudged mutants)"
        lines.append(
            f"| {score.module} | {score.killed} | {survived} | {score.percent:.1f}% "
            f"| {score.aim:.0f}%{verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", metavar="CAPABILITY", help="run these capabilities")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--minutes-per-module", type=float, default=5.0)
    args = parser.parse_args(argv)
    chosen = [c for c in CAPABILITIES if not args.only or c.name in args.only]
    unknown = set(args.only or ()) - {c.name for c in CAPABILITIES}
    if unknown:
        parser.error(f"unknown capability: {', '.join(sorted(unknown))}")
    scores: list[Score] = []
    for capability in chosen:
        scores.extend(_run(capability, args.max_children, args.minutes_per_module))
    print()
    print(_table(scores))
    below = [score.module for score in scores if not score.meets_aim]
    if below:
        print(f"\nbelow aim: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
