"""Equipment as pure values and rules: classes, qualification, calibration and maintenance.

No database, no framework. `usability_problem` is the one rule that decides whether a piece of
equipment may be used in a batch step on a given day.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from atmpchain.errors import InvalidInput


class EquipmentClass(enum.Enum):
    """Kinds of critical equipment; a batch step names the class it needs."""

    CLOSED_PROCESSING_DEVICE = "closed-processing-device"
    BIOSAFETY_CABINET = "biosafety-cabinet"
    INCUBATOR = "incubator"
    CENTRIFUGE = "centrifuge"
    FREEZER = "freezer"
    CONTROLLED_RATE_FREEZER = "controlled-rate-freezer"
    CELL_COUNTER = "cell-counter"
    TUBE_SEALER = "tube-sealer"

    @property
    def label(self) -> str:
        """The class as people say it."""
        return self.value.replace("-", " ")


class QualificationStatus(enum.Enum):
    """Whether the equipment is qualified for GMP use (IQ/OQ/PQ done and in force)."""

    NOT_QUALIFIED = "not-qualified"
    QUALIFIED = "qualified"
    WITHDRAWN = "withdrawn"


class EventKind(enum.Enum):
    """A signed service record on a piece of equipment."""

    QUALIFICATION = "qualification"
    CALIBRATION = "calibration"
    MAINTENANCE = "maintenance"
    WITHDRAWAL = "withdrawal"


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")


def parse_equipment_code(value: str, *, field: str = "equipment_code") -> str:
    """An equipment identity code: 2-24 capitals, digits or '-' (EQ-PRODIGY-01)."""
    code = value.strip().upper()
    if code.startswith("EQ:"):
        code = code[3:]
    if not _CODE.match(code):
        raise InvalidInput(
            f"'{value[:40]}' is not an equipment code (2 to 24 letters, digits or '-')",
            field=field,
        )
    return code


def equipment_label(code: str) -> str:
    """What an equipment label's barcode carries: `EQ:` and the code, so that a scan of a
    material lot or a location can never be taken for a device."""
    return f"EQ:{code}"


def parse_class(value: str) -> EquipmentClass:
    """An equipment class from its value."""
    try:
        return EquipmentClass(value.strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in EquipmentClass)
        raise InvalidInput(
            f"'{value}' is not an equipment class; the classes are: {known}",
            field="equipment_class",
        ) from None


def check_interval(days: int | None, *, field: str) -> int | None:
    """A calibration or maintenance interval: 1 to 1830 days, or none."""
    if days is not None and not 1 <= days <= 1830:
        raise InvalidInput("the interval must be 1 to 1830 days", field=field)
    return days


@dataclass(frozen=True, slots=True)
class EquipmentState:
    """What the usability rule and the service records need about a piece of equipment."""

    code: str
    equipment_class: EquipmentClass
    status: QualificationStatus
    calibration_due: date | None
    maintenance_due: date | None
    calibration_interval_days: int | None
    maintenance_interval_days: int | None


def usability_problem(
    state: EquipmentState, *, on: date, required_class: str | None = None
) -> str | None:
    """The first reason the equipment may not be used on `on`, or None.

    A due date is the last day of use: calibration due on the 10th is overdue from the 11th.
    """
    code = state.code
    if state.status is QualificationStatus.NOT_QUALIFIED:
        return f"equipment {code} is not qualified"
    if state.status is QualificationStatus.WITHDRAWN:
        return f"equipment {code}: qualification withdrawn"
    # A class as its value ("biosafety-cabinet"); "biosafety_cabinet" means the same.
    wanted = None if required_class is None else required_class.strip().lower().replace("_", "-")
    if wanted is not None and state.equipment_class.value != wanted:
        return f"equipment {code} is a {state.equipment_class.label}: class {wanted} needed"
    if state.calibration_due is not None and state.calibration_due < on:
        return f"equipment {code}: calibration overdue since {state.calibration_due.isoformat()}"
    if state.maintenance_due is not None and state.maintenance_due < on:
        return f"equipment {code}: maintenance overdue since {state.maintenance_due.isoformat()}"
    return None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What a service record changes: the new status and due dates."""

    status: QualificationStatus
    calibration_due: date | None
    maintenance_due: date | None


def apply_event(
    state: EquipmentState,
    *,
    kind: EventKind,
    passed: bool,
    performed_on: date,
    next_due: date | None = None,
) -> EventOutcome:
    """The equipment's status and due dates after a service record.

    A passed qualification puts the equipment in use; a failed one leaves it not qualified. A
    passed calibration or maintenance sets the next due date (`next_due`, or the performed day
    plus the equipment's interval); a failed one withdraws the qualification until the
    equipment is requalified (it may have been out of tolerance since its last good check).
    """
    status, calibration_due, maintenance_due = (
        state.status,
        state.calibration_due,
        state.maintenance_due,
    )
    if next_due is not None and next_due <= performed_on:
        raise InvalidInput("the next due date must be after the day performed", field="next_due")
    if kind is EventKind.WITHDRAWAL:
        if state.status is QualificationStatus.WITHDRAWN:
            raise InvalidInput(
                f"the qualification of {state.code} is already withdrawn", field="kind"
            )
        return EventOutcome(QualificationStatus.WITHDRAWN, calibration_due, maintenance_due)
    if kind is EventKind.QUALIFICATION:
        status = QualificationStatus.QUALIFIED if passed else QualificationStatus.NOT_QUALIFIED
        return EventOutcome(status, calibration_due, maintenance_due)
    if not passed:
        return EventOutcome(QualificationStatus.WITHDRAWN, calibration_due, maintenance_due)
    interval = (
        state.calibration_interval_days
        if kind is EventKind.CALIBRATION
        else state.maintenance_interval_days
    )
    due = next_due
    if due is None:
        if interval is None:
            raise InvalidInput(
                f"{state.code} has no {kind.value} interval: give the next due date",
                field="next_due",
            )
        due = performed_on + timedelta(days=interval)
    if kind is EventKind.CALIBRATION:
        calibration_due = due
    else:
        maintenance_due = due
    return EventOutcome(status, calibration_due, maintenance_due)


class DueState(enum.Enum):
    """A due date as the equipment list shows it."""

    OVERDUE = "overdue"
    DUE_SOON = "due-soon"
    OK = "ok"
    NONE = "none"


def due_state(due: date | None, *, on: date, within_days: int = 14) -> DueState:
    """Overdue after its due day; due soon within `within_days`."""
    if due is None:
        return DueState.NONE
    if due < on:
        return DueState.OVERDUE
    if due <= on + timedelta(days=within_days):
        return DueState.DUE_SOON
    return DueState.OK
