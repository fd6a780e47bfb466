"""JSON API of the clinical-trial gateway: inquiries (staff see all, a sponsor's guest only their
own), triage moves, messages, feasibility, the regulatory route, trials and the pipeline.

New inquiries come through the public form (`/inquire`), which carries their documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from atmpchain.accounts.domain import Permission
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import Milestone
from atmpchain.gateway.queries import InquiryLine, sponsor_scope
from atmpchain.web.deps import CurrentActor, State, UoW

router = APIRouter(prefix="/api/gateway", tags=["gateway"])

Ref = Annotated[str, Path(max_length=30, description="e.g. INQ-2026-0001")]
Text = Annotated[str, Field(max_length=4000)]
Short = Annotated[str, Field(max_length=200)]


class InquiryLineOut(BaseModel):
    """An inquiry as listed, with its service-level timers."""

    reference: str
    title: str
    sponsor_name: str
    sponsor_type: str
    state: str
    received_at: datetime
    state_since: datetime
    first_answer_at: datetime | None
    coordinator: str | None
    overdue: bool

    @classmethod
    def of(cls, line: InquiryLine) -> InquiryLineOut:
        return cls(
            reference=line.reference,
            title=line.title,
            sponsor_name=line.sponsor_name,
            sponsor_type=line.sponsor_type.value,
            state=line.state.value,
            received_at=line.received_at,
            state_since=line.state_since,
            first_answer_at=line.first_answer_at,
            coordinator=line.coordinator,
            overdue=line.overdue,
        )


class MessageOut(BaseModel):
    """A question from the center or an answer from the sponsor."""

    at: datetime
    kind: str
    by: str
    text: str


class DocumentOut(BaseModel):
    """A document's name, type, size and SHA-256."""

    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str


class MoveOut(BaseModel):
    """One move of the workflow."""

    at: datetime
    from_state: str
    to_state: str
    by: str
    reason: str | None


class InquiryOut(BaseModel):
    """One inquiry."""

    inquiry: InquiryLineOut
    answers: dict[str, str]
    next_states: list[str]
    messages: list[MessageOut]
    documents: list[DocumentOut]
    moves: list[MoveOut]
    seconds_in_state: dict[str, int]
    trial: str | None


class CriterionOut(BaseModel):
    """One feasibility criterion."""

    key: str
    name: str
    rating: str = Field(description="green, amber or red")
    evidence: str


class FeasibilityOut(BaseModel):
    """Every criterion and the verdict."""

    rating: str
    criteria: list[CriterionOut]


class MilestoneOut(BaseModel):
    """A dated step of the CTR timeline."""

    name: str
    day: date
    note: str


class RegulatoryOut(BaseModel):
    """The route and the CTR timeline."""

    route: str = Field(description="clinical_trial or hospital_exemption")
    reasons: list[str]
    timeline: list[MilestoneOut]
    timeline_with_rfi: list[MilestoneOut]
    source: str


class MoveIn(BaseModel):
    """A move of the workflow, with its reason."""

    to_state: Short
    reason: Text


class MessageIn(BaseModel):
    """A question (from the center) or an answer (from the sponsor)."""

    text: Text


class UsernameIn(BaseModel):
    """An account, by username."""

    username: Short


class TrialIn(BaseModel):
    """The trial an accepted inquiry becomes."""

    reference: Short
    eu_ct_number: Short
    code: Short
    products: Text
    sites: Text | None = None
    planned_patients: Annotated[int, Field(ge=1, le=10_000)] | None = None


class TrialPatientOut(BaseModel):
    """A trial patient's stage."""

    coi: str | None
    patient_ref: str | None
    batch: str | None
    stage: str


class TrialOut(BaseModel):
    """A trial and its patients."""

    eu_ct_number: str
    code: str
    sponsor: str
    protocol_title: str
    inquiry: str
    planned_patients: int
    patients: list[TrialPatientOut]
    by_stage: dict[str, int]


class PipelineOut(BaseModel):
    """The dashboard's figures."""

    total: int
    by_state: dict[str, int]
    by_state_and_sponsor_type: dict[str, dict[str, int]]
    median_first_answer_seconds: int | None
    acceptance_rate: float | None
    ln2_free: int
    ln2_capacity: int
    ln2_booked: int
    suite_days: str


class DoneOut(BaseModel):
    """What a write did."""

    reference: str
    result: str


@router.get("/inquiries", summary="Inquiries (a sponsor's guest: only their own)")
def list_inquiries(actor: CurrentActor, state: State) -> list[InquiryLineOut]:
    scope = sponsor_scope(actor)
    with state.db.read_session() as session:
        lines = gateway_queries.list_inquiries(session, state.clock.now(), sponsor_user_id=scope)
    return [InquiryLineOut.of(line) for line in lines]


@router.get("/inquiries/overdue", summary="Open inquiries past a service-level target")
def overdue(actor: CurrentActor, state: State) -> list[InquiryLineOut]:
    actor.require(Permission.VIEW_INQUIRIES)
    with state.db.read_session() as session:
        lines = gateway_queries.overdue_inquiries(session, state.clock.now())
    return [InquiryLineOut.of(line) for line in lines]


