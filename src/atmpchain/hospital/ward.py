"""The ward takes the bag: the nurse it was handed to confirms its receipt, signed.

The pharmacist's issue is the custody hand-off (a transfer to the nurse, with the bag and a
second label of the therapy scanned). The nurse then scans the bag on the ward and signs that
it arrived: the record shows who took it, when, from whom, and the custody event it closes.
The infusion cannot start before (see bedside): the hand-off is recorded, never assumed.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital.common import dose_number, lock_dose, signed_step
from atmpchain.hospital.domain import DoseStep
from atmpchain.hospital.models import DoseEvent
from atmpchain.hospital.preparation import check_scan_is_dose
from atmpchain.signatures.domain import Meaning
from atmpchain.uow import UnitOfWork


def confirm_receipt_at_ward(
    uow: UnitOfWork,
    *,
    actor: Actor,
    dose_id: int,
    bag_scan: str,
    password: str,
    expected_version: int | None = None,
) -> None:
    """The ward's nurse scans the bag handed to them and signs its receipt."""
    actor.require(Permission.ADMINISTER_DOSE)
    if not bag_scan.strip():
        raise InvalidInput("scan the bag's label", field="bag_scan")
    # Another patient's bag is a STOP on record, as at every other scan of a dose.
    check_scan_is_dose(uow, actor, dose_id, bag_scan, "ward", field="bag_scan")
    with uow:
        dose = lock_dose(uow.session, dose_id, expected_version)
        if dose.received_at_ward_at is not None:
            raise Conflict(
                f"the receipt of dose {dose_number(dose.id)} on the ward was confirmed at "
                f"{dose.received_at_ward_at:%Y-%m-%d %H:%M} UTC",
                field="dose",
            )
        issue = uow.session.execute(
            select(DoseEvent)
            .where(DoseEvent.dose_id == dose.id, DoseEvent.step == DoseStep.ISSUED)
            .order_by(DoseEvent.seq.desc())
            .limit(1)
        ).scalar_one_or_none()
        issued = json.loads(issue.detail) if issue is not None else {}
        handed_to = issued.get("to_username")
        if handed_to and handed_to.lower() != actor.username.lower():
            # Custody passed to that person: only they can say the bag reached them.
            raise InvalidInput(
                f"dose {dose_number(dose.id)} is {issued.get('handed_to', 'with ' + handed_to)} "
                "since its issue: only the person it was handed to confirms its receipt",
                field="dose",
            )
        by = None
        if issue is not None and issue.actor_id is not None:
            by = account_queries.full_names(uow.session, {issue.actor_id}).get(issue.actor_id)
        now = uow.clock.now()
        signed_step(
            uow,
            actor=actor,
            password=password,
            dose=dose,
            step=DoseStep.RECEIVED_AT_WARD,
            action=AuditAction.DOSE_RECEIVED_AT_WARD,
            detail={
                "bag_scan": bag_scan.strip(),
                "ward": dose.ward,
                "handed_over_by": by,
                "issued_at": dose.issued_at,
                "received_at": now,
            },
            meaning=Meaning.PERFORMED,
            custody_seq=issue.custody_seq if issue is not None else None,
        )
        dose.received_at_ward_at = now
        uow.commit()
