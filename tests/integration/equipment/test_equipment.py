"""Equipment on SQLite and PostgreSQL: a device is used in a batch step only while qualified,
calibrated and maintained; each service record is signed and changes its status and due dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.equipment import queries, service
from atmpchain.equipment.errors import EquipmentNotUsable
from atmpchain.equipment.usage import check_equipment_usable, record_use_in
from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.uow import UnitOfWork

TODAY = date(2026, 1, 5)


@pytest.fixture
def technician(make_persona: Callable[..., Persona]) -> Persona:
    """Someone who calibrates and maintains the equipment."""
    return make_persona(Role.PROCESS_SCIENTIST, username="tess", full_name="Tess Technician")


def _prodigy(uow: UnitOfWork, qa: Persona) -> str:
    return service.register_equipment(
        uow,
        actor=qa.actor,
        code="eq-prodigy-01",
        name="Closed cell processing device 1",
        equipment_class="closed-processing-device",
        manufacturer="Miltenyi Biotec",
        serial_number="PRD-4711",
        location="Cleanroom C2",
        calibration_interval_days=365,
        maintenance_interval_days=180,
    )


def _qualify(uow: UnitOfWork, qa: Persona, code: str) -> None:
    service.record_service(
        uow,
        actor=qa.actor,
        code=code,
        kind="qualification",
        passed=True,
        performed_on=TODAY,
        reference="PQ-2026-003",
        password=qa.password,
    )


def _calibrate(uow: UnitOfWork, who: Persona, code: str, on: date = TODAY) -> None:
    service.record_service(
        uow,
        actor=who.actor,
        code=code,
        kind="calibration",
        passed=True,
        performed_on=on,
        reference="CAL-881",
        password=who.password,
    )


def test_registered_equipment_is_not_usable_until_qualified(
    uow: UnitOfWork, qa: Persona, trail: Trail
) -> None:
    code = _prodigy(uow, qa)
    assert code == "EQ-PRODIGY-01"
    with uow.db.read_session() as session, pytest.raises(EquipmentNotUsable) as refused:
        check_equipment_usable(session, code=code, on=TODAY)
    assert refused.value.field == "equipment_code"
    assert "not qualified" in refused.value.message
    _qualify(uow, qa, code)
    with uow.db.read_session() as session:
        usable = check_equipment_usable(
            session, code="EQ:EQ-PRODIGY-01", on=TODAY, required_class="closed-processing-device"
        )
    assert usable.name == "Closed cell processing device 1"
    assert trail.records("signatures:signature:applied")


def test_calibration_sets_the_next_due_date_and_overdue_calibration_is_refused(
    uow: UnitOfWork, qa: Persona, technician: Persona
) -> None:
    code = _prodigy(uow, qa)
    _qualify(uow, qa, code)
    _calibrate(uow, technician, code)
    due = TODAY + timedelta(days=365)
    with uow.db.read_session() as session:
        assert check_equipment_usable(session, code=code, on=due).calibration_due == due
        with pytest.raises(EquipmentNotUsable, match="calibration overdue since 2027-01-05"):
            check_equipment_usable(session, code=code, on=due + timedelta(days=1))


def test_wrong_class_and_unknown_equipment_are_refused(uow: UnitOfWork, qa: Persona) -> None:
    code = _prodigy(uow, qa)
    _qualify(uow, qa, code)
    with uow.db.read_session() as session:
        with pytest.raises(EquipmentNotUsable, match="class biosafety-cabinet needed"):
            check_equipment_usable(session, code=code, on=TODAY, required_class="biosafety-cabinet")
        with pytest.raises(EquipmentNotUsable, match="unknown equipment EQ-NONE"):
            check_equipment_usable(session, code="EQ-NONE", on=TODAY)


def test_failed_calibration_withdraws_the_qualification_until_requalified(
    uow: UnitOfWork, qa: Persona, technician: Persona
) -> None:
    code = _prodigy(uow, qa)
    _qualify(uow, qa, code)
    with pytest.raises(InvalidInput) as no_notes:
        service.record_service(
            uow,
            actor=technician.actor,
            code=code,
            kind="calibration",
            passed=False,
            performed_on=TODAY,
            reference="CAL-882",
            password=technician.password,
        )
    assert no_notes.value.field == "notes"
    service.record_service(
        uow,
        actor=technician.actor,
        code=code,
        kind="calibration",
        passed=False,
        performed_on=TODAY,
        reference="CAL-882",
        password=technician.password,
        notes="temperature probe 1.2 °C off",
    )
    with uow.db.read_session() as session:
        with pytest.raises(EquipmentNotUsable, match="qualification withdrawn"):
            check_equipment_usable(session, code=code, on=TODAY)
        detail = queries.equipment_detail(session, code, on=TODAY)
    assert detail is not None
    assert [(e.kind.value, e.passed) for e in detail.events] == [
        ("calibration", False),
        ("qualification", True),
    ]


def test_only_qa_qualifies_or_withdraws(
    uow: UnitOfWork, qa: Persona, technician: Persona, trail: Trail
) -> None:
    code = _prodigy(uow, qa)
    before = trail.state()
    with pytest.raises(PermissionDenied):
        _qualify(uow, technician, code)
    assert trail.state() == before


def test_use_is_recorded_in_the_callers_transaction(
    uow: UnitOfWork, qa: Persona, operator: Persona, trail: Trail
) -> None:
    code = _prodigy(uow, qa)
    with uow, pytest.raises(EquipmentNotUsable):
        record_use_in(
            uow, actor=operator.actor, code=code, batch_number="B1", step_ref="S1", on=TODAY
        )
    _qualify(uow, qa, code)
    with uow:
        record_use_in(
            uow, actor=operator.actor, code=code, batch_number="B26-0001", step_ref="S02", on=TODAY
        )
        uow.commit()
    with uow.db.read_session() as session:
        detail = queries.equipment_detail(session, code, on=TODAY)
    assert detail is not None
    assert [(u.batch_number, u.step_ref, u.by) for u in detail.uses] == [
        ("B26-0001", "S02", "olga")
    ]
    assert trail.rows("equipment_use") == 1
    assert trail.records("equipment:equipment:used")
    with uow.db.read_session() as session:
        used = queries.uses_of_equipment(session, "eq-prodigy-01")
        in_batch = queries.equipment_in_batch(session, "B26-0001")
        assert queries.equipment_in_batch(session, "B1") == []
    assert [(u.batch_number, u.step_ref, u.by) for u in used] == [("B26-0001", "S02", "olga")]
    assert [(u.code, u.equipment_class.value) for u in in_batch] == [
        ("EQ-PRODIGY-01", "closed-processing-device")
    ]


def test_due_list_shows_overdue_and_due_soon(
    uow: UnitOfWork, qa: Persona, technician: Persona
) -> None:
    code = _prodigy(uow, qa)
    _qualify(uow, qa, code)
    _calibrate(uow, technician, code)
    with uow.db.read_session() as session:
        assert queries.due_list(session, on=TODAY) == []
        later = queries.due_list(session, on=TODAY + timedelta(days=360))
        listed = queries.equipment_list(session, on=TODAY + timedelta(days=366))
    assert [v.code for v in later] == [code]
    assert listed[0].problem is not None and "calibration overdue" in listed[0].problem
