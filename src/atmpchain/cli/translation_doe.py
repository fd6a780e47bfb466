"""`atmpchain translate doe ...` and `atmpchain translate cost ...`: design of experiments and
cost of goods on a translation project.

Every command runs as a user (`--as`), proved by their password (prompted, or
$ATMPCHAIN_PASSWORD). Factors and responses are typed as comma-separated values, one option
per factor or response, as on the web form.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from atmpchain.cli import common
from atmpchain.cli.common import console
from atmpchain.errors import DomainError
from atmpchain.translation.costing import queries as cost_queries
from atmpchain.translation.costing import service as cost_service
from atmpchain.translation.costing.domain import Category
from atmpchain.translation.doe import queries as doe_queries
from atmpchain.translation.doe import service as doe_service
from atmpchain.translation.doe.analysis import parse_order
from atmpchain.translation.doe.service import FactorIn, GoalIn, ResponseIn

doe_app = typer.Typer(
    help="Design of experiments: designs, run sheets, results, analysis, optimum, write-back.",
    no_args_is_help=True,
)
cost_app = typer.Typer(
    help="Cost of goods per batch: models, scenarios side by side, sensitivity.",
    no_args_is_help=True,
)

As = Annotated[
    str,
    typer.Option("--as", help=f"Your username; password prompted or from ${common.PASSWORD_ENV}."),
]
StudyId = Annotated[int, typer.Argument(help="The experiment's id (see `translate doe list`).")]
ModelId = Annotated[int, typer.Argument(help="The cost model's id (see `translate cost list`).")]
Reason = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]
T = TypeVar("T")


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as exc:
        common.fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _cells(value: str, width: int, option: str) -> list[str]:
    cells = [c.strip() for c in next(csv.reader([value]), [])]
    if len(cells) > width:
        common.fail(f"--{option} '{value}': at most {width} comma-separated values")
    return cells + [""] * (width - len(cells))


def _float(text: str, option: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        common.fail(f"--{option}: '{text}' is not a number")


# --- design of experiments -------------------------------------------------------------------


@doe_app.command("design")
def design(
    ctx: typer.Context,
    acting_as: As,
    project: Annotated[int, typer.Option(help="The project's id.")],
    title: Annotated[str, typer.Option(help="The experiment's title.")],
    kind: Annotated[
        str,
        typer.Option(
            help="full_factorial, fractional_factorial, plackett_burman, central_composite, "
            "box_behnken or definitive_screening."
        ),
    ],
    factor: Annotated[
        list[str],
        typer.Option(help="'name,low,high[,unit[,unit operation,parameter]]' (repeat)."),
    ],
    response: Annotated[
        list[str], typer.Option(help="'name[,unit[,goal[,lower[,upper]]]]' (repeat).")
    ],
    donor: Annotated[list[str] | None, typer.Option(help="A donor block (repeat).")] = None,
    center_points: Annotated[int, typer.Option(help="Centre points per block.")] = 0,
    resolution: Annotated[int | None, typer.Option(help="Fractional factorial: 3, 4 or 5.")] = None,
    face: Annotated[str | None, typer.Option(help="Central composite: ccf, ccc or cci.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the run order (default: new).")] = None,
    model: Annotated[str | None, typer.Option(help="linear, interactions, ...")] = None,
) -> None:
    """Design an experiment: the run sheet, one block per donor, in a seeded random order."""
    uow, actor = common.acting(ctx, acting_as)
    factors = [
        FactorIn(c[0], c[1], c[2], c[3], c[4] or None, c[5] or None)
        for c in (_cells(f, 6, "factor") for f in factor)
    ]
    responses = [
        ResponseIn(
            c[0], c[1], c[2] or "maximise", _float(c[3], "response"), _float(c[4], "response")
        )
        for c in (_cells(r, 5, "response") for r in response)
    ]
    study_id = _guard(
        lambda: doe_service.design_study(
            uow,
            actor=actor,
            project_id=project,
            title=title,
            kind=kind,
            factors=factors,
            responses=responses,
            donors=donor or [],
            center_points=center_points,
            resolution=resolution,
            face=face,
            seed=seed,
            model=model,
        )
    )
    with uow.db.read_session() as session:
        view = doe_queries.study(session, study_id)
    console.print(
        f"Experiment [bold]{study_id}[/] designed: {len(view.runs)} runs in "
        f"{len(view.donors)} block(s), run order seed {view.seed}."
    )


@doe_app.command("list")
def list_studies(
    ctx: typer.Context,
    acting_as: As,
    project: Annotated[int | None, typer.Option(help="Only this project's.")] = None,
) -> None:
    """The experiments you may see."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        rows = _guard(lambda: doe_queries.studies(session, actor, project))
    table = Table(title="Experiments")
    for column in ("Id", "Project", "Title", "Design", "Factors", "Runs", "Measured"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id), str(r.project_id), r.title, r.kind.label, str(r.factors), str(r.runs),
            str(r.measured),
        )  # fmt: skip
    console.print(table)


