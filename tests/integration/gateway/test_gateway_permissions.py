"""Every role against every write of the gateway: each may do exactly what the permission table
grants (a refusal comes before any lookup, so it says nothing about what exists)."""

from __future__ import annotations

import pytest
from tests.gateway_data import inquiry_fields

from atmpchain.accounts.domain import ROLE_PERMISSIONS, Permission, Role
from atmpchain.errors import InvalidInput, NotFound, PermissionDenied
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway.domain import parse_inquiry
from atmpchain.moments import parse_day
from atmpchain.uow import UnitOfWork

PEOPLE = [r for r in Role if r is not Role.DEVICE]


@pytest.mark.parametrize("role", PEOPLE, ids=lambda r: r.value)
def test_each_role_may_write_exactly_what_the_table_grants(
    uow: UnitOfWork, make_persona, role: Role
) -> None:
    persona = make_persona(role, username=f"gp-{role.value.replace('_', '-')}")
    make_persona(Role.TRIAL_COORDINATOR, username="gp-tc")
    form = parse_inquiry(inquiry_fields(), ["storage"], parse_date=parse_day)
    reference = inquiries.submit_inquiry(
        uow, actor=inquiries.PUBLIC_ACTOR, form=form, attachments={}
    ).reference
    actor = persona.actor
    writes = {
        Permission.TRIAGE_INQUIRIES: [
            lambda: inquiries.assign_coordinator(
                uow, actor=actor, reference=reference, username="gp-tc"
            ),
            lambda: inquiries.move_inquiry(
                uow, actor=actor, reference=reference, to_state="triage", reason="r"
            ),
        ],
        Permission.MANAGE_TRIALS: [
            lambda: trials.create_trial(
                uow,
                actor=actor,
                reference=reference,
                eu_ct_number="2027-500001-00-00",
                code="P",
                products="p",
            )
        ],
    }
    for permission, calls in writes.items():
        allowed = role in ROLE_PERMISSIONS[permission]
        for call in calls:
            if allowed:
                try:
                    call()
                except InvalidInput as exc:  # allowed, refused only by a rule of the record
                    assert "only an accepted inquiry" in exc.message
            else:
                # A sponsor may move (withdraw) their own: on a stranger's they meet "not found".
                with pytest.raises((PermissionDenied, NotFound)) as refused:
                    call()
                if refused.type is NotFound:
                    assert role in ROLE_PERMISSIONS[Permission.FOLLOW_OWN_INQUIRIES]
    # Sponsors follow their own inquiries only: a stranger's is "not found", never refused by
    # name; everyone else without triage is refused before the lookup.
    if role in ROLE_PERMISSIONS[Permission.FOLLOW_OWN_INQUIRIES]:
        with pytest.raises(NotFound):
            inquiries.post_message(uow, actor=actor, reference=reference, text="hello")
    elif role not in ROLE_PERMISSIONS[Permission.TRIAGE_INQUIRIES]:
        with pytest.raises(PermissionDenied):
            inquiries.post_message(uow, actor=actor, reference=reference, text="hello")
