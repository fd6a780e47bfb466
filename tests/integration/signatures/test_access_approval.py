"""QA signs users' access: a real electronic signature, refused on a wrong password, four-eyes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.access.queries import access_signatures
from atmpchain.access.service import approve_access
from atmpchain.accounts import sessions, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.accounts.queries import get_user
from atmpchain.accounts.sessions import AuthenticationFailed, SignerNotAuthenticated
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import InvalidInput
from atmpchain.signatures.domain import Meaning, SegregationOfDutiesError
from atmpchain.uow import UnitOfWork

WRONG = "Not-My-Password-00"


def _status(db: Database, clock: FixedClock, user_id: int) -> str:
    with db.read_session() as session:
        return get_user(session, user_id, clock.now()).access_status


def _seq(trail: Trail) -> int:
    head = trail.head()
    return 0 if head is None else head.seq


def _refuse(uow: UnitOfWork, qa: Persona, user_id: int) -> None:
    with pytest.raises(SignerNotAuthenticated):
        approve_access(uow, actor=qa.actor, user_id=user_id, password=WRONG)


@pytest.fixture
def newcomer(uow: UnitOfWork, admin: Persona) -> int:
    """A user the administrator just created: their role waits for QA's approval."""
    return users.create_user(
        uow,
        actor=admin.actor,
        username="nico",
        full_name="Nico Newcomer",
        roles=[Role.OPERATOR],
        password="Initial-Pass-2026",
    )


def test_qa_approval_is_a_signature_shown_with_printed_name_time_and_meaning(
    db: Database, uow: UnitOfWork, clock: FixedClock, qa: Persona, newcomer: int
) -> None:
    clock.advance(timedelta(minutes=3))
    signature_id = approve_access(
        uow, actor=qa.actor, user_id=newcomer, password=qa.password, comment=" trained "
    )
    with db.read_session() as session:
        (signature,) = access_signatures(session, newcomer)
        summary = get_user(session, newcomer, clock.now())
    assert signature.signature_id == signature_id
    assert signature.signer_id == qa.user_id
    assert signature.signer_name == "Quinn Reviewer"
    assert signature.meaning is Meaning.APPROVED
    assert signature.manifestation == "Quinn Reviewer (approved)"
    assert signature.signed_at == clock.now()
    assert signature.comment == "trained"
    assert signature.valid
    assert summary.access_status == "approved"
    assert summary.roles == (Role.OPERATOR,)


def test_an_approval_is_audited_as_a_signature_and_an_access_approval(
    uow: UnitOfWork, qa: Persona, newcomer: int, trail: Trail
) -> None:
    start = _seq(trail)
    signature_id = approve_access(uow, actor=qa.actor, user_id=newcomer, password=qa.password)
    (applied,) = trail.records("signatures:signature:applied", after_seq=start)
    (approved,) = trail.records("accounts:user:access-approved", after_seq=start)
    assert applied.actor_id == approved.actor_id == qa.user_id
    assert trail.after(applied)["signature_id"] == signature_id
    assert trail.after(applied)["meaning"] == "approved"
    assert trail.after(applied)["signer_name"] == "Quinn Reviewer"
    assert trail.after(approved)["signature_id"] == signature_id
    assert trail.after(approved)["roles_approved"] == ["operator"]
    assert approved.seq == applied.seq + 1, "both are written in the one transaction"
    assert qa.password not in str(applied.after)


