"""Tables of pre-GMP translation: projects with their team and documents, and the versions of a
project's process definition (unit operations with parameters, materials and equipment)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base, enum_column
from atmpchain.materials.domain import Grade
from atmpchain.translation.domain import DefinitionStatus, ParameterKind, Stage

#: Parameter values keep six decimals: enough for a concentration in ng/mL or an MOI.
VALUE = Numeric(20, 6)
QUANTITY = Numeric(14, 3)


class TranslationProject(Base):
    """One research routine on its way to a GMP process."""

    __tablename__ = "translation_project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    research_group: Mapped[str] = mapped_column(String(200))
    indication: Mapped[str] = mapped_column(String(200))
    product_class: Mapped[str] = mapped_column(String(80))
    stage: Mapped[Stage] = mapped_column(enum_column(Stage))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class TeamMember(Base):
    """A person on a project's team; a researcher sees the projects whose team they are on."""

    __tablename__ = "translation_team_member"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    project_role: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime]


class ProjectDocument(Base):
    """One version of a document attached to a project (append-only); its SHA-256 is taken
    when it arrives, so a later copy can be checked against it."""

    __tablename__ = "translation_document"
    __table_args__ = (
        UniqueConstraint("project_id", "name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ProcessDefinition(Base):
    """One version of a project's process definition, drafted with a reason; approved versions
    never change (a change is the next version)."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("project_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[DefinitionStatus] = mapped_column(enum_column(DefinitionStatus))
    reason: Mapped[str] = mapped_column(Text)
    authored_at: Mapped[datetime]
    authored_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signature.id"))


class UnitOperationRow(Base):
    """A unit operation of one definition version, in its place in the sequence."""

    __tablename__ = "unit_operation"
    __table_args__ = (
        UniqueConstraint("definition_id", "key"),
        UniqueConstraint("definition_id", "position"),
        CheckConstraint("hands_on_minutes <= duration_minutes", name="hands_on_within_duration"),
        CheckConstraint("hands_on_minutes >= 0", name="hands_on_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    closed: Mapped[bool] = mapped_column(Boolean)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    hands_on_minutes: Mapped[int] = mapped_column(Integer)


class ProcessParameter(Base):
    """A parameter of a unit operation: target, range, critical, the CQAs it affects."""

    __tablename__ = "process_parameter"
    __table_args__ = (
        UniqueConstraint("unit_operation_id", "name"),
        CheckConstraint("low IS NULL OR high IS NULL OR low <= high", name="low_not_above_high"),
        CheckConstraint("(low IS NULL) = (high IS NULL)", name="both_limits_or_neither"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_operation_id: Mapped[int] = mapped_column(ForeignKey("unit_operation.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(30), default="")
    kind: Mapped[ParameterKind] = mapped_column(enum_column(ParameterKind))
    target: Mapped[Decimal | None] = mapped_column(VALUE)
    low: Mapped[Decimal | None] = mapped_column(VALUE)
    high: Mapped[Decimal | None] = mapped_column(VALUE)
    critical: Mapped[bool] = mapped_column(Boolean)
    # The critical quality attributes the parameter affects, one per line.
    cqas: Mapped[str] = mapped_column(Text, default="")


class ProcessMaterial(Base):
    """A material a unit operation uses, with its grade, supplier and whether a GMP-grade
    alternative exists."""

    __tablename__ = "process_material"
    __table_args__ = (
        UniqueConstraint("unit_operation_id", "item"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_operation_id: Mapped[int] = mapped_column(ForeignKey("unit_operation.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    grade: Mapped[Grade] = mapped_column(enum_column(Grade))
    supplier: Mapped[str] = mapped_column(String(120), default="")
    gmp_alternative: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(20))


class ProcessEquipment(Base):
    """A device a unit operation uses."""

    __tablename__ = "process_equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_operation_id: Mapped[int] = mapped_column(ForeignKey("unit_operation.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    equipment_class: Mapped[str | None] = mapped_column(String(60))


class TransferRecord(Base):
    """A process-definition version handed to manufacturing as a draft MBR version."""

    __tablename__ = "translation_transfer"
    __table_args__ = (UniqueConstraint("mbr_code", "mbr_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    definition_version: Mapped[int] = mapped_column(Integer)
    mbr_code: Mapped[str] = mapped_column(String(40))
    mbr_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    transferred_at: Mapped[datetime]
    transferred_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
