"""Release's permission matrix: every route, every role. A role without the permission is
refused (403) before anything is read or written; a role with it gets past the check (the
records named here do not exist, so it then hears 404, 409 or 422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role

P = "/api/release"
B = "B26-99999"

#: (method, path, body, the permissions any one of which lets the caller past the check)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[Permission, ...]]] = [
    ("GET", f"{P}/batches/{B}/review", None, (Permission.VIEW_RELEASE,)),
    (
        "POST",
        f"{P}/batches/{B}/decision",
        {"decision": "rejected", "password": "x", "comment": "matrix"},
        (Permission.CERTIFY_BATCH,),
    ),
    ("GET", f"{P}/batches/{B}/certificate.pdf", None, (Permission.VIEW_RELEASE,)),
    ("GET", f"{P}/batches/{B}/record.pdf", None, (Permission.VIEW_RELEASE,)),
    ("GET", f"{P}/batches/{B}/fhir", None, (Permission.VIEW_RELEASE,)),
    (
        "POST",
        f"{P}/batches/{B}/supplies",
        {"clinical_reason": "no alternative", "password": "x"},
        (Permission.REQUEST_OOS_SUPPLY,),
    ),
    ("GET", f"{P}/supplies/999999", None, (Permission.VIEW_RELEASE,)),
    (
        "POST",
        f"{P}/supplies/999999/steps",
        {"step": "risk_evaluated", "text": "evaluated", "password": "x"},
        (Permission.MANAGE_OOS_SUPPLY,),
    ),
]

#: The release pages (one batch, one supply: absent records, so 404 past the check).
PAGES: list[tuple[str, tuple[Permission, ...], int]] = [
    ("/release", (Permission.VIEW_RELEASE,), 200),
    (f"/release/batches/{B}", (Permission.VIEW_RELEASE,), 404),
    ("/release/supplies/999999", (Permission.VIEW_RELEASE,), 404),
]


def test_the_matrix_lists_every_release_route() -> None:
    from atmpchain.web.api.release import router

    listed = {(m, p.split(P, 1)[1]) for m, p, _, _ in ROUTES}
    assert len(listed) == len(router.routes)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_passes_exactly_the_release_checks_it_may(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"r-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for method, path, body, needed in ROUTES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        response = client.request(method, path, json=body, headers={"x-csrf-token": token})
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
    for path, needed, found in PAGES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        status = client.get(path).status_code
        assert status == (found if allowed else 403), (role, path, status)
