"""The inspector's timeline: one chronological story per dose, per patient and per product unit
(issue 10 item 9).

Custody events, dose steps with their signatures, the shipper's log, storage excursions and QA's
impact assessments, identity STOPs and other flags, overrides, holds placed and lifted, and QA's
decisions: each with who, when and why, in time order, in sentences (`sentences`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.coldchain.assessment import unit_assessments
from atmpchain.custody import control
from atmpchain.custody import queries as custody_queries
from atmpchain.errors import NotFound
from atmpchain.hospital import queries
from atmpchain.hospital.domain import DoseStep, dose_number
from atmpchain.hospital.models import Dose, ShipperLog
from atmpchain.hospital.sentences import (
    When,
    exposure_sentence,
    flag_sentence,
    log_sentence,
    step_sentence,
)

#: The kinds of entry, as the page's legend and the API name them.
KINDS = {
    "dose-step": "dose step",
    "custody": "custody",
    "temperature": "temperature record",
    "excursion": "excursion",
    "stop": "STOP",
    "flag": "flag for QA",
    "override": "override",
    "hold": "hold placed",
    "hold-lifted": "hold lifted",
    "qa-decision": "QA decision",
}
_QA_STEPS = {DoseStep.QUARANTINED, DoseStep.RELEASED_BY_QA, DoseStep.REJECTED_BY_QA}


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One thing that happened: when, what kind, who, what (a sentence) and why."""

    at: datetime
    kind: str
    who: str
    what: str
    why: str | None
    dose: str | None
    source: str  # the record it comes from, for an inspector to look up

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"kind_label": self.kind_label}


@dataclass(frozen=True, slots=True)
class Timeline:
    """A titled timeline, oldest first."""

    title: str
    items: tuple[TimelineItem, ...]


def _unit_items(session: Session, unit_id: int, dose: str | None, when: When) -> list[TimelineItem]:
    """Custody events, holds, excursions and impact assessments of one product unit."""
    items: list[TimelineItem] = []
    chain = custody_queries.timeline(session, unit_id)
    for c in chain.events:
        items.append(
            TimelineItem(
                c.at,
                "custody",
                c.by,
                f"{c.by}: {c.kind.label} of unit {chain.unit.unit}, from {c.from_where} to "
                f"{c.to_where}.",
                c.note,
                dose,
                f"custody event {c.seq}",
            )
        )
    history = control.hold_history(session, unit_id)
    names = account_queries.full_names(
        session,
        {i for h in history for i in (h.placed_by_id, h.lifted_by_id) if i is not None},
    )
    for h in history:
        hold = h.hold
        items.append(
            TimelineItem(
                hold.since,
                "hold",
                names.get(h.placed_by_id or 0, "the system"),
                f"The bag was put {hold.kind.label}: {hold.reason}. It waits for {hold.waits_for}.",
                hold.reason,
                dose,
                f"custody hold {hold.hold_id}",
            )
        )
        if h.lifted_at is not None:
            items.append(
                TimelineItem(
                    h.lifted_at,
                    "hold-lifted",
                    names.get(h.lifted_by_id or 0, "the system"),
                    f"The hold ({hold.kind.label}) was lifted.",
                    h.lift_reason,
                    dose,
                    f"custody hold {hold.hold_id}",
                )
            )
    for excursion_id, decision in unit_assessments(session, unit_id):
        items.append(
            TimelineItem(
                decision.assessed_at,
                "qa-decision",
                decision.assessed_by,
                f"{decision.assessed_by} assessed the impact of excursion #{excursion_id} "
                f"({decision.excursion}) on the product: {decision.impact.label}; signed.",
                decision.rationale or None,
                dose,
                f"impact assessment, signature {decision.signature_id}",
            )
        )
    return items


def _dose_items(session: Session, record: queries.DoseRecord, when: When) -> list[TimelineItem]:
    number = record.line.number
    flagged = {f.event_seq: f for f in record.flags if f.event_seq is not None}
    items: list[TimelineItem] = []
    for e in record.events:
        kind = (
            "override"
            if e.step is DoseStep.LIMIT_OVERRIDDEN
            else "qa-decision"
            if e.step in _QA_STEPS
            else "dose-step"
        )
        what = step_sentence(e, when)
        if e.seq in flagged:
            what += f" Flagged for QA: {flagged[e.seq].label}."
        items.append(TimelineItem(e.at, kind, e.actor, what, e.note, number, f"dose event {e.seq}"))
    for f in record.flags:
        if f.event_seq is None:
            stop = f.kind.value == "identity_stop"
            items.append(
                TimelineItem(
                    f.at,
                    "stop" if stop else "flag",
                    f.actor,
                    flag_sentence(f),
                    f.reason,
                    number,
                    f"flag {f.id}" + (f", audit record {f.audit_seq}" if f.audit_seq else ""),
                )
            )
    logs = session.execute(
        select(ShipperLog).where(ShipperLog.dose_id == record.dose_id).order_by(ShipperLog.id)
    ).scalars()
    by_log = {log.id: log for log in logs}
    names = account_queries.full_names(
        session, {log.attached_by_id for log in by_log.values() if log.attached_by_id}
    )
    for view, log in zip(record.shipper_logs, by_log.values(), strict=False):
        items.append(
            TimelineItem(
                log.attached_at,
                "temperature",
                names.get(log.attached_by_id or 0, "the logger"),
                log_sentence(view, when),
                None,
                number,
                f"shipper log {log.id}",
            )
        )
    for x in record.exposures:
        items.append(
            TimelineItem(
                x.start_at,
                "excursion",
                f"sensor in {x.storage_unit}",
                exposure_sentence(x, when),
                None,
                number,
                f"excursion {x.excursion_id}",
            )
        )
    unit_id = record.custody.unit.unit_id if record.custody else None
    if unit_id is not None:
        items += _unit_items(session, unit_id, number, when)
    return items


def _ordered(items: list[TimelineItem]) -> tuple[TimelineItem, ...]:
    return tuple(sorted(items, key=lambda i: i.at))


def dose_timeline(session: Session, dose_id: int, when: When) -> Timeline:
    """Everything that happened to a dose and its bag, oldest first."""
    record = queries.dose_record(session, dose_id)
    title = f"Dose {record.line.number} for {record.line.display_name} ({record.line.patient_ref})"
    return Timeline(title, _ordered(_dose_items(session, record, when)))


def patient_timeline(session: Session, patient_ref: str, when: When) -> Timeline:
    """Everything that happened to each of a patient's doses, in one time order."""
    trace = queries.patient_trace(session, patient_ref)
    items = [i for record in trace.doses for i in _dose_items(session, record, when)]
    return Timeline(f"Patient {trace.patient_ref}: {trace.display_name}", _ordered(items))


def unit_timeline(session: Session, unit_id: int, when: When) -> Timeline:
    """A product unit's story: its dose's whole timeline, or its custody, holds and
    assessments when it belongs to no dose."""
    dose_id = session.execute(
        select(Dose.id).where(Dose.product_unit_id == unit_id)
    ).scalar_one_or_none()
    if dose_id is not None:
        timeline = dose_timeline(session, dose_id, when)
        return Timeline(f"Unit of dose {dose_number(dose_id)}: {timeline.title}", timeline.items)
    try:
        where = custody_queries.unit_by_id(session, unit_id)
    except NotFound:
        raise NotFound(f"there is no product unit {unit_id}", field="unit_id") from None
    return Timeline(f"Unit {where.unit}", _ordered(_unit_items(session, unit_id, None, when)))
