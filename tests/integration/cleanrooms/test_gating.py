"""Issue 13 items 6 and 7 acceptance: a batch step is signed only in a room or grade A
workstation of its grade, in operation, cleaned since another product, with one patient's product
open per workstation, and by an operator whose gowning is in force for grade A/B rooms. On SQLite
and PostgreSQL (the `uow` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from tests.integration.manufacturing import conftest as manufacturing
from tests.integration.manufacturing.conftest import (
    PASSWORD,
    Site,
    Supplies,
    TrialPatient,
    fill_step,
)

from atmpchain.cleanrooms import gowning, queries, service, sessions, status
from atmpchain.cleanrooms.errors import LocationNotFound, LocationNotUsable
from atmpchain.clock import FixedClock
from atmpchain.manufacturing import batches, mbr, mbr_format, steps
from atmpchain.manufacturing.errors import BatchNotFound
from atmpchain.uow import UnitOfWork

site = manufacturing.site
supplies = manufacturing.supplies
make_patient = manufacturing.make_patient

#: The CAR-T MBR with its receipt step done as an open manipulation in grade A.
OPEN_CODE = "CART-OPEN"


@pytest.fixture
def open_mbr(uow: UnitOfWork, clock: FixedClock, site: Site) -> str:
    data = mbr_format.to_mapping(mbr_format.cart_example())
    data["code"] = OPEN_CODE
    data["steps"][0]["room_grade"] = "A"
    ref = mbr.draft_mbr(
        uow, actor=site.scientist.actor, definition=mbr_format.from_mapping(data), reason="open"
    )
    mbr.approve_mbr(
        uow,
        actor=site.qa.actor,
        code=ref.code,
        version=ref.version,
        effective_from=clock.now().date(),
        password=PASSWORD,
    )
    return ref.code


def _gown(uow: UnitOfWork, site: Site, first: date, *, grade: str = "B", count: int = 3) -> None:
    for n in range(count):
        gowning.record_gowning(
            uow,
            actor=site.qa.actor,
            username=site.operator.actor.username,
            grade=grade,
            performed_on=first + timedelta(days=n),
            passed=True,
            glove_cfu=0,
            gown_cfu=0,
        )


def _ready(uow: UnitOfWork, site: Site, supplies: Supplies, who: TrialPatient) -> str:
    """A batch of the open MBR, line cleared, its grade A step filled."""
    number = batches.start_batch(
        uow,
        actor=site.operator.actor,
        request=batches.StartRequest(
            mbr_code=OPEN_CODE,
            patient_coi=who.coi,
            starting_material_scan=who.apheresis_scan,
            trial_code="CART-19-001",
        ),
    )
    manufacturing.clear(uow, site, number)
    fill_step(uow, site, supplies, number, "S01")
    return number


def _sign(uow: UnitOfWork, site: Site, number: str, location: str) -> None:
    steps.sign_performed(
        uow,
        actor=site.operator.actor,
        batch_number=number,
        step_ref="S01",
        password=PASSWORD,
        location=location,
    )


def _performed(uow: UnitOfWork, number: str) -> bool:
    with uow.db.read_session() as s:
        return bool(queries.sessions_for_batch(s, number))


def test_a_lapsed_gowning_qualification_refuses_sign_off_with_the_date_it_lapsed(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    today = clock.now().date()
    first = today - timedelta(days=400)
    _gown(uow, site, first)
    number = _ready(uow, site, supplies, make_patient("PSN-0101"))
    lapsed = first + timedelta(days=2) + timedelta(days=366)
    with pytest.raises(LocationNotUsable) as refused:
        _sign(uow, site, number, "RM:BSC-1")
    assert refused.value.field == "gowning"
    assert f"lapsed on {lapsed.isoformat()}" in refused.value.message
    assert not _performed(uow, number)
    # Requalified: three consecutive passed sessions again, then the step signs.
    _gown(uow, site, today - timedelta(days=2))
    _sign(uow, site, number, "RM:BSC-1")
    with uow.db.read_session() as s:
        found = queries.sessions_for_batch(s, number)
    assert [(x.room_code, x.workstation_code, x.grade, x.closed_at) for x in found] == [
        ("CR-B1", "BSC-1", "A", None)
    ]


def test_an_operator_never_gowning_qualified_is_refused_in_grade_b(
    uow: UnitOfWork,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    number = _ready(uow, site, supplies, make_patient("PSN-0102"))
    with pytest.raises(LocationNotUsable, match="not qualified in gowning for grade B"):
        _sign(uow, site, number, "BSC-1")


def test_a_room_closed_for_investigation_refuses_sign_off(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    _gown(uow, site, clock.now().date() - timedelta(days=3))
    number = _ready(uow, site, supplies, make_patient("PSN-0103"))
    status.change_state(
        uow,
        actor=site.qa.actor,
        room="CR-B1",
        state="closed-for-investigation",
        reason="settle plate growth at BSC-1",
    )
    with pytest.raises(LocationNotUsable, match="closed for investigation"):
        _sign(uow, site, number, "BSC-1")
    assert not _performed(uow, number)
    # Out of the investigation only through cleaning; then back into operation.
    status.change_state(
        uow, actor=site.qa.actor, room="CR-B1", state="cleaning", reason="root cause fixed"
    )
    with pytest.raises(LocationNotUsable, match="cleaning, not in operation"):
        _sign(uow, site, number, "BSC-1")
    status.record_cleaning(
        uow,
        actor=site.operator.actor,
        location="CR-B1",
        agent="Sporicide",
        agent_lot="L1",
        contact_minutes=10,
    )
    status.change_state(
        uow, actor=site.operator.actor, room="CR-B1", state="in-operation", reason="cleaned"
    )
    _sign(uow, site, number, "BSC-1")
    assert _performed(uow, number)


def test_two_patients_products_cannot_be_open_in_one_workstation(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    _gown(uow, site, clock.now().date() - timedelta(days=3))
    first = _ready(uow, site, supplies, make_patient("PSN-0104"))
    second = _ready(uow, site, supplies, make_patient("PSN-0105"))
    _sign(uow, site, first, "BSC-1")
    with pytest.raises(LocationNotUsable, match=f"another patient's product open .batch {first}"):
        _sign(uow, site, second, "BSC-1")
    # The first product taken out: still refused until the cabinet is cleaned.
    clock.advance(timedelta(minutes=30))
    sessions.close_session(uow, actor=site.operator.actor, location="BSC-1")
    with pytest.raises(LocationNotUsable, match="not cleaned since the previous product"):
        _sign(uow, site, second, "BSC-1")
    clock.advance(timedelta(minutes=20))
    status.record_cleaning(
        uow,
        actor=site.operator.actor,
        location="BSC-1",
        agent="Ethanol 70 %",
        agent_lot="E-9",
        contact_minutes=2,
        line_clearance="cabinet empty: no bag, tube or label of the previous patient",
    )
    clock.advance(timedelta(minutes=10))
    _sign(uow, site, second, "BSC-1")
    with uow.db.read_session() as s:
        both = queries.sessions_in(
            s, "CR-B1", clock.now() - timedelta(hours=2), clock.now() + timedelta(hours=1)
        )
    assert [x.batch_numbers for x in both] == [(first,), (second,)]
    assert both[0].closed_at is not None and both[1].closed_at is None


def test_a_step_is_signed_only_where_the_grade_is_met(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    _gown(uow, site, clock.now().date() - timedelta(days=3))
    number = _ready(uow, site, supplies, make_patient("PSN-0106"))
    with pytest.raises(LocationNotUsable, match="CR-C1 is grade C; the step requires grade A"):
        _sign(uow, site, number, "CR-C1")
    with pytest.raises(LocationNotUsable, match="CR-B1 is grade B; the step requires grade A"):
        _sign(uow, site, number, "CR-B1")
    with pytest.raises(LocationNotFound):
        _sign(uow, site, number, "RM:NOWHERE")
    with pytest.raises(BatchNotFound):
        _sign(uow, site, "B26-99999", "BSC-1")
    _sign(uow, site, number, "CR-B1/BSC-1")
    assert _performed(uow, number)


def test_requalification_due_refuses_sign_off(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    make_patient: Callable[[str], TrialPatient],
    approved_mbr: mbr.MbrRef,
) -> None:
    who = make_patient("PSN-0107")
    number = manufacturing.start(uow, site, who)
    manufacturing.clear(uow, site, number)
    fill_step(uow, site, supplies, number, "S01")
    clock.advance(timedelta(days=367))
    with pytest.raises(LocationNotUsable, match="CR-D1: requalification due since"):
        steps.sign_performed(
            uow,
            actor=site.operator.actor,
            batch_number=number,
            step_ref="S01",
            password=PASSWORD,
            location="CR-D1",
        )


approved_mbr = manufacturing.approved_mbr


def test_a_cabinet_whose_calibration_is_overdue_refuses_sign_off(
    uow: UnitOfWork,
    clock: FixedClock,
    site: Site,
    supplies: Supplies,
    open_mbr: str,
    make_patient: Callable[[str], TrialPatient],
) -> None:
    manufacturing.register_device(uow, site, "BSC-CAB-2", "biosafety-cabinet", calibrated=False)
    service.create_workstation(
        uow,
        actor=site.qa.actor,
        room="CR-B1",
        code="BSC-2",
        name="Cabinet 2",
        equipment_code="EQ:BSC-CAB-2",
    )
    _gown(uow, site, clock.now().date() - timedelta(days=3))
    number = _ready(uow, site, supplies, make_patient("PSN-0108"))
    with pytest.raises(LocationNotUsable, match=r"workstation CR-B1/BSC-2: .*calibration overdue"):
        _sign(uow, site, number, "BSC-2")
