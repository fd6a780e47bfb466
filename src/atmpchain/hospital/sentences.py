"""A dose's record in sentences an inspector reads (issue 10 item 9).

The page's timeline, its JSON and the printed dose record say each step as "who did what, to
which bag, where, and why", with the signature's meaning, instead of a `key: value` dump of the
step's stored detail (which stays in the database and the audit trail, unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from atmpchain.coldchain.domain import format_celsius
from atmpchain.custody.control_rules import ActiveHold
from atmpchain.hospital.domain import DoseStep
from atmpchain.hospital.flags import FlagView
from atmpchain.hospital.queries import DoseEventView, ExposureView, ShipperLogView

When = Callable[[datetime | None], str]

#: What each step is, as a verb phrase after the person's name.
STEP_PHRASES: dict[DoseStep, str] = {
    DoseStep.ORDERED: "ordered the dose",
    DoseStep.APPROVED: "checked and approved the order",
    DoseStep.APPOINTMENT_MOVED: "moved the infusion appointment",
    DoseStep.EXPECTED_DIN_SET: "recorded the DIN announced by the manufacturer",
    DoseStep.RECEIVED: "received the bag at the pharmacy",
    DoseStep.QUARANTINED: "put the product on hold for QA",
    DoseStep.RELEASED_BY_QA: "released the product from QA's hold",
    DoseStep.REJECTED_BY_QA: "rejected the product",
    DoseStep.STORED: "put the bag away into the cryostore",
    DoseStep.RETRIEVED: "took the bag out of the cryostore",
    DoseStep.THAW_STARTED: "started the thaw",
    DoseStep.THAW_ENDED: "ended the thaw",
    DoseStep.PREPARATION: "recorded a preparation step",
    DoseStep.CHECK_CONFIRMED: "confirmed a pre-infusion check",
    DoseStep.ISSUED: "issued the dose to the ward",
    DoseStep.RECEIVED_AT_WARD: "received the bag on the ward",
    DoseStep.BEDSIDE_CHECKED: "checked wristband and bag at the bedside",
    DoseStep.INFUSION_STARTED: "started the infusion",
    DoseStep.INFUSION_ENDED: "ended the infusion",
    DoseStep.LIMIT_OVERRIDDEN: "overrode the thaw-to-infusion limit (a deviation)",
    DoseStep.WINDOW_MISSED: "recorded that the thaw-to-infusion limit passed before infusion",
    DoseStep.CANCELLED: "cancelled the dose",
}


def _text(value: Any) -> str:
    """The value on one line, without a closing full stop (the sentence adds its own)."""
    return " ".join(str(value).split()).rstrip(".")


def _details(step: DoseStep, d: dict[str, Any], when: When) -> list[str]:
    """The facts of a step worth a sentence, in words."""
    out: list[str] = []
    if step is DoseStep.RECEIVED:
        facts = [f"DIN {d['din']}" if d.get("din") else ""]
        facts.append(f"batch {_text(d['batch_number'])}" if d.get("batch_number") else "")
        if any(facts):
            out.append("The bag: " + ", ".join(f for f in facts if f) + ".")
        if d.get("from"):
            out.append(f"It came from {_text(d['from'])}.")
        if d.get("readings") is not None:
            out_of = d.get("out_of_range") or 0
            out.append(
                f"The shipper's log had {d['readings']} readings, "
                + (f"{out_of} of them out of range." if out_of else "none out of range.")
            )
        elif d.get("shipper_log"):
            out.append(f"The shipper's log was marked: {_text(d['shipper_log'])}.")
        if d.get("condition_ok") is False:
            out.append("The shipment was damaged or doubtful.")
    elif step in (DoseStep.STORED, DoseStep.RETRIEVED):
        place = d.get("where") or d.get("from")
        if place:
            out.append(f"{'Into' if step is DoseStep.STORED else 'From'} {_text(place)}.")
    elif step is DoseStep.CHECK_CONFIRMED and d.get("text"):
        out.append(f"Check {d.get('check', '')}: {_text(d['text'])}.")
    elif step is DoseStep.PREPARATION and d.get("step_text"):
        out.append(f"Step: {_text(d['step_text'])}.")
    elif step is DoseStep.ISSUED:
        to = d.get("to_username") or d.get("handed_to")
        if to:
            out.append(f"Handed to {_text(to)} for {_text(d.get('ward', 'the ward'))}.")
    elif step is DoseStep.EXPECTED_DIN_SET and d.get("expected_din"):
        replaces = f", replacing {d['replaces']}" if d.get("replaces") else ""
        out.append(f"DIN {d['expected_din']}{replaces}.")
    elif step is DoseStep.APPOINTMENT_MOVED and d.get("appointment_at"):
        out.append(f"New appointment {when(_moment(d['appointment_at']))}.")
    elif step in (DoseStep.QUARANTINED, DoseStep.RELEASED_BY_QA, DoseStep.REJECTED_BY_QA):
        if d.get("hold"):
            out.append(f"The hold: {_text(d['hold'])}.")
    elif step is DoseStep.THAW_STARTED and d.get("infusion_must_start_by"):
        out.append(f"The infusion had to start by {when(_moment(d['infusion_must_start_by']))}.")
    return out


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def step_sentence(event: DoseEventView, when: When) -> str:
    """One dose step as sentences: who did what, the facts, the signature and the reason."""
    parts = [f"{event.actor} {STEP_PHRASES[event.step]}."]
    parts += _details(event.step, event.detail, when)
    if event.signed_by:
        parts.append(f"Signed by {event.signed_by} ({event.meaning}) at {when(event.signed_at)}.")
    if event.note:
        parts.append(f"Reason given: {_text(event.note)}.")
    return " ".join(parts)


def flag_sentence(flag: FlagView) -> str:
    """A flag for QA (an identity STOP, an override, an early retrieval...) as a sentence."""
    label = flag.label if flag.label.startswith("STOP") else f"Flag for QA, {flag.label.lower()}"
    return f"{label}, raised by {flag.actor}: {_text(flag.reason)}."


def hold_sentence(hold: ActiveHold, when: When) -> str:
    """An open custody hold on the bag: why, since when, what it waits for and who placed it."""
    return (
        f"The bag is {hold.kind.label} since {when(hold.since)}: {_text(hold.reason)}. "
        f"It waits for {hold.waits_for}. Placed by {hold.placed_by}."
    )


def log_sentence(log: ShipperLogView, when: When) -> str:
    """The shipper's log in a sentence."""
    seen = (
        f", from {format_celsius(log.lowest_c)} to {format_celsius(log.highest_c)}"
        if log.lowest_c is not None and log.highest_c is not None
        else ""
    )
    verdict = (
        "every reading inside the storage range"
        if not log.out_of_range and not log.refused_rows and log.readings
        else f"{log.out_of_range} readings out of range and {log.refused_rows} unreadable rows"
    )
    return (
        f"The shipper's log {log.filename} holds {log.readings} readings{seen}, taken "
        f"{when(log.first_at)} to {when(log.last_at)}: {verdict}. SHA-256 {log.sha256}."
    )


def exposure_sentence(x: ExposureView, when: When) -> str:
    """A storage excursion the product was inside for."""
    end = when(x.end_at) if x.end_at else "(still going on)"
    return (
        f"The product was in {x.storage_unit} during excursion #{x.excursion_id}, "
        f"{when(x.start_at)} to {end}, peaking at {format_celsius(Decimal(x.peak_c))}."
    )
