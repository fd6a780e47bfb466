"""JSON API of environmental monitoring: the plan and its limits, a session's samples, plate
results, counter imports, continuous telemetry, excursions, a batch's EM and QA's assessment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.accounts.domain import Permission
from atmpchain.environmental_monitoring import assessment, plan, queries, results
from atmpchain.environmental_monitoring.domain import SampleType
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.web.deps import CurrentActor, State, UoW

router = APIRouter(prefix="/api/em", tags=["environmental monitoring"])

Code = Annotated[str, Path(max_length=40)]
Text = Annotated[str, Field(max_length=4000)]


class LocationIn(BaseModel):
    """A new sampling location in a room (or at a workstation in it)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40)
    name: str = Field(max_length=400)
    room_code: str = Field(max_length=40)
    workstation_code: str | None = Field(default=None, max_length=40)
    sample_types: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=6)


class LimitIn(BaseModel):
    """QA's alert limit for one point (or from its history), and why."""

    model_config = ConfigDict(extra="forbid")

    alert_limit: int | None = Field(default=None, ge=0, le=1_000_000_000)
    from_history: bool = False
    site_action_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    reason: Text


class PlateIn(BaseModel):
    """A plate read after incubation."""

    model_config = ConfigDict(extra="forbid")

    cfu: int = Field(ge=0, le=1_000_000_000)
    organism: str | None = Field(default=None, max_length=200)


