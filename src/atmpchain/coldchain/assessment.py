"""QA's signed impact assessment of an excursion on each product inside, and the issue block.

Each assessment is a new append-only `impact_assessment` row carrying the electronic signature
that makes it count; a revised decision is a new row. Whether a product may be handed on is the
pure `impact.may_issue` over the excursions it was exposed to and these assessments.

Custody must refuse to hand such a product on without knowing about excursions (it sits below
the cold chain), so each exposure is mirrored as a custody hold: placed when the product is
attached to the excursion, changed or lifted by each signed assessment, in the same transaction.
A hold is active for an exposure exactly when `issue_block` names that exposure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.coldchain.impact import Impact, ImpactAssessment, latest_assessments, may_issue
from atmpchain.coldchain.models import Excursion, ExcursionProduct, ImpactAssessmentRecord
from atmpchain.custody import control
from atmpchain.custody.control_rules import HoldKind, HoldSpec
from atmpchain.custody.models import ProductUnit, StorageUnit
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.models import ElectronicSignature
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

IMPACT_RECORD = "impact_assessment"
#: The source under which excursions hold the products exposed to them.
EXCURSION = "coldchain.excursion"
_DISPOSE_OR_RETURN = "disposal of the product, or its return to the manufacturer"
#: The meanings an impact assessment may be signed with.
ASSESSMENT_MEANINGS = (Meaning.APPROVED, Meaning.REVIEWED)
_MAX_RATIONALE = 4000


def excursion_reference(excursion_id: int, unit_name: str, unit_code: str) -> str:
    """An excursion as people name it: its number and the storage unit."""
    return f"#{excursion_id} on {unit_name} ({unit_code})"


def assessment_record_id(excursion_id: int, product_unit_id: int) -> str:
    """The signed record: one product's exposure to one excursion."""
    return f"{excursion_id}:{product_unit_id}"


def assessment_content(
    excursion_id: int, product_unit_id: int, product: str, impact: Impact, rationale: str
) -> dict[str, Any]:
    """What an impact assessment signs."""
    return {
        "excursion_id": excursion_id,
        "product_unit_id": product_unit_id,
        "product": product,
        "impact": impact.value,
        "rationale": rationale,
    }


def exposure_hold(reference: str, impact: Impact | None) -> HoldSpec | None:
    """The custody hold an exposure implies: pending until QA assesses it, then as QA decided;
    None once QA found no impact."""
    if impact is None:
        return HoldSpec(
            HoldKind.PENDING_ASSESSMENT,
            f"exposed to excursion {reference}",
            f"QA impact assessment of excursion {reference}",
        )
    if impact is Impact.QUARANTINE:
        return HoldSpec(
            HoldKind.QUARANTINE,
            f"quarantined after excursion {reference}",
            f"QA's release after excursion {reference} (a new impact assessment)",
        )
    if impact is Impact.REJECT:
        return HoldSpec(
            HoldKind.REJECTED, f"rejected after excursion {reference}", _DISPOSE_OR_RETURN
        )
    return None


def _mirror(uow: UnitOfWork, actor: Actor, excursion: Excursion, product_unit_id: int) -> None:
    """Make the exposure's custody hold what QA's assessment that counts (the latest signed,
    the stricter on a tie: the rule `issue_block` applies) implies."""
    storage = uow.session.get(StorageUnit, excursion.storage_unit_id)
    assert storage is not None  # a foreign key
    reference = excursion_reference(excursion.id, storage.name, storage.code)
    signed = _assessments(
        uow.session, excursion_ids=[excursion.id], product_unit_id=product_unit_id
    )
    counts = latest_assessments(_domain(row, reference, "", who) for *_, row, who in signed)
    impact = counts[reference].impact if reference in counts else None
    control.set_hold(
        uow,
        actor=actor,
        unit_id=product_unit_id,
        source=EXCURSION,
        reference=str(excursion.id),
        hold=exposure_hold(reference, impact),
        page=f"/coldchain/excursions#excursion-{excursion.id}",
        lift_reason=f"QA found no impact from excursion {reference}",
    )


def hold_for_assessment(uow: UnitOfWork, excursion: Excursion, product_unit_id: int) -> None:
    """Inside the batch's transaction: a product just attached to an excursion is held (for
    custody) until QA assesses the excursion's impact on it. Placed by the system: the readings,
    not a person, put it there."""
    _mirror(uow, SYSTEM_ACTOR, excursion, product_unit_id)


