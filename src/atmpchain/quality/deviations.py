"""Raising deviations, and the open ones a batch or product unit carries.

This is the interface the capabilities above quality use (manufacturing raises a deviation from
a step inside its own transaction with `raise_in`, and lists the open ones on a batch with
`open_deviations_for`). Batches are named by their batch number and product units by their DIN:
quality never imports the capabilities that own them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import visible_text
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.identity.din import Din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.quality.domain import (
    MAX_SEQUENCE,
    MAX_STEP_REF,
    MAX_TEXT,
    MAX_TITLE,
    Classification,
    DeviationState,
    clean_batch_number,
    deviation_number,
    unique_in_order,
)
from atmpchain.quality.models import (
    Deviation,
    DeviationBatch,
    DeviationUnit,
    QualitySequence,
)
from atmpchain.uow import UnitOfWork

DEVIATION_RECORD = "deviation"


@dataclass(frozen=True)
class DeviationRef:
    """A deviation just raised: its id and its number."""

    id: int
    number: str


@dataclass(frozen=True)
class DeviationSummary:
    """An open deviation as a batch or product unit lists it."""

    number: str
    title: str
    classification: str | None
    state: str
    raised_at: datetime
    batch_number: str | None
    step_ref: str | None


# --- input rules ----------------------------------------------------------------------------------


def clean_text(value: str | None, field: str, *, limit: int, required: bool) -> str | None:
    """Free text trimmed of invisible ends; required text must say something visible."""
    text = visible_text(value)
    if text is None:
        if required:
            raise InvalidInput(f"{field.replace('_', ' ')} is required: write what happened", field)
        return None
    if len(text) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} must be at most {limit} characters", field)
    return text


def clean_din(value: str, field: str = "unit_dins") -> str:
    """A product unit's DIN as printed or typed (13 characters, spaces and case forgiven)."""
    text = "".join(value.split()).upper()
    try:
        return Din.parse(text).encode()
    except IdentityFormatError as exc:
        raise InvalidInput(f"'{text[:30]}' is not a DIN: {exc}", field) from None


def parse_classification(value: str | None, field: str = "classification") -> Classification | None:
    """'minor', 'major' or 'critical'; blank means "to be classified"."""
    text = (value or "").strip().lower()
    if not text:
        return None
    try:
        return Classification(text)
    except ValueError:
        raise InvalidInput(
            f"'{text[:30]}' is not a classification: minor, major or critical", field
        ) from None


def _step_ref(value: str | None) -> str | None:
    text = visible_text(value)
    if text is not None and len(text) > MAX_STEP_REF:
        raise InvalidInput(f"step ref must be at most {MAX_STEP_REF} characters", "step_ref")
    return text


# --- the facility's sequence ----------------------------------------------------------------------


