"""Each role lands on today's work (issue 10 item 7): what it must do now, in words."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import PASSWORD, WARM_LOG, Staff, manufactured
from tests.web.conftest import web_login

from atmpchain.accounts import users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.db import Database
from atmpchain.hospital import receipt
from atmpchain.hospital.domain import dose_number
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
order = hospital.order
staff = hospital.staff


def _landing(client: TestClient, persona: Persona) -> str:
    client.cookies.clear()
    web_login(client, persona.actor.username, persona.password)
    page = client.get("/")
    assert page.status_code == 200
    return page.text


def _section(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}".*?</section>', page, re.S)
    assert match, f"no section {testid}"
    return match.group(0)


def test_a_pharmacist_lands_on_todays_doses_and_the_orders_to_approve(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    waiting = order(hours=30, approve=False)
    today = order(patient_ref="PSN-0002", name="Otto Other", hours=2)
    page = _landing(client, staff.pharmacist)
    assert f"Dose {dose_number(waiting)}" in _section(page, "work-approve")
    assert f"Dose {dose_number(today)}" in _section(page, "work-doses")
    assert 'data-testid="work-holds"' not in page  # QA's, not the pharmacist's


def test_qa_lands_on_holds_flags_and_access_waiting_for_approval(
    client: TestClient,
    uow: UnitOfWork,
    staff: Staff,
    order: Callable[..., int],
    make_persona: Callable[..., Persona],
) -> None:
    bag = manufactured(41)
    dose_id = order(hours=30, expected_din=bag.manual)
    receipt.receive_dose(
        uow,
        actor=staff.pharmacist.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="LOT-1",
        from_party="World Courier",
        shipper_log=WARM_LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username="newtech",
        full_name="Nina Newtech",
        roles=(Role.PHARMACY_TECHNICIAN,),
        password="a-long-enough-password-1",
    )
    page = _landing(client, staff.qa)
    assert "on hold for QA" in _section(page, "work-holds")
    assert f"/hospital/doses/{dose_id}" in _section(page, "work-holds")
    assert "Nina Newtech" in _section(page, "work-access")
    assert "Pharmacy technician" in _section(page, "work-access")
    assert 'data-testid="work-flags"' in page
    assert 'data-testid="work-assessments"' in page
    assert 'data-testid="work-approve"' not in page


def test_an_admin_lands_on_the_facility_and_users_waiting_for_qa(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    admin = make_persona(Role.ADMIN, username="ada")
    users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username="newnurse",
        full_name="Ned Newnurse",
        roles=(Role.NURSE,),
        password="a-long-enough-password-1",
    )
    page = _landing(client, admin)
    assert "/facility" in _section(page, "work-facility")
    assert "Ned Newnurse" in _section(page, "work-users")
    assert 'data-testid="work-doses"' not in page


def test_the_dashboard_never_holds_two_connections_at_once(
    client: TestClient, db: Database, make_persona: Callable[..., Persona]
) -> None:
    """A request that waits for a second pooled connection while holding one can, under load,
    wait on itself until the pool's timeout: every role's dashboard reads on one at a time."""
    held = {"now": 0, "most": 0}

    def out(*_: object) -> None:
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])

    def back(*_: object) -> None:
        held["now"] -= 1

    personas = [
        make_persona(role, username=f"p-{role.value}") for role in Role if role is not Role.DEVICE
    ]
    event.listen(db.engine, "checkout", out)
    event.listen(db.engine, "checkin", back)
    try:
        for persona in personas:
            _landing(client, persona)
    finally:
        event.remove(db.engine, "checkout", out)
        event.remove(db.engine, "checkin", back)
    assert held["most"] == 1


def test_a_technician_lands_on_the_doses_waiting_for_hands_on_work(
    client: TestClient,
    staff: Staff,
    order: Callable[..., int],
    make_persona: Callable[..., Persona],
) -> None:
    approved = order(hours=2)
    ordered = order(patient_ref="PSN-0002", name="Otto Other", hours=3, approve=False)
    technician = make_persona(Role.PHARMACY_TECHNICIAN, username="tess")
    doses = _section(_landing(client, technician), "work-doses")
    assert "waiting for your hands" in doses
    assert f"Dose {dose_number(approved)}" in doses
    assert f"Dose {dose_number(ordered)}" not in doses  # the pharmacist's approval comes first


def test_own_activity_is_in_words_not_action_codes(
    client: TestClient, staff: Staff, order: Callable[..., int]
) -> None:
    order(hours=30, approve=False)
    activity = _section(_landing(client, staff.physician), "own-activity").split("<tbody>")[1]
    assert "ordered a dose" in activity
    assert "logged in" in activity
    assert not re.search(r">[a-z-]+:[a-z-]+:[a-z-]+<", activity), "a bare action code is shown"
