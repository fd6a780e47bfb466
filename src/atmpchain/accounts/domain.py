"""People, roles and permissions: the pure rules of who may do what (Annex 11 §12)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atmpchain.accounts.permission_table import load_permission_table
from atmpchain.accounts.roles import MACHINE_ROLES, ROLE_LABELS, Permission, Role
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied

# The roles, the permissions and the table of who may do what live in their own modules (the
# table is data, `permissions.toml`); they are named here too, where the rules that use them are.
__all__ = [
    "MACHINE_ROLES",
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "Permission",
    "Role",
]

#: Who may do what, read from `permissions.toml` and checked once at import.
ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = load_permission_table()


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    """Every permission that any of the roles grants."""
    return frozenset(p for p, allowed in ROLE_PERMISSIONS.items() if roles & allowed)


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever is acting: a logged-in person, a device with a token, or the system itself."""

    user_id: int | None
    username: str
    full_name: str
    #: The roles in force: granted and approved by QA. Only these grant permissions.
    roles: frozenset[Role] = field(default_factory=frozenset)
    time_zone: str = "UTC"
    #: Roles granted but still waiting for QA's approval: shown, never counted (Annex 11 §12.1).
    pending_roles: frozenset[Role] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        """Whether the actor's roles grant the permission."""
        return bool(self.roles & ROLE_PERMISSIONS[permission])

    def require(self, permission: Permission) -> None:
        """Refuse with PermissionDenied unless the actor holds the permission."""
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.username} may not do this: it needs the permission "
                f"'{permission.value}', which none of their roles grants"
            )


#: The installation itself, for records written before any person exists (the first admin).
SYSTEM_ACTOR = Actor(user_id=None, username="system", full_name="atmpchain system")

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive and stored in lower case."""
    value = username.strip().lower()
    if not _USERNAME.match(value):
        raise InvalidInput(
            f"username '{username}' must be 2 to 64 characters: a letter first, then letters, "
            "digits, '.', '_' or '-'",
            field="username",
        )
    return value


def check_password_policy(password: str, *, min_length: int, username: str) -> None:
    """Refuse a password that is short, or that contains the username."""
    if len(password) < min_length:
        raise InvalidInput(
            f"the password must have at least {min_length} characters", field="password"
        )
    if username and username.lower() in password.lower():
        raise InvalidInput("the password must not contain the username", field="password")
    if password.strip() != password:
        raise InvalidInput("the password must not start or end with a space", field="password")


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `threshold` failed logins in a row the account is locked for `duration`."""

    threshold: int
    duration: timedelta

    def after_failure(self, failures_before: int, now: datetime) -> tuple[int, datetime | None]:
        """The new failure count and, if the account now locks, until when."""
        failures = failures_before + 1
        if failures >= self.threshold:
            return failures, now + self.duration
        return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lock-out is still in force."""
    return locked_until is not None and locked_until > now


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """A login session ends after `idle` without a request, or `max_age` after login."""

    idle: timedelta
    max_age: timedelta

    def expiry_reason(
        self, *, created_at: datetime, last_seen_at: datetime, now: datetime
    ) -> str | None:
        """Why the session has ended, or None while it is still good."""
        if now - last_seen_at > self.idle:
            return "idle time-out"
        if now - created_at > self.max_age:
            return "maximum session length reached"
        return None


# --- who may grant, approve and remove access (Annex 11 §12, four eyes) -----------------------


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held by a user: who granted it, and whether QA has approved it yet.

    `granted_by` is None for a role granted by the installation itself; `in_force` is True once
    QA approved it (or the installation put it in force for the very first administrator and QA).
    """

    role: Role
    granted_by: int | None
    in_force: bool


def roles_in_force(grants: Iterable[RoleGrant]) -> frozenset[Role]:
    """The roles that grant permissions: a role waiting for QA approval grants nothing."""
    return frozenset(g.role for g in grants if g.in_force)


def roles_pending(grants: Iterable[RoleGrant]) -> frozenset[Role]:
    """The roles granted but not yet approved by QA."""
    return frozenset(g.role for g in grants if not g.in_force)


