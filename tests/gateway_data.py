"""Shared test data for the gateway: a valid inquiry as the form sends it, and LN2 tanks."""

from __future__ import annotations

from atmpchain.accounts.domain import Actor
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.uow import UnitOfWork

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def inquiry_fields(**changes: str) -> dict[str, str]:
    """Every field of a valid inquiry, as the public form posts it."""
    fields = {
        "sponsor_type": "academic",
        "sponsor_name": "Lund University, Dept. of Haematology",
        "contact_name": "Dr Ingrid Sponsor",
        "contact_email": "ingrid.sponsor@example.org",
        "title": "CAR-T against CD19 in relapsed lymphoma",
        "indication": "Relapsed/refractory DLBCL",
        "product_class": "gene_therapy",
        "origin": "autologous",
        "gmo": "yes",
        "phase": "phase_1",
        "purpose": "systematic_evaluation",
        "patients": "12",
        "accrual_per_month": "1",
        "countries": "Sweden",
        "sites": "Skane University Hospital, Lund",
        "starting_material": "Leukapheresis at the hospital's apheresis unit",
        "presentation": "cryopreserved",
        "bags_per_patient": "2",
        "platform": "CliniMACS Prodigy",
        "process_days": "10",
        "cleanroom_grade": "closed_system_in_c",
        "qc_assays": "sterility, endotoxin, mycoplasma, VCN (facility QC)",
        "regulatory_status": "impd_ready",
        "first_patient_in": "2027-09-01",
        "planned_submission": "2027-03-01",
        "funding": "Research council grant",
    }
    fields.update(changes)
    return fields


SERVICES = ["manufacture", "storage"]


def ln2_tank(uow: UnitOfWork, qa: Actor, *, code: str, slots: int) -> None:
    """A qualified LN2 tank in use with `slots` positions (1 rack, 1 box, `slots` slots)."""
    storage.create_site(uow, actor=qa, code="CTR", name="ATMP center")
    storage.create_room(uow, actor=qa, site_code="CTR", code="CRYO", name="Cryostore")
    storage.create_storage_unit(
        uow,
        actor=qa,
        site_code="CTR",
        room_code="CRYO",
        code=code,
        name=f"Tank {code}",
        kind=StorageKind.LN2_VAPOUR,
        layout=[1, 1, slots],
    )
    storage.change_storage_status(
        uow, actor=qa, code=code, status=StorageStatus.IN_USE, reason="qualified for the test"
    )
