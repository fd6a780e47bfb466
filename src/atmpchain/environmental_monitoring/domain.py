"""Environmental monitoring rules: limits per grade, evaluation of a result, trends, the plan.

Pure: no SQLAlchemy, FastAPI or Typer. The numbers (Annex 1 limits, sampling frequencies, trend
rules) are data in `annex1_limits.toml`, loaded by `load_em_rules`; this module holds only the
logic that reads them.
"""

from __future__ import annotations

import enum
import math
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from itertools import pairwise

from atmpchain.errors import InvalidInput

#: How a sample's label code is written: EM, then 8 digits (Code 128 and typed alike).
SAMPLE_CODE_PREFIX = "EM"
SAMPLE_CODE_DIGITS = 8
MAX_ORGANISM = 120
MAX_COUNT = 1_000_000_000  # particles per m³ or CFU; anything larger is a typing error


class Grade(enum.Enum):
    """The cleanroom grades of EU GMP Annex 1."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class SampleType(enum.Enum):
    """What one EM sample measures (Annex 1 Tables 5 and 6)."""

    PARTICLES_0_5 = "particles_0_5um"
    PARTICLES_5 = "particles_5um"
    ACTIVE_AIR = "active_air"
    SETTLE_PLATE = "settle_plate"
    CONTACT_PLATE = "contact_plate"
    GLOVE_PRINT = "glove_print"

    @property
    def viable(self) -> bool:
        """A plate read after incubation (CFU), as opposed to a particle count."""
        return self not in (SampleType.PARTICLES_0_5, SampleType.PARTICLES_5)

    @property
    def unit(self) -> str:
        """The unit its result is written in."""
        return _UNITS[self]

    @property
    def label(self) -> str:
        """Its name as people say it."""
        return _LABELS[self]


_UNITS = {
    SampleType.PARTICLES_0_5: "particles/m³ ≥0.5 µm",
    SampleType.PARTICLES_5: "particles/m³ ≥5 µm",
    SampleType.ACTIVE_AIR: "CFU/m³",
    SampleType.SETTLE_PLATE: "CFU/4 h",
    SampleType.CONTACT_PLATE: "CFU/plate",
    SampleType.GLOVE_PRINT: "CFU/glove",
}
_LABELS = {
    SampleType.PARTICLES_0_5: "Total particles ≥0.5 µm",
    SampleType.PARTICLES_5: "Total particles ≥5 µm",
    SampleType.ACTIVE_AIR: "Active air",
    SampleType.SETTLE_PLATE: "Settle plate",
    SampleType.CONTACT_PLATE: "Contact plate",
    SampleType.GLOVE_PRINT: "Glove print",
}


class Occupancy(enum.Enum):
    """The room's state when sampled: limits differ at rest and in operation (Annex 1 Table 5)."""

    AT_REST = "at_rest"
    IN_OPERATION = "in_operation"


class Level(enum.Enum):
    """How a result compares with its location's limits."""

    WITHIN = "within"
    ALERT = "alert"
    ACTION = "action"

    @property
    def rank(self) -> int:
        """Order: within < alert < action."""
        return _RANKS[self.value]


_RANKS = {"within": 0, "alert": 1, "action": 2}


class TrendKind(enum.Enum):
    """The adverse-trend rules the data can configure."""

    CONSECUTIVE_ALERTS = "consecutive_alerts"
    RISING_RUN = "rising_run"
    RECURRING_ORGANISM = "recurring_organism"


# --- the rules as data ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GradeLimit:
    """One action limit of the Annex 1 tables; None where the table sets none (the site does)."""

    grade: Grade
    sample_type: SampleType
    occupancy: Occupancy
    action_limit: int | None
    source: str
    status: str