def test_a_wrong_password_signs_nothing_but_the_refusal_is_on_record(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    qa: Persona,
    newcomer: int,
    trail: Trail,
) -> None:
    signatures_before = trail.rows("electronic_signature")
    start = _seq(trail)
    _refuse(uow, qa, newcomer)
    assert trail.rows("electronic_signature") == signatures_before
    assert trail.records("signatures:signature:applied", after_seq=start) == []
    assert trail.records("accounts:user:access-approved", after_seq=start) == []
    (refused,) = trail.records("signatures:signature:refused")
    assert refused.actor_id == qa.user_id
    assert refused.record_type == "user_access"
    assert refused.record_id == str(newcomer)
    assert trail.after(refused) == {"reason": "wrong password", "signer_id": qa.user_id}
    assert _status(db, clock, newcomer) == "not approved"
    failures = trail.column("SELECT failed_logins FROM user_account WHERE id = :id", id=qa.user_id)
    assert failures == 1


def test_wrong_signing_passwords_count_toward_the_lock_out(
    uow: UnitOfWork, settings: Settings, qa: Persona, operator: Persona, trail: Trail
) -> None:
    for _ in range(settings.lockout_threshold - 1):
        _refuse(uow, qa, operator.user_id)
    with pytest.raises(AuthenticationFailed):
        sessions.login(uow, username="qa", password=WRONG)
    (locked,) = trail.records("accounts:user:locked-out")
    assert locked.actor_id == qa.user_id
    with pytest.raises(AuthenticationFailed):
        sessions.login(uow, username="qa", password=qa.password)


def test_a_locked_out_signer_cannot_sign_even_with_the_right_password(
    uow: UnitOfWork, settings: Settings, qa: Persona, operator: Persona, trail: Trail
) -> None:
    for _ in range(settings.lockout_threshold):
        _refuse(uow, qa, operator.user_id)
    signatures_before = trail.rows("electronic_signature")
    with pytest.raises(SignerNotAuthenticated):
        approve_access(uow, actor=qa.actor, user_id=operator.user_id, password=qa.password)
    assert trail.rows("electronic_signature") == signatures_before


def test_a_correct_signature_starts_the_failure_count_again(
    uow: UnitOfWork, settings: Settings, qa: Persona, operator: Persona, trail: Trail
) -> None:
    for _ in range(settings.lockout_threshold - 1):
        _refuse(uow, qa, operator.user_id)
    approve_access(uow, actor=qa.actor, user_id=operator.user_id, password=qa.password)
    assert trail.column("SELECT failed_logins FROM user_account WHERE id = :id", id=qa.user_id) == 0


def test_changing_the_users_roles_afterwards_needs_a_new_approval(
    db: Database,
    uow: UnitOfWork,
    clock: FixedClock,
    admin: Persona,
    qa: Persona,
    newcomer: int,
) -> None:
    approve_access(uow, actor=qa.actor, user_id=newcomer, password=qa.password)
    assert _status(db, clock, newcomer) == "approved"
    users.change_roles(
        uow,
        actor=admin.actor,
        user_id=newcomer,
        roles=[Role.OPERATOR, Role.QC_ANALYST],
        reason="cross-trained",
    )
    assert _status(db, clock, newcomer) == "needs re-approval"
    with db.read_session() as session:
        (old,) = access_signatures(session, newcomer)
        waiting = get_user(session, newcomer, clock.now())
    assert not old.valid
    assert (waiting.roles, waiting.pending_roles) == ((Role.OPERATOR,), (Role.QC_ANALYST,))
    approve_access(uow, actor=qa.actor, user_id=newcomer, password=qa.password)
    assert _status(db, clock, newcomer) == "approved"
    with db.read_session() as session:
        first, second = access_signatures(session, newcomer)
    assert (first.valid, second.valid) == (False, True), "history is kept, not rewritten"


def test_a_signature_keeps_the_printed_name_the_signer_had_when_signing(
    db: Database, uow: UnitOfWork, admin: Persona, qa: Persona, newcomer: int
) -> None:
    approve_access(uow, actor=qa.actor, user_id=newcomer, password=qa.password)
    users.update_details(
        uow,
        actor=admin.actor,
        user_id=qa.user_id,
        full_name="Quinn Married-Name",
        email=None,
        time_zone=None,
        reason="name change on marriage",
    )
    with db.read_session() as session:
        (signature,) = access_signatures(session, newcomer)
    assert signature.signer_name == "Quinn Reviewer"
    assert signature.valid, "the signer's new name does not change what was signed"


