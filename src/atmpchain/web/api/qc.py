"""JSON API for quality control: specifications, a batch's QC, samples, results and their
review, OOS investigations, late-result flags and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.errors import InvalidInput
from atmpchain.identity.din import Din
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.qc import oos, queries, results, samples, specs
from atmpchain.qc.domain import ResultKind, attribute
from atmpchain.web.deps import CurrentActor, State, UoW
from atmpchain.web.fields import BoundedDatetime

router = APIRouter(prefix="/api/qc", tags=["qc"])

Batch = Annotated[str, Path(max_length=20, description="the batch number, e.g. B26-00001")]
Ident = Annotated[int, Path(ge=1, le=2**31)]
Text = Annotated[str, Field(max_length=4000)]
Password = Annotated[str, Field(max_length=200)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SpecRefOut(_Out):
    """A specification version: product (MBR code), version, source."""

    id: int
    code: str
    version: int
    name: str
    source: str
    mbr_version: int | None
    status: str


class AttributeOut(_Out):
    """One attribute of a specification."""

    name: str
    method: str
    limit_text: str
    unit: str
    release_critical: bool
    may_follow_release: bool


class SpecOut(_Out):
    """A specification version with its attributes."""

    ref: SpecRefOut
    attributes: list[AttributeOut]
    reason: str
    authored_at: datetime
    authored_by: str
    approved_at: datetime | None
    approved_by: str | None


class QcLineOut(_Out):
    """One attribute of a batch and where its results stand."""

    attribute: str
    method: str
    limit_text: str
    unit: str
    release_critical: bool
    may_follow_release: bool
    state: str = Field(description="in_specification, oos, pending, negative_to_date, invalidated")
    value: str | None
    reviewed: bool
    interim: str | None
    result_id: int | None


class OpenOosOut(_Out):
    """An OOS investigation not concluded; assessed once phase I is recorded."""

    id: int
    attribute: str
    phase: str
    assessed: bool


class BatchQcOut(_Out):
    """A batch's QC against its bound specification."""

    batch_number: str
    specification: SpecRefOut | None
    bound: bool
    rule: str
    lines: list[QcLineOut]
    open_oos_investigations: list[OpenOosOut]
    pending_attributes: list[str]
    unassessed_oos: bool


class ResultOut(_Out):
    """One result, invalidated ones included."""

    id: int
    attribute: str
    kind: str
    value: str
    unit: str
    method: str
    instrument: str
    run: str
    verdict: str
    limit_text: str
    analyst: str
    tested_at: datetime
    entered_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    invalidated_at: datetime | None
    invalidation_cause: str | None
    sample_label: str | None


class LateFlagOut(_Out):
    """An open late-result flag on a product unit."""

    id: int
    batch_number: str
    din: str
    attribute: str
    value: str
    investigation_id: int
    infused: bool
    dose_id: int | None
    raised_at: datetime


class NoticeOut(_Out):
    """A notice QC sent."""

    id: int
    recipient_role: str
    recipient_name: str
    dose_id: int | None
    message: str
    patient_trace: dict[str, Any] | None
    created_at: datetime
    acknowledged_at: datetime | None


class InvestigationOut(_Out):
    """An OOS investigation with its phases."""

    id: int
    batch_number: str
    attribute: str
    result: ResultOut
    phase: str
    late: bool
    opened_at: datetime
    lab_error: bool | None
    assignable_cause: str | None
    retest_plan: str | None
    phase1_by: str | None
    manufacturing_findings: str | None
    phase2_by: str | None
    conclusion: str | None
    conclusion_text: str | None
    concluded_by: str | None
    concluded_at: datetime | None
    deviations: list[str]
    version: int