@dataclass(frozen=True, slots=True)
class TrendRule:
    """An adverse-trend rule: `count` results that together raise an alert of their own."""

    code: str
    kind: TrendKind
    count: int
    why: str
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class EmRules:
    """Everything the data file says: limits, any-growth grades, frequencies, trend rules."""

    limits: tuple[GradeLimit, ...]
    any_growth_grades: frozenset[Grade]
    any_growth_source: str
    # None = every production session; a number = days between routine samples.
    frequencies: Mapping[tuple[Grade, SampleType], int | None]
    frequency_source: str
    trends: tuple[TrendRule, ...]

    def limit(self, grade: Grade, sample_type: SampleType, occupancy: Occupancy) -> GradeLimit:
        """The table's row for a grade, sample type and occupancy."""
        for row in self.limits:
            if (row.grade, row.sample_type, row.occupancy) == (grade, sample_type, occupancy):
                return row
        raise InvalidInput(
            f"Annex 1 sets no {sample_type.label.lower()} limit for grade {grade.value}: "
            "this sample type is not taken there",
            "sample_type",
        )

    def sample_types(self, grade: Grade) -> tuple[SampleType, ...]:
        """The sample types monitored in a grade (those with a frequency)."""
        return tuple(t for t in SampleType if (grade, t) in self.frequencies)


def load_em_rules(text: str | None = None) -> EmRules:
    """The rules from `annex1_limits.toml` (or from `text`, for tests); raises ValueError on a
    broken file, naming the entry."""
    if text is None:
        text = (
            resources.files("atmpchain.environmental_monitoring")
            .joinpath("annex1_limits.toml")
            .read_text(encoding="utf-8")
        )
    data = tomllib.loads(text)
    sources: dict[str, str] = data["sources"]
    limits: list[GradeLimit] = []
    for grade_name, rows in data["action"].items():
        grade = Grade(grade_name)
        for type_name, (at_rest, in_operation, source_key, status) in rows.items():
            sample_type = SampleType(type_name)
            for occupancy, value in (
                (Occupancy.AT_REST, at_rest),
                (Occupancy.IN_OPERATION, in_operation),
            ):
                if not isinstance(value, int) or value < -1:
                    raise ValueError(f"action.{grade_name}.{type_name}: {value!r} is not a limit")
                limits.append(
                    GradeLimit(
                        grade,
                        sample_type,
                        occupancy,
                        None if value == -1 else value,
                        sources[source_key],
                        status,
                    )
                )
    frequencies: dict[tuple[Grade, SampleType], int | None] = {}
    for grade_name, rows in data["frequency"].items():
        for type_name, value in rows.items():
            if value != "session" and (not isinstance(value, int) or value < 1):
                raise ValueError(
                    f"frequency.{grade_name}.{type_name}: {value!r} is not a frequency"
                )
            frequencies[(Grade(grade_name), SampleType(type_name))] = (
                None if value == "session" else value
            )
    trends = tuple(
        TrendRule(
            code=t["code"],
            kind=TrendKind(t["kind"]),
            count=int(t["count"]),
            why=t["why"],
            window_days=t.get("window_days"),
        )
        for t in data.get("trend", [])
    )
    for rule in trends:
        if rule.count < 2:
            raise ValueError(f"trend {rule.code}: a trend needs at least 2 results")
        if rule.kind is TrendKind.RECURRING_ORGANISM and not rule.window_days:
            raise ValueError(f"trend {rule.code}: a recurring organism needs window_days")
    growth = data["any_growth_is_action"]
    return EmRules(
        limits=tuple(limits),
        any_growth_grades=frozenset(Grade(g) for g in growth["grades"]),
        any_growth_source=sources[growth["source"]],
        frequencies=frequencies,
        frequency_source=sources["frequency"],
        trends=trends,
    )


# --- limits of one location -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits a result is compared with: QA's alert limit and the table's action limit."""

    alert: int | None
    action: int | None
    any_growth_is_action: bool = False


def check_alert_limit(alert: int | None, action: int | None) -> None:
    """An alert limit warns before the action limit: it is below it, never at or above."""
    if alert is None:
        return
    if alert < 0:
        raise InvalidInput("the alert limit cannot be negative", "alert_limit")
    if action is not None and alert >= action:
        raise InvalidInput(
            f"the alert limit ({alert}) must be below the action limit ({action})", "alert_limit"
        )


