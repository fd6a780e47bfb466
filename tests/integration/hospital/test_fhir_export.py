"""A dose exported as FHIR R5 in each state that matters, parsed back with `fhir.resources`.

`walk` drives a dose through the real services to a stage; the PDF and CLI tests use it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fhir.resources.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.bundle import Bundle
from fhir.resources.patient import Patient
from fhir.resources.procedure import Procedure
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    PRODUCT_CODE,
    WARM_LOG,
    Manufactured,
    Staff,
    confirm_checks,
    manufactured,
    receive_on_ward,
)

from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict
from atmpchain.hospital import bedside, orders, preparation, queries, receipt
from atmpchain.hospital.fhir import (
    DIN_SYSTEM,
    PRODUCT_STATUS_SYSTEM,
    PRODUCT_UNIT_SYSTEM,
    FhirContext,
    export_dose,
)
from atmpchain.hospital.models import Dose
from atmpchain.uow import UnitOfWork

STAGES = (
    "ordered",
    "approved",
    "held",
    "stored",
    "thawing",
    "issued",
    "infusing",
    "infused",
    "window_missed",
    "overridden",
    "cancelled",
)


def walk(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    stage: str,
    bag: Manufactured | None = None,
    patient_ref: str = "PSN-0001",
) -> int:
    """Order a dose and take it through the services to `stage`; returns the dose id."""
    assert stage in STAGES
    bag = bag or manufactured(1)
    dose_id = order(patient_ref=patient_ref, expected_din=bag.manual, approve=stage != "ordered")
    if stage == "ordered":
        return dose_id
    if stage == "cancelled":
        orders.cancel_dose(
            uow, actor=staff.physician.actor, dose_id=dose_id, reason="Patient withdrew consent"
        )
        return dose_id
    if stage == "approved":
        return dose_id
    pharmacist = staff.pharmacist.actor
    receipt.receive_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="LOT-77A",
        from_party="World Courier",
        shipper_log=WARM_LOG if stage == "held" else CLEAN_LOG,
        shipper_log_name="shipper.csv",
        condition_ok=True,
        password=PASSWORD,
    )
    receipt.put_away_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    if stage in ("held", "stored"):
        return dose_id
    with uow.db.read_session() as session:
        dose = session.get(Dose, dose_id)
        assert dose is not None
        appointment, coi = dose.appointment_at, dose.coi
    clock.current = appointment - timedelta(minutes=14)
    preparation.retrieve_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        location_scan=cryostore,
        password=PASSWORD,
    )
    preparation.start_thaw(
        uow, actor=pharmacist, dose_id=dose_id, unit_scan=bag.scan, password=PASSWORD
    )
    if stage == "thawing":
        return dose_id
    clock.advance(timedelta(minutes=5))
    preparation.end_thaw(uow, actor=pharmacist, dose_id=dose_id, password=PASSWORD)
    preparation.record_preparation(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        step_text="Bag intact, no leaks; contents thawed",
        password=PASSWORD,
    )
    confirm_checks(uow, staff.pharmacist, dose_id)
    preparation.issue_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag.scan,
        second_scan="&/" + coi,
        to_username="nora",
        password=PASSWORD,
    )
    receive_on_ward(uow, staff.nurse, dose_id, bag.scan)
    if stage == "issued":
        return dose_id
    nurse = staff.nurse.actor
    if stage in ("window_missed", "overridden"):
        clock.advance(timedelta(minutes=40))
        with pytest.raises(Conflict):
            bedside.start_infusion(
                uow, actor=nurse, wristband_scan="&/" + coi, bag_scan=bag.scan, password=PASSWORD
            )
        if stage == "window_missed":
            return dose_id
        bedside.override_limit(
            uow,
            actor=staff.physician.actor,
            dose_id=dose_id,
            reason="Only dose; patient stable; benefit outweighs risk",
            password=PASSWORD,
        )
    else:
        clock.advance(timedelta(minutes=3))
    bedside.start_infusion(
        uow, actor=nurse, wristband_scan="&/" + coi, bag_scan=bag.scan, password=PASSWORD
    )
    if stage == "infusing":
        return dose_id
    clock.advance(timedelta(minutes=15))
    bedside.end_infusion(uow, actor=nurse, dose_id=dose_id, bag_scan=bag.scan, password=PASSWORD)
    return dose_id


def _export(uow: UnitOfWork, dose_id: int) -> dict[str, Any]:
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    return export_dose(record, FhirContext.from_settings(uow.settings), exported_at=uow.clock.now())


def _resources(exported: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse the JSON text back as a receiver would; the resources and full URLs by type."""
    bundle = Bundle.model_validate_json(json.dumps(exported))
    assert bundle.type == "collection"
    entries = bundle.entry or []
    return (
        {e.resource.get_resource_type(): e.resource for e in entries},
        {e.resource.get_resource_type(): e.fullUrl for e in entries},
    )


