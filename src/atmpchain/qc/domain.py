"""Pure rules of quality control: specification limits, how a result compares with them, the
state of each attribute of a batch, and the steps of an out-of-specification investigation.

No SQLAlchemy, FastAPI or Typer here: the services apply these rules inside their unit of work.
The published CAR-T specifications the facility may start from are data (`published_specs.toml`),
each with its source; nothing here knows a product.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from atmpchain.errors import Conflict, InvalidInput

#: The capability name under which QC holds product units after a failed late result.
LATE_RESULT = "qc.late_result"

MAX_NAME = 80
MAX_METHOD = 120
MAX_UNIT = 30
MAX_VALUE = 200
MAX_TEXT = 4000


class SpecStatus(enum.Enum):
    """Where a specification version is: drafted, approved by QA with a signature, withdrawn."""

    DRAFT = "draft"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class LimitKind(enum.Enum):
    """How an attribute's result is judged."""

    RANGE = "range"  # a number within limits (either end may be open)
    PASS_FAIL = "pass_fail"  # noqa: S105 - not a password: a word that must be the expected one ("negative", "sterile")
    REPORT = "report"  # recorded and shown, never judged


class ResultKind(enum.Enum):
    """A final result, or an interim one such as day-10 sterility 'negative to date'."""

    FINAL = "final"
    INTERIM = "interim"


class Verdict(enum.Enum):
    """How one result compares with its limit."""

    IN_SPECIFICATION = "in_specification"
    OOS = "oos"
    NEGATIVE_TO_DATE = "negative_to_date"  # an interim result that has found nothing so far
    INTERIM_POSITIVE = "interim_positive"  # an interim result that already fails: act now

    @property
    def label(self) -> str:
        """As pages say it."""
        return _VERDICT_LABELS[self]


_VERDICT_LABELS = {
    Verdict.IN_SPECIFICATION: "in specification",
    Verdict.OOS: "out of specification",
    Verdict.NEGATIVE_TO_DATE: "negative to date",
    Verdict.INTERIM_POSITIVE: "positive (interim)",
}

#: The states one attribute of a batch can be in (BatchQc.lines).
LINE_STATES = ("in_specification", "oos", "pending", "negative_to_date", "invalidated")


# --- limits -----------------------------------------------------------------------------------

_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_ONE_SIDED = re.compile(rf"^(>=|<=|>|<|≥|≤)\s*({_NUMBER})$")
_RANGE = re.compile(rf"^({_NUMBER})\s*(?:-|–|to|\.\.)\s*({_NUMBER})$")
_PASS = re.compile(r"^(?:pass(?:/fail)?\s*:\s*)?([a-z][a-z ,/()-]{0,60})$")
_SIGNS = {"≥": ">=", "≤": "<="}


@dataclass(frozen=True, slots=True)
class Limit:
    """An attribute's acceptance criterion."""

    kind: LimitKind
    low: Decimal | None = None
    high: Decimal | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    expected: str | None = None  # PASS_FAIL: the word a passing result says

    @property
    def text(self) -> str:
        """The limit as written on a specification and parsed back by `parse_limit`."""
        if self.kind is LimitKind.REPORT:
            return "report"
        if self.kind is LimitKind.PASS_FAIL:
            return f"pass: {self.expected}"
        if (
            self.low is not None
            and self.high is not None
            and self.low_inclusive
            and self.high_inclusive
        ):
            return f"{_num(self.low)} to {_num(self.high)}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>=' if self.low_inclusive else '>'} {_num(self.low)}")
        if self.high is not None:
            parts.append(f"{'<=' if self.high_inclusive else '<'} {_num(self.high)}")
        return " and ".join(parts)


def _num(number: Decimal) -> str:
    """A limit's number as people write it: plain below a million, else 5e+5 style."""
    if number == 0 or abs(number.adjusted()) < 6:
        return format(number, "f")
    return format(number, "e")


