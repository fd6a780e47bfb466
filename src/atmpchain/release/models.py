"""Tables of release: the QP's decision on a batch, and out-of-specification supplies (Part IV
§11.5) with their four signed steps. All three are append-only (migration 0024 protects them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.release.domain import Decision, SupplyStep


class OosSupply(Base):
    """A treating physician's request to be supplied a batch's out-of-specification product."""

    __tablename__ = "release_oos_supply"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(12), index=True)
    # The dose (hospital) the product is for; its administration starts the 48-hour clock.
    dose_id: Mapped[int | None] = mapped_column(ForeignKey("dose.id"))
    investigational: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime]
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class OosSupplyStep(Base):
    """One of the four recorded, signed steps of an OOS supply; each at most once."""

    __tablename__ = "release_oos_supply_step"
    __table_args__ = (UniqueConstraint("supply_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supply_id: Mapped[int] = mapped_column(ForeignKey("release_oos_supply.id"), index=True)
    step: Mapped[SupplyStep] = mapped_column(enum_column(SupplyStep))
    # The clinical reason, the risk evaluation, the acceptance, or whom the notice went to.
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))


class Certification(Base):
    """The Qualified Person's signed decision on a batch: one per batch, never changed."""

    __tablename__ = "release_certification"
    __table_args__ = (
        CheckConstraint(
            "decision <> 'certified_before_all_results' OR procedure IS NOT NULL",
            name="procedure_for_early_release",
        ),
        CheckConstraint(
            "decision <> 'supplied_out_of_specification' OR supply_id IS NOT NULL",
            name="supply_for_oos_release",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(12), unique=True)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, length=40))
    # The written procedure a release before all results follows (the facility's data).
    procedure: Mapped[str | None] = mapped_column(String(120))
    # The tests whose results come after release, as listed on the certificate (JSON list).
    pending_tests: Mapped[str] = mapped_column(Text)
    # The specification version the batch was tested against, as the qc capability names it.
    specification: Mapped[str | None] = mapped_column(String(120))
    supply_id: Mapped[int | None] = mapped_column(ForeignKey("release_oos_supply.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]
    qp_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    qp_name: Mapped[str] = mapped_column(String(200))
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))
