"""The catalogue's four eyes: the pharmacy proposes a product's values, another person in QA
puts them in force with a signature; nothing is edited in place."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.conftest import Trail
from tests.integration.hospital.conftest import PASSWORD, Staff

from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.hospital import catalogue
from atmpchain.hospital.entries import CatalogueEntry, parse_entry
from atmpchain.hospital.models import CatalogueRevision, RevisionStatus
from atmpchain.signatures.models import ElectronicSignature
from atmpchain.uow import UnitOfWork

CODE = "test-cells"


def _entry(limit_minutes: int = 30, **changes: Any) -> CatalogueEntry:
    return parse_entry(
        {
            "code": CODE,
            "name": "Test Cells",
            "inn": "testcel",
            "holder": "University Hospital pharmacy",
            "category": "investigational",
            "storage_condition": "Vapour phase of liquid nitrogen",
            "storage_high_c": -150,
            "thaw_method": "37 °C water bath",
            "thaw_minutes": 5,
            "preparation_minutes": 10,
            "infusion_minutes": 20,
            "limit_minutes": limit_minutes,
            "limit_basis": "infusion_start",
            "checks": ["Wristband matches the bag"],
            "source": "Investigator's brochure, section 6",
            **changes,
        }
    )


def _propose(uow: UnitOfWork, staff: Staff, limit_minutes: int = 30) -> int:
    return catalogue.propose_revision(
        uow,
        actor=staff.pharmacist.actor,
        entry=_entry(limit_minutes),
        reason="new stability data",
    )


def _decide(
    uow: UnitOfWork, staff: Staff, revision: int, approve: bool = True, comment: str | None = None
) -> None:
    catalogue.decide_revision(
        uow,
        actor=staff.qa.actor,
        code=CODE,
        revision=revision,
        approve=approve,
        password=PASSWORD,
        comment=comment,
    )


def _in_force(uow: UnitOfWork) -> tuple[int, int] | None:
    with uow.db.read_session() as session:
        found = catalogue.in_force(session, CODE)
        return None if found is None else (found.revision, found.limit_minutes)


def _status(uow: UnitOfWork, revision: int) -> RevisionStatus:
    with uow.db.read_session() as session:
        return session.execute(
            select(CatalogueRevision.status).where(CatalogueRevision.revision == revision)
        ).scalar_one()


def test_a_proposal_is_not_in_force_until_qa_approves_it_with_a_signature(
    uow: UnitOfWork, staff: Staff, trail: Trail
) -> None:
    assert _propose(uow, staff) == 1
    assert _in_force(uow) is None
    _decide(uow, staff, 1)
    assert _in_force(uow) == (1, 30)
    (approved,) = trail.records("hospital:catalogue:approved")
    assert approved.record_id == f"{CODE}/r1"
    with uow.db.read_session() as session:
        signature = session.execute(
            select(ElectronicSignature).where(ElectronicSignature.record_id == f"{CODE}/r1")
        ).scalar_one()
        assert signature.signer_name == "Quinn Reviewer"


def test_the_proposer_cannot_approve_their_own_proposal(
    uow: UnitOfWork, staff: Staff, trail: Trail
) -> None:
    # QA may propose too; then another QA person decides.
    catalogue.propose_revision(
        uow, actor=staff.qa.actor, entry=_entry(), reason="from the new SmPC"
    )
    before = trail.state()
    for approve, comment in ((True, None), (False, "values wrong")):
        with pytest.raises(InvalidInput, match="you proposed this revision") as refused:
            catalogue.decide_revision(
                uow,
                actor=staff.qa.actor,
                code=CODE,
                revision=1,
                approve=approve,
                password=PASSWORD,
                comment=comment,
            )
        assert refused.value.field == "revision"
    assert trail.state() == before
    assert _status(uow, 1) is RevisionStatus.PROPOSED
    assert _in_force(uow) is None


def test_a_second_proposal_while_one_is_pending_is_a_conflict(
    uow: UnitOfWork, staff: Staff, trail: Trail
) -> None:
    _propose(uow, staff, 30)
    head = trail.head()
    with pytest.raises(Conflict, match="revision 1 of test-cells is still waiting for QA") as c:
        _propose(uow, staff, 45)
    assert c.value.field == "code"
    assert trail.head() == head
    _decide(uow, staff, 1)
    assert _propose(uow, staff, 45) == 2


def test_rejecting_a_proposal_needs_a_comment(uow: UnitOfWork, staff: Staff, trail: Trail) -> None:
    _propose(uow, staff)
    head = trail.head()
    for comment in (None, "   "):
        with pytest.raises(InvalidInput) as refused:
            _decide(uow, staff, 1, approve=False, comment=comment)
        assert refused.value.field == "comment"
    assert trail.head() == head
    _decide(uow, staff, 1, approve=False, comment="limit not in the SmPC: cite section 6.3")
    assert _status(uow, 1) is RevisionStatus.REJECTED
    assert _in_force(uow) is None
    (rejected,) = trail.records("hospital:catalogue:rejected")
    assert trail.after(rejected)["comment"] == "limit not in the SmPC: cite section 6.3"


def test_a_decided_revision_cannot_be_decided_again(uow: UnitOfWork, staff: Staff) -> None:
    _propose(uow, staff)
    _decide(uow, staff, 1)
    with pytest.raises(Conflict, match="already approved"):
        _decide(uow, staff, 1, approve=False, comment="second thoughts")
    with pytest.raises(NotFound):
        _decide(uow, staff, 9)


def test_the_latest_approved_revision_is_in_force(uow: UnitOfWork, staff: Staff) -> None:
    _propose(uow, staff, 30)
    _decide(uow, staff, 1)
    _propose(uow, staff, 45)
    assert _in_force(uow) == (1, 30)  # a pending change is not in force
    _decide(uow, staff, 2)
    assert _in_force(uow) == (2, 45)
    _propose(uow, staff, 60)
    _decide(uow, staff, 3, approve=False, comment="no source for 60 min")
    assert _in_force(uow) == (2, 45)  # a rejected change leaves the one in force
    with uow.db.read_session() as session:
        (line,) = [x for x in catalogue.catalogue_lines(session) if x.code == CODE]
        assert (line.current_revision, line.pending_revision) == (2, None)
        assert line.current is not None and line.current.limit_minutes == 45


def test_loading_the_starting_catalogue_twice_proposes_nothing_new(
    uow: UnitOfWork, staff: Staff, approved_catalogue: None
) -> None:
    from atmpchain.hospital.entries import starting_catalogue

    again = catalogue.load_catalogue(
        uow, actor=staff.pharmacist.actor, text=starting_catalogue(), reason="reload"
    )
    assert again == []
