"""Demo data for the pre-GMP translation demo: a screening experiment with results and a cost
model with scenarios, on the demo's research CAR-T project (called from `demo_translation`).

The results are simulated from a stated generating model with a fixed seed, and the prices are
demo values (not quotes): both are here so the demo shows the pages with real analyses, never
as facts about a process.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from atmpchain.accounts.domain import Actor
from atmpchain.translation import queries as translation_queries
from atmpchain.translation.costing import service as cost_service
from atmpchain.translation.costing.domain import (
    EquipmentLine,
    FacilityBasis,
    LabourLine,
    LabourRole,
    QcTestLine,
    inputs_to_dict,
)
from atmpchain.translation.doe import queries as doe_queries
from atmpchain.translation.doe import service as doe_service
from atmpchain.translation.doe.domain import ResultRow
from atmpchain.translation.doe.service import FactorIn, ResponseIn
from atmpchain.uow import UnitOfWork

#: The demo's generating model (coded units) for fold expansion and day-6 viability.
_DONOR_OFFSET = {"D1": 0.0, "D2": -2.5}
#: Demo prices per unit of each research-routine material (EUR), and of their GMP versions.
DEMO_PRICES = {
    "Density gradient medium": Decimal("0.90"),
    "Phosphate-buffered saline": Decimal("0.05"),
    "Anti-CD3/CD28 beads": Decimal("1450"),
    "T-cell medium": Decimal("0.32"),
    "Interleukin-2": Decimal("380"),
    "CD19-CAR lentiviral vector": Decimal("12500"),
    "Human serum albumin": Decimal("4.20"),
}


def _fold(x: tuple[float, ...]) -> float:
    il2, density, beads, moi = x
    return 28 + 5 * il2 + 1.5 * density - 2 * beads - 4 * il2**2 - 1.0 * density**2 + 0.5 * moi


def _viability(x: tuple[float, ...]) -> float:
    il2, density, _beads, moi = x
    return 88 + 1.0 * il2 - 2.5 * density - 1.5 * moi - 2.0 * density**2


def seed_screening_experiment(
    uow: UnitOfWork, *, researcher: Actor, project_id: int, seed: int = 20260
) -> int:
    """A definitive screening design over four activation and transduction parameters, run with
    two donors, with simulated results; returns the study's id."""
    study_id = doe_service.design_study(
        uow,
        actor=researcher,
        project_id=project_id,
        title="Activation screen (definitive screening)",
        kind="definitive_screening",
        factors=[
            FactorIn("IL-2", 50, 200, "IU/mL", "activation", "il2"),
            FactorIn("Seeding density", 0.5, 2.0, "1e6 cells/mL", "activation", "seeding_density"),
            FactorIn("Bead ratio", 0.5, 3.0, "beads/cell", "activation", "bead_ratio"),
            FactorIn("MOI", 2, 10, "TU/cell", "transduction", "moi"),
        ],
        responses=[
            ResponseIn("Fold expansion", "fold", "maximise", lower=22.0),
            ResponseIn("Viability day 6", "%", "maximise", lower=80.0),
        ],
        donors=["D1", "D2"],
        seed=seed,
        model="pure_quadratic",
    )
    with uow.db.read_session() as session:
        view = doe_queries.study(session, study_id)
    rng = np.random.default_rng(seed)
    rows = [
        ResultRow(
            r.run.order,
            (
                round(_fold(r.run.coded) + _DONOR_OFFSET[r.run.block] + rng.normal(0, 0.6), 2),
                round(_viability(r.run.coded) + rng.normal(0, 0.8), 1),
            ),
        )
        for r in view.runs
    ]
    doe_service.record_results(uow, actor=researcher, study_id=study_id, rows=rows)
    return study_id


