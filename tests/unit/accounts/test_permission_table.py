"""The permission table is data (permissions.toml): read, checked, and what it grants."""

from __future__ import annotations

import pytest

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role, permissions_of
from atmpchain.accounts.permission_table import (
    PermissionTableError,
    parse_permission_table,
    read_permission_table,
)


def _table(**overrides: str) -> str:
    """The shipped table as TOML, with some permissions' entries replaced."""
    shipped = read_permission_table()
    lines = []
    for permission in Permission:
        roles = overrides.get(
            permission.name,
            ", ".join(f'"{r.value}"' for r in sorted(shipped.roles[permission], key=str)),
        )
        lines += [f'[permissions."{permission.value}"]', f"roles = [{roles}]", 'why = "x"', ""]
    return "\n".join(lines)


def test_the_shipped_table_is_the_one_the_services_enforce() -> None:
    assert read_permission_table().roles == ROLE_PERMISSIONS
    assert set(ROLE_PERMISSIONS) == set(Permission)
    assert all(read_permission_table().why[p] for p in Permission)


def test_a_pharmacy_technician_does_the_hands_on_steps_but_no_decision() -> None:
    technician = permissions_of(frozenset({Role.PHARMACY_TECHNICIAN}))
    assert {
        Permission.HANDLE_DOSE,
        Permission.VIEW_DOSES,
        Permission.MOVE_PRODUCT,
        Permission.CHECK_IDENTITY,
        Permission.RECORD_READINGS,
        Permission.SIGN_RECORDS,
    } <= technician
    for decision in (
        Permission.PREPARE_DOSE,
        Permission.APPROVE_DOSE_ORDER,
        Permission.DECIDE_RECEIPT,
        Permission.ASSESS_IMPACT,
        Permission.APPROVE_CATALOGUE_CHANGE,
        Permission.ADMINISTER_DOSE,
        Permission.APPROVE_USER_ACCESS,
    ):
        assert decision not in technician, decision


def test_a_cell_therapy_lab_operator_handles_product_but_no_hospital_dose() -> None:
    lab = permissions_of(frozenset({Role.CELL_THERAPY_OPERATOR}))
    assert {Permission.ISSUE_IDENTIFIERS, Permission.MOVE_PRODUCT, Permission.PRINT_LABELS} <= lab
    assert not lab & {Permission.HANDLE_DOSE, Permission.ASSESS_IMPACT, Permission.VIEW_DOSES}


def test_people_stands_for_every_person_and_a_minus_removes_one() -> None:
    table = parse_permission_table(_table(SIGN_RECORDS='"people", "-sponsor_guest"'))
    assert Role.DEVICE not in table.roles[Permission.SIGN_RECORDS]
    assert Role.SPONSOR_GUEST not in table.roles[Permission.SIGN_RECORDS]
    assert Role.PHARMACY_TECHNICIAN in table.roles[Permission.SIGN_RECORDS]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (_table(MANAGE_USERS='"janitor"'), "unknown role 'janitor'"),
        (_table(ASSESS_IMPACT='"device"'), "a machine role only records readings"),
        (_table() + '\n[permissions."coffee.make"]\nroles = []\nwhy = "x"\n', "coffee.make"),
        (_table().split('[permissions."facility.manage"]')[0], "facility.manage"),
        (_table() + "\n[owners]\n", "unknown section"),
        ("roles = [", "not valid TOML"),
    ],
    ids=["unknown-role", "machine-role", "unknown-permission", "missing", "section", "toml"],
)
def test_a_bad_table_is_refused_naming_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(PermissionTableError, match=says):
        parse_permission_table(text)


def test_no_role_holds_both_sides_of_a_separated_pair() -> None:
    text = _table(DECIDE_RECEIPT='"qa", "pharmacy_technician"') + (
        '\n[[separate]]\npermissions = ["hospital.handle_dose", "hospital.decide_receipt"]\n'
        'why = "who handles does not release"\n'
    )
    with pytest.raises(PermissionTableError, match=r"segregation of duties.*pharmacy_technician"):
        parse_permission_table(text)
    assert read_permission_table().separate, "the shipped table separates duties"
