"""Release's documents: the QP certificate and the full batch record (eBR + QC + certification)
as PDFs, and the released units as FHIR R5 BiologicallyDerivedProducts carrying the batch and its
release status. Reading and printing change no record and are not audited."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.bundle import Bundle

from atmpchain.hospital.fhir import (
    DIN_SYSTEM,
    PRODUCT_CODE_SYSTEM,
    PRODUCT_STATUS_SYSTEM,
    PRODUCT_UNIT_SYSTEM,
    PROPERTY_SYSTEM,
)
from atmpchain.manufacturing.ebr_pdf import Section, ebr_pdf, sections_pdf
from atmpchain.manufacturing.queries import BatchRecord
from atmpchain.release.domain import Decision
from atmpchain.release.qc_link import QcFacts
from atmpchain.release.queries import CertificationView, SupplyView


def _when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({moment.astimezone(UTC):%H:%M} UTC)"


def release_status(certification: CertificationView | None) -> str:
    """The batch's release status in words."""
    if certification is None:
        return "quarantined: awaiting the Qualified Person's certification"
    return certification.decision.label


def certification_sections(
    record: BatchRecord,
    certification: CertificationView | None,
    supply: SupplyView | None,
    zone: str,
) -> list[Section]:
    """The certification as sections of a PDF: decision, signature, pending tests, OOS supply."""
    if certification is None:
        return [Section("QP certification", (release_status(None),))]
    c = certification
    rows: list[tuple[str, str]] = [
        ("Batch", f"{record.number}: {record.mbr_name} ({record.mbr_code} v{record.mbr_version})"),
        ("Chain of identity", record.patient_coi or "-"),
        ("Decision", c.decision.label),
        ("Specification", c.specification or "-"),
        ("Signed by", f"{c.qp_name} ({c.signature_meaning}), {_when(c.decided_at, zone)}"),
        ("Signed content (SHA-256)", c.content_hash),
    ]
    if c.procedure:
        rows.append(("Written procedure", c.procedure))
    if c.out_of_specification:
        rows.append(("Out of specification", ", ".join(c.out_of_specification)))
    if c.comment:
        rows.append(("Comment", c.comment))
    units = [u.din for u in record.units if u.kind == "final"]
    rows.append(("Final units", ", ".join(units) or "none"))
    sections = [Section("QP certification", table=(("Field", "Value"), *rows))]
    if c.pending_tests:
        sections.append(
            Section(
                "Tests pending at certification (results follow release)",
                (
                    "Certified before all results under the written procedure named above. "
                    "If a late result fails, the treating physician and QA are told at once.",
                ),
                table=(("Test",), *((name,) for name in c.pending_tests)),
            )
        )
    if c.decision is Decision.SUPPLIED_OUT_OF_SPECIFICATION and supply is not None:
        sections.append(supply_section(supply, zone))
    return sections


def supply_section(supply: SupplyView, zone: str) -> Section:
    """The §11.5 supply's signed steps and where its notice stands."""
    return Section(
        "SUPPLIED OUT OF SPECIFICATION at the treating physician's request (Part IV §11.5)",
        (
            f"Notice to {supply.notify}: {supply.clock.text}"
            + (f", due {_when(supply.clock.deadline, zone)}" if supply.clock.deadline else ""),
        ),
        table=(
            ("Step", "Recorded", "Signed by"),
            *(
                (s.step.label, s.text, f"{s.by_name} ({s.meaning}), {_when(s.at, zone)}")
                for s in supply.steps
            ),
        ),
    )


def certificate_pdf(
    record: BatchRecord,
    certification: CertificationView | None,
    supply: SupplyView | None,
    printed_by: str,
    printed_at: datetime,
    zone: str,
) -> bytes:
    """The QP certificate of the batch as an A4 PDF."""
    footer = (
        f"QP certificate of batch {record.number}: a copy of the electronic record. Printed by "
        f"{printed_by} at {_when(printed_at, zone)}."
    )
    sections = certification_sections(record, certification, supply, zone)
    return sections_pdf(f"QP certificate, batch {record.number}", sections, footer)


def qc_section(qc: QcFacts) -> Section:
    """The batch's QC results against its specification version."""
    if not qc.bound:
        return Section("QC results", ("no approved specification applies to the batch",))
    return Section(
        f"QC results against {qc.specification}",
        table=(
            ("Attribute", "Result", "State", "Reviewed", "Interim"),
            *(
                (
                    line.attribute,
                    line.result or "-",
                    line.state.value.replace("_", " "),
                    "yes" if line.reviewed else "no",
                    qc.interims.get(line.attribute, ""),
                )
                for line in qc.lines
            ),
        ),
    )


def batch_record_pdf(
    record: BatchRecord,
    qc: QcFacts,
    certification: CertificationView | None,
    supply: SupplyView | None,
    printed_by: str,
    printed_at: datetime,
    zone: str,
) -> bytes:
    """The full batch record as one PDF: the eBR, the QC results, the certification."""
    appendix = [qc_section(qc), *certification_sections(record, certification, supply, zone)]
    return ebr_pdf(
        record, printed_by, printed_at, zone, appendix=appendix, title="Full batch record"
    )


# --- FHIR R5 ----------------------------------------------------------------------------------


def _property(code: str, display: str, value: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PROPERTY_SYSTEM, "code": code, "display": display}]},
        "valueString": value,
    }


def released_products(
    record: BatchRecord, certification: CertificationView | None
) -> dict[str, Any]:
    """A FHIR R5 Bundle (collection) of the batch's final units as BiologicallyDerivedProducts,
    each carrying the batch number and its release status; checked against the R5 models."""
    status = release_status(certification)
    entries = []
    for unit in record.units:
        if unit.kind != "final":
            continue
        available = certification is not None and certification.decision.releases and not unit.holds
        properties = [
            _property("batch-number", "Batch number", record.number),
            _property("release-status", "Release status", status),
        ]
        if record.patient_coi:
            properties.append(
                _property("chain-of-identity", "Chain of identity", record.patient_coi)
            )
        if certification is not None and certification.pending_tests:
            properties.append(
                _property(
                    "pending-tests",
                    "Tests pending at release",
                    ", ".join(certification.pending_tests),
                )
            )
        if (
            certification is not None
            and certification.decision is Decision.SUPPLIED_OUT_OF_SPECIFICATION
        ):
            properties.append(
                _property(
                    "out-of-specification",
                    "Supplied out of specification",
                    "at the treating physician's request (EU GMP Part IV §11.5)",
                )
            )
        properties += [_property("custody-hold", "Custody hold", h) for h in unit.holds]
        lines = [f"Batch {record.number}, unit {unit.din}", f"Release status: {status}"]
        body = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)
        product = {
            "resourceType": "BiologicallyDerivedProduct",
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>',
            },
            "identifier": [{"system": PRODUCT_UNIT_SYSTEM, "value": unit.din + unit.product_code}],
            "biologicalSourceEvent": {"system": DIN_SYSTEM, "value": unit.din},
            "productCode": {
                "coding": [{"system": PRODUCT_CODE_SYSTEM, "code": unit.product_code[:5]}],
                "text": record.mbr_name,
            },
            "productStatus": {
                "system": PRODUCT_STATUS_SYSTEM,
                "code": "available" if available else "unavailable",
            },
            "division": unit.product_code[5:],
            "expirationDate": unit.expiry.astimezone(UTC).isoformat(),
            "property": properties,
        }
        key = f"release|{unit.din}{unit.product_code}"
        entries.append(
            {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}", "resource": product}
        )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    Bundle.model_validate(bundle)  # refuse to hand out anything that is not valid R5
    return bundle
