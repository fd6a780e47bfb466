"""Product units out of a completed batch: each bag (or QC / retained sample) gets a DIN bound to
the patient's chain of identity, enters custody in the operator's hands, controlled by the batch
and QUARANTINED until the batch is released (the release capability; until then QA can only
reject, batches.reject_batch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.custody import control
from atmpchain.custody import service as custody
from atmpchain.custody.control_rules import HoldKind
from atmpchain.identity import service as identity_service
from atmpchain.identity.dates import ExpirationDateTime
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.identity.labels.content import LabelKind
from atmpchain.identity.printing import LabelRequest, PrintedLabel, print_label
from atmpchain.manufacturing.common import (
    batch_page,
    controller,
    definition,
    find_batch,
    require_status,
)
from atmpchain.manufacturing.domain import BATCH, BatchStatus, UnitKind
from atmpchain.manufacturing.errors import BatchRuleError
from atmpchain.manufacturing.models import BatchUnit
from atmpchain.uow import UnitOfWork

MAX_UNITS = 20
QUARANTINE_WAITS_FOR = "QC results and the Qualified Person's certification of batch {number}"


@dataclass(frozen=True, slots=True)
class MadeUnit:
    """A unit made from the batch, as the operator labels it."""

    din: str
    eye_readable: str
    product_code: str
    kind: UnitKind
    expiry: datetime
    scan: str  # what a scanner types for the bag's label (DIN + product code)


def unit_scan(din: Din, product_code: str) -> str:
    """The compound message (ISBT 128 DS 023 with DIN and product code) on the bag's label."""
    return "=+02000" + DonationIdentification(din, "00").encode() + "=<" + product_code


def _issue(
    uow: UnitOfWork, actor: Actor, number: str, kind: UnitKind
) -> tuple[Din, int, str, datetime, str | None]:
    with uow:
        batch = find_batch(uow.session, number, lock=True)
        require_status(batch, BatchStatus.COMPLETED, doing="make product units (not completed)")
        record = definition(uow.session, batch)
        din = identity_service.issue_din_in(
            uow, actor=actor, purpose=f"{kind.value} of batch {batch.number}"
        )
        if batch.patient_coi:
            identity_service.bind_din_in(
                uow, actor=actor, coi_identifier=batch.patient_coi, din=din
            )
        uow.commit()
        assert batch.expiry is not None
        return din, batch.id, record.product_code, batch.expiry, batch.patient_coi


def make_units(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, kind: UnitKind, count: int = 1
) -> list[MadeUnit]:
    """Make `count` units of `kind` from the completed batch, quarantined in custody."""
    actor.require(Permission.EXECUTE_BATCH)
    actor.require(Permission.ISSUE_IDENTIFIERS)
    if not 1 <= count <= MAX_UNITS:
        raise BatchRuleError(f"make 1 to {MAX_UNITS} units at a time", "count")
    return [_make_one(uow, actor, batch_number.strip().upper(), kind) for _ in range(count)]


def _make_one(uow: UnitOfWork, actor: Actor, number: str, kind: UnitKind) -> MadeUnit:
    # The DIN is issued and bound in its own transaction: custody's receipt checks the bag
    # against the chain (identity's check) before it writes. A receipt that then fails
    # leaves an issued DIN unused, which ISBT 128 allows (a DIN is never re-used).
    din, batch_id, product_code, expiry, coi = _issue(uow, actor, number, kind)
    key = controller(batch_id)
    scan = unit_scan(din, product_code)

    def record(inner: UnitOfWork, moved: custody.CustodyResult) -> None:
        control.place_control(
            inner,
            actor=actor,
            unit_id=moved.unit_id,
            controller=key,
            label=f"batch {number}",
            page=batch_page(number),
        )
        control.place_hold(
            inner,
            actor=actor,
            unit_id=moved.unit_id,
            source=BATCH,
            reference=key.reference,
            kind=HoldKind.QUARANTINE,
            reason=f"made in batch {number}: quarantined until the batch is released",
            waits_for=QUARANTINE_WAITS_FOR.format(number=number),
            page=batch_page(number),
        )
        unit = BatchUnit(
            batch_id=batch_id,
            product_unit_id=moved.unit_id,
            din=din.encode(),
            product_code=product_code,
            kind=kind,
            expiry=expiry,
            created_at=inner.clock.now(),
            created_by_id=actor.user_id,
        )
        inner.session.add(unit)
        inner.session.flush()
        inner.audit.record(
            AuditAction.BATCH_UNIT_CREATED,
            actor=actor,
            record_type="batch",
            record_id=number,
            after={
                "din": din.encode(),
                "product_code": product_code,
                "kind": kind.value,
                "expiry": expiry,
                "chain_of_identity": coi,
                "product_unit_id": moved.unit_id,
                "hold": HoldKind.QUARANTINE.value,
            },
        )

    custody.receive(
        uow,
        actor=actor,
        unit_scan=scan,
        from_party=f"manufacturing, batch {number}",
        description=f"{kind.value} of batch {number}",
        then=record,
        via=key,
    )
    return MadeUnit(din.encode(), din.eye_readable(), product_code, kind, expiry, scan)


def print_unit_label(
    uow: UnitOfWork, *, actor: Actor, batch_number: str, din: str, reason: str | None = None
) -> PrintedLabel:
    """Print the bag label of a unit made from the batch through the identity capability (DIN,
    product code, expiry, chain of identity); a re-print needs a reason, as identity says."""
    actor.require(Permission.PRINT_LABELS)
    with uow.db.read_session() as session:
        batch = find_batch(session, batch_number)
        unit = session.execute(
            select(BatchUnit).where(BatchUnit.batch_id == batch.id, BatchUnit.din == din.strip())
        ).scalar_one_or_none()
        if unit is None:
            raise BatchRuleError(f"batch {batch.number} made no unit with DIN {din[:13]}", "din")
        coi = batch.patient_coi
        # The label has room for the product, not the process: the name up to its first comma.
        description = definition(session, batch).name.split(",")[0]
        final, code, text, expires = (
            unit.kind is UnitKind.FINAL,
            unit.product_code,
            unit.din,
            unit.expiry,
        )
    local = expires.astimezone(ZoneInfo(uow.settings.display_timezone))
    expiry = ExpirationDateTime(local.replace(tzinfo=None, second=0, microsecond=0))
    parsed = Din(text[:5], text[5:7], text[7:13])
    return print_label(
        uow,
        actor=actor,
        request=LabelRequest(
            kind=LabelKind.BAG if final else LabelKind.SAMPLE_TUBE,
            din=DonationIdentification(parsed, "00").encode(),
            product_code=code,
            expiration=expiry.encode(),
            chain_of_identity=coi,
            product_description=description[:80],
        ),
        reason=reason,
    )