# What the export says in each state: the dose status, the R5 product status, and the
# procedure's status (None: no infusion yet).
EXPECTED = {
    "ordered": ("ordered", "unavailable", None),
    "approved": ("approved", "unavailable", None),
    "held": ("stored", "unavailable", None),
    "stored": ("stored", "available", None),
    "thawing": ("thawing", "available", None),
    "issued": ("issued", "available", None),
    "infusing": ("infusing", "unavailable", "in-progress"),
    "infused": ("infused", "unavailable", "completed"),
    "window_missed": ("window_missed", "unavailable", None),
    "overridden": ("infused", "unavailable", "completed"),
    "cancelled": ("cancelled", "unavailable", None),
}


@pytest.mark.parametrize("stage", STAGES)
def test_the_export_of_a_dose_validates_with_fhir_resources_in_each_state(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    stage: str,
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, stage)
    resources, urls = _resources(_export(uow, dose_id))
    dose_status, product_status, procedure_status = EXPECTED[stage]

    patient = resources["Patient"]
    assert isinstance(patient, Patient)
    assert patient.identifier[0].value == "PSN-0001"
    assert patient.name[0].text == "Maria Muster"
    assert patient.birthDate.isoformat() == "1961-03-14"
    # No more than the bedside needs: no address, telecom or gender.
    assert patient.address is None and patient.telecom is None and patient.gender is None

    product = resources["BiologicallyDerivedProduct"]
    assert isinstance(product, BiologicallyDerivedProduct)
    assert product.productStatus.system == PRODUCT_STATUS_SYSTEM
    assert product.productStatus.code == product_status
    assert product.productCategory.code == "cells"
    assert product.storageTempRequirements.high.value == -120
    assert product.storageTempRequirements.high.code == "Cel"
    # The DIN (announced, then received) is the source event; the identifier names the
    # product unit (DIN + product code with its division) once it has been received.
    assert product.biologicalSourceEvent.system == DIN_SYSTEM
    assert product.biologicalSourceEvent.value == manufactured(1).din
    if stage in ("ordered", "approved", "cancelled"):
        assert product.identifier is None and product.division is None
    else:
        (identifier,) = product.identifier
        assert identifier.system == PRODUCT_UNIT_SYSTEM
        assert identifier.value == manufactured(1).din + PRODUCT_CODE
        assert product.division == "00"
    for resource in resources.values():
        _assert_narrative(resource)
    properties = {p.type.coding[0].code: p for p in product.property}
    with uow.db.read_session() as session:
        dose = session.get(Dose, dose_id)
        assert dose is not None
        assert properties["chain-of-identity"].valueString == dose.coi
    assert properties["dose-status"].valueString == dose_status
    assert ("qa-hold" in properties) is (stage == "held")
    if stage not in ("ordered", "approved", "cancelled"):
        assert properties["batch-number"].valueString == "LOT-77A"
        assert product.productCode.coding[0].code == "S1295"
        # A PDC is shared by brands: its display is never a brand name (ADR 0010).
        assert product.productCode.coding[0].display is None
        assert product.productCode.coding[1].display == "Kymriah"
    thawed = stage in ("thawing", "issued", "infusing", "infused", "window_missed", "overridden")
    assert (product.expirationDate is not None) is thawed
    assert ("thaw" in properties) is thawed

    procedure = resources.get("Procedure")
    if procedure_status is None:
        assert procedure is None
        return
    assert isinstance(procedure, Procedure)
    assert procedure.status == procedure_status
    assert procedure.subject.reference == urls["Patient"]
    assert procedure.used[0].reference.reference == urls["BiologicallyDerivedProduct"]
    assert procedure.performer[0].actor.display == "Nora Ward"
    assert procedure.occurrencePeriod.start is not None
    assert (procedure.occurrencePeriod.end is not None) is (procedure_status == "completed")
    assert bool(procedure.note) is (stage == "overridden")
    if procedure.note:
        assert "override" in procedure.note[0].text