def parse_number(text: str, field: str = "value") -> Decimal:
    """A decimal number as typed ('1.45', '0.5e6', '98'); a comma is not a decimal point."""
    value = text.strip()
    if not re.fullmatch(_NUMBER, value):
        raise InvalidInput(f"'{value[:30]}' is not a number (e.g. 98 or 1.45 or 0.5e6)", field)
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise InvalidInput(f"'{value[:30]}' is not a number", field) from None
    if not number.is_finite() or abs(number) >= Decimal("1e30"):
        raise InvalidInput(f"'{value[:30]}' is too large a number", field)
    return number


def parse_limit(text: str, field: str = "limit") -> Limit:
    """A limit as a specification writes it.

    '>= 70', '> 70', '<= 0.5', '< 5' (one side); '0.6e8 to 6.0e8' or '80-120' (both ends,
    inclusive); '>= 10 and <= 20' (both ends, each its own sign); 'report'; 'pass: negative' or
    simply 'negative' / 'sterile' / 'absent' (the word a passing result must say).
    """
    value = " ".join(text.replace("≥", " >= ").replace("≤", " <= ").split()).lower()
    if not value:
        raise InvalidInput(
            "the limit must say something (e.g. '>= 70', 'negative', 'report')", field
        )
    if value == "report":
        return Limit(LimitKind.REPORT)
    if " and " in value:
        first, _, second = value.partition(" and ")
        a, b = _side(first, field), _side(second, field)
        if a is None or b is None:
            raise InvalidInput(f"'{text[:60]}': write two sides such as '>= 10 and <= 20'", field)
        lows = [s for s in (a, b) if s[0] in (">", ">=")]
        highs = [s for s in (a, b) if s[0] in ("<", "<=")]
        if len(lows) != 1 or len(highs) != 1:
            raise InvalidInput(f"'{text[:60]}': one lower and one upper limit expected", field)
        limit = Limit(
            LimitKind.RANGE,
            low=lows[0][1],
            high=highs[0][1],
            low_inclusive=lows[0][0] == ">=",
            high_inclusive=highs[0][0] == "<=",
        )
        return _check_order(limit, text, field)
    side = _side(value, field)
    if side is not None:
        sign, number = side
        if sign in (">", ">="):
            return Limit(LimitKind.RANGE, low=number, low_inclusive=sign == ">=")
        return Limit(LimitKind.RANGE, high=number, high_inclusive=sign == "<=")
    both = _RANGE.fullmatch(value)
    if both:
        low, high = parse_number(both.group(1), field), parse_number(both.group(2), field)
        return _check_order(Limit(LimitKind.RANGE, low=low, high=high), text, field)
    word = _PASS.fullmatch(value)
    if word and not re.search(r"\d", value):
        return Limit(LimitKind.PASS_FAIL, expected=word.group(1).strip())
    raise InvalidInput(
        f"'{text[:60]}' is not a limit: write '>= 70', '< 5', '0.6e8 to 6.0e8', "
        "'negative' (pass/fail) or 'report'",
        field,
    )


def _side(text: str, field: str) -> tuple[str, Decimal] | None:
    match = _ONE_SIDED.fullmatch(text.strip())
    if not match:
        return None
    sign = _SIGNS.get(match.group(1), match.group(1))
    return sign, parse_number(match.group(2), field)


def _check_order(limit: Limit, text: str, field: str) -> Limit:
    assert limit.low is not None and limit.high is not None
    if limit.low > limit.high or (
        limit.low == limit.high and not (limit.low_inclusive and limit.high_inclusive)
    ):
        raise InvalidInput(f"'{text[:60]}': the lower limit lies above the upper one", field)
    return limit


def _normal_word(text: str) -> str:
    return " ".join(text.lower().split())


#: Words a pass/fail result may say that mean "nothing found" whatever the specification's word.
_NOTHING_FOUND = frozenset({"negative", "sterile", "absent", "not detected", "no growth", "pass"})


