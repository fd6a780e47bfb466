"""Open custody holds on a dose's bag show on every output of the dose (issue 9 re-test, #2).

The FHIR export said "available", and the PDF, `dose show` and the dose's JSON said nothing,
while a hold placed by the cold chain (an excursion pending QA's assessment) stood on the bag.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import Persona
from tests.integration.hospital._exposure import excursion_in_tank
from tests.integration.hospital.conftest import Staff, dose_row, manufactured, receive_and_store
from tests.integration.hospital.test_dose_record_pdf import _flat, _text

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.hospital import queries
from atmpchain.hospital.dose_record_pdf import dose_record_pdf
from atmpchain.hospital.fhir import FhirContext, export_dose
from atmpchain.uow import UnitOfWork


def _exposed(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> queries.DoseRecord:
    bag = manufactured(1)
    dose_id = order(expected_din=bag.manual)
    receive_and_store(uow, staff, dose_id, bag.scan, cryostore)
    unit_id = dose_row(uow, dose_id).product_unit_id
    assert unit_id is not None
    device = make_persona(Role.DEVICE, username="tank-probe")
    excursion_in_tank(uow, clock, staff.qa.actor, device.actor, unit_id)
    with uow.db.read_session() as session:
        return queries.dose_record(session, dose_id)


def _product(exported: dict[str, Any]) -> dict[str, Any]:
    (product,) = (
        e["resource"]
        for e in exported["entry"]
        if e["resource"]["resourceType"] == "BiologicallyDerivedProduct"
    )
    return product


def test_fhir_says_unavailable_and_names_the_hold_while_one_is_open(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> None:
    record = _exposed(uow, clock, staff, order, cryostore, make_persona)
    assert record.line.hold is None and record.line.status.value == "stored"
    (hold,) = record.line.holds
    exported = export_dose(
        record, FhirContext.from_settings(uow.settings), exported_at=uow.clock.now()
    )
    product = _product(json.loads(json.dumps(exported, default=str)))
    assert product["productStatus"]["code"] == "unavailable"
    (stated,) = (
        p["valueString"]
        for p in product["property"]
        if p["type"]["coding"][0]["code"] == "custody-hold"
    )
    assert "PENDING IMPACT ASSESSMENT" in stated and hold.waits_for in stated
    assert "placed by the system" in stated and f"{hold.since:%Y-%m-%d %H:%M} UTC" in stated
    assert "PENDING IMPACT ASSESSMENT" in product["text"]["div"]


def test_the_printed_record_shows_each_open_hold_what_it_waits_for_since_when_and_who(
    uow: UnitOfWork,
    clock: FixedClock,
    staff: Staff,
    order: Callable[..., int],
    cryostore: str,
    make_persona: Callable[..., Persona],
) -> None:
    record = _exposed(uow, clock, staff, order, cryostore, make_persona)
    (hold,) = record.line.holds
    _, text = _text(dose_record_pdf(record, "Quinn Reviewer", clock.now(), "UTC"))
    flat = _flat(text)
    assert _flat(f"The bag is {hold.kind.label} since {hold.since:%Y-%m-%d %H:%M}") in flat
    assert _flat(f"It waits for {hold.waits_for}. Placed by the system.") in flat
