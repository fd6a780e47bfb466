"""JSON API for the facility's record: name, ISBT 128 FIN, SEC codes, product descriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atmpchain.facility import queries as facility_queries
from atmpchain.facility import service as facility_service
from atmpchain.web.deps import CurrentActor, State, UoW

router = APIRouter(prefix="/api", tags=["facility"])


class FacilityOut(BaseModel):
    """The facility as DINs and chains of identity carry it; `fin` is null while not set up."""

    name: str
    fin: str | None
    sec_country: str | None = None
    sec_tissue_establishment: str | None = None
    product_descriptions: dict[str, str] = {}


class FacilityIn(BaseModel):
    """A corrected record, and why. SEC codes and product descriptions left out (null) are kept
    as they are; an empty text or an empty object clears them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    fin: str | None = Field(default=None, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    sec_country: str | None = Field(default=None, max_length=10, examples=["AT"])
    sec_tissue_establishment: str | None = Field(default=None, max_length=20)
    product_descriptions: dict[str, Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=200, examples=[{"S1295": "CAR-T cells, cryopreserved"}]
    )


def _out(state: State) -> FacilityOut:
    details = facility_queries.current_facility(state.db, state.settings)
    return FacilityOut(
        name=details.name,
        fin=details.fin,
        sec_country=details.sec_country,
        sec_tissue_establishment=details.sec_tissue_establishment,
        product_descriptions=details.descriptions,
    )


@router.get("/facility", response_model=FacilityOut)
def get_facility(actor: CurrentActor, state: State) -> FacilityOut:
    """The facility's name and FIN (anyone logged in: they are printed on every label)."""
    return _out(state)


@router.put("/facility", response_model=FacilityOut)
def change_facility(body: FacilityIn, actor: CurrentActor, uow: UoW, state: State) -> FacilityOut:
    """Change the facility's record, with a reason (administrators)."""
    facility_service.change_facility(
        uow,
        actor=actor,
        name=body.name,
        fin=body.fin,
        reason=body.reason,
        sec_country=body.sec_country,
        sec_tissue_establishment=body.sec_tissue_establishment,
        product_descriptions=body.product_descriptions,
    )
    return _out(state)
