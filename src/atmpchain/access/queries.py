"""Users with their access approval (the latest signature, valid or not), and the history of
a user's access signatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.access.common import ACCESS_RECORD, access_content
from atmpchain.accounts import queries as account_queries
from atmpchain.accounts.models import User
from atmpchain.errors import NotFound
from atmpchain.signatures.domain import Meaning, SignatureView
from atmpchain.signatures.service import latest_signatures, signatures_for


@dataclass(frozen=True, slots=True)
class UserAccess:
    """A user as listed, with QA's latest signature on their access."""

    user: account_queries.UserSummary
    approval: SignatureView | None


def _with_approvals(session: Session, users: list[User], now: datetime) -> list[UserAccess]:
    approvals = latest_signatures(
        session,
        ACCESS_RECORD,
        {str(u.id): access_content(u) for u in users},
        Meaning.APPROVED,
    )
    return [UserAccess(account_queries.summary_of(u, now), approvals.get(str(u.id))) for u in users]


def list_user_access(session: Session, now: datetime) -> list[UserAccess]:
    """All users with their access approval, active first, by username."""
    stmt = select(User).order_by(User.is_active.desc(), User.username)
    return _with_approvals(session, list(session.execute(stmt).scalars()), now)


def get_user_access(session: Session, user_id: int, now: datetime) -> UserAccess:
    """One user, with their latest access approval."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return _with_approvals(session, [user], now)[0]


def access_signatures(session: Session, user_id: int) -> list[SignatureView]:
    """Every access signature for a user, each marked valid or not."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return signatures_for(session, ACCESS_RECORD, user.id, access_content(user))
