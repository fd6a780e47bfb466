"""The facility's SEC codes and product descriptions belong to its stored record (issue 9
review, item 12): seeded from the settings at installation, changed by an administrator with a
reason (before and after on record), read when SECs and FHIR exports are made."""

from __future__ import annotations

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.accounts.domain import SYSTEM_ACTOR
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import InvalidInput
from atmpchain.facility import queries, service
from atmpchain.facility.domain import parse_product_descriptions
from atmpchain.hospital.fhir import FhirContext
from atmpchain.uow import UnitOfWork


def test_the_settings_seed_the_codes_at_set_up_and_the_record_keeps_them(
    uow: UnitOfWork, db: Database, settings: Settings, trail: Trail
) -> None:
    seeded = service.set_up_facility(
        uow,
        actor=SYSTEM_ACTOR,
        name="Demo Clinic",
        fin="B1234",
        sec_country="at",
        sec_tissue_establishment="abc123",
        product_descriptions={"S1295": "CAR-T cells, cryopreserved"},
    )
    assert seeded
    # A server started with other settings reads the stored record.
    other = settings.model_copy(
        update={
            "sec_country": "DE",
            "sec_tissue_establishment": "ZZZ999",
            "product_descriptions": {},
        }
    )
    details = queries.current_facility(db, other)
    assert (details.sec_country, details.sec_tissue_establishment) == ("AT", "ABC123")
    assert details.descriptions == {"S1295": "CAR-T cells, cryopreserved"}
    assert FhirContext.of_facility(db, other).product_descriptions == details.descriptions
    (record,) = trail.records("facility:facility:set-up")
    assert trail.after(record)["sec_country"] == "AT"


def test_an_admin_changes_the_codes_with_a_reason_before_and_after_on_record(
    uow: UnitOfWork, db: Database, settings: Settings, admin: Persona, trail: Trail
) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")
    before = trail.state()
    service.change_facility(
        uow,
        actor=admin.actor,
        name="Demo Clinic",
        fin="B1234",
        reason="registered with the competent authority",
        sec_country="GR",
        sec_tissue_establishment="GR0001",
        product_descriptions={"S1295": "CAR-T", "S1296": "TIL"},
    )
    (record,) = [r for r in trail.records(after_seq=before.head.seq) if r.record_type == "facility"]
    assert trail.after(record)["sec_country"] == "GR"
    assert trail.after(record)["product_descriptions"] == {"S1295": "CAR-T", "S1296": "TIL"}
    assert record.reason == "registered with the competent authority"
    # Left out: kept; empty: cleared (the settings then fill in).
    service.change_facility(
        uow, actor=admin.actor, name="Demo Clinic 2", fin="B1234", reason="renamed"
    )
    kept = queries.current_facility(db, settings)
    assert (kept.sec_country, kept.sec_tissue_establishment) == ("GR", "GR0001")
    service.change_facility(
        uow,
        actor=admin.actor,
        name="Demo Clinic 2",
        fin="B1234",
        reason="no SEC here",
        sec_country="",
        sec_tissue_establishment="",
        product_descriptions={},
    )
    cleared = queries.current_facility(db, settings.model_copy(update={"sec_country": None}))
    assert cleared.sec_country is None and cleared.descriptions == {}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sec_country", "XX", "not an ISO 3166-1 alpha-2"),
        ("sec_country", "UK", "not an ISO 3166-1 alpha-2"),
        ("sec_country", "AUT", "two letters"),
        ("sec_tissue_establishment", "AB-123", "6 capital letters or digits"),
        ("product_descriptions", {"S12": "x"}, "5 capital letters or digits"),
        ("product_descriptions", {"S1295": " "}, "1 to 200 characters"),
    ],
)
def test_bad_codes_are_refused_naming_the_field_and_nothing_is_written(
    uow: UnitOfWork, admin: Persona, trail: Trail, field: str, value: object, words: str
) -> None:
    service.set_up_facility(uow, actor=SYSTEM_ACTOR, name="Demo Clinic", fin="B1234")
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        service.change_facility(
            uow,
            actor=admin.actor,
            name="Demo Clinic",
            fin="B1234",
            reason="x",
            **{field: value},  # type: ignore[arg-type]
        )
    assert err.value.field == field
    assert words in err.value.message
    assert trail.state() == before


def test_product_descriptions_typed_one_per_line() -> None:
    assert parse_product_descriptions("S1295 CAR-T cells\n\nS1296=TIL\n") == {
        "S1295": "CAR-T cells",
        "S1296": "TIL",
    }
    with pytest.raises(InvalidInput, match="line 1"):
        parse_product_descriptions("S1295")