class CounterIn(BaseModel):
    """A particle counter's CSV export, as text."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(default="upload.csv", max_length=200)
    text: str = Field(max_length=20_000_000)
    occupancy: str = Field(default="in_operation", max_length=20)


class TelemetryIn(BaseModel):
    """Continuous grade A particle counts: {"location", "time", "0.5um", "5um"} per m³ each."""

    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, Any]] = Field(max_length=10_000)


class AssessIn(BaseModel):
    """QA's signed decision on an action-level excursion's impact on one batch."""

    model_config = ConfigDict(extra="forbid")

    batch_number: str = Field(max_length=80)
    impact: str = Field(max_length=40, description="no_impact, impact_acceptable, batch_affected")
    rationale: Text
    password: str = Field(max_length=200)


def _outcome(outcome: results.Outcome) -> dict[str, Any]:
    return {
        "stored": outcome.stored,
        "level": outcome.level.value,
        "excursions": [
            {
                "id": n.id,
                "location": n.location_code,
                "sample_type": n.sample_type.value,
                "level": n.level.value,
                "description": n.description,
                "deviation_number": n.deviation_number,
                "batch_numbers": list(n.batch_numbers),
            }
            for n in outcome.excursions
        ],
        "errors": [
            {"row": e.row, "field": e.field, "rule": e.rule, "message": e.message}
            for e in outcome.errors
        ],
    }


def _excursion(e: queries.ExcursionView) -> dict[str, Any]:
    return {
        "id": e.id,
        "location": e.location_code,
        "room": e.room_code,
        "sample_type": e.sample_type.value,
        "level": e.level.value,
        "trend_rule": e.trend_rule,
        "description": e.description,
        "taken_at": e.taken_at,
        "value": e.value,
        "session_id": e.session_id,
        "batch_numbers": list(e.batch_numbers),
        "deviation_number": e.deviation_number,
        "assessments": [
            {
                "batch_number": a.batch_number,
                "impact": a.impact,
                "rationale": a.rationale,
                "assessed_at": a.assessed_at,
            }
            for a in e.assessments
        ],
    }


def _result(r: queries.ResultView) -> dict[str, Any]:
    return {
        "location": r.location_code,
        "sample_type": r.sample_type.value,
        "taken_at": r.taken_at,
        "value": r.value,
        "unit": r.sample_type.unit,
        "organism": r.organism,
        "level": r.level.value,
        "alert_limit": r.alert_limit,
        "action_limit": r.action_limit,
        "source": r.source,
        "sample_code": r.sample_code,
    }


@router.get("/limits", summary="The Annex 1 action limits as seeded, with their sources")
def limits(actor: CurrentActor, state: State) -> list[dict[str, Any]]:
    actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        return [
            {
                "grade": r.grade.value,
                "sample_type": r.sample_type.value,
                "occupancy": r.occupancy.value,
                "action_limit": r.action_limit,
                "source": r.source,
                "status": r.status,
            }
            for r in queries.grade_limits(session)
        ]


@router.get("/plan", summary="Every sampling point of the EM plan")
def plan_points(
    actor: CurrentActor, state: State, room: Annotated[str | None, Query(max_length=40)] = None
) -> list[dict[str, Any]]:
    actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        return [
            {
                "location": p.location_code,
                "name": p.location_name,
                "room": p.room_code,
                "workstation": p.workstation_code,
                "grade": p.grade.value,
                "sample_type": p.sample_type.value,
                "alert_limit": p.alert_limit,
                "site_action_limit": p.site_action_limit,
                "basis": p.basis,
            }
            for p in queries.plan_points(session, room)
        ]


@router.post("/locations", status_code=201, summary="Add a sampling location (QA)")
def create_location(body: LocationIn, actor: CurrentActor, uow: UoW) -> dict[str, str]:
    code = plan.create_location(
        uow,
        actor=actor,
        code=body.code,
        name=body.name,
        room_code=body.room_code,
        workstation_code=body.workstation_code,
        sample_types=body.sample_types,
    )
    return {"code": code}


@router.put("/locations/{code}/limits/{sample_type}", summary="Set a point's alert limit (QA)")
def set_limit(
    code: Code,
    sample_type: Annotated[str, Path(max_length=40)],
    body: LimitIn,
    actor: CurrentActor,
    uow: UoW,
) -> dict[str, int | None]:
    alert = plan.set_alert_limit(
        uow,
        actor=actor,
        location=code,
        sample_type=sample_type,
        alert_limit=body.alert_limit,
        site_action_limit=body.site_action_limit,
        from_history=body.from_history,
        reason=body.reason,
    )
    return {"alert_limit": alert}


@router.post("/sessions/{session_id}/samples", status_code=201, summary="Plan a session's samples")
def plan_samples(
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    actor: CurrentActor,
    uow: UoW,
    occupancy: Annotated[str, Query(max_length=20)] = "in_operation",
) -> list[dict[str, str]]:
    planned = plan.plan_session_samples(
        uow, actor=actor, session_id=session_id, occupancy=occupancy
    )
    return [
        {"code": p.code, "location": p.location_code, "sample_type": p.sample_type.value}
        for p in planned
    ]


@router.post("/samples/{code}/collect", summary="Record a sample as collected (scan)")
def collect(code: Code, actor: CurrentActor, uow: UoW) -> dict[str, str]:
    return {"code": plan.collect_sample(uow, actor=actor, code=code)}


@router.post("/samples/{code}/result", summary="Record a plate read after incubation")
def read_plate(code: Code, body: PlateIn, actor: CurrentActor, uow: UoW) -> dict[str, Any]:
    outcome = results.read_plate(
        uow, actor=actor, sample_code=code, cfu=body.cfu, organism=body.organism
    )
    return _outcome(outcome)


@router.post("/counter-imports", summary="Import a particle counter's CSV export")
def import_counter(body: CounterIn, actor: CurrentActor, uow: UoW) -> dict[str, Any]:
    outcome = results.import_counter_csv(
        uow, actor=actor, filename=body.filename, text=body.text, occupancy=body.occupancy
    )
    return _outcome(outcome)


@router.post("/telemetry", summary="Continuous grade A particle counts from a counter")
def telemetry(body: TelemetryIn, actor: CurrentActor, uow: UoW) -> dict[str, Any]:
    return _outcome(results.record_telemetry(uow, actor=actor, messages=body.messages))


@router.get("/excursions", summary="EM excursions, newest first")
def excursions(
    actor: CurrentActor, state: State, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        return [_excursion(e) for e in queries.excursions_where(session)[:limit]]


@router.post("/excursions/{excursion_id}/assessments", status_code=201, summary="QA assesses")
def assess(
    excursion_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AssessIn,
    actor: CurrentActor,
    uow: UoW,
) -> dict[str, int]:
    assessment_id = assessment.assess_impact(
        uow,
        actor=actor,
        excursion_id=excursion_id,
        batch_number=body.batch_number,
        impact=body.impact,
        rationale=body.rationale,
        password=body.password,
    )
    return {"id": assessment_id}


@router.post(
    "/excursions/{excursion_id}/deviation",
    status_code=201,
    summary="Raise the deviation of an action event recorded without one (from a counter)",
)
def raise_deviation(
    excursion_id: Annotated[int, Path(ge=1, le=2**31 - 1)], actor: CurrentActor, uow: UoW
) -> dict[str, str]:
    number = results.raise_excursion_deviation(uow, actor=actor, excursion_id=excursion_id)
    return {"deviation_number": number}


@router.get("/batches/{batch_number}", summary="A batch's EM for the release review")
def batch_em(batch_number: Code, actor: CurrentActor, state: State) -> dict[str, Any]:
    actor.require(Permission.VIEW_EM)
    with state.db.read_session() as session:
        em = queries.em_for_batch(session, batch_number, now=state.clock.now())
    if not em.sessions:
        raise NotFound(
            f"no production session is recorded for batch {em.batch_number}: it has no "
            "environmental monitoring to show",
            field="batch_number",
        )
    return {
        "batch_number": em.batch_number,
        "blocks_certification": em.blocks_certification,
        "sessions": [
            {
                "session_id": s.session_id,
                "room": s.room_code,
                "workstation": s.workstation_code,
                "opened_at": s.opened_at,
                "closed_at": s.closed_at,
                "results": [_result(r) for r in s.results],
                "pending_samples": list(s.pending_samples),
            }
            for s in em.sessions
        ],
        "excursions": [_excursion(e) for e in em.excursions],
        "unassessed_action_events": [_excursion(e) for e in em.unassessed_action_events],
    }


@router.get("/trends/{code}/{sample_type}", summary="A location's results over a period")
def trend(
    code: Code,
    sample_type: Annotated[str, Path(max_length=40)],
    actor: CurrentActor,
    state: State,
    days: Annotated[int, Query(ge=1, le=400)] = 31,
) -> dict[str, Any]:
    actor.require(Permission.VIEW_EM)
    kind = _sample_type(sample_type)
    end = state.clock.now()
    with state.db.read_session() as session:
        series = queries.trend_series(session, code, kind, end - timedelta(days=days), end)
    if series is None:
        raise NotFound(f"location {code[:24]} has no {kind.label.lower()} point", "location")
    return {
        "location": series.location_code,
        "sample_type": series.sample_type.value,
        "alert_limit": series.alert_limit,
        "action_limit": series.action_limit,
        "results": [_result(r) for r in series.results],
    }


def _sample_type(value: str) -> SampleType:
    try:
        return SampleType(value)
    except ValueError:
        raise InvalidInput(f"'{value[:30]}' is not a sample type", "sample_type") from None
