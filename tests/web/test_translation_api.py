"""The translation JSON API: a project, its definition versions and their diff, a document with
its SHA-256, a proven range, and the package (issue 14, item 8)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.demo_translation import research_routine
from atmpchain.translation import process_format

P = "/api/translation"


def test_a_scientist_works_a_project_through_the_api(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    pia = make_persona(Role.PROCESS_SCIENTIST, username="pia")
    h = {"x-csrf-token": web_login(client, pia.actor.username, pia.password)}
    created = client.post(
        f"{P}/projects",
        json={
            "code": "tp-api",
            "title": "CAR-T",
            "research_group": "g",
            "indication": "i",
            "product_class": "CAR-T",
        },
        headers=h,
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    body = {"definition": process_format.to_mapping(research_routine()), "reason": "v1"}
    assert client.post(f"{P}/projects/{pid}/definition", json=body, headers=h).json() == {
        "version": 1
    }
    same = client.post(f"{P}/projects/{pid}/definition", json=body, headers=h)
    assert same.status_code == 422 and "nothing to record" in same.json()["detail"]
    ranged = client.post(
        f"{P}/projects/{pid}/definition/parameter-range",
        json={
            "unit_operation": "activation",
            "parameter": "il2",
            "low": "50",
            "high": "200",
            "reason": "DoE",
        },
        headers=h,
    )
    assert ranged.json() == {"version": 2}
    changes = client.get(f"{P}/projects/{pid}/definition/diff?from=1&to=2").json()
    assert [c["path"] for c in changes] == [
        "activation / parameter il2 / low",
        "activation / parameter il2 / high",
    ]
    latest = client.get(f"{P}/projects/{pid}/definition").json()
    il2 = next(
        p
        for u in latest["definition"]["unit_operations"]
        if u["key"] == "activation"
        for p in u["parameters"]
        if p["name"] == "il2"
    )
    assert (il2["low"], il2["high"], latest["status"]) == ("50", "200", "draft")
    added = client.post(
        f"{P}/projects/{pid}/documents",
        files={"file": ("protocol.txt", b"the lab protocol", "text/plain")},
        headers=h,
    )
    assert added.json() == {"version": 1, "sha256": hashlib.sha256(b"the lab protocol").hexdigest()}
    document = client.get(f"{P}/projects/{pid}").json()["documents"][0]
    fetched = client.get(f"{P}/projects/{pid}/documents/{document['id']}")
    assert fetched.content == b"the lab protocol"
    assert fetched.headers["content-type"] == "application/octet-stream"
    draft = client.post(
        f"{P}/projects/{pid}/mbr-draft",
        json={
            "version": 2,
            "code": "C",
            "name": "n",
            "product_code": "S1295V00",
            "autologous": True,
            "shelf_life_hours": 72,
        },
        headers=h,
    )
    assert draft.status_code == 409 and "approved" in draft.json()["detail"]
    pdf = client.get(f"{P}/projects/{pid}/package.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
