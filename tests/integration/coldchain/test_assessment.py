"""QA's signed impact assessment after an excursion, and custody refusing a blocked product."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.coldchain.conftest import PRODUCT, Fridge, reading
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain import queries
from atmpchain.coldchain.assessment import EXCURSION, assess_impact, issue_block
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.impact import Impact
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.models import ExcursionProduct
from atmpchain.custody import control
from atmpchain.custody import service as custody
from atmpchain.custody.control_rules import ActiveHold, HoldKind
from atmpchain.custody.models import ProductUnit
from atmpchain.db import Database
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.identity import service as identity_service
from atmpchain.uow import UnitOfWork

MINUTE = timedelta(minutes=1)
PASSWORD = "Sterile-Field-2026!"


@dataclass(frozen=True)
class Exposed:
    """An ended excursion in FRIDGE1 with two product units inside, and one unit outside."""

    excursion_id: int
    first: int  # the fridge fixture's unit, in S1
    first_scan: str
    second: int  # a second unit, in S2
    second_scan: str
    outside: int  # received after the excursion, never in the fridge
    outside_scan: str
    qa: Persona
    handler: Actor


def _unit_id(db: Database, din: str) -> int:
    with db.read_session() as session:
        return session.execute(select(ProductUnit.id).where(ProductUnit.din == din)).scalar_one()


@pytest.fixture
def exposed(
    uow: UnitOfWork,
    db: Database,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
) -> Exposed:
    handler = make_persona(Role.OPERATOR, username="hanna", full_name="Hanna Handler")
    din = identity_service.issue_din(uow, actor=handler.actor).encode()
    second_scan = "=" + din + "00"
    custody.receive(
        uow,
        actor=handler.actor,
        unit_scan=second_scan,
        product_code=PRODUCT,
        from_party="Courier",
    )
    custody.put_away(
        uow, actor=handler.actor, unit_scan=second_scan, location_scan="LOC:FRIDGE1.S2"
    )
    start = clock.now() + MINUTE
    clock.advance(timedelta(hours=1))
    temps = ["5", "9", "10", "11.5", "10", "6"]
    batch = [reading("F1-T", start + i * 4 * MINUTE, t) for i, t in enumerate(temps)]
    store_readings(uow, actor=device_actor, source=ReadingSource.MQTT, readings=batch)
    with db.read_session() as session:
        (excursion,) = queries.excursions(session)
    assert excursion.end is not None and len(excursion.products) == 2
    out_din = identity_service.issue_din(uow, actor=handler.actor).encode()
    outside_scan = "=" + out_din + "00"
    custody.receive(
        uow, actor=handler.actor, unit_scan=outside_scan, product_code=PRODUCT, from_party="Courier"
    )
    return Exposed(
        excursion.id,
        _unit_id(db, fridge.product_din),
        "=" + fridge.product_din + "00",
        _unit_id(db, din),
        second_scan,
        _unit_id(db, out_din),
        outside_scan,
        make_persona(Role.QA, username="qa-signer", full_name="Quentin Assessor"),
        handler.actor,
    )


def _assess(
    uow: UnitOfWork, x: Exposed, unit: int, impact: Impact, password: str = PASSWORD
) -> int:
    return assess_impact(
        uow,
        actor=x.qa.actor,
        excursion_id=x.excursion_id,
        product_unit_id=unit,
        impact=impact,
        rationale="peak 11.5 °C for 16 min; stability data cover 24 h at 25 °C",
        password=password,
    )


def _block(db: Database, unit: int) -> str | None:
    with db.read_session() as session:
        return issue_block(session, unit)


def test_an_assessment_is_signed_and_audited(
    uow: UnitOfWork, db: Database, exposed: Exposed, trail: Trail, clock: FixedClock
) -> None:
    _assess(uow, exposed, exposed.first, Impact.QUARANTINE)
    (signed,) = trail.records("signatures:signature:applied")[-1:]
    (record,) = trail.records("coldchain:impact:assessed")
    after = trail.after(record)
    assert after["impact"] == "quarantine" and after["signature_id"] is not None
    assert record.before is None
    assert record.record_id == f"{exposed.excursion_id}:{exposed.first}"
    assert signed.record_type == "impact_assessment"
    # A revision is a new signed row; the audit record shows what it replaced.
    clock.advance(timedelta(hours=2))
    _assess(uow, exposed, exposed.first, Impact.NO_IMPACT)
    revised = trail.records("coldchain:impact:assessed")[-1]
    assert revised.before is not None and revised.before["impact"] == "quarantine"
    assert trail.after(revised)["impact"] == "no_impact"
    assert _block(db, exposed.first) is None


def test_a_wrong_password_is_refused_and_audited(
    uow: UnitOfWork, exposed: Exposed, trail: Trail
) -> None:
    before = trail.head()
    with pytest.raises(Exception) as refused:
        _assess(uow, exposed, exposed.first, Impact.NO_IMPACT, password="wrong-password-1")
    assert "password" in str(refused.value).lower()
    assert trail.records("coldchain:impact:assessed") == []
    assert trail.head() != before  # the refused signature is on record
    (refusal,) = trail.records("signatures:signature:refused")
    assert refusal.record_type == "impact_assessment"


def test_only_qa_may_assess(
    uow: UnitOfWork, exposed: Exposed, trail: Trail, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="oscar")
    before = trail.state()
    with pytest.raises(PermissionDenied):
        assess_impact(
            uow,
            actor=operator.actor,
            excursion_id=exposed.excursion_id,
            product_unit_id=exposed.first,
            impact=Impact.NO_IMPACT,
            rationale="fine",
            password=operator.password,
        )
    assert trail.state() == before


def test_a_product_that_was_not_inside_cannot_be_assessed(
    uow: UnitOfWork, exposed: Exposed, trail: Trail
) -> None:
    before = trail.state()
    with pytest.raises(InvalidInput) as refused:
        _assess(uow, exposed, exposed.outside, Impact.NO_IMPACT)
    assert refused.value.field == "product_unit_id"
    assert trail.state() == before


def test_a_rationale_is_required(uow: UnitOfWork, exposed: Exposed) -> None:
    with pytest.raises(InvalidInput) as refused:
        assess_impact(
            uow,
            actor=exposed.qa.actor,
            excursion_id=exposed.excursion_id,
            product_unit_id=exposed.first,
            impact=Impact.NO_IMPACT,
            rationale="  ",
            password=PASSWORD,
        )
    assert refused.value.field == "rationale"


def test_a_quarantined_product_is_not_handed_on_while_a_no_impact_one_moves(
    uow: UnitOfWork, db: Database, exposed: Exposed, trail: Trail
) -> None:
    _assess(uow, exposed, exposed.first, Impact.QUARANTINE)
    _assess(uow, exposed, exposed.second, Impact.NO_IMPACT)
    for scan, slot in ((exposed.first_scan, "S1"), (exposed.second_scan, "S2")):
        custody.retrieve(
            uow, actor=exposed.handler, unit_scan=scan, location_scan=f"LOC:FRIDGE1.{slot}"
        )
    before = trail.state()
    with pytest.raises(Conflict) as refused:
        custody.transfer(
            uow, actor=exposed.handler, unit_scan=exposed.first_scan, to_party="Ward 4"
        )
    assert refused.value.field == "unit_scan"
    assert f"quarantined after excursion #{exposed.excursion_id} on Pharmacy fridge 1" in (
        refused.value.message
    )
    assert "waiting for QA's release" in refused.value.message
    assert trail.state() == before
    moved = custody.transfer(
        uow, actor=exposed.handler, unit_scan=exposed.second_scan, to_party="Ward 4"
    )
    assert "Ward 4" in moved.place
    # A unit that was never in an excursion moves as before.
    custody.transfer(uow, actor=exposed.handler, unit_scan=exposed.outside_scan, to_party="Ward 4")


def test_a_product_without_assessment_is_blocked_as_pending_qa(
    uow: UnitOfWork, db: Database, exposed: Exposed
) -> None:
    reason = _block(db, exposed.first)
    assert reason is not None and "pending QA assessment" in reason
    assert f"#{exposed.excursion_id}" in reason
    assert _block(db, exposed.outside) is None
    custody.retrieve(
        uow, actor=exposed.handler, unit_scan=exposed.first_scan, location_scan="LOC:FRIDGE1"
    )
    with pytest.raises(
        Conflict, match=f"waiting for QA impact assessment of excursion #{exposed.excursion_id}"
    ):
        custody.transfer(uow, actor=exposed.handler, unit_scan=exposed.first_scan, to_party="Ward")
    with db.read_session() as session:
        pairs = session.execute(select(ExcursionProduct.product_unit_id)).scalars().all()
    assert exposed.outside not in pairs


@pytest.mark.parametrize(
    "statement",
    ["UPDATE impact_assessment SET impact = 'no_impact'", "DELETE FROM impact_assessment"],
)
def test_a_signed_assessment_cannot_be_changed_or_removed_in_the_database(
    uow: UnitOfWork, db: Database, exposed: Exposed, statement: str
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _assess(uow, exposed, exposed.first, Impact.QUARANTINE)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert _block(db, exposed.first) is not None


def _coldchain_holds(db: Database, unit: int) -> list[ActiveHold]:
    with db.read_session() as session:
        return [h for h in control.active_holds(session, unit) if h.source == EXCURSION]


def test_an_exposed_product_is_held_in_custody_exactly_while_issue_is_blocked(
    uow: UnitOfWork, db: Database, exposed: Exposed, clock: FixedClock
) -> None:
    reference = f"#{exposed.excursion_id} on Pharmacy fridge 1 (FRIDGE1)"
    (pending,) = _coldchain_holds(db, exposed.first)
    assert pending.kind is HoldKind.PENDING_ASSESSMENT
    assert pending.waits_for == f"QA impact assessment of excursion {reference}"
    assert pending.page == f"/coldchain/excursions#excursion-{exposed.excursion_id}"
    assert _coldchain_holds(db, exposed.outside) == []
    for impact, kind in (
        (Impact.QUARANTINE, HoldKind.QUARANTINE),
        (Impact.REJECT, HoldKind.REJECTED),
        (Impact.NO_IMPACT, None),
    ):
        clock.advance(timedelta(minutes=10))
        _assess(uow, exposed, exposed.first, impact)
        holds = _coldchain_holds(db, exposed.first)
        assert [h.kind for h in holds] == ([kind] if kind else [])
        for unit in (exposed.first, exposed.second, exposed.outside):
            assert (_block(db, unit) is None) == (_coldchain_holds(db, unit) == []), unit


def test_on_a_tie_the_stricter_decision_holds_in_custody_as_in_the_issue_rule(
    uow: UnitOfWork, db: Database, exposed: Exposed
) -> None:
    _assess(uow, exposed, exposed.first, Impact.QUARANTINE)
    _assess(uow, exposed, exposed.first, Impact.NO_IMPACT)  # signed at the same instant
    assert _block(db, exposed.first) is not None
    assert [h.kind for h in _coldchain_holds(db, exposed.first)] == [HoldKind.QUARANTINE]
