"""The audit chain on a real database: appends, verification, tamper drills, anchors."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.conftest import Persona

from atmpchain.accounts import users
from atmpchain.audit import service as audit
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import Anchor
from atmpchain.audit.errors import ReasonRequired
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def _make_changes(uow: UnitOfWork, admin: Persona, count: int) -> None:
    for i in range(count):
        users.update_details(
            uow,
            actor=admin.actor,
            user_id=admin.user_id,
            full_name=f"Ada Admin {i}",
            email=None,
            time_zone=None,
            reason=f"correction {i}",
        )


def test_every_change_appends_one_linked_record(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    before = audit.head(db)
    _make_changes(uow, admin, 3)
    after = audit.head(db)
    assert before is not None and after is not None
    assert after.seq == before.seq + 3
    report = audit.verify(db)
    assert report.ok, report.problem
    assert report.records_checked == after.seq


def test_change_without_reason_is_refused_and_nothing_is_written(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    before = audit.head(db)
    with pytest.raises(ReasonRequired) as err:
        users.update_details(
            uow,
            actor=admin.actor,
            user_id=admin.user_id,
            full_name="Changed Name",
            email=None,
            time_zone=None,
            reason="  ",
        )
    assert err.value.field == "reason"
    assert audit.head(db) == before
    with db.read_session() as session:
        name = session.execute(
            text("SELECT full_name FROM user_account WHERE id = :id"), {"id": admin.user_id}
        ).scalar()
    assert name == "Ada Admin"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_record SET reason = 'edited' WHERE seq = 2",
        "DELETE FROM audit_record WHERE seq = 2",
    ],
)
def test_database_refuses_update_and_delete_of_audit_records(
    db: Database, uow: UnitOfWork, admin: Persona, statement: str
) -> None:
    _make_changes(uow, admin, 2)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert audit.verify(db).ok


def _drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER audit_record_no_update"))
            conn.execute(text("DROP TRIGGER audit_record_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_record_no_update_delete ON audit_record"))


def test_tampered_value_behind_the_triggers_back_is_found_and_named(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    _make_changes(uow, admin, 4)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_record SET after_json = replace(after_json, 'Ada Admin 1', 'Eve') "
                "WHERE action = 'accounts:user:details-changed' AND reason = 'correction 1'"
            )
        )
        tampered = conn.execute(
            text("SELECT seq FROM audit_record WHERE reason = 'correction 1'")
        ).scalar_one()
    report = audit.verify(db)
    assert not report.ok
    assert report.first_bad_seq == tampered
    assert f"record {tampered}" in (report.problem or "")


def test_deleted_record_is_found(db: Database, uow: UnitOfWork, admin: Persona) -> None:
    _make_changes(uow, admin, 4)
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq = 3"))
    report = audit.verify(db)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "record 3 is missing" in (report.problem or "")


def test_inserted_record_is_found(db: Database, uow: UnitOfWork, admin: Persona) -> None:
    _make_changes(uow, admin, 2)
    head = audit.head(db)
    assert head is not None
    _drop_triggers(db)
    with db.engine.begin() as conn:
        # A forger appends a plausible record but cannot compute a hash that links.
        conn.execute(
            text(
                "INSERT INTO audit_record (seq, occurred_at, actor_id, actor_username, channel,"
                " action, record_type, record_id, reason, before_json, after_json, prev_hash, hash)"
                " VALUES (:seq, '2026-01-05 07:00:00', NULL, 'system', 'web',"
                " 'accounts:user:created', 'user', '99', NULL, NULL, '{}', :prev, :hash)"
            ),
            {"seq": head.seq + 1, "prev": head.hash, "hash": "f" * 64},
        )
    report = audit.verify(db)
    assert not report.ok
    assert report.first_bad_seq == head.seq + 1


def test_anchor_reveals_a_truncated_tail(db: Database, uow: UnitOfWork, admin: Persona) -> None:
    _make_changes(uow, admin, 3)
    anchor = audit.head(db)
    assert anchor is not None
    _drop_triggers(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq >= :seq"), {"seq": anchor.seq - 1})
    assert audit.verify(db).ok, "without the anchor a cut tail looks like a shorter chain"
    report = audit.verify(db, anchor=anchor)
    assert not report.ok
    assert report.first_bad_seq == anchor.seq - 1
    assert "removed from the end" in (report.problem or "")


def test_anchor_from_another_chain_is_refused(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    _make_changes(uow, admin, 1)
    head = audit.head(db)
    assert head is not None
    report = audit.verify(db, anchor=Anchor(head.seq, "a" * 64))
    assert not report.ok
    assert "rewritten" in (report.problem or "")


def test_rolled_back_work_leaves_no_audit_record(
    db: Database, uow: UnitOfWork, admin: Persona
) -> None:
    before = audit.head(db)
    with pytest.raises(RuntimeError), uow:
        uow.audit.record(
            AuditAction.USER_DETAILS_CHANGED,
            actor=admin.actor,
            record_type="user",
            record_id=admin.user_id,
            before={},
            after={},
            reason="will fail",
        )
        raise RuntimeError("the business change failed after the audit row was written")
    assert audit.head(db) == before


def test_unknown_database_content_types_are_refused_not_guessed(
    uow: UnitOfWork, admin: Persona
) -> None:
    with pytest.raises(TypeError), uow:
        uow.audit.record(
            AuditAction.USER_DETAILS_CHANGED,
            actor=admin.actor,
            record_type="user",
            record_id=admin.user_id,
            before={},
            after={"x": object()},
            reason="r",
        )
