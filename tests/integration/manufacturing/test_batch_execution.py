"""Executing a batch (issue 11, items 4, 5, 8): scans, values, deviations, signatures, holds,
order, corrections, the product units in quarantine, and QA's rejection."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, text
from tests.integration.conftest import Trail
from tests.integration.manufacturing.conftest import (
    DEVICE,
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    clear,
    fill_step,
    receive_lot,
    register_device,
    room_for,
    run_batch,
    run_step,
    start,
)

from atmpchain.clock import FixedClock
from atmpchain.custody import service as custody
from atmpchain.custody.control_rules import HoldKind
from atmpchain.equipment.errors import EquipmentNotUsable
from atmpchain.errors import DomainError
from atmpchain.manufacturing import batches, mbr, queries, steps, units
from atmpchain.manufacturing.domain import BatchStatus, UnitKind
from atmpchain.manufacturing.errors import BatchRuleError, BatchStateError, DeviationRequired
from atmpchain.manufacturing.models import Batch
from atmpchain.materials.errors import LotNotUsable
from atmpchain.quality.deviations import open_deviations_for
from atmpchain.uow import UnitOfWork


@pytest.fixture
def running(
    uow: UnitOfWork, site: Site, approved_mbr: mbr.MbrRef, patient: TrialPatient, supplies: Supplies
) -> str:
    """A batch started for the patient, line cleared."""
    number = start(uow, site, patient)
    clear(uow, site, number)
    return number


def _record(uow: UnitOfWork, number: str) -> queries.BatchRecord:
    with uow.db.read_session() as session:
        return queries.batch_record(session, number)


def test_a_whole_batch_runs_to_completion_and_its_bags_are_quarantined(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
    trail: Trail,
) -> None:
    number = start(uow, site, patient)
    run_batch(uow, clock, site, supplies, number)
    record = _record(uow, number)
    assert record.status is BatchStatus.COMPLETED
    assert all(s.done for s in record.steps)
    assert record.expiry == clock.now() + timedelta(hours=72)
    assert record.retain_traceability_until == date(2056, 1, 19)
    assert record.retain_record_until is None  # investigational: waits for the trial's end
    enrichment = next(s for s in record.steps if s.definition.ref == "S02")
    assert enrichment.yields[0][1] is not None
    made = units.make_units(
        uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.FINAL, count=2
    )
    assert len({u.din for u in made}) == 2
    record = _record(uow, number)
    assert [u.holds for u in record.units] == [
        (f"quarantined: made in batch {number}: quarantined until the batch is released",)
    ] * 2
    created = trail.after(trail.records("manufacturing:batch:unit-created")[0])
    assert created["chain_of_identity"] == patient.coi
    # The bag cannot be handed on (issued) while quarantined, nor moved by a plain scan.
    with pytest.raises(DomainError, match=number):
        custody.transfer(
            uow,
            actor=site.operator.actor,
            unit_scan=made[0].scan,
            to_username=site.second_operator.actor.username,
        )
    batches.record_trial_end(
        uow, actor=site.qa.actor, batch_number=number, trial_end=date(2030, 6, 30), reason="CSR"
    )
    assert _record(uow, number).retain_record_until == date(2035, 6, 30)


def test_an_unreleased_or_expired_lot_is_refused_at_scan(
    uow: UnitOfWork, clock: FixedClock, site: Site, supplies: Supplies, running: str
) -> None:
    run_step(uow, site, supplies, running, "S01")
    quarantined = receive_lot(uow, site, "MEDIUM", release=False)
    expired = receive_lot(uow, site, "MEDIUM", expires_on=clock.now().date() + timedelta(days=1))
    clock.advance(timedelta(days=2))
    for lot in (quarantined, expired):
        with pytest.raises(LotNotUsable) as refused:
            steps.scan_material(
                uow,
                actor=site.operator.actor,
                batch_number=running,
                step_ref="S02",
                lot_code=lot,
                quantity=1,  # type: ignore[arg-type]
                unit="mL",
            )
        assert refused.value.field == "lot_code"


def test_an_uncalibrated_device_is_refused_at_scan(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str
) -> None:
    run_step(uow, site, supplies, running, "S01")
    register_device(uow, site, "PRODIGY-02", "closed-processing-device", calibrated=False)
    with pytest.raises(EquipmentNotUsable) as refused:
        steps.scan_equipment(
            uow, actor=site.operator.actor, batch_number=running, step_ref="S02", code="PRODIGY-02"
        )
    assert refused.value.field == "equipment_code"
    steps.scan_equipment(
        uow, actor=site.operator.actor, batch_number=running, step_ref="S02", code=DEVICE
    )


def test_an_out_of_range_value_cannot_be_signed_without_a_deviation(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str, trail: Trail
) -> None:
    fill_step(uow, site, supplies, running, "S01", {"viability": "62"})
    with pytest.raises(DeviationRequired, match="viability out of range"):
        steps.sign_performed(
            uow,
            actor=site.operator.actor,
            batch_number=running,
            step_ref="S01",
            password=PASSWORD,
            location=room_for("S01"),
        )
    assert not trail.records("manufacturing:batch:step-performed")
    number = steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=running,
        step_ref="S01",
        password=PASSWORD,
        deviation=steps.DeviationIn("Low apheresis viability", "Viability 62 % at receipt"),
        location=room_for("S01"),
    )
    assert number is not None
    with uow.db.read_session() as session:
        found = open_deviations_for(session, batch_number=running)
    assert [(d.number, d.step_ref) for d in found] == [(number, "S01")]
    assert _record(uow, running).deviations == (number,)


def test_the_same_person_cannot_perform_and_verify(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str
) -> None:
    fill_step(uow, site, supplies, running, "S01")
    steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=running,
        step_ref="S01",
        password=PASSWORD,
        location=room_for("S01"),
    )
    with pytest.raises(BatchRuleError, match="second person"):
        steps.sign_verified(
            uow, actor=site.operator.actor, batch_number=running, step_ref="S01", password=PASSWORD
        )
    # Until verified, the next step cannot begin.
    with pytest.raises(BatchRuleError, match="finish step S01"):
        fill_step(uow, site, supplies, running, "S02")
    steps.sign_verified(
        uow,
        actor=site.second_operator.actor,
        batch_number=running,
        step_ref="S01",
        password=PASSWORD,
    )


def test_steps_follow_the_order_and_the_minimum_hold_time(
    uow: UnitOfWork, clock: FixedClock, site: Site, supplies: Supplies, running: str
) -> None:
    with pytest.raises(BatchRuleError, match="finish step S01"):
        steps.record_value(
            uow,
            actor=site.operator.actor,
            batch_number=running,
            step_ref="S03",
            name="temperature",
            value="37.0",
        )
    for ref in ("S01", "S02", "S03"):
        run_step(uow, site, supplies, running, ref)
    clock.advance(timedelta(hours=2))
    with pytest.raises(BatchRuleError, match="1080 minutes"):
        fill_step(uow, site, supplies, running, "S04")


def test_a_hold_time_exceeded_needs_a_deviation(
    uow: UnitOfWork, clock: FixedClock, site: Site, supplies: Supplies, running: str
) -> None:
    for ref in ("S01", "S02", "S03"):
        run_step(uow, site, supplies, running, ref)
    clock.advance(timedelta(hours=31))
    fill_step(uow, site, supplies, running, "S04")
    with pytest.raises(DeviationRequired, match="hold time"):
        steps.sign_performed(
            uow,
            actor=site.operator.actor,
            batch_number=running,
            step_ref="S04",
            password=PASSWORD,
            location=room_for("S04"),
        )


def test_a_correction_is_a_new_entry_with_a_reason(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str, trail: Trail
) -> None:
    fill_step(uow, site, supplies, running, "S01", {"apheresis_volume": "20"})
    first = next(e for e in _record(uow, running).steps[0].entries if e.name == "apheresis_volume")
    assert first.in_range is False
    with pytest.raises(DomainError, match="why"):
        steps.correct_value(
            uow,
            actor=site.operator.actor,
            batch_number=running,
            entry_id=first.id,
            value="200",
            reason="",
        )
    steps.correct_value(
        uow,
        actor=site.operator.actor,
        batch_number=running,
        entry_id=first.id,
        value="200",
        reason="typed 20 for 200",
    )
    entries = [e for e in _record(uow, running).steps[0].entries if e.name == "apheresis_volume"]
    assert [(e.value, e.corrected, e.corrects_id) for e in entries] == [
        ("20", True, None),
        ("200", False, first.id),
    ]
    corrected = trail.records("manufacturing:batch:entry-corrected")[0]
    assert corrected.reason == "typed 20 for 200"
    # Now in range: the step signs off without a deviation.
    steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=running,
        step_ref="S01",
        password=PASSWORD,
        location=room_for("S01"),
    )


def test_a_signed_step_takes_no_more_entries(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str
) -> None:
    run_step(uow, site, supplies, running, "S01")
    with pytest.raises(BatchStateError, match="signed"):
        steps.record_value(
            uow,
            actor=site.operator.actor,
            batch_number=running,
            step_ref="S01",
            name="viability",
            value="90",
        )


def test_qa_rejects_a_batch_and_its_bags_are_rejected(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    approved_mbr: mbr.MbrRef,
    patient: TrialPatient,
    supplies: Supplies,
) -> None:
    number = start(uow, site, patient)
    run_batch(uow, clock, site, supplies, number)
    units.make_units(uow, actor=site.operator.actor, batch_number=number, kind=UnitKind.FINAL)
    with pytest.raises(DomainError):
        batches.reject_batch(
            uow, actor=site.operator.actor, batch_number=number, password=PASSWORD, reason="x"
        )
    batches.reject_batch(
        uow, actor=site.qa.actor, batch_number=number, password=PASSWORD, reason="OOS viability"
    )
    record = _record(uow, number)
    assert record.status is BatchStatus.REJECTED
    assert record.units[0].holds == (
        f"{HoldKind.REJECTED.label}: batch {number} rejected by QA: OOS viability",
    )


def test_a_batch_cannot_be_deleted_before_its_retention_dates(
    uow: UnitOfWork, site: Site, running: str
) -> None:
    with uow, pytest.raises(Exception, match="retention"):
        uow.session.execute(delete(Batch).where(Batch.number == running))
        uow.session.flush()


def test_units_come_only_from_a_completed_batch(uow: UnitOfWork, site: Site, running: str) -> None:
    with pytest.raises(BatchStateError):
        units.make_units(uow, actor=site.operator.actor, batch_number=running, kind=UnitKind.FINAL)


def test_an_entry_of_the_batch_record_cannot_be_changed(
    uow: UnitOfWork, site: Site, supplies: Supplies, running: str
) -> None:
    fill_step(uow, site, supplies, running, "S01")
    with uow, pytest.raises(Exception, match="append-only"):
        uow.session.execute(text("UPDATE batch_entry SET value = '1'"))
        uow.session.flush()
