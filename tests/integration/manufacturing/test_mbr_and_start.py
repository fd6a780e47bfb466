"""Master batch record versions and starting a batch (issue 11, items 3 and 4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest
from tests.integration.conftest import Trail
from tests.integration.manufacturing.conftest import PASSWORD, Site, TrialPatient, start

from atmpchain.clock import FixedClock
from atmpchain.errors import PermissionDenied
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.manufacturing import batches, mbr, mbr_format, queries
from atmpchain.manufacturing.domain import BatchStatus
from atmpchain.manufacturing.errors import BatchRuleError, BatchStateError, MbrNotFound
from atmpchain.uow import UnitOfWork


def test_author_never_approves_their_own_mbr_version(uow: UnitOfWork, site: Site) -> None:
    ref = mbr.draft_mbr(
        uow, actor=site.qa.actor, definition=mbr_format.cart_example(), reason="drafted by QA"
    )
    with pytest.raises(BatchRuleError, match="author"):
        mbr.approve_mbr(
            uow,
            actor=site.qa.actor,
            code=ref.code,
            version=ref.version,
            effective_from=uow.clock.now().date(),
            password=PASSWORD,
        )


def test_an_operator_cannot_approve_an_mbr(uow: UnitOfWork, site: Site) -> None:
    ref = mbr.draft_mbr(
        uow, actor=site.scientist.actor, definition=mbr_format.cart_example(), reason="v1"
    )
    with pytest.raises(PermissionDenied):
        mbr.approve_mbr(
            uow,
            actor=site.operator.actor,
            code=ref.code,
            version=ref.version,
            effective_from=uow.clock.now().date(),
            password=PASSWORD,
        )


def test_a_draft_needs_a_reason(uow: UnitOfWork, site: Site) -> None:
    with pytest.raises(Exception, match="reason"):
        mbr.draft_mbr(
            uow, actor=site.scientist.actor, definition=mbr_format.cart_example(), reason=" "
        )


def test_no_batch_starts_before_the_mbr_is_effective(
    uow: UnitOfWork, clock: FixedClock, site: Site, patient: TrialPatient
) -> None:
    ref = mbr.draft_mbr(
        uow, actor=site.scientist.actor, definition=mbr_format.cart_example(), reason="v1"
    )
    with pytest.raises(MbrNotFound):
        start(uow, site, patient)
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=ref.code,
        version=ref.version,
        effective_from=(clock.now() + timedelta(days=3)).date(),
        password=PASSWORD,
    )
    with pytest.raises(MbrNotFound):
        start(uow, site, patient)
    clock.advance(timedelta(days=3))
    assert start(uow, site, patient).endswith("-00001")


def test_export_then_import_gives_the_same_definition(
    uow: UnitOfWork, site: Site, approved_mbr: mbr.MbrRef
) -> None:
    with uow.db.read_session() as session:
        text = mbr.export_mbr(session, approved_mbr.code, approved_mbr.version)
    again = mbr.import_mbr(uow, actor=site.scientist.actor, text=text, reason="re-import")
    assert again.version == approved_mbr.version + 1
    with uow.db.read_session() as session:
        assert mbr.export_mbr(session, again.code, again.version) == text


def test_an_mbr_change_does_not_touch_a_running_batch(
    uow: UnitOfWork, clock: FixedClock, site: Site, patient: TrialPatient, approved_mbr: mbr.MbrRef
) -> None:
    number = start(uow, site, patient)
    changed = mbr_format.cart_example()
    first = dataclasses.replace(changed.steps[0], title="Apheresis receipt, new wording")
    changed = dataclasses.replace(changed, steps=(first, *changed.steps[1:]))
    v2 = mbr.draft_mbr(uow, actor=site.scientist.actor, definition=changed, reason="wording")
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=v2.code,
        version=v2.version,
        effective_from=clock.now().date(),
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        record = queries.batch_record(session, number)
    assert record.mbr_version == approved_mbr.version
    assert record.steps[0].definition.title == "Apheresis receipt (day 0)"


def test_starting_material_of_another_patient_is_a_hard_stop(
    uow: UnitOfWork,
    site: Site,
    approved_mbr: mbr.MbrRef,
    make_patient: Callable[[str], TrialPatient],
    trail: Trail,
) -> None:
    anna = make_patient("PSN-0001")
    bert = make_patient("PSN-0002")
    wrong = dataclasses.replace(anna, apheresis_scan=bert.apheresis_scan)
    with pytest.raises(ChainOfIdentityMismatch, match="STOP"):
        start(uow, site, wrong)
    assert trail.records("identity:check:mismatch")
    assert not trail.records("manufacturing:batch:started")


def test_batch_numbers_follow_the_facility_sequence(
    uow: UnitOfWork, site: Site, approved_mbr: mbr.MbrRef, patient: TrialPatient, trail: Trail
) -> None:
    numbers = [start(uow, site, patient) for _ in range(3)]
    assert numbers == ["B26-00001", "B26-00002", "B26-00003"]
    after = trail.after(trail.records("manufacturing:batch:started")[0])
    assert after["mbr"] == "CART-CD19/1"
    assert after["patient_coi"] == patient.coi


def test_line_clearance_comes_before_the_first_step_and_once(
    uow: UnitOfWork, site: Site, approved_mbr: mbr.MbrRef, patient: TrialPatient
) -> None:
    number = start(uow, site, patient)
    batches.clear_line(
        uow,
        actor=site.operator.actor,
        batch_number=number,
        password=PASSWORD,
        checks="room, device and bench clear of the previous batch's materials and labels",
    )
    with uow.db.read_session() as session:
        record = queries.batch_record(session, number)
    assert record.status is BatchStatus.IN_PROCESS
    assert record.line_clearance is not None
    assert record.line_clearance.signature == "Olga Operator (performed)"
    with pytest.raises(BatchStateError):
        batches.clear_line(
            uow, actor=site.operator.actor, batch_number=number, password=PASSWORD, checks="again"
        )


def test_an_allogeneic_batch_needs_a_donor_lot(uow: UnitOfWork, site: Site) -> None:
    definition = dataclasses.replace(mbr_format.cart_example(), code="ALLO-1", autologous=False)
    ref = mbr.draft_mbr(uow, actor=site.scientist.actor, definition=definition, reason="allo")
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=ref.code,
        version=ref.version,
        effective_from=uow.clock.now().date(),
        password=PASSWORD,
    )
    request = batches.StartRequest(mbr_code="ALLO-1")
    with pytest.raises(BatchRuleError, match="donor lot"):
        batches.start_batch(uow, actor=site.operator.actor, request=request)
    number = batches.start_batch(
        uow,
        actor=site.operator.actor,
        request=dataclasses.replace(request, donor_lot="DONOR-7731"),
    )
    with uow.db.read_session() as session:
        assert queries.batch_record(session, number).donor_lot == "DONOR-7731"