def judge(limit: Limit, value: str, kind: ResultKind = ResultKind.FINAL) -> Verdict:
    """How a result compares with its limit.

    A number is checked against the range (limits as written: inclusive unless the sign is
    strict); a pass/fail word must be the expected word (or one that means the same: 'negative',
    'sterile', 'absent', 'not detected', 'no growth'), or simply 'pass'; a 'report' attribute is
    never out of specification. An interim result (e.g. day-10 sterility) that passes is only
    "negative to date"; one that fails is a positive interim result."""
    if limit.kind is LimitKind.REPORT:
        verdict_ok = True
    elif limit.kind is LimitKind.RANGE:
        number = parse_number(value, "value")
        verdict_ok = _within(limit, number)
    else:
        said = _normal_word(value)
        if not said:
            raise InvalidInput("the result must say something", "value")
        expected = _normal_word(limit.expected or "")
        verdict_ok = said in (expected, "pass") or (
            expected in _NOTHING_FOUND and said in _NOTHING_FOUND
        )
    if kind is ResultKind.INTERIM:
        return Verdict.NEGATIVE_TO_DATE if verdict_ok else Verdict.INTERIM_POSITIVE
    return Verdict.IN_SPECIFICATION if verdict_ok else Verdict.OOS


def _within(limit: Limit, number: Decimal) -> bool:
    below = limit.low is not None and (
        number < limit.low or (number == limit.low and not limit.low_inclusive)
    )
    above = limit.high is not None and (
        number > limit.high or (number == limit.high and not limit.high_inclusive)
    )
    return not (below or above)


# --- attributes and specifications ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """One attribute of a specification: what is tested, how, and what passes."""

    name: str
    method: str
    limit: Limit
    unit: str = ""
    release_critical: bool = True
    may_follow_release: bool = False  # the result may come after the QP's certification


def check_word(value: str | None, field: str, limit: int, *, required: bool = True) -> str:
    """A short text trimmed of spaces; required ones must say something."""
    text = " ".join((value or "").split())
    if required and not text:
        raise InvalidInput(f"{field.replace('_', ' ')} is required", field)
    if len(text) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} must be at most {limit} characters", field)
    return text


def attribute(
    *,
    name: str,
    method: str,
    limit: str,
    unit: str = "",
    release_critical: bool = True,
    may_follow_release: bool = False,
) -> AttributeDef:
    """An attribute from what a person (or the seed file) writes, each field checked."""
    return AttributeDef(
        name=check_word(name, "name", MAX_NAME),
        method=check_word(method, "method", MAX_METHOD),
        limit=parse_limit(limit),
        unit=check_word(unit, "unit", MAX_UNIT, required=False),
        release_critical=release_critical,
        may_follow_release=may_follow_release,
    )


def check_attributes(attributes: Sequence[AttributeDef]) -> tuple[AttributeDef, ...]:
    """A specification lists at least one attribute, each name once (case ignored)."""
    if not attributes:
        raise InvalidInput("a specification lists at least one attribute", "attributes")
    seen: set[str] = set()
    for a in attributes:
        key = a.name.lower()
        if key in seen:
            raise InvalidInput(f"attribute '{a.name}' is listed twice", "attributes")
        seen.add(key)
    return tuple(attributes)


def check_approver(author_id: int | None, approver_id: int | None) -> None:
    """Four eyes: who drafted a specification does not approve it."""
    if author_id is not None and author_id == approver_id:
        raise Conflict(
            "you drafted this specification: another member of QA approves it", "approver"
        )


# --- results and the state of an attribute ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultFacts:
    """What the state of an attribute needs to know of one of its results (oldest first)."""

    kind: ResultKind
    verdict: Verdict
    invalidated: bool


