"""Materials as pure values and rules: grades, risk factors, lot status, usability, expiry.

No database, no framework. The rules here decide whether a lot may go into a batch step; the
service and `usage.py` apply them to stored rows.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from atmpchain.errors import InvalidInput


class Grade(enum.Enum):
    """The quality grade a supplier sells a material under. A GMP process names the grades each
    step accepts; research grade is for development, never for a patient's product by default."""

    RESEARCH = "research"
    GMP = "gmp"
    ANCILLARY_QUALIFIED = "ancillary-qualified"

    @property
    def label(self) -> str:
        """The grade as people say it."""
        return {
            Grade.RESEARCH: "research grade",
            Grade.GMP: "GMP grade",
            Grade.ANCILLARY_QUALIFIED: "ancillary material, qualified",
        }[self]


#: The grades a batch step accepts when its record names none: research grade is left out.
GMP_USABLE_GRADES = frozenset({Grade.GMP.value, Grade.ANCILLARY_QUALIFIED.value})


class RiskFactor(enum.Enum):
    """The risk factors of a material (EU GMP Part IV, starting and raw materials)."""

    TSE = "tse"
    VIRAL = "viral-cross-contamination"
    REPLICATION_COMPETENT_VIRUS = "replication-competent-virus"
    MYCOPLASMA_ENDOTOXIN = "mycoplasma-endotoxin"
    IMPURITIES = "impurities-carried-over"
    STERILITY = "sterility-claim"
    SHARED_EQUIPMENT = "shared-equipment-carry-over"

    @property
    def label(self) -> str:
        """The factor as a reviewer reads it."""
        return RISK_FACTOR_LABELS[self]


RISK_FACTOR_LABELS: dict[RiskFactor, str] = {
    RiskFactor.TSE: "TSE (animal origin)",
    RiskFactor.VIRAL: "viral and cross-contamination",
    RiskFactor.REPLICATION_COMPETENT_VIRUS: "replication-competent virus",
    RiskFactor.MYCOPLASMA_ENDOTOXIN: "mycoplasma and endotoxin",
    RiskFactor.IMPURITIES: "impurities carried over",
    RiskFactor.STERILITY: "sterility claim",
    RiskFactor.SHARED_EQUIPMENT: "carry-over from shared equipment",
}

#: Factors that reach the patient as an infectious agent: any one makes a material high risk.
#: The grouping is this facility's default (the source lists the factors, not the classes).
INFECTIOUS_FACTORS = frozenset(
    {RiskFactor.TSE, RiskFactor.VIRAL, RiskFactor.REPLICATION_COMPETENT_VIRUS}
)


class RiskClass(enum.Enum):
    """How much control a material needs on receipt, derived from its risk factors."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def risk_class(factors: Iterable[RiskFactor]) -> RiskClass:
    """High with any infectious factor, medium with any other factor, low with none."""
    present = frozenset(factors)
    if present & INFECTIOUS_FACTORS:
        return RiskClass.HIGH
    return RiskClass.MEDIUM if present else RiskClass.LOW


def parse_risk_factors(values: Iterable[str]) -> frozenset[RiskFactor]:
    """Risk factors from their values; an unknown value is refused, naming the known ones."""
    found: set[RiskFactor] = set()
    for value in values:
        text = value.strip().lower()
        if not text:
            continue
        try:
            found.add(RiskFactor(text))
        except ValueError:
            known = ", ".join(f.value for f in RiskFactor)
            raise InvalidInput(
                f"'{value}' is not a risk factor; the factors are: {known}", field="risk_factors"
            ) from None
    return frozenset(found)


def parse_grade(value: str) -> Grade:
    """A grade from its value."""
    try:
        return Grade(value.strip().lower())
    except ValueError:
        known = ", ".join(g.value for g in Grade)
        raise InvalidInput(f"'{value}' is not a grade; the grades are: {known}", "grade") from None


class LotStatus(enum.Enum):
    """Where a received lot is: quarantined until QA decides, then released or rejected."""

    QUARANTINED = "quarantined"
    RELEASED = "released"
    REJECTED = "rejected"


#: The units a lot is counted in. A step consumes in the lot's own unit: no conversions, so a
#: mistyped unit is refused instead of being silently scaled.
UNITS = ("mL", "L", "ug", "mg", "g", "IU", "vial", "bag", "kit", "each")

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")
_MAX_QUANTITY = Decimal("1000000000")


def clean_code(value: str, *, field: str) -> str:
    """An item or location code: 2-24 capitals, digits or '-', starting with a letter or digit."""
    code = value.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            f"'{value}' must be 2 to 24 letters, digits or '-', starting with a letter or digit",
            field=field,
        )
    return code


def clean_text(value: str | None, *, field: str, limit: int = 200, required: bool = True) -> str:
    """Single-spaced text of at most `limit` characters, without control characters."""
    text = " ".join((value or "").split())
    # Every control character (C0, DEL and C1 such as U+0080..U+009F): none belongs in a record.
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput("control characters are not allowed", field=field)
    if required and not text:
        raise InvalidInput("this must be filled in", field=field)
    if len(text) > limit:
        raise InvalidInput(f"at most {limit} characters", field=field)
    return text


def parse_unit(value: str, *, field: str = "unit") -> str:
    """A unit from the list, matched without regard to case (`ml` is `mL`)."""
    text = value.strip()
    for unit in UNITS:
        if unit.lower() == text.lower():
            return unit
    raise InvalidInput(f"'{value}' is not a unit; the units are: {', '.join(UNITS)}", field=field)


def parse_quantity(value: str | Decimal | int, *, field: str = "quantity") -> Decimal:
    """A positive quantity with at most three decimals, below one billion."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"'{value}' is not a number", field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"the quantity must be more than 0, not {value}", field=field)
    if amount >= _MAX_QUANTITY:
        raise InvalidInput("the quantity must be below one billion", field=field)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise InvalidInput("the quantity may have at most three decimals", field=field)
    return amount


