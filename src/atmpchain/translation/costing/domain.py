"""Cost of goods per batch: the model, its scenarios and its sensitivity.

Pure rules over Decimal (money is never a float). The model follows the costing framework for
academic cell therapies (Cytotherapy 2020: steps x categories) as the domain file sums it up:
materials (quantity x price) + QC tests (in-house and outsourced) + labour hours x rate
(production, QC, QA/QP) + facility (cleanroom cost per hour, or per m2 per year divided by the
batches per year) + equipment depreciation + environmental monitoring + the share of failed
batches. Batches per year is always an explicit input: it sets the fixed-cost share.

Rounding: every category is computed exactly and then rounded to the cent (half up); the batch
cost is the sum of the rounded categories; the cost per released batch is the batch cost divided
by the success rate (1 - failure rate), rounded to the cent; the failed-batch share is the
difference. A hand computation that follows these three sentences gives the same cents.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from atmpchain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")
MAX_LINES = 200
MAX_BATCHES_PER_YEAR = 10_000
CURRENCIES = ("EUR", "USD", "GBP", "SEK", "CHF", "DKK", "NOK")


class Category(enum.Enum):
    """Where a batch's money goes."""

    MATERIALS = "materials"
    QC_IN_HOUSE = "qc_in_house"
    QC_OUTSOURCED = "qc_outsourced"
    LABOUR_PRODUCTION = "labour_production"
    LABOUR_QC = "labour_qc"
    LABOUR_QA_QP = "labour_qa_qp"
    FACILITY = "facility"
    EQUIPMENT = "equipment"
    ENVIRONMENTAL_MONITORING = "environmental_monitoring"

    @property
    def label(self) -> str:
        """The category as people say it."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    Category.MATERIALS: "Materials",
    Category.QC_IN_HOUSE: "QC tests in-house",
    Category.QC_OUTSOURCED: "QC tests outsourced",
    Category.LABOUR_PRODUCTION: "Labour: production",
    Category.LABOUR_QC: "Labour: QC",
    Category.LABOUR_QA_QP: "Labour: QA/QP",
    Category.FACILITY: "Facility",
    Category.EQUIPMENT: "Equipment depreciation",
    Category.ENVIRONMENTAL_MONITORING: "Environmental monitoring",
}


class LabourRole(enum.Enum):
    """Who spends the hours."""

    PRODUCTION = "production"
    QC = "qc"
    QA_QP = "qa_qp"


_LABOUR_CATEGORY = {
    LabourRole.PRODUCTION: Category.LABOUR_PRODUCTION,
    LabourRole.QC: Category.LABOUR_QC,
    LabourRole.QA_QP: Category.LABOUR_QA_QP,
}


class FacilityBasis(enum.Enum):
    """How the cleanroom is charged: by the hour of use, or by its area per year."""

    PER_HOUR = "per_hour"
    PER_AREA = "per_area"


@dataclass(frozen=True, slots=True)
class MaterialLine:
    """A material used per batch: quantity x unit price."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    supplier: str = ""


@dataclass(frozen=True, slots=True)
class QcTestLine:
    """A QC test per batch: how many, the price of one, and where it is done."""

    name: str
    count: Decimal
    price: Decimal
    outsourced: bool = False


@dataclass(frozen=True, slots=True)
class LabourLine:
    """Hours per batch of one role at its hourly rate."""

    role: LabourRole
    hours: Decimal
    rate: Decimal


