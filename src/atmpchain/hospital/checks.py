"""Pre-infusion checks: each check of the dose's catalogue revision is confirmed and signed.

A dose once left the pharmacy with no check recorded while its PDF listed the checks as if
done. Now every check is its own signed step (who, when, meaning "verified"), the issue is
refused while one is missing (`preparation.issue_dose`), and the record shows each check as
done (by whom, when) or missing: never assumed.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict
from atmpchain.hospital.common import (
    checks_of,
    clean_note,
    dose_number,
    lock_dose,
    revision_of,
    signed_step,
)
from atmpchain.hospital.domain import DoseStep
from atmpchain.hospital.models import CatalogueRevision, DoseEvent
from atmpchain.hospital.safeguards import CheckDone, CheckLine, check_lines, check_number
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork


def lines_of(session: Session, dose_id: int, revision: CatalogueRevision) -> tuple[CheckLine, ...]:
    """The dose's checks, each with its confirmation on record or none.

    Only confirmations since the bag last went into the cryostore count: a bag put back after
    its checks is a new preparation, and its checks are made again (never carried over)."""
    stored = (
        select(func.max(DoseEvent.seq))
        .where(DoseEvent.dose_id == dose_id, DoseEvent.step == DoseStep.STORED)
        .scalar_subquery()
    )
    rows = session.execute(
        select(DoseEvent.detail, DoseEvent.actor_id, DoseEvent.at)
        .where(
            DoseEvent.dose_id == dose_id,
            DoseEvent.step == DoseStep.CHECK_CONFIRMED,
            DoseEvent.seq > func.coalesce(stored, 0),
        )
        .order_by(DoseEvent.seq)
    ).all()
    names = account_queries.full_names(session, {r.actor_id for r in rows if r.actor_id})
    done = [
        CheckDone(
            int(json.loads(detail)["check"]),
            names.get(actor_id, "?") if actor_id else "system",
            at,
        )
        for detail, actor_id, at in rows
    ]
    return check_lines(checks_of(revision), done)


def confirm_check(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    check: int | str,
    password: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> None:
    """Confirm one pre-infusion check of the dose's catalogue revision (1-based), signed."""
    actor.require(Permission.PREPARE_DOSE)
    text = clean_note(note)
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        revision = revision_of(uow.session, dose)
        checks = checks_of(revision)
        number = check_number(check, checks)
        done = lines_of(uow.session, dose.id, revision)[number - 1].done
        if done is not None:
            raise Conflict(
                f"check {number} of dose {dose_number(dose.id)} was confirmed by {done.by} at "
                f"{done.at:%Y-%m-%d %H:%M} UTC",
                field="check",
            )
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.CHECK_CONFIRMED,
            action=AuditAction.DOSE_CHECK_CONFIRMED,
            detail={
                "check": number,
                "text": checks[number - 1],
                "catalogue_revision": revision.revision,
            },
            meaning=Meaning.VERIFIED,
            note=text,
        )
        uow.commit()
