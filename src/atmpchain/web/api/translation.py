"""JSON API of pre-GMP translation: projects, process-definition versions and their diff, gaps,
readiness, FMEA, the draft MBR and the transfer to manufacturing.

Each write calls one service function (which checks the permission and writes the audit trail).
Every read of a project first checks that the caller may see it: pre-GMP staff see every
project, a researcher the projects whose team they are on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.translation import (
    assessment_queries,
    fmea_service,
    gap_service,
    process_format,
    queries,
    service,
    transfer,
)
from atmpchain.translation.assess import GapStatus
from atmpchain.translation.domain import Stage, diff
from atmpchain.translation.mbr_draft import ProductFacts
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW, requires

router = APIRouter(prefix="/api/translation", tags=["translation"])

Viewer = Annotated[Actor, requires(Permission.VIEW_TRANSLATION)]
Version = Annotated[int | None, Query(ge=1, le=100_000)]
Short = Annotated[str, Field(max_length=200)]
Long = Annotated[str, Field(max_length=4000)]
Score = Annotated[int, Field(ge=1, le=10)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProjectIn(BaseModel):
    """A research routine taken in."""

    code: Annotated[str, Field(max_length=40)]
    title: Short
    research_group: Short
    indication: Short
    product_class: Annotated[str, Field(max_length=80)]


class ProjectRowOut(_Out):
    """A project as the list shows it."""

    id: int
    code: str
    title: str
    research_group: str
    indication: str
    product_class: str
    stage: Stage
    latest_definition: int | None


class MemberOut(_Out):
    """A person on the team."""

    username: str
    full_name: str
    project_role: str


class DocumentOut(_Out):
    """A document version and its SHA-256."""

    id: int
    name: str
    version: int
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class ProjectOut(ProjectRowOut):
    """A project with its team and documents."""

    team: list[MemberOut]
    documents: list[DocumentOut]


class IdOut(BaseModel):
    """The id of what was created."""

    id: int


class VersionOut(BaseModel):
    """The version that was recorded."""

    version: int


class StageIn(BaseModel):
    """A stage change and why."""

    stage: Stage
    reason: Long


class MemberIn(BaseModel):
    """A person put on the team."""

    username: Annotated[str, Field(max_length=80)]
    project_role: Annotated[str, Field(max_length=80)]


class DefinitionIn(BaseModel):
    """A new definition version (the mapping of translation/process_format.py) and why."""

    definition: dict[str, Any]
    reason: Long


class RangeIn(BaseModel):
    """A proven range written back as a new definition version."""

    unit_operation: Annotated[str, Field(max_length=40)]
    parameter: Annotated[str, Field(max_length=80)]
    low: Decimal
    high: Decimal
    reason: Long


class SignIn(BaseModel):
    """An approval: the signer's password, and a comment."""

    password: Annotated[str, Field(max_length=200)]
    comment: Long | None = None


class DefinitionOut(BaseModel):
    """A definition version with its unit operations."""

    version: int
    status: str
    reason: str
    authored_at: datetime
    authored_by: str
    approved_by: str | None
    definition: dict[str, Any]


class ChangeOut(BaseModel):
    """One difference between two versions."""

    kind: str
    path: str
    before: str | None
    after: str | None


class GapOut(_Out):
    """A research-to-GMP gap."""

    id: int
    subject_kind: str
    subject: str
    category: str
    description: str
    owner_username: str | None
    evidence: str
    status: GapStatus


class GapIn(BaseModel):
    """A gap's owner, evidence and status, and why they change."""

    status: GapStatus
    owner: Annotated[str, Field(max_length=80)] | None = None
    evidence: Long = ""
    reason: Long


class GenerateOut(BaseModel):
    """How many gaps were added and closed."""

    added: int
    closed: int


class ReadinessIn(BaseModel):
    """A readiness assessment: a score 0-100 per category (rules.toml)."""

    scores: dict[str, Annotated[int, Field(ge=0, le=100)]]
    evidence: dict[str, Long] = {}
    note: Long = ""


class ReadinessOut(BaseModel):
    """One assessment's total and scores."""

    assessed_at: datetime
    assessed_by: str
    total: Decimal
    scores: dict[str, int]


