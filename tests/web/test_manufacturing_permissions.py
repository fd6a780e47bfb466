"""Manufacturing's permission matrix: every route, every role. A role without the permission is
refused (403) before anything is read or written; a role with it gets past the check (the
records named here do not exist, so it then hears 404, 409 or 422, or creates a draft)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.manufacturing import mbr_format

P = "/api/manufacturing"
SIGN = {"password": "x"}
PERFORM = {"password": "x", "location": "CR-C1"}

#: (method, path, body, the permissions any one of which lets the caller past the check)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[Permission, ...]]] = [
    ("GET", f"{P}/mbrs", None, (Permission.VIEW_BATCHES,)),
    (
        "POST",
        f"{P}/mbrs",
        {"definition": mbr_format.to_mapping(mbr_format.cart_example()), "reason": "matrix"},
        (Permission.AUTHOR_MBR,),
    ),
    (
        "POST",
        f"{P}/mbrs/NOPE/1/approve",
        {"effective_from": "2026-01-05", "password": "x"},
        (Permission.APPROVE_MBR,),
    ),
    ("GET", f"{P}/mbrs/NOPE/1/export", None, (Permission.VIEW_BATCHES,)),
    ("GET", f"{P}/batches", None, (Permission.VIEW_BATCHES,)),
    ("POST", f"{P}/batches", {"mbr_code": "NOPE", "donor_lot": "D1"}, (Permission.EXECUTE_BATCH,)),
    ("GET", f"{P}/batches/B26-99999", None, (Permission.VIEW_BATCHES,)),
    ("GET", f"{P}/batches/B26-99999/ebr.pdf", None, (Permission.VIEW_BATCHES,)),
    (
        "POST",
        f"{P}/batches/B26-99999/line-clearance",
        {"checks": "clear", "password": "x"},
        (Permission.EXECUTE_BATCH,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/steps/S01/materials",
        {"lot_code": "ML000001", "quantity": "1", "unit": "vial"},
        (Permission.EXECUTE_BATCH,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/steps/S01/equipment",
        {"code": "PRODIGY-01"},
        (Permission.EXECUTE_BATCH,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/steps/S01/values",
        {"name": "viability", "value": "90"},
        (Permission.EXECUTE_BATCH,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/entries/1/correction",
        {"value": "90", "reason": "typo"},
        (Permission.EXECUTE_BATCH,),
    ),
    ("POST", f"{P}/batches/B26-99999/steps/S01/performed", PERFORM, (Permission.EXECUTE_BATCH,)),
    ("POST", f"{P}/batches/B26-99999/steps/S01/verified", SIGN, (Permission.VERIFY_BATCH_STEP,)),
    ("POST", f"{P}/batches/B26-99999/units", {"kind": "final"}, (Permission.EXECUTE_BATCH,)),
    (
        "POST",
        f"{P}/batches/B26-99999/units/A999926000001/label",
        {},
        (Permission.PRINT_LABELS,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/reject",
        {"password": "x", "reason": "r"},
        (Permission.REJECT_BATCH,),
    ),
    (
        "POST",
        f"{P}/batches/B26-99999/trial-end",
        {"trial_end": "2030-01-01", "reason": "r"},
        (Permission.RECORD_RETENTION,),
    ),
    ("GET", f"{P}/trace/lots/ML000001", None, (Permission.TRACE_GENEALOGY,)),
    ("GET", f"{P}/trace/equipment/PRODIGY-01", None, (Permission.TRACE_GENEALOGY,)),
    ("GET", f"{P}/trace/patients/PSN-0001", None, (Permission.TRACE_GENEALOGY,)),
]


def test_the_matrix_lists_every_manufacturing_route() -> None:
    from atmpchain.web.api.manufacturing import router

    listed = {(m, p.split(P, 1)[1]) for m, p, _, _ in ROUTES}
    assert len(listed) == len(router.routes)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_passes_exactly_the_manufacturing_checks_it_may(
    client: TestClient, make_persona: Callable[..., Persona], role: Role
) -> None:
    persona = make_persona(role, username=f"m-{role.value.replace('_', '-')}")
    token = web_login(client, persona.actor.username, persona.password)
    for method, path, body, needed in ROUTES:
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        response = client.request(method, path, json=body, headers={"x-csrf-token": token})
        if allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
