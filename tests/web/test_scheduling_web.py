"""Scheduling through the web: the plan page, the Gantt chart (Plotly data and the server-drawn
SVG), my schedule and its iCalendar feed, the JSON API; and a role matrix: who may solve, who
may read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.scheduling import service
from atmpchain.scheduling.sample import month_problem
from atmpchain.scheduling.seed import load_problem
from atmpchain.scheduling.solver import Settings
from atmpchain.uow import UnitOfWork

MONDAY = date(2026, 1, 5)
READERS = [r for r in Role if r is not Role.DEVICE]


@pytest.fixture
def otto(make_persona: Callable[..., Persona]) -> Persona:
    """An operator whose account is person OP01 of the plan."""
    return make_persona(Role.OPERATOR, username="otto", full_name="Otto Operator")


@pytest.fixture
def planned(uow: UnitOfWork, make_persona: Callable[..., Persona], otto: Persona) -> Persona:
    """A small plan (three batches) saved as version 1; person OP01 is the account 'otto'."""
    planner = make_persona(Role.PROCESS_SCIENTIST, username="pia", full_name="Pia Planner")
    problem = month_problem(1, batches_per_month=40)
    problem = replace(problem, batches=problem.batches[:3], days=35)
    load_problem(
        uow, actor=planner.actor, problem=problem, start=MONDAY, usernames={"OP01": "otto"}
    )
    service.solve_plan(
        uow,
        actor=planner.actor,
        start=MONDAY,
        days=35,
        settings=Settings(time_limit=2.0, seed=1, workers=1, deterministic=True),
    )
    return planner


def test_plan_gantt_mine_and_calendar_feed(
    client: TestClient, planned: Persona, otto: Persona
) -> None:
    web_login(client, otto.actor.username, otto.password)
    page = client.get("/scheduling")
    assert page.status_code == 200 and "B001" in page.text and "Version 1" in page.text
    assert "Solve and save" not in page.text  # an operator reads the plan, does not make it
    # The sample suite's rooms have no cleanrooms record: the plan says so rather than guessing.
    assert 'data-testid="plan-facility-notes"' in page.text
    for by in ("workstation", "device", "person"):
        chart = client.get(f"/scheduling/gantt?by={by}")
        assert chart.status_code == 200
        assert 'id="gantt-data"' in chart.text and "<svg" in chart.text
    assert client.get("/scheduling/gantt?by=nonsense").status_code == 422
    mine = client.get("/scheduling/mine")
    feed = client.get("/scheduling/mine.ics")
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.startswith("BEGIN:VCALENDAR\r\n") and feed.text.endswith("END:VCALENDAR\r\n")
    events = feed.text.count("BEGIN:VEVENT")
    assert events == mine.text.count("<tr>") - 1  # one event per row of my table (header aside)
    api = client.get("/api/scheduling/plans/latest").json()
    assert api["version"] == 1 and {p["batch"] for p in api["patients"]} == {"B001", "B002", "B003"}
    assert client.get("/api/scheduling/plans/1").json()["steps"] == api["steps"]


def test_replan_from_the_page_shows_the_diff(client: TestClient, planned: Persona) -> None:
    csrf = web_login(client, planned.actor.username, planned.password)
    page = client.get("/scheduling")
    response = client.post(
        "/scheduling/solve",
        data={
            "start": "2026-01-05",
            "days": "35",
            "seconds": "2",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 303
    again = client.get("/scheduling")
    assert "Version 2" in again.text and 'data-testid="plan-diff"' in again.text
    bad = client.post(
        "/scheduling/solve", data={"start": "2026-01-06", "days": "35", "csrf_token": csrf}
    )
    assert bad.status_code == 422 and "a plan starts on a Monday" in bad.text
    del csrf


@pytest.mark.parametrize("role", READERS, ids=lambda r: r.value)
def test_role_matrix_for_solving_and_reading(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"s-{role.value.replace('_', '-')}")
    csrf = web_login(client, persona.actor.username, persona.password)
    may_plan = role in ROLE_PERMISSIONS[Permission.PLAN_SCHEDULE]
    may_read = role in ROLE_PERMISSIONS[Permission.VIEW_SCHEDULE]
    # A Tuesday start is refused by the rule (422) once the permission is granted (else 403):
    # the matrix needs no solving.
    response = client.post(
        "/api/scheduling/plans",
        json={"start": "2026-01-06", "days": 7},
        headers={"x-csrf-token": csrf},
    )
    assert response.status_code == (422 if may_plan else 403), (role, response.text)
    assert client.get("/scheduling").status_code == (200 if may_read else 403)
    assert client.get("/api/scheduling/plans/latest").status_code == (404 if may_read else 403)
