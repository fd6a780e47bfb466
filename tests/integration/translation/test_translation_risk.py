"""Gap checklist, readiness and FMEA of a translation project (issue 14, items 3 and 4)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from tests.integration.conftest import Trail
from tests.integration.translation.conftest import PASSWORD, Lab, research_routine

from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import Grade
from atmpchain.translation import assessment_queries, fmea_service, gap_service, service
from atmpchain.translation.assess import GapCategory, GapStatus
from atmpchain.translation.domain import ProcessDef
from atmpchain.translation.errors import TranslationStateError
from atmpchain.translation.rules import rules
from atmpchain.uow import UnitOfWork


def _gmp_media(process: ProcessDef) -> ProcessDef:
    ops = []
    for op in process.unit_operations:
        materials = tuple(
            dataclasses.replace(m, grade=Grade.GMP) if m.item == "MEDIUM" else m
            for m in op.materials
        )
        ops.append(dataclasses.replace(op, materials=materials))
    return ProcessDef(tuple(ops))


def test_gaps_follow_the_definition_and_close_when_a_version_removes_them(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    added, closed = gap_service.generate_gaps(uow, actor=lab.researcher.actor, project_id=defined)
    assert (added, closed) == (27, 0)
    with uow.db.read_session() as s:
        listed = assessment_queries.gaps(s, defined)
    medium = [g for g in listed if g.subject.endswith("/MEDIUM")]
    assert {g.category for g in medium} == {GapCategory.GRADE}
    assert len(medium) == 2
    service.draft_definition(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        process=_gmp_media(research_routine()),
        reason="GMP-grade medium from the same supplier",
    )
    added, closed = gap_service.generate_gaps(uow, actor=lab.researcher.actor, project_id=defined)
    assert (added, closed) == (0, 2)
    with uow.db.read_session() as s:
        medium = [g for g in assessment_queries.gaps(s, defined) if g.subject.endswith("/MEDIUM")]
    assert {g.status for g in medium} == {GapStatus.CLOSED}
    assert all("version 2" in g.evidence for g in medium)


def test_a_gap_is_closed_only_with_evidence_and_keeps_its_owner(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    gap_service.generate_gaps(uow, actor=lab.scientist.actor, project_id=defined)
    with uow.db.read_session() as s:
        gap = assessment_queries.gaps(s, defined)[0]
    with pytest.raises(InvalidInput, match="evidence"):
        gap_service.update_gap(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            gap_id=gap.id,
            status=GapStatus.CLOSED,
            owner="rhea",
            evidence=" ",
            reason="done",
        )
    gap_service.update_gap(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        gap_id=gap.id,
        status=GapStatus.CLOSED,
        owner="rhea",
        evidence="Certificate of origin filed as document 'CoO' v1",
        reason="evidence received",
    )
    with uow.db.read_session() as s:
        after = next(g for g in assessment_queries.gaps(s, defined) if g.id == gap.id)
    assert (after.status, after.owner_username) == (GapStatus.CLOSED, "rhea")
    assert trail.records("translation:gap:updated")[-1].reason == "evidence received"


def test_readiness_is_the_weighted_mean_of_the_data_categories_over_time(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    keys = [c.key for c in rules().readiness]
    first = gap_service.assess_readiness(
        uow, actor=lab.scientist.actor, project_id=defined, scores=dict.fromkeys(keys, 20)
    )
    scores = dict.fromkeys(keys, 50) | {"materials": 100, "process_closure": 0}
    second = gap_service.assess_readiness(
        uow, actor=lab.scientist.actor, project_id=defined, scores=scores
    )
    weights = {c.key: c.weight for c in rules().readiness}
    expected = sum(weights[k] * scores[k] for k in keys) / sum(weights.values())
    assert first == Decimal("20.00")
    assert second == expected.quantize(Decimal("0.01"))
    with uow.db.read_session() as s:
        history = assessment_queries.readiness_history(s, defined)
    assert [h.total for h in history] == [first, second]
    with pytest.raises(InvalidInput, match="Facility"):
        gap_service.assess_readiness(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            scores={k: 10 for k in keys if k != "facility"},
        )


def test_the_worked_msc_example_scores_as_published(
    uow: UnitOfWork, lab: Lab, project_id: int
) -> None:
    msc = ProcessDef(
        tuple(
            dataclasses.replace(research_routine().unit_operations[0], key=k, title=k.title())
            for k in ("source", "isolation", "characterisation", "expansion")
        )
    )
    service.draft_definition(
        uow, actor=lab.scientist.actor, project_id=project_id, process=msc, reason="MSC routine"
    )
    fmea_service.start_fmea(uow, actor=lab.scientist.actor, project_id=project_id, template="msc")
    with uow.db.read_session() as s:
        view = assessment_queries.fmea(s, project_id)
    assert [(m.unit_operation, m.rpn) for m in view.modes] == [
        ("source", 320),
        ("isolation", 80),
        ("characterisation", 90),
        ("expansion", 96),
    ]
    # Against the default action threshold of 100, only the cell-source selection needs action.
    assert [m.unit_operation for m in view.modes if m.needs_action] == ["source"]
    assert [b.rpn for b in view.pareto] == [320, 96, 90, 80]
    assert view.pareto[-1].cumulative_percent == Decimal("100.0")


def test_the_threshold_is_data_and_a_rescore_after_mitigation_counts(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    version = fmea_service.start_fmea(
        uow, actor=lab.scientist.actor, project_id=defined, template="cart", threshold=50
    )
    item = fmea_service.add_failure_mode(
        uow,
        actor=lab.researcher.actor,
        project_id=defined,
        fmea_version=version,
        unit_operation="transduction",
        failure_mode="Vector titre lower than stated",
        severity=6,
        occurrence=3,
        detection=4,
    )
    with uow.db.read_session() as s:
        mode = next(m for m in assessment_queries.fmea(s, defined).modes if m.id == item)
    assert (mode.rpn, mode.needs_action) == (72, True)
    with pytest.raises(InvalidInput, match="mitigation"):
        fmea_service.score_failure_mode(
            uow,
            actor=lab.researcher.actor,
            project_id=defined,
            item_id=item,
            severity=6,
            occurrence=1,
            detection=4,
            reason="too early",
            residual=True,
        )
    fmea_service.record_mitigation(
        uow,
        actor=lab.researcher.actor,
        project_id=defined,
        item_id=item,
        mitigation="Titre every vector lot in-house before use",
        owner="rhea",
        reason="vector core agreed",
    )
    assert (
        fmea_service.score_failure_mode(
            uow,
            actor=lab.researcher.actor,
            project_id=defined,
            item_id=item,
            severity=6,
            occurrence=1,
            detection=4,
            reason="titre checked per lot",
            residual=True,
        )
        == 24
    )
    with uow.db.read_session() as s:
        mode = next(m for m in assessment_queries.fmea(s, defined).modes if m.id == item)
    assert (mode.rpn, mode.residual_rpn, mode.needs_action) == (72, 24, False)
    assert trail.after(trail.records("translation:fmea:mode-rescored")[-1])["rpn"] == 24


def test_an_fmea_is_approved_only_when_scored_and_mitigated_and_then_frozen(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    version = fmea_service.start_fmea(uow, actor=lab.scientist.actor, project_id=defined)
    item = fmea_service.add_failure_mode(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        fmea_version=version,
        unit_operation="expansion",
        failure_mode="Contamination during feeding",
        severity=9,
        occurrence=4,
        detection=5,
    )
    with pytest.raises(InvalidInput, match="no mitigation"):
        fmea_service.approve_fmea(
            uow, actor=lab.qa.actor, project_id=defined, version=version, password=PASSWORD
        )
    fmea_service.record_mitigation(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        item_id=item,
        mitigation="Closed feeding through a sterile-welded bag",
        owner="pia",
        reason="closing the step",
    )
    with pytest.raises(TranslationStateError, match="started"):
        fmea_service.approve_fmea(
            uow, actor=lab.scientist.actor, project_id=defined, version=version, password=PASSWORD
        )
    fmea_service.approve_fmea(
        uow, actor=lab.qa.actor, project_id=defined, version=version, password=PASSWORD
    )
    with pytest.raises(TranslationStateError, match="approved"):
        fmea_service.score_failure_mode(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            item_id=item,
            severity=1,
            occurrence=1,
            detection=1,
            reason="after approval",
        )
    # The next version carries the modes over, for the process as it is now.
    assert fmea_service.start_fmea(uow, actor=lab.scientist.actor, project_id=defined) == 2
    with uow.db.read_session() as s:
        carried = assessment_queries.fmea(s, defined)
    assert [m.failure_mode for m in carried.modes] == ["Contamination during feeding"]
