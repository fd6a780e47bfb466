"""The quality permission matrix: every role against every permission-protected deviation write.

Each call goes through exactly when ROLE_PERMISSIONS grants its permission, and is otherwise
refused with PermissionDenied naming it, having written nothing. The deviations each call needs
are brought to their state by the facility's own staff first; one database per role.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.errors import PermissionDenied
from atmpchain.quality import service
from atmpchain.quality.deviations import raise_deviation
from atmpchain.uow import UnitOfWork

TODAY = date(2026, 1, 5)


def _raised(uow: UnitOfWork, who: Persona) -> str:
    return raise_deviation(
        uow, actor=who.actor, title="Matrix", description="A departure", planned=False
    ).number


def _investigating(uow: UnitOfWork, raiser: Persona, qa: Persona) -> str:
    number = _raised(uow, raiser)
    service.classify(uow, actor=qa.actor, number=number, classification="major", rationale="matrix")
    return number


def _with_capa(uow: UnitOfWork, raiser: Persona, qa: Persona, owner: str, *, done: bool) -> str:
    number = _investigating(uow, raiser, qa)
    service.add_capa(
        uow,
        actor=qa.actor,
        number=number,
        kind="corrective",
        action="Fix it",
        owner=owner,
        due=TODAY + timedelta(days=5),
    )
    if done:
        service.complete_capa(uow, actor=raiser.actor, number=number, position=1, note="done")
    return number


def _ready(uow: UnitOfWork, raiser: Persona, qa: Persona) -> str:
    number = _with_capa(uow, raiser, qa, raiser.actor.username, done=True)
    service.assess_impact(
        uow, actor=qa.actor, number=number, decision="no-impact", rationale="none"
    )
    service.record_root_cause(uow, actor=qa.actor, number=number, root_cause="cause")
    service.check_effectiveness(
        uow, actor=qa.actor, number=number, position=1, result="effective", note="ok"
    )
    return number


def _calls(
    uow: UnitOfWork, acting: Persona, make_persona: Callable[..., Persona]
) -> dict[str, tuple[Permission, Callable[[], Any]]]:
    operator = make_persona(Role.OPERATOR, username="setup-operator")
    qa = make_persona(Role.QA, username="setup-qa")
    actor = acting.actor
    raised = _raised(uow, operator)
    investigating = _investigating(uow, operator, qa)
    owner = actor.username if actor.can(Permission.RECORD_CAPA_DONE) else operator.actor.username
    to_complete = _with_capa(uow, operator, qa, owner, done=False)
    to_check = _with_capa(uow, operator, qa, operator.actor.username, done=True)
    to_close = _ready(uow, operator, qa)
    to_reopen = _ready(uow, operator, qa)
    service.close_deviation(uow, actor=qa.actor, number=to_reopen, password=qa.password)
    return {
        "raise_deviation": (Permission.RAISE_DEVIATION, lambda: _raised(uow, acting)),
        "classify": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.classify(
                uow, actor=actor, number=raised, classification="minor", rationale="r"
            ),
        ),
        "assess_impact": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.assess_impact(
                uow, actor=actor, number=investigating, decision="no-impact", rationale="r"
            ),
        ),
        "record_root_cause": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.record_root_cause(
                uow, actor=actor, number=investigating, root_cause="c"
            ),
        ),
        "add_affected": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.add_affected(
                uow, actor=actor, number=investigating, batch_numbers=["B-1"]
            ),
        ),
        "add_capa": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.add_capa(
                uow,
                actor=actor,
                number=investigating,
                kind="preventive",
                action="a",
                owner=operator.actor.username,
                due=TODAY,
            ),
        ),
        "complete_capa": (
            Permission.RECORD_CAPA_DONE,
            lambda: service.complete_capa(
                uow, actor=actor, number=to_complete, position=1, note="n"
            ),
        ),
        "check_effectiveness": (
            Permission.INVESTIGATE_DEVIATION,
            lambda: service.check_effectiveness(
                uow, actor=actor, number=to_check, position=1, result="effective", note="n"
            ),
        ),
        "close_deviation": (
            Permission.CLOSE_DEVIATION,
            lambda: service.close_deviation(
                uow, actor=actor, number=to_close, password=acting.password
            ),
        ),
        "reopen_deviation": (
            Permission.CLOSE_DEVIATION,
            lambda: service.reopen_deviation(uow, actor=actor, number=to_reopen, reason="why"),
        ),
    }


QUALITY_PERMISSIONS = {
    Permission.RAISE_DEVIATION,
    Permission.INVESTIGATE_DEVIATION,
    Permission.RECORD_CAPA_DONE,
    Permission.CLOSE_DEVIATION,
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_do_exactly_what_the_permission_table_grants(
    role: Role, uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    acting = make_persona(role, username=f"acting-{role.value.replace('_', '-')}")
    calls = _calls(uow, acting, make_persona)
    assert {p for p, _ in calls.values()} == QUALITY_PERMISSIONS
    wrong: list[str] = []
    for name, (permission, call) in calls.items():
        allowed = role in ROLE_PERMISSIONS[permission]
        before = trail.state()
        try:
            call()
        except PermissionDenied as refusal:
            if allowed:
                wrong.append(f"{name}: refused ({refusal.message}), but {role.value} may")
            elif trail.state() != before:
                wrong.append(f"{name}: refused, but something was written")
            elif permission.value not in refusal.message:
                wrong.append(f"{name}: the refusal does not name {permission.value}")
        else:
            if not allowed:
                wrong.append(f"{name}: allowed, but {role.value} lacks {permission.value}")
            elif trail.head() == before.head:
                wrong.append(f"{name}: allowed, but left no audit record")
    assert wrong == []
