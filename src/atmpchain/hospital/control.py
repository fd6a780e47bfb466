"""A dose's control of its bag, and its holds, kept in custody with every step of the dose.

From receipt to the end of the infusion the dose alone moves its bag (custody refuses a plain scan
of it, naming the dose and its page); its own steps pass the dose as the controller. QA's hold
from receipt, a rejection and a missed window stop the bag from being handed on, and show on the
custody pages as holds. `follow` runs inside every recorded step (`common.record_step`), so the
custody records change in the same transaction as the dose and cannot drift from it.
"""

from __future__ import annotations

from atmpchain.accounts.domain import Actor
from atmpchain.custody import control
from atmpchain.custody.control_rules import Controller, HoldKind, HoldSpec
from atmpchain.hospital.domain import DoseStatus, DoseStep, dose_number
from atmpchain.hospital.models import Dose
from atmpchain.uow import UnitOfWork

#: The capability name under which doses control and hold their bags.
DOSE = "hospital.dose"
#: While a dose is in one of these, it moves its bag itself; in any other it no longer does
#: (infused: the bag is disposed of; rejected, cancelled: no step of the dose moves it any more,
#: so custody's own disposal or return must be possible). A missed window keeps control: the
#: thawed bag must not go back into the tank by a plain scan and be infused after an override;
#: its ways on are the physician's override or the dose's signed disposal (`disposal.py`).
CONTROLLING = frozenset(
    {
        DoseStatus.RECEIVED,
        DoseStatus.STORED,
        DoseStatus.RETRIEVED,
        DoseStatus.THAWING,
        DoseStatus.THAWED,
        DoseStatus.ISSUED,
        DoseStatus.INFUSING,
        DoseStatus.WINDOW_MISSED,
    }
)
#: The steps after which the bag is gone: the dose lets go of it and lifts its hold.
_BAG_GONE = frozenset({DoseStep.PRODUCT_DISPOSED})
#: The steps that end QA's hold from receipt (a release or a rejection).
_HOLD_DECIDED = frozenset({DoseStep.RELEASED_BY_QA, DoseStep.REJECTED_BY_QA})
DISPOSE_OR_RETURN = "disposal of the product, or its return to the manufacturer"


def controller(dose_id: int) -> Controller:
    """The dose as the controller of its bag: its steps pass this to custody."""
    return Controller(DOSE, str(dose_id))


def dose_page(dose_id: int) -> str:
    """Where the dose's steps are done."""
    return f"/hospital/doses/{dose_id}"


def wanted_hold(dose: Dose, step: DoseStep) -> HoldSpec | None:
    """The hold the dose puts on its bag after `step`, if any."""
    number = dose_number(dose.id)
    if step in _BAG_GONE:
        return None
    if dose.status is DoseStatus.REJECTED:
        return HoldSpec(HoldKind.REJECTED, f"rejected by QA (dose {number})", DISPOSE_OR_RETURN)
    if dose.status is DoseStatus.WINDOW_MISSED:
        return HoldSpec(
            HoldKind.EXPIRED,
            f"the thaw-to-infusion limit of dose {number} has passed",
            "a physician's override at the ward, or disposal",
        )
    # The release or rejection is recorded before the dose's hold text is cleared: the step says.
    if dose.hold and step not in _HOLD_DECIDED and dose.status is not DoseStatus.CANCELLED:
        return HoldSpec(
            HoldKind.QA_HOLD,
            f"on hold for QA since receipt: {dose.hold}",
            f"QA's release or rejection of dose {number}",
        )
    return None


def follow(uow: UnitOfWork, actor: Actor, dose: Dose, step: DoseStep) -> None:
    """After a step of the dose: place or end its control of the bag, place, change or lift its
    hold, so that custody says what the dose says."""
    unit_id = dose.product_unit_id
    if unit_id is None:
        return
    key = controller(dose.id)
    number = dose_number(dose.id)
    if dose.status in CONTROLLING and step not in _BAG_GONE:
        control.place_control(
            uow,
            actor=actor,
            unit_id=unit_id,
            controller=key,
            label=f"dose {number}",
            page=dose_page(dose.id),
        )
    else:
        control.end_control(
            uow,
            actor=actor,
            unit_id=unit_id,
            controller=key,
            reason=f"{step.label.lower()} (dose {number})"
            if step in _BAG_GONE
            else f"dose {number} is {dose.status.label}",
        )
    control.set_hold(
        uow,
        actor=actor,
        unit_id=unit_id,
        source=DOSE,
        reference=key.reference,
        hold=wanted_hold(dose, step),
        page=dose_page(dose.id),
        lift_reason=f"{step.label} (dose {number})",
    )
