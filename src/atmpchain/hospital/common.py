"""What every dose step shares: locking the dose, its rule and window, recording the step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.audit.reason import required_text, visible_text
from atmpchain.audit.service import AppendedRecord
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.hospital import control
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    LimitBasis,
    ThawRule,
    ThawWindow,
    next_status,
    thaw_window,
)
from atmpchain.hospital.domain import dose_number as dose_number
from atmpchain.hospital.models import CatalogueRevision, Dose, DoseEvent, DoseFlag
from atmpchain.hospital.safeguards import QaFlag
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

DOSE_RECORD = "dose"
_MAX_NOTE = 2000


def parse_dose_number(text: str, field: str = "dose") -> int:
    """A dose number typed or scanned (D000042, d42 or 42) as its id."""
    value = text.strip().upper().removeprefix("D")
    # ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
    if not (value.isascii() and value.isdigit()) or not 1 <= len(value) <= 9:
        raise InvalidInput(f"'{text.strip()}' is not a dose number (D followed by digits)", field)
    return int(value)


class RuleFields(Protocol):
    """What a thaw rule is made of: a catalogue revision, or a row that selected these columns."""

    @property
    def thaw_minutes(self) -> int: ...
    @property
    def preparation_minutes(self) -> int: ...
    @property
    def infusion_minutes(self) -> int: ...
    @property
    def limit_minutes(self) -> int: ...
    @property
    def limit_basis(self) -> LimitBasis: ...


class WindowFields(Protocol):
    """What a dose's thaw window is made of: a dose, or a row that selected these columns."""

    @property
    def appointment_at(self) -> datetime: ...
    @property
    def transport_minutes(self) -> int: ...


def rule_of(revision: RuleFields) -> ThawRule:
    """The thaw rule a catalogue revision sets."""
    return ThawRule(
        thaw_minutes=revision.thaw_minutes,
        preparation_minutes=revision.preparation_minutes,
        infusion_minutes=revision.infusion_minutes,
        limit_minutes=revision.limit_minutes,
        basis=revision.limit_basis,
    )


def checks_of(revision: CatalogueRevision) -> tuple[str, ...]:
    """The revision's pre-infusion checks, in order (stored one per line)."""
    return tuple(line for line in revision.checks.splitlines() if line)


def window_of(dose: WindowFields, revision: RuleFields) -> ThawWindow:
    """The dose's thaw window for its current appointment."""
    return thaw_window(dose.appointment_at, rule_of(revision), dose.transport_minutes)


def get_dose(session: Session, dose_id: int) -> Dose:
    """The dose, unlocked (for checks made before a step's transaction)."""
    dose = session.get(Dose, dose_id)
    if dose is None:
        raise NotFound(f"there is no dose {dose_number(dose_id)}", field="dose")
    return dose


