"""Tables of the cost of goods: a project's cost model and its scenarios (each a full set of
inputs, stored as the model's document)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base


class CostModel(Base):
    """A per-batch cost model of a translation project's process."""

    __tablename__ = "cost_model"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("translation_project.id"), index=True)
    #: The process-definition version the materials and hours were taken from (None: typed in).
    definition_version: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class CostScenario(Base):
    """One scenario of a cost model (base, closed process, second supplier, 50 batches a year):
    the complete inputs as a JSON document, checked by `costing.domain.inputs_from_dict`."""

    __tablename__ = "cost_scenario"
    __table_args__ = (
        UniqueConstraint("model_id", "name"),
        UniqueConstraint("model_id", "position"),
        CheckConstraint(
            "batches_per_year >= 1 AND batches_per_year <= 10000", name="batches_per_year_range"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("cost_model.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    #: Kept beside the document too: it sets the fixed-cost share, and the database holds its range.
    batches_per_year: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
