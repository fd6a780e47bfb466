"""Demo translation: one research CAR-T routine taken through the pre-GMP facility.

The researcher records the routine as the lab runs it (open flasks, research-grade beads,
media and cytokine, no ranges); the pre-GMP scientist lists its gaps, assesses readiness, moves
to GMP-grade materials and a closed device, writes back the IL-2 range a screening DoE proved,
builds and mitigates an FMEA from the CAR-T template, QA approves definition and FMEA, and the
approved process goes to manufacturing as a draft master batch record. Everything goes through
the same audited services as real work.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from importlib.resources import files

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.materials.domain import Grade
from atmpchain.translation import (
    assessment_queries,
    fmea_service,
    gap_service,
    process_format,
    queries,
    service,
    transfer,
)
from atmpchain.translation.doe.demo_data import seed_doe_and_costs
from atmpchain.translation.domain import EquipmentSpec, ProcessDef
from atmpchain.translation.mbr_draft import ProductFacts
from atmpchain.uow import UnitOfWork

PROJECT_CODE = "TP-CART19"
MBR_CODE = "CART-CD19-UNI"
#: Parameter ranges the pre-GMP work proved (demo values, not a published process).
PROVEN_RANGES = {
    "seeding_density": (Decimal("0.5"), Decimal("2.0")),
    "il2": (Decimal("50"), Decimal("200")),
    "moi": (Decimal("2"), Decimal("10")),
}
#: The steps moved onto a closed processing device.
CLOSED_ON_DEVICE = ("activation", "transduction", "expansion")
#: Demo scores (S, O, D) of the CAR-T template's failure modes, by failure mode.
DEMO_SCORES = {
    "Low apheresis T-cell yield": (6, 3, 3),
    "Activation failure": (7, 3, 4),
    "Low transduction efficiency": (6, 4, 3),
    "Contamination in an open step": (9, 3, 5),
    "Device run abort": (7, 2, 2),
    "Mislabel or chain-of-identity break": (10, 2, 6),
    "Cryobag breakage": (8, 2, 3),
    "LN2 excursion during storage": (7, 2, 2),
    "Invalid QC assay": (6, 3, 4),
    "Late out-of-specification result after release": (9, 2, 5),
}
MITIGATIONS = {
    "Contamination in an open step": ("Sterile welding; open steps in grade A", (9, 1, 5)),
    "Mislabel or chain-of-identity break": ("Scan-based identity check at each step", (10, 1, 2)),
    "Late out-of-specification result after release": (
        "Rapid sterility method; release only on full results",
        (9, 1, 3),
    ),
}


def research_routine() -> ProcessDef:
    """The research CAR-T routine shipped with atmpchain (translation/cart_research.json)."""
    text = files("atmpchain.translation").joinpath("cart_research.json").read_text("utf-8")
    return process_format.parse(text)


def gmp_ready(process: ProcessDef) -> ProcessDef:
    """The routine after the pre-GMP work: ranges proven, GMP-grade materials and vector, and
    activation to expansion closed on a processing device."""
    ops = []
    for op in process.unit_operations:
        params = tuple(
            dataclasses.replace(p, low=PROVEN_RANGES[p.name][0], high=PROVEN_RANGES[p.name][1])
            if p.name in PROVEN_RANGES
            else p
            for p in op.parameters
        )
        materials = tuple(
            dataclasses.replace(m, grade=Grade.GMP)
            if m.grade is Grade.RESEARCH and (m.gmp_alternative or m.item == "LV-CD19")
            else m
            for m in op.materials
        )
        change: dict[str, object] = {"parameters": params, "materials": materials}
        if op.key in CLOSED_ON_DEVICE:
            change["closed"] = True
            change["equipment"] = (
                EquipmentSpec("Closed processing device", "closed-processing-device"),
            )
        ops.append(dataclasses.replace(op, **change))  # type: ignore[arg-type]
    return ProcessDef(tuple(ops))


def _login(uow: UnitOfWork, username: str, password: str) -> Actor:
    return sessions.login(uow, username=username, password=password).actor


def _readiness(uow: UnitOfWork, actor: Actor, project_id: int, scores: dict[str, int]) -> None:
    gap_service.assess_readiness(
        uow, actor=actor, project_id=project_id, scores=scores, note="demo assessment"
    )


def demo_translation(uow: UnitOfWork, password: str) -> str:
    """Take the research routine to a draft MBR in manufacturing; returns the MBR's code."""
    scientist = _login(uow, "scientist", password)
    researcher = _login(uow, "researcher", password)
    qa = _login(uow, "qa", password)
    project_id = service.create_project(
        uow,
        actor=scientist,
        code=PROJECT_CODE,
        title="CD19 CAR-T from the haematology lab",
        research_group="Haematology research group",
        indication="Relapsed or refractory B-cell lymphoma",
        product_class="CAR-T cells (autologous, lentiviral)",
    )
    service.add_team_member(
        uow,
        actor=scientist,
        project_id=project_id,
        username="researcher",
        project_role="lead researcher",
    )
    service.add_document(
        uow,
        actor=researcher,
        project_id=project_id,
        name="Lab protocol CAR-T v7",
        content=b"PBMC isolation, bead activation, LV transduction on day 1, 8-day expansion.\n",
        content_type="text/plain",
        note="the routine as run in the research lab",
    )
    service.draft_definition(
        uow,
        actor=researcher,
        project_id=project_id,
        process=research_routine(),
        reason="the routine as the research lab runs it",
    )
    # A screening experiment on the routine (results simulated from a stated model) and a cost
    # model drafted from it, with its scenarios (issue 14 items 5 and 6).
    seed_doe_and_costs(uow, researcher=researcher, scientist=scientist, project_id=project_id)
    gap_service.generate_gaps(uow, actor=scientist, project_id=project_id)
    _readiness(
        uow,
        scientist,
        project_id,
        {
            "materials": 20,
            "process_closure": 10,
            "documentation": 30,
            "analytics": 20,
            "facility": 40,
            "regulatory": 10,
        },
    )
    service.draft_definition(
        uow,
        actor=scientist,
        project_id=project_id,
        process=gmp_ready(research_routine()),
        reason="GMP-grade materials and vector; activation to expansion on a closed device",
    )
    service.set_parameter_range(
        uow,
        actor=scientist,
        project_id=project_id,
        unit_operation="activation",
        parameter="il2",
        low=Decimal("75"),
        high=Decimal("150"),
        reason="screening DoE (demo): IL-2 75-150 IU/mL gives the same fold expansion",
    )
    gap_service.generate_gaps(uow, actor=scientist, project_id=project_id)
    _readiness(
        uow,
        scientist,
        project_id,
        {
            "materials": 80,
            "process_closure": 70,
            "documentation": 60,
            "analytics": 50,
            "facility": 60,
            "regulatory": 40,
        },
    )
    version = fmea_service.start_fmea(uow, actor=scientist, project_id=project_id, template="cart")
    with uow.db.read_session() as session:
        modes = assessment_queries.fmea(session, project_id, version).modes
    for mode in modes:
        s, o, d = DEMO_SCORES[mode.failure_mode]
        fmea_service.score_failure_mode(
            uow,
            actor=scientist,
            project_id=project_id,
            item_id=mode.id,
            severity=s,
            occurrence=o,
            detection=d,
            reason="team scoring session (demo)",
        )
        if mode.failure_mode in MITIGATIONS:
            text, (s2, o2, d2) = MITIGATIONS[mode.failure_mode]
            fmea_service.record_mitigation(
                uow,
                actor=scientist,
                project_id=project_id,
                item_id=mode.id,
                mitigation=text,
                owner="scientist",
                reason="above the action threshold",
            )
            fmea_service.score_failure_mode(
                uow,
                actor=scientist,
                project_id=project_id,
                item_id=mode.id,
                severity=s2,
                occurrence=o2,
                detection=d2,
                reason="after the mitigation (demo)",
                residual=True,
            )
    with uow.db.read_session() as session:
        latest = queries.process_definition(session, project_id).version
    service.approve_definition(
        uow, actor=qa, project_id=project_id, version=latest, password=password
    )
    fmea_service.approve_fmea(
        uow, actor=qa, project_id=project_id, version=version, password=password
    )
    result = transfer.transfer_to_manufacturing(
        uow,
        actor=scientist,
        project_id=project_id,
        version=latest,
        product=ProductFacts(
            code=MBR_CODE,
            name="Academic CD19 CAR-T (from the pre-GMP facility)",
            product_code="S1295V00",
            autologous=True,
            shelf_life_hours=72,
            description=f"Transferred from translation project {PROJECT_CODE}.",
        ),
        reason="pre-GMP work complete: FMEA approved, ranges proven",
    )
    return result.mbr_code
