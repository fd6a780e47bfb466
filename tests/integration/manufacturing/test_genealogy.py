"""Genealogy and recall (issue 11, item 7): forward from a lot or a device to the patients,
backward from a patient to the lots, from the tables the eBR writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from tests.integration.manufacturing.conftest import (
    DEVICE,
    Site,
    Supplies,
    TrialPatient,
    clear,
    receive_lot,
    run_step,
    start,
)

from atmpchain.manufacturing import genealogy, mbr
from atmpchain.uow import UnitOfWork


def test_a_reagent_lot_recall_lists_exactly_the_exposed_patients(
    uow: UnitOfWork,
    site: Site,
    approved_mbr: mbr.MbrRef,
    supplies: Supplies,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    other_lot = receive_lot(uow, site, "TACT")
    made = {}
    for ref, lot in (("PSN-A", None), ("PSN-B", None), ("PSN-C", other_lot)):
        who = make_patient(ref)
        number = start(uow, site, who)
        clear(uow, site, number)
        used = (
            supplies
            if lot is None
            else dataclasses.replace(supplies, lots=supplies.lots | {"TACT": lot})
        )
        for step in ("S01", "S02", "S03"):
            run_step(uow, site, used, number, step)
        made[ref] = number
    recalled = supplies.lots["TACT"]
    with uow.db.read_session() as session:
        lines = genealogy.trace_lot(session, recalled)
        assert genealogy.exposed_patients(lines) == ["PSN-A", "PSN-B"]
        assert sorted({line.batch_number for line in lines}) == [made["PSN-A"], made["PSN-B"]]
        device = genealogy.trace_equipment(session, DEVICE)
        assert genealogy.exposed_patients(device) == ["PSN-A", "PSN-B", "PSN-C"]
        assert genealogy.trace_lot(session, "ML999999") == []
        backward = genealogy.lots_for_patient(session, "PSN-C")
    assert {line.lot_code for line in backward} == {
        other_lot,
        supplies.lots["MEDIUM"],
    }
    assert {line.batch_number for line in backward} == {made["PSN-C"]}
