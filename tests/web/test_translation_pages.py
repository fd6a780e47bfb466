"""The translation pages from a pre-GMP scientist's browser: a routine taken in, defined, its
gaps and readiness recorded, an FMEA built, and the transfer package printed (issue 14, item 8)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import Role
from atmpchain.demo_translation import gmp_ready, research_routine
from atmpchain.translation import process_format
from atmpchain.translation.rules import rules


def _routine() -> str:
    return files("atmpchain.translation").joinpath("cart_research.json").read_text("utf-8")


def test_a_scientist_takes_a_routine_from_intake_to_an_fmea_in_the_pages(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="pia", full_name="Pia Pregmp")
    token = web_login(client, scientist.actor.username, scientist.password)
    created = client.post(
        "/translation/projects",
        data={
            "csrf_token": token,
            "code": "TP-WEB",
            "title": "CAR-T from the lab",
            "research_group": "Haematology",
            "indication": "B-cell lymphoma",
            "product_class": "CAR-T",
        },
    )
    assert created.status_code == 303
    base = created.headers["location"]
    refused = client.post(
        f"{base}/definition", data={"csrf_token": token, "definition": "{", "reason": "v1"}
    )
    assert refused.status_code == 422
    assert "not JSON" in refused.text and "{" in refused.text
    saved = client.post(
        f"{base}/definition",
        data={"csrf_token": token, "definition": _routine(), "reason": "as the lab runs it"},
    )
    assert saved.status_code == 303
    page = client.get(f"{base}/definition")
    assert "PBMC isolation by density gradient" in page.text and "no range" in page.text
    assert client.post(f"{base}/gaps/generate", data={"csrf_token": token}).status_code == 303
    assert "Density gradient medium" in client.get(f"{base}/gaps").text
    scores = {f"score_{c.key}": "40" for c in rules().readiness}
    assessed = client.post(f"{base}/readiness", data={"csrf_token": token, **scores})
    assert assessed.status_code == 303
    readiness = client.get(f"{base}/readiness")
    assert "40.00" in readiness.text and 'data-testid="readiness-svg"' in readiness.text
    started = client.post(f"{base}/fmea", data={"csrf_token": token, "template": "cart"})
    assert started.status_code == 303
    fmea = client.get(started.headers["location"])
    assert "Activation failure" in fmea.text and "not scored" in fmea.text
    added = client.post(
        f"{base}/fmea/1/modes",
        data={
            "csrf_token": token,
            "unit_operation": "expansion",
            "failure_mode": "Feeding contamination",
            "severity": "9",
            "occurrence": "4",
            "detection": "3",
        },
    )
    assert added.status_code == 303
    fmea = client.get(f"{base}/fmea")
    assert ">108<" in fmea.text and 'data-testid="pareto-svg"' in fmea.text
    wrong = client.post(
        f"{base}/fmea/1/modes",
        data={
            "csrf_token": token,
            "unit_operation": "expansion",
            "failure_mode": "x",
            "severity": "11",
        },
    )
    assert wrong.status_code == 422 and "1 to 10" in wrong.text
    overview = client.get(base).text
    assert "27 of 27 open" in overview and "40.00" in overview and "version 1 (draft)" in overview
    pdf = client.get(f"{base}/package.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_researcher_does_not_see_another_groups_project(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="pia")
    researcher = make_persona(Role.RESEARCHER, username="ron")
    token = web_login(client, scientist.actor.username, scientist.password)
    created = client.post(
        "/translation/projects",
        data={
            "csrf_token": token,
            "code": "TP-HIDDEN",
            "title": "t",
            "research_group": "g",
            "indication": "i",
            "product_class": "c",
        },
    )
    base = created.headers["location"]
    client.post("/logout", data={"csrf_token": token})
    web_login(client, researcher.actor.username, researcher.password)
    assert "TP-HIDDEN" not in client.get("/translation").text
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/package.pdf").status_code == 404


def test_an_approved_definition_is_handed_to_manufacturing_from_the_transfer_page(
    client: TestClient, make_persona: Callable[..., Persona]
) -> None:
    pia = make_persona(Role.PROCESS_SCIENTIST, username="pia")
    paul = make_persona(Role.PROCESS_SCIENTIST, username="paul")
    token = web_login(client, pia.actor.username, pia.password)
    base = client.post(
        "/translation/projects",
        data={
            "csrf_token": token,
            "code": "TP-T",
            "title": "t",
            "research_group": "g",
            "indication": "i",
            "product_class": "c",
        },
    ).headers["location"]
    text = process_format.dump(gmp_ready(research_routine()))
    client.post(
        f"{base}/definition", data={"csrf_token": token, "definition": text, "reason": "v1"}
    )
    client.post("/logout", data={"csrf_token": token})
    token = web_login(client, paul.actor.username, paul.password)
    approved = client.post(
        f"{base}/definition/1/approve", data={"csrf_token": token, "password": paul.password}
    )
    assert approved.status_code == 303
    form = {
        "csrf_token": token,
        "version": "1",
        "code": "CART-WEB",
        "name": "CAR-T",
        "product_code": "S1295V00",
        "autologous": "yes",
        "shelf_life_hours": "72",
        "reason": "ready",
    }
    bad = client.post(f"{base}/transfer", data={**form, "product_code": "XX"})
    assert bad.status_code == 422 and "product_code" in bad.text
    done = client.post(f"{base}/transfer", data=form)
    assert done.status_code == 200 and "CART-WEB version 1" in done.text
    page = client.get(f"{base}/transfer")
    assert "became MBR CART-WEB version 1" in page.text
