"""Materials on SQLite and PostgreSQL: lots are quarantined until QA's signed release, a batch
step can only take a released, unexpired lot of the right grade with enough left, and every
write is on the audit trail."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.materials import queries, service
from atmpchain.materials.domain import LotStatus
from atmpchain.materials.errors import LotNotUsable
from atmpchain.materials.usage import check_lot_usable, consume_in
from atmpchain.signatures.domain import SegregationOfDutiesError
from atmpchain.uow import UnitOfWork

TODAY = date(2026, 1, 5)


@pytest.fixture
def store(make_persona: Callable[..., Persona]) -> Persona:
    """Someone in goods-in who books lots into quarantine."""
    return make_persona(Role.OPERATOR, username="sam", full_name="Sam Store")


def _item(uow: UnitOfWork, qa: Persona, code: str = "IL2", grade: str = "gmp") -> str:
    return service.create_item(
        uow,
        actor=qa.actor,
        code=code,
        name="Interleukin-2",
        supplier="Miltenyi Biotec",
        grade=grade,
        storage_condition="2-8 °C",
        risk_factors=["mycoplasma-endotoxin", "sterility-claim"],
    )


def _lot(
    uow: UnitOfWork,
    store: Persona,
    item: str = "IL2",
    expires_on: date = TODAY + timedelta(days=200),
    quantity: str = "10",
) -> str:
    return service.receive_lot(
        uow,
        actor=store.actor,
        item_code=item,
        supplier_lot="S-7781",
        coa_reference="CoA 7781",
        expires_on=expires_on,
        quantity=quantity,
        unit="mL",
        location="FRIDGE-1",
    )


def _released(uow: UnitOfWork, qa: Persona, store: Persona, **kwargs: object) -> str:
    code = _lot(uow, store, **kwargs)  # type: ignore[arg-type]
    service.decide_lot(uow, actor=qa.actor, lot_code=code, release=True, password=qa.password)
    return code


def test_item_risk_class_follows_its_risk_factors(uow: UnitOfWork, qa: Persona) -> None:
    _item(uow, qa)
    service.create_item(
        uow,
        actor=qa.actor,
        code="LV-CD19",
        name="Lentiviral vector anti-CD19",
        supplier="Vector core",
        grade="gmp",
        storage_condition="below -60 °C",
        risk_factors=["replication-competent-virus"],
    )
    with uow.db.read_session() as session:
        classes = {i.code: i.risk_class.value for i in queries.items(session)}
    assert classes == {"IL2": "medium", "LV-CD19": "high"}


def test_received_lot_is_quarantined_and_cannot_be_used(
    uow: UnitOfWork, qa: Persona, store: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    code = _lot(uow, store)
    assert code == "ML000001"
    record = trail.records("materials:lot:received")[-1]
    assert trail.after(record)["status"] == "quarantined"
    with uow.db.read_session() as session, pytest.raises(LotNotUsable) as refused:
        check_lot_usable(session, lot_code=code, quantity=Decimal(1), unit="mL", on=TODAY)
    assert refused.value.field == "lot_code"
    assert "not released" in refused.value.message and "quarantined" in refused.value.message


def test_qa_release_is_signed_and_makes_the_lot_usable(
    uow: UnitOfWork, qa: Persona, store: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    code = _released(uow, qa, store)
    with uow.db.read_session() as session:
        lot = check_lot_usable(session, lot_code=code, quantity=Decimal(2), unit="ml", on=TODAY)
        detail = queries.lot_detail(session, code, on=TODAY)
    assert lot.item_code == "IL2" and lot.grade == "gmp" and lot.available == Decimal(10)
    assert detail is not None and detail.lot.status is LotStatus.RELEASED
    assert [s.meaning.value for s in detail.signatures] == ["released"]
    assert detail.signatures[0].valid
    assert trail.records("materials:lot:released")


def test_the_person_who_received_a_lot_cannot_release_it(
    uow: UnitOfWork, qa: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    code = _lot(uow, qa)
    before = trail.state()
    with pytest.raises(SegregationOfDutiesError):
        service.decide_lot(uow, actor=qa.actor, lot_code=code, release=True, password=qa.password)
    assert trail.state() == before


def test_rejection_needs_a_comment_and_leaves_the_lot_unusable(
    uow: UnitOfWork, qa: Persona, store: Persona
) -> None:
    _item(uow, qa)
    code = _lot(uow, store)
    with pytest.raises(InvalidInput) as missing:
        service.decide_lot(uow, actor=qa.actor, lot_code=code, release=False, password=qa.password)
    assert missing.value.field == "comment"
    service.decide_lot(
        uow,
        actor=qa.actor,
        lot_code=code,
        release=False,
        password=qa.password,
        comment="CoA endotoxin above the specification",
    )
    with pytest.raises(Conflict):
        service.decide_lot(uow, actor=qa.actor, lot_code=code, release=True, password=qa.password)
    with uow.db.read_session() as session, pytest.raises(LotNotUsable, match="rejected"):
        check_lot_usable(session, lot_code=code, quantity=Decimal(1), unit="mL", on=TODAY)


def test_an_operator_cannot_release_a_lot(
    uow: UnitOfWork, qa: Persona, store: Persona, operator: Persona
) -> None:
    _item(uow, qa)
    code = _lot(uow, store)
    with pytest.raises(PermissionDenied):
        service.decide_lot(
            uow, actor=operator.actor, lot_code=code, release=True, password=operator.password
        )


def test_expired_lot_is_refused_naming_its_expiry(
    uow: UnitOfWork, qa: Persona, store: Persona
) -> None:
    _item(uow, qa)
    code = _released(uow, qa, store, expires_on=TODAY + timedelta(days=3))
    later = TODAY + timedelta(days=4)
    with uow.db.read_session() as session:
        check_lot_usable(
            session, lot_code=code, quantity=Decimal(1), unit="mL", on=later - timedelta(days=1)
        )
        with pytest.raises(LotNotUsable, match=r"expired on 2026-01-08"):
            check_lot_usable(session, lot_code=code, quantity=Decimal(1), unit="mL", on=later)


def test_research_grade_is_refused_unless_the_step_allows_it(
    uow: UnitOfWork, qa: Persona, store: Persona
) -> None:
    _item(uow, qa, code="BEADS-R", grade="research")
    code = _released(uow, qa, store, item="BEADS-R")
    with uow.db.read_session() as session:
        with pytest.raises(LotNotUsable, match="grade research not allowed"):
            check_lot_usable(session, lot_code=code, quantity=Decimal(1), unit="mL", on=TODAY)
        allowed = check_lot_usable(
            session,
            lot_code=code,
            quantity=Decimal(1),
            unit="mL",
            on=TODAY,
            required_grades=frozenset({"research"}),
        )
    assert allowed.grade == "research"


def test_unknown_lot_and_short_stock_are_refused(
    uow: UnitOfWork, qa: Persona, store: Persona
) -> None:
    _item(uow, qa)
    code = _released(uow, qa, store, quantity="2.5")
    with uow.db.read_session() as session:
        with pytest.raises(LotNotUsable, match="unknown lot ML000099") as unknown:
            check_lot_usable(session, lot_code="ML000099", quantity=Decimal(1), unit="mL", on=TODAY)
        assert unknown.value.field == "lot_code"
        with pytest.raises(LotNotUsable, match=r"only 2.5 mL left") as short:
            check_lot_usable(session, lot_code=code, quantity=Decimal(3), unit="mL", on=TODAY)
        assert short.value.field == "quantity"


def test_consumption_takes_stock_in_the_callers_transaction(
    uow: UnitOfWork, qa: Persona, store: Persona, operator: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    code = _released(uow, qa, store)
    with uow:
        used = consume_in(
            uow,
            actor=operator.actor,
            lot_code=code,
            quantity=Decimal("4"),
            unit="mL",
            batch_number="B26-0001",
            step_ref="S03",
            on=TODAY,
        )
        uow.commit()
    assert used.quantity == Decimal(4) and used.batch_number == "B26-0001"
    # A step that fails after consuming rolls the consumption back with it.
    with uow:
        consume_in(
            uow,
            actor=operator.actor,
            lot_code=code,
            quantity=Decimal("1"),
            unit="mL",
            batch_number="B26-0002",
            step_ref="S03",
            on=TODAY,
        )
    with uow.db.read_session() as session:
        detail = queries.lot_detail(session, code, on=TODAY)
    assert detail is not None and detail.lot.available == Decimal(6)
    assert [(c.batch_number, c.quantity) for c in detail.consumptions] == [("B26-0001", Decimal(4))]
    assert trail.rows("material_consumption") == 1
    record = trail.records("materials:lot:consumed")[-1]
    assert trail.after(record)["available"] == "6"
    with uow, pytest.raises(LotNotUsable, match="only 6 mL left"):
        consume_in(
            uow,
            actor=operator.actor,
            lot_code=code,
            quantity=Decimal("7"),
            unit="mL",
            batch_number="B26-0003",
            step_ref="S03",
            on=TODAY,
        )


def test_expiry_alerts_list_expired_and_expiring_lots(
    uow: UnitOfWork, qa: Persona, store: Persona, clock: FixedClock
) -> None:
    _item(uow, qa)
    soon = _released(uow, qa, store, expires_on=TODAY + timedelta(days=10))
    _released(uow, qa, store, expires_on=TODAY + timedelta(days=100))
    gone = _lot(uow, store, expires_on=TODAY + timedelta(days=1))
    on = TODAY + timedelta(days=5)
    with uow.db.read_session() as session:
        alerts = queries.expiry_alerts(session, on=on, days=30)
    assert [(a.lot_code, a.expiry.value) for a in alerts] == [
        (gone, "expired"),
        (soon, "expiring"),
    ]


def test_stock_per_location_counts_released_and_quarantined(
    uow: UnitOfWork, qa: Persona, store: Persona
) -> None:
    _item(uow, qa)
    _released(uow, qa, store, quantity="10")
    moved = _released(uow, qa, store, quantity="5")
    _lot(uow, store, quantity="3")
    service.move_lot(
        uow, actor=store.actor, lot_code=moved, location="FRIDGE-2", reason="fridge 1 defrost"
    )
    with uow.db.read_session() as session:
        lines = {
            (s.location, s.item_code): (s.released, s.quarantined, s.lots)
            for s in queries.stock(session)
        }
    assert lines == {
        ("FRIDGE-1", "IL2"): (Decimal(10), Decimal(3), 2),
        ("FRIDGE-2", "IL2"): (Decimal(5), Decimal(0), 1),
    }


def test_a_lot_expired_on_arrival_is_refused_and_nothing_is_written(
    uow: UnitOfWork, qa: Persona, store: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    before = trail.state()
    with pytest.raises(InvalidInput) as refused:
        _lot(uow, store, expires_on=TODAY - timedelta(days=1))
    assert refused.value.field == "expires_on"
    assert trail.state() == before


def test_two_steps_cannot_both_take_the_last_stock(
    uow: UnitOfWork, qa: Persona, store: Persona, operator: Persona, trail: Trail
) -> None:
    _item(uow, qa)
    code = _released(uow, qa, store, quantity="10")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def step(batch: str) -> None:
        own = uow.new()
        barrier.wait()
        try:
            with own:
                consume_in(
                    own,
                    actor=operator.actor,
                    lot_code=code,
                    quantity=Decimal("6"),
                    unit="mL",
                    batch_number=batch,
                    step_ref="S03",
                    on=TODAY,
                )
                own.commit()
            outcomes.append("consumed")
        except LotNotUsable as refused:
            outcomes.append(refused.message)

    threads = [threading.Thread(target=step, args=(f"B26-000{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["consumed", f"lot {code}: only 4 mL left, 6 asked"]
    assert trail.rows("material_consumption") == 1


def test_traces_answer_which_batches_used_a_lot_and_what_went_into_a_batch(
    uow: UnitOfWork, qa: Persona, store: Persona, operator: Persona
) -> None:
    _item(uow, qa)
    first = _released(uow, qa, store)
    second = _released(uow, qa, store)
    with uow:
        for lot, batch, amount in ((first, "B1", 1), (second, "B1", 2), (first, "B2", 3)):
            consume_in(
                uow,
                actor=operator.actor,
                lot_code=lot,
                quantity=Decimal(amount),
                unit="mL",
                batch_number=batch,
                step_ref="S05",
                on=TODAY,
            )
        uow.commit()
    with uow.db.read_session() as session:
        forward = queries.uses_of_lot(session, first.lower())
        backward = queries.lots_in_batch(session, "B1")
        assert queries.lots_in_batch(session, "B9") == []
    assert [(u.batch_number, u.quantity) for u in forward] == [("B1", 1), ("B2", 3)]
    assert [(u.lot_code, u.item_code, u.supplier_lot) for u in backward] == [
        (first, "IL2", "S-7781"),
        (second, "IL2", "S-7781"),
    ]
