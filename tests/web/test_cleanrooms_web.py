"""The cleanrooms through HTTP: the permission matrix of every route for every role, the room
board and a room's page with its forms, the gowning page, and the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.cleanrooms import suite
from atmpchain.clock import FixedClock
from atmpchain.uow import UnitOfWork

P = "/api/cleanrooms"
DAY = "2026-01-05"

#: (method, path, body, the permissions any one of which lets the caller past the check)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[Permission, ...]]] = [
    ("GET", f"{P}/rooms", None, (Permission.VIEW_CLEANROOMS,)),
    ("GET", f"{P}/rooms/NOPE", None, (Permission.VIEW_CLEANROOMS,)),
    ("GET", f"{P}/sessions?batch_number=B26-1", None, (Permission.VIEW_CLEANROOMS,)),
    ("GET", f"{P}/gowning", None, (Permission.VIEW_CLEANROOMS,)),
    ("POST", f"{P}/areas", {"code": "AREA-X", "name": "X"}, (Permission.MANAGE_CLEANROOMS,)),
    (
        "POST",
        f"{P}/rooms",
        {"area": "NOPE", "code": "R-X", "name": "X", "grade": "C"},
        (Permission.MANAGE_CLEANROOMS,),
    ),
    ("POST", f"{P}/rooms/NOPE/doors", {"other_room": "NOPE2"}, (Permission.MANAGE_CLEANROOMS,)),
    (
        "POST",
        f"{P}/workstations",
        {"room": "NOPE", "code": "W-X", "name": "X"},
        (Permission.MANAGE_CLEANROOMS,),
    ),
    (
        "POST",
        f"{P}/rooms/NOPE/qualification",
        {
            "passed": True,
            "performed_on": DAY,
            "next_due": "2027-01-05",
            "reference": "R",
            "password": "x",
        },
        (Permission.QUALIFY_ROOMS,),
    ),
    (
        "POST",
        f"{P}/rooms/NOPE/state",
        {"state": "cleaning", "reason": "end of day"},
        (Permission.OPERATE_ROOMS,),
    ),
    (
        "POST",
        f"{P}/cleanings",
        {"location": "NOPE", "agent": "A", "agent_lot": "L", "contact_minutes": 5},
        (Permission.OPERATE_ROOMS,),
    ),
    ("POST", f"{P}/sessions/close", {"location": "NOPE"}, (Permission.OPERATE_ROOMS,)),
    (
        "POST",
        f"{P}/gowning",
        {"username": "nobody", "grade": "B", "performed_on": DAY, "passed": True},
        (Permission.RECORD_GOWNING,),
    ),
    (
        "POST",
        f"{P}/media-fills",
        {"username": "nobody", "run_reference": "APS", "performed_on": DAY, "passed": True},
        (Permission.RECORD_GOWNING,),
    ),
]


def test_the_matrix_lists_every_cleanroom_api_route() -> None:
    from atmpchain.web.api.cleanrooms import router

    listed = {(m, p.split(P, 1)[1].split("?")[0]) for m, p, _, _ in ROUTES}
    assert len(listed) == len(router.routes)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_passes_exactly_the_cleanroom_checks_it_may(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"c-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for method, path, body, needed in ROUTES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        response = client.request(method, path, json=body, headers={"x-csrf-token": token})
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
    # The pages: seen by those who may view the cleanrooms, refused to the others.
    for page in ("/cleanrooms", "/cleanrooms/gowning"):
        shown = client.get(page)
        expected = 200 if role in ROLE_PERMISSIONS[Permission.VIEW_CLEANROOMS] else 403
        assert shown.status_code == expected, (role, page)


@pytest.fixture
def staff(make_persona: Callable[..., Persona]) -> tuple[Persona, Persona]:
    return (
        make_persona(Role.QA, username="quinn", full_name="Quinn Reviewer"),
        make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator"),
    )


@pytest.fixture
def rooms(uow: UnitOfWork, clock: FixedClock, staff: tuple[Persona, Persona]) -> list[str]:
    qa = staff[0]
    return suite.install_suite(
        uow, actor=qa.actor, password=qa.password, qualified_on=clock.now().date()
    )


def test_the_room_board_and_a_room_page_with_its_forms(
    client: TestClient, staff: tuple[Persona, Persona], rooms: list[str]
) -> None:
    operator = staff[1]
    web_login(client, operator.actor.username, operator.password)
    board = client.get("/cleanrooms").text
    for code in rooms:
        assert f'data-room="{code}"' in board
    assert "in operation" in board and "BSC-1" in board
    page = client.get("/cleanrooms/rooms/CR-B1").text
    token = csrf_from(page)
    # An operator cannot close a room for an investigation: the page says why.
    refused = client.post(
        "/cleanrooms/rooms/CR-B1/state",
        data={"csrf_token": token, "new_state": "closed-for-investigation", "reason": "growth"},
    )
    assert refused.status_code == 403 and "cleanrooms.qualify" in refused.text
    moved = client.post(
        "/cleanrooms/rooms/CR-B1/state",
        data={"csrf_token": token, "new_state": "cleaning", "reason": "end of day"},
        follow_redirects=True,
    )
    assert moved.status_code == 200 and 'data-testid="room-state">cleaning' in moved.text
    bad = client.post(
        "/cleanrooms/rooms/CR-B1/cleaning",
        data={
            "csrf_token": token,
            "location": "BSC-1",
            "agent": "Ethanol",
            "agent_lot": "E1",
            "contact_minutes": "0",
        },
    )
    assert bad.status_code == 422 and "contact_minutes" in bad.text
    logged = client.post(
        "/cleanrooms/rooms/CR-B1/cleaning",
        data={
            "csrf_token": token,
            "location": "BSC-1",
            "agent": "Ethanol 70 %",
            "agent_lot": "E1",
            "contact_minutes": "2",
            "line_clearance": "cabinet empty",
        },
        follow_redirects=True,
    )
    assert logged.status_code == 200 and "cabinet empty" in logged.text


def test_the_api_board_state_change_and_gowning(
    client: TestClient, staff: tuple[Persona, Persona], rooms: list[str]
) -> None:
    qa = staff[0]
    token = web_login(client, qa.actor.username, qa.password)
    headers = {"x-csrf-token": token}
    board = client.get(f"{P}/rooms").json()
    assert [r["code"] for r in board["rooms"]] == ["AL-B1", "CR-B1", "CR-C1", "CR-D1"]
    assert board["cascade_problems"] == []
    closed = client.post(
        f"{P}/rooms/CR-C1/state",
        json={"state": "closed-for-investigation", "reason": "settle plate growth"},
        headers=headers,
    )
    assert closed.status_code == 204
    assert client.get(f"{P}/rooms/CR-C1").json()["state"] == "closed-for-investigation"
    back = client.post(
        f"{P}/rooms/CR-C1/state", json={"state": "in-operation", "reason": "x"}, headers=headers
    )
    assert back.status_code == 409 and "through cleaning" in back.json()["detail"]
    gowned = client.post(
        f"{P}/gowning",
        json={"username": "olga", "grade": "B", "performed_on": DAY, "passed": True},
        headers=headers,
    )
    assert gowned.status_code == 201
    self_observed = client.post(
        f"{P}/gowning",
        json={"username": "quinn", "grade": "B", "performed_on": DAY, "passed": True},
        headers=headers,
    )
    assert self_observed.status_code == 422
    lines = client.get(f"{P}/gowning").json()
    assert [(g["username"], g["grade"], g["status"]) for g in lines] == [
        ("olga", "B", "not-qualified")
    ]
    assert "olga" in client.get("/cleanrooms/gowning").text