class AttributeIn(BaseModel):
    """One attribute of a drafted specification."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=80)
    method: str = Field(max_length=120)
    limit: str = Field(max_length=120, examples=[">= 70", "negative", "< 5", "report"])
    unit: str = Field(default="", max_length=30)
    release_critical: bool = True
    may_follow_release: bool = False


class SpecIn(BaseModel):
    """A new specification version, written out or from a published template."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40, description="the product's MBR code")
    reason: Text
    template: str | None = Field(
        default=None, max_length=40, description="ari-0001, cd20-hannover or cd19-humanised"
    )
    name: str | None = Field(default=None, max_length=200)
    source: Text | None = None
    mbr_version: int | None = Field(default=None, ge=1, le=10_000)
    attributes: list[AttributeIn] = Field(default=[], max_length=60)


class SignIn(BaseModel):
    """A signature: the password is re-entered for every one."""

    model_config = ConfigDict(extra="forbid")

    password: Password
    comment: Text | None = None


class ResultIn(BaseModel):
    """One result as the analyst enters it."""

    model_config = ConfigDict(extra="forbid")

    attribute: str = Field(max_length=80)
    value: str = Field(max_length=200)
    instrument: str = Field(max_length=80)
    run: str = Field(max_length=80)
    interim: bool = Field(default=False, description="an interim result, e.g. day-10 sterility")
    unit: str | None = Field(default=None, max_length=30)
    method: str | None = Field(default=None, max_length=120)
    analyst: str | None = Field(default=None, max_length=64)
    tested_at: BoundedDatetime | None = None
    sample_label: str | None = Field(default=None, max_length=80)


class EnteredOut(BaseModel):
    """What entering a result did."""

    id: int
    verdict: str
    investigation_id: int | None
    units_held: list[str]
    physicians_notified: list[str]
    infused: list[str]


class SampleIn(BaseModel):
    """A sample taken at a sampling point of the batch record."""

    model_config = ConfigDict(extra="forbid")

    step_ref: str = Field(max_length=12)
    sampling_point: str = Field(max_length=120)
    sample_type: str | None = Field(default=None, max_length=80)


class SampleOut(BaseModel):
    """A sample's label."""

    label: str
    din: str | None
    batch_number: str
    sample_type: str
    sampling_point: str
    lines: list[str]


class InvalidateIn(SignIn):
    """QA's invalidation: the documented cause and a signature."""

    cause: Text


class Phase1In(BaseModel):
    """Phase I: laboratory error or not, the cause (or what was checked), the retest plan."""

    model_config = ConfigDict(extra="forbid")

    lab_error: bool
    assignable_cause: Text
    retest_plan: Text | None = None
    version: int | None = Field(default=None, ge=1)


class Phase2In(BaseModel):
    """Phase II: what manufacturing's investigation found."""

    model_config = ConfigDict(extra="forbid")

    findings: Text
    version: int | None = Field(default=None, ge=1)


class LinkIn(BaseModel):
    """An existing deviation's number, or none to raise one on the batch now."""

    model_config = ConfigDict(extra="forbid")

    deviation_number: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=400)
    description: Text | None = None


class ConcludeIn(SignIn):
    """QA's conclusion: confirmed or invalidated, with a summary and a signature."""

    conclusion: str = Field(max_length=20, examples=["confirmed"])
    summary: Text
    version: int | None = Field(default=None, ge=1)


@router.get("/specifications", response_model=list[SpecRefOut], summary="Specification versions")
def list_specs(
    actor: CurrentActor, state: State, code: Annotated[str | None, Query(max_length=40)] = None
) -> list[SpecRefOut]:
    actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        return [SpecRefOut.model_validate(r) for r in queries.specifications(session, code)]


@router.get("/specifications/{code}/{version}", response_model=SpecOut, summary="One specification")
def one_spec(
    code: Annotated[str, Path(max_length=40)], version: Ident, actor: CurrentActor, state: State
) -> SpecOut:
    actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        return SpecOut.model_validate(queries.specification(session, code, version))


@router.post("/specifications", response_model=SpecOut, status_code=201, summary="Draft a version")
def draft(body: SpecIn, actor: CurrentActor, uow: UoW, state: State) -> SpecOut:
    if body.template:
        version = specs.draft_from_published(
            uow,
            actor=actor,
            template_key=body.template,
            code=body.code,
            reason=body.reason,
            mbr_version=body.mbr_version,
        )
    else:
        version = specs.draft_specification(
            uow,
            actor=actor,
            code=body.code,
            name=body.name or "",
            source=body.source or "",
            attributes=[attribute(**a.model_dump()) for a in body.attributes],
            reason=body.reason,
            mbr_version=body.mbr_version,
        )
    return one_spec(body.code.strip().upper(), version, actor, state)