def lock_dose(session: Session, dose_id: int, expected_version: int | None = None) -> Dose:
    """The dose, locked until commit; a form made from an older version is refused."""
    dose = session.execute(
        select(Dose)
        .where(Dose.id == dose_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if dose is None:
        raise NotFound(f"there is no dose {dose_number(dose_id)}", field="dose")
    if expected_version is not None and dose.version != expected_version:
        raise Conflict(
            f"dose {dose_number(dose_id)} changed since this page was loaded (it is now "
            f"{dose.status.label}): reload and check before going on",
            field="version",
        )
    return dose


def revision_of(session: Session, dose: Dose) -> CatalogueRevision:
    """The catalogue revision the dose was planned with."""
    revision = session.get(CatalogueRevision, dose.revision_id)
    assert revision is not None  # a foreign key
    return revision


def clean_note(note: str | None, field: str = "note", required: bool = False) -> str | None:
    """A free-text note, trimmed; required ones must say something."""
    if required:
        text = required_text(note, field=field, ask="say why: the reason is part of the record")
    else:
        text = visible_text(note) or ""
    if len(text) > _MAX_NOTE:
        raise InvalidInput(f"keep it under {_MAX_NOTE} characters", field=field)
    return text or None


def sign(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    dose: Dose,
    step: DoseStep,
    content: Mapping[str, Any],
    meaning: Meaning,
    comment: str | None = None,
) -> int:
    """The actor's electronic signature of a step's content; returns its id."""
    signed = {"dose": dose_number(dose.id), "step": step.value, **content}
    signature = apply_signature(
        uow,
        actor=actor,
        password=password,
        record_type=DOSE_RECORD,
        record_id=dose_number(dose.id),
        content=signed,
        meaning=meaning,
        comment=comment,
    )
    return signature.id


def record_step(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose: Dose,
    step: DoseStep,
    action: AuditAction,
    detail: Mapping[str, Any],
    note: str | None = None,
    signature_id: int | None = None,
    custody_seq: int | None = None,
    before: Mapping[str, Any] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    flags: Sequence[tuple[QaFlag, str]] = (),
) -> AppendedRecord:
    """Move the dose by `step` (or refuse), append its event and audit record in the same
    transaction; each of `flags` (kind, why) puts the step on QA's list too. The dose must be
    locked by the caller."""
    old = dose.status
    new = next_status(old, step)
    seq = dose.version + 1
    moment = at or uow.clock.now()
    uow.session.add(
        DoseEvent(
            dose_id=dose.id,
            seq=seq,
            step=step,
            at=moment,
            actor_id=actor.user_id,
            signature_id=signature_id,
            custody_seq=custody_seq,
            detail=canonical_json(dict(detail)),
            note=note,
        )
    )
    dose.status = new
    dose.version = seq
    uow.session.flush()
    # Custody's control of the bag and its holds follow the dose, in the same transaction.
    control.follow(uow, actor, dose, step)
    record = uow.audit.record(
        action,
        actor=actor,
        record_type=DOSE_RECORD,
        record_id=dose_number(dose.id),
        before={"status": old, **(before or {})},
        after={
            "step": step,
            "event_seq": seq,
            "status": new,
            **detail,
            "note": note,
            "signature_id": signature_id,
            **({"flagged_for_qa": [kind.value for kind, _ in flags]} if flags else {}),
        },
        reason=reason,
    )
    for kind, why in flags:
        add_flag(
            uow,
            kind=kind,
            reason=why,
            actor=actor,
            dose_id=dose.id,
            audit_seq=record.seq,
            event_seq=seq,
            detail={**detail, "note": note},
            at=moment,
        )
    return record


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def add_flag(
    uow: UnitOfWork,
    *,
    kind: QaFlag,
    reason: str,
    actor: Actor,
    dose_id: int | None,
    audit_seq: int | None,
    detail: Mapping[str, Any],
    event_seq: int | None = None,
    at: datetime | None = None,
) -> None:
    """Put something on QA's list, inside the transaction of the audit record that tells it."""
    uow.session.add(
        DoseFlag(
            kind=kind,
            dose_id=dose_id,
            at=at or uow.clock.now(),
            actor_id=actor.user_id,
            event_seq=event_seq,
            audit_seq=audit_seq,
            identity_check_seq=_int_or_none(detail.get("identity_check_seq")),
            reason=reason,
            detail=canonical_json(dict(detail)),
        )
    )


def signed_step(
    uow: UnitOfWork,
    *,
    actor: Actor,
    password: str,
    dose: Dose,
    step: DoseStep,
    action: AuditAction,
    detail: Mapping[str, Any],
    meaning: Meaning = Meaning.PERFORMED,
    note: str | None = None,
    custody_seq: int | None = None,
    signed_extra: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    flags: Sequence[tuple[QaFlag, str]] = (),
    reason: str | None = None,
) -> int:
    """Sign a step's content and record the step with that signature; returns the signature
    id. `signed_extra` is signed but not repeated in the step's detail (a rationale)."""
    signature_id = sign(
        uow,
        actor=actor,
        password=password,
        dose=dose,
        step=step,
        content={**detail, **(signed_extra or {})},
        meaning=meaning,
        comment=note,
    )
    record_step(
        uow,
        actor=actor,
        dose=dose,
        step=step,
        action=action,
        detail=detail,
        note=note,
        signature_id=signature_id,
        custody_seq=custody_seq,
        before=before,
        flags=flags,
        reason=reason,
    )
    return signature_id


def require_status(dose: Dose, *allowed: DoseStatus) -> None:
    """A plain conflict when the dose is not where a step needs it (before any scan is made)."""
    if dose.status not in allowed:
        needed = " or ".join(s.label for s in allowed)
        raise Conflict(
            f"dose {dose_number(dose.id)} is {dose.status.label}; this needs a dose that is "
            f"{needed}",
            field="status",
        )