#: The roles the installation may put in force by itself, once each: someone must set up the
#: accounts, and someone must approve them. Every later role needs QA's approval.
INSTALLATION_ROLES = frozenset({Role.ADMIN, Role.QA})


def check_grant(*, actor_id: int | None, user_id: int, granted: frozenset[Role]) -> None:
    """Refuse when someone grants roles to their own account.

    An administrator who gave themselves QA (or a Qualified Person's role, or any role that signs
    GMP decisions) could approve what they should only set up; no role is granted to oneself, so
    another administrator grants it and QA approves it.
    """
    if actor_id is not None and actor_id == user_id and granted:
        names = ", ".join(sorted(r.label for r in granted))
        raise PermissionDenied(
            f"you may not grant roles to your own account ({names}): another administrator "
            "grants them, and QA approves them",
            field="roles",
        )


def check_not_self_deactivation(*, actor_id: int | None, user_id: int) -> None:
    """Refuse an administrator deactivating their own account (another administrator does it)."""
    if actor_id is not None and actor_id == user_id:
        raise PermissionDenied(
            "you may not deactivate your own account: another administrator must do it",
            field="user_id",
        )


def check_not_last_admin(
    *, admins_in_force: Iterable[int], user_id: int, removing: bool, field: str
) -> None:
    """Refuse removing the last active administrator in force (deactivation or losing the role):
    nobody would be left to manage accounts."""
    if removing and list(admins_in_force) == [user_id]:
        raise Conflict("this is the last active administrator; add another first", field)


LAST_QA_RULE = (
    "the last active QA person in force cannot be deactivated or lose the QA role: nobody "
    "would be left to approve access or release anything; add another QA person, have their "
    "access approved, then try again"
)


def check_not_last_qa(
    *, qa_in_force: Iterable[int], user_id: int, removing: bool, field: str
) -> None:
    """Refuse removing the last active QA person in force (deactivation or losing the role).

    QA approves every other person's access with a signature; with no QA left, no role could
    ever come into force again, and no product could be released.
    """
    if removing and list(qa_in_force) == [user_id]:
        raise Conflict(f"this is the last active QA person: {LAST_QA_RULE}", field)


# Refused requests (issue 9 item 11, ADR 0014). 21 CFR 11.300(d) wants attempts at unauthorised
# use detected and reported; a flood of them must not bury the audit trail it is reported in.


class RefusalKind(enum.Enum):
    """Why a request was refused before it could change anything."""

    PERMISSION = "permission"  # the actor's roles do not allow the action
    CSRF = "csrf"  # a form or call without this session's security token
    # an unknown (forged), revoked or expired API token
    API_TOKEN = "api-token"  # noqa: S105 - a kind of refusal, not a secret

    @property
    def label(self) -> str:
        """The kind as an inspector reads it."""
        return _REFUSAL_LABELS[self]


_REFUSAL_LABELS = {
    RefusalKind.PERMISSION: "not permitted",
    RefusalKind.CSRF: "missing or stale security token",
    RefusalKind.API_TOKEN: "unknown, revoked or expired API token",
}

#: Distinct client addresses counted separately per minute when nobody is identified; beyond it
#: they share one bucket, so that rotating addresses cannot bloat the trail either.
ANONYMOUS_BUCKETS_PER_MINUTE = 100
ANY_CLIENT = "*"


def refusal_minute(moment: datetime) -> datetime:
    """The minute a refusal is counted in."""
    return moment.replace(second=0, microsecond=0)


def refusal_bucket(actor_id: int | None, client: str) -> str:
    """Who a refusal is counted against: the user when known, else the client's address."""
    return f"user:{actor_id}" if actor_id is not None else f"client:{client}"


def refusal_needs_audit_record(count: int) -> bool:
    """Whether the `count`-th refusal of a bucket's minute gets its own audit record.

    The first does, and then the 10th, 100th, 1000th...: the size of a flood reaches the hash
    chain too, at a cost that grows with its logarithm; the exact count is kept beside it.
    """
    if count < 1:
        return False
    while count % 10 == 0:
        count //= 10
    return count == 1
