"""The technology-transfer package PDF: process, materials, gaps, readiness, FMEA, and the DoE
and cost sections the sub-capabilities contribute, or a plain "none yet" (issue 14, item 7)."""

from __future__ import annotations

import pypdfium2 as pdfium
from sqlalchemy.orm import Session
from tests.integration.translation.conftest import Lab

from atmpchain.clock import FixedClock
from atmpchain.translation import fmea_service, gap_service
from atmpchain.translation.package_pdf import (
    PackageSection,
    contributed_section,
    transfer_package_pdf,
)
from atmpchain.uow import UnitOfWork


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def transfer_package_section(session: Session, project_id: int) -> PackageSection | None:
    """A contributed section, as translation.doe.report will offer one."""
    return PackageSection(
        "Design of experiments",
        (f"Screening study for project {project_id}.",),
        (("factor", "low", "high"), ("il2", "50", "200")),
    )


def test_the_package_prints_the_process_and_says_when_doe_and_costs_are_missing(
    uow: UnitOfWork, lab: Lab, defined: int, clock: FixedClock
) -> None:
    gap_service.generate_gaps(uow, actor=lab.scientist.actor, project_id=defined)
    fmea_service.start_fmea(uow, actor=lab.scientist.actor, project_id=defined, template="cart")
    with uow.db.read_session() as session:
        text = _text(
            transfer_package_pdf(session, defined, "Pia Pregmp", clock.now(), "Europe/Vienna")
        )
    flat = " ".join(text.split())
    for expected in (
        "Technology-transfer package TP-CART19",
        "PBMC isolation by density gradient",
        "Density gradient medium",
        "gaps open",
        "No readiness assessment yet.",
        "Activation failure",
        "No DoE study yet.",
        "No cost model yet.",
    ):
        assert expected in flat, expected


def test_a_sub_capability_contributes_its_section(uow: UnitOfWork, defined: int) -> None:
    with uow.db.read_session() as session:
        section = contributed_section(session, defined, __name__, "Design of experiments", "none")
        missing = contributed_section(
            session, defined, "atmpchain.translation.nothing_here", "Cost of goods", "none yet"
        )
    assert section.table[1] == ("il2", "50", "200")
    assert missing == PackageSection("Cost of goods", ("none yet",))
