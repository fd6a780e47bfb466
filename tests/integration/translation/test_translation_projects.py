"""Translation projects and process-definition versions (issue 14, items 1 and 2)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from tests.integration.conftest import Trail
from tests.integration.translation.conftest import PASSWORD, Lab, research_routine

from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.translation import queries, service
from atmpchain.translation.domain import ChangeKind, DefinitionStatus, Stage, diff
from atmpchain.translation.errors import ProjectNotFound, TranslationStateError
from atmpchain.uow import UnitOfWork


def test_a_researcher_sees_only_the_projects_of_their_team(
    uow: UnitOfWork, lab: Lab, project_id: int
) -> None:
    with uow.db.read_session() as s:
        assert [p.id for p in queries.list_projects(s, lab.researcher.actor)] == [project_id]
        assert queries.list_projects(s, lab.other_researcher.actor) == []
        assert [p.id for p in queries.list_projects(s, lab.scientist.actor)] == [project_id]
        with pytest.raises(ProjectNotFound):
            queries.require_visible(s, lab.other_researcher.actor, project_id)


def test_a_researcher_cannot_edit_a_project_they_are_not_on(
    uow: UnitOfWork, lab: Lab, project_id: int
) -> None:
    with pytest.raises(ProjectNotFound):
        service.draft_definition(
            uow,
            actor=lab.other_researcher.actor,
            project_id=project_id,
            process=research_routine(),
            reason="not mine",
        )


def test_only_pre_gmp_staff_open_projects(uow: UnitOfWork, lab: Lab) -> None:
    with pytest.raises(PermissionDenied):
        service.create_project(
            uow,
            actor=lab.researcher.actor,
            code="TP-X",
            title="x",
            research_group="g",
            indication="i",
            product_class="c",
        )


def test_a_document_keeps_its_versions_and_their_sha256(
    uow: UnitOfWork, lab: Lab, project_id: int
) -> None:
    first = service.add_document(
        uow, actor=lab.researcher.actor, project_id=project_id, name="Protocol", content=b"v1"
    )
    second = service.add_document(
        uow, actor=lab.researcher.actor, project_id=project_id, name="Protocol", content=b"v2"
    )
    assert first == (1, hashlib.sha256(b"v1").hexdigest())
    assert second == (2, hashlib.sha256(b"v2").hexdigest())
    with uow.db.read_session() as s:
        docs = queries.project(s, project_id).documents
    assert [(d.name, d.version) for d in docs] == [("Protocol", 2), ("Protocol", 1)]


def test_the_definition_reads_back_as_it_was_written(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    with uow.db.read_session() as s:
        view = queries.process_definition(s, defined)
        assert view.version == 1
        assert view.status is DefinitionStatus.DRAFT
        assert view.process == research_routine()
        expansion = view.process.operation("expansion")
        assert expansion is not None and expansion.hands_on_minutes == 180
        temperature = expansion.parameter("temperature")
        assert temperature is not None and temperature.target == Decimal("37.0")
        assert queries.project(s, defined).stage is Stage.PROCESS_DEFINITION


def test_a_proven_range_becomes_the_next_version_with_its_reason(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    version = service.set_parameter_range(
        uow,
        actor=lab.scientist.actor,
        project_id=defined,
        unit_operation="activation",
        parameter="il2",
        low=Decimal("50"),
        high=Decimal("200"),
        reason="screening DoE: IL-2 50-200 IU/mL gives the same expansion",
    )
    assert version == 2
    with uow.db.read_session() as s:
        old = queries.process_definition(s, defined, 1).process
        new = queries.process_definition(s, defined).process
    changes = diff(old, new)
    assert [(c.kind, c.path, c.before, c.after) for c in changes] == [
        (ChangeKind.CHANGED, "activation / parameter il2 / low", "", "50"),
        (ChangeKind.CHANGED, "activation / parameter il2 / high", "", "200"),
    ]
    record = trail.records("translation:process-definition:drafted")[-1]
    assert record.reason == "screening DoE: IL-2 50-200 IU/mL gives the same expansion"


def test_a_range_that_leaves_out_the_target_is_refused_and_nothing_written(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    with pytest.raises(InvalidInput, match="target"):
        service.set_parameter_range(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            unit_operation="activation",
            parameter="il2",
            low=Decimal("150"),
            high=Decimal("200"),
            reason="too narrow",
        )
    with uow.db.read_session() as s:
        assert queries.process_definition(s, defined).version == 1


def test_the_author_never_approves_their_own_version(
    uow: UnitOfWork, lab: Lab, project_id: int
) -> None:
    service.draft_definition(
        uow,
        actor=lab.scientist.actor,
        project_id=project_id,
        process=research_routine(),
        reason="v1",
    )
    with pytest.raises(TranslationStateError, match="author"):
        service.approve_definition(
            uow, actor=lab.scientist.actor, project_id=project_id, version=1, password=PASSWORD
        )
    service.approve_definition(
        uow, actor=lab.second_scientist.actor, project_id=project_id, version=1, password=PASSWORD
    )
    with uow.db.read_session() as s:
        assert queries.process_definition(s, project_id).status is DefinitionStatus.APPROVED
