# ruff: noqa: F811 - the hospital's cryostore fixture is imported to be used by name
"""Release with QC (issue 12, items 5, 7): certification before all results lists the pending
tests and frees the bag into the hospital's dose flow up to the bedside; blocked by an
unassessed OOS, allowed once it clears; the Part IV §11.5 supply end to end with its clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.hospital.conftest import (  # noqa: F401 - cryostore: a fixture
    Staff,
    cryostore,
    dose_row,
    thaw_and_issue,
)
from tests.integration.manufacturing.conftest import PASSWORD, Site
from tests.integration.qc.conftest import Lab, enter
from tests.integration.release.conftest import GOOD_RESULTS, Release, pass_qc

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.custody import control
from atmpchain.custody import service as custody_service
from atmpchain.custody.control_rules import HoldKind
from atmpchain.custody.models import ProductUnit
from atmpchain.hospital import bedside, orders, receipt
from atmpchain.hospital import queries as hospital_queries
from atmpchain.hospital.domain import DoseStatus
from atmpchain.hospital.dose_record_pdf import dose_record_pdf
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.qc import oos
from atmpchain.qc import queries as qc_queries
from atmpchain.release import queries, records, service
from atmpchain.release.domain import Decision, NoticeState, SupplyStep
from atmpchain.release.errors import CertificationBlocked, ReleaseRuleError
from atmpchain.uow import UnitOfWork


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(document[n].get_textpage().get_text_range() for n in range(len(document)))
    finally:
        document.close()


LOG = "time,temperature\n" + "".join(f"2026-01-04T{h:02d}:00:00Z,-170.5\n" for h in range(6, 20))


def _holds(uow: UnitOfWork, din: str) -> list[HoldKind]:
    with uow.db.read_session() as session:
        unit = session.query(ProductUnit).filter_by(din=din).one()
        return [h.kind for h in control.holds_of(session, [unit.id]).get(unit.id, ())]


def _controlled(uow: UnitOfWork, din: str) -> bool:
    with uow.db.read_session() as session:
        unit = session.query(ProductUnit).filter_by(din=din).one()
        return control.active_control(session, unit.id) is not None


def _certify_early(uow: UnitOfWork, release: Release) -> int:
    return service.decide(
        uow,
        actor=release.qp.actor,
        batch_number=release.number,
        decision=Decision.CERTIFIED_BEFORE_ALL_RESULTS,
        password=PASSWORD,
        procedure="SOP-QP-012 v1",
    )


@pytest.fixture
def staff(site: Site, make_persona: Callable[..., Persona]) -> Staff:
    return Staff(
        physician=site.physician,
        pharmacist=site.pharmacist,
        second_pharmacist=make_persona(Role.PHARMACIST, username="pia", full_name="Pia Pharm"),
        nurse=make_persona(Role.NURSE, username="nora", full_name="Nora Ward"),
        qa=site.qa,
    )


def test_certification_before_all_results_lists_the_pending_tests_and_frees_the_bag(
    uow: UnitOfWork, tested: Release, lab: Lab, trail: Trail
) -> None:
    pass_qc(uow, lab, tested.number)
    with uow.db.read_session() as session:
        review = queries.release_review(session, tested.number, today=uow.clock.now().date())
    assert review.pending_tests == ("Sterility", "Mycoplasma", "Vector copy number")
    assert review.blockers[Decision.CERTIFIED_BEFORE_ALL_RESULTS] == ()
    with pytest.raises(CertificationBlocked, match="certify before all results"):
        service.decide(
            uow,
            actor=tested.qp.actor,
            batch_number=tested.number,
            decision=Decision.CERTIFIED,
            password=PASSWORD,
        )
    with pytest.raises(ReleaseRuleError) as unnamed:
        service.decide(
            uow,
            actor=tested.qp.actor,
            batch_number=tested.number,
            decision=Decision.CERTIFIED_BEFORE_ALL_RESULTS,
            password=PASSWORD,
        )
    assert unnamed.value.field == "procedure"
    assert _holds(uow, tested.bag_din) == [HoldKind.QUARANTINE]
    _certify_early(uow, tested)
    with uow.db.read_session() as session:
        decided = queries.certification_of(session, tested.number)
    assert decided is not None
    assert decided.decision is Decision.CERTIFIED_BEFORE_ALL_RESULTS
    assert decided.procedure == "SOP-QP-012 v1" and decided.signature_meaning == "released"
    assert decided.pending_tests == ("Sterility", "Mycoplasma", "Vector copy number")
    assert _holds(uow, tested.bag_din) == [] and not _controlled(uow, tested.bag_din)
    # The retained sample stays with the batch, in quarantine.
    assert _holds(uow, tested.retained_din) == [HoldKind.QUARANTINE]
    (entry,) = trail.records("release:batch:certified")
    assert trail.after(entry)["pending_tests"] == list(decided.pending_tests)
    assert trail.after(entry)["released_units"] == [tested.bag_din]


def test_an_unassessed_oos_blocks_certification_until_the_laboratory_phase_is_done(
    uow: UnitOfWork, tested: Release, lab: Lab
) -> None:
    pass_qc(uow, lab, tested.number, GOOD_RESULTS | {"Viability": "61"})
    with pytest.raises(CertificationBlocked, match="OOS not assessed yet: Viability"):
        _certify_early(uow, tested)
    with uow.db.read_session() as session:
        (investigation,) = qc_queries.batch_qc(session, tested.number).open_oos_investigations
    oos.record_phase1(
        uow,
        actor=lab.analyst.actor,
        investigation_id=investigation.id,
        lab_error=False,
        assignable_cause="pipettes, reagents and calculation checked: no laboratory error",
    )
    # Assessed: now a confirmed OOS, which only a §11.5 supply or a rejection can answer.
    with pytest.raises(CertificationBlocked) as still:
        _certify_early(uow, tested)
    assert "OOS not assessed" not in still.value.message
    assert "out of specification: Viability" in still.value.message


def test_an_oos_product_is_supplied_after_the_four_signed_steps_and_the_clock_runs(
    uow: UnitOfWork,
    clock: FixedClock,
    tested: Release,
    lab: Lab,
    site: Site,
    staff: Staff,
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> None:
    pass_qc(uow, lab, tested.number, GOOD_RESULTS | {"Viability": "61"})
    with uow.db.read_session() as session:
        (investigation,) = qc_queries.batch_qc(session, tested.number).open_oos_investigations
    oos.record_phase1(
        uow,
        actor=lab.analyst.actor,
        investigation_id=investigation.id,
        lab_error=False,
        assignable_cause="no laboratory error found",
    )
    physician, qp = site.physician, tested.qp
    # Only the treating physician (who ordered the patient's dose) requests it, for that dose.
    other = make_persona(Role.PHYSICIAN, username="otto-md", full_name="Otto Other")
    for actor, dose_id, words in (
        (other.actor, tested.patient.dose_id, "only the treating physician"),
        (physician.actor, None, "name the dose"),
    ):
        with pytest.raises(ReleaseRuleError, match=words) as refused:
            service.request_oos_supply(
                uow,
                actor=actor,
                batch_number=tested.number,
                dose_id=dose_id,
                clinical_reason="no alternative",
                password=PASSWORD,
            )
        assert refused.value.field == "dose_id"
    supply = service.request_oos_supply(
        uow,
        actor=physician.actor,
        batch_number=tested.number,
        dose_id=tested.patient.dose_id,
        clinical_reason="relapsed ALL, no alternative; OOS viability did as well in real life",
        password=PASSWORD,
    )
    with pytest.raises(ReleaseRuleError, match="comes after"):
        service.record_supply_step(
            uow,
            actor=physician.actor,
            supply_id=supply,
            step=SupplyStep.ACCEPTED,
            text="accepted",
            password=PASSWORD,
        )
    with pytest.raises(CertificationBlocked, match=r"§11\.5"):
        service.decide(
            uow,
            actor=qp.actor,
            batch_number=tested.number,
            decision=Decision.SUPPLIED_OUT_OF_SPECIFICATION,
            password=PASSWORD,
            procedure=None,
        )
    service.record_supply_step(
        uow,
        actor=qp.actor,
        supply_id=supply,
        step=SupplyStep.RISK_EVALUATED,
        text="viability 61 % (>= 80 %): lower expansion expected; no sterility concern",
        password=PASSWORD,
    )
    service.record_supply_step(
        uow,
        actor=physician.actor,
        supply_id=supply,
        step=SupplyStep.ACCEPTED,
        text="risk evaluation read and accepted for my patient",
        password=PASSWORD,
    )
    service.decide(
        uow,
        actor=qp.actor,
        batch_number=tested.number,
        decision=Decision.SUPPLIED_OUT_OF_SPECIFICATION,
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        view = queries.supply_view(session, supply, now=clock.now())
        decided = queries.certification_of(session, tested.number)
    assert decided is not None and decided.supply_id == supply
    assert view.clock.state is NoticeState.NOT_ADMINISTERED
    assert view.next_step is SupplyStep.NOTIFIED and "sponsor" in view.notify
    # The bag goes to the bedside through the hospital's dose flow and is infused.
    dose_id = tested.patient.dose_id
    _infuse(uow, clock, staff, tested, dose_id, cryostore)
    with uow.db.read_session() as session:
        view = queries.supply_view(session, supply, now=clock.now() + timedelta(hours=47))
    assert view.clock.state is NoticeState.RUNNING and view.administered_at is not None
    clock.advance(timedelta(hours=3))
    service.record_supply_step(
        uow,
        actor=qp.actor,
        supply_id=supply,
        step=SupplyStep.NOTIFIED,
        text="sponsor CART-19-001 notified by e-mail, reference SAE-2026-014",
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        view = queries.supply_view(session, supply, now=clock.now())
    assert view.clock.state is NoticeState.SENT and view.next_step is None
    assert [s.step for s in view.steps] == list(SupplyStep)
    # The dose's page and the certificate say the product was supplied out of specification.
    with uow.db.read_session() as session:
        status = queries.release_status_of(session, tested.number)
        record = batch_queries.batch_record(session, tested.number)
    assert status is not None and status.out_of_specification
    pdf = records.certificate_pdf(record, decided, view, "Test", clock.now(), "Europe/Vienna")
    text = " ".join(_text(pdf).split())
    assert "SUPPLIED OUT OF SPECIFICATION" in text
    assert "Out of specification Viability" in text
    with uow.db.read_session() as session:
        dose = hospital_queries.dose_record(session, tested.patient.dose_id)
    printed = dose_record_pdf(dose, "Test", clock.now(), "Europe/Vienna", batch_release=status.text)
    assert "FOR SUPPLY OUT OF SPECIFICATION" in " ".join(_text(printed).split())


def _infuse(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, release: Release, dose_id: int, store: str
) -> None:
    """The operator ships the released bag; the hospital's dose flow takes it to the bedside."""
    custody_service.transfer(
        uow,
        actor=release.operator.actor,
        unit_scan=release.bag_scan,
        to_party="World Courier",
        second_scan="&/" + release.patient.coi,
    )
    orders.set_expected_din(
        uow,
        actor=staff.second_pharmacist.actor,
        dose_id=dose_id,
        din=release.bag_scan,
        reason="the manufacturer's release notice",
        password=PASSWORD,
    )
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=release.bag_scan,
        batch_number=release.number,
        from_party="the facility's cleanroom",
        shipper_log=LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    receipt.put_away_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=release.bag_scan,
        location_scan=store,
        password=PASSWORD,
    )
    thaw_and_issue(uow, clock, staff, dose_id, release.bag_scan, store)
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        password=PASSWORD,
        wristband_scan="&/" + dose_row(uow, dose_id).coi,
        bag_scan=release.bag_scan,
    )


def test_a_certified_bag_reaches_the_bedside_and_a_late_failure_reaches_its_physician(
    uow: UnitOfWork,
    clock: FixedClock,
    tested: Release,
    lab: Lab,
    staff: Staff,
    cryostore: str,
) -> None:
    pass_qc(uow, lab, tested.number)
    _certify_early(uow, tested)
    dose_id = tested.patient.dose_id
    _infuse(uow, clock, staff, tested, dose_id, cryostore)
    assert dose_row(uow, dose_id).status is DoseStatus.INFUSING
    late = enter(uow, lab, tested.number, "Sterility", "growth: Staphylococcus epidermidis")
    assert late.late is not None
    assert late.late.physicians_notified == ("Phoebe Physician",)
    with uow.db.read_session() as session:
        record = hospital_queries.dose_record(session, dose_id)
    assert record.batch_number == tested.number
