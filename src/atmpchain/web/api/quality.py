"""JSON API for deviations and CAPA: raise, investigate, close by signature, reopen; QA lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.quality import queries
from atmpchain.quality import service as quality_service
from atmpchain.quality.deviations import DeviationSummary, open_deviations_for, raise_deviation
from atmpchain.quality.domain import facility_date
from atmpchain.web.deps import AppState, CurrentActor, State, UoW
from atmpchain.web.fields import BoundedDate, BoundedDatetime

router = APIRouter(prefix="/api/quality", tags=["quality"])

Number = Annotated[str, Path(max_length=40, description="e.g. DEV-2026-00042")]
Position = Annotated[int, Path(ge=1, le=10_000, description="the CAPA's position: 1, 2, ...")]
Text = Annotated[str, Field(max_length=4000)]


def _today(state: AppState) -> date:
    return facility_date(state.clock.now(), state.settings.display_timezone)


class DeviationRowOut(BaseModel):
    """A deviation as listed."""

    number: str
    title: str
    planned: bool
    classification: str | None = Field(description="minor, major, critical; null: to classify")
    state: str = Field(description="raised, investigating or closed")
    raised_at: datetime
    raised_by: str
    batch_number: str | None
    open_capas: int
    overdue_capas: int


class CapaOut(BaseModel):
    """One CAPA of a deviation."""

    position: int
    kind: str
    action: str
    owner: str
    owner_username: str
    due: date
    done_at: datetime | None
    done_note: str | None
    effectiveness: str | None
    effectiveness_note: str | None
    checked_at: datetime | None
    checked_by: str | None
    overdue: bool
    days_overdue: int


class SignatureOut(BaseModel):
    """A signature on the deviation: printed name, meaning, time, and whether it still holds."""

    signer_name: str
    meaning: str
    signed_at: datetime
    valid: bool


class MissingOut(BaseModel):
    """Something that still stands in the way of closing."""

    field: str
    message: str


class DeviationOut(BaseModel):
    """Everything on one deviation."""

    number: str
    title: str
    description: str
    planned: bool
    classification: str | None
    state: str
    batch_number: str | None
    step_ref: str | None
    detected_at: datetime
    detected_by: str
    raised_at: datetime
    raised_by: str
    immediate_action: str | None
    impact: str | None
    impact_rationale: str | None
    root_cause: str | None
    closed_at: datetime | None
    closed_by: str | None
    reopen_count: int
    batches: list[str]
    unit_dins: list[str]
    capas: list[CapaOut]
    signatures: list[SignatureOut]
    missing_for_closure: list[MissingOut]


class OpenDeviationOut(BaseModel):
    """An open deviation on a batch or product unit."""

    number: str
    title: str
    classification: str | None
    state: str
    raised_at: datetime
    batch_number: str | None
    step_ref: str | None


class OverdueCapaOut(BaseModel):
    """A CAPA past its due date and not done."""

    number: str
    deviation_title: str
    classification: str | None
    position: int
    kind: str
    action: str
    owner: str
    owner_username: str
    due: date
    days_overdue: int


class RaiseIn(BaseModel):
    """A new deviation. Classification is QA's: others leave it out (to be classified)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=400)
    description: Text
    planned: bool = False
    classification: str | None = Field(default=None, max_length=20)
    immediate_action: Text | None = None
    batch_number: str | None = Field(default=None, max_length=80)
    step_ref: str | None = Field(default=None, max_length=160)
    unit_dins: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=100)
    detected_at: BoundedDatetime | None = None
    detected_by: str | None = Field(
        default=None, max_length=64, description="who detected it, if not the person raising it"
    )


class ClassifyIn(BaseModel):
    """QA's classification and why."""

    model_config = ConfigDict(extra="forbid")

    classification: str = Field(max_length=20, examples=["major"])
    rationale: Text


class ImpactIn(BaseModel):
    """QA's impact assessment: a decision (no default) and its rationale."""

    model_config = ConfigDict(extra="forbid")

    decision: str = Field(
        max_length=60, description="no-impact, acceptable-with-risk-assessment, product-affected"
    )
    rationale: Text


class RootCauseIn(BaseModel):
    """The investigation's root cause."""

    model_config = ConfigDict(extra="forbid")

    root_cause: Text


class AffectedIn(BaseModel):
    """Batches and product units found to be affected."""

    model_config = ConfigDict(extra="forbid")

    batch_numbers: list[Annotated[str, Field(max_length=80)]] = Field(default=[], max_length=100)
    unit_dins: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=100)


