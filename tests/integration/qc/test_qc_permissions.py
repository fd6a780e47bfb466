"""The QC permission matrix: every role against every permission-protected QC write.

Each call goes through exactly when ROLE_PERMISSIONS grants its permission, and is otherwise
refused with PermissionDenied naming it, having written nothing. The records each call needs are
brought to their state by the facility's own staff first; one database per role. A started batch
is enough for QC records (its record lists the sampling points), so no batch is run to the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.manufacturing.conftest import (  # noqa: F401 - fixtures
    Site,
    TrialPatient,
    approved_mbr,
    make_patient,
    patient,
    site,
    start,
)

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.errors import PermissionDenied
from atmpchain.manufacturing import mbr
from atmpchain.qc import oos, results, samples, specs
from atmpchain.quality.deviations import raise_deviation
from atmpchain.uow import UnitOfWork

QC_PERMISSIONS = {
    Permission.AUTHOR_SPECIFICATION,
    Permission.APPROVE_SPECIFICATION,
    Permission.TAKE_SAMPLE,
    Permission.ENTER_RESULT,
    Permission.REVIEW_RESULT,
    Permission.INVALIDATE_RESULT,
    Permission.INVESTIGATE_OOS,
    Permission.CONCLUDE_OOS,
}


def _entry(number: str, attribute: str, value: str) -> results.ResultEntry:
    return results.ResultEntry(
        batch_number=number, attribute=attribute, value=value, instrument="I-1", run="R-1"
    )


def _calls(
    uow: UnitOfWork, acting: Persona, make_persona: Callable[..., Persona], number: str
) -> dict[str, tuple[Permission, Callable[[], Any]]]:
    analyst = make_persona(Role.QC_ANALYST, username="setup-analyst")
    qa = make_persona(Role.QA, username="setup-qa")
    qa2 = make_persona(Role.QA, username="setup-qa2")
    operator = make_persona(Role.OPERATOR, username="setup-operator")
    live = specs.draft_from_published(
        uow, actor=qa.actor, template_key="cd20-hannover", code="CART-CD19", reason="matrix"
    )
    specs.approve_specification(
        uow, actor=qa2.actor, code="CART-CD19", version=live, password=qa2.password
    )
    draft = specs.draft_from_published(
        uow, actor=qa.actor, template_key="ari-0001", code="CART-OTHER", reason="matrix"
    )
    label = samples.take_sample(
        uow,
        actor=operator.actor,
        batch_number=number,
        step_ref="S01",
        sampling_point="apheresis: cell count and viability",
    ).label

    def enter(attribute: str, value: str) -> results.EnteredResult:
        return results.enter_result(
            uow, actor=analyst.actor, entry=_entry(number, attribute, value)
        )

    to_review = enter("Viability", "91").id
    to_invalidate = enter("CD3+ cells", "90").id
    phase1 = enter("Endotoxin", "9").investigation_id
    phase2 = enter("Appearance", "clumps").investigation_id
    to_conclude = enter("CAR+ cells", "2").investigation_id
    assert phase1 and phase2 and to_conclude
    for ident in (phase2, to_conclude):
        oos.record_phase1(
            uow,
            actor=analyst.actor,
            investigation_id=ident,
            lab_error=False,
            assignable_cause="checked: no laboratory error",
        )
    oos.record_phase2(uow, actor=qa.actor, investigation_id=to_conclude, findings="found")
    deviation = raise_deviation(
        uow, actor=operator.actor, title="Matrix", description="departure", planned=False
    ).number
    actor = acting.actor
    return {
        "draft_specification": (
            Permission.AUTHOR_SPECIFICATION,
            lambda: specs.draft_from_published(
                uow, actor=actor, template_key="cd19-humanised", code="CART-M", reason="r"
            ),
        ),
        "approve_specification": (
            Permission.APPROVE_SPECIFICATION,
            lambda: specs.approve_specification(
                uow, actor=actor, code="CART-OTHER", version=draft, password=acting.password
            ),
        ),
        "take_sample": (
            Permission.TAKE_SAMPLE,
            lambda: samples.take_sample(
                uow,
                actor=actor,
                batch_number=number,
                step_ref="S08",
                sampling_point="sterility 2.6.27",
            ),
        ),
        "move_sample": (
            Permission.TAKE_SAMPLE,
            lambda: samples.move_sample(
                uow, actor=actor, label=label, event="received_by_qc", holder="QC lab"
            ),
        ),
        "enter_result": (
            Permission.ENTER_RESULT,
            lambda: results.enter_result(
                uow, actor=actor, entry=_entry(number, "Potency", "detected")
            ),
        ),
        "review_result": (
            Permission.REVIEW_RESULT,
            lambda: results.review_result(
                uow, actor=actor, result_id=to_review, password=acting.password
            ),
        ),
        "invalidate_result": (
            Permission.INVALIDATE_RESULT,
            lambda: oos.invalidate_result(
                uow,
                actor=actor,
                result_id=to_invalidate,
                cause="wrong tube",
                password=acting.password,
            ),
        ),
        "record_phase1": (
            Permission.INVESTIGATE_OOS,
            lambda: oos.record_phase1(
                uow,
                actor=actor,
                investigation_id=phase1,
                lab_error=False,
                assignable_cause="checked",
            ),
        ),
        "record_phase2": (
            Permission.INVESTIGATE_OOS,
            lambda: oos.record_phase2(uow, actor=actor, investigation_id=phase2, findings="f"),
        ),
        "link_deviation": (
            Permission.INVESTIGATE_OOS,
            lambda: oos.link_deviation(
                uow, actor=actor, investigation_id=phase2, deviation_number=deviation
            ),
        ),
        "conclude": (
            Permission.CONCLUDE_OOS,
            lambda: oos.conclude(
                uow,
                actor=actor,
                investigation_id=to_conclude,
                conclusion="confirmed",
                summary="confirmed",
                password=acting.password,
            ),
        ),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_do_exactly_what_the_permission_table_grants(
    role: Role,
    uow: UnitOfWork,
    make_persona: Callable[..., Persona],
    trail: Trail,
    site: Site,  # noqa: F811
    approved_mbr: mbr.MbrRef,  # noqa: F811
    patient: TrialPatient,  # noqa: F811
) -> None:
    number = start(uow, site, patient)
    acting = make_persona(role, username=f"acting-{role.value.replace('_', '-')}")
    calls = _calls(uow, acting, make_persona, number)
    assert {p for p, _ in calls.values()} == QC_PERMISSIONS
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
