"""A sponsor's isolation over every gateway route: a sponsor's guest account never sees or
changes another sponsor's inquiry, by page, API, document link or guessed reference; and each
role reaches exactly the gateway routes its permissions allow."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.gateway_data import PDF, inquiry_fields
from tests.web.conftest import web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.db import Database
from atmpchain.gateway import inquiries
from atmpchain.gateway.domain import AttachmentKind, parse_inquiry
from atmpchain.moments import parse_day
from atmpchain.uow import UnitOfWork
from atmpchain.web.app import ROUTERS

GATEWAY_PREFIXES = ("/gateway", "/sponsor", "/api/gateway")


def gateway_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the gateway's staff and sponsor routes."""
    return sorted(
        (method, r.path)
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and r.path.startswith(GATEWAY_PREFIXES)
        for method in r.methods
    )


def _inquiry(uow: UnitOfWork, coordinator, sponsor_username: str, title: str) -> str:
    form = parse_inquiry(inquiry_fields(title=title), ["storage"], parse_date=parse_day)
    done = inquiries.submit_inquiry(
        uow,
        actor=inquiries.PUBLIC_ACTOR,
        form=form,
        attachments={AttachmentKind.SYNOPSIS: ("s.pdf", PDF)},
    )
    inquiries.invite_sponsor(
        uow, actor=coordinator.actor, reference=done.reference, username=sponsor_username
    )
    return done.reference


def _fill(path: str, reference: str) -> str:
    path = path.replace("{reference}", reference).replace("{kind}", "synopsis")
    return re.sub(r"\{[^}]+\}", "1", path)


def _body(method: str, path: str, reference: str) -> dict[str, object]:
    return {
        "to_state": "withdrawn",
        "reason": "not mine to withdraw",
        "text": "an answer on someone else's inquiry",
        "username": "sponsor-a",
        "reference": reference,
        "eu_ct_number": "2027-500000-00-00",
        "code": "X",
        "products": "X",
    }


def test_a_sponsor_never_reaches_another_sponsors_inquiry(
    client: TestClient, make_persona, uow: UnitOfWork, db: Database
) -> None:
    coordinator = make_persona(Role.TRIAL_COORDINATOR, username="tc-iso")
    a = make_persona(Role.SPONSOR_GUEST, username="sponsor-a")
    make_persona(Role.SPONSOR_GUEST, username="sponsor-b")
    mine = _inquiry(uow, coordinator, "sponsor-a", "Sponsor A trial")
    theirs = _inquiry(uow, coordinator, "sponsor-b", "Sponsor B secret trial")

    token = web_login(client, a.actor.username, a.password)
    routes = gateway_routes()
    assert len(routes) >= 20
    for method, path in routes:
        url = _fill(path, theirs)
        if method == "GET":
            answer = client.get(url)
        elif path.startswith("/api/"):
            answer = client.request(
                method, url, json=_body(method, path, theirs), headers={"x-csrf-token": token}
            )
        else:
            answer = client.request(
                method, url, data={**_body(method, path, theirs), "csrf_token": token}
            )
        if "{reference}" in path or method != "GET":
            assert answer.status_code in (403, 404), (method, path, answer.status_code)
        else:  # a list: open to them, showing only their own
            assert answer.status_code in (200, 403), (method, path, answer.status_code)
            assert theirs not in answer.text, (method, path)
        assert "Sponsor B secret trial" not in answer.text, (method, path)
    # Nothing of B's changed: still received, no message, no move.
    with db.read_session() as session:
        state = session.execute(
            text("SELECT state FROM inquiry WHERE reference = :r"), {"r": theirs}
        ).scalar_one()
        messages = session.execute(text("SELECT count(*) FROM inquiry_message")).scalar_one()
    assert state == "received" and messages == 0

    # Their own is open to them, by page, API and document; a guessed reference is not found.
    assert "Sponsor A trial" in client.get(f"/sponsor/inquiries/{mine}").text
    listed = client.get("/api/gateway/inquiries").json()
    assert [i["reference"] for i in listed] == [mine]
    assert client.get(f"/sponsor/inquiries/{mine}/documents/synopsis").content == PDF
    for guess in ("INQ-2026-0003", "INQ-2025-0001", theirs.lower()):
        assert client.get(f"/api/gateway/inquiries/{guess}").status_code == 404


#: The gateway's reads, and the permissions that open them (any one of them).
READS: dict[str, tuple[Permission, ...]] = {
    "/gateway/inquiries": (Permission.VIEW_INQUIRIES,),
    "/gateway/trials": (Permission.VIEW_INQUIRIES,),
    "/gateway/pipeline": (Permission.VIEW_INQUIRIES,),
    "/gateway/pipeline.csv": (Permission.VIEW_INQUIRIES,),
    "/sponsor/inquiries": (Permission.FOLLOW_OWN_INQUIRIES,),
    "/api/gateway/inquiries": (Permission.VIEW_INQUIRIES, Permission.FOLLOW_OWN_INQUIRIES),
    "/api/gateway/inquiries/overdue": (Permission.VIEW_INQUIRIES,),
    "/api/gateway/trials": (Permission.VIEW_INQUIRIES,),
    "/api/gateway/pipeline": (Permission.VIEW_INQUIRIES,),
    "/inquire": (),
}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_reaches_exactly_the_gateway_pages_it_may(
    client: TestClient, make_persona, role: Role
) -> None:
    persona = make_persona(role, username=f"g-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for path, needed in READS.items():
        allowed = not needed or any(role in ROLE_PERMISSIONS[p] for p in needed)
        status = client.get(path).status_code
        assert status == (200 if allowed else 403), (role, path, status)
    # A move on an inquiry nobody has: refused before the lookup unless the role may move any
    # (the coordinator) or its own (a sponsor): they are told it does not exist.
    moved = client.post(
        "/api/gateway/inquiries/INQ-2000-9999/move",
        json={"to_state": "triage", "reason": "x"},
        headers={"x-csrf-token": token},
    )
    may = (
        role
        in ROLE_PERMISSIONS[Permission.TRIAGE_INQUIRIES]
        | (ROLE_PERMISSIONS[Permission.FOLLOW_OWN_INQUIRIES])
    )
    assert moved.status_code == (404 if may else 403), (role, moved.status_code)