@router.get("/inquiries/{reference}", summary="One inquiry (a sponsor: only their own, else 404)")
def get_inquiry(reference: Ref, actor: CurrentActor, state: State) -> InquiryOut:
    scope = sponsor_scope(actor)
    with state.db.read_session() as session:
        d = gateway_queries.inquiry_detail(
            session, reference, state.clock.now(), sponsor_user_id=scope
        )
    return InquiryOut(
        inquiry=InquiryLineOut.of(d.line),
        answers=d.answers,
        next_states=[s.value for s in d.next_states],
        messages=[MessageOut(at=m.at, kind=m.kind, by=m.by, text=m.text) for m in d.messages],
        documents=[
            DocumentOut(
                kind=doc.kind,
                filename=doc.filename,
                content_type=doc.content_type,
                size=doc.size,
                sha256=doc.sha256,
            )
            for doc in d.documents
        ],
        moves=[
            MoveOut(
                at=m.at,
                from_state=m.from_state.value,
                to_state=m.to_state.value,
                by=m.by,
                reason=m.reason if scope is None else None,
            )
            for m in d.moves
        ],
        seconds_in_state={s.value: int(t.total_seconds()) for s, t in d.time_in_state.items()},
        trial=d.trial_eu_ct,
    )


@router.get("/inquiries/{reference}/feasibility", summary="Feasibility against the facility")
def feasibility(reference: Ref, actor: CurrentActor, state: State) -> FeasibilityOut:
    actor.require(Permission.VIEW_INQUIRIES)
    with state.db.read_session() as session:
        f = gateway_queries.feasibility_of(session, reference)
    return FeasibilityOut(
        rating=f.rating.value,
        criteria=[
            CriterionOut(key=c.key, name=c.name, rating=c.rating.value, evidence=c.evidence)
            for c in f.criteria
        ],
    )


@router.get("/inquiries/{reference}/regulatory", summary="Route and CTR timeline")
def regulatory(reference: Ref, actor: CurrentActor, state: State) -> RegulatoryOut:
    scope = sponsor_scope(actor)
    with state.db.read_session() as session:
        r = gateway_queries.regulatory_of(session, reference, sponsor_user_id=scope)

    def dated(items: tuple[Milestone, ...]) -> list[MilestoneOut]:
        return [MilestoneOut(name=m.name, day=m.day, note=m.note) for m in items]

    return RegulatoryOut(
        route=r.advice.route,
        reasons=[rule.why for rule in r.advice.reasons],
        timeline=dated(r.timeline),
        timeline_with_rfi=dated(r.timeline_with_rfi),
        source=r.source,
    )


@router.post("/inquiries/{reference}/move", summary="Move along the triage workflow")
def move(reference: Ref, body: MoveIn, actor: CurrentActor, uow: UoW) -> DoneOut:
    target = inquiries.move_inquiry(
        uow, actor=actor, reference=reference, to_state=body.to_state, reason=body.reason
    )
    return DoneOut(reference=reference.upper(), result=target.value)


@router.post("/inquiries/{reference}/messages", summary="A question or the sponsor's answer")
def message(reference: Ref, body: MessageIn, actor: CurrentActor, uow: UoW) -> DoneOut:
    kind = inquiries.post_message(uow, actor=actor, reference=reference, text=body.text)
    return DoneOut(reference=reference.upper(), result=kind)


@router.post("/inquiries/{reference}/assign", summary="Assign to a trial coordinator")
def assign(reference: Ref, body: UsernameIn, actor: CurrentActor, uow: UoW) -> DoneOut:
    inquiries.assign_coordinator(uow, actor=actor, reference=reference, username=body.username)
    return DoneOut(reference=reference.upper(), result="assigned")


@router.post("/inquiries/{reference}/sponsor", summary="Give a sponsor's guest account access")
def invite(reference: Ref, body: UsernameIn, actor: CurrentActor, uow: UoW) -> DoneOut:
    inquiries.invite_sponsor(uow, actor=actor, reference=reference, username=body.username)
    return DoneOut(reference=reference.upper(), result="invited")


def _trial_out(t: trials.TrialView) -> TrialOut:
    return TrialOut(
        eu_ct_number=t.eu_ct_number,
        code=t.code,
        sponsor=t.sponsor,
        protocol_title=t.protocol_title,
        inquiry=t.inquiry,
        planned_patients=t.planned_patients,
        patients=[
            TrialPatientOut(coi=p.coi, patient_ref=p.patient_ref, batch=p.batch, stage=p.stage)
            for p in t.patients
        ],
        by_stage=t.by_stage,
    )


@router.post("/trials", status_code=201, summary="Set up the trial of an accepted inquiry")
def create_trial(body: TrialIn, actor: CurrentActor, uow: UoW) -> DoneOut:
    number = trials.create_trial(
        uow,
        actor=actor,
        reference=body.reference,
        eu_ct_number=body.eu_ct_number,
        code=body.code,
        products=body.products,
        sites=body.sites,
        planned_patients=body.planned_patients,
    )
    return DoneOut(reference=body.reference.upper(), result=number)


@router.get("/trials", summary="Every trial with its patients in each stage")
def list_trials(actor: CurrentActor, uow: UoW) -> list[TrialOut]:
    actor.require(Permission.VIEW_INQUIRIES)
    return [_trial_out(t) for t in trials.list_trials(uow)]


@router.get("/pipeline", summary="The pipeline dashboard's figures")
def pipeline(actor: CurrentActor, state: State) -> PipelineOut:
    actor.require(Permission.VIEW_INQUIRIES)
    with state.db.read_session() as session:
        p = gateway_queries.pipeline(session, state.clock.now())
    nested: dict[str, dict[str, int]] = {}
    for (st, kind), n in p.counts.items():
        nested.setdefault(st.value, {})[kind.value] = n
    return PipelineOut(
        total=p.total,
        by_state={s.value: n for s, n in p.by_state.items()},
        by_state_and_sponsor_type=nested,
        median_first_answer_seconds=(
            int(p.median_first_answer.total_seconds()) if p.median_first_answer else None
        ),
        acceptance_rate=p.acceptance_rate,
        ln2_free=p.ln2_free,
        ln2_capacity=p.ln2_capacity,
        ln2_booked=p.ln2_booked,
        suite_days=p.suite_days,
    )