@dataclass(frozen=True, slots=True)
class EquipmentLine:
    """Equipment written off over its life; `share` is the part of its use that this process
    takes (1: used for nothing else)."""

    name: str
    price: Decimal
    life_years: Decimal
    share: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class CostInputs:
    """Everything a per-batch cost model needs."""

    batches_per_year: int
    materials: tuple[MaterialLine, ...] = ()
    qc_tests: tuple[QcTestLine, ...] = ()
    labour: tuple[LabourLine, ...] = ()
    facility_basis: FacilityBasis = FacilityBasis.PER_HOUR
    #: PER_HOUR: cleanroom hours per batch x cost per hour.
    cleanroom_hours: Decimal = Decimal(0)
    cleanroom_rate: Decimal = Decimal(0)
    #: PER_AREA: area x cost per m2 per year, shared over the batches of the year.
    area_m2: Decimal = Decimal(0)
    cost_per_m2_year: Decimal = Decimal(0)
    equipment: tuple[EquipmentLine, ...] = ()
    #: Environmental monitoring during the batch (plates, particle counts) ...
    em_per_batch: Decimal = Decimal(0)
    #: ... and the routine programme of the year, shared over its batches.
    em_per_year: Decimal = Decimal(0)
    #: The share of batches that fail (0 .. <1): their cost is carried by those released.
    failure_rate: Decimal = Decimal(0)
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class CostLine:
    """One category of the breakdown, rounded to the cent, and whether it is fixed (does not
    grow with the batches made: it is shared over the batches per year)."""

    category: Category
    amount: Decimal
    fixed: Decimal


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The cost of one batch and of one released batch."""

    lines: tuple[CostLine, ...]
    batch_cost: Decimal
    fixed_cost: Decimal
    failed_batch_share: Decimal
    per_released_batch: Decimal
    batches_per_year: int
    currency: str

    @property
    def variable_cost(self) -> Decimal:
        """The part of a batch's cost that each batch brings with it."""
        return self.batch_cost - self.fixed_cost

    @property
    def fixed_share(self) -> Decimal:
        """The fixed part of a batch's cost, as a fraction of it."""
        return (self.fixed_cost / self.batch_cost) if self.batch_cost else Decimal(0)

    def amount(self, category: Category) -> Decimal:
        """A category's rounded amount."""
        return next(line.amount for line in self.lines if line.category is category)


def cents(value: Decimal) -> Decimal:
    """Money rounded to the cent, half up (as on an invoice)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute(inputs: CostInputs) -> CostBreakdown:
    """The per-batch cost of goods, category by category."""
    per_year = Decimal(inputs.batches_per_year)
    exact: dict[Category, tuple[Decimal, Decimal]] = {c: (Decimal(0), Decimal(0)) for c in Category}

    def add(category: Category, amount: Decimal, *, fixed: bool = False) -> None:
        total, fixed_part = exact[category]
        exact[category] = (total + amount, fixed_part + (amount if fixed else Decimal(0)))

    for m in inputs.materials:
        add(Category.MATERIALS, m.quantity * m.unit_price)
    for t in inputs.qc_tests:
        add(Category.QC_OUTSOURCED if t.outsourced else Category.QC_IN_HOUSE, t.count * t.price)
    for work in inputs.labour:
        add(_LABOUR_CATEGORY[work.role], work.hours * work.rate)
    if inputs.facility_basis is FacilityBasis.PER_HOUR:
        add(Category.FACILITY, inputs.cleanroom_hours * inputs.cleanroom_rate)
    else:
        add(Category.FACILITY, inputs.area_m2 * inputs.cost_per_m2_year / per_year, fixed=True)
    for e in inputs.equipment:
        add(Category.EQUIPMENT, e.price * e.share / e.life_years / per_year, fixed=True)
    add(Category.ENVIRONMENTAL_MONITORING, inputs.em_per_batch)
    add(Category.ENVIRONMENTAL_MONITORING, inputs.em_per_year / per_year, fixed=True)
    lines = tuple(CostLine(c, cents(total), cents(fixed)) for c, (total, fixed) in exact.items())
    batch_cost = sum((line.amount for line in lines), Decimal(0))
    fixed_cost = sum((line.fixed for line in lines), Decimal(0))
    per_released = cents(batch_cost / (Decimal(1) - inputs.failure_rate))
    return CostBreakdown(
        lines=lines,
        batch_cost=batch_cost,
        fixed_cost=fixed_cost,
        failed_batch_share=per_released - batch_cost,
        per_released_batch=per_released,
        batches_per_year=inputs.batches_per_year,
        currency=inputs.currency,
    )


# --- Reading a model from a document (JSON body, CSV-free CLI file, stored scenario) ---------


def money(value: object, field: str, *, positive: bool = False) -> Decimal:
    """A non-negative amount (or quantity) as Decimal: strings or numbers, never NaN."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field} '{value}' is not a number", field) from None
    if not number.is_finite() or number < 0 or number >= MAX_AMOUNT:
        raise InvalidInput(f"{field} must be a number from 0 to below {MAX_AMOUNT:,}", field)
    if positive and number == 0:
        raise InvalidInput(f"{field} must be above 0", field)
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise InvalidInput(f"{field} has more than 6 decimal places", field)
    return number


def _text(value: object, field: str, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field)
    if len(text) > 200:
        raise InvalidInput(f"{field} must be at most 200 characters", field)
    return text


