"""Refused requests on record: one audit record per user (or address), kind and minute."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, select
from tests.conftest import Persona

from atmpchain.accounts.domain import ANONYMOUS_BUCKETS_PER_MINUTE, RefusalKind, Role
from atmpchain.accounts.refusals import Refusal, recent_refusals, record_refusal
from atmpchain.audit.actions import AuditAction
from atmpchain.audit.models import AuditRecord
from atmpchain.audit.service import verify
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork


def _refused_records(db: Database) -> list[Row[Any]]:
    with db.read_session() as session:
        return list(
            session.execute(
                select(
                    AuditRecord.seq,
                    AuditRecord.actor_id,
                    AuditRecord.actor_username,
                    AuditRecord.record_type,
                    AuditRecord.after_json,
                )
                .where(AuditRecord.action == AuditAction.ACCESS_REFUSED.value)
                .order_by(AuditRecord.seq)
            )
        )


def _nurse_refusal(nurse: Persona) -> Refusal:
    return Refusal(
        kind=RefusalKind.PERMISSION,
        actor=nurse.actor,
        client="192.0.2.10",
        target="POST /api/custody/storage-units",
        rule="nurse may not do this: it needs the permission 'custody.manage_storage'",
    )


def test_a_flood_of_refusals_writes_one_audit_record_and_a_visible_count(
    uow: UnitOfWork, db: Database, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    results = [record_refusal(uow, _nurse_refusal(nurse)) for _ in range(12)]
    records = _refused_records(db)
    # The first, and the tenth: the size of the flood reaches the hash chain too.
    assert [json.loads(r.after_json)["count"] for r in records] == [1, 10]
    assert [results[0].audit_seq, results[9].audit_seq] == [records[0].seq, records[1].seq]
    assert all(r.audit_seq is None for i, r in enumerate(results) if i not in (0, 9))
    assert records[0].actor_username == "nurse" and records[0].actor_id == nurse.user_id
    assert records[0].record_type == "refused_request"
    with db.read_session() as session:
        (counter,) = recent_refusals(session)
    assert counter.count == 12 and counter.who == "nurse" and counter.kind is RefusalKind.PERMISSION
    assert counter.audit_seq == records[0].seq
    assert verify(db).ok


def test_a_new_minute_starts_a_new_count_with_its_own_audit_record(
    uow: UnitOfWork, db: Database, clock: FixedClock, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    record_refusal(uow, _nurse_refusal(nurse))
    clock.advance(timedelta(minutes=1))
    second = record_refusal(uow, _nurse_refusal(nurse))
    assert second.count == 1 and second.audit_seq is not None
    assert len(_refused_records(db)) == 2


def test_each_kind_of_refusal_is_counted_on_its_own(
    uow: UnitOfWork, db: Database, make_persona: Callable[..., Persona]
) -> None:
    nurse = make_persona(Role.NURSE, username="nurse")
    record_refusal(uow, _nurse_refusal(nurse))
    csrf = Refusal(RefusalKind.CSRF, nurse.actor, "192.0.2.10", "POST /custody/scan", "no token")
    assert record_refusal(uow, csrf).count == 1
    assert len(_refused_records(db)) == 2


def test_refusals_without_an_actor_count_against_the_client_address(
    uow: UnitOfWork, db: Database
) -> None:
    forged = Refusal(RefusalKind.API_TOKEN, None, "198.51.100.7", "GET /api/me", "unknown token")
    record_refusal(uow, forged)
    record_refusal(uow, forged)
    (record,) = _refused_records(db)
    assert record.actor_id is None and record.actor_username == "anonymous (198.51.100.7)"
    with db.read_session() as session:
        (counter,) = recent_refusals(session)
    assert counter.client == "198.51.100.7" and counter.count == 2


def test_rotating_client_addresses_cannot_bloat_the_trail(uow: UnitOfWork, db: Database) -> None:
    for n in range(ANONYMOUS_BUCKETS_PER_MINUTE + 25):
        address = f"2001:db8::{n:x}"
        record_refusal(uow, Refusal(RefusalKind.API_TOKEN, None, address, "GET /api/me", "forged"))
    # One record per address up to the cap; then all further addresses share one counter,
    # audited at its 1st and 10th refusal.
    assert len(_refused_records(db)) == ANONYMOUS_BUCKETS_PER_MINUTE + 2
    with db.read_session() as session:
        shared = [r for r in recent_refusals(session, limit=1000) if r.client == "*"]
    assert [r.count for r in shared] == [25]


def test_control_characters_in_what_was_tried_are_not_recorded_as_such(
    uow: UnitOfWork, db: Database
) -> None:
    odd = Refusal(RefusalKind.CSRF, None, "192.0.2.1", "POST /x\x00\x1b[31m", "no token")
    record_refusal(uow, odd)
    with db.read_session() as session:
        (counter,) = recent_refusals(session)
    assert counter.first_target == "POST /x??[31m"
    assert verify(db).ok
