"""Translation's permission matrix: every API route, every role. A role without the permission
is refused (403) before anything is read or written; a role with it gets past the check (the
project named here does not exist, so it then hears 404 or 422, or creates a project)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role

P = "/api/translation"
X = f"{P}/projects/999999"
V, E, M, A, T = (
    Permission.VIEW_TRANSLATION,
    Permission.EDIT_TRANSLATION,
    Permission.MANAGE_TRANSLATION,
    Permission.APPROVE_TRANSLATION,
    Permission.TRANSFER_TRANSLATION,
)
SIGN = {"password": "x"}
PRODUCT = {
    "version": 1,
    "code": "C",
    "name": "n",
    "product_code": "S1295V00",
    "autologous": True,
    "shelf_life_hours": 72,
    "reason": "r",
}
PROJECT = {
    "code": "TP-MATRIX",
    "title": "t",
    "research_group": "g",
    "indication": "i",
    "product_class": "c",
}

#: (method, path, body, the permissions any one of which lets the caller past the check)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[Permission, ...]]] = [
    ("GET", f"{P}/projects", None, (V,)),
    ("POST", f"{P}/projects", PROJECT, (M,)),
    ("GET", X, None, (V,)),
    ("POST", f"{X}/stage", {"stage": "optimisation", "reason": "r"}, (M,)),
    ("POST", f"{X}/team", {"username": "nobody", "project_role": "r"}, (M,)),
    ("GET", f"{X}/definition", None, (V,)),
    ("POST", f"{X}/definition", {"definition": {"unit_operations": []}, "reason": "r"}, (E,)),
    (
        "POST",
        f"{X}/definition/parameter-range",
        {"unit_operation": "a", "parameter": "p", "low": "1", "high": "2", "reason": "r"},
        (E,),
    ),
    ("POST", f"{X}/definition/1/approve", SIGN, (A,)),
    ("GET", f"{X}/definition/diff?from=1&to=2", None, (V,)),
    ("GET", f"{X}/gaps", None, (V,)),
    ("POST", f"{X}/gaps/generate", None, (E,)),
    ("POST", f"{X}/gaps/1", {"status": "closed", "evidence": "e", "reason": "r"}, (E,)),
    ("GET", f"{X}/readiness", None, (V,)),
    ("POST", f"{X}/readiness", {"scores": {"materials": 1}}, (E,)),
    ("GET", f"{X}/fmea", None, (V,)),
    ("POST", f"{X}/fmea", {}, (E,)),
    ("POST", f"{X}/fmea/1/modes", {"unit_operation": "a", "failure_mode": "f"}, (E,)),
    (
        "POST",
        f"{X}/fmea/modes/1/score",
        {"severity": 1, "occurrence": 1, "detection": 1, "reason": "r"},
        (E,),
    ),
    (
        "POST",
        f"{X}/fmea/modes/1/mitigation",
        {"mitigation": "m", "owner": "o", "reason": "r"},
        (E,),
    ),
    ("POST", f"{X}/fmea/1/approve", SIGN, (A,)),
    ("POST", f"{X}/mbr-draft", PRODUCT, (V,)),
    ("POST", f"{X}/transfer", PRODUCT, (T,)),
]

#: Pages: every role that lacks the permission is refused.
PAGES: list[tuple[str, tuple[Permission, ...]]] = [
    ("/translation", (V,)),
    ("/translation/projects/999999", (V,)),
    ("/translation/projects/999999/definition", (V,)),
    ("/translation/projects/999999/gaps", (V,)),
    ("/translation/projects/999999/readiness", (V,)),
    ("/translation/projects/999999/fmea", (V,)),
    ("/translation/projects/999999/transfer", (V,)),
    ("/translation/projects/999999/package.pdf", (V,)),
]


def test_the_matrix_lists_every_translation_route() -> None:
    from atmpchain.web.api.translation import router

    listed = {(m, p.split(P, 1)[1].split("?")[0]) for m, p, _, _ in ROUTES}
    assert len(listed) == len(router.routes)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_passes_exactly_the_translation_checks_it_may(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"t-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for method, path, body, needed in ROUTES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        response = client.request(method, path, json=body, headers={"x-csrf-token": token})
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
    for path, needed in PAGES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        response = client.get(path)
        if allowed:
            assert response.status_code in (200, 404), (role, path, response.status_code)
        else:
            assert response.status_code == 403, (role, path, response.status_code)
