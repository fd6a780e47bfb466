"""Setting up and changing the facility's record: audited, with before and after."""

from __future__ import annotations

from collections.abc import Mapping

from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput
from atmpchain.facility.domain import (
    FacilityDetails,
    check_fin_kept,
    clean_name,
    clean_product_descriptions,
    clean_sec_country,
    clean_tissue_establishment,
    normalise_fin,
)
from atmpchain.facility.models import FACILITY_ID, Facility
from atmpchain.facility.queries import details_of
from atmpchain.fin import fin_problem
from atmpchain.uow import UnitOfWork

FACILITY_RECORD = "facility"


def _details(
    name: str,
    fin: str | None,
    sec_country: str | None = None,
    sec_tissue_establishment: str | None = None,
    product_descriptions: Mapping[str, str] | None = None,
) -> FacilityDetails:
    value = normalise_fin(fin)
    if value is not None:
        problem = fin_problem(value)
        if problem is not None:
            raise InvalidInput(f"FIN '{value}' is not an ISBT 128 FIN: {problem}", field="fin")
    return FacilityDetails(
        clean_name(name),
        value,
        clean_sec_country(sec_country),
        clean_tissue_establishment(sec_tissue_establishment),
        clean_product_descriptions(product_descriptions or {}),
    )


def set_up_facility(
    uow: UnitOfWork,
    *,
    actor: Actor,
    name: str,
    fin: str | None,
    sec_country: str | None = None,
    sec_tissue_establishment: str | None = None,
    product_descriptions: Mapping[str, str] | None = None,
) -> bool:
    """At installation (`init-db`, `demo`): store the facility's record if there is none yet,
    seeded from the settings. Returns whether it was created; an existing record is left as it
    is (from then on an administrator changes it, with a reason)."""
    if actor is not SYSTEM_ACTOR:
        actor.require(Permission.MANAGE_FACILITY)
    details = _details(name, fin, sec_country, sec_tissue_establishment, product_descriptions)
    with uow:
        if uow.session.get(Facility, FACILITY_ID, with_for_update=True) is not None:
            return False
        uow.session.add(
            Facility(
                id=FACILITY_ID,
                name=details.name,
                fin=details.fin,
                sec_country=details.sec_country,
                sec_tissue_establishment=details.sec_tissue_establishment,
                product_descriptions=details.descriptions or None,
                updated_at=uow.clock.now(),
                updated_by_id=actor.user_id,
            )
        )
        uow.audit.record(
            AuditAction.FACILITY_SET_UP,
            actor=actor,
            record_type=FACILITY_RECORD,
            record_id=FACILITY_ID,
            after=details.as_record(),
        )
        uow.commit()
        return True


def change_facility(
    uow: UnitOfWork,
    *,
    actor: Actor,
    name: str,
    fin: str | None,
    reason: str,
    sec_country: str | None = None,
    sec_tissue_establishment: str | None = None,
    product_descriptions: Mapping[str, str] | None = None,
) -> None:
    """An administrator corrects the facility's record, with a reason on record.

    The SEC codes and the product descriptions are kept as they are when None is given; an
    empty text (or an empty mapping) clears them.
    """
    actor.require(Permission.MANAGE_FACILITY)
    with uow:
        row = uow.session.get(Facility, FACILITY_ID, with_for_update=True)
        before = None if row is None else details_of(row)
        details = _details(
            name,
            fin,
            _keep(sec_country, before.sec_country if before else None),
            _keep(sec_tissue_establishment, before.sec_tissue_establishment if before else None),
            before.descriptions
            if product_descriptions is None and before is not None
            else product_descriptions,
        )
        check_fin_kept(before.fin if before else None, details.fin)
        if before == details:
            raise InvalidInput(
                "the facility already has this name and FIN (and these SEC codes and product "
                "descriptions)",
                field="name",
            )
        if row is None:
            row = Facility(id=FACILITY_ID, name=details.name, fin=details.fin)
            uow.session.add(row)
        row.name = details.name
        row.fin = details.fin
        row.sec_country = details.sec_country
        row.sec_tissue_establishment = details.sec_tissue_establishment
        row.product_descriptions = details.descriptions or None
        row.updated_at = uow.clock.now()
        row.updated_by_id = actor.user_id
        uow.audit.record(
            AuditAction.FACILITY_CHANGED,
            actor=actor,
            record_type=FACILITY_RECORD,
            record_id=FACILITY_ID,
            before=None if before is None else before.as_record(),
            after=details.as_record(),
            reason=reason,
        )
        uow.commit()


def _keep(given: str | None, current: str | None) -> str | None:
    """None keeps the current value; any text (empty: none) replaces it."""
    return current if given is None else given
