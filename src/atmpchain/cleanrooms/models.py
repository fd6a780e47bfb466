"""Tables of the cleanroom suite: areas, rooms, doors, workstations, their qualification, state
changes and cleaning; production sessions and the batches open in them; gowning and media fills."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.cleanrooms.domain import (
    QualificationStatus,
    RoomKind,
    RoomState,
    WorkstationKind,
)
from atmpchain.db import Base, enum_column

_GRADE = "grade IN ('A', 'B', 'C', 'D')"


class CleanroomArea(Base):
    """A cleanroom suite or area (its rooms share an air-handling unit and an EM report)."""

    __tablename__ = "cleanroom_area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Room(Base):
    """A room of an area with its grade, zone, design pressure, state and qualification now;
    its history is in `room_state_change` and `room_qualification`."""

    __tablename__ = "cleanroom_room"
    __table_args__ = (
        CheckConstraint(_GRADE, name="grade"),
        CheckConstraint("pressure_pa IS NULL OR pressure_pa BETWEEN -100 AND 100", name="pressure"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_area.id"), index=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RoomKind] = mapped_column(enum_column(RoomKind))
    grade: Mapped[str] = mapped_column(String(1))
    zone: Mapped[str | None] = mapped_column(String(60))
    pressure_pa: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[RoomState] = mapped_column(enum_column(RoomState))
    qualification: Mapped[QualificationStatus] = mapped_column(enum_column(QualificationStatus))
    qualified_on: Mapped[date | None] = mapped_column(Date)
    requalification_due: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]


class RoomDoor(Base):
    """A door (or pass-through) between two rooms: the pressure cascade is read across these."""

    __tablename__ = "cleanroom_door"
    __table_args__ = (
        UniqueConstraint("room_id", "other_room_id"),
        CheckConstraint("room_id <> other_room_id", name="two_rooms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"))
    other_room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"))


class Workstation(Base):
    """A grade A zone inside a room: a biosafety cabinet or an isolator."""

    __tablename__ = "cleanroom_workstation"
    __table_args__ = (CheckConstraint(_GRADE, name="grade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"), index=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[WorkstationKind] = mapped_column(enum_column(WorkstationKind))
    grade: Mapped[str] = mapped_column(String(1))
    # The equipment record of the cabinet or isolator (its qualification and calibration).
    equipment_code: Mapped[str | None] = mapped_column(String(24))
    in_service: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class RoomStateChange(Base):
    """One audited transition of a room's state, with the reason (append-only)."""

    __tablename__ = "room_state_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"), index=True)
    # Its own constraint name: two columns of one enum would share "roomstate".
    from_state: Mapped[RoomState | None] = mapped_column(
        SAEnum(
            RoomState,
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
            name="from_roomstate",
        )
    )
    to_state: Mapped[RoomState] = mapped_column(enum_column(RoomState))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    by_name: Mapped[str] = mapped_column(String(200))


class RoomQualification(Base):
    """A signed room (re)qualification report: passed or failed, and the next due date."""

    __tablename__ = "room_qualification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    performed_on: Mapped[date] = mapped_column(Date)
    next_due: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("electronic_signature.id"))


class CleaningLog(Base):
    """A room or workstation cleaned: agent, its lot, contact time, line clearance, who and when
    (append-only)."""

    __tablename__ = "cleaning_log"
    __table_args__ = (
        CheckConstraint("contact_minutes BETWEEN 1 AND 240", name="contact_minutes"),
        Index("ix_cleaning_log_room_at", "room_id", "cleaned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"))
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("cleanroom_workstation.id"))
    agent: Mapped[str] = mapped_column(String(120))
    agent_lot: Mapped[str] = mapped_column(String(60))
    contact_minutes: Mapped[int] = mapped_column(Integer)
    # The line clearance checks done with the cleaning (no product, material, label or record
    # of the previous batch left); none for a routine clean between sessions of one product.
    line_clearance: Mapped[str | None] = mapped_column(Text)
    cleaned_at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    by_name: Mapped[str] = mapped_column(String(200))


class ProductionSession(Base):
    """A room or workstation in use for production, from open to close. `open_slot` holds the
    location while the session is open, so the database keeps one open session per location."""

    __tablename__ = "production_session"
    __table_args__ = (Index("ix_production_session_room_opened", "room_id", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("cleanroom_room.id"))
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("cleanroom_workstation.id"))
    grade: Mapped[str] = mapped_column(String(1))
    open_slot: Mapped[str | None] = mapped_column(String(60), unique=True)
    opened_at: Mapped[datetime]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    close_reason: Mapped[str | None] = mapped_column(String(200))


class SessionBatch(Base):
    """A batch whose product was open in a session: its patient (or donor lot) and DIN."""

    __tablename__ = "session_batch"
    __table_args__ = (UniqueConstraint("session_id", "batch_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("production_session.id"), index=True)
    batch_number: Mapped[str] = mapped_column(String(32), index=True)
    patient_key: Mapped[str] = mapped_column(String(60))
    din: Mapped[str | None] = mapped_column(String(16))
    first_step_ref: Mapped[str] = mapped_column(String(12))
    last_step_ref: Mapped[str] = mapped_column(String(12))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class GowningRecord(Base):
    """One observed gowning session of an operator for a grade, with its plates (append-only)."""

    __tablename__ = "gowning_record"
    __table_args__ = (
        CheckConstraint(_GRADE, name="grade"),
        Index("ix_gowning_record_user_grade", "user_id", "grade"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(1))
    performed_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    glove_cfu: Mapped[int | None] = mapped_column(Integer)
    gown_cfu: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    observed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    observed_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


class MediaFillParticipation(Base):
    """An operator's part in an aseptic process simulation (media fill) run (append-only)."""

    __tablename__ = "media_fill_participation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    run_reference: Mapped[str] = mapped_column(String(60))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("cleanroom_room.id"))
    performed_on: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