@router.post(
    "/specifications/{code}/{version}/approve",
    response_model=SpecOut,
    summary="QA approves a drafted version with a signature",
)
def approve(
    code: Annotated[str, Path(max_length=40)],
    version: Ident,
    body: SignIn,
    actor: CurrentActor,
    uow: UoW,
    state: State,
) -> SpecOut:
    specs.approve_specification(
        uow, actor=actor, code=code, version=version, password=body.password, comment=body.comment
    )
    return one_spec(code.strip().upper(), version, actor, state)


@router.get("/batches/{number}", response_model=BatchQcOut, summary="A batch's QC")
def batch(number: Batch, actor: CurrentActor, state: State) -> BatchQcOut:
    actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        return BatchQcOut.model_validate(queries.batch_qc(session, number))


@router.get("/batches/{number}/results", response_model=list[ResultOut], summary="Every result")
def batch_results(number: Batch, actor: CurrentActor, state: State) -> list[ResultOut]:
    actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        queries.batch_qc(session, number)  # an unknown batch is a 404, not an empty list
        return [ResultOut.model_validate(r) for r in queries.results(session, number)]


@router.post(
    "/batches/{number}/results",
    response_model=EnteredOut,
    status_code=201,
    summary="Enter a result (judged at once; a failed late result holds and notifies)",
)
def enter(number: Batch, body: ResultIn, actor: CurrentActor, uow: UoW) -> EnteredOut:
    done = results.enter_result(
        uow,
        actor=actor,
        entry=results.ResultEntry(
            batch_number=number,
            attribute=body.attribute,
            value=body.value,
            instrument=body.instrument,
            run=body.run,
            kind=ResultKind.INTERIM if body.interim else ResultKind.FINAL,
            unit=body.unit,
            method=body.method,
            analyst=body.analyst,
            tested_at=body.tested_at,
            sample_label=body.sample_label,
        ),
    )
    late = done.late
    return EnteredOut(
        id=done.id,
        verdict=done.verdict.value,
        investigation_id=done.investigation_id,
        units_held=list(late.units_held) if late else [],
        physicians_notified=list(late.physicians_notified) if late else [],
        infused=list(late.infused) if late else [],
    )


@router.post(
    "/batches/{number}/samples", response_model=SampleOut, status_code=201, summary="Take a sample"
)
def take(number: Batch, body: SampleIn, actor: CurrentActor, uow: UoW) -> SampleOut:
    label = samples.take_sample(
        uow,
        actor=actor,
        batch_number=number,
        step_ref=body.step_ref,
        sampling_point=body.sampling_point,
        sample_type=body.sample_type,
    )
    return SampleOut(
        label=label.label,
        din=label.din,
        batch_number=label.batch_number,
        sample_type=label.sample_type,
        sampling_point=label.sampling_point,
        lines=list(label.lines),
    )


@router.post("/results/{result_id}/review", status_code=204, summary="Second-analyst review")
def review(result_id: Ident, body: SignIn, actor: CurrentActor, uow: UoW) -> None:
    results.review_result(
        uow, actor=actor, result_id=result_id, password=body.password, comment=body.comment
    )


@router.post("/results/{result_id}/invalidate", status_code=204, summary="QA invalidates")
def invalidate(result_id: Ident, body: InvalidateIn, actor: CurrentActor, uow: UoW) -> None:
    oos.invalidate_result(
        uow, actor=actor, result_id=result_id, cause=body.cause, password=body.password
    )


@router.get("/oos", response_model=list[OpenOosOut], summary="Open OOS investigations")
def open_oos(actor: CurrentActor, state: State) -> list[OpenOosOut]:
    actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        return [OpenOosOut.model_validate(i) for i in queries.investigations(session)]