def line_state(results: Sequence[ResultFacts]) -> str:
    """The state of one attribute of a batch from its results, oldest first.

    The latest valid final result decides (in specification / oos). Without one: the latest
    valid interim result ("negative to date", or "oos" when it is already positive); a result
    that was invalidated and not yet replaced leaves "invalidated"; nothing yet is "pending".
    """
    valid = [r for r in results if not r.invalidated]
    finals = [r for r in valid if r.kind is ResultKind.FINAL]
    if finals:
        return finals[-1].verdict.value
    interims = [r for r in valid if r.kind is ResultKind.INTERIM]
    if interims:
        last = interims[-1].verdict
        return "oos" if last is Verdict.INTERIM_POSITIVE else Verdict.NEGATIVE_TO_DATE.value
    if results:
        return "invalidated"
    return "pending"


def check_reviewer(
    analyst_id: int | None, entered_by_id: int | None, reviewer_id: int | None
) -> None:
    """Second-person review: the analyst who did (or entered) the test does not review it."""
    if reviewer_id is not None and reviewer_id in (analyst_id, entered_by_id):
        raise Conflict(
            "you performed or entered this result: a second analyst reviews it", "reviewer"
        )


# --- OOS investigations -----------------------------------------------------------------------


class OosPhase(enum.Enum):
    """Where an OOS investigation is."""

    PHASE_I = "phase_i"  # the laboratory: error? assignable cause? retest allowed?
    PHASE_II = "phase_ii"  # manufacturing: no laboratory cause, the batch is investigated
    CONCLUDED = "concluded"  # QA's signed conclusion

    @property
    def label(self) -> str:
        """As pages say it."""
        return {
            OosPhase.PHASE_I: "phase I (laboratory)",
            OosPhase.PHASE_II: "phase II (manufacturing)",
            OosPhase.CONCLUDED: "concluded",
        }[self]


class OosConclusion(enum.Enum):
    """What an investigation concluded."""

    CONFIRMED = "confirmed"  # the batch is out of specification
    INVALIDATED = "invalidated"  # a laboratory error: the result was invalidated, retest rules

    @property
    def label(self) -> str:
        """As pages say it."""
        return {
            OosConclusion.CONFIRMED: "OOS confirmed",
            OosConclusion.INVALIDATED: "result invalidated (laboratory error)",
        }[self]


def phase_after_lab_review(lab_error: bool) -> OosPhase:
    """Phase I ends: a laboratory error stays in phase I until QA invalidates the result and
    concludes; no laboratory error moves the investigation to manufacturing (phase II)."""
    return OosPhase.PHASE_I if lab_error else OosPhase.PHASE_II


def check_phase(phase: OosPhase, allowed: Sequence[OosPhase], doing: str, ident: int) -> None:
    """Refuse a step of the investigation that its phase does not allow."""
    if phase not in allowed:
        raise Conflict(f"OOS investigation {ident} is in {phase.label}: it cannot {doing}", "phase")


def check_conclusion(
    conclusion: OosConclusion, *, lab_error: bool | None, result_invalidated: bool
) -> None:
    """A conclusion must fit the findings: 'invalidated' needs a laboratory error found in phase I
    and the result invalidated by QA's signature; 'confirmed' cannot stand on an invalidated
    result."""
    if conclusion is OosConclusion.INVALIDATED:
        if not lab_error:
            raise InvalidInput(
                "phase I found no laboratory error: the result stands, conclude 'confirmed'",
                "conclusion",
            )
        if not result_invalidated:
            raise InvalidInput(
                "invalidate the result (QA's signature and its cause) before concluding",
                "conclusion",
            )
    elif result_invalidated:
        raise InvalidInput(
            "the result was invalidated: the investigation cannot confirm it", "conclusion"
        )


def check_retest(*, standing_oos: bool) -> None:
    """Retest rule: once a final result of the attribute is out of specification, a new final
    result may be entered only after the OOS one was invalidated for an assignable laboratory
    cause (QA's signature): testing into compliance is refused, whatever the investigation's
    phase."""
    if standing_oos:
        raise Conflict(
            "this attribute has an out-of-specification result that stands: a retest needs an "
            "assignable laboratory cause found in phase I and QA's invalidation of that result",
            "attribute",
        )
