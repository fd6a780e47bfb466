"""Shared helpers for service tests: reading the audit trail and table contents back.

Tests assert on what a reviewer would see afterwards (the audit trail, the rows stored), not on
internal state, so these helpers read through their own short sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.conftest import Persona

from atmpchain.accounts.domain import Role
from atmpchain.audit import service as audit
from atmpchain.audit.domain import Anchor
from atmpchain.audit.queries import AuditEntry, AuditFilter, iter_entries
from atmpchain.db import Database
from atmpchain.hospital import catalogue
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.uow import UnitOfWork

#: Tables whose row counts show whether a refused call wrote anything.
WRITABLE_TABLES = (
    "user_account",
    "user_role",
    "login_throttle",
    "facility",
    "login_session",
    "api_token",
    "electronic_signature",
    "audit_record",
    "audit_checkpoint",
    "storage_site",
    "storage_room",
    "storage_unit",
    "storage_position",
    "product_unit",
    "custody_event",
    "current_custody",
    "custody_control",
    "custody_hold",
    "impact_assessment",
    "coldchain_alarm",
    "coldchain_alarm_acknowledgement",
    "telemetry_dead_letter",
    "catalogue_product",
    "catalogue_revision",
    "hospital_patient",
    "dose",
    "dose_event",
    "shipper_log",
    "dose_flag",  # hospital: flags for QA (ADR 0016)
    "chain_of_identity",
    "coi_donation",
    "refused_request",
    # materials and equipment (issue 11, ADR 0022)
    "material_item",
    "material_lot",
    "material_consumption",
    "equipment",
    "equipment_event",
    "equipment_use",
    # quality: deviations and CAPA (ADR 0023)
    "quality_sequence",
    "deviation",
    "deviation_batch",
    "deviation_unit",
    "capa",
    # manufacturing (issue 11, ADR 0024)
    "mbr_version",
    "batch_sequence",
    "batch",
    "batch_entry",
    "batch_unit",
    # translation (issue 14, ADR 0029)
    "translation_project",
    "translation_team_member",
    "translation_document",
    "process_definition",
    "unit_operation",
    "process_parameter",
    "process_material",
    "process_equipment",
    "translation_gap",
    "readiness_assessment",
    "readiness_score",
    "fmea",
    "fmea_item",
    "translation_transfer",
)


@dataclass(frozen=True)
class State:
    """What a refused call must leave untouched: the chain's head and every table's size."""

    head: Anchor | None
    rows: dict[str, int]


class Trail:
    """Read-side view of the test database for assertions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def head(self) -> Anchor | None:
        return audit.head(self.db)

    def records(self, action: str | None = None, *, after_seq: int = 0) -> list[AuditEntry]:
        """Audit records, oldest first, optionally of one action, newer than `after_seq`."""
        with self.db.read_session() as session:
            return [
                e for e in iter_entries(session, AuditFilter(action=action)) if e.seq > after_seq
            ]

    def after(self, entry: AuditEntry) -> dict[str, Any]:
        assert entry.after is not None
        return entry.after

    def rows(self, table: str) -> int:
        assert table in WRITABLE_TABLES
        with self.db.read_session() as session:
            return int(session.execute(select(func.count()).select_from(text(table))).scalar_one())

    def column(self, sql: str, **params: Any) -> Any:
        with self.db.read_session() as session:
            return session.execute(text(sql), params).scalar()

    def state(self) -> State:
        return State(self.head(), {t: self.rows(t) for t in WRITABLE_TABLES})


@pytest.fixture
def trail(db: Database) -> Trail:
    """Assertions' window on the audit trail and the tables."""
    return Trail(db)


@pytest.fixture
def operator(make_persona: Callable[..., Persona]) -> Persona:
    """A production operator: an ordinary user with no say over accounts."""
    return make_persona(Role.OPERATOR, username="olga", full_name="Olga Operator")


@pytest.fixture
def device(make_persona: Callable[..., Persona]) -> Persona:
    """A temperature logger's account: authenticates with API tokens only."""
    return make_persona(Role.DEVICE, username="freezer-logger-1")


def approve_starting_catalogue(uow: UnitOfWork, pharmacist: Persona, qa: Persona) -> None:
    """The starting catalogue, proposed by the pharmacy and put in force by QA."""
    for code in catalogue.load_catalogue(
        uow, actor=pharmacist.actor, text=starting_catalogue(), reason="starting catalogue"
    ):
        catalogue.decide_revision(
            uow, actor=qa.actor, code=code, revision=1, approve=True, password=qa.password
        )
