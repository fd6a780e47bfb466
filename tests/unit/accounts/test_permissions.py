"""Who may do what: the ROLE_PERMISSIONS table that the services and the users page both read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.accounts.domain import (
    MACHINE_ROLES,
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    permissions_of,
)
from atmpchain.errors import PermissionDenied

PEOPLE = [r for r in Role if r not in MACHINE_ROLES]


def actor(*roles: Role) -> Actor:
    return Actor(user_id=1, username="someone", full_name="Some One", roles=frozenset(roles))


def test_every_permission_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Permission)


def test_every_role_has_a_label_people_read() -> None:
    assert set(ROLE_LABELS) == set(Role)
    assert all(role.label.strip() for role in Role)


def test_a_device_never_signs_nor_views_the_dashboard() -> None:
    device = actor(Role.DEVICE)
    assert not device.can(Permission.SIGN_RECORDS)
    assert not device.can(Permission.VIEW_DASHBOARD)
    assert Role.DEVICE not in ROLE_PERMISSIONS[Permission.SIGN_RECORDS]


def test_a_device_may_only_send_readings() -> None:
    # A sensor or logger posts temperatures and nothing else: no signing, no pages, no records.
    assert permissions_of(frozenset({Role.DEVICE})) == frozenset({Permission.RECORD_READINGS})


def test_a_sponsor_guest_cannot_sign() -> None:
    assert not actor(Role.SPONSOR_GUEST).can(Permission.SIGN_RECORDS)


@pytest.mark.parametrize("role", [r for r in PEOPLE if r is not Role.SPONSOR_GUEST])
def test_every_person_except_the_sponsor_guest_can_sign(role: Role) -> None:
    assert actor(role).can(Permission.SIGN_RECORDS)


@pytest.mark.parametrize("role", PEOPLE)
def test_every_person_can_view_the_dashboard(role: Role) -> None:
    assert actor(role).can(Permission.VIEW_DASHBOARD)


def test_only_an_admin_manages_users_and_api_tokens() -> None:
    assert ROLE_PERMISSIONS[Permission.MANAGE_USERS] == {Role.ADMIN}
    assert ROLE_PERMISSIONS[Permission.MANAGE_API_TOKENS] == {Role.ADMIN}


def test_only_qa_approves_access() -> None:
    assert ROLE_PERMISSIONS[Permission.APPROVE_USER_ACCESS] == {Role.QA}


def test_no_single_role_both_grants_and_approves_access() -> None:
    # Annex 11 §12.1 four-eyes: whoever sets up access is not whoever approves it.
    granters = ROLE_PERMISSIONS[Permission.MANAGE_USERS]
    approvers = ROLE_PERMISSIONS[Permission.APPROVE_USER_ACCESS]
    assert not granters & approvers


def test_an_admin_reads_but_does_not_export_the_audit_trail() -> None:
    admin = actor(Role.ADMIN)
    assert admin.can(Permission.READ_AUDIT_TRAIL)
    assert not admin.can(Permission.EXPORT_AUDIT_TRAIL)


def test_an_actor_with_no_roles_may_do_nothing() -> None:
    nobody = actor()
    assert not any(nobody.can(p) for p in Permission)


@given(st.frozensets(st.sampled_from(list(Role))))
def test_roles_grant_the_union_of_their_permissions(roles: frozenset[Role]) -> None:
    expected = {p for p in Permission if any(r in ROLE_PERMISSIONS[p] for r in roles)}
    assert permissions_of(roles) == expected
    assert {p for p in Permission if actor(*roles).can(p)} == expected


def test_refusal_names_the_user_and_the_missing_permission() -> None:
    with pytest.raises(PermissionDenied) as err:
        actor(Role.OPERATOR).require(Permission.MANAGE_USERS)
    assert err.value.status == 403
    assert "someone" in err.value.message
    assert "users.manage" in err.value.message


def test_require_lets_a_holder_through() -> None:
    actor(Role.QA).require(Permission.APPROVE_USER_ACCESS)
