"""Who may grant, approve and remove access: a role waiting for QA grants nothing, nobody grants
themselves a role or deactivates themselves, the last administrator stays (Annex 11 §12)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.accounts.domain import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    RoleGrant,
    check_grant,
    check_not_last_admin,
    check_not_self_deactivation,
    roles_in_force,
    roles_pending,
)
from atmpchain.errors import Conflict, PermissionDenied

grants = st.lists(
    st.builds(RoleGrant, st.sampled_from(Role), st.none() | st.integers(1, 5), st.booleans()),
    max_size=8,
)
role_sets = st.frozensets(st.sampled_from(Role))


def test_a_role_waiting_for_qa_approval_grants_nothing() -> None:
    granted = [RoleGrant(Role.ADMIN, None, True), RoleGrant(Role.QA, 7, False)]
    actor = Actor(
        1, "ada", "Ada Admin", roles_in_force(granted), pending_roles=roles_pending(granted)
    )
    assert actor.roles == {Role.ADMIN}
    assert actor.pending_roles == {Role.QA}
    assert not actor.can(Permission.APPROVE_CATALOGUE_CHANGE)
    assert not actor.can(Permission.APPROVE_USER_ACCESS)
    with pytest.raises(PermissionDenied, match=r"hospital\.approve_catalogue_change"):
        actor.require(Permission.APPROVE_CATALOGUE_CHANGE)


@given(grants)
def test_every_granted_role_is_either_in_force_or_pending_never_both(
    granted: list[RoleGrant],
) -> None:
    in_force, pending = roles_in_force(granted), roles_pending(granted)
    assert in_force | pending == {g.role for g in granted}
    assert all(g.in_force for g in granted if g.role in in_force and g.role not in pending)
    assert not any(g.in_force for g in granted if g.role in pending and g.role not in in_force)


@given(grants)
def test_an_actor_can_only_what_its_roles_in_force_grant(granted: list[RoleGrant]) -> None:
    actor = Actor(1, "u", "U", roles_in_force(granted), pending_roles=roles_pending(granted))
    for permission, allowed in ROLE_PERMISSIONS.items():
        assert actor.can(permission) == bool(roles_in_force(granted) & allowed)


@pytest.mark.parametrize("role", [Role.QA, Role.QUALIFIED_PERSON, Role.PHARMACIST, Role.NURSE])
def test_refuses_an_administrator_granting_themselves_a_signing_role(role: Role) -> None:
    with pytest.raises(PermissionDenied, match="your own account") as err:
        check_grant(actor_id=3, user_id=3, granted=frozenset({role}))
    assert err.value.field == "roles"
    assert role.label in err.value.message


@given(role_sets, st.integers(1, 9), st.integers(1, 9))
def test_a_grant_is_refused_exactly_when_someone_grants_roles_to_themselves(
    granted: frozenset[Role], actor_id: int, user_id: int
) -> None:
    refused = actor_id == user_id and bool(granted)
    try:
        check_grant(actor_id=actor_id, user_id=user_id, granted=granted)
    except PermissionDenied:
        assert refused
    else:
        assert not refused


def test_the_installation_grants_without_being_a_person() -> None:
    check_grant(actor_id=None, user_id=1, granted=frozenset({Role.ADMIN}))


def test_refuses_an_administrator_deactivating_themselves() -> None:
    with pytest.raises(PermissionDenied, match="your own account") as err:
        check_not_self_deactivation(actor_id=4, user_id=4)
    assert err.value.field == "user_id"
    check_not_self_deactivation(actor_id=4, user_id=5)


def test_refuses_removing_the_last_administrator_in_force() -> None:
    with pytest.raises(Conflict, match="last active administrator") as err:
        check_not_last_admin(admins_in_force=[2], user_id=2, removing=True, field="roles")
    assert err.value.field == "roles"
    check_not_last_admin(admins_in_force=[2, 5], user_id=2, removing=True, field="roles")
    check_not_last_admin(admins_in_force=[2], user_id=7, removing=True, field="roles")
    check_not_last_admin(admins_in_force=[2], user_id=2, removing=False, field="roles")
