"""Experiments and cost of goods through the pages and the JSON API (issue 14 items 5, 6), and
their permission matrix: every route, every role."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.translation.conftest import research_routine
from tests.unit.translation.costing.test_cost_model import CASE
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.translation import service as translation_service
from atmpchain.uow import UnitOfWork

P = "/api/translation"

STUDY = {
    "title": "Activation CCD",
    "kind": "central_composite",
    "factors": [
        {"name": "IL-2", "low": 50, "high": 150, "unit": "IU/mL", "unit_operation": "activation",
         "parameter": "il2"},
        {"name": "Seeding density", "low": 0.5, "high": 1.5, "unit": "1e6/mL",
         "unit_operation": "activation", "parameter": "seeding_density"},
    ],
    "responses": [{"name": "Fold expansion", "goal": "maximise", "lower": 20}],
    "donors": ["D1", "D2"],
    "center_points": 3,
    "seed": 77,
}  # fmt: skip


def _project(uow: UnitOfWork, scientist: Persona, researcher: Persona | None = None) -> int:
    pid = translation_service.create_project(
        uow,
        actor=scientist.actor,
        code="TP-WEB",
        title="CAR-T routine",
        research_group="Lab",
        indication="B-cell lymphoma",
        product_class="CAR-T",
    )
    if researcher is not None:
        translation_service.add_team_member(
            uow, actor=scientist.actor, project_id=pid, username=researcher.actor.username,
            project_role="researcher",
        )  # fmt: skip
    translation_service.draft_definition(
        uow, actor=scientist.actor, project_id=pid, process=research_routine(), reason="as run"
    )
    return pid


def _truth(settings: dict[str, float]) -> float:
    x1 = (settings["IL-2"] - 100) / 50
    x2 = (settings["Seeding density"] - 1.0) / 0.5
    return 25 + 4 * x1 + 2 * x2 - 3 * x1**2 - 4 * x2**2


def test_a_scientist_designs_enters_results_and_sees_the_analysis_through_the_api(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="sci")
    pid = _project(uow, scientist)
    token = web_login(client, "sci", scientist.password)
    headers = {"x-csrf-token": token}
    created = client.post(f"{P}/doe", json={**STUDY, "project_id": pid}, headers=headers)
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["seed"] == 77 and len(study["runs"]) == 22
    rng = np.random.default_rng(3)
    lines = ["run,Fold expansion"] + [
        f"{r['order']},{_truth(r['settings']) + rng.normal(0, 0.2):.4f}" for r in study["runs"]
    ]
    lines.append("500,1")
    imported = client.post(
        f"{P}/doe/{study['id']}/results.csv",
        content="\n".join(lines),
        headers={**headers, "content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["written"] == 22
    assert imported.json()["bad"] == [
        {"line": 24, "reason": "run '500' is not a run of this study"}
    ]
    analysis = client.get(f"{P}/doe/{study['id']}/analysis").json()
    fit = analysis["responses"][0]["fit"]
    assert fit["r2"] > 0.95
    terms = {t["key"]: t for t in fit["terms"]}
    assert terms["x1"]["ci_low"] <= 4 <= terms["x1"]["ci_high"]
    assert analysis["optimum"]["proven_ranges"]
    turned = client.get(f"{P}/doe/{study['id']}/analysis?x=1&y=0").json()
    assert turned["responses"][0]["surface"]["x"] == "Seeding density"
    assert client.get(f"{P}/doe/{study['id']}/analysis?x=1&y=1").status_code == 422
    page = client.get(f"/translation/doe/{study['id']}?x=1&y=0")
    assert page.status_code == 200 and "<strong>IL-2 × Seeding density</strong>" not in page.text
    back = client.post(
        f"{P}/doe/{study['id']}/write-back",
        json={"factor": "IL-2", "reason": "proven by the CCD"},
        headers=headers,
    )
    assert back.status_code == 200 and back.json() == {"definition_version": 2}


def test_the_study_page_shows_the_sheet_the_analysis_and_charts_with_a_fallback(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="sci")
    pid = _project(uow, scientist)
    web_login(client, "sci", scientist.password)
    form = client.get(f"/translation/doe/new?project={pid}")
    assert form.status_code == 200
    response = client.post(
        "/translation/doe/new",
        data={
            "csrf_token": csrf_from(form.text),
            "project_id": str(pid),
            "title": "Screen",
            "kind": "full_factorial",
            "factors": "IL-2, 50, 150, IU/mL, activation, il2\nSeeding density, 0.5, 1.5, 1e6/mL",
            "responses": "Fold expansion, fold, maximise, 20",
            "donors": "D1, D2",
            "center_points": "2",
            "seed": "5",
        },
    )
    assert response.status_code == 303, response.text
    page_url = response.headers["location"]
    page = client.get(page_url)
    assert 'data-testid="run-sheet"' in page.text and ">5</strong>" in page.text
    orders = [int(m) for m in re.findall(r"<tr><td>(\d+)</td><td>D[12]</td>", page.text)]
    assert sorted(orders) == list(range(1, 13))
    results = "run,Fold expansion\n" + "\n".join(f"{o},{20 + o % 5 + 0.1 * o}" for o in orders)
    posted = client.post(
        f"{page_url}/results", data={"csrf_token": csrf_from(page.text), "results": results}
    )
    assert posted.status_code == 200 and "12 value(s) recorded" in posted.text
    assert 'data-testid="coefficients"' in posted.text and 'data-testid="anova"' in posted.text
    assert 'class="chart-figure"' in posted.text and "<noscript>" in posted.text
    assert 'data-testid="main-0-svg"' in posted.text
    sheet = client.get(f"{page_url}/sheet.csv")
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.text.splitlines()[0] == "run,donor,design_row,IL-2,Seeding density,Fold expansion"


def test_a_bad_design_keeps_what_was_typed_and_names_the_field(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="sci")
    pid = _project(uow, scientist)
    web_login(client, "sci", scientist.password)
    form = client.get("/translation/doe/new")
    response = client.post(
        "/translation/doe/new",
        data={
            "csrf_token": csrf_from(form.text),
            "project_id": str(pid),
            "title": "Broken",
            "kind": "box_behnken",
            "factors": "IL-2, 150, 50",
            "responses": "Viability",
        },
    )
    assert response.status_code == 422
    assert "low (150) must be below high (50)" in response.text and "IL-2, 150, 50" in response.text


def test_the_cost_page_sets_scenarios_side_by_side_with_the_published_figures(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="sci")
    pid = _project(uow, scientist)
    token = web_login(client, "sci", scientist.password)
    made = client.post(
        f"{P}/cost",
        json={"project_id": pid, "name": "Hand case", "inputs": CASE},
        headers={"x-csrf-token": token},
    )
    assert made.status_code == 201, made.text
    model = made.json()
    assert model["scenarios"][0]["per_released_batch"] == "29183.31"
    page = client.get(f"/translation/cost/{model['id']}")
    added = client.post(
        f"/translation/cost/{model['id']}/scenarios",
        data={"csrf_token": csrf_from(page.text), "name": "50 a year", "copy_of": "Base",
              "batches_per_year": "50"},
    )  # fmt: skip
    assert added.status_code == 303, added.text
    page = client.get(f"/translation/cost/{model['id']}")
    assert "29,183.31" in page.text and "50 a year" in page.text
    assert "HemaSphere 2021" in page.text and 'data-testid="cost-tornado-svg"' in page.text
    drafted = client.post(
        "/translation/cost",
        data={"csrf_token": csrf_from(page.text), "project_id": str(pid), "name": "From process",
              "batches_per_year": "18"},
    )  # fmt: skip
    assert drafted.status_code == 303
    assert "T-cell medium" in client.get(drafted.headers["location"]).text


# --- the permission matrix ---------------------------------------------------------------

#: (method, path, body, the permissions any one of which lets the caller past the check)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[Permission, ...]]] = [
    ("GET", f"{P}/doe", None, (Permission.VIEW_TRANSLATION,)),
    ("POST", f"{P}/doe", {**STUDY, "project_id": 999999}, (Permission.RUN_EXPERIMENTS,)),
    ("GET", f"{P}/doe/999999", None, (Permission.VIEW_TRANSLATION,)),
    (
        "POST",
        f"{P}/doe/999999/results",
        {"results": [{"run": 1, "values": {"Fold expansion": 1.0}}]},
        (Permission.RUN_EXPERIMENTS,),
    ),
    ("POST", f"{P}/doe/999999/results.csv", None, (Permission.RUN_EXPERIMENTS,)),
    (
        "PUT",
        f"{P}/doe/999999/goals",
        {"model": "linear", "goals": [], "reason": "matrix"},
        (Permission.RUN_EXPERIMENTS,),
    ),
    ("GET", f"{P}/doe/999999/analysis", None, (Permission.VIEW_TRANSLATION,)),
    (
        "POST",
        f"{P}/doe/999999/write-back",
        {"factor": "IL-2", "reason": "matrix"},
        (Permission.RUN_EXPERIMENTS,),
    ),
    ("GET", f"{P}/cost", None, (Permission.VIEW_TRANSLATION,)),
    (
        "POST",
        f"{P}/cost",
        {"project_id": 999999, "name": "x", "inputs": CASE},
        (Permission.MODEL_COSTS,),
    ),
    ("GET", f"{P}/cost/999999", None, (Permission.VIEW_TRANSLATION,)),
    ("POST", f"{P}/cost/999999/scenarios", {"name": "x"}, (Permission.MODEL_COSTS,)),
    (
        "PATCH",
        f"{P}/cost/999999/scenarios/Base",
        {"changes": {"batches_per_year": 2}, "reason": "matrix"},
        (Permission.MODEL_COSTS,),
    ),
    ("GET", "/translation/doe", None, (Permission.VIEW_TRANSLATION,)),
    ("GET", "/translation/doe/new", None, (Permission.RUN_EXPERIMENTS,)),
    ("GET", "/translation/doe/999999", None, (Permission.VIEW_TRANSLATION,)),
    ("GET", "/translation/doe/999999/sheet.csv", None, (Permission.VIEW_TRANSLATION,)),
    ("GET", "/translation/cost", None, (Permission.VIEW_TRANSLATION,)),
    ("GET", "/translation/cost/999999", None, (Permission.VIEW_TRANSLATION,)),
]


def test_the_matrix_lists_every_api_route() -> None:
    from atmpchain.web.api.translation_doe import router

    listed = {(m, p) for m, p, _, _ in ROUTES if p.startswith(P)}
    assert len(listed) == len(router.routes)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_passes_exactly_the_experiment_and_cost_checks_it_may(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"d-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for method, path, body, needed in ROUTES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        if path.endswith(".csv") and method == "POST":
            response = client.post(
                path,
                content="run,y\n1,2\n",
                headers={"x-csrf-token": token, "content-type": "text/csv"},
            )
        else:
            response = client.request(method, path, json=body, headers={"x-csrf-token": token})
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)


def test_a_researcher_works_on_their_own_project_only(
    client: TestClient, uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    scientist = make_persona(Role.PROCESS_SCIENTIST, username="sci")
    mine = make_persona(Role.RESEARCHER, username="rhea")
    other = make_persona(Role.RESEARCHER, username="ron")
    pid = _project(uow, scientist, researcher=mine)
    token = web_login(client, "rhea", mine.password)
    created = client.post(
        f"{P}/doe", json={**STUDY, "project_id": pid}, headers={"x-csrf-token": token}
    )
    assert created.status_code == 201
    study_id = created.json()["id"]
    client.post("/logout", headers={"x-csrf-token": token})
    client.cookies.clear()
    token = web_login(client, "ron", other.password)
    assert client.get(f"{P}/doe/{study_id}").status_code == 404
    assert client.get(f"{P}/doe").json() == []
    refused = client.post(
        f"{P}/doe", json={**STUDY, "project_id": pid}, headers={"x-csrf-token": token}
    )
    assert refused.status_code == 404
