"""Approving a user's access with an electronic signature (Annex 11 §12, four-eyes)."""

from __future__ import annotations

from atmpchain.access.common import ACCESS_RECORD, access_content
from atmpchain.accounts.common import get_user_for_update, user_snapshot
from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput
from atmpchain.signatures.domain import (
    GRANTER_IS_NOT_APPROVER,
    SUBJECT_IS_NOT_APPROVER,
    Meaning,
)
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork


def approve_access(
    uow: UnitOfWork, *, actor: Actor, user_id: int, password: str, comment: str | None = None
) -> int:
    """QA signs that a user's roles are right for their job; the roles waiting for approval come
    into force with the signature. Returns the signature id.

    Nobody approves their own access, nor access they granted or changed (each waiting role
    remembers who granted it). The actor's own QA role must itself be in force: `actor.roles`
    holds only approved roles.
    """
    actor.require(Permission.APPROVE_USER_ACCESS)
    with uow:
        user = get_user_for_update(uow, user_id)
        if not user.is_active:
            raise InvalidInput(
                f"user '{user.username}' is deactivated; there is no access to approve", "user_id"
            )
        waiting = [r for r in user.roles if r.approved_at is None]
        granters = frozenset(
            g
            for g in (user.access_changed_by_id, *(r.granted_by_id for r in waiting))
            if g is not None
        )
        SUBJECT_IS_NOT_APPROVER.check(first_by=user.id, second_by=actor.user_id)
        GRANTER_IS_NOT_APPROVER.check(first_by=granters, second_by=actor.user_id)
        content = access_content(user)
        signature = apply_signature(
            uow,
            actor=actor,
            password=password,
            record_type=ACCESS_RECORD,
            record_id=user.id,
            content=content,
            meaning=Meaning.APPROVED,
            comment=comment,
        )
        now = uow.clock.now()
        for role in waiting:
            role.approved_at = now
            role.approved_by_id = actor.user_id
        uow.session.flush()
        uow.audit.record(
            AuditAction.USER_ACCESS_APPROVED,
            actor=actor,
            record_type="user",
            record_id=user.id,
            after={
                **user_snapshot(user),
                "signature_id": signature.id,
                "roles_approved": sorted(r.role.value for r in waiting),
            },
        )
        uow.commit()
        return signature.id