def _investigation(state: State, ident: int) -> InvestigationOut:
    with state.db.read_session() as session:
        view = queries.investigation(session, ident)
    data = {k: getattr(view, k) for k in InvestigationOut.model_fields if k != "result"}
    data["phase"] = view.phase.value
    data["deviations"] = list(view.deviations)
    return InvestigationOut(**data, result=ResultOut.model_validate(view.result))


@router.get("/oos/{ident}", response_model=InvestigationOut, summary="One OOS investigation")
def one_oos(ident: Ident, actor: CurrentActor, state: State) -> InvestigationOut:
    actor.require(Permission.VIEW_QC)
    return _investigation(state, ident)


@router.post("/oos/{ident}/phase1", response_model=InvestigationOut, summary="Record phase I")
def phase1(
    ident: Ident, body: Phase1In, actor: CurrentActor, uow: UoW, state: State
) -> InvestigationOut:
    oos.record_phase1(
        uow,
        actor=actor,
        investigation_id=ident,
        lab_error=body.lab_error,
        assignable_cause=body.assignable_cause,
        retest_plan=body.retest_plan,
        version=body.version,
    )
    return _investigation(state, ident)


@router.post("/oos/{ident}/phase2", response_model=InvestigationOut, summary="Record phase II")
def phase2(
    ident: Ident, body: Phase2In, actor: CurrentActor, uow: UoW, state: State
) -> InvestigationOut:
    oos.record_phase2(
        uow, actor=actor, investigation_id=ident, findings=body.findings, version=body.version
    )
    return _investigation(state, ident)


@router.post("/oos/{ident}/deviations", response_model=InvestigationOut, summary="Link a deviation")
def link(
    ident: Ident, body: LinkIn, actor: CurrentActor, uow: UoW, state: State
) -> InvestigationOut:
    oos.link_deviation(
        uow,
        actor=actor,
        investigation_id=ident,
        deviation_number=body.deviation_number,
        title=body.title,
        description=body.description,
    )
    return _investigation(state, ident)


@router.post("/oos/{ident}/conclude", response_model=InvestigationOut, summary="QA concludes")
def conclude(
    ident: Ident, body: ConcludeIn, actor: CurrentActor, uow: UoW, state: State
) -> InvestigationOut:
    oos.conclude(
        uow,
        actor=actor,
        investigation_id=ident,
        conclusion=body.conclusion,
        summary=body.summary,
        password=body.password,
        version=body.version,
    )
    return _investigation(state, ident)


@router.get("/late-flags/{din}", response_model=list[LateFlagOut], summary="Open late-result flags")
def flags(
    din: Annotated[str, Path(max_length=20)], actor: CurrentActor, state: State
) -> list[LateFlagOut]:
    if not (actor.can(Permission.VIEW_QC) or actor.can(Permission.VIEW_DOSES)):
        actor.require(Permission.VIEW_QC)
    try:
        Din.parse(din.strip())
    except IdentityFormatError as exc:
        raise InvalidInput(f"'{din[:20]}' is not a DIN: {exc}", "din") from None
    with state.db.read_session() as session:
        return [LateFlagOut.model_validate(f) for f in queries.late_result_flags(session, din)]


@router.get("/notices", response_model=list[NoticeOut], summary="QC notices")
def notices(actor: CurrentActor, state: State) -> list[NoticeOut]:
    """QA sees every notice; anyone else (a treating physician) sees their own."""
    actor.require(Permission.ACKNOWLEDGE_QC_NOTICE)
    mine = None if actor.can(Permission.CONCLUDE_OOS) else actor.user_id or -1
    with state.db.read_session() as session:
        return [
            NoticeOut.model_validate(n) for n in queries.notifications(session, recipient_id=mine)
        ]


@router.post("/notices/{ident}/acknowledge", status_code=204, summary="Acknowledge a notice")
def acknowledge(ident: Ident, actor: CurrentActor, uow: UoW) -> None:
    results.acknowledge_notice(uow, actor=actor, notice_id=ident)
