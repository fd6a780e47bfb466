"""Writes of design-of-experiments studies: design one, record (or correct) results, set the
model and the goals, and write a proven factor range back to the process definition.

Each function is one write: it checks the actor's permission and that the project is theirs to
edit, applies the rules, records the audit row with before and after, and commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.reason import required_text
from atmpchain.errors import InvalidInput
from atmpchain.translation import service as translation_service
from atmpchain.translation.doe import queries
from atmpchain.translation.doe.analysis import ModelOrder, parse_order
from atmpchain.translation.doe.designs import CCD_FACES, DesignKind, coded_matrix, parse_kind
from atmpchain.translation.doe.domain import (
    MAX_RESPONSES,
    BadRow,
    ResultRow,
    check_names,
    clean_name,
    donors_of,
    make_factor,
    new_seed,
    parse_results_csv,
    run_sheet,
)
from atmpchain.translation.doe.errors import ResultConflict, StudyNotFound
from atmpchain.translation.doe.models import DoeFactor, DoeResponse, DoeResult, DoeRun, DoeStudy
from atmpchain.translation.doe.optimise import Goal, make_objective
from atmpchain.translation.errors import ProjectNotFound
from atmpchain.translation.queries import can_see, process_definition
from atmpchain.uow import UnitOfWork

STUDY_RECORD = "doe_study"


@dataclass(frozen=True, slots=True)
class FactorIn:
    """A factor as typed: its name, region and (optionally) the process parameter it varies."""

    name: str
    low: object
    high: object
    unit: str = ""
    unit_operation: str | None = None
    parameter: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseIn:
    """A response as typed, with its goal and optional limits."""

    name: str
    unit: str = ""
    goal: str = "maximise"
    lower: float | None = None
    upper: float | None = None
    target: float | None = None


def _editable_project(uow: UnitOfWork, actor: Actor, project_id: int) -> None:
    """Refuse unless the actor may run experiments on this project (a researcher: their own);
    lock the project so that its studies are numbered and titled under the lock."""
    actor.require(Permission.RUN_EXPERIMENTS)
    if not can_see(uow.session, actor, project_id):
        raise ProjectNotFound(project_id)
    translation_service.locked_project(uow.session, project_id)


def _locked_study(uow: UnitOfWork, actor: Actor, study_id: int) -> DoeStudy:
    actor.require(Permission.RUN_EXPERIMENTS)
    row = uow.session.execute(
        select(DoeStudy)
        .where(DoeStudy.id == study_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None or not can_see(uow.session, actor, row.project_id):
        raise StudyNotFound(study_id)
    return row


def _check_link(uow: UnitOfWork, project_id: int, factor: FactorIn) -> int | None:
    """A factor linked to a process parameter must name one of the current definition."""
    if not factor.unit_operation and not factor.parameter:
        return None
    if not (factor.unit_operation and factor.parameter):
        raise InvalidInput(
            f"factor {factor.name}: name both the unit operation and the parameter, or neither",
            "factors",
        )
    definition = process_definition(uow.session, project_id)
    operation = definition.process.operation(factor.unit_operation)
    if operation is None or operation.parameter(factor.parameter) is None:
        raise InvalidInput(
            f"factor {factor.name}: version {definition.version} of the process has no "
            f"parameter '{factor.parameter}' in unit operation '{factor.unit_operation}'",
            "factors",
        )
    return definition.version


def design_study(
    uow: UnitOfWork,
    *,
    actor: Actor,
    project_id: int,
    title: str,
    kind: str,
    factors: Sequence[FactorIn],
    responses: Sequence[ResponseIn],
    donors: Sequence[str] = (),
    center_points: int = 0,
    resolution: int | None = None,
    face: str | None = None,
    levels: Sequence[int] | None = None,
    seed: int | None = None,
    model: str | None = None,
) -> int:
    """Design a study: generate the design, lay out the run sheet (one block per donor, run
    order randomised with a recorded seed) and store it; returns the study's id."""
    name = (title or "").strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("give the experiment a title (at most 200 characters)", "title")
    family = parse_kind(kind)
    made = [make_factor(f.name, f.low, f.high, f.unit) for f in factors]
    check_names([f.name for f in made], "factors")
    if not responses or len(responses) > MAX_RESPONSES:
        raise InvalidInput(f"name 1 to {MAX_RESPONSES} responses to measure", "responses")
    response_names = [clean_name(r.name, "response") for r in responses]
    check_names(response_names, "responses")
    objectives = [
        make_objective(n, r.goal, r.lower, r.upper, r.target)
        for n, r in zip(response_names, responses, strict=True)
    ]
    blocks = donors_of(donors)
    if family is DesignKind.CENTRAL_COMPOSITE and face not in (None, *CCD_FACES):
        raise InvalidInput(f"face must be one of {', '.join(CCD_FACES)}", "face")
    coded = coded_matrix(
        family,
        len(made),
        levels=levels,
        resolution=resolution or 4,
        center_points=center_points,
        face=face or "ccf",
    )
    chosen_seed = seed if seed is not None else new_seed()
    sheet = run_sheet(coded, made, blocks, chosen_seed)
    order = parse_order(model) if model else _default_model(family)
    with uow:
        _editable_project(uow, actor, project_id)
        versions = {_check_link(uow, project_id, f) for f in factors} - {None}
        clash = uow.session.execute(
            select(DoeStudy.id).where(DoeStudy.project_id == project_id, DoeStudy.title == name)
        ).first()
        if clash:
            raise InvalidInput(f"the project already has an experiment called '{name}'", "title")
        row = DoeStudy(
            project_id=project_id,
            definition_version=max(versions) if versions else None,  # type: ignore[type-var]
            title=name,
            kind=family,
            resolution=(resolution or 4) if family is DesignKind.FRACTIONAL_FACTORIAL else None,
            face=(face or "ccf") if family is DesignKind.CENTRAL_COMPOSITE else None,
            levels=",".join(str(n) for n in levels)
            if levels and family is DesignKind.FULL_FACTORIAL
            else None,
            center_points=center_points,
            seed=chosen_seed,
            model_order=order.value,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        for i, (f, typed) in enumerate(zip(made, factors, strict=True)):
            uow.session.add(
                DoeFactor(
                    study_id=row.id,
                    position=i,
                    name=f.name,
                    low=f.low,
                    high=f.high,
                    unit=f.unit,
                    unit_operation=typed.unit_operation or None,
                    parameter=typed.parameter or None,
                )
            )
        for i, (n, r, o) in enumerate(zip(response_names, responses, objectives, strict=True)):
            uow.session.add(
                DoeResponse(
                    study_id=row.id,
                    position=i,
                    name=n,
                    unit=(r.unit or "").strip()[:20],
                    goal=o.goal,
                    lower=o.lower,
                    upper=o.upper,
                    target=o.target,
                )
            )
        for run in sheet:
            uow.session.add(
                DoeRun(
                    study_id=row.id,
                    run_order=run.order,
                    number=run.number,
                    block=run.block,
                    coded=json.dumps(list(run.coded)),
                )
            )
        uow.audit.record(
            AuditAction.DOE_STUDY_DESIGNED,
            actor=actor,
            record_type=STUDY_RECORD,
            record_id=row.id,
            after={
                "project_id": project_id,
                "title": name,
                "kind": family.value,
                "factors": [[f.name, f.low, f.high, f.unit] for f in made],
                "responses": response_names,
                "donors": list(blocks),
                "runs": len(sheet),
                "seed": chosen_seed,
                "model": order.value,
            },
        )
        uow.commit()
        return row.id


def _default_model(kind: DesignKind) -> ModelOrder:
    """Screening designs start with main effects, response-surface designs with the full model."""
    if kind in (DesignKind.CENTRAL_COMPOSITE, DesignKind.BOX_BEHNKEN):
        return ModelOrder.QUADRATIC
    if kind is DesignKind.FULL_FACTORIAL:
        return ModelOrder.INTERACTIONS
    return ModelOrder.LINEAR


def record_results(
    uow: UnitOfWork,
    *,
    actor: Actor,
    study_id: int,
    rows: Sequence[ResultRow],
    reason: str | None = None,
) -> int:
    """Record measured values per run (by run order); returns how many were written.

    A value that differs from one already recorded is a correction: it needs a reason, and its
    audit row holds the old and the new value. Nothing is written if any row is refused.
    """
    with uow:
        row = _locked_study(uow, actor, study_id)
        return _record(uow, actor, row, rows, reason)


def _record(
    uow: UnitOfWork,
    actor: Actor,
    study: DoeStudy,
    rows: Sequence[ResultRow],
    reason: str | None,
) -> int:
    session = uow.session
    runs = {
        r.run_order: r
        for r in session.execute(select(DoeRun).where(DoeRun.study_id == study.id)).scalars()
    }
    responses = list(
        session.execute(
            select(DoeResponse)
            .where(DoeResponse.study_id == study.id)
            .order_by(DoeResponse.position)
        ).scalars()
    )
    existing = {
        (r.run_id, r.response_id): r
        for r in session.execute(
            select(DoeResult)
            .join(DoeRun, DoeRun.id == DoeResult.run_id)
            .where(DoeRun.study_id == study.id)
        ).scalars()
    }
    now = uow.clock.now()
    added: list[dict[str, Any]] = []
    corrected_before: list[dict[str, Any]] = []
    corrected_after: list[dict[str, Any]] = []
    for result in rows:
        run = runs.get(result.order)
        if run is None:
            raise InvalidInput(f"run {result.order} is not a run of this experiment", "run")
        if len(result.values) != len(responses):
            raise InvalidInput(
                f"run {result.order}: give one value per response ({len(responses)})", "values"
            )
        for response, value in zip(responses, result.values, strict=True):
            if value is None:
                continue
            old = existing.get((run.id, response.id))
            entry = {"run": result.order, "response": response.name}
            if old is None:
                session.add(
                    DoeResult(
                        run_id=run.id,
                        response_id=response.id,
                        value=value,
                        entered_at=now,
                        entered_by_id=actor.user_id,
                    )
                )
                added.append({**entry, "value": value})
            elif old.value != value:
                if not (reason or "").strip():
                    raise ResultConflict(
                        f"run {result.order} already has {response.name} = {old.value:g}: "
                        f"to correct it to {value:g}, give the reason",
                        "reason",
                    )
                corrected_before.append({**entry, "value": old.value})
                corrected_after.append({**entry, "value": value})
                old.value = value
                old.entered_at = now
                old.entered_by_id = actor.user_id
    if added:
        uow.audit.record(
            AuditAction.DOE_RESULTS_RECORDED,
            actor=actor,
            record_type=STUDY_RECORD,
            record_id=study.id,
            after={"results": added},
        )
    if corrected_after:
        uow.audit.record(
            AuditAction.DOE_RESULT_CORRECTED,
            actor=actor,
            record_type=STUDY_RECORD,
            record_id=study.id,
            before={"results": corrected_before},
            after={"results": corrected_after},
            reason=required_text(reason, field="reason", ask="say why the results change"),
        )
    if added or corrected_after:
        study.version += 1
    uow.commit()
    return len(added) + len(corrected_after)


def import_results_csv(
    uow: UnitOfWork,
    *,
    actor: Actor,
    study_id: int,
    text: str,
    reason: str | None = None,
) -> tuple[int, tuple[BadRow, ...]]:
    """Results from a CSV (`run` and one column per response): the good rows are recorded in
    one transaction; the bad ones are returned, each with its line and the rule it breaks."""
    with uow:
        row = _locked_study(uow, actor, study_id)
        view = queries.study(uow.session, study_id)
        good, bad = parse_results_csv(
            text,
            responses=[r.response.name for r in view.responses],
            orders=[r.run.order for r in view.runs],
        )
        written = _record(uow, actor, row, good, reason) if good else 0
        return written, bad


@dataclass(frozen=True, slots=True)
class GoalIn:
    """A response's goal and limits as typed."""

    response: str
    goal: str
    lower: float | None = None
    upper: float | None = None
    target: float | None = None


def set_goals(
    uow: UnitOfWork,
    *,
    actor: Actor,
    study_id: int,
    model: str,
    goals: Sequence[GoalIn],
    reason: str,
) -> None:
    """Choose the model the responses are analysed with, and their goals and limits."""
    order = parse_order(model)
    why = required_text(reason, field="reason", ask="say why the model or the goals change")
    with uow:
        study = _locked_study(uow, actor, study_id)
        responses = {
            r.name.casefold(): r
            for r in uow.session.execute(
                select(DoeResponse).where(DoeResponse.study_id == study_id)
            ).scalars()
        }
        before: dict[str, Any] = {"model": study.model_order, "goals": {}}
        after: dict[str, Any] = {"model": order.value, "goals": {}}
        for g in goals:
            target = responses.get(g.response.strip().casefold())
            if target is None:
                raise InvalidInput(f"the experiment has no response '{g.response}'", "response")
            o = make_objective(target.name, g.goal, g.lower, g.upper, g.target)
            before["goals"][target.name] = _goal_of(
                target.goal, target.lower, target.upper, target.target
            )
            target.goal, target.lower, target.upper, target.target = (
                o.goal,
                o.lower,
                o.upper,
                o.target,
            )
            after["goals"][target.name] = _goal_of(o.goal, o.lower, o.upper, o.target)
        study.model_order = order.value
        study.version += 1
        uow.audit.record(
            AuditAction.DOE_GOALS_SET,
            actor=actor,
            record_type=STUDY_RECORD,
            record_id=study_id,
            before=before,
            after=after,
            reason=why,
        )
        uow.commit()


def _goal_of(
    goal: Goal, lower: float | None, upper: float | None, target: float | None
) -> dict[str, Any]:
    return {"goal": goal.value, "lower": lower, "upper": upper, "target": target}


def write_back_range(
    uow: UnitOfWork, *, actor: Actor, study_id: int, factor: str, reason: str
) -> int:
    """Write the range a study proved for a factor back as the range of its process parameter
    (a new definition version, through the translation service); returns that version.

    The definition's version and its audit row are written by the translation service in its
    own transaction; this study's record of it follows in a second one (a failure between the
    two leaves the range written and its reason naming the study, nothing half-written).
    """
    actor.require(Permission.RUN_EXPERIMENTS)
    why = required_text(reason, field="reason", ask="say why this range goes to the process")
    with uow.new() as reading:
        view = queries.visible_study(reading.session, actor, study_id)
    index = view.factor_index(factor)
    linked = view.factors[index]
    if not (linked.unit_operation and linked.parameter):
        raise InvalidInput(
            f"factor {linked.factor.name} is not linked to a process parameter: it cannot be "
            "written back",
            "factor",
        )
    analysis = queries.analyse(view)
    best = analysis.optimum
    proven = next(
        (p for p in (best.proven if best else ()) if p.factor == linked.factor.name), None
    )
    if proven is None:
        raise InvalidInput(
            f"the experiment proves no range for {linked.factor.name}: every response needs a "
            "model, at least one response needs limits, and the optimum must meet them",
            "factor",
        )
    low = Decimal(str(round(proven.low, 6)))
    high = Decimal(str(round(proven.high, 6)))
    version = translation_service.set_parameter_range(
        uow.new(),
        actor=actor,
        project_id=view.project_id,
        unit_operation=linked.unit_operation,
        parameter=linked.parameter,
        low=low,
        high=high,
        reason=f"{why} (proven by experiment {view.id} '{view.title}', model "
        f"{analysis.order.value})",
    )
    with uow:
        _locked_study(uow, actor, study_id)
        uow.audit.record(
            AuditAction.DOE_RANGE_WRITTEN_BACK,
            actor=actor,
            record_type=STUDY_RECORD,
            record_id=study_id,
            after={
                "factor": linked.factor.name,
                "unit_operation": linked.unit_operation,
                "parameter": linked.parameter,
                "low": str(low),
                "high": str(high),
                "definition_version": version,
            },
            reason=why,
        )
        uow.commit()
    return version
