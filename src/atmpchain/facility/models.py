"""The facility's one record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from atmpchain.db import Base

#: The id of the one facility row: an installation serves one facility.
FACILITY_ID = 1


class Facility(Base):
    """The facility this installation serves (one row), set up at `init-db` or `demo`."""

    __tablename__ = "facility"
    __table_args__ = (CheckConstraint(f"id = {FACILITY_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    # ISBT 128 Facility Identification Number (5 characters), assigned by ICCBBA.
    fin: Mapped[str | None] = mapped_column(String(5))
    # EU Single European Code (Directive 2006/86/EC Annex VII): the country (ISO 3166-1
    # alpha-2) and the tissue establishment code from the EU compendium; and the ISBT 128
    # product description codes the facility uses, with their descriptions (issue 9 review,
    # item 12). None: not set up here yet (the settings fill in).
    sec_country: Mapped[str | None] = mapped_column(String(2))
    sec_tissue_establishment: Mapped[str | None] = mapped_column(String(6))
    product_descriptions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    # None: set up by the installation itself.
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
