"""Design of experiments for a pre-GMP process: factors, responses, the run sheet and results.

Pure rules and frozen dataclasses. A study names its factors (each with the low and high of the
region to explore) and responses; a design family gives the coded rows (`designs.py`); the run
sheet repeats the design once per donor (a block: donors differ more than runs within a donor,
as in the published T-cell media screen, PMC8320393) and randomises the run order within each
block with a recorded seed, so the sheet can be rebuilt and audited.
"""

from __future__ import annotations

import csv
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from atmpchain.errors import InvalidInput

MAX_NAME = 60
MAX_DONORS = 12
MAX_RESPONSES = 8
#: Results import: a file larger than this is not a run sheet.
MAX_CSV_BYTES = 1_000_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._%/+()-]{0,59}$")


@dataclass(frozen=True, slots=True)
class Factor:
    """A process parameter varied in the study, over the region low .. high (in `unit`)."""

    name: str
    low: float
    high: float
    unit: str = ""

    @property
    def centre(self) -> float:
        """The middle of the explored range (coded 0)."""
        return (self.low + self.high) / 2.0

    @property
    def half_range(self) -> float:
        """Half the explored range (one coded unit)."""
        return (self.high - self.low) / 2.0

    def actual(self, coded: float) -> float:
        """A coded level (-1 .. +1) in the factor's own unit."""
        return round(self.centre + coded * self.half_range, 10) + 0.0

    def coded(self, actual: float) -> float:
        """A setting in the factor's unit as a coded level."""
        return (actual - self.centre) / self.half_range


@dataclass(frozen=True, slots=True)
class Response:
    """A measured outcome (fold expansion, viability, CAR+ %...)."""

    name: str
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    """One run of the sheet: its number in the design (standard order), its place in the
    randomised order, its donor block and its settings (coded and actual)."""

    number: int
    order: int
    block: str
    coded: tuple[float, ...]
    actual: tuple[float, ...]


def clean_name(value: str, field: str) -> str:
    """A factor, response or donor name: letters, digits and a few signs, 1 to 60 characters."""
    name = (value or "").strip()
    if not _NAME.match(name):
        raise InvalidInput(
            f"{field} name '{value}' must be 1 to {MAX_NAME} characters: letters, digits, "
            "spaces and . _ % / + ( ) -, starting with a letter or digit",
            field,
        )
    return name


