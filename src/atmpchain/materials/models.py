"""Tables of materials: the item master, received lots with their stock, and consumptions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.materials.domain import Grade, LotStatus, RiskClass

#: Quantities: up to a billion, three decimals (mL, mg, IU, vials).
QUANTITY = Numeric(14, 3)


class MaterialItem(Base):
    """One material as the item master knows it: what it is, from whom, in what grade."""

    __tablename__ = "material_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    supplier: Mapped[str] = mapped_column(String(200))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade))
    storage_condition: Mapped[str] = mapped_column(String(200))
    # Risk factors (EU GMP Part IV) as their values, comma-separated, sorted; empty for none.
    risk_factors: Mapped[str] = mapped_column(String(400))
    risk_class: Mapped[RiskClass] = mapped_column(enum_column(RiskClass))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class MaterialLot(Base):
    """One lot received of an item: quarantined until QA releases or rejects it, with what is
    left of it and where it is stored. Its code is what its label's barcode carries."""

    __tablename__ = "material_lot"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("available <= received_quantity", name="available_within_received"),
        CheckConstraint("received_quantity > 0", name="received_positive"),
        Index("ix_material_lot_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    lot_code: Mapped[str] = mapped_column(String(16), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("material_item.id"), index=True)
    supplier_lot: Mapped[str] = mapped_column(String(64))
    # The certificate of analysis that came with the lot (document number or file reference).
    coa_reference: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date] = mapped_column(Date)
    received_quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    available: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(8))
    location: Mapped[str] = mapped_column(String(24))
    status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus))
    received_at: Mapped[datetime]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))


class MaterialConsumption(Base):
    """A quantity of a lot used in a batch step (append-only). The recall and genealogy queries
    join it by lot and by batch number."""

    __tablename__ = "material_consumption"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("material_lot.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(8))
    batch_number: Mapped[str] = mapped_column(String(32), index=True)
    step_ref: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