def _assert_narrative(resource: Any) -> None:
    """Every resource reads for a person without our software (DomainResource.text)."""
    assert resource.text is not None, resource.get_resource_type()
    assert resource.text.status == "generated"
    assert resource.text.div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "<p>" in resource.text.div


def _order_brand(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, product: str
) -> Callable[..., int]:
    """Like the `order` fixture, for another product of the catalogue."""

    def make(
        patient_ref: str = "PSN-0001", expected_din: str | None = None, approve: bool = True
    ) -> int:
        dose_id = orders.order_dose(
            uow,
            actor=staff.physician.actor,
            request=orders.OrderRequest(
                patient_ref=patient_ref,
                display_name="Jonas Beispiel",
                birth_date=date(1970, 7, 1),
                product=product,
                appointment_at=clock.now() + timedelta(hours=26),
                ward="Haematology ward 3",
                transport_minutes=0,
                expected_din=expected_din,
            ),
        )
        if approve:
            orders.approve_order(
                uow, actor=staff.pharmacist.actor, dose_id=dose_id, password=PASSWORD
            )
        return dose_id

    return make


def test_the_product_code_display_never_carries_another_brand_across_exports(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    # Kymriah and Yescarta bags here share the ISBT 128 PDC S1295. The PDC coding used to be
    # displayed with each dose's brand name, so one code carried two brands across exports.
    kymriah = walk(uow, clock, staff, order, cryostore, "stored", manufactured(1), "PSN-0001")
    yescarta = walk(
        uow,
        clock,
        staff,
        _order_brand(uow, clock, staff, "axicabtagene-ciloleucel"),
        "LOC:CRYO1.R1.B1.S2",
        "stored",
        manufactured(2),
        "PSN-0002",
    )
    described = FhirContext(product_descriptions={"S1295": "CAR-T cells, cryopreserved"})
    for context, pdc_display in ((FhirContext(), None), (described, "CAR-T cells, cryopreserved")):
        for dose_id, brand, other in (
            (kymriah, "Kymriah", "Yescarta"),
            (yescarta, "Yescarta", "Kymriah"),
        ):
            with uow.db.read_session() as session:
                exported = export_dose(queries.dose_record(session, dose_id), context)
            product = _resources(exported)[0]["BiologicallyDerivedProduct"]
            pdc, catalogue = product.productCode.coding
            assert (pdc.code, pdc.display) == ("S1295", pdc_display)
            assert catalogue.display == brand
            assert other not in json.dumps(exported)


def test_an_order_without_an_announced_din_exports_a_product_without_identifier(
    uow: UnitOfWork, order: Callable[..., int]
) -> None:
    dose_id = order()
    resources, _ = _resources(_export(uow, dose_id))
    product = resources["BiologicallyDerivedProduct"]
    assert product.identifier is None and product.biologicalSourceEvent is None
    assert product.productCode.coding[0].code == "tisagenlecleucel"


def test_the_export_is_the_same_each_time_for_the_same_dose(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, "infused")
    assert _export(uow, dose_id) == _export(uow, dose_id)


def test_the_patient_identifier_system_is_the_centers_when_configured(
    uow: UnitOfWork, clock: FixedClock, staff: Staff, order: Callable[..., int], cryostore: str
) -> None:
    dose_id = walk(uow, clock, staff, order, cryostore, "approved")
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    system = "urn:oid:1.2.40.0.34.99.1"
    exported = export_dose(record, FhirContext(patient_system=system))
    patient = exported["entry"][0]["resource"]
    assert patient["identifier"] == [{"system": system, "value": "PSN-0001"}]
    assert "timestamp" not in exported
