"""Every route refuses an outsider, and each role sees only the pages its permissions allow."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.web.conftest import web_login

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.web.app import ROUTERS

PUBLIC = {"/login", "/healthz", "/docs", "/openapi.json", "/docs/oauth2-redirect"}
#: The clinical-trial gateway's public form and private status link (issue 16): anyone may
#: submit an inquiry and read one by its unguessable token; nothing else is open.
PUBLIC |= {"/inquire", "/inquire/status/{token}"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_refuses_an_outsider(client: TestClient) -> None:
    routes = [
        r
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and r.path not in PUBLIC
    ]
    assert len(routes) > 15, "the route list should cover the application"
    for route in routes:
        for method in route.methods:
            response = client.request(method, _concrete(route.path))
            if route.path.startswith("/api/"):
                assert response.status_code in (401, 403), (method, route.path)
            elif method == "GET":
                assert response.status_code == 303, (method, route.path)
                assert response.headers["location"].startswith("/login")
            else:
                assert response.status_code in (401, 403), (method, route.path)


PAGES: dict[str, tuple[Permission, ...]] = {
    "/users": (Permission.MANAGE_USERS, Permission.APPROVE_USER_ACCESS),
    "/users/new": (Permission.MANAGE_USERS,),
    "/audit": (Permission.READ_AUDIT_TRAIL,),
    "/custody": (Permission.VIEW_CUSTODY,),
    "/custody/scan": (Permission.MOVE_PRODUCT,),
    "/coldchain/excursions": (Permission.VIEW_TEMPERATURES,),
    "/coldchain/alarms": (Permission.VIEW_TEMPERATURES,),
    "/coldchain/dead-letters": (Permission.VIEW_TEMPERATURES,),
    "/hospital/board": (Permission.VIEW_DOSES,),
    "/hospital/catalogue": (Permission.VIEW_DOSES,),
    "/hospital/trace": (Permission.TRACE_PATIENTS,),
    "/hospital/orders/new": (Permission.ORDER_DOSE,),
    "/hospital/bedside": (Permission.ADMINISTER_DOSE,),
    "/facility": (Permission.MANAGE_FACILITY,),
    "/manufacturing/batches": (Permission.VIEW_BATCHES,),
    "/materials": (Permission.VIEW_MATERIALS,),
    "/materials/items": (Permission.VIEW_MATERIALS,),
    "/materials/receive": (Permission.RECEIVE_MATERIALS,),
    "/materials/expiring": (Permission.VIEW_MATERIALS,),
    "/materials/stock": (Permission.VIEW_MATERIALS,),
    "/equipment": (Permission.VIEW_EQUIPMENT,),
    "/quality/deviations": (Permission.VIEW_DEVIATIONS,),
    "/quality/capas/overdue": (Permission.VIEW_DEVIATIONS,),
    "/cleanrooms": (Permission.VIEW_CLEANROOMS,),
    "/cleanrooms/gowning": (Permission.VIEW_CLEANROOMS,),
    "/em": (Permission.VIEW_EM,),
    "/em/collect": (Permission.COLLECT_EM_SAMPLES,),
    "/em/plates": (Permission.RECORD_EM_RESULTS,),
    "/em/import": (Permission.RECORD_EM_RESULTS,),
    "/em/trends": (Permission.VIEW_EM,),
    "/translation": (Permission.VIEW_TRANSLATION,),
    "/gateway/inquiries": (Permission.VIEW_INQUIRIES,),
    "/gateway/trials": (Permission.VIEW_INQUIRIES,),
    "/gateway/pipeline": (Permission.VIEW_INQUIRIES,),
    "/gateway/pipeline.csv": (Permission.VIEW_INQUIRIES,),
    "/sponsor/inquiries": (Permission.FOLLOW_OWN_INQUIRIES,),
    "/qc": (Permission.VIEW_QC,),
    "/qc/notices": (Permission.ACKNOWLEDGE_QC_NOTICE,),
    "/release": (Permission.VIEW_RELEASE,),
    "/translation/doe": (Permission.VIEW_TRANSLATION,),
    "/translation/doe/new": (Permission.RUN_EXPERIMENTS,),
    "/translation/cost": (Permission.VIEW_TRANSLATION,),
    "/scheduling": (Permission.VIEW_SCHEDULE,),
    "/scheduling/gantt": (Permission.VIEW_SCHEDULE,),
    "/scheduling/mine": (Permission.VIEW_SCHEDULE,),
    "/scheduling/mine.ics": (Permission.VIEW_SCHEDULE,),
    "/scheduling/resources": (Permission.VIEW_SCHEDULE,),
    "/scheduling/closures": (Permission.VIEW_SCHEDULE,),
    "/scheduling/demand": (Permission.VIEW_SCHEDULE,),
    "/scheduling/disruptions": (Permission.PLAN_SCHEDULE,),
}

#: JSON reads that people make with their session, and the permission each needs.
API_READS: dict[str, tuple[Permission, ...]] = {
    "/api/coldchain/alarms": (Permission.VIEW_TEMPERATURES,),
    "/api/coldchain/dead-letters": (Permission.VIEW_TEMPERATURES,),
    "/api/hospital/board": (Permission.VIEW_DOSES,),
    "/api/hospital/catalogue": (Permission.VIEW_DOSES,),
    "/api/hospital/flags": (Permission.TRACE_PATIENTS,),
    "/api/manufacturing/batches": (Permission.VIEW_BATCHES,),
    "/api/manufacturing/mbrs": (Permission.VIEW_BATCHES,),
    "/api/materials/items": (Permission.VIEW_MATERIALS,),
    "/api/materials/lots": (Permission.VIEW_MATERIALS,),
    "/api/materials/expiring": (Permission.VIEW_MATERIALS,),
    "/api/materials/stock": (Permission.VIEW_MATERIALS,),
    "/api/equipment": (Permission.VIEW_EQUIPMENT,),
    "/api/equipment/due": (Permission.VIEW_EQUIPMENT,),
    "/api/cleanrooms/rooms": (Permission.VIEW_CLEANROOMS,),
    "/api/cleanrooms/gowning": (Permission.VIEW_CLEANROOMS,),
    "/api/cleanrooms/sessions?batch_number=B26-00001": (Permission.VIEW_CLEANROOMS,),
    "/api/quality/deviations": (Permission.VIEW_DEVIATIONS,),
    "/api/quality/capas/overdue": (Permission.VIEW_DEVIATIONS,),
    "/api/em/limits": (Permission.VIEW_EM,),
    "/api/em/plan": (Permission.VIEW_EM,),
    "/api/em/excursions": (Permission.VIEW_EM,),
    "/api/translation/projects": (Permission.VIEW_TRANSLATION,),
    "/api/gateway/inquiries": (Permission.VIEW_INQUIRIES, Permission.FOLLOW_OWN_INQUIRIES),
    "/api/gateway/inquiries/overdue": (Permission.VIEW_INQUIRIES,),
    "/api/gateway/trials": (Permission.VIEW_INQUIRIES,),
    "/api/gateway/pipeline": (Permission.VIEW_INQUIRIES,),
    "/api/qc/specifications": (Permission.VIEW_QC,),
    "/api/qc/oos": (Permission.VIEW_QC,),
    "/api/qc/notices": (Permission.ACKNOWLEDGE_QC_NOTICE,),
    "/api/translation/doe": (Permission.VIEW_TRANSLATION,),
    "/api/translation/cost": (Permission.VIEW_TRANSLATION,),
    "/api/scheduling/resources": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/closures": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/demand": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/notices": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/plans/999999/notices": (Permission.VIEW_SCHEDULE,),
}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_opens_exactly_the_pages_it_may(
    client: TestClient, make_persona, role: Role
) -> None:
    persona = make_persona(role, username=f"p-{role.value.replace('_', '-')}")
    web_login(client, persona.actor.username, persona.password)
    assert client.get("/").status_code == 200
    for path, needed in {**PAGES, **API_READS}.items():
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        status = client.get(path).status_code
        assert status == (200 if allowed else 403), (role, path, status)


#: Reads of one record: a role that may read it is told the record does not exist (404), any
#: other is refused before the lookup (403).
RECORD_READS: dict[str, tuple[Permission, ...]] = {
    "/hospital/doses/999999/timeline": (Permission.VIEW_DOSES,),
    "/api/hospital/doses/999999/timeline": (Permission.VIEW_DOSES,),
    "/hospital/patients/NOBODY/timeline": (Permission.TRACE_PATIENTS,),
    "/api/hospital/patients/NOBODY/timeline": (Permission.TRACE_PATIENTS,),
    "/hospital/units/999999/timeline": (Permission.TRACE_PATIENTS,),
    "/api/hospital/units/999999/timeline": (Permission.TRACE_PATIENTS,),
    "/gateway/inquiries/INQ-2000-9999": (Permission.VIEW_INQUIRIES,),
    "/sponsor/inquiries/INQ-2000-9999": (Permission.FOLLOW_OWN_INQUIRIES,),
    "/api/gateway/inquiries/INQ-2000-9999": (
        Permission.VIEW_INQUIRIES,
        Permission.FOLLOW_OWN_INQUIRIES,
    ),
    # A batch with no production session has no EM to show.
    "/em/batches/NO-BATCH": (Permission.VIEW_EM,),
    "/api/em/batches/NO-BATCH": (Permission.VIEW_EM,),
    # No plan has been made in this test: a reader is told so.
    "/api/scheduling/plans/latest": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/plans/999999": (Permission.VIEW_SCHEDULE,),
    "/api/scheduling/slot?earliest=2027-01-04": (Permission.VIEW_SCHEDULE,),
    "/scheduling/plans/999999": (Permission.VIEW_SCHEDULE,),
    "/scheduling/resources/NO-SUCH": (Permission.VIEW_SCHEDULE,),
}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.DEVICE], ids=lambda r: r.value)
def test_each_role_reads_exactly_the_timelines_it_may(
    client: TestClient, make_persona, role: Role
) -> None:
    persona = make_persona(role, username=f"t-{role.value.replace('_', '-')}")
    web_login(client, persona.actor.username, persona.password)
    for path, needed in RECORD_READS.items():
        allowed = any(role in ROLE_PERMISSIONS[p] for p in needed)
        status = client.get(path).status_code
        assert status == (404 if allowed else 403), (role, path, status)
