"""Controls and holds over HTTP (issue 9, items 4 and 8).

Item 4: a nurse's plain custody calls cannot take a dose's bag out of the tank and dispose of it.
Item 8: a held product shows its hold on the day board, the dose page, the trace and the custody
pages, and the next step says what it waits for, never "retrieve" while it waits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital._exposure import excursion_in_tank
from tests.integration.hospital.conftest import PASSWORD, Staff, manufactured
from tests.integration.hospital.test_dose_flow import _dose, _receive_and_store
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain.assessment import assess_impact
from atmpchain.coldchain.impact import Impact
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
cryostore = hospital.cryostore
order = hospital.order
staff = hospital.staff


def _login(client: TestClient, persona: Persona) -> str:
    client.cookies.clear()
    return web_login(client, persona.actor.username, persona.password)


@dataclass(frozen=True)
class Exposed:
    """A stored dose whose bag was in tank CRYO1 during excursion `excursion_id`."""

    dose_id: int
    unit_id: int
    bag: str
    excursion_id: int

    @property
    def number(self) -> str:
        return f"D{self.dose_id:06d}"


@pytest.fixture
def exposed(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> Exposed:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    device = make_persona(Role.DEVICE, username="tank-probe")
    unit_id = _dose(uow, dose_id).product_unit_id
    assert unit_id is not None
    excursion_id = excursion_in_tank(uow, clock, staff.qa.actor, device.actor, unit_id)
    return Exposed(dose_id, unit_id, bag.scan, excursion_id)


def _quarantine(uow: UnitOfWork, staff: Staff, x: Exposed) -> None:
    assess_impact(
        uow,
        actor=staff.qa.actor,
        excursion_id=x.excursion_id,
        product_unit_id=x.unit_id,
        impact=Impact.QUARANTINE,
        rationale="Peak -130 °C for 12 min: stability data pending from the manufacturer",
        password=PASSWORD,
    )


# --- item 4: the nurse's plain custody calls ----------------------------------------------------


def test_a_nurse_cannot_retrieve_and_dispose_of_a_stored_doses_bag_over_the_api(
    client: TestClient,
    db: Database,
    uow: UnitOfWork,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
) -> None:
    bag = manufactured(3)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    headers = {"x-csrf-token": _login(client, staff.nurse)}
    trail = Trail(db)
    before = trail.state()
    retrieved = client.post(
        "/api/custody/retrieve",
        json={"unit_scan": bag.scan, "location_scan": cryostore},
        headers=headers,
    )
    assert retrieved.status_code == 409, retrieved.text
    assert retrieved.json()["field"] == "unit_scan"
    assert f"belongs to dose D{dose_id:06d}" in retrieved.text
    assert f"/hospital/doses/{dose_id}" in retrieved.text
    disposed = client.post(
        "/api/custody/dispose", json={"unit_scan": bag.scan, "reason": "spare"}, headers=headers
    )
    assert disposed.status_code == 409 and f"dose D{dose_id:06d}" in disposed.text
    assert trail.state() == before
    where = client.get("/api/custody/where", params={"scan": bag.scan}).json()
    assert where["place"] == "position"
    assert where["controlled_by"]["controller"] == f"dose D{dose_id:06d}"


def test_the_scan_page_refuses_a_doses_bag_at_once_and_links_the_dose(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    bag = manufactured(4)
    dose_id = order(expected_din=bag.manual)
    _receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    token = _login(client, staff.nurse)
    page = client.post(
        "/custody/scan", data={"csrf_token": token, "action": "retrieve", "unit_scan": bag.scan}
    )
    assert page.status_code == 409
    error = re.search(r'data-testid="scan-error">(.*?)</p>', page.text, re.S)
    assert error is not None and f"belongs to dose D{dose_id:06d}" in error.group(1)
    assert f'href="/hospital/doses/{dose_id}"' in error.group(1)


# --- item 8: holds are visible everywhere -------------------------------------------------------


def test_the_board_shows_the_hold_and_what_the_next_step_waits_for(
    client: TestClient, uow: UnitOfWork, staff: Staff, exposed: Exposed
) -> None:
    _login(client, staff.pharmacist)
    page = client.get("/hospital/board")
    row = re.search(rf'data-testid="board-{exposed.number}".*?</tr>', page.text, re.S)
    assert row is not None
    assert "pending impact assessment" in row.group(0)
    waits = f"Waiting for QA impact assessment of excursion #{exposed.excursion_id} on LN2 tank 1"
    assert waits in row.group(0)
    assert "retrieve" not in row.group(0).lower()
    _quarantine(uow, staff, exposed)
    row = re.search(
        rf'data-testid="board-{exposed.number}".*?</tr>', client.get("/hospital/board").text, re.S
    )
    assert row is not None and "quarantined" in row.group(0)
    assert f"Waiting for QA&#39;s release after excursion #{exposed.excursion_id}" in row.group(0)


def test_the_board_api_lists_each_hold_and_what_it_waits_for(
    client: TestClient, staff: Staff, exposed: Exposed
) -> None:
    _login(client, staff.pharmacist)
    lines = client.get("/api/hospital/board").json()
    line = next(item for item in lines if item["number"] == exposed.number)
    assert [h["waits_for"] for h in line["holds"]] == [
        f"QA impact assessment of excursion #{exposed.excursion_id} on LN2 tank 1 (CRYO1)"
    ]
    assert line["next_action"].startswith("Waiting for QA impact assessment")


def test_the_dose_page_shows_each_hold_and_offers_no_retrieval(
    client: TestClient, uow: UnitOfWork, clock: FixedClock, staff: Staff, exposed: Exposed
) -> None:
    _quarantine(uow, staff, exposed)
    _login(client, staff.pharmacist)
    page = client.get(f"/hospital/doses/{exposed.dose_id}")
    assert page.status_code == 200
    holds = re.findall(r'data-testid="hold">(.*?)</li>', page.text, re.S)
    assert len(holds) == 1 and "Quarantined" in holds[0]
    assert f"quarantined after excursion #{exposed.excursion_id} on LN2 tank 1 (CRYO1)" in holds[0]
    assert "Next: Waiting for QA&#39;s release" in page.text
    assert 'data-testid="form-retrieve"' not in page.text
    # Once QA finds no impact, the hold is lifted and retrieval is the next step again.
    clock.advance(timedelta(minutes=30))
    assess_impact(
        uow,
        actor=staff.qa.actor,
        excursion_id=exposed.excursion_id,
        product_unit_id=exposed.unit_id,
        impact=Impact.NO_IMPACT,
        rationale="Stability data cover 30 min at -120 °C",
        password=PASSWORD,
    )
    _login(client, staff.pharmacist)  # half an hour later: a new session
    page = client.get(f"/hospital/doses/{exposed.dose_id}")
    assert 'data-testid="hold"' not in page.text
    assert 'data-testid="form-retrieve"' in page.text and "Next: Pharmacy: retrieve" in page.text


def test_the_trace_shows_the_hold_and_what_it_waits_for(
    client: TestClient, staff: Staff, exposed: Exposed
) -> None:
    _login(client, staff.qa)
    page = client.get("/hospital/trace", params={"patient_ref": "PSN-0001"})
    article = re.search(rf'data-testid="trace-{exposed.number}".*?</article>', page.text, re.S)
    assert article is not None
    assert "pending impact assessment" in article.group(0)
    assert 'data-testid="hold"' in article.group(0)
    assert "Next: Waiting for QA impact assessment" in article.group(0)


def test_the_custody_pages_show_the_control_and_the_hold(
    client: TestClient, staff: Staff, exposed: Exposed
) -> None:
    _login(client, staff.pharmacist)
    found = client.get("/custody/find", params={"scan": exposed.bag})
    assert found.status_code == 303 and found.headers["location"] == (
        f"/custody/units/{exposed.unit_id}"
    )
    unit_page = client.get(found.headers["location"]).text
    assert "pending impact assessment" in unit_page
    assert f"Waiting for QA impact assessment of excursion #{exposed.excursion_id}" in unit_page
    controlled = re.search(r'data-testid="controlled-by">(.*?)</p>', unit_page, re.S)
    assert controlled is not None and f"dose {exposed.number}" in controlled.group(1)
    storage_map = client.get("/custody/storage/CRYO1").text
    cell = re.search(r'data-testid="storage-map".*?</table>', storage_map, re.S)
    assert cell is not None
    assert "pending impact assessment" in cell.group(0)
    assert f"dose {exposed.number}" in cell.group(0)
    where = client.get("/api/custody/where", params={"scan": exposed.bag}).json()
    (hold,) = where["holds"]
    assert hold["kind"] == "pending_assessment" and hold["source"] == "coldchain.excursion"
    waits = f"QA impact assessment of excursion #{exposed.excursion_id}"
    assert hold["waits_for"].startswith(waits)