def format_quantity(amount: Decimal) -> str:
    """A quantity without trailing zeros: 2.500 reads 2.5, 10.000 reads 10."""
    text = f"{amount.normalize():f}"
    return text


# --- lot codes -----------------------------------------------------------------------------

LOT_CODE_PREFIX = "ML"
_LOT_CODE = re.compile(r"^ML(\d{6})$")


def lot_code(number: int) -> str:
    """The scannable code of the n-th lot received: ML000042."""
    if not 1 <= number <= 999_999:
        raise InvalidInput("lot numbers run from 1 to 999999", field="lot_code")
    return f"{LOT_CODE_PREFIX}{number:06d}"


def parse_lot_code(value: str) -> str:
    """A scanned or typed lot code, upper-cased and stripped; refused if it is not one."""
    code = value.strip().upper()
    if not _LOT_CODE.match(code):
        raise InvalidInput(
            f"'{value[:40]}' is not a material lot code (ML and six digits, e.g. ML000042)",
            field="lot_code",
        )
    return code


# --- usability -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LotState:
    """What the usability rule needs to know about a lot."""

    lot_code: str
    status: LotStatus
    grade: str
    expires_on: date
    available: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a lot cannot be used: the field concerned and the rule, in words."""

    field: str
    message: str


def usability_problem(
    lot: LotState,
    *,
    quantity: Decimal,
    unit: str,
    on: date,
    required_grades: frozenset[str] | None = None,
) -> Refusal | None:
    """The first reason the lot cannot give `quantity` `unit` to a step on `on`, or None.

    The order matters to the operator: status first (a quarantined lot must go back to the
    store whatever else), then expiry, grade, unit and last the quantity left.
    """
    code = lot.lot_code
    if lot.status is LotStatus.QUARANTINED:
        return Refusal("lot_code", f"lot {code} is not released: it is still quarantined")
    if lot.status is LotStatus.REJECTED:
        return Refusal("lot_code", f"lot {code} is not released: QA rejected it")
    if lot.expires_on < on:
        return Refusal("lot_code", f"lot {code} expired on {lot.expires_on.isoformat()}")
    # Grades as their values ("ancillary-qualified"); "ancillary_qualified" or "GMP" mean the same.
    grades = (
        GMP_USABLE_GRADES
        if required_grades is None
        else frozenset(g.strip().lower().replace("_", "-") for g in required_grades)
    )
    if lot.grade not in grades:
        allowed = ", ".join(sorted(grades)) or "none"
        return Refusal(
            "lot_code", f"lot {code}: grade {lot.grade} not allowed in this step ({allowed})"
        )
    if unit != lot.unit:
        return Refusal("quantity", f"lot {code} is counted in {lot.unit}, not in {unit}")
    if quantity <= 0:
        return Refusal("quantity", "the quantity must be more than 0")
    if quantity > lot.available:
        return Refusal(
            "quantity",
            f"lot {code}: only {format_quantity(lot.available)} {lot.unit} left, "
            f"{format_quantity(quantity)} asked",
        )
    return None


# --- expiry ----------------------------------------------------------------------------------


class ExpiryState(enum.Enum):
    """A lot's expiry as the alert list shows it."""

    EXPIRED = "expired"
    EXPIRING = "expiring"
    OK = "ok"


def expiry_state(expires_on: date, *, on: date, within_days: int) -> ExpiryState:
    """Expired after its expiry day; expiring when it expires within `within_days` of `on`.

    A lot is usable on its expiry day itself (the date printed is the last day of use)."""
    if expires_on < on:
        return ExpiryState.EXPIRED
    if expires_on <= on + timedelta(days=within_days):
        return ExpiryState.EXPIRING
    return ExpiryState.OK


def check_alert_days(days: int) -> int:
    """The look-ahead of the expiry list: 0 to 366 days."""
    if not 0 <= days <= 366:
        raise InvalidInput("the look-ahead must be 0 to 366 days", field="days")
    return days


def check_received_lot(*, expires_on: date, received_on: date) -> None:
    """A lot that is already expired on arrival is refused at receipt."""
    if expires_on < received_on:
        raise InvalidInput(
            f"the lot expired on {expires_on.isoformat()}, before it was received",
            field="expires_on",
        )