@doe_app.command("sheet")
def sheet(
    ctx: typer.Context,
    acting_as: As,
    study_id: StudyId,
    out: Annotated[Path | None, typer.Option(help="Write the sheet to this CSV file.")] = None,
) -> None:
    """The run sheet with the results so far (CSV: `run`, donor, settings, responses)."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        view = _guard(lambda: doe_queries.visible_study(session, actor, study_id))
    text = doe_queries.sheet_csv(view)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"Run sheet written to {out}.")
    else:
        console.print(text, end="", markup=False, highlight=False)


@doe_app.command("results")
def results(
    ctx: typer.Context,
    acting_as: As,
    study_id: StudyId,
    file: Annotated[Path, typer.Option(help="CSV with a `run` column and one per response.")],
    reason: Annotated[str | None, typer.Option(help="Why recorded values change.")] = None,
) -> None:
    """Import results: good rows recorded, bad rows listed with their reason."""
    uow, actor = common.acting(ctx, acting_as)
    text = file.read_text(encoding="utf-8")
    written, bad = _guard(
        lambda: doe_service.import_results_csv(
            uow, actor=actor, study_id=study_id, text=text, reason=reason
        )
    )
    console.print(f"{written} value(s) recorded.")
    for b in bad:
        console.print(f"[yellow]line {b.line}[/]: {b.reason}")


@doe_app.command("analyse")
def analyse(
    ctx: typer.Context,
    acting_as: As,
    study_id: StudyId,
    model: Annotated[str | None, typer.Option(help="Another model than the study's.")] = None,
) -> None:
    """Each response's model (coefficients, 95 % intervals, R2), and the optimum."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        view = _guard(lambda: doe_queries.visible_study(session, actor, study_id))
    analysis = _guard(lambda: doe_queries.analyse(view, parse_order(model) if model else None))
    for r in analysis.responses:
        if r.fit is None:
            console.print(f"[bold]{r.response}[/]: no model ({r.problem}).")
            continue
        table = Table(
            title=f"{r.response}: R² {r.fit.r2:.3f}, adjusted R² {r.fit.adj_r2:.3f}, n {r.fit.n}"
        )
        for column in ("Term", "Estimate", "95 % interval", "p"):
            table.add_column(column)
        for t in r.fit.terms:
            table.add_row(
                t.label,
                f"{t.estimate:.4g}",
                f"{t.ci_low:.4g} to {t.ci_high:.4g}",
                f"{t.p_value:.3g}",
            )
        console.print(table)
    best = analysis.optimum
    if best:
        names = [f.factor.name for f in view.factors]
        settings = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, best.actual, strict=True))
        console.print(f"Optimum: {settings} (desirability {best.desirability:.2f}).")
        for p in best.proven:
            console.print(f"  proven range of {p.factor}: {p.low:.4g} to {p.high:.4g} {p.unit}")


@doe_app.command("goals")
def goals(
    ctx: typer.Context,
    acting_as: As,
    study_id: StudyId,
    model: Annotated[str, typer.Option(help="linear, interactions, pure_quadratic, quadratic.")],
    reason: Reason,
    goal: Annotated[
        list[str] | None, typer.Option(help="'response,goal[,lower[,upper[,target]]]' (repeat).")
    ] = None,
) -> None:
    """Set the model and the responses' goals and limits."""
    uow, actor = common.acting(ctx, acting_as)
    parsed = [
        GoalIn(c[0], c[1], _float(c[2], "goal"), _float(c[3], "goal"), _float(c[4], "goal"))
        for c in (_cells(g, 5, "goal") for g in goal or [])
    ]
    _guard(
        lambda: doe_service.set_goals(
            uow, actor=actor, study_id=study_id, model=model, goals=parsed, reason=reason
        )
    )
    console.print(f"Experiment {study_id}: model {model}, {len(parsed)} goal(s) set.")


@doe_app.command("write-back")
def write_back(
    ctx: typer.Context,
    acting_as: As,
    study_id: StudyId,
    factor: Annotated[str, typer.Option(help="The factor whose proven range goes back.")],
    reason: Reason,
) -> None:
    """Write a proven factor range back to the process definition (a new version)."""
    uow, actor = common.acting(ctx, acting_as)
    version = _guard(
        lambda: doe_service.write_back_range(
            uow, actor=actor, study_id=study_id, factor=factor, reason=reason
        )
    )
    console.print(f"The range of {factor} is now in process definition version {version}.")


# --- cost of goods ---------------------------------------------------------------------------