def _finite(value: object, field: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{field} '{value}' is not a number", field) from None
    if not math.isfinite(number) or abs(number) > 1e12:
        raise InvalidInput(f"{field} '{value}' must be a finite number", field)
    return number


def make_factor(name: str, low: object, high: object, unit: str = "") -> Factor:
    """A factor after checking its name and that low is below high."""
    cleaned = clean_name(name, "factor")
    lo, hi = _finite(low, f"{cleaned} low"), _finite(high, f"{cleaned} high")
    if not lo < hi:
        raise InvalidInput(f"factor {cleaned}: low ({lo:g}) must be below high ({hi:g})", "factors")
    return Factor(cleaned, lo, hi, (unit or "").strip()[:20])


def check_names(names: Sequence[str], field: str) -> None:
    """Names in a study must differ (case-insensitively): they head the CSV columns."""
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key in seen:
            raise InvalidInput(f"{field} '{name}' is named twice", field)
        seen.add(key)


def donors_of(values: Sequence[str]) -> tuple[str, ...]:
    """The donor blocks (none given: one block, 'all')."""
    donors = tuple(clean_name(v, "donor") for v in values if v.strip())
    if len(donors) > MAX_DONORS:
        raise InvalidInput(f"at most {MAX_DONORS} donors", "donors")
    check_names(donors, "donors")
    return donors or ("all",)


def new_seed() -> int:
    """A fresh seed for randomising the run order (recorded with the study)."""
    return secrets.randbelow(2**31 - 1) + 1


def run_sheet(
    coded: np.ndarray, factors: Sequence[Factor], donors: Sequence[str], seed: int
) -> tuple[Run, ...]:
    """The design repeated once per donor, run order randomised within each donor's block.

    The same seed always gives the same sheet (numpy's PCG64 generator), so the sheet is
    evidence, not luck.
    """
    if not 1 <= seed < 2**63:
        raise InvalidInput("seed must be a positive whole number", "seed")
    rng = np.random.default_rng(seed)
    runs: list[Run] = []
    order = 0
    n = coded.shape[0]
    for block in donors:
        for row in rng.permutation(n):
            order += 1
            levels = tuple(float(v) for v in coded[int(row)])
            runs.append(
                Run(
                    number=int(row) + 1,
                    order=order,
                    block=block,
                    coded=levels,
                    actual=tuple(f.actual(c) for f, c in zip(factors, levels, strict=True)),
                )
            )
    return tuple(runs)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """A run's measured responses (None: not measured)."""

    order: int
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A CSV line that was not taken, and why."""

    line: int
    reason: str


def parse_results_csv(
    text: str, *, responses: Sequence[str], orders: Sequence[int]
) -> tuple[tuple[ResultRow, ...], tuple[BadRow, ...]]:
    """Results from a CSV whose columns are `run` (the run order on the sheet) and one column per
    response, named as in the study. Good rows are kept; every bad row is named with its line
    and the rule it breaks; an empty cell means "not measured".
    """
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise InvalidInput(f"the file is over {MAX_CSV_BYTES // 1000} kB", "file")
    # Line by line, so that one malformed line is named and the others still read.
    lines = text.lstrip("\ufeff").splitlines()
    header = _cells(lines[0]) if lines else None
    if not header:
        raise InvalidInput("the file is empty: the first line must name the columns", "file")
    columns = {h.strip().casefold(): i for i, h in enumerate(header)}
    if "run" not in columns:
        raise InvalidInput("the first line must have a 'run' column (the run order)", "file")
    wanted = [columns.get(r.casefold()) for r in responses]
    if all(i is None for i in wanted):
        raise InvalidInput(
            f"no column names a response of the study ({', '.join(responses)})", "file"
        )
    known = set(orders)
    good: dict[int, ResultRow] = {}
    bad: list[BadRow] = []
    for line, raw_line in enumerate(lines[1:], start=2):
        row = _cells(raw_line)
        if row is None:
            bad.append(BadRow(line, "the line is not valid CSV (check its quotes)"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        cell = row[columns["run"]].strip() if columns["run"] < len(row) else ""
        if not cell.isdigit() or int(cell) not in known:
            bad.append(BadRow(line, f"run '{cell}' is not a run of this study"))
            continue
        order = int(cell)
        if order in good:
            bad.append(BadRow(line, f"run {order} appears twice (its first line was kept)"))
            continue
        values: list[float | None] = []
        problem = None
        for name, index in zip(responses, wanted, strict=True):
            raw = row[index].strip() if index is not None and index < len(row) else ""
            if not raw:
                values.append(None)
                continue
            try:
                values.append(check_result(raw, name))
            except InvalidInput as error:
                problem = error.message
                break
        if problem:
            bad.append(BadRow(line, problem))
        elif all(v is None for v in values):
            bad.append(BadRow(line, f"run {order} has no value for any response"))
        else:
            good[order] = ResultRow(order, tuple(values))
    return tuple(good.values()), tuple(bad)


def _cells(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


def check_result(value: object, response: str) -> float:
    """A measured value: a finite number."""
    return _finite(value, response)


def results_matrix(
    rows: Mapping[int, Sequence[float | None]], runs: Sequence[Run], response: int
) -> tuple[list[Run], list[float]]:
    """The runs that have a value for one response, and those values, in run order."""
    kept: list[Run] = []
    ys: list[float] = []
    for run in runs:
        value = rows.get(run.order, ())
        if response < len(value) and value[response] is not None:
            kept.append(run)
            ys.append(float(value[response]))  # type: ignore[arg-type]
    return kept, ys
