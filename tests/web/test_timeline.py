"""The inspector's timeline (issue 10 item 9): one chronological story per dose, patient and
unit, with who, when and why, as a page and as JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import PASSWORD, WARM_LOG, Staff, manufactured
from tests.web.conftest import web_login

from atmpchain.clock import FixedClock
from atmpchain.errors import DomainError
from atmpchain.hospital import queries, receipt
from atmpchain.hospital.domain import dose_number
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
order = hospital.order
staff = hospital.staff


def _receive(uow: UnitOfWork, staff: Staff, dose_id: int, scan: str) -> None:
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=scan,
        batch_number="LOT-5",
        from_party="World Courier",
        shipper_log=WARM_LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )


@pytest.fixture
def held_and_released(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> int:
    """A dose whose wrong bag was stopped, then received warm (held), stored and released."""
    bag = manufactured(81)
    dose_id = order(hours=30, expected_din=bag.manual)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(DomainError):
        _receive(uow, staff, dose_id, manufactured(82).scan)  # another patient's bag: STOP
    clock.advance(timedelta(minutes=1))
    _receive(uow, staff, dose_id, bag.scan)
    clock.advance(timedelta(minutes=1))
    receipt.put_away_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    clock.advance(timedelta(minutes=1))
    receipt.decide_hold(
        uow,
        actor=staff.qa.actor,
        dose_id=dose_id,
        release=True,
        rationale="peak within the manufacturer's stability data",
        password=PASSWORD,
    )
    return dose_id


def test_the_dose_timeline_tells_everything_in_time_order_with_who_and_why(
    client: TestClient, staff: Staff, held_and_released: int
) -> None:
    web_login(client, staff.qa.actor.username, staff.qa.password)
    response = client.get(f"/api/hospital/doses/{held_and_released}/timeline")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    kinds = [i["kind"] for i in items]
    for kind in ("dose-step", "custody", "temperature", "stop", "hold", "hold-lifted"):
        assert kind in kinds, kind
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    assert all(i["who"] and i["what"] for i in items)
    (stop,) = [i for i in items if i["kind"] == "stop"]
    assert stop["what"].startswith("STOP") and stop["why"]
    assert kinds.index("stop") < kinds.index("temperature")  # the STOP came first
    release = next(i for i in items if "released the product" in i["what"])
    assert release["kind"] == "qa-decision" and release["who"] == "Quinn Reviewer"
    assert release["why"] == "peak within the manufacturer's stability data"
    assert "Signed by Quinn Reviewer (approved)" in release["what"]
    receipt_step = next(i for i in items if "received the bag" in i["what"])
    assert "1 of them out of range" in receipt_step["what"]
    assert "{" not in receipt_step["what"] and "_" not in receipt_step["what"]  # no dumps


def test_the_timeline_pages_for_dose_patient_and_unit(
    client: TestClient, uow: UnitOfWork, staff: Staff, held_and_released: int
) -> None:
    with uow.db.read_session() as session:
        record = queries.dose_record(session, held_and_released)
    assert record.custody is not None
    web_login(client, staff.qa.actor.username, staff.qa.password)
    dose_page = client.get(f"/hospital/doses/{held_and_released}/timeline")
    assert dose_page.status_code == 200
    assert 'data-kind="stop"' in dose_page.text and "Reason given: peak within" in dose_page.text
    patient = client.get(f"/hospital/patients/{record.line.patient_ref}/timeline")
    assert patient.status_code == 200 and f"dose {dose_number(held_and_released)}" in patient.text
    unit = client.get(f"/api/hospital/units/{record.custody.unit.unit_id}/timeline").json()
    assert unit["title"].startswith(f"Unit of dose {dose_number(held_and_released)}")
    assert client.get("/api/hospital/units/999999/timeline").status_code == 404
    assert client.get("/api/hospital/patients/NOBODY/timeline").status_code == 404


def test_a_nurse_sees_a_dose_timeline_but_not_a_patients_trace(
    client: TestClient, staff: Staff, held_and_released: int, make_persona: Callable[..., Persona]
) -> None:
    web_login(client, staff.nurse.actor.username, staff.nurse.password)
    assert client.get(f"/api/hospital/doses/{held_and_released}/timeline").status_code == 200
    assert client.get("/api/hospital/patients/PSN-0001/timeline").status_code == 403
    assert client.get("/hospital/patients/PSN-0001/timeline").status_code == 403
