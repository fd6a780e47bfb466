"""JSON API of release: the review by exception, the QP's decision, the certificate and the full
batch record (PDF), the released units in FHIR, and out-of-specification supplies (Part IV §11.5).

Each write calls one service function (which checks the caller's permission and writes the audit
trail); reads need 'release.view'.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.release import queries, records, service
from atmpchain.release.domain import Decision, SupplyStep
from atmpchain.release.qc_link import qc_facts
from atmpchain.web.deps import CurrentActor, RecordId, State, UoW, requires

router = APIRouter(prefix="/api/release", tags=["release"])

Viewer = Annotated[Actor, requires(Permission.VIEW_RELEASE)]
Number = Annotated[str, Path(min_length=1, max_length=20)]
Password = Annotated[str, Field(max_length=500)]
Text = Annotated[str, Field(max_length=4000)]


class Strict(BaseModel):
    """Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class DecisionIn(Strict):
    """The QP's decision, signed with their password."""

    decision: Decision
    password: Password
    procedure: Annotated[str | None, Field(max_length=120)] = None
    comment: Annotated[str | None, Field(max_length=2000)] = None


class SupplyRequestIn(Strict):
    """Step 1 of a §11.5 supply: the treating physician's request."""

    clinical_reason: Text
    password: Password
    dose_id: RecordId | None = None


class SupplyStepIn(Strict):
    """Steps 2-4 of a §11.5 supply."""

    step: SupplyStep
    text: Text
    password: Password


class ItemOut(BaseModel):
    section: str
    text: str
    blocks: bool
    fine: bool


class CertificationOut(BaseModel):
    id: int
    batch_number: str
    decision: str
    decision_label: str
    procedure: str | None
    pending_tests: list[str]
    specification: str | None
    supply_id: int | None
    qp_name: str
    decided_at: str
    content_hash: str


class ReviewOut(BaseModel):
    number: str
    product: str
    patient_coi: str | None
    attention: int
    items: list[ItemOut]
    pending_tests: list[str]
    blockers: dict[str, list[str]]
    certification: CertificationOut | None
    supplies: list[int]


class SupplyOut(BaseModel):
    id: int
    batch_number: str
    dose_id: int | None
    notify: str
    steps: list[dict[str, str]]
    next_step: str | None
    notice: str
    notice_due: str | None


class IdOut(BaseModel):
    id: int


def _certification(view: queries.CertificationView | None) -> CertificationOut | None:
    if view is None:
        return None
    return CertificationOut(
        id=view.id,
        batch_number=view.batch_number,
        decision=view.decision.value,
        decision_label=view.decision.label,
        procedure=view.procedure,
        pending_tests=list(view.pending_tests),
        specification=view.specification,
        supply_id=view.supply_id,
        qp_name=view.qp_name,
        decided_at=view.decided_at.isoformat(),
        content_hash=view.content_hash,
    )


def review_out(review: queries.ReleaseReview) -> ReviewOut:
    """The review as JSON."""
    return ReviewOut(
        number=review.number,
        product=review.product,
        patient_coi=review.patient_coi,
        attention=review.attention,
        items=[
            ItemOut(section=i.section.value, text=i.text, blocks=i.blocks, fine=i.fine)
            for s in review.sections
            for i in s.items
        ],
        pending_tests=list(review.pending_tests),
        blockers={d.value: list(r) for d, r in review.blockers.items()},
        certification=_certification(review.certification),
        supplies=list(review.supplies),
    )


def _review(state: State, actor: Actor, number: str) -> ReviewOut:
    with state.db.read_session() as session:
        return review_out(
            queries.release_review(
                session, number, today=state.clock.now().date(), viewer_id=actor.user_id
            )
        )


@router.get("/batches/{number}/review", response_model=ReviewOut)
def review(number: Number, actor: Viewer, state: State) -> ReviewOut:
    """The batch's review by exception: what needs attention, and what blocks each decision."""
    return _review(state, actor, number)


