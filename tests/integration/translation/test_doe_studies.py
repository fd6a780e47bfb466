"""Design-of-experiments studies on a translation project (issue 14 item 5): designed with a
recorded seed, results entered and imported, analysed, and a proven range written back."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from tests.integration.conftest import Trail
from tests.integration.translation.conftest import Lab

from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.translation import queries as translation_queries
from atmpchain.translation.doe import queries, service
from atmpchain.translation.doe.designs import DesignKind
from atmpchain.translation.doe.domain import ResultRow
from atmpchain.translation.doe.errors import ResultConflict, StudyNotFound
from atmpchain.translation.doe.service import FactorIn, GoalIn, ResponseIn
from atmpchain.translation.errors import ProjectNotFound
from atmpchain.uow import UnitOfWork

FACTORS = [
    FactorIn("IL-2", 50, 150, "IU/mL", "activation", "il2"),
    FactorIn("Seeding density", 0.5, 1.5, "1e6/mL", "activation", "seeding_density"),
]


def _design(uow: UnitOfWork, lab: Lab, project_id: int, **kw: object) -> int:
    options: dict[str, object] = {
        "title": "Activation CCD",
        "kind": "central_composite",
        "factors": FACTORS,
        "responses": [ResponseIn("Fold expansion", "fold", "maximise", lower=20.0)],
        "donors": ["D1", "D2"],
        "center_points": 3,
        "seed": 4242,
    }
    options.update(kw)
    return service.design_study(uow, actor=lab.researcher.actor, project_id=project_id, **options)  # type: ignore[arg-type]


def _truth(coded: tuple[float, ...]) -> float:
    x1, x2 = coded
    return 25 + 4 * x1 + 2 * x2 - 3 * x1**2 - 4 * x2**2 + 1.0 * x1 * x2


def test_a_researcher_designs_a_study_on_their_project_with_a_recorded_seed(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    study_id = _design(uow, lab, defined)
    with uow.db.read_session() as s:
        view = queries.visible_study(s, lab.researcher.actor, study_id)
    assert view.kind is DesignKind.CENTRAL_COMPOSITE and view.seed == 4242
    assert view.donors == ("D1", "D2") and view.design_runs == 4 + 4 + 3
    assert len(view.runs) == 22 and view.definition_version == 1
    assert [r.run.order for r in view.runs] == list(range(1, 23))
    entry = trail.records("translation:doe-study:designed")[-1]
    assert trail.after(entry)["seed"] == 4242 and trail.after(entry)["runs"] == 22


def test_the_same_seed_rebuilds_the_same_sheet(uow: UnitOfWork, lab: Lab, defined: int) -> None:
    one = _design(uow, lab, defined)
    two = _design(uow, lab, defined, title="Repeat")
    with uow.db.read_session() as s:
        a = [(r.run.number, r.run.block) for r in queries.study(s, one).runs]
        b = [(r.run.number, r.run.block) for r in queries.study(s, two).runs]
    assert a == b


def test_a_factor_linked_to_a_parameter_the_process_lacks_is_refused(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    with pytest.raises(InvalidInput, match="no parameter 'ph'"):
        _design(
            uow,
            lab,
            defined,
            factors=[FACTORS[0], FactorIn("pH", 6.8, 7.4, "", "activation", "ph")],
        )


def test_outsiders_cannot_design_or_see_studies(uow: UnitOfWork, lab: Lab, defined: int) -> None:
    with pytest.raises(ProjectNotFound):
        service.design_study(
            uow,
            actor=lab.other_researcher.actor,
            project_id=defined,
            title="Not mine",
            kind="full_factorial",
            factors=FACTORS,
            responses=[ResponseIn("Viability")],
        )
    with pytest.raises(PermissionDenied):
        service.design_study(
            uow,
            actor=lab.qa.actor,
            project_id=defined,
            title="QA may read only",
            kind="full_factorial",
            factors=FACTORS,
            responses=[ResponseIn("Viability")],
        )
    study_id = _design(uow, lab, defined)
    with uow.db.read_session() as s:
        with pytest.raises(ProjectNotFound):
            queries.visible_study(s, lab.other_researcher.actor, study_id)
        assert queries.studies(s, lab.other_researcher.actor) == []
        assert [r.id for r in queries.studies(s, lab.qa.actor)] == [study_id]


def _enter_truth(uow: UnitOfWork, lab: Lab, study_id: int, noise: float = 0.3) -> None:
    with uow.db.read_session() as s:
        view = queries.study(s, study_id)
    rng = np.random.default_rng(7)
    offset = {"D1": 0.0, "D2": 2.0}
    rows = [
        ResultRow(r.run.order, (_truth(r.run.coded) + offset[r.run.block] + rng.normal(0, noise),))
        for r in view.runs
    ]
    service.record_results(uow, actor=lab.researcher.actor, study_id=study_id, rows=rows)


def test_results_are_analysed_and_recover_the_generating_model(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    study_id = _design(uow, lab, defined)
    _enter_truth(uow, lab, study_id)
    with uow.db.read_session() as s:
        analysis = queries.analyse(queries.study(s, study_id))
    fit = analysis.fit("Fold expansion")
    assert fit is not None and fit.n == 22
    truth = {"x1": 4, "x2": 2, "I(x1 ** 2)": -3, "I(x2 ** 2)": -4, "x1:x2": 1}
    for term in fit.terms:
        if term.key in truth:
            assert term.ci_low <= truth[term.key] <= term.ci_high, term.label
    assert analysis.optimum is not None and analysis.optimum.proven
    surface = analysis.responses[0].surface
    assert surface is not None and surface.xs[0] == 50 and surface.ys[-1] == 1.5


def test_a_changed_result_needs_a_reason_and_keeps_the_old_value_on_the_trail(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    study_id = _design(uow, lab, defined)
    service.record_results(
        uow, actor=lab.researcher.actor, study_id=study_id, rows=[ResultRow(1, (10.0,))]
    )
    with pytest.raises(ResultConflict) as caught:
        service.record_results(
            uow, actor=lab.researcher.actor, study_id=study_id, rows=[ResultRow(1, (12.0,))]
        )
    assert caught.value.field == "reason"
    service.record_results(
        uow,
        actor=lab.researcher.actor,
        study_id=study_id,
        rows=[ResultRow(1, (12.0,)), ResultRow(2, (11.0,))],
        reason="transcription error: the counter read 12",
    )
    corrected = trail.records("translation:doe-study:result-corrected")[-1]
    assert corrected.before == {
        "results": [{"run": 1, "response": "Fold expansion", "value": 10.0}]
    }
    assert corrected.reason == "transcription error: the counter read 12"
    with uow.db.read_session() as s:
        values = [r.values for r in queries.study(s, study_id).runs[:2]]
    assert values == [(12.0,), (11.0,)]


def test_csv_import_keeps_the_good_rows_and_names_the_bad(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    study_id = _design(uow, lab, defined)
    text = "run,Fold expansion\n1,20.5\n2,twenty\n99,1\n3,22\n"
    written, bad = service.import_results_csv(
        uow, actor=lab.researcher.actor, study_id=study_id, text=text
    )
    assert written == 2
    assert [(b.line, "not a number" in b.reason or "not a run" in b.reason) for b in bad] == [
        (3, True),
        (4, True),
    ]
    with uow.db.read_session() as s:
        assert queries.study(s, study_id).measured == 2


def test_goals_and_model_change_with_a_reason(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    study_id = _design(uow, lab, defined)
    service.set_goals(
        uow,
        actor=lab.scientist.actor,
        study_id=study_id,
        model="interactions",
        goals=[GoalIn("Fold expansion", "maximise", lower=22.0)],
        reason="release needs at least 22-fold",
    )
    with uow.db.read_session() as s:
        view = queries.study(s, study_id)
    assert view.model_order.value == "interactions" and view.responses[0].lower == 22.0
    entry = trail.records("translation:doe-study:goals-set")[-1]
    assert entry.before is not None and entry.before["goals"]["Fold expansion"]["lower"] == 20.0
    with pytest.raises(InvalidInput):
        service.set_goals(
            uow, actor=lab.scientist.actor, study_id=study_id, model="cubic", goals=[], reason="x"
        )


def test_a_proven_range_is_written_back_as_the_next_definition_version(
    uow: UnitOfWork, lab: Lab, defined: int, trail: Trail
) -> None:
    study_id = _design(uow, lab, defined)
    _enter_truth(uow, lab, study_id, noise=0.05)
    version = service.write_back_range(
        uow,
        actor=lab.researcher.actor,
        study_id=study_id,
        factor="Seeding density",
        reason="the CCD shows expansion above 20-fold across this range",
    )
    assert version == 2
    with uow.db.read_session() as s:
        definition = translation_queries.process_definition(s, defined)
        parameter = definition.process.operation("activation").parameter("seeding_density")  # type: ignore[union-attr]
        view = queries.study(s, study_id)
        best = queries.analyse(view).optimum
    assert best is not None
    proven = next(p for p in best.proven if p.factor == "Seeding density")
    assert parameter is not None
    assert parameter.low == Decimal(str(round(proven.low, 6)))
    assert parameter.high == Decimal(str(round(proven.high, 6)))
    assert 0.5 <= proven.low < proven.high <= 1.5
    entry = trail.records("translation:doe-study:range-written-back")[-1]
    assert trail.after(entry)["definition_version"] == 2


def test_a_factor_without_a_parameter_cannot_be_written_back(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    study_id = _design(
        uow, lab, defined, factors=[FACTORS[0], FactorIn("Feed volume", 10, 30, "mL")]
    )
    _enter_truth(uow, lab, study_id)
    with pytest.raises(InvalidInput, match="not linked"):
        service.write_back_range(
            uow, actor=lab.researcher.actor, study_id=study_id, factor="Feed volume", reason="x"
        )


def test_an_unknown_study_is_not_found(uow: UnitOfWork, lab: Lab, defined: int) -> None:
    with pytest.raises(StudyNotFound):
        service.record_results(uow, actor=lab.researcher.actor, study_id=999, rows=[])


def test_the_demo_seeds_a_screening_experiment_with_results_and_a_cost_model(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    from atmpchain.translation.costing import queries as cost_queries
    from atmpchain.translation.doe.demo_data import seed_doe_and_costs

    study_id, model_id = seed_doe_and_costs(
        uow, researcher=lab.researcher.actor, scientist=lab.scientist.actor, project_id=defined
    )
    with uow.db.read_session() as s:
        view = queries.study(s, study_id)
        analysis = queries.analyse(view)
        costs = cost_queries.cost_model(s, model_id)
    assert view.kind is DesignKind.DEFINITIVE_SCREENING and view.measured == len(view.runs) == 18
    assert all(r.fit is not None for r in analysis.responses)
    assert analysis.optimum is not None
    assert any(p.factor == "IL-2" for p in analysis.optimum.proven)
    names = [s.name for s in costs.scenarios]
    assert names == ["Base", "Closed process", "Second supplier", "50 batches a year"]
    base, _closed, second, fifty = (s.cost.per_released_batch for s in costs.scenarios)
    assert second < base and fifty < base


def test_the_transfer_package_carries_the_experiment_and_cost_sections(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    from atmpchain.translation.doe.demo_data import seed_doe_and_costs
    from atmpchain.translation.package_pdf import CONTRIBUTED, contributed_section

    with uow.db.read_session() as s:
        empty = [contributed_section(s, defined, *c) for c in CONTRIBUTED]
    assert [e.paragraphs for e in empty] == [("No DoE study yet.",), ("No cost model yet.",)]
    seed_doe_and_costs(
        uow, researcher=lab.researcher.actor, scientist=lab.scientist.actor, project_id=defined
    )
    with uow.db.read_session() as s:
        doe, cost = (contributed_section(s, defined, *c) for c in CONTRIBUTED)
    assert doe.table[1][0] == "Activation screen (definitive screening)"
    assert "IL-2" in doe.table[1][4]
    assert [row[1] for row in cost.table[1:]] == [
        "Base",
        "Closed process",
        "Second supplier",
        "50 batches a year",
    ]
    assert "HemaSphere" not in cost.paragraphs[1] and "60,000 EUR" in cost.paragraphs[1]
