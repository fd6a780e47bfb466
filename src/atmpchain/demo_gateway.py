"""The demo's clinical-trial gateway (issue 16 item 8): inquiries in every state of the triage
workflow, and the accepted one set up as the trial whose patients have the demo batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.clock import FixedClock
from atmpchain.demo_manufacturing import TRIAL
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway.domain import AttachmentKind, parse_inquiry
from atmpchain.moments import parse_day
from atmpchain.uow import UnitOfWork

#: The demo trial's EU CT number (made up, in CTIS's format); its protocol code is the one the
#: demo batches name.
DEMO_EU_CT = "2026-500123-45-00"
#: A tiny PDF standing in for a sponsor's synopsis.
DEMO_SYNOPSIS = b"%PDF-1.4\n% demo synopsis of the CAR-T trial\n%%EOF\n"

_BASE = {
    "contact_name": "Dr Sara Lind",
    "contact_email": "sara.lind@example.org",
    "origin": "autologous",
    "gmo": "yes",
    "phase": "phase_1",
    "purpose": "systematic_evaluation",
    "patients": "10",
    "accrual_per_month": "1",
    "countries": "Sweden",
    "sites": "University Hospital (demo)",
    "starting_material": "Leukapheresis at the hospital's apheresis unit",
    "presentation": "cryopreserved",
    "bags_per_patient": "1",
    "platform": "CliniMACS Prodigy",
    "process_days": "12",
    "cleanroom_grade": "closed_system_in_c",
    "qc_assays": "sterility, endotoxin, mycoplasma, VCN, potency (facility QC)",
    "regulatory_status": "impd_ready",
    "planned_submission": "2026-02-02",
    "funding": "Regional research grant",
    "product_class": "gene_therapy",
}

#: Each demo inquiry: its sponsor, title, sponsor type, services, and the moves it makes.
_INQUIRIES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "University haematology group (demo)",
        "Academic anti-CD19 CAR-T in relapsed lymphoma",
        "academic",
        ("manufacture", "storage", "apheresis"),
        ("triage", "feasibility", "offer", "accepted"),
    ),
    (
        "Nordic Cell Therapeutics (demo)",
        "Allogeneic NK cells in AML",
        "industry",
        ("storage", "preparation"),
        (),
    ),
    (
        "Gene Vector AB (demo)",
        "AAV gene therapy for haemophilia B",
        "industry",
        ("preparation",),
        ("triage",),
    ),
    (
        "University haematology group (demo)",
        "Tumour-infiltrating lymphocytes in melanoma",
        "investigator_initiated",
        ("manufacture",),
        ("triage", "questions_to_sponsor"),
    ),
    (
        "MyeloCure (demo)",
        "BCMA CAR-T in myeloma, phase II",
        "industry",
        ("storage", "preparation"),
        ("triage", "feasibility"),
    ),
    (
        "Cartilage Works (demo)",
        "Tissue-engineered cartilage graft",
        "industry",
        ("manufacture",),
        ("triage", "feasibility", "offer"),
    ),
    (
        "Skin Lab (demo)",
        "Keratinocyte sheets for burns",
        "academic",
        ("manufacture",),
        ("triage", "declined"),
    ),
    (
        "Retina Gene (demo)",
        "Subretinal gene therapy",
        "industry",
        ("storage",),
        ("withdrawn",),
    ),
)


@dataclass(frozen=True)
class DemoGateway:
    """What the demo gateway set up."""

    references: tuple[str, ...]
    trial: str


def _login(uow: UnitOfWork, username: str, password: str) -> Actor:
    return sessions.login(uow, username=username, password=password).actor


def demo_gateway(uow: UnitOfWork, password: str) -> DemoGateway:
    """Inquiries in every state; the first accepted and set up as the demo batches' trial."""
    clock = FixedClock(uow.clock.now() - timedelta(days=60))
    past = UnitOfWork(uow.db, clock, channel=uow.channel, settings=uow.settings)
    coordinator = _login(past, "coordinator", password)
    references = []
    for position, (sponsor, title, kind, services, moves) in enumerate(_INQUIRIES):
        fields = {
            **_BASE,
            "sponsor_name": sponsor,
            "title": title,
            "sponsor_type": kind,
            "indication": title.split(" in ")[-1] if " in " in title else title,
        }
        if "tissue" in title.lower() or "keratinocyte" in title.lower():
            fields.update(product_class="tissue_engineered", gmo="no")
        form = parse_inquiry(fields, list(services), parse_date=parse_day)
        attachments = (
            {AttachmentKind.SYNOPSIS: ("synopsis.pdf", DEMO_SYNOPSIS)} if position == 0 else {}
        )
        done = inquiries.submit_inquiry(
            past, actor=inquiries.PUBLIC_ACTOR, form=form, attachments=attachments
        )
        references.append(done.reference)
        clock.advance(timedelta(days=1))
        inquiries.assign_coordinator(
            past, actor=coordinator, reference=done.reference, username="coordinator"
        )
        for target in moves:
            clock.advance(timedelta(days=2))
            if target == "questions_to_sponsor":
                inquiries.post_message(
                    past,
                    actor=coordinator,
                    reference=done.reference,
                    text="Who runs the VCN assay, and is the vector lot released?",
                )
                continue
            inquiries.move_inquiry(
                past,
                actor=coordinator,
                reference=done.reference,
                to_state=target,
                reason=f"demo: {target.replace('_', ' ')}",
            )
    accepted = references[0]
    inquiries.invite_sponsor(past, actor=coordinator, reference=accepted, username="sponsor")
    inquiries.invite_sponsor(past, actor=coordinator, reference=references[3], username="sponsor")
    number = trials.create_trial(
        past,
        actor=coordinator,
        reference=accepted,
        eu_ct_number=DEMO_EU_CT,
        code=TRIAL,
        products="Autologous anti-CD19 CAR-T cells (academic process)",
    )
    return DemoGateway(tuple(references), number)