def classify(value: int, limits: Limits, *, viable: bool) -> Level:
    """How a result compares with its limits. A limit is the highest value allowed: a result
    above it is an excursion. In a grade where any growth is action level, one CFU is enough."""
    if value < 0:
        raise InvalidInput("a count cannot be negative", "value")
    if viable and limits.any_growth_is_action and value > 0:
        return Level.ACTION
    if limits.action is not None and value > limits.action:
        return Level.ACTION
    if limits.alert is not None and value > limits.alert:
        return Level.ALERT
    return Level.WITHIN


def suggest_alert_limit(
    history: Sequence[int], action: int | None, *, percentile: float = 95.0
) -> int | None:
    """An alert limit from a location's own history: the given percentile of past results (the
    common practice, U), kept below the action limit; None without history or room below it."""
    if not history or not 0 < percentile <= 100:
        return None
    ordered = sorted(history)
    # Nearest-rank percentile: a value that was actually seen.
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    suggested = ordered[rank - 1]
    if action is not None:
        if action <= 0:
            return None
        suggested = min(suggested, action - 1)
    return suggested


# --- trends ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One result of a series at one location and sample type, oldest first."""

    taken_at: datetime
    value: int
    level: Level
    alert: int | None
    organism: str | None = None


@dataclass(frozen=True, slots=True)
class TrendFinding:
    """A trend rule that fired, and the results that made it fire."""

    rule: TrendRule
    points: tuple[TrendPoint, ...]

    @property
    def summary(self) -> str:
        """What was seen, in words."""
        return f"{self.rule.why} ({len(self.points)} results)"


def find_trends(rules: Iterable[TrendRule], series: Sequence[TrendPoint]) -> list[TrendFinding]:
    """The trend rules that fire on the newest result of `series` (oldest first), so that a rule
    fires once per new result that completes it, not again for every older one."""
    findings: list[TrendFinding] = []
    for rule in rules:
        found = _fires(rule, series)
        if found is not None:
            findings.append(TrendFinding(rule, found))
    return findings


def new_trends(rules: Iterable[TrendRule], series: Sequence[TrendPoint]) -> list[TrendFinding]:
    """The trends the newest result starts: those that fire now but did not on the result
    before (a fourth alert in a row continues the trend the third raised; it raises no other)."""
    if not series or not _may_complete(series[-1]):
        return []
    rules = tuple(rules)
    before = {f.rule.code for f in find_trends(rules, series[:-1])} if len(series) > 1 else set()
    return [f for f in find_trends(rules, series) if f.rule.code not in before]


def _may_complete(point: TrendPoint) -> bool:
    """Whether a result could complete any rule: every rule needs its newest result at or above
    the alert level, or with an organism (a within-limit count completes none: a cheap test for
    the many results of an import)."""
    return (
        point.level is not Level.WITHIN
        or point.organism is not None
        or (point.alert is not None and point.value >= point.alert)
    )


def _fires(rule: TrendRule, series: Sequence[TrendPoint]) -> tuple[TrendPoint, ...] | None:
    if len(series) < rule.count:
        return None
    tail = tuple(series[-rule.count :])
    if rule.kind is TrendKind.CONSECUTIVE_ALERTS:
        return tail if all(p.level is not Level.WITHIN for p in tail) else None
    if rule.kind is TrendKind.RISING_RUN:
        rising = all(b.value > a.value for a, b in pairwise(tail))
        last = tail[-1]
        # The run counts once it reaches the alert level: a slow climb that stays low is noise.
        reached = last.level is not Level.WITHIN or (
            last.alert is not None and last.value >= last.alert
        )
        return tail if rising and reached else None
    # Recurring organism: the newest result's organism seen `count` times within the window.
    newest = series[-1]
    if newest.organism is None:
        return None
    assert rule.window_days is not None
    since = newest.taken_at - timedelta(days=rule.window_days)
    key = normalise_organism(newest.organism)
    same = tuple(
        p
        for p in series
        if p.organism is not None and p.taken_at >= since and normalise_organism(p.organism) == key
    )
    return same if len(same) >= rule.count else None


def normalise_organism(name: str) -> str:
    """Organism names compare without case or extra spaces ('Staphylococcus  epidermidis')."""
    return " ".join(name.split()).casefold()


