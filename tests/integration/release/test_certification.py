"""QP certification (issue 12, items 4 and 5): the review by exception of a completed batch,
what blocks a certification, the QP's independence, and the QP's signed rejection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.manufacturing.conftest import (
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    clear,
    fill_step,
    room_for,
    start,
)
from tests.integration.release.conftest import Release

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.custody import control
from atmpchain.custody.control_rules import HoldKind
from atmpchain.custody.models import ProductUnit
from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.manufacturing import mbr_format, steps
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.manufacturing.domain import BatchStatus
from atmpchain.quality import service as quality_service
from atmpchain.quality.deviations import raise_deviation
from atmpchain.release import queries, service
from atmpchain.release.domain import Decision, Section
from atmpchain.release.errors import CertificationBlocked, ReleaseRuleError, ReleaseStateError
from atmpchain.uow import UnitOfWork


def _review(uow: UnitOfWork, number: str, viewer: Persona | None = None) -> queries.ReleaseReview:
    with uow.db.read_session() as session:
        return queries.release_review(
            session,
            number,
            today=uow.clock.now().date(),
            viewer_id=viewer.user_id if viewer else None,
        )


def _holds(uow: UnitOfWork, din: str) -> list[HoldKind]:
    with uow.db.read_session() as session:
        unit = session.query(ProductUnit).filter_by(din=din).one()
        return [h.kind for h in control.holds_of(session, [unit.id]).get(unit.id, ())]


def test_the_review_of_a_clean_batch_collapses_each_fine_section_to_one_line(
    uow: UnitOfWork, completed: Release
) -> None:
    review = _review(uow, completed.number)
    by_section = {s.section: s for s in review.sections}
    for section in (Section.STEPS, Section.PARAMETERS, Section.DEVIATIONS, Section.MATERIALS):
        assert by_section[section].fine and len(by_section[section].items) == 1
    assert by_section[Section.IDENTITY].fine
    assert "2 units bound" in by_section[Section.IDENTITY].items[0].text
    # The batch's steps were signed in the suite's rooms, where no EM sample was planned.
    environment = by_section[Section.ENVIRONMENT].items
    assert environment and all("no EM sample planned or read" in i.text for i in environment)
    assert not any(i.blocks for i in environment)


def test_an_open_critical_deviation_is_listed_with_its_classification_and_blocks(
    uow: UnitOfWork, completed: Release, site: Site
) -> None:
    ref = raise_deviation(
        uow,
        actor=site.operator.actor,
        title="Bag port found open",
        description="The final bag's sampling port was found open after filling.",
        planned=False,
        batch_number=completed.number,
    )
    quality_service.classify(
        uow, actor=site.qa.actor, number=ref.number, classification="critical", rationale="sterile"
    )
    review = _review(uow, completed.number)
    (line,) = next(s for s in review.sections if s.section is Section.DEVIATIONS).items
    assert ref.number in line.text and "critical" in line.text and line.blocks
    assert any(ref.number in r for r in review.blockers[Decision.CERTIFIED])
    with pytest.raises(CertificationBlocked) as refused:
        service.decide(
            uow,
            actor=completed.qp.actor,
            batch_number=completed.number,
            decision=Decision.CERTIFIED,
            password=PASSWORD,
        )
    assert ref.number in refused.value.message


def test_certification_without_a_bound_specification_is_refused_and_writes_nothing(
    uow: UnitOfWork, completed: Release, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(CertificationBlocked, match="no QC specification"):
        service.decide(
            uow,
            actor=completed.qp.actor,
            batch_number=completed.number,
            decision=Decision.CERTIFIED,
            password=PASSWORD,
        )
    assert trail.state() == before
    assert _holds(uow, completed.bag_din) == [HoldKind.QUARANTINE]


def _run_verified_by(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    number: str,
    verifier: Persona,
) -> None:
    """Every step of the batch, the verifications signed by `verifier`."""
    clear(uow, site, number)
    for ref in ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08"):
        if ref == "S04":
            clock.advance(timedelta(hours=20))
        if ref == "S05":
            clock.advance(timedelta(days=10))
        fill_step(uow, site, supplies, number, ref)
        steps.sign_performed(
            uow,
            actor=site.operator.actor,
            batch_number=number,
            step_ref=ref,
            password=PASSWORD,
            location=room_for(ref),
        )
        if mbr_format.cart_example().step(ref).verify:
            steps.sign_verified(
                uow, actor=verifier.actor, batch_number=number, step_ref=ref, password=PASSWORD
            )


def test_a_qp_who_verified_a_step_cannot_certify_the_batch(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    approved_mbr: object,
    make_persona: Callable[..., Persona],
    make_patient: Callable[[str], TrialPatient],
) -> None:
    both = make_persona(Role.QA, Role.QUALIFIED_PERSON, username="vera", full_name="Vera Both")
    number = start(uow, site, make_patient("PSN-0042"))
    _run_verified_by(uow, clock, site, supplies, number, both)
    review = _review(uow, number, viewer=both)
    assert review.signed_by_viewer
    people = next(s for s in review.sections if s.section is Section.PEOPLE)
    assert people.items[0].blocks
    with pytest.raises(ReleaseRuleError, match="another Qualified Person") as refused:
        service.decide(
            uow,
            actor=both.actor,
            batch_number=number,
            decision=Decision.REJECTED,
            password=PASSWORD,
            comment="trying to decide on my own batch",
        )
    assert refused.value.field == "batch_number"


def test_only_a_qualified_person_decides(uow: UnitOfWork, completed: Release, site: Site) -> None:
    with pytest.raises(PermissionDenied):
        service.decide(
            uow,
            actor=site.qa.actor,
            batch_number=completed.number,
            decision=Decision.REJECTED,
            password=PASSWORD,
            comment="QA is not the QP",
        )


def test_the_qp_rejects_the_batch_by_signature_and_its_units_are_held_rejected(
    uow: UnitOfWork, completed: Release, trail: Trail
) -> None:
    with pytest.raises(InvalidInput, match="the comment is required"):
        service.decide(
            uow,
            actor=completed.qp.actor,
            batch_number=completed.number,
            decision=Decision.REJECTED,
            password=PASSWORD,
            comment="  ",
        )
    service.decide(
        uow,
        actor=completed.qp.actor,
        batch_number=completed.number,
        decision=Decision.REJECTED,
        password=PASSWORD,
        comment="viability trend unexplained",
    )
    assert _holds(uow, completed.bag_din) == [HoldKind.REJECTED]
    assert _holds(uow, completed.retained_din) == [HoldKind.REJECTED]
    with uow.db.read_session() as session:
        assert batch_queries.batch_record(session, completed.number).status is (
            BatchStatus.REJECTED
        )
        decided = queries.certification_of(session, completed.number)
    assert decided is not None and decided.decision is Decision.REJECTED
    assert decided.qp_name == "Petra Qualified" and decided.signature_meaning == "reviewed"
    (entry,) = trail.records("release:batch:rejected")
    assert trail.after(entry)["decision"] == "rejected"
    with pytest.raises(ReleaseStateError, match="already rejected"):
        service.decide(
            uow,
            actor=completed.qp.actor,
            batch_number=completed.number,
            decision=Decision.REJECTED,
            password=PASSWORD,
            comment="again",
        )