def _next_number(uow: UnitOfWork) -> str:
    """The next deviation number of this year, gap-free: the counter row is locked until commit,
    so a transaction that rolls back gives its number back and two never take the same one."""
    year = uow.clock.now().astimezone(ZoneInfo(uow.settings.display_timezone)).year
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(QualitySequence)
        .values(kind="deviation", year=year, last_sequence=0)
        .on_conflict_do_nothing()
    )
    row = uow.session.execute(
        select(QualitySequence)
        .where(QualitySequence.kind == "deviation", QualitySequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if row.last_sequence >= MAX_SEQUENCE:
        raise Conflict(f"all {MAX_SEQUENCE} deviation numbers of {year} are used", "number")
    row.last_sequence += 1
    return deviation_number(year, row.last_sequence)


# --- raising --------------------------------------------------------------------------------------


def raise_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    title: str,
    description: str,
    planned: bool,
    classification: str | None = None,
    batch_number: str | None = None,
    step_ref: str | None = None,
    unit_dins: Sequence[str] = (),
    immediate_action: str | None = None,
    detected_at: datetime | None = None,
    detected_by: str | None = None,
) -> DeviationRef:
    """Raise a deviation inside the caller's open unit of work (the caller commits).

    Writes the deviation, what it affects and its audit record. A classification given here is
    QA's to give; anyone else leaves it to be classified.
    """
    actor.require(Permission.RAISE_DEVIATION)
    clean_title = clean_text(title, "title", limit=MAX_TITLE, required=True)
    clean_description = clean_text(description, "description", limit=MAX_TEXT, required=True)
    action = clean_text(immediate_action, "immediate_action", limit=MAX_TEXT, required=False)
    kind = parse_classification(classification)
    if kind is not None and not actor.can(Permission.INVESTIGATE_DEVIATION):
        raise InvalidInput(
            "only QA classifies a deviation: leave the classification empty (to be classified)",
            "classification",
        )
    batch = clean_batch_number(batch_number)
    step = _step_ref(step_ref)
    if step is not None and batch is None:
        raise InvalidInput("a step belongs to a batch: give the batch number too", "batch_number")
    dins = unique_in_order([clean_din(d) for d in unit_dins])
    now = uow.clock.now()
    detected = detected_at or now
    if detected.tzinfo is None:
        raise InvalidInput("the detection time needs a time zone", "detected_at")
    if detected > now:
        raise InvalidInput("the detection time is in the future", "detected_at")
    assert clean_title is not None and clean_description is not None
    detector_id = actor.user_id
    if detected_by is not None and detected_by.strip():
        # Someone else saw it (a colleague, the night shift) and this person records it.
        try:
            detector_id = account_queries.find_user_id(uow.session, detected_by)
        except NotFound:
            raise InvalidInput(
                f"there is no user '{detected_by.strip()[:64]}'", "detected_by"
            ) from None
    number = _next_number(uow)
    row = Deviation(
        number=number,
        planned=planned,
        classification=kind,
        state=DeviationState.RAISED if kind is None else DeviationState.INVESTIGATING,
        title=clean_title,
        description=clean_description,
        batch_number=batch,
        step_ref=step,
        detected_at=detected,
        detected_by_id=detector_id,
        raised_at=now,
        raised_by_id=actor.user_id,
        immediate_action=action,
        classified_at=now if kind is not None else None,
        classified_by_id=actor.user_id if kind is not None else None,
        reopen_count=0,
        version=0,
    )
    uow.session.add(row)
    uow.session.flush()
    if batch is not None:
        uow.session.add(
            DeviationBatch(
                deviation_id=row.id, batch_number=batch, added_at=now, added_by_id=actor.user_id
            )
        )
    for din in dins:
        uow.session.add(
            DeviationUnit(deviation_id=row.id, din=din, added_at=now, added_by_id=actor.user_id)
        )
    uow.audit.record(
        AuditAction.DEVIATION_RAISED,
        actor=actor,
        record_type=DEVIATION_RECORD,
        record_id=number,
        after={
            "number": number,
            "planned": planned,
            "classification": kind.value if kind else None,
            "state": row.state.value,
            "title": clean_title,
            "description": clean_description,
            "immediate_action": action,
            "batch_number": batch,
            "step_ref": step,
            "unit_dins": list(dins),
            "detected_at": detected,
            "detected_by_id": detector_id,
        },
    )
    return DeviationRef(id=row.id, number=number)


def raise_deviation(
    uow: UnitOfWork,
    *,
    actor: Actor,
    title: str,
    description: str,
    planned: bool,
    classification: str | None = None,
    batch_number: str | None = None,
    step_ref: str | None = None,
    unit_dins: Sequence[str] = (),
    immediate_action: str | None = None,
    detected_at: datetime | None = None,
    detected_by: str | None = None,
) -> DeviationRef:
    """Raise a deviation in a transaction of its own, with its audit record; commits."""
    actor.require(Permission.RAISE_DEVIATION)
    with uow:
        ref = raise_in(
            uow,
            actor=actor,
            title=title,
            description=description,
            planned=planned,
            classification=classification,
            batch_number=batch_number,
            step_ref=step_ref,
            unit_dins=unit_dins,
            immediate_action=immediate_action,
            detected_at=detected_at,
            detected_by=detected_by,
        )
        uow.commit()
    return ref


# --- what a batch or a product unit carries -------------------------------------------------------


def open_deviations_for(
    session: Session, *, batch_number: str | None = None, din: str | None = None
) -> list[DeviationSummary]:
    """The open deviations on a batch (by its number) or a product unit (by its DIN), oldest
    first; both given, those on either. Naming neither is refused."""
    if batch_number is None and din is None:
        raise InvalidInput("name a batch number or a DIN", "batch_number")
    ids = []
    if batch_number is not None:
        batch = clean_batch_number(batch_number)
        ids.append(select(DeviationBatch.deviation_id).where(DeviationBatch.batch_number == batch))
    if din is not None:
        ids.append(
            select(DeviationUnit.deviation_id).where(DeviationUnit.din == clean_din(din, "din"))
        )
    wanted = ids[0] if len(ids) == 1 else union(*ids)
    rows = session.execute(
        select(Deviation)
        .where(Deviation.id.in_(wanted), Deviation.state != DeviationState.CLOSED)
        .order_by(Deviation.raised_at, Deviation.id)
    ).scalars()
    return [summary_of(row) for row in rows]


def summary_of(row: Deviation) -> DeviationSummary:
    """A deviation row as a summary."""
    return DeviationSummary(
        number=row.number,
        title=row.title,
        classification=row.classification.value if row.classification else None,
        state=row.state.value,
        raised_at=row.raised_at,
        batch_number=row.batch_number,
        step_ref=row.step_ref,
    )


def lock_deviation(session: Session, number: str) -> Deviation:
    """The deviation, locked until commit."""
    row = session.execute(
        select(Deviation)
        .where(Deviation.number == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"there is no deviation {number}", field="number")
    return row
