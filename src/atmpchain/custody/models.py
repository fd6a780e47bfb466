"""Tables for sites, rooms, storage units and their positions, product units and their custody."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.custody.domain import EventKind, PlaceKind, StorageKind, StorageStatus
from atmpchain.db import Base, enum_column


class StorageSite(Base):
    """A building or campus that holds product: the manufacturer, a hospital."""

    __tablename__ = "storage_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class StorageRoom(Base):
    """A room of a site: a cryostore, a preparation room, a ward."""

    __tablename__ = "storage_room"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("storage_site.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class StorageUnit(Base):
    """A tank, freezer, refrigerator, controlled room or dry shipper, with its allowed range."""

    __tablename__ = "storage_unit"
    __table_args__ = (CheckConstraint("temperature_low_c < temperature_high_c", name="range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("storage_room.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[StorageKind] = mapped_column(enum_column(StorageKind))
    status: Mapped[StorageStatus] = mapped_column(enum_column(StorageStatus))
    temperature_low_c: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    temperature_high_c: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    # The position levels, outermost first, comma-separated (e.g. "rack,box,slot").
    levels: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class StoragePosition(Base):
    """A rack, box, slot... inside a storage unit; innermost positions hold product units.

    `occupied` counts the units in the position now; it changes only with a custody event, under
    the row's lock, and the database refuses it above `capacity`.
    """

    __tablename__ = "storage_position"
    __table_args__ = (
        CheckConstraint(
            "(capacity IS NULL AND occupied = 0) OR "
            "(capacity > 0 AND occupied >= 0 AND occupied <= capacity)",
            name="capacity",
        ),
        # The pair current_custody points at, so that a unit's storage unit is its position's
        # (ADR 0038); it also reads a storage unit's positions in order. A unique index, not a
        # constraint: SQLite adds it without rebuilding the table (whose rebuild would check
        # every custody event's foreign keys).
        Index("uq_storage_position_unit_position", "storage_unit_id", "id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_unit.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("storage_position.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int | None] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer, default=0)


class ProductUnit(Base):
    """A physical product unit (bag, cassette, vial): ISBT 128 DIN + product code + division."""

    __tablename__ = "product_unit"
    __table_args__ = (UniqueConstraint("din", "product_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    din: Mapped[str] = mapped_column(String(13), index=True)
    # Product description code, collection type and division, without the '=<' identifier.
    product_code: Mapped[str] = mapped_column(String(8))
    # The chain of identity the DIN was bound to at receipt, if any (patient-specific unit).
    coi: Mapped[str | None] = mapped_column(String(15))
    description: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


_PLACE_RULE = (
    "(kind = 'position' AND position_id IS NOT NULL AND user_id IS NULL AND party IS NULL) OR "
    "(kind = 'person' AND user_id IS NOT NULL AND position_id IS NULL AND party IS NULL) OR "
    "(kind = 'party' AND party IS NOT NULL AND position_id IS NULL AND user_id IS NULL) OR "
    "(kind = 'disposed' AND position_id IS NULL AND user_id IS NULL AND party IS NULL)"
)


def _from_kind_column() -> SAEnum:
    # A second PlaceKind column in the same table needs a CHECK constraint of its own name.
    column = enum_column(PlaceKind)
    column.name = "from_placekind"
    return column


class CustodyEvent(Base):
    """One movement or hand-off of a product unit, as scanned. Append-only."""

    __tablename__ = "custody_event"
    __table_args__ = (UniqueConstraint("product_unit_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index of its own: the unique (product_unit_id, seq) constraint's index serves lookups.
    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"))
    # 1, 2, 3... per unit: the unique pair makes a second writer of the same step fail.
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_kind: Mapped[PlaceKind | None] = mapped_column(_from_kind_column())
    from_position_id: Mapped[int | None] = mapped_column(ForeignKey("storage_position.id"))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_party: Mapped[str | None] = mapped_column(String(200))
    to_kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind))
    to_position_id: Mapped[int | None] = mapped_column(ForeignKey("storage_position.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_party: Mapped[str | None] = mapped_column(String(200))
    unit_scan: Mapped[str] = mapped_column(String(500))
    location_scan: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class CurrentCustody(Base):
    """Where each product unit is now: exactly one position, person, party, or disposed.

    Every custody event updates this row in the same transaction as it appends the event, after
    locking it, so the chain of custody cannot fork.
    """

    __tablename__ = "current_custody"
    __table_args__ = (
        CheckConstraint(_PLACE_RULE, name="one_place"),
        CheckConstraint(
            "(position_id IS NULL) = (storage_unit_id IS NULL)", name="storage_unit_with_position"
        ),
        ForeignKeyConstraint(
            ["storage_unit_id", "position_id"],
            ["storage_position.storage_unit_id", "storage_position.id"],
        ),
        Index("ix_current_custody_storage_unit_position", "storage_unit_id", "position_id"),
    )

    product_unit_id: Mapped[int] = mapped_column(ForeignKey("product_unit.id"), primary_key=True)
    kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind))
    position_id: Mapped[int | None] = mapped_column(ForeignKey("storage_position.id"), index=True)
    # The storage unit of that position, kept with it (the composite foreign key holds it equal
    # to the position's): a storage map finds what is inside a tank by one index range instead
    # of a probe per position (issue 17, ADR 0038).
    storage_unit_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    party: Mapped[str | None] = mapped_column(String(200))
    # The seq of the last event: a client that saw version N may only move the unit from N.
    version: Mapped[int] = mapped_column(Integer)
    moved_at: Mapped[datetime]
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