def test_a_user_cannot_approve_their_own_access(uow: UnitOfWork, qa: Persona, trail: Trail) -> None:
    before = trail.state()
    with pytest.raises(SegregationOfDutiesError, match="no self-approval") as err:
        approve_access(uow, actor=qa.actor, user_id=qa.user_id, password=qa.password)
    assert err.value.status == 403
    assert trail.state() == before


def test_the_admin_who_granted_roles_cannot_approve_them_even_holding_qa(
    uow: UnitOfWork, make_persona: Callable[..., Persona], qa: Persona, trail: Trail
) -> None:
    admin_qa = make_persona(Role.ADMIN, Role.QA, username="dual", full_name="Dana Dual")
    new_id = users.create_user(
        uow,
        actor=admin_qa.actor,
        username="nina",
        full_name="Nina Nurse",
        roles=[Role.NURSE],
        password="Initial-Pass-2026",
    )
    before = trail.state()
    with pytest.raises(SegregationOfDutiesError, match="four-eyes access control"):
        approve_access(uow, actor=admin_qa.actor, user_id=new_id, password=admin_qa.password)
    assert trail.state() == before
    approve_access(uow, actor=qa.actor, user_id=new_id, password=qa.password)


def test_the_admin_who_changed_roles_cannot_approve_the_change(
    uow: UnitOfWork, make_persona: Callable[..., Persona], operator: Persona, trail: Trail
) -> None:
    admin_qa = make_persona(Role.ADMIN, Role.QA, username="dual", full_name="Dana Dual")
    approve_access(uow, actor=admin_qa.actor, user_id=operator.user_id, password=admin_qa.password)
    users.change_roles(
        uow,
        actor=admin_qa.actor,
        user_id=operator.user_id,
        roles=[Role.OPERATOR, Role.PROCESS_SCIENTIST],
        reason="promotion",
    )
    with pytest.raises(SegregationOfDutiesError, match="four-eyes"):
        approve_access(
            uow, actor=admin_qa.actor, user_id=operator.user_id, password=admin_qa.password
        )


def test_the_admin_who_reactivated_a_user_cannot_approve_the_access(
    uow: UnitOfWork, make_persona: Callable[..., Persona], operator: Persona
) -> None:
    admin_qa = make_persona(Role.ADMIN, Role.QA, username="dual", full_name="Dana Dual")
    users.deactivate_user(uow, actor=admin_qa.actor, user_id=operator.user_id, reason="leave")
    users.reactivate_user(uow, actor=admin_qa.actor, user_id=operator.user_id, reason="back")
    with pytest.raises(SegregationOfDutiesError):
        approve_access(
            uow, actor=admin_qa.actor, user_id=operator.user_id, password=admin_qa.password
        )


def test_a_deactivated_users_access_cannot_be_approved(
    uow: UnitOfWork, admin: Persona, qa: Persona, operator: Persona, trail: Trail
) -> None:
    users.deactivate_user(uow, actor=admin.actor, user_id=operator.user_id, reason="left")
    before = trail.state()
    with pytest.raises(InvalidInput, match="deactivated") as err:
        approve_access(uow, actor=qa.actor, user_id=operator.user_id, password=qa.password)
    assert err.value.field == "user_id"
    assert trail.state() == before


def test_the_system_actor_cannot_sign(uow: UnitOfWork, operator: Persona) -> None:
    # Signatures belong to people (21 CFR 11.100): even given QA's role, the system cannot sign.
    system_qa = replace(SYSTEM_ACTOR, roles=frozenset({Role.QA}))
    with pytest.raises(SignerNotAuthenticated):
        approve_access(uow, actor=system_qa, user_id=operator.user_id, password="")