class FmeaStartIn(BaseModel):
    """Start the next FMEA version (a template set of rules.toml; a threshold, else the default)."""

    template: Annotated[str, Field(max_length=40)] | None = None
    threshold: Annotated[int, Field(ge=1, le=1000)] | None = None


class ModeIn(BaseModel):
    """A failure mode added to a draft FMEA."""

    unit_operation: Annotated[str, Field(max_length=40)]
    failure_mode: Short
    effect: Long = ""
    cause: Long = ""
    severity: Score | None = None
    occurrence: Score | None = None
    detection: Score | None = None


class ScoreIn(BaseModel):
    """Scores of a failure mode (residual: after its mitigation) and why."""

    severity: Score
    occurrence: Score
    detection: Score
    reason: Long
    residual: bool = False


class MitigationIn(BaseModel):
    """A mitigation and its owner."""

    mitigation: Long
    owner: Annotated[str, Field(max_length=80)]
    reason: Long


class RpnOut(BaseModel):
    """The RPN of the scores."""

    rpn: int


class ModeOut(_Out):
    """A failure mode with its RPN before and after mitigation."""

    id: int
    unit_operation: str
    failure_mode: str
    severity: int | None
    occurrence: int | None
    detection: int | None
    rpn: int | None
    mitigation: str
    mitigation_owner: str | None
    residual_rpn: int | None
    needs_action: bool


class FmeaOut(_Out):
    """An FMEA version."""

    version: int
    status: str
    threshold: int
    definition_version: int
    approved_by: str | None
    modes: list[ModeOut]


class TransferIn(BaseModel):
    """The product facts the draft MBR needs, and why the process is transferred."""

    version: Annotated[int, Field(ge=1)]
    code: Annotated[str, Field(max_length=40)]
    name: Short
    product_code: Annotated[str, Field(max_length=8)]
    autologous: bool
    shelf_life_hours: Annotated[int, Field(ge=1, le=100_000)]
    description: Long = ""
    reason: Long = ""


class TransferOut(BaseModel):
    """The draft MBR version manufacturing recorded."""

    mbr_code: str
    mbr_version: int
    content_hash: str


def _facts(body: TransferIn) -> ProductFacts:
    return ProductFacts(
        code=body.code,
        name=body.name,
        product_code=body.product_code,
        autologous=body.autologous,
        shelf_life_hours=body.shelf_life_hours,
        description=body.description,
    )


@router.get("/projects", response_model=list[ProjectRowOut])
def project_list(actor: Viewer, state: State) -> list[ProjectRowOut]:
    """The projects the caller may see, newest first."""
    with state.db.read_session() as session:
        return [ProjectRowOut.model_validate(p) for p in queries.list_projects(session, actor)]


