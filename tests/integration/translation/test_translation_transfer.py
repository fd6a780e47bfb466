"""Transfer to GMP: a research routine becomes a draft MBR that manufacturing accepts unchanged
(issue 14, item 7)."""

from __future__ import annotations

import json

import pytest
from tests.integration.conftest import Trail
from tests.integration.translation.conftest import PASSWORD, Lab

from atmpchain.manufacturing import mbr, mbr_format
from atmpchain.manufacturing.domain import MbrStatus
from atmpchain.manufacturing.models import MasterBatchRecord
from atmpchain.translation import queries, service, transfer
from atmpchain.translation.domain import Stage
from atmpchain.translation.errors import TransferRefused, TranslationStateError
from atmpchain.translation.mbr_draft import ProductFacts
from atmpchain.uow import UnitOfWork

PRODUCT = ProductFacts(
    code="CART-CD19-ACAD",
    name="Academic CD19 CAR-T (from translation project TP-CART19)",
    product_code="S1295V00",
    autologous=True,
    shelf_life_hours=72,
    description="Transferred from the pre-GMP facility.",
)


def test_the_approved_routine_becomes_a_draft_mbr_manufacturing_accepts_unchanged(
    uow: UnitOfWork, lab: Lab, approved: int, trail: Trail
) -> None:
    with uow.db.read_session() as s:
        ours = transfer.draft_mapping(s, approved, 2, PRODUCT)
    # Manufacturing's own reader takes the file as it is and writes back the same mapping.
    assert mbr_format.to_mapping(mbr_format.parse(transfer.draft_text(ours))) == ours
    result = transfer.transfer_to_manufacturing(
        uow,
        actor=lab.scientist.actor,
        project_id=approved,
        version=2,
        product=PRODUCT,
        reason="pre-GMP work complete",
    )
    assert (result.mbr_code, result.mbr_version) == ("CART-CD19-ACAD", 1)
    with uow.db.read_session() as s:
        stored = json.loads(mbr.export_mbr(s, result.mbr_code, result.mbr_version))
        row = s.query(MasterBatchRecord).filter_by(code=result.mbr_code).one()
        assert row.status is MbrStatus.DRAFT
        assert queries.project(s, approved).stage is Stage.TRANSFER
    assert stored == ours
    steps = {s["title"]: s for s in stored["steps"]}
    assert steps["PBMC isolation by density gradient"]["room_grade"] == "B"
    assert steps["Controlled-rate freezing"]["room_grade"] == "C"
    assert steps["Controlled-rate freezing"]["equipment_class"] == "controlled-rate-freezer"
    activation = steps["T-cell activation"]
    assert {m["item"]: m["grades"] for m in activation["materials"]}["BEADS"] == ["gmp"]
    expansion = steps["Expansion in gas-permeable flasks"]
    assert {m["item"]: m["grades"] for m in expansion["materials"]}["HSA"] == [
        "ancillary-qualified",
        "gmp",
    ]
    assert any(p["kind"] == "ipc" for p in expansion["parameters"])
    assert trail.after(trail.records("translation:project:transferred")[-1])["mbr_version"] == 1


def test_a_draft_definition_is_not_transferred(uow: UnitOfWork, lab: Lab, defined: int) -> None:
    with pytest.raises(TranslationStateError, match="approved"):
        transfer.transfer_to_manufacturing(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            version=1,
            product=PRODUCT,
            reason="too early",
        )


def test_ranges_missing_and_research_grade_without_alternative_are_all_named(
    uow: UnitOfWork, lab: Lab, defined: int
) -> None:
    service.approve_definition(
        uow, actor=lab.scientist.actor, project_id=defined, version=1, password=PASSWORD
    )
    with pytest.raises(TransferRefused) as refused:
        transfer.transfer_to_manufacturing(
            uow,
            actor=lab.scientist.actor,
            project_id=defined,
            version=1,
            product=PRODUCT,
            reason="try",
        )
    message = refused.value.message
    for part in ("seeding_density", "il2", "moi", "lentiviral vector"):
        assert part in message
    with uow.db.read_session() as s:
        assert s.query(MasterBatchRecord).count() == 0