class CapaIn(BaseModel):
    """A planned CAPA."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=20, description="corrective or preventive")
    action: Text
    owner: str = Field(max_length=64, description="the owner's username")
    due: BoundedDate


class NoteIn(BaseModel):
    """What was done."""

    model_config = ConfigDict(extra="forbid")

    note: Text


class EffectivenessIn(BaseModel):
    """The effectiveness check's result and evidence."""

    model_config = ConfigDict(extra="forbid")

    result: str = Field(max_length=20, description="effective or not-effective")
    note: Text


class CloseIn(BaseModel):
    """QA's closing signature: the password is re-entered for every signature."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=200)
    comment: Text | None = None


class ReopenIn(BaseModel):
    """Why a closed deviation is reopened."""

    model_config = ConfigDict(extra="forbid")

    reason: Text


def _detail(state: AppState, number: str) -> DeviationOut:
    with state.db.read_session() as session:
        d = queries.deviation_detail(session, number, today=_today(state))
    return DeviationOut(
        number=d.number,
        title=d.title,
        description=d.description,
        planned=d.planned,
        classification=d.classification.value if d.classification else None,
        state=d.state.value,
        batch_number=d.batch_number,
        step_ref=d.step_ref,
        detected_at=d.detected_at,
        detected_by=d.detected_by,
        raised_at=d.raised_at,
        raised_by=d.raised_by,
        immediate_action=d.immediate_action,
        impact=d.impact.value if d.impact else None,
        impact_rationale=d.impact_rationale,
        root_cause=d.root_cause,
        closed_at=d.closed_at,
        closed_by=d.closed_by,
        reopen_count=d.reopen_count,
        batches=list(d.batches),
        unit_dins=list(d.unit_dins),
        capas=[
            CapaOut(
                position=c.position,
                kind=c.kind.value,
                action=c.action,
                owner=c.owner,
                owner_username=c.owner_username,
                due=c.due,
                done_at=c.done_at,
                done_note=c.done_note,
                effectiveness=c.effectiveness.value if c.effectiveness else None,
                effectiveness_note=c.effectiveness_note,
                checked_at=c.checked_at,
                checked_by=c.checked_by,
                overdue=c.overdue,
                days_overdue=c.days_overdue,
            )
            for c in d.capas
        ],
        signatures=[
            SignatureOut(
                signer_name=s.signer_name,
                meaning=s.meaning.value,
                signed_at=s.signed_at,
                valid=s.valid,
            )
            for s in d.signatures
        ],
        missing_for_closure=[MissingOut(field=f, message=m) for f, m in d.missing_for_closure],
    )


@router.get("/deviations", response_model=list[DeviationRowOut], summary="Deviations, open first")
def list_deviations(
    actor: CurrentActor,
    state: State,
    open_only: Annotated[bool, Query(alias="open", description="only the open ones")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeviationRowOut]:
    actor.require(Permission.VIEW_DEVIATIONS)
    with state.db.read_session() as session:
        rows = queries.list_deviations(
            session, today=_today(state), open_only=open_only, limit=limit
        )
    return [
        DeviationRowOut(
            number=r.number,
            title=r.title,
            planned=r.planned,
            classification=r.classification.value if r.classification else None,
            state=r.state.value,
            raised_at=r.raised_at,
            raised_by=r.raised_by,
            batch_number=r.batch_number,
            open_capas=r.open_capas,
            overdue_capas=r.overdue_capas,
        )
        for r in rows
    ]


@router.post(
    "/deviations", response_model=DeviationOut, status_code=201, summary="Raise a deviation"
)
def raise_one(body: RaiseIn, actor: CurrentActor, uow: UoW, state: State) -> DeviationOut:
    ref = raise_deviation(
        uow,
        actor=actor,
        title=body.title,
        description=body.description,
        planned=body.planned,
        classification=body.classification,
        batch_number=body.batch_number,
        step_ref=body.step_ref,
        unit_dins=body.unit_dins,
        immediate_action=body.immediate_action,
        detected_at=body.detected_at,
        detected_by=body.detected_by,
    )
    return _detail(state, ref.number)


@router.get(
    "/open-deviations",
    response_model=list[OpenDeviationOut],
    summary="The open deviations on a batch (batch_number) or a product unit (din)",
)
def open_on(
    actor: CurrentActor,
    state: State,
    batch_number: Annotated[str | None, Query(max_length=80)] = None,
    din: Annotated[str | None, Query(max_length=40)] = None,
) -> list[OpenDeviationOut]:
    actor.require(Permission.VIEW_DEVIATIONS)
    with state.db.read_session() as session:
        found: list[DeviationSummary] = open_deviations_for(
            session, batch_number=batch_number, din=din
        )
    return [
        OpenDeviationOut(
            number=d.number,
            title=d.title,
            classification=d.classification,
            state=d.state,
            raised_at=d.raised_at,
            batch_number=d.batch_number,
            step_ref=d.step_ref,
        )
        for d in found
    ]


@router.get(
    "/capas/overdue",
    response_model=list[OverdueCapaOut],
    summary="CAPAs past their due date and not done, longest overdue first",
)
def overdue(actor: CurrentActor, state: State) -> list[OverdueCapaOut]:
    actor.require(Permission.VIEW_DEVIATIONS)
    with state.db.read_session() as session:
        found = queries.overdue_capas(session, today=_today(state))
    return [
        OverdueCapaOut(
            number=c.number,
            deviation_title=c.deviation_title,
            classification=c.classification.value if c.classification else None,
            position=c.position,
            kind=c.kind.value,
            action=c.action,
            owner=c.owner,
            owner_username=c.owner_username,
            due=c.due,
            days_overdue=c.days_overdue,
        )
        for c in found
    ]


@router.get("/deviations/{number}", response_model=DeviationOut, summary="One deviation")
def get_one(number: Number, actor: CurrentActor, state: State) -> DeviationOut:
    actor.require(Permission.VIEW_DEVIATIONS)
    return _detail(state, number)


@router.post("/deviations/{number}/classify", response_model=DeviationOut, summary="QA classifies")
def classify(
    number: Number, body: ClassifyIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.classify(
        uow,
        actor=actor,
        number=number,
        classification=body.classification,
        rationale=body.rationale,
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/impact", response_model=DeviationOut, summary="QA's impact assessment"
)
def assess(
    number: Number, body: ImpactIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.assess_impact(
        uow, actor=actor, number=number, decision=body.decision, rationale=body.rationale
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/root-cause", response_model=DeviationOut, summary="Record the root cause"
)
def root_cause(
    number: Number, body: RootCauseIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.record_root_cause(uow, actor=actor, number=number, root_cause=body.root_cause)
    return _detail(state, number)


@router.post(
    "/deviations/{number}/affected",
    response_model=DeviationOut,
    summary="Add affected batches and product units",
)
def affected(
    number: Number, body: AffectedIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.add_affected(
        uow, actor=actor, number=number, batch_numbers=body.batch_numbers, unit_dins=body.unit_dins
    )
    return _detail(state, number)


@router.post("/deviations/{number}/capas", response_model=DeviationOut, summary="Plan a CAPA")
def add_capa(
    number: Number, body: CapaIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.add_capa(
        uow,
        actor=actor,
        number=number,
        kind=body.kind,
        action=body.action,
        owner=body.owner,
        due=body.due,
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/capas/{position}/done",
    response_model=DeviationOut,
    summary="The owner records the CAPA done",
)
def capa_done(
    number: Number, position: Position, body: NoteIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.complete_capa(
        uow, actor=actor, number=number, position=position, note=body.note
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/capas/{position}/effectiveness",
    response_model=DeviationOut,
    summary="QA records the CAPA's effectiveness check",
)
def capa_effectiveness(
    number: Number,
    position: Position,
    body: EffectivenessIn,
    actor: CurrentActor,
    uow: UoW,
    state: State,
) -> DeviationOut:
    quality_service.check_effectiveness(
        uow, actor=actor, number=number, position=position, result=body.result, note=body.note
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/close",
    response_model=DeviationOut,
    summary="QA closes the deviation by electronic signature",
)
def close(
    number: Number, body: CloseIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.close_deviation(
        uow, actor=actor, number=number, password=body.password, comment=body.comment
    )
    return _detail(state, number)


@router.post(
    "/deviations/{number}/reopen",
    response_model=DeviationOut,
    summary="QA reopens a closed deviation, with a reason",
)
def reopen(
    number: Number, body: ReopenIn, actor: CurrentActor, uow: UoW, state: State
) -> DeviationOut:
    quality_service.reopen_deviation(uow, actor=actor, number=number, reason=body.reason)
    return _detail(state, number)
