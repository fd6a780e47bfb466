"""Orders from FHIR R5 ServiceRequests and MedicationRequests: read, round trip, refusals."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.hospital.fhir import (
    CATALOGUE_SYSTEM,
    DEFAULT_PATIENT_SYSTEM,
    TRANSPORT_EXTENSION,
    WARD_EXTENSION,
    FhirContext,
    import_order,
    order_as_service_request,
)
from atmpchain.hospital.orders import OrderRequest

CONTEXT = FhirContext()
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": DEFAULT_PATIENT_SYSTEM, "value": "PSN-0001"}],
    "name": [{"given": ["Maria"], "family": "Muster"}],
    "birthDate": "1961-03-14",
}


def service_request(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [copy.deepcopy(PATIENT)],
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": "SR-2026-0042"}],
        "status": "active",
        "intent": "order",
        "code": {"concept": {"coding": [{"system": CATALOGUE_SYSTEM, "code": "tisagenlecleucel"}]}},
        "subject": {"reference": "#p1"},
        "occurrenceDateTime": "2026-01-06T09:00:00+01:00",
        "location": [{"concept": {"text": "Haematology ward 3"}}],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def medication_request(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "identifier": [{"value": "MR-17"}],
        "status": "active",
        "intent": "order",
        "medication": {
            "concept": {"coding": [{"system": CATALOGUE_SYSTEM, "code": "tisagenlecleucel"}]}
        },
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [{"timing": {"event": ["2026-01-06T08:00:00Z"]}}],
        "extension": [
            {"url": WARD_EXTENSION, "valueString": "Haematology ward 3"},
            {"url": TRANSPORT_EXTENSION, "valueInteger": 10},
        ],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_service_request_with_a_contained_patient_becomes_an_order() -> None:
    request = import_order(service_request(), CONTEXT, transport_minutes=15)
    assert request == OrderRequest(
        patient_ref="PSN-0001",
        display_name="Maria Muster",
        birth_date=date(1961, 3, 14),
        product="tisagenlecleucel",
        appointment_at=datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        ward="Haematology ward 3",
        transport_minutes=15,
        external_ref="SR-2026-0042",
    )


def test_a_medication_request_in_a_bundle_with_its_patient_becomes_an_order() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:4f1c2a7e-0000-4000-8000-000000000001", "resource": PATIENT},
            {"resource": medication_request()},
        ],
    }
    request = import_order(json.dumps(bundle), CONTEXT)
    assert request.patient_ref == "PSN-0001"
    assert request.appointment_at == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert request.ward == "Haematology ward 3" and request.transport_minutes == 10
    assert request.external_ref == "MR-17"


def test_the_patient_found_by_full_url_in_a_bundle() -> None:
    url = "urn:uuid:4f1c2a7e-0000-4000-8000-000000000001"
    patient = {k: v for k, v in PATIENT.items() if k != "id"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": url, "resource": patient},
            {"resource": medication_request(subject={"reference": url})},
        ],
    }
    assert import_order(bundle, CONTEXT).display_name == "Maria Muster"


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        (service_request(occurrenceDateTime=None), "ServiceRequest.occurrence[x]"),
        (service_request(occurrenceDateTime="2026-01-06"), "ServiceRequest.occurrence[x]"),
        (service_request(identifier=None), "ServiceRequest.identifier"),
        (service_request(status="draft"), "ServiceRequest.status"),
        (service_request(intent="proposal"), "ServiceRequest.intent"),
        (service_request(subject={"reference": "#nobody"}), "ServiceRequest.subject"),
        (service_request(subject=None), "ServiceRequest.subject"),
        (service_request(location=None), "ServiceRequest.location"),
        (
            service_request(code={"concept": {"coding": [{"system": "urn:x", "code": "y"}]}}),
            "ServiceRequest.code.concept",
        ),
        (service_request(contained=[{**PATIENT, "birthDate": None}]), "Patient.birthDate"),
        (service_request(contained=[{**PATIENT, "name": None}]), "Patient.name"),
        (
            service_request(contained=[{**PATIENT, "identifier": [{"value": "PSN-0001"}]}]),
            "Patient.identifier",
        ),
        (service_request(occurrenceDateTime="soon"), "ServiceRequest.occurrence"),
        (medication_request(dosageInstruction=None), "MedicationRequest.dosageInstruction"),
        (medication_request(medication=None), "MedicationRequest.medication"),
        ({"resourceType": "Observation"}, "resourceType"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "Bundle.entry"),
    ],
)
def test_what_is_missing_or_wrong_is_refused_by_its_fhir_path(
    resource: dict[str, Any], path: str
) -> None:
    if resource.get("resourceType") == "MedicationRequest":
        resource = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": PATIENT},
                {"resource": resource},
            ],
        }
    with pytest.raises(InvalidInput) as refused:
        import_order(resource, CONTEXT, transport_minutes=0)
    assert refused.value.field is not None
    assert refused.value.field.startswith(path), refused.value.message
    assert refused.value.message.startswith(path)


def _in_bundle(resource: dict[str, Any], patient: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient}, {"resource": resource}],
    }


def test_a_patient_with_two_different_pseudonymous_ids_is_refused_whatever_their_order() -> None:
    # Issue 9 item 1: whose dose it is never depends on which identifier comes first.
    ids = [
        {"system": DEFAULT_PATIENT_SYSTEM, "value": "PSN-0001"},
        {"system": DEFAULT_PATIENT_SYSTEM, "value": "PSN-0002"},
    ]
    for order in (ids, ids[::-1]):
        patient = {**PATIENT, "identifier": order}
        with pytest.raises(InvalidInput, match="2 different ids") as refused:
            import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
        assert refused.value.field == "Patient.identifier"


def test_a_patient_id_given_twice_alike_is_read_once() -> None:
    same = [{"system": DEFAULT_PATIENT_SYSTEM, "value": "PSN-0001"}] * 2
    patient = {**PATIENT, "identifier": same}
    request = import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
    assert request.patient_ref == "PSN-0001"


def test_a_request_naming_two_products_is_refused() -> None:
    codings = [
        {"system": CATALOGUE_SYSTEM, "code": "axicabtagene-ciloleucel"},
        {"system": CATALOGUE_SYSTEM, "code": "tisagenlecleucel"},
    ]
    with pytest.raises(InvalidInput, match="2 different products") as refused:
        import_order(
            service_request(code={"concept": {"coding": codings}}), CONTEXT, transport_minutes=0
        )
    assert refused.value.field == "ServiceRequest.code.concept"


def test_a_medication_request_with_two_appointments_is_refused() -> None:
    timing = {"event": ["2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z"]}
    resource = medication_request(dosageInstruction=[{"timing": timing}])
    with pytest.raises(InvalidInput, match="one infusion appointment, not 2"):
        import_order(_in_bundle(resource, PATIENT), CONTEXT)


def test_transport_minutes_are_required_when_the_request_does_not_carry_them() -> None:
    with pytest.raises(InvalidInput, match="minutes from the pharmacy") as refused:
        import_order(service_request(), CONTEXT)
    assert refused.value.field == f"ServiceRequest.extension({TRANSPORT_EXTENSION})"


def test_a_product_outside_the_catalogue_in_force_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a product of the catalogue") as refused:
        import_order(service_request(), CONTEXT, transport_minutes=0, catalogue_codes={"other"})
    assert refused.value.field == "ServiceRequest.code.concept"


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        import_order("{not json", CONTEXT)


def test_another_centers_patient_id_system_is_not_taken_for_ours() -> None:
    # A pseudonym under another system may belong to another patient: never guess.
    other = FhirContext(patient_system="urn:oid:1.2.40.0.34.99.1")
    with pytest.raises(InvalidInput) as refused:
        import_order(service_request(), other, transport_minutes=0)
    assert refused.value.field == "Patient.identifier"


refs = st.text(alphabet=st.sampled_from("ABCXYZabc0123456789-_./"), min_size=3, max_size=64).filter(
    lambda s: s.strip() == s
)
names = st.lists(
    st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=20),
    min_size=1,
    max_size=4,
).map(" ".join)
zones = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])
orders_ = st.builds(
    OrderRequest,
    patient_ref=refs,
    display_name=names,
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    product=st.sampled_from(["tisagenlecleucel", "axicabtagene-ciloleucel", "my-trial-01"]),
    appointment_at=st.datetimes(
        # Hypothesis takes naive bounds and adds the zones itself.
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=zones,
    ).map(lambda d: d.replace(microsecond=0)),
    ward=st.sampled_from(["Haematology ward 3", "Day clinic", "ICU Süd"]),
    transport_minutes=st.integers(min_value=0, max_value=240),
    expected_din=st.none(),
    external_ref=st.text(
        alphabet=st.sampled_from("ABC0123456789-:"), min_size=1, max_size=40
    ).filter(lambda s: s.strip() == s),
    note=st.one_of(st.none(), st.text(alphabet="abc XYZ.", min_size=1).filter(str.strip)),
)


@settings(max_examples=60, deadline=None)
@given(orders_)
def test_any_order_sent_as_a_service_request_is_read_back_the_same(request: OrderRequest) -> None:
    sent = json.dumps(order_as_service_request(request, CONTEXT))
    back = import_order(sent, CONTEXT)
    assert back == request
    assert back.appointment_at.tzinfo is UTC


def test_a_patient_with_two_different_official_names_is_refused_whatever_their_order() -> None:
    # Issue 9 re-test: the name shown at the bedside was "the first" of several.
    names = [
        {"use": "official", "given": ["Maria"], "family": "Muster"},
        {"use": "official", "given": ["Anna"], "family": "Beispiel"},
    ]
    for order in (names, names[::-1]):
        patient = {**PATIENT, "name": order}
        with pytest.raises(InvalidInput, match="2 different official names") as refused:
            import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
        assert refused.value.field == "Patient.name"


def test_the_official_name_is_taken_over_a_nickname_and_an_old_name_is_ignored() -> None:
    names = [
        {"use": "nickname", "text": "Mizzi"},
        {"use": "old", "given": ["Maria"], "family": "Alt"},
        {"use": "official", "given": ["Maria"], "family": "Muster"},
    ]
    for order in (names, names[::-1]):
        patient = {**PATIENT, "name": order}
        request = import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
        assert request.display_name == "Maria Muster"


def test_two_different_names_in_use_without_an_official_one_are_refused() -> None:
    patient = {**PATIENT, "name": [{"text": "Maria Muster"}, {"use": "usual", "text": "Mia M"}]}
    with pytest.raises(InvalidInput, match="2 different names in use") as refused:
        import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
    assert refused.value.field == "Patient.name"


def test_the_same_name_written_twice_is_read_once() -> None:
    same = [{"use": "official", "given": ["Maria"], "family": "Muster"}] * 2
    patient = {**PATIENT, "name": [*same, {"use": "official", "text": "Maria  Muster"}]}
    request = import_order(service_request(contained=[patient]), CONTEXT, transport_minutes=0)
    assert request.display_name == "Maria Muster"


def test_a_request_with_two_different_identifiers_is_refused_whatever_their_order() -> None:
    ids = [
        {"system": "urn:oid:1.2.3.4", "value": "SR-2026-0042"},
        {"system": "urn:oid:1.2.3.4", "value": "SR-2026-0043"},
    ]
    for order in (ids, ids[::-1]):
        with pytest.raises(InvalidInput, match="2 different identifiers") as refused:
            import_order(service_request(identifier=order), CONTEXT, transport_minutes=0)
        assert refused.value.field == "ServiceRequest.identifier"