@router.post("/batches/{number}/decision", response_model=ReviewOut)
def decide(
    number: Number, body: DecisionIn, actor: CurrentActor, uow: UoW, state: State
) -> ReviewOut:
    """The QP certifies or rejects the batch, signed; certification frees its final units."""
    service.decide(
        uow,
        actor=actor,
        batch_number=number,
        decision=body.decision,
        password=body.password,
        procedure=body.procedure,
        comment=body.comment,
    )
    return _review(state, actor, number)


def _documents(
    state: State, number: str
) -> tuple[batch_queries.BatchRecord, queries.CertificationView | None, queries.SupplyView | None]:
    with state.db.read_session() as session:
        record = batch_queries.batch_record(session, number)
        certification = queries.certification_of(session, record.number)
        supply = (
            queries.supply_view(session, certification.supply_id, now=state.clock.now())
            if certification and certification.supply_id
            else None
        )
    return record, certification, supply


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "a PDF"}
}


@router.get("/batches/{number}/certificate.pdf", response_class=Response, responses=_PDF)
def certificate(number: Number, actor: Viewer, state: State) -> Response:
    """The QP certificate (decision, signature, pending tests, OOS supply) as a PDF."""
    record, certification, supply = _documents(state, number)
    pdf = records.certificate_pdf(
        record, certification, supply, actor.full_name, state.clock.now(), actor.time_zone
    )
    return _pdf(pdf, f"qp-certificate-{record.number}.pdf")


@router.get("/batches/{number}/record.pdf", response_class=Response, responses=_PDF)
def full_record(number: Number, actor: Viewer, state: State) -> Response:
    """The full batch record (eBR, QC results, certification) as one PDF."""
    record, certification, supply = _documents(state, number)
    with state.db.read_session() as session:
        qc = qc_facts(session, record.number)
    pdf = records.batch_record_pdf(
        record, qc, certification, supply, actor.full_name, state.clock.now(), actor.time_zone
    )
    return _pdf(pdf, f"batch-record-{record.number}.pdf")


@router.get("/batches/{number}/fhir")
def fhir(number: Number, actor: Viewer, state: State) -> dict[str, Any]:
    """The batch's final units as FHIR R5 BiologicallyDerivedProducts with batch and release
    status."""
    record, certification, _ = _documents(state, number)
    return records.released_products(record, certification)


@router.post("/batches/{number}/supplies", response_model=IdOut, status_code=201)
def request_supply(number: Number, body: SupplyRequestIn, actor: CurrentActor, uow: UoW) -> IdOut:
    """Step 1 of a Part IV §11.5 supply: the treating physician's request."""
    supply = service.request_oos_supply(
        uow,
        actor=actor,
        batch_number=number,
        clinical_reason=body.clinical_reason,
        password=body.password,
        dose_id=body.dose_id,
    )
    return IdOut(id=supply)


def supply_out(view: queries.SupplyView) -> SupplyOut:
    """A supply as JSON."""
    return SupplyOut(
        id=view.id,
        batch_number=view.batch_number,
        dose_id=view.dose_id,
        notify=view.notify,
        steps=[
            {"step": s.step.value, "text": s.text, "by": s.by_name, "at": s.at.isoformat()}
            for s in view.steps
        ],
        next_step=view.next_step.value if view.next_step else None,
        notice=view.clock.text,
        notice_due=view.clock.deadline.isoformat() if view.clock.deadline else None,
    )


@router.get("/supplies/{supply_id}", response_model=SupplyOut)
def supply(supply_id: RecordId, actor: Viewer, state: State) -> SupplyOut:
    """A §11.5 supply: its signed steps and its 48-hour notice clock."""
    with state.db.read_session() as session:
        return supply_out(queries.supply_view(session, supply_id, now=state.clock.now()))


@router.post("/supplies/{supply_id}/steps", response_model=SupplyOut)
def supply_step(
    supply_id: RecordId, body: SupplyStepIn, actor: CurrentActor, uow: UoW, state: State
) -> SupplyOut:
    """Steps 2-4 of a §11.5 supply, each signed in its order."""
    service.record_supply_step(
        uow,
        actor=actor,
        supply_id=supply_id,
        step=body.step,
        text=body.text,
        password=body.password,
    )
    with state.db.read_session() as session:
        return supply_out(queries.supply_view(session, supply_id, now=state.clock.now()))
