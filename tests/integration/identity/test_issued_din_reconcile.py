"""`audit reconcile` compares the issued DINs with the audit trail (issue 9 re-test, item 7).

An issued DIN changed or removed outside the application (its purpose, who issued it, its
sequence) went unnoticed: the reconcile walk covered the cold chain only.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.coldchain.reconcile import reconcile
from atmpchain.db import Database
from atmpchain.identity import service
from atmpchain.uow import UnitOfWork


@pytest.fixture
def operator(make_persona: Callable[..., Persona]) -> Persona:
    return make_persona(Role.OPERATOR, username="otto")


def _drop_triggers(db: Database) -> None:
    """What someone with DDL rights can do: the append-only triggers are gone."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER issued_din_no_update"))
            conn.execute(text("DROP TRIGGER issued_din_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER issued_din_no_update_delete ON issued_din"))


def _findings(db: Database) -> list[str]:
    report = reconcile(db)
    return [str(f) for f in report.findings if f.table == "issued_din"]


def test_issued_dins_match_their_audit_records(
    uow: UnitOfWork, db: Database, operator: Persona
) -> None:
    service.issue_din(uow, actor=operator.actor, purpose="  replacement DIN for dose D000003 ")
    service.issue_din(uow, actor=operator.actor)
    report = reconcile(db)
    assert report.checked["issued_din"] == 2
    assert _findings(db) == []


def test_a_din_row_changed_outside_the_application_is_named(
    uow: UnitOfWork, db: Database, operator: Persona
) -> None:
    din = service.issue_din(uow, actor=operator.actor, purpose="replacement DIN").encode()
    other = service.issue_din(uow, actor=operator.actor).encode()
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE issued_din SET purpose = 'apheresis', sequence = 999 WHERE din = :din"),
            {"din": din},
        )
        conn.execute(text("DELETE FROM issued_din WHERE din = :din"), {"din": other})
    found = _findings(db)
    assert any(f.startswith(f"issued_din {din}: purpose is") for f in found), found
    assert any(f.startswith(f"issued_din {din}: sequence is 999") for f in found), found
    assert any(f.startswith(f"issued_din {other}: is missing") for f in found), found


def test_a_din_with_no_audit_record_is_named(
    uow: UnitOfWork, db: Database, operator: Persona
) -> None:
    din = service.issue_din(uow, actor=operator.actor).encode()
    forged = din[:7] + "000777"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO issued_din (din, fin, year, sequence, issued_at, issued_by_id, "
                "purpose) SELECT :forged, fin, year, 777, issued_at, issued_by_id, purpose "
                "FROM issued_din WHERE din = :din"
            ),
            {"forged": forged, "din": din},
        )
    assert f"issued_din {forged}: has no audit record" in _findings(db)


def test_the_audit_record_holds_every_column_of_the_issued_din(
    uow: UnitOfWork, db: Database, operator: Persona
) -> None:
    din = service.issue_din(uow, actor=operator.actor, purpose=" apheresis ")
    with db.engine.connect() as conn:
        after = conn.execute(
            text("SELECT after_json FROM audit_record WHERE action = 'identity:din:issued'")
        ).scalar_one()
    values = json.loads(after)
    assert values["sequence"] == int(din.sequence) and values["fin"] == din.fin
    assert values["purpose"] == "apheresis" and values["issued_by_id"] == operator.actor.user_id