def _changes(values: list[str] | None, file: Path | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as exc:
            common.fail(f"--file: not valid JSON ({exc})")
        if not isinstance(loaded, dict):
            common.fail("--file: the document must be a JSON object")
        changes.update(loaded)
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            common.fail(f"--set '{item}': write field=value")
        field, text = key.strip(), value.strip()
        # batches_per_year is a whole number in the document; the rest are decimals as text.
        changes[field] = int(text) if field == "batches_per_year" and text.isdigit() else text
    return changes


@cost_app.command("create")
def cost_create(
    ctx: typer.Context,
    acting_as: As,
    project: Annotated[int, typer.Option(help="The project's id.")],
    name: Annotated[str, typer.Option(help="The model's name.")],
    batches_per_year: Annotated[
        int | None, typer.Option(help="Draft from the process definition at this rate.")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="The model as a JSON document.")] = None,
) -> None:
    """Create a cost model: from a JSON document, or drafted from the process definition."""
    uow, actor = common.acting(ctx, acting_as)
    inputs = _changes(None, file) if file else None
    model_id = _guard(
        lambda: cost_service.create_model(
            uow,
            actor=actor,
            project_id=project,
            name=name,
            inputs=inputs,
            batches_per_year=batches_per_year,
        )
    )
    console.print(f"Cost model [bold]{model_id}[/] created with its base scenario.")


@cost_app.command("list")
def cost_list(
    ctx: typer.Context,
    acting_as: As,
    project: Annotated[int | None, typer.Option(help="Only this project's.")] = None,
) -> None:
    """The cost models you may see."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        rows = _guard(lambda: cost_queries.cost_models(session, actor, project))
    table = Table(title="Cost models")
    for column in ("Id", "Project", "Name", "Scenarios", "Base per released batch"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id), str(r.project_id), r.name, str(r.scenarios),
            f"{r.base_per_released_batch} {r.currency}",
        )  # fmt: skip
    console.print(table)


@cost_app.command("show")
def cost_show(ctx: typer.Context, acting_as: As, model_id: ModelId) -> None:
    """Scenarios side by side, the tornado of the base and the published figures."""
    uow, actor = common.acting(ctx, acting_as)
    with uow.db.read_session() as session:
        view = _guard(lambda: cost_queries.visible_model(session, actor, model_id))
    table = Table(title=f"{view.name}: cost per batch")
    table.add_column("")
    for s in view.scenarios:
        table.add_column(s.name, justify="right")
    table.add_row("Batches per year", *[str(s.cost.batches_per_year) for s in view.scenarios])
    for c in Category:
        table.add_row(c.label, *[f"{s.cost.amount(c):,.2f}" for s in view.scenarios])
    table.add_row("Batch cost", *[f"{s.cost.batch_cost:,.2f}" for s in view.scenarios])
    table.add_row("of which fixed", *[f"{s.cost.fixed_cost:,.2f}" for s in view.scenarios])
    table.add_row(
        "Per released batch", *[f"{s.cost.per_released_batch:,.2f}" for s in view.scenarios]
    )
    console.print(table)
    tornado = Table(title="Sensitivity of the base (each driver -20 % / +20 %)")
    for column in ("Driver", "At -20 %", "At +20 %"):
        tornado.add_column(column)
    for b in view.tornado:
        tornado.add_row(b.driver, f"{b.low:,.2f}", f"{b.high:,.2f}")
    console.print(tornado)
    for f in view.published:
        console.print(
            f"Published: {f.label}: {f.amount:,.0f} {f.currency} ({f.source}; {f.status})"
        )


@cost_app.command("scenario")
def cost_scenario(
    ctx: typer.Context,
    acting_as: As,
    model_id: ModelId,
    name: Annotated[str, typer.Option(help="The new scenario's name.")],
    copy_of: Annotated[str, typer.Option(help="The scenario to start from.")] = "Base",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="field=value to change (repeat).")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="Fields to change, as JSON.")] = None,
) -> None:
    """Add a scenario: a copy of another with some inputs changed."""
    uow, actor = common.acting(ctx, acting_as)
    changes = _changes(set_, file)
    _guard(
        lambda: cost_service.save_scenario(
            uow, actor=actor, model_id=model_id, name=name, copy_of=copy_of, changes=changes
        )
    )
    console.print(f"Scenario '{name}' added to cost model {model_id}.")


@cost_app.command("change")
def cost_change(
    ctx: typer.Context,
    acting_as: As,
    model_id: ModelId,
    scenario: Annotated[str, typer.Option(help="The scenario to change.")],
    reason: Reason,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="field=value to change (repeat).")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="Fields to change, as JSON.")] = None,
) -> None:
    """Change some inputs of a scenario, with the reason."""
    uow, actor = common.acting(ctx, acting_as)
    changes = _changes(set_, file)
    if not changes:
        common.fail("give the changes with --set field=value or --file")
    _guard(
        lambda: cost_service.change_scenario(
            uow, actor=actor, model_id=model_id, name=scenario, changes=changes, reason=reason
        )
    )
    console.print(f"Scenario '{scenario}' of cost model {model_id} changed.")
