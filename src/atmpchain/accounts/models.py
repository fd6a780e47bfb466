"""Tables for users, their roles, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atmpchain.accounts.domain import Role, RoleGrant
from atmpchain.accounts.login_rules import ThrottleScope
from atmpchain.db import Base, enum_column


class User(Base):
    """A person or a device that can act in atmpchain. Never deleted, only deactivated."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The printed name shown with every signature (21 CFR 11.50(a)).
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    # Devices have no password: they authenticate with API tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Who last granted or changed this user's roles: that person may not approve the access.
    access_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deactivated_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="UserRole.user_id",
    )

    @property
    def role_set(self) -> frozenset[Role]:
        """Every role granted to the user, in force or waiting for QA's approval."""
        return frozenset(r.role for r in self.roles)

    @property
    def grants(self) -> tuple[RoleGrant, ...]:
        """The user's roles with who granted them and whether QA approved them."""
        return tuple(r.grant for r in self.roles)


class UserRole(Base):
    """One role granted to one user; it grants permissions only once QA has approved it."""

    __tablename__ = "user_role"
    __table_args__ = (
        # Annex 11 §12 and four eyes, held by the database too: nobody approves their own role,
        # nor a role they granted; only the installation's own grants come into force without a
        # person's approval.
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> user_id", name="not_self_approved"
        ),
        CheckConstraint(
            "approved_by_id IS NULL OR granted_by_id IS NULL OR approved_by_id <> granted_by_id",
            name="granter_not_approver",
        ),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_at IS NOT NULL", name="approval_has_time"
        ),
        CheckConstraint(
            "approved_at IS NULL OR approved_by_id IS NOT NULL OR granted_by_id IS NULL",
            name="only_installation_self_approves",
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)
    granted_at: Mapped[datetime]
    # None: granted by the installation (the first administrator and QA).
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set when QA approves the access with a signature; until then the role grants nothing.
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])

    @property
    def grant(self) -> RoleGrant:
        """The role as the access rules see it."""
        return RoleGrant(self.role, self.granted_by_id, self.approved_at is not None)


class LoginSession(Base):
    """A browser login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A machine's credential. Shown once when created; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins counted per client address or per username, shared by every server process
    through the database; a row whose window and block have ended is removed."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[ThrottleScope] = mapped_column(enum_column(ThrottleScope, 16))
    key: Mapped[str] = mapped_column(String(100))
    window_started_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]


class RefusedRequest(Base):
    """Refusals of one kind counted against one user (or client address) in one minute.

    The first refusal of the minute writes an audit record (`audit_seq`); later ones only raise
    `count`, so that a flood cannot bloat the audit trail (ADR 0014).
    """

    __tablename__ = "refused_request"
    __table_args__ = (
        UniqueConstraint("bucket", "kind", "minute"),
        CheckConstraint("count >= 1", name="count"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minute: Mapped[datetime] = mapped_column(index=True)
    bucket: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(150))
    client: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
    first_target: Mapped[str] = mapped_column(String(300))
    last_target: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(Text)
    audit_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