def _lines(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InvalidInput(f"{key} must be a list of objects", key)
    if len(value) > MAX_LINES:
        raise InvalidInput(f"{key}: at most {MAX_LINES} lines", key)
    return value


_KNOWN = {
    "batches_per_year", "materials", "qc_tests", "labour", "facility_basis", "cleanroom_hours",
    "cleanroom_rate", "area_m2", "cost_per_m2_year", "equipment", "em_per_batch", "em_per_year",
    "failure_rate", "currency",
}  # fmt: skip


def inputs_from_dict(data: Mapping[str, Any]) -> CostInputs:
    """A cost model from its document; every error names its field (materials[2].unit_price)."""
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", unknown[0])
    batches = data.get("batches_per_year")
    if (
        not isinstance(batches, int)
        or isinstance(batches, bool)
        or not (1 <= batches <= MAX_BATCHES_PER_YEAR)
    ):
        raise InvalidInput(
            f"batches_per_year must be a whole number from 1 to {MAX_BATCHES_PER_YEAR} (it sets "
            "the fixed-cost share of each batch)",
            "batches_per_year",
        )
    try:
        basis = FacilityBasis(data.get("facility_basis", FacilityBasis.PER_HOUR.value))
    except ValueError:
        raise InvalidInput(
            "facility_basis must be per_hour or per_area", "facility_basis"
        ) from None
    try:
        currency = str(data.get("currency", "EUR")).upper()
        if currency not in CURRENCIES:
            raise ValueError
    except ValueError:
        raise InvalidInput(f"currency must be one of {', '.join(CURRENCIES)}", "currency") from None
    failure = money(data.get("failure_rate", 0), "failure_rate")
    if failure >= 1:
        raise InvalidInput("failure_rate is a share from 0 to below 1 (0.05 = 5 %)", "failure_rate")
    materials = tuple(
        MaterialLine(
            name=_text(m.get("name"), f"materials[{i}].name"),
            quantity=money(m.get("quantity"), f"materials[{i}].quantity"),
            unit_price=money(m.get("unit_price"), f"materials[{i}].unit_price"),
            supplier=_text(m.get("supplier"), f"materials[{i}].supplier", required=False),
        )
        for i, m in enumerate(_lines(data, "materials"))
    )
    qc = tuple(
        QcTestLine(
            name=_text(t.get("name"), f"qc_tests[{i}].name"),
            count=money(t.get("count", 1), f"qc_tests[{i}].count"),
            price=money(t.get("price"), f"qc_tests[{i}].price"),
            outsourced=bool(t.get("outsourced", False)),
        )
        for i, t in enumerate(_lines(data, "qc_tests"))
    )
    labour = []
    for i, w in enumerate(_lines(data, "labour")):
        try:
            role = LabourRole(w.get("role"))
        except ValueError:
            raise InvalidInput(
                f"labour[{i}].role must be production, qc or qa_qp", f"labour[{i}].role"
            ) from None
        labour.append(
            LabourLine(
                role,
                money(w.get("hours"), f"labour[{i}].hours"),
                money(w.get("rate"), f"labour[{i}].rate"),
            )
        )
    equipment = []
    for i, e in enumerate(_lines(data, "equipment")):
        share = money(e.get("share", 1), f"equipment[{i}].share", positive=True)
        if share > 1:
            raise InvalidInput(
                f"equipment[{i}].share is a share from above 0 to 1", f"equipment[{i}].share"
            )
        equipment.append(
            EquipmentLine(
                _text(e.get("name"), f"equipment[{i}].name"),
                money(e.get("price"), f"equipment[{i}].price"),
                money(e.get("life_years"), f"equipment[{i}].life_years", positive=True),
                share,
            )
        )
    return CostInputs(
        batches_per_year=batches,
        materials=materials,
        qc_tests=qc,
        labour=tuple(labour),
        facility_basis=basis,
        cleanroom_hours=money(data.get("cleanroom_hours", 0), "cleanroom_hours"),
        cleanroom_rate=money(data.get("cleanroom_rate", 0), "cleanroom_rate"),
        area_m2=money(data.get("area_m2", 0), "area_m2"),
        cost_per_m2_year=money(data.get("cost_per_m2_year", 0), "cost_per_m2_year"),
        equipment=tuple(equipment),
        em_per_batch=money(data.get("em_per_batch", 0), "em_per_batch"),
        em_per_year=money(data.get("em_per_year", 0), "em_per_year"),
        failure_rate=failure,
        currency=currency,
    )


def inputs_to_dict(inputs: CostInputs) -> dict[str, Any]:
    """The model as a document (amounts as strings: JSON has no decimals)."""
    return {
        "batches_per_year": inputs.batches_per_year,
        "currency": inputs.currency,
        "materials": [
            {"name": m.name, "quantity": str(m.quantity), "unit_price": str(m.unit_price),
             "supplier": m.supplier}
            for m in inputs.materials
        ],
        "qc_tests": [
            {"name": t.name, "count": str(t.count), "price": str(t.price),
             "outsourced": t.outsourced}
            for t in inputs.qc_tests
        ],
        "labour": [
            {"role": w.role.value, "hours": str(w.hours), "rate": str(w.rate)}
            for w in inputs.labour
        ],
        "facility_basis": inputs.facility_basis.value,
        "cleanroom_hours": str(inputs.cleanroom_hours),
        "cleanroom_rate": str(inputs.cleanroom_rate),
        "area_m2": str(inputs.area_m2),
        "cost_per_m2_year": str(inputs.cost_per_m2_year),
        "equipment": [
            {"name": e.name, "price": str(e.price), "life_years": str(e.life_years),
             "share": str(e.share)}
            for e in inputs.equipment
        ],
        "em_per_batch": str(inputs.em_per_batch),
        "em_per_year": str(inputs.em_per_year),
        "failure_rate": str(inputs.failure_rate),
    }  # fmt: skip


# --- Sensitivity (tornado) -------------------------------------------------------------------

DEFAULT_SWING = Decimal("0.2")


def _drivers() -> dict[str, Callable[[CostInputs, Decimal], CostInputs]]:
    """Each driver scales one group of inputs by a factor."""

    def materials(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(
            i, materials=tuple(replace(m, unit_price=m.unit_price * f) for m in i.materials)
        )

    def qc(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, qc_tests=tuple(replace(t, price=t.price * f) for t in i.qc_tests))

    def rates(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, labour=tuple(replace(w, rate=w.rate * f) for w in i.labour))

    def hours(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, labour=tuple(replace(w, hours=w.hours * f) for w in i.labour))

    def facility(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(
            i, cleanroom_rate=i.cleanroom_rate * f, cost_per_m2_year=i.cost_per_m2_year * f
        )

    def equipment(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, equipment=tuple(replace(e, price=e.price * f) for e in i.equipment))

    def em(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, em_per_batch=i.em_per_batch * f, em_per_year=i.em_per_year * f)

    def failures(i: CostInputs, f: Decimal) -> CostInputs:
        return replace(i, failure_rate=min(i.failure_rate * f, Decimal("0.99")))

    def batches(i: CostInputs, f: Decimal) -> CostInputs:
        scaled = int((Decimal(i.batches_per_year) * f).to_integral_value(ROUND_HALF_UP))
        return replace(i, batches_per_year=max(1, scaled))

    return {
        "Material prices": materials,
        "QC test prices": qc,
        "Labour rates": rates,
        "Labour hours": hours,
        "Facility cost": facility,
        "Equipment prices": equipment,
        "Environmental monitoring": em,
        "Failure rate": failures,
        "Batches per year": batches,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class TornadoBar:
    """The cost per released batch with one driver lowered and raised by the swing."""

    driver: str
    low: Decimal
    high: Decimal

    @property
    def width(self) -> Decimal:
        """How far the cost moves between the two ends."""
        return abs(self.high - self.low)


def sensitivity(inputs: CostInputs, swing: Decimal = DEFAULT_SWING) -> tuple[TornadoBar, ...]:
    """One-at-a-time sensitivity: each driver at (1 - swing) and (1 + swing), widest first."""
    if not Decimal(0) < swing < Decimal(1):
        raise InvalidInput("swing must be between 0 and 1 (0.2 = plus or minus 20 %)", "swing")
    bars = [
        TornadoBar(
            driver=name,
            low=compute(change(inputs, 1 - swing)).per_released_batch,
            high=compute(change(inputs, 1 + swing)).per_released_batch,
        )
        for name, change in _drivers().items()
    ]
    return tuple(sorted(bars, key=lambda b: (-b.width, b.driver)))


def compare(scenarios: Sequence[tuple[str, CostInputs]]) -> tuple[tuple[str, CostBreakdown], ...]:
    """Scenarios side by side, in the order given."""
    return tuple((name, compute(inputs)) for name, inputs in scenarios)
