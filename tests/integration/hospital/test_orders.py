"""Orders: who the patient is, who approves, when the infusion is, which DIN is expected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.hospital.conftest import PASSWORD, PRODUCT, Staff, manufactured

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital import orders
from atmpchain.hospital.domain import DoseStatus
from atmpchain.hospital.models import Dose, Patient
from atmpchain.hospital.orders import OrderRequest
from atmpchain.uow import UnitOfWork


def _request(clock: FixedClock, **changes: object) -> OrderRequest:
    values: dict[str, object] = {
        "patient_ref": "PSN-0001",
        "display_name": "Maria Muster",
        "birth_date": date(1961, 3, 14),
        "product": PRODUCT,
        "appointment_at": clock.now() + timedelta(hours=26),
        "ward": "Haematology ward 3",
        "transport_minutes": 10,
    }
    values.update(changes)
    return OrderRequest(**values)  # type: ignore[arg-type]


def _count(uow: UnitOfWork, what: type[Dose] | type[Patient]) -> int:
    with uow.db.read_session() as session:
        return int(session.execute(select(func.count()).select_from(what)).scalar_one())


def _dose(uow: UnitOfWork, dose_id: int) -> Dose:
    with uow.db.read_session() as session:
        dose = session.get(Dose, dose_id)
        assert dose is not None
        session.expunge(dose)
        return dose


@pytest.mark.parametrize(
    "changes",
    [
        {"display_name": "Marie Muster"},
        {"birth_date": date(1961, 3, 15)},
    ],
    ids=["other name", "other birth date"],
)
def test_the_same_patient_id_with_another_name_or_birth_date_is_refused(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    trail: Trail,
    changes: dict[str, object],
) -> None:
    order()
    head = trail.head()
    with pytest.raises(Conflict, match="registered as Maria Muster, born 1961-03-14") as c:
        orders.order_dose(uow, actor=staff.physician.actor, request=_request(clock, **changes))
    assert c.value.field == "patient_ref"
    assert trail.head() == head
    assert (_count(uow, Patient), _count(uow, Dose)) == (1, 1)


def test_a_second_dose_for_the_same_patient_reuses_the_patient(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int]
) -> None:
    first = order()
    # The same person, typed with extra spaces: one patient, two doses, two chains of identity.
    second = orders.order_dose(
        uow,
        actor=staff.physician.actor,
        request=_request(clock, display_name="  Maria   Muster ", patient_ref=" PSN-0001 "),
    )
    assert (_count(uow, Patient), _count(uow, Dose)) == (1, 2)
    assert _dose(uow, first).coi != _dose(uow, second).coi


def test_the_orderer_cannot_approve_their_own_order(
    uow: UnitOfWork,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
    approved_catalogue: None,
    staff: Staff,
    trail: Trail,
) -> None:
    both = make_persona(Role.PHYSICIAN, Role.PHARMACIST, username="dual", full_name="Dual Role")
    dose_id = orders.order_dose(uow, actor=both.actor, request=_request(clock))
    head = trail.head()
    with pytest.raises(InvalidInput, match="you ordered this dose") as refused:
        orders.approve_order(uow, actor=both.actor, dose_id=dose_id, password=both.password)
    assert refused.value.field == "dose"
    assert trail.head() == head
    assert _dose(uow, dose_id).status is DoseStatus.ORDERED
    orders.approve_order(uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD)
    assert _dose(uow, dose_id).status is DoseStatus.APPROVED


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (timedelta(hours=-1), "in the past"),
        (timedelta(minutes=-6), "in the past"),
        (timedelta(days=367), "more than a year ahead"),
    ],
)
def test_an_appointment_in_the_past_or_too_far_ahead_is_refused(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    approved_catalogue: None,
    trail: Trail,
    shift: timedelta,
    message: str,
) -> None:
    head = trail.head()
    request = _request(clock, appointment_at=clock.now() + shift)
    with pytest.raises(InvalidInput, match=message) as refused:
        orders.order_dose(uow, actor=staff.physician.actor, request=request)
    assert refused.value.field == "appointment_at"
    assert trail.head() == head
    assert _count(uow, Dose) == 0


def test_an_appointment_without_a_time_zone_is_refused(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, approved_catalogue: None
) -> None:
    naive = datetime(2026, 1, 6, 9, 0)  # noqa: DTZ001 (the mistake under test)
    with pytest.raises(InvalidInput, match="time zone") as refused:
        orders.order_dose(
            uow, actor=staff.physician.actor, request=_request(clock, appointment_at=naive)
        )
    assert refused.value.field == "appointment_at"


def test_moving_an_appointment_into_the_past_is_refused(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = order()
    with pytest.raises(InvalidInput) as refused:
        orders.move_appointment(
            uow,
            actor=staff.physician.actor,
            dose_id=dose_id,
            appointment_at=clock.now() - timedelta(hours=2),
            reason="typo",
        )
    assert refused.value.field == "appointment_at"


def _wrong_check_character(manual: str) -> str:
    right = manual[-1]
    return manual[:-1] + ("A" if right != "A" else "B")


def test_an_expected_din_with_a_wrong_check_character_is_refused_by_field(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    trail: Trail,
) -> None:
    bag = manufactured(1)
    head = trail.head()
    with pytest.raises(InvalidInput) as refused:
        order(expected_din=_wrong_check_character(bag.manual))
    assert refused.value.field == "expected_din"
    assert trail.head() == head

    dose_id = order()
    head = trail.head()
    with pytest.raises(InvalidInput) as refused:
        orders.set_expected_din(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            din=_wrong_check_character(bag.manual),
            reason="shipment notice",
        )
    assert refused.value.field == "din"
    assert trail.head() == head
    assert _dose(uow, dose_id).expected_din is None

    orders.set_expected_din(
        uow, actor=staff.pharmacist.actor, dose_id=dose_id, din=bag.manual, reason="notice"
    )
    assert _dose(uow, dose_id).expected_din == bag.din


def test_a_product_without_an_approved_revision_cannot_be_ordered(
    uow: UnitOfWork, clock: FixedClock, staff: Staff
) -> None:
    with pytest.raises(InvalidInput) as refused:
        orders.order_dose(uow, actor=staff.physician.actor, request=_request(clock))
    assert refused.value.field == "product"


def test_cancelling_a_dose_keeps_its_record(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int], trail: Trail
) -> None:
    dose_id = order()
    with pytest.raises(InvalidInput) as refused:
        orders.cancel_dose(uow, actor=staff.physician.actor, dose_id=dose_id, reason=" ")
    assert refused.value.field == "reason"
    orders.cancel_dose(
        uow, actor=staff.physician.actor, dose_id=dose_id, reason="patient withdrew consent"
    )
    assert _dose(uow, dose_id).status is DoseStatus.CANCELLED
    (cancelled,) = trail.records("hospital:dose:cancelled")
    assert cancelled.reason == "patient withdrew consent"
