"""Read models of users and tokens for pages, the API and the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, select
from sqlalchemy.orm import Session

from atmpchain.accounts.domain import Role, is_locked, roles_in_force, roles_pending
from atmpchain.accounts.models import ApiToken, User
from atmpchain.errors import NotFound


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user as listed on the users page."""

    id: int
    username: str
    full_name: str
    email: str | None
    #: The roles in force (approved by QA): the ones that grant permissions.
    roles: tuple[Role, ...]
    is_active: bool
    locked: bool
    must_change_password: bool
    time_zone: str | None
    created_at: datetime
    #: Roles granted but waiting for QA's approval: they grant nothing yet.
    pending_roles: tuple[Role, ...] = ()

    @property
    def access_status(self) -> str:
        """'approved' (every role in force), 'needs re-approval' (some roles wait for QA) or
        'not approved' (no role in force)."""
        if not self.pending_roles:
            return "approved" if self.roles else "not approved"
        return "needs re-approval" if self.roles else "not approved"


@dataclass(frozen=True, slots=True)
class TokenSummary:
    """An API token as listed for its owner (never the token itself)."""

    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def summary_of(user: User, now: datetime) -> UserSummary:
    """A user as listed (QA's signature on their access: atmpchain.access.queries)."""
    return UserSummary(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=_sorted(roles_in_force(user.grants)),
        pending_roles=_sorted(roles_pending(user.grants)),
        is_active=user.is_active,
        locked=is_locked(user.locked_until, now),
        must_change_password=user.must_change_password,
        time_zone=user.time_zone,
        created_at=user.created_at,
    )


def _sorted(roles: frozenset[Role]) -> tuple[Role, ...]:
    return tuple(sorted(roles, key=lambda r: r.value))


def list_users(
    session: Session, now: datetime, *, include_inactive: bool = True
) -> list[UserSummary]:
    """All users, active first, by username."""
    stmt = select(User).order_by(User.is_active.desc(), User.username)
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    return [summary_of(u, now) for u in session.execute(stmt).scalars()]


def get_user(session: Session, user_id: int, now: datetime) -> UserSummary:
    """One user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return summary_of(user, now)


def find_user_id(session: Session, username: str) -> int:
    """The id of the user with this username."""
    user_id = session.execute(
        select(User.id).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"there is no user '{username}'", field="username")
    return user_id


def list_tokens(session: Session, user_id: int | None = None) -> list[TokenSummary]:
    """API tokens, newest first."""
    stmt = (
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.created_at.desc())
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return [
        TokenSummary(
            id=t.id,
            username=name,
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )
        for t, name in session.execute(stmt)
    ]


def full_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """The printed names of these users, by id (for records that show who did what)."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def people(name: str) -> Subquery:
    """Every user's id and printed name, as a selectable named `name` to join in a read model's
    own statement: a list that shows who did what on many rows names them in one query instead
    of collecting ids first (issue 17). Columns: `id`, `full_name`."""
    return select(User.id, User.full_name).subquery(name)


def usernames(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """The usernames of these users, by id (for forms and commands that name people)."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}
