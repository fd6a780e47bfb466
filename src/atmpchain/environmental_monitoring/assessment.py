"""QA's signed assessment of an action-level EM excursion's impact on a batch open there.

Until it is signed, the excursion blocks the batch's certification (issue 13 item 8): the
release review reads `queries.em_for_batch(...).unassessed_action_events`.
"""

from __future__ import annotations

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.environmental_monitoring import queries as em_queries
from atmpchain.environmental_monitoring.domain import EmImpact, Level, parse_impact
from atmpchain.environmental_monitoring.models import EmExcursion, EmImpactAssessment
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.quality.domain import clean_batch_number
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

ASSESSMENT_RECORD = "em_impact_assessment"
MAX_RATIONALE = 4000


def assess_impact(
    uow: UnitOfWork,
    *,
    actor: Actor,
    excursion_id: int,
    batch_number: str,
    impact: str | EmImpact,
    rationale: str,
    password: str,
) -> int:
    """QA signs its decision on one action-level excursion's impact on one batch open in its
    session; returns the assessment id. One decision per excursion and batch."""
    actor.require(Permission.ASSESS_EM_IMPACT)
    decision = parse_impact(impact)
    text = required_text(rationale, field="rationale", ask="give the rationale for the decision")
    if len(text) > MAX_RATIONALE:
        raise InvalidInput(f"the rationale is longer than {MAX_RATIONALE} characters", "rationale")
    cleaned = clean_batch_number(batch_number)
    if cleaned is None:
        raise InvalidInput("the batch number is required", "batch_number")
    # Cleanrooms records the batches open in a session in upper case.
    batch = cleaned.upper()
    with uow:
        session = uow.session
        excursion = session.get(EmExcursion, excursion_id)
        if excursion is None:
            raise NotFound(f"there is no EM excursion #{excursion_id}", "excursion_id")
        if excursion.level is not Level.ACTION:
            raise InvalidInput(
                f"EM excursion #{excursion_id} is at alert level: only action-level events need "
                "QA's impact assessment before certification",
                "excursion_id",
            )
        batches = [b for b in excursion.batch_numbers.split(",") if b]
        # A batch that joined the session after the event reads it in its release review too
        # (em_for_batch lists every excursion of the batch's sessions): QA assesses it for that
        # batch as well, or its certification would stay blocked for good.
        if batch not in batches and excursion_id not in {
            e.id for e in em_queries.em_for_batch(session, batch).excursions
        }:
            raise InvalidInput(
                f"batch {batch} was not open in the session of EM excursion #{excursion_id} "
                f"(open there: {', '.join(batches) or 'none'})",
                "batch_number",
            )
        if session.execute(
            select(EmImpactAssessment.id).where(
                EmImpactAssessment.excursion_id == excursion_id,
                EmImpactAssessment.batch_number == batch,
            )
        ).first():
            raise Conflict(
                f"the impact of EM excursion #{excursion_id} on batch {batch} is already assessed",
                "batch_number",
            )
        record_id = f"{excursion_id}/{batch}"
        content = {
            "excursion_id": excursion_id,
            "description": excursion.description,
            "deviation_number": excursion.deviation_number,
            "batch_number": batch,
            "impact": decision.value,
            "rationale": text,
        }
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=ASSESSMENT_RECORD,
            record_id=record_id,
            content=content,
            meaning=Meaning.APPROVED,
        )
        row = EmImpactAssessment(
            excursion_id=excursion_id,
            batch_number=batch,
            impact=decision.value,
            rationale=text,
            assessed_at=signature.signed_at,
            assessed_by_id=actor.user_id,
            signature_id=signature.id,
        )
        session.add(row)
        session.flush()
        uow.audit.record(
            AuditAction.EM_IMPACT_ASSESSED,
            actor=actor,
            record_type=ASSESSMENT_RECORD,
            record_id=record_id,
            after={**content, "signature_id": signature.id, "assessed_at": row.assessed_at},
        )
        uow.commit()
        return row.id