def clean_organism(value: str | None) -> str | None:
    """An identified organism as typed; blank means none identified."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    if len(text) > MAX_ORGANISM or not text.isprintable():
        raise InvalidInput(
            f"the organism name must be printable text of at most {MAX_ORGANISM} characters",
            "organism",
        )
    return text


def clean_count(value: object, field: str = "value") -> int:
    """A count as typed or sent: a whole number from 0 up."""
    if isinstance(value, bool):
        raise InvalidInput(f"{field} must be a whole number", field)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit() or not text.isascii():
            raise InvalidInput(f"{field} '{text[:20]}' is not a whole number of 0 or more", field)
        number = int(text)
    if number < 0 or number > MAX_COUNT:
        raise InvalidInput(f"{field} must be between 0 and {MAX_COUNT}", field)
    return number


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanPoint:
    """One sampling point of the plan: a location and a sample type taken there."""

    location_code: str
    grade: Grade
    sample_type: SampleType


def due_samples(
    points: Iterable[PlanPoint],
    rules: EmRules,
    last_taken: Mapping[tuple[str, SampleType], datetime],
    session_start: datetime,
) -> list[PlanPoint]:
    """The samples a production session needs: every session's samples (A/B), and the routine
    ones (C/D) whose interval has passed since they were last taken (or never taken)."""
    due: list[PlanPoint] = []
    for point in points:
        key = (point.grade, point.sample_type)
        if key not in rules.frequencies:
            continue
        interval = rules.frequencies[key]
        last = last_taken.get((point.location_code, point.sample_type))
        if interval is None or last is None or session_start - last >= timedelta(days=interval):
            due.append(point)
    return due


def sample_code(sequence: int) -> str:
    """A sample's label code: EM and eight digits (EM00000042)."""
    if not 0 < sequence < 10**SAMPLE_CODE_DIGITS:
        raise ValueError("sample sequence out of range")
    return f"{SAMPLE_CODE_PREFIX}{sequence:0{SAMPLE_CODE_DIGITS}d}"


def parse_sample_code(value: str) -> str:
    """A scanned or typed sample code (spaces and case forgiven), or a clear refusal."""
    text = "".join(value.split()).upper()
    digits = text.removeprefix(SAMPLE_CODE_PREFIX)
    if (
        not text.startswith(SAMPLE_CODE_PREFIX)
        or len(digits) != SAMPLE_CODE_DIGITS
        or not digits.isdigit()
        or not digits.isascii()
    ):
        raise InvalidInput(
            f"'{text[:24]}' is not a sample code: EM and {SAMPLE_CODE_DIGITS} digits",
            "sample_code",
        )
    return text


def occurrence_counts(organisms: Iterable[str | None]) -> Counter[str]:
    """How often each organism was identified (names compared as `normalise_organism` does)."""
    return Counter(normalise_organism(o) for o in organisms if o)


class EmImpact(enum.Enum):
    """QA's decision on an action-level excursion's impact on one batch."""

    NO_IMPACT = "no_impact"
    IMPACT_ACCEPTABLE = "impact_acceptable"
    BATCH_AFFECTED = "batch_affected"

    @property
    def label(self) -> str:
        """The decision in words."""
        return {
            EmImpact.NO_IMPACT: "No impact on the batch",
            EmImpact.IMPACT_ACCEPTABLE: "Impact assessed as acceptable (justified)",
            EmImpact.BATCH_AFFECTED: "Batch affected: not to be certified as is",
        }[self]


def parse_impact(value: str | EmImpact) -> EmImpact:
    """no_impact, impact_acceptable or batch_affected."""
    if isinstance(value, EmImpact):
        return value
    try:
        return EmImpact(value.strip().lower())
    except ValueError:
        names = ", ".join(i.value for i in EmImpact)
        raise InvalidInput(f"'{value[:30]}' is not an impact decision: {names}", "impact") from None


def month_span(text: str) -> tuple[datetime, datetime]:
    """A month 'YYYY-MM' as [first day, first day of the next month) in UTC, 1900..2199."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"'{text[:20]}' is not a month: write YYYY-MM", "month") from None
    if not 1900 <= year <= 2199:
        raise InvalidInput("the month must be between 1900 and 2199", "month")
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