@router.post("/projects", response_model=IdOut, status_code=201)
def project_create(body: ProjectIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """Take a research routine in as a project."""
    return IdOut(id=service.create_project(uow, actor=actor, **body.model_dump()))


@router.get("/projects/{project_id}", response_model=ProjectOut)
def project_detail(project_id: RecordId, actor: Viewer, state: State) -> ProjectOut:
    """A project with its team and documents."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        p = queries.project(session, project_id)
    return ProjectOut.model_validate(
        {
            **{k: getattr(p, k) for k in ProjectRowOut.model_fields},
            "team": [MemberOut.model_validate(m) for m in p.team],
            "documents": [DocumentOut.model_validate(d) for d in p.documents],
        }
    )


@router.post("/projects/{project_id}/stage", status_code=204)
def project_stage(project_id: RecordId, body: StageIn, actor: CurrentActor, uow: UoW) -> None:
    """Move the project to another stage."""
    service.change_stage(
        uow, actor=actor, project_id=project_id, stage=body.stage, reason=body.reason
    )


@router.post("/projects/{project_id}/team", status_code=204)
def project_member(project_id: RecordId, body: MemberIn, actor: CurrentActor, uow: UoW) -> None:
    """Put a person on the team."""
    service.add_team_member(uow, actor=actor, project_id=project_id, **body.model_dump())


@router.get("/projects/{project_id}/definition", response_model=DefinitionOut)
def definition_get(
    project_id: RecordId, actor: Viewer, state: State, version: Version = None
) -> DefinitionOut:
    """A definition version (the latest when none is asked for)."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        view = queries.process_definition(session, project_id, version)
    return DefinitionOut(
        version=view.version,
        status=view.status.value,
        reason=view.reason,
        authored_at=view.authored_at,
        authored_by=view.authored_by,
        approved_by=view.approved_by,
        definition=process_format.to_mapping(view.process),
    )


@router.post("/projects/{project_id}/definition", response_model=VersionOut, status_code=201)
def definition_post(
    project_id: RecordId, body: DefinitionIn, actor: CurrentActor, uow: UoW
) -> VersionOut:
    """Record the next definition version."""
    # Who may write comes before what was written: an outsider learns nothing of the format.
    actor.require(Permission.EDIT_TRANSLATION)
    process = process_format.from_mapping(body.definition)
    return VersionOut(
        version=service.draft_definition(
            uow, actor=actor, project_id=project_id, process=process, reason=body.reason
        )
    )


@router.post(
    "/projects/{project_id}/definition/parameter-range", response_model=VersionOut, status_code=201
)
def definition_range(
    project_id: RecordId, body: RangeIn, actor: CurrentActor, uow: UoW
) -> VersionOut:
    """Write a proven parameter range back as the next definition version."""
    return VersionOut(
        version=service.set_parameter_range(
            uow, actor=actor, project_id=project_id, **body.model_dump()
        )
    )


@router.post("/projects/{project_id}/definition/{version}/approve", status_code=204)
def definition_approve(
    project_id: RecordId, version: RecordId, body: SignIn, actor: CurrentActor, uow: UoW
) -> None:
    """Approve a definition version with a signature."""
    service.approve_definition(
        uow, actor=actor, project_id=project_id, version=version, **body.model_dump()
    )


@router.get("/projects/{project_id}/definition/diff", response_model=list[ChangeOut])
def definition_diff(
    project_id: RecordId,
    actor: Viewer,
    state: State,
    from_version: Annotated[int, Query(alias="from", ge=1, le=100_000)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=100_000)],
) -> list[ChangeOut]:
    """What changed from one definition version to another."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        old = queries.process_definition(session, project_id, from_version).process
        new = queries.process_definition(session, project_id, to_version).process
    return [
        ChangeOut(kind=c.kind.value, path=c.path, before=c.before, after=c.after)
        for c in diff(old, new)
    ]


@router.get("/projects/{project_id}/gaps", response_model=list[GapOut])
def gap_list(project_id: RecordId, actor: Viewer, state: State) -> list[GapOut]:
    """The project's gap checklist."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        return [GapOut.model_validate(g) for g in assessment_queries.gaps(session, project_id)]


@router.post("/projects/{project_id}/gaps/generate", response_model=GenerateOut)
def gap_generate(project_id: RecordId, actor: CurrentActor, uow: UoW) -> GenerateOut:
    """List the gaps the latest definition shows."""
    added, closed = gap_service.generate_gaps(uow, actor=actor, project_id=project_id)
    return GenerateOut(added=added, closed=closed)


@router.post("/projects/{project_id}/gaps/{gap_id}", status_code=204)
def gap_update(
    project_id: RecordId, gap_id: RecordId, body: GapIn, actor: CurrentActor, uow: UoW
) -> None:
    """Set a gap's owner, evidence and status."""
    gap_service.update_gap(
        uow, actor=actor, project_id=project_id, gap_id=gap_id, **body.model_dump()
    )