def seed_cost_model(
    uow: UnitOfWork, *, scientist: Actor, project_id: int, batches_per_year: int = 18
) -> int:
    """A cost model drafted from the project's current process definition, priced with demo
    values, and three scenarios: a closed process, a second supplier, 50 batches a year."""
    with uow.db.read_session() as session:
        definition = translation_queries.process_definition(session, project_id)
    base = cost_service.draft_from_process(definition.process, batches_per_year)
    labour = tuple(replace(w, rate=Decimal("58")) for w in base.labour)
    base = replace(
        base,
        materials=tuple(
            replace(m, unit_price=DEMO_PRICES.get(m.name, Decimal("100"))) for m in base.materials
        ),
        labour=(
            *labour,
            LabourLine(LabourRole.QC, Decimal("24"), Decimal("55")),
            LabourLine(LabourRole.QA_QP, Decimal("8"), Decimal("85")),
        ),
        qc_tests=(
            QcTestLine("Sterility (Ph. Eur. 2.6.27)", Decimal("2"), Decimal("180")),
            QcTestLine("Endotoxin", Decimal("1"), Decimal("90")),
            QcTestLine("Flow cytometry: CAR+, CD4/CD8, memory", Decimal("2"), Decimal("240")),
            QcTestLine("Mycoplasma (NAT)", Decimal("1"), Decimal("950"), outsourced=True),
            QcTestLine("Vector copy number (ddPCR)", Decimal("1"), Decimal("600"), outsourced=True),
            QcTestLine(
                "Replication-competent lentivirus", Decimal("1"), Decimal("2800"), outsourced=True
            ),
        ),
        facility_basis=FacilityBasis.PER_HOUR,
        cleanroom_rate=Decimal("95"),
        equipment=(
            EquipmentLine("Biosafety cabinet", Decimal("18000"), Decimal("8"), Decimal("0.5")),
            EquipmentLine("CO2 incubator", Decimal("12000"), Decimal("8"), Decimal("0.5")),
        ),
        em_per_batch=Decimal("320"),
        em_per_year=Decimal("24000"),
        failure_rate=Decimal("0.06"),
    )
    model_id = cost_service.create_model(
        uow,
        actor=scientist,
        project_id=project_id,
        name="Research routine as run",
        inputs=inputs_to_dict(base),
    )
    document = inputs_to_dict(base)
    closed_equipment = [
        *document["equipment"],
        {"name": "Closed processing device", "price": "180000", "life_years": "7", "share": "1"},
    ]
    cost_service.save_scenario(
        uow,
        actor=scientist,
        model_id=model_id,
        name="Closed process",
        changes={
            # Activation to expansion run on the device: only isolation and formulation stay
            # open in the cleanroom, and hands-on time falls.
            "cleanroom_hours": "6",
            "labour": [
                {"role": "production", "hours": "14", "rate": "58"},
                {"role": "qc", "hours": "24", "rate": "55"},
                {"role": "qa_qp", "hours": "8", "rate": "85"},
            ],
            "equipment": closed_equipment,
            "failure_rate": "0.04",
        },
    )
    second = [
        {
            **m,
            "supplier": "Second supplier",
            "unit_price": str(Decimal(m["unit_price"]) * Decimal("0.85")),
        }
        if m["name"] in {"T-cell medium", "Interleukin-2", "Anti-CD3/CD28 beads"}
        else m
        for m in document["materials"]
    ]
    cost_service.save_scenario(
        uow,
        actor=scientist,
        model_id=model_id,
        name="Second supplier",
        changes={"materials": second},
    )
    cost_service.save_scenario(
        uow,
        actor=scientist,
        model_id=model_id,
        name="50 batches a year",
        changes={"batches_per_year": 50},
    )
    return model_id


def seed_doe_and_costs(
    uow: UnitOfWork, *, researcher: Actor, scientist: Actor, project_id: int
) -> tuple[int, int]:
    """The demo's experiment and cost model; returns (study id, cost model id)."""
    return (
        seed_screening_experiment(uow, researcher=researcher, project_id=project_id),
        seed_cost_model(uow, scientist=scientist, project_id=project_id),
    )
