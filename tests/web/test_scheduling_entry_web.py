"""Entering planning data and re-planning through the web: the JSON API registers a person with
shifts and qualifications, a closure and a patient's batch, refuses bad input naming the
field; the "something broke" form records an absence, re-plans, and the version page and the
person's own schedule show the notice, which they acknowledge. And who may do which."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.scheduling import queries, service
from atmpchain.scheduling.sample import cart_template, month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

MONDAY = date(2026, 1, 5)
_WRITES = (Permission.MANAGE_SCHEDULE_RESOURCES, Permission.PLAN_SCHEDULE)
#: One role for each combination of the two write permissions (the rest of the role matrix,
#: every role against every read, is in test_route_permissions): keeps the matrix fast.
PROFILES = list(
    {
        tuple(r in ROLE_PERMISSIONS[p] for p in _WRITES): r for r in Role if r is not Role.DEVICE
    }.values()
)


@pytest.fixture
def planner(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.PROCESS_SCIENTIST, Role.QA, username="pia", full_name="Pia Planner")


def test_api_enters_resources_closures_and_demand(
    client: TestClient, uow: UnitOfWork, planner: Persona, make_persona: Callable[..., Persona]
) -> None:
    make_persona(Role.OPERATOR, username="otto")
    make_persona(Role.PHYSICIAN, username="dora")
    service.save_template(uow, actor=planner.actor, template=cart_template("CART"))
    csrf = web_login(client, planner.actor.username, planner.password)
    h = {"x-csrf-token": csrf}
    person = {
        "code": "OP07",
        "kind": "person",
        "name": "Otto Operator",
        "shifts": [{"weekdays": [0, 1, 2, 3, 4], "start": "07:00", "end": "15:30"}],
        "qualifications": [
            {"name": "grade B gowning", "valid_from": "2026-01-01", "valid_until": "2026-12-31"}
        ],
        "username": "otto",
    }
    made = client.post("/api/scheduling/resources", json=person, headers=h)
    assert made.status_code == 201, made.text
    assert made.json()["spec"]["shifts"] == [
        {"weekdays": [0, 1, 2, 3, 4], "start": 420, "end": 930}
    ]
    bad = client.post(
        "/api/scheduling/resources",
        json={**person, "code": "OP08", "shifts": [{"weekdays": [0], "start": "7h", "end": "9"}]},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "shifts[0].start"
    changed = client.patch(
        "/api/scheduling/resources/OP07",
        json={
            "reason": "moved to lates",
            "shifts": [{"weekdays": [0], "start": "12:00", "end": "20:00"}],
        },
        headers=h,
    )
    assert changed.status_code == 200 and changed.json()["spec"]["shifts"][0]["start"] == 720
    assert changed.json()["spec"]["qualifications"][0]["name"] == "grade B gowning"
    no_reason = client.patch(
        "/api/scheduling/resources/OP07", json={"reason": "", "name": "O"}, headers=h
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"

    closure = client.post(
        "/api/scheduling/closures",
        json={
            "resource_code": "OP07",
            "starts_at": "2026-01-12T00:00Z",
            "ends_at": "2026-01-14T00:00Z",
            "reason": "annual leave",
        },
        headers=h,
    )
    assert closure.status_code == 201 and closure.json()["kind"] == "person"
    batch = {
        "batch_code": "P-101",
        "patient_ref": "PT-101",
        "template_code": "CART",
        "material": "fresh",
        "apheresis_from": "2026-01-06T08:00Z",
        "infusion_from": "2026-01-26T08:00Z",
        "infusion_to": "2026-02-02T08:00Z",
        "physician": "dora",
    }
    entered = client.post("/api/scheduling/demand", json=batch, headers=h)
    assert entered.status_code == 201, entered.text
    assert entered.json()["apheresis_to"] == entered.json()["apheresis_from"]
    unknown = client.post(
        "/api/scheduling/demand",
        json={**batch, "batch_code": "P-102", "physician": "drno"},
        headers=h,
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "physician"
    gone = client.post(
        "/api/scheduling/demand/P-101/withdraw", json={"reason": "patient unwell"}, headers=h
    )
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    listed = client.get("/api/scheduling/demand?open_only=true").json()
    assert listed == []
    with uow.db.read_session() as session:
        [p] = queries.problem_for(session, MONDAY, 14).people
    assert p.absences and p.absences[0].reason == "annual leave"


def test_something_broke_form_replans_and_the_person_acknowledges(
    client: TestClient, uow: UnitOfWork, planner: Persona, make_persona: Callable[..., Persona]
) -> None:
    otto = make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")
    problem = month_problem(1, batches_per_month=40)
    problem = replace(problem, batches=problem.batches[:2], days=35)
    load_problem(uow, actor=planner.actor, problem=problem, start=MONDAY)
    service.solve_plan(
        uow,
        actor=planner.actor,
        start=MONDAY,
        days=35,
        settings=Settings(time_limit=2.0, seed=1, workers=1, deterministic=True),
    )
    with uow.db.read_session() as session:
        first = queries.latest_plan(session)
    assert first is not None and first.plan is not None
    # The person with the most work is Otto, and is off sick for the whole horizon.
    counts: dict[str, int] = {}
    for a in first.plan.assignments:
        for p in a.people:
            counts[p] = counts.get(p, 0) + 1
    sick = max(counts, key=lambda k: counts[k])
    csrf = web_login(client, planner.actor.username, planner.password)
    edit = client.post(
        f"/scheduling/resources/{sick}",
        data={
            "name": "Otto Operator",
            "shifts": "Mon-Fri 07:00-19:00",
            "qualifications": "\n".join(
                f"{q.name}: 2026-01-01 to 2026-12-31"
                for q in next(x for x in problem.people if x.code == sick).qualifications
            ),
            "username": "otto",
            "active": "yes",
            "reason": "account linked",
            "csrf_token": csrf,
        },
    )
    assert edit.status_code == 303, edit.text
    page = client.get("/scheduling/disruptions")
    assert page.status_code == 200 and 'data-testid="form-person_off"' in page.text
    missing = client.post(
        "/scheduling/disruptions",
        data={"kind": "person_off", "person": sick, "reason": "off sick", "csrf_token": csrf},
    )
    assert missing.status_code == 422 and 'data-testid="error-starts_at"' in missing.text
    done = client.post(
        "/scheduling/disruptions",
        data={
            "kind": "person_off",
            "person": sick,
            "starts_at": "2026-01-05T00:00",
            "ends_at": "2026-02-09T00:00",
            "reason": "off sick",
            "seconds": "2",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/scheduling/plans/2"
    version = client.get("/scheduling/plans/2")
    assert version.status_code == 200 and 'data-testid="version-notices"' in version.text
    assert "otto (person)" in version.text and "no longer yours" in version.text

    client.cookies.clear()
    otto_csrf = web_login(client, otto.actor.username, otto.password)
    mine = client.get("/scheduling/mine")
    assert 'data-testid="my-notices"' in mine.text and "Acknowledge" in mine.text
    [notice] = [n for n in client.get("/api/scheduling/notices").json() if n["username"] == "otto"]
    ack = client.post(
        f"/scheduling/notices/{notice['id']}/acknowledge", data={"csrf_token": otto_csrf}
    )
    assert ack.status_code == 303
    again = client.post(
        f"/api/scheduling/notices/{notice['id']}/acknowledge", headers={"x-csrf-token": otto_csrf}
    )
    assert again.status_code == 409
    assert client.get("/api/scheduling/notices?open_only=true").json() == []


@pytest.mark.parametrize("role", PROFILES, ids=lambda r: r.value)
def test_role_matrix_for_entering_and_replanning(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"e-{role.value.replace('_', '-')}")
    csrf = web_login(client, persona.actor.username, persona.password)
    h = {"x-csrf-token": csrf}
    may_manage = role in ROLE_PERMISSIONS[Permission.MANAGE_SCHEDULE_RESOURCES]
    may_plan = role in ROLE_PERMISSIONS[Permission.PLAN_SCHEDULE]
    # Each write is refused by its rule (422) or a missing record (404) once the permission is
    # granted, else 403: nothing is written either way.
    closure = client.post(
        "/api/scheduling/closures",
        json={
            "resource_code": "X",
            "starts_at": "2026-01-12T00:00Z",
            "ends_at": "2026-01-11T00:00Z",
            "reason": "r",
        },
        headers=h,
    )
    assert closure.status_code == (422 if may_manage else 403), (role, closure.text)
    withdraw = client.post("/api/scheduling/demand/NONE/withdraw", json={"reason": "r"}, headers=h)
    assert withdraw.status_code == (404 if may_plan else 403), (role, withdraw.text)
    broke = client.post(
        "/api/scheduling/disruptions", json={"kind": "person_off", "reason": "r"}, headers=h
    )
    assert broke.status_code == (422 if may_plan else 403), (role, broke.text)
