"""The facility's record (issue 9, item 15): the FIN is stored with the facility, so that
`atmpchain serve` issues DINs on what `init-db` or `demo` made, whatever its environment; a
missing FIN tells the physician the facility is not set up and who must set it up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail, approve_starting_catalogue

from atmpchain.accounts.domain import SYSTEM_ACTOR, Role
from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import InvalidInput, PermissionDenied
from atmpchain.facility import queries, service
from atmpchain.facility.errors import FacilityNotSetUp
from atmpchain.hospital import orders
from atmpchain.identity import service as identity_service
from atmpchain.uow import UnitOfWork


@pytest.fixture
def unset(db: Database, clock: FixedClock, settings: Settings) -> UnitOfWork:
    """A unit of work of a server process started without ATMPCHAIN_FACILITY_FIN."""
    return UnitOfWork(
        db, clock, channel="web", settings=settings.model_copy(update={"facility_fin": None})
    )


def test_a_fin_stored_at_set_up_is_used_by_a_server_without_the_setting(
    uow: UnitOfWork, unset: UnitOfWork, make_persona: Callable[..., Persona]
) -> None:
    operator = make_persona(Role.OPERATOR, username="otto")
    assert service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")
    din = identity_service.issue_din(unset, actor=operator.actor)
    chain = identity_service.create_chain(
        unset, actor=operator.actor, patient_ref="P-1", therapy="CAR-T"
    )
    assert din.fin == "B1234"
    assert chain.startswith("CHB1234")


def test_the_stored_fin_wins_over_the_setting(
    uow: UnitOfWork, db: Database, settings: Settings
) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")
    assert settings.facility_fin == "A9999"
    assert queries.facility_fin(db, settings) == "B1234"


def test_an_order_without_any_fin_is_refused_saying_who_must_set_up_the_facility(
    unset: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    pharmacist = make_persona(Role.PHARMACIST, username="parker")
    qa = make_persona(Role.QA, username="quinn")
    physician = make_persona(Role.PHYSICIAN, username="phoebe")
    approve_starting_catalogue(unset, pharmacist, qa)
    request = orders.OrderRequest(
        patient_ref="PSN-0001",
        display_name="Maria Muster",
        birth_date=date(1961, 3, 14),
        product="tisagenlecleucel",
        appointment_at=unset.clock.now() + timedelta(days=1),
        ward="Haematology ward 3",
        transport_minutes=0,
        expected_din=None,
    )
    before = trail.state()
    with pytest.raises(FacilityNotSetUp) as err:
        orders.order_dose(unset, actor=physician.actor, request=request)
    assert err.value.status == 409, "the installation is not set up; the order itself is fine"
    assert err.value.field == "facility_fin"
    assert "not set up" in err.value.message
    assert "system administrator must enter the FIN on the Facility page" in err.value.message
    assert "ATMPCHAIN_" not in err.value.message
    assert trail.state() == before


def test_an_admin_changes_the_fin_with_a_reason_and_the_trail_shows_before_and_after(
    uow: UnitOfWork, admin: Persona, db: Database, settings: Settings, trail: Trail
) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin=None)
    service.change_facility(
        uow, actor=admin.actor, name="Demo  Clinic ", fin=" b1234 ", reason="ICCBBA registration"
    )
    (setup,) = trail.records("facility:facility:set-up")
    none = {"sec_country": None, "sec_tissue_establishment": None, "product_descriptions": {}}
    assert trail.after(setup) == {"name": "Demo Clinic", "fin": None} | none
    (changed,) = trail.records("facility:facility:changed")
    assert changed.actor_id == admin.user_id
    assert changed.reason == "ICCBBA registration"
    assert changed.before == {"name": "Demo Clinic", "fin": None} | none
    assert trail.after(changed) == {"name": "Demo Clinic", "fin": "B1234"} | none
    assert queries.facility_fin(db, settings) == "B1234"


@pytest.mark.parametrize(
    ("name", "fin", "field", "message"),
    [
        ("Demo Clinic", "A99", "fin", "not an ISBT 128 FIN"),
        ("Demo Clinic", "A99999", "fin", "not an ISBT 128 FIN"),
        ("Demo Clinic", None, "fin", "cannot be removed"),
        ("D", "A9999", "name", "2 to 200 characters"),
        ("Demo Clinic", "A9999", "name", "already has this name and FIN"),
    ],
    ids=["too-short", "too-long", "removed", "short-name", "no-change"],
)
def test_bad_facility_details_are_refused_naming_the_field_and_nothing_is_written(
    uow: UnitOfWork,
    admin: Persona,
    trail: Trail,
    name: str,
    fin: str | None,
    field: str,
    message: str,
) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="A9999")
    before = trail.state()
    with pytest.raises(InvalidInput, match=message) as err:
        service.change_facility(uow, actor=admin.actor, name=name, fin=fin, reason="typo")
    assert err.value.field == field
    assert trail.state() == before


def test_only_an_administrator_changes_the_facility(
    uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    qa = make_persona(Role.QA, username="quinn")
    before = trail.state()
    with pytest.raises(PermissionDenied, match=r"facility\.manage"):
        service.change_facility(uow, actor=qa.actor, name="X Clinic", fin="A9999", reason="why")
    assert trail.state() == before


def test_setting_up_twice_leaves_the_record_as_it_is(
    uow: UnitOfWork, db: Database, settings: Settings, trail: Trail
) -> None:
    assert service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")
    before = trail.state()
    assert not service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Other", fin="C5678")
    assert trail.state() == before
    assert queries.current_facility(db, settings).name == "Demo Clinic"