@router.get("/projects/{project_id}/readiness", response_model=list[ReadinessOut])
def readiness_list(project_id: RecordId, actor: Viewer, state: State) -> list[ReadinessOut]:
    """The readiness assessments, oldest first."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        history = assessment_queries.readiness_history(session, project_id)
    return [
        ReadinessOut(
            assessed_at=a.assessed_at,
            assessed_by=a.assessed_by,
            total=a.total,
            scores={s.category: s.score for s in a.scores},
        )
        for a in history
    ]


@router.post("/projects/{project_id}/readiness", response_model=ReadinessOut, status_code=201)
def readiness_post(
    project_id: RecordId, body: ReadinessIn, actor: CurrentActor, uow: UoW, state: State
) -> ReadinessOut:
    """Record a readiness assessment."""
    gap_service.assess_readiness(uow, actor=actor, project_id=project_id, **body.model_dump())
    with state.db.read_session() as session:
        last = assessment_queries.readiness_history(session, project_id)[-1]
    return ReadinessOut(
        assessed_at=last.assessed_at,
        assessed_by=last.assessed_by,
        total=last.total,
        scores={s.category: s.score for s in last.scores},
    )


@router.get("/projects/{project_id}/fmea", response_model=FmeaOut)
def fmea_get(project_id: RecordId, actor: Viewer, state: State, version: Version = None) -> FmeaOut:
    """An FMEA version (the latest when none is asked for)."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        view = assessment_queries.fmea(session, project_id, version)
    return FmeaOut.model_validate(
        {
            **{k: getattr(view, k) for k in ("version", "threshold", "definition_version")},
            "status": view.status.value,
            "approved_by": view.approved_by,
            "modes": [ModeOut.model_validate(m) for m in view.modes],
        }
    )


@router.post("/projects/{project_id}/fmea", response_model=VersionOut, status_code=201)
def fmea_start(
    project_id: RecordId, body: FmeaStartIn, actor: CurrentActor, uow: UoW
) -> VersionOut:
    """Start the next FMEA version."""
    return VersionOut(
        version=fmea_service.start_fmea(
            uow, actor=actor, project_id=project_id, **body.model_dump()
        )
    )


@router.post("/projects/{project_id}/fmea/{version}/modes", response_model=IdOut, status_code=201)
def fmea_mode(
    project_id: RecordId, version: RecordId, body: ModeIn, actor: CurrentActor, uow: UoW
) -> IdOut:
    """Add a failure mode to a draft FMEA."""
    return IdOut(
        id=fmea_service.add_failure_mode(
            uow, actor=actor, project_id=project_id, fmea_version=version, **body.model_dump()
        )
    )


@router.post("/projects/{project_id}/fmea/modes/{item_id}/score", response_model=RpnOut)
def fmea_score(
    project_id: RecordId, item_id: RecordId, body: ScoreIn, actor: CurrentActor, uow: UoW
) -> RpnOut:
    """Score a failure mode, or re-score it after its mitigation."""
    return RpnOut(
        rpn=fmea_service.score_failure_mode(
            uow, actor=actor, project_id=project_id, item_id=item_id, **body.model_dump()
        )
    )


@router.post("/projects/{project_id}/fmea/modes/{item_id}/mitigation", status_code=204)
def fmea_mitigation(
    project_id: RecordId, item_id: RecordId, body: MitigationIn, actor: CurrentActor, uow: UoW
) -> None:
    """Record a failure mode's mitigation and its owner."""
    fmea_service.record_mitigation(
        uow, actor=actor, project_id=project_id, item_id=item_id, **body.model_dump()
    )


@router.post("/projects/{project_id}/fmea/{version}/approve", status_code=204)
def fmea_approve(
    project_id: RecordId, version: RecordId, body: SignIn, actor: CurrentActor, uow: UoW
) -> None:
    """Approve an FMEA version with a signature."""
    fmea_service.approve_fmea(
        uow, actor=actor, project_id=project_id, version=version, **body.model_dump()
    )


@router.post("/projects/{project_id}/mbr-draft", response_model=dict[str, Any])
def mbr_draft(
    project_id: RecordId, body: TransferIn, actor: Viewer, state: State
) -> dict[str, Any]:
    """The draft MBR an approved definition version would become (nothing is written)."""
    with state.db.read_session() as session:
        queries.require_visible(session, actor, project_id)
        return transfer.draft_mapping(session, project_id, body.version, _facts(body))


@router.post("/projects/{project_id}/transfer", response_model=TransferOut, status_code=201)
def transfer_post(
    project_id: RecordId, body: TransferIn, actor: CurrentActor, uow: UoW
) -> TransferOut:
    """Hand an approved definition version to manufacturing as a draft MBR version."""
    result = transfer.transfer_to_manufacturing(
        uow,
        actor=actor,
        project_id=project_id,
        version=body.version,
        product=_facts(body),
        reason=body.reason,
    )
    return TransferOut(
        mbr_code=result.mbr_code, mbr_version=result.mbr_version, content_hash=result.content_hash
    )
