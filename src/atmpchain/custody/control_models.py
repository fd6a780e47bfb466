"""Tables of the controls and holds that higher capabilities place on product units.

Each row is written once when placed and closed once (ended, lifted), never otherwise changed or
deleted: database triggers refuse any other change (migration 0015), and every placement and
closure has its audit record. A partial unique index holds "one active control per unit" and
"one active hold per unit and source record" in the database itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.custody.control_rules import HoldKind
from atmpchain.db import Base, enum_column


class CustodyControl(Base):
    """A capability's record (a hospital dose) that alone may move a product unit, while active."""

    __tablename__ = "custody_control"
    __table_args__ = (
        CheckConstraint(
            "(ended_at IS NULL AND end_reason IS NULL AND ended_by_id IS NULL) OR "
            "(ended_at IS NOT NULL AND end_reason IS NOT NULL)",
            name="ended_with_reason",
        ),
        Index(
            "ux_custody_control_active_unit",
            "product_unit_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"))
    # The controller's key: the capability ("hospital.dose") and its own reference ("3").
    capability: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(64))
    # How people name the controller ("dose D000003") and the page where its steps are done.
    label: Mapped[str] = mapped_column(String(200))
    page: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    end_reason: Mapped[str | None] = mapped_column(Text)


class CustodyHold(Base):
    """A capability's stop on handing a product unit on, with what it waits for, while active."""

    __tablename__ = "custody_hold"
    __table_args__ = (
        CheckConstraint(
            "(lifted_at IS NULL AND lift_reason IS NULL AND lifted_by_id IS NULL) OR "
            "(lifted_at IS NOT NULL AND lift_reason IS NOT NULL)",
            name="lifted_with_reason",
        ),
        Index(
            "ux_custody_hold_active_source",
            "product_unit_id",
            "source",
            "reference",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"), index=True)
    # The record that placed it: "coldchain.excursion" + "12", "hospital.dose" + "3".
    source: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(64))
    kind: Mapped[HoldKind] = mapped_column(enum_column(HoldKind))
    reason: Mapped[str] = mapped_column(Text)
    # What must happen before the unit may be handed on, in words ("QA impact assessment of ...").
    waits_for: Mapped[str] = mapped_column(String(300))
    page: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)