def _product_label(unit: ProductUnit) -> str:
    return f"{unit.din} {unit.product_code}"


def _read_impact(value: Impact | str) -> Impact:
    if isinstance(value, Impact):
        return value
    try:
        return Impact(value.strip())
    except ValueError:
        raise InvalidInput(
            "choose the impact: no impact, quarantine or reject", field="impact"
        ) from None


def assess_impact(
    uow: UnitOfWork,
    *,
    actor: Actor,
    excursion_id: int,
    product_unit_id: int,
    impact: Impact | str,
    rationale: str,
    password: str,
    meaning: Meaning = Meaning.APPROVED,
) -> int:
    """QA signs its decision about one product after one excursion; returns the assessment id."""
    actor.require(Permission.ASSESS_IMPACT)
    decision = _read_impact(impact)
    text = required_text(rationale, field="rationale", ask="give the rationale for the decision")
    if len(text) > _MAX_RATIONALE:
        raise InvalidInput(
            f"the rationale is longer than {_MAX_RATIONALE} characters", field="rationale"
        )
    if meaning not in ASSESSMENT_MEANINGS:
        raise InvalidInput("an impact assessment is signed as reviewed or approved", "meaning")
    with uow:
        session = uow.session
        excursion = session.get(Excursion, excursion_id)
        if excursion is None:
            raise NotFound(f"there is no excursion #{excursion_id}", field="excursion_id")
        unit = session.get(ProductUnit, product_unit_id)
        exposed = session.get(ExcursionProduct, (excursion_id, product_unit_id))
        if unit is None or exposed is None:
            raise InvalidInput(
                f"the product unit was not inside during excursion #{excursion_id}: only the "
                "products that were there can be assessed for it",
                field="product_unit_id",
            )
        product = _product_label(unit)
        previous = session.execute(
            select(ImpactAssessmentRecord)
            .where(
                ImpactAssessmentRecord.excursion_id == excursion_id,
                ImpactAssessmentRecord.product_unit_id == product_unit_id,
            )
            .order_by(ImpactAssessmentRecord.assessed_at.desc(), ImpactAssessmentRecord.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        record_id = assessment_record_id(excursion_id, product_unit_id)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=IMPACT_RECORD,
            record_id=record_id,
            content=assessment_content(excursion_id, product_unit_id, product, decision, text),
            meaning=meaning,
        )
        assert actor.user_id is not None  # apply_signature refuses the system actor
        row = ImpactAssessmentRecord(
            excursion_id=excursion_id,
            product_unit_id=product_unit_id,
            impact=decision,
            rationale=text,
            signature_id=signature.id,
            assessed_at=signature.signed_at,
            assessed_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        uow.audit.record(
            AuditAction.IMPACT_ASSESSED,
            actor=actor,
            record_type=IMPACT_RECORD,
            record_id=record_id,
            before=None if previous is None else _snapshot(previous, product),
            after=_snapshot(row, product),
        )
        _mirror(uow, actor, excursion, product_unit_id)
        uow.commit()
        return row.id


def _snapshot(row: ImpactAssessmentRecord, product: str) -> dict[str, Any]:
    return {
        "assessment_id": row.id,
        "excursion_id": row.excursion_id,
        "product_unit_id": row.product_unit_id,
        "product": product,
        "impact": row.impact.value,
        "rationale": row.rationale,
        "signature_id": row.signature_id,
        "assessed_at": row.assessed_at,
    }


@dataclass(frozen=True, slots=True)
class Exposure:
    """One product's exposure to one excursion, with QA's decision that counts (if any)."""

    excursion_id: int
    excursion: str
    product_unit_id: int
    product: str
    current: ImpactAssessment | None


def _references(session: Session, excursion_ids: set[int]) -> dict[int, str]:
    if not excursion_ids:
        return {}
    rows = session.execute(
        select(Excursion.id, StorageUnit.name, StorageUnit.code)
        .join(StorageUnit, StorageUnit.id == Excursion.storage_unit_id)
        .where(Excursion.id.in_(sorted(excursion_ids)))
    )
    return {i: excursion_reference(i, name, code) for i, name, code in rows}


def _assessments(
    session: Session, *, excursion_ids: list[int] | None = None, product_unit_id: int | None = None
) -> list[tuple[int, int, ImpactAssessmentRecord, str]]:
    stmt = select(ImpactAssessmentRecord, ElectronicSignature.signer_name).join(
        ElectronicSignature, ElectronicSignature.id == ImpactAssessmentRecord.signature_id
    )
    if excursion_ids is not None:
        stmt = stmt.where(ImpactAssessmentRecord.excursion_id.in_(excursion_ids))
    if product_unit_id is not None:
        stmt = stmt.where(ImpactAssessmentRecord.product_unit_id == product_unit_id)
    return [(r.excursion_id, r.product_unit_id, r, name) for r, name in session.execute(stmt)]


def _domain(
    row: ImpactAssessmentRecord, reference: str, product: str, signer: str
) -> ImpactAssessment:
    return ImpactAssessment(
        excursion=reference,
        product=product,
        impact=row.impact,
        assessed_at=row.assessed_at,
        assessed_by=signer,
        signature_id=row.signature_id,
        rationale=row.rationale,
    )


def exposures(session: Session, excursion_ids: list[int]) -> dict[int, list[Exposure]]:
    """For each excursion, the products inside and QA's current decision on each."""
    found: dict[int, list[Exposure]] = {i: [] for i in excursion_ids}
    if not excursion_ids:
        return found
    references = _references(session, set(excursion_ids))
    rows = session.execute(
        select(ExcursionProduct.excursion_id, ProductUnit)
        .join(ProductUnit, ProductUnit.id == ExcursionProduct.product_unit_id)
        .where(ExcursionProduct.excursion_id.in_(excursion_ids))
        .order_by(ProductUnit.din, ProductUnit.product_code)
    ).all()
    by_pair: dict[tuple[int, int], list[ImpactAssessment]] = {}
    for exc_id, unit_id, row, signer in _assessments(session, excursion_ids=excursion_ids):
        by_pair.setdefault((exc_id, unit_id), []).append(
            _domain(row, references[exc_id], "", signer)
        )
    for exc_id, unit in rows:
        latest = latest_assessments(by_pair.get((exc_id, unit.id), []))
        found[exc_id].append(
            Exposure(
                exc_id,
                references[exc_id],
                unit.id,
                _product_label(unit),
                latest.get(references[exc_id]),
            )
        )
    return found


def unit_assessments(session: Session, product_unit_id: int) -> list[tuple[int, ImpactAssessment]]:
    """Every signed impact assessment of one product unit (excursion id, decision), oldest first."""
    rows = _assessments(session, product_unit_id=product_unit_id)
    references = _references(session, {exc_id for exc_id, *_ in rows})
    found = [
        (exc_id, _domain(row, references[exc_id], "", signer)) for exc_id, _, row, signer in rows
    ]
    return sorted(found, key=lambda pair: pair[1].assessed_at)


def issue_block(session: Session, product_unit_id: int) -> str | None:
    """Why a product unit may not be handed on after a temperature excursion, or None."""
    excursion_ids = set(
        session.execute(
            select(ExcursionProduct.excursion_id).where(
                ExcursionProduct.product_unit_id == product_unit_id
            )
        ).scalars()
    )
    assessed = _assessments(session, product_unit_id=product_unit_id)
    references = _references(session, excursion_ids | {a[0] for a in assessed})
    assessments = [_domain(row, references[exc], "", signer) for exc, _, row, signer in assessed]
    decision = may_issue([references[i] for i in excursion_ids], assessments)
    if decision.allowed:
        return None
    latest = latest_assessments(assessments)
    reasons: list[str] = []
    for reference, assessment in sorted(latest.items()):
        when = f"{assessment.assessed_by}, {assessment.assessed_at:%Y-%m-%d %H:%M} UTC"
        if assessment.impact is Impact.REJECT:
            reasons.append(f"rejected after excursion {reference} ({when})")
        elif assessment.impact is Impact.QUARANTINE:
            reasons.append(f"quarantined after excursion {reference} ({when}); QA must release it")
    pending = sorted(references[i] for i in excursion_ids if references[i] not in latest)
    for reference in pending:
        reasons.append(f"pending QA assessment of excursion {reference}")
    return "; ".join(reasons) or decision.reason
