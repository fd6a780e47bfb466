"""JSON API for the facility's name and ISBT 128 FIN."""

from __future__ import annotations

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


class FacilityIn(BaseModel):
    """A corrected name or FIN, and why."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    fin: str | None = Field(default=None, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)


def _out(state: State) -> FacilityOut:
    details = facility_queries.current_facility(state.db, state.settings)
    return FacilityOut(name=details.name, fin=details.fin)


@router.get("/facility", response_model=FacilityOut)
def get_facility(actor: CurrentActor, state: State) -> FacilityOut:
    """The facility's name and FIN (anyone logged in: they are printed on every label)."""
    return _out(state)


@router.put("/facility", response_model=FacilityOut)
def change_facility(body: FacilityIn, actor: CurrentActor, uow: UoW, state: State) -> FacilityOut:
    """Change the facility's name or FIN, with a reason (administrators)."""
    facility_service.change_facility(
        uow, actor=actor, name=body.name, fin=body.fin, reason=body.reason
    )
    return _out(state)
