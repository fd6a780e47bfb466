"""A late result fails after the product was released and infused (issue 12, item 6): the
record says the unit was infused, and the treating physician's notice carries the patient's
trace; all in the transaction of the result."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital.conftest import (  # noqa: F401 - the cryostore fixture
    CLEAN_LOG,
    Staff,
    cryostore,
    dose_row,
    thaw_and_issue,
)
from tests.integration.manufacturing.conftest import (
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    run_batch,
    start,
)
from tests.integration.qc.conftest import Lab, approve_spec, enter
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.custody import control
from atmpchain.custody import queries as custody_queries
from atmpchain.custody import service as custody
from atmpchain.errors import Conflict, PermissionDenied
from atmpchain.hospital import bedside, orders, receipt
from atmpchain.hospital.common import dose_number
from atmpchain.identity.din import Din
from atmpchain.manufacturing import mbr, units
from atmpchain.manufacturing.common import controller
from atmpchain.manufacturing.domain import BATCH, UnitKind
from atmpchain.manufacturing.models import Batch
from atmpchain.qc import queries, results
from atmpchain.qc.domain import ResultKind, Verdict
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import create_app


def _released_by_hand(uow: UnitOfWork, qa: Persona, number: str, unit_scan: str) -> None:
    """What the QP's certification (the release capability) does to the bag: the batch's
    control and quarantine end, through custody's control interface."""
    with uow:
        batch_id = uow.session.query(Batch.id).filter(Batch.number == number).scalar()
        where = custody.find_unit(uow.session, custody.read_unit_scan(unit_scan))
        key = controller(batch_id)
        control.lift_hold(
            uow,
            actor=qa.actor,
            unit_id=where.id,
            source=BATCH,
            reference=key.reference,
            reason="certified (test stand-in for the QP's certification)",
        )
        control.end_control(
            uow, actor=qa.actor, unit_id=where.id, controller=key, reason="released"
        )
        uow.commit()


@pytest.fixture
def staff(make_persona: Callable[..., Persona], site: Site) -> Staff:
    return Staff(
        physician=site.physician,
        pharmacist=site.pharmacist,
        second_pharmacist=make_persona(Role.PHARMACIST, username="pia", full_name="Pia Pharm"),
        nurse=make_persona(Role.NURSE, username="nora", full_name="Nora Ward"),
        qa=site.qa,
    )


def test_a_late_sterility_failure_after_infusion_reaches_the_physician_with_the_trace(
    uow: UnitOfWork,
    clock: FixedClock,
    settings: Settings,
    site: Site,
    lab: Lab,
    staff: Staff,
    cryostore: str,  # noqa: F811
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
) -> None:
    approve_spec(uow, lab)
    number = start(uow, site, patient)
    run_batch(uow, clock, site, supplies, number)
    (bag,) = units.make_units(
        uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.FINAL
    )
    interim = enter(uow, lab, number, "Sterility", "negative", kind=ResultKind.INTERIM)
    assert interim.verdict is Verdict.NEGATIVE_TO_DATE
    _released_by_hand(uow, site.qa, number, bag.scan)
    custody.transfer(
        uow,
        actor=site.operator.actor,
        unit_scan=bag.scan,
        to_party="World Courier",
        second_scan="&/" + patient.coi,
    )
    slot = cryostore
    dose_id = patient.dose_id
    pharmacist = site.pharmacist.actor
    orders.set_expected_din(
        uow,
        actor=staff.second_pharmacist.actor,
        dose_id=dose_id,
        din=bag.din + Din.parse(bag.din).check_character,
        reason="announced",
    )
    receipt.receive_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number=number,
        from_party="World Courier",
        shipper_log=CLEAN_LOG,
        shipper_log_name="s.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    receipt.put_away_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=slot,
        password=PASSWORD,
    )
    thaw_and_issue(uow, clock, staff, dose_id, bag.scan, slot)
    bedside.start_infusion(
        uow,
        actor=staff.nurse.actor,
        password=PASSWORD,
        wristband_scan="&/" + dose_row(uow, dose_id).coi,
        bag_scan=bag.scan,
    )
    # Day 14: the final sterility result (Ph. Eur. 2.6.27) comes after release and fails.
    failed = enter(uow, lab, number, "Sterility", "growth: Bacillus cereus")
    assert failed.late is not None
    assert failed.late.infused == (dose_number(dose_id),)
    assert failed.late.physicians_notified == ("Phoebe Physician",)
    with uow.db.read_session() as session:
        (flag,) = queries.late_result_flags(session, bag.din)
        notes = queries.notifications(session, result_id=failed.id)
        holds = custody_queries.where_is(session, bag.scan).holds
    assert flag.infused and flag.dose_id == dose_id
    physician = next(n for n in notes if n.recipient_role == "physician")
    assert physician.recipient_name == "Phoebe Physician"
    assert "ALREADY INFUSED" in physician.message
    assert physician.patient_trace is not None
    assert physician.patient_trace["patient_ref"] == patient.patient_ref
    assert physician.patient_trace["infusion_started_at"] is not None
    qa_note = next(n for n in notes if n.recipient_role == "qa")
    assert "Already infused: D" in qa_note.message
    assert any(h.source == "qc.late_result" for h in holds)
    # Each recipient acknowledges their own notice; nobody else's.
    with pytest.raises(PermissionDenied):
        results.acknowledge_notice(uow, actor=staff.nurse.actor, notice_id=physician.id)
    with pytest.raises(Conflict, match="sent to QA"):
        results.acknowledge_notice(uow, actor=site.physician.actor, notice_id=qa_note.id)
    results.acknowledge_notice(uow, actor=site.physician.actor, notice_id=physician.id)
    results.acknowledge_notice(uow, actor=site.qa.actor, notice_id=qa_note.id)
    with uow.db.read_session() as session:
        mine = queries.notifications(session, recipient_id=site.physician.actor.user_id)
    assert [n.acknowledged_at is not None for n in mine] == [True]
    # The dose's page says it too, to everyone who opens it.
    app = create_app(settings, db=uow.db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        web_login(client, site.physician.actor.username, site.physician.password)
        page = client.get(f"/hospital/doses/{dose_id}")
    assert page.status_code == 200
    assert "late QC result out of specification (already infused): Sterility" in page.text
