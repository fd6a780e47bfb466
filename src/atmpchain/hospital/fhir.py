"""HL7 FHIR R5 for the hospital: a dose exported as a Bundle, an order imported from a request.

Export (`export_dose`): a Bundle of type ``collection`` with the Patient (the pseudonymous id,
the name as given and the date of birth: what the bedside check needs, nothing more), the
BiologicallyDerivedProduct (the product unit's identifier, the DIN as its source event, ISBT 128
product code, storage range, batch and chain of identity) and, once the infusion has started,
the Procedure of the infusion. Why a Procedure and not a MedicationAdministration:
docs/adr/0008-fhir-export.md; the unit identifier, code displays and narratives:
docs/adr/0010-identity-standards.md. Every resource carries a narrative (``text``) for a reader
without our software, and every Bundle is checked by building the `fhir.resources` models
before it leaves.

Import (`import_order`): a ServiceRequest or a MedicationRequest, alone with a contained Patient
or inside a Bundle with the Patient, becomes an `orders.OrderRequest`; the physician who sends
it still orders through `orders.order_dose`, and a pharmacist still approves. Anything missing
is refused by its FHIR path, e.g. ``ServiceRequest.occurrence[x]``.

R5 facts used here (shared/domain/fhir.md, checked against hl7.org/fhir/R5): productStatus
binds to http://hl7.org/fhir/biologicallyderived-product-status, whose R5 codes are only
``available`` and ``unavailable`` (processed, applied and discarded come with the R6 ballot), so
the finer dose status travels as a ``property``; productCategory is a Coding from
http://hl7.org/fhir/product-category. Our own identifiers and codes live under the documented
URNs below until a center configures its own.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from fhir.resources.bundle import Bundle
from fhir.resources.medicationrequest import MedicationRequest
from fhir.resources.patient import Patient
from fhir.resources.servicerequest import ServiceRequest
from pydantic import ValidationError

from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.errors import InvalidInput
from atmpchain.facility.queries import current_facility
from atmpchain.hospital.domain import DoseStatus, DoseStep, ProductCategory
from atmpchain.hospital.orders import OrderRequest
from atmpchain.hospital.queries import DoseRecord
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.product import ProductCode

# ISBT 128 URIs as in the FHIR R5 examples (ICCBBA RT042).
DIN_SYSTEM = "https://www.isbt128.org/uri/DonationIdentificationNumber"
PRODUCT_CODE_SYSTEM = "https://www.isbt128.org/uri/productdescriptioncode"
PRODUCT_STATUS_SYSTEM = "http://hl7.org/fhir/biologicallyderived-product-status"
PRODUCT_CATEGORY_SYSTEM = "http://hl7.org/fhir/product-category"
UCUM = "http://unitsofmeasure.org"

# Our own systems. A URN that names atmpchain says plainly that these are local identifiers,
# not a registry's; a center that has its own (an OID, its HIS's pseudonym system) sets them.
DEFAULT_PATIENT_SYSTEM = "urn:atmpchain:patient-ref"
CATALOGUE_SYSTEM = "urn:atmpchain:hospital-catalogue"
DOSE_SYSTEM = "urn:atmpchain:dose"
# One product unit (bag, cassette, vial): its DIN followed by its full ISBT 128 Product Code
# with the division (13 + 8 characters), e.g. A999926000001S1295V00. Not ICCBBA's MPHO Unique
# Identifier, whose composition we have not confirmed from a standard we read (ADR 0010).
PRODUCT_UNIT_SYSTEM = "urn:atmpchain:product-unit"
PROPERTY_SYSTEM = "urn:atmpchain:product-property"
WARD_EXTENSION = "urn:atmpchain:fhir:ward"
TRANSPORT_EXTENSION = "urn:atmpchain:fhir:transport-minutes"

# R5 has two product statuses: a product the center can use for its patient, or not (not here
# yet, held by QA, in use or used up, past its limit, rejected, cancelled).
_AVAILABLE = frozenset(
    {
        DoseStatus.RECEIVED,
        DoseStatus.STORED,
        DoseStatus.RETRIEVED,
        DoseStatus.THAWING,
        DoseStatus.THAWED,
        DoseStatus.ISSUED,
    }
)
# Investigational products are not mapped: their kind is not recorded in the catalogue.
_CATEGORY: dict[ProductCategory, tuple[str, str]] = {
    ProductCategory.CAR_T: ("cells", "Cells"),
    ProductCategory.GENE_MODIFIED_STEM_CELLS: ("cells", "Cells"),
    ProductCategory.SOMATIC_CELL_THERAPY: ("cells", "Cells"),
    ProductCategory.TISSUE_ENGINEERED: ("tissue", "Tissue"),
    ProductCategory.GENE_THERAPY: ("biologicalAgent", "BiologicalAgent"),
}


@dataclass(frozen=True, slots=True)
class FhirContext:
    """The systems and facility a center's FHIR resources are written with."""

    patient_system: str = DEFAULT_PATIENT_SYSTEM
    facility_name: str = "ATMP Center"
    facility_fin: str | None = None
    # The facility's descriptions of ISBT 128 Product Description Codes (Settings'
    # product_descriptions): the only source of a PDC coding's display. A brand name never is:
    # one PDC (e.g. S1295) is shared by several brands, and a receiver that keeps one display
    # per code would otherwise show one brand's name for another's bag.
    product_descriptions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: object) -> FhirContext:
        """From the Settings: facility name and FIN, the PDC descriptions, and
        `fhir_patient_system` once the settings have it (until then the documented URN)."""
        system = getattr(settings, "fhir_patient_system", None)
        descriptions = getattr(settings, "product_descriptions", None)
        return cls(
            patient_system=system if isinstance(system, str) and system else DEFAULT_PATIENT_SYSTEM,
            facility_name=str(getattr(settings, "facility_name", "ATMP Center")),
            facility_fin=getattr(settings, "facility_fin", None),
            product_descriptions=dict(descriptions) if isinstance(descriptions, Mapping) else {},
        )

    @classmethod
    def of_facility(cls, db: Database, settings: Settings) -> FhirContext:
        """As `from_settings`, with the facility's name and FIN from its stored record (the
        settings only seed it: issue 9 #15), as DINs and chains of identity are issued."""
        facility = current_facility(db, settings)
        return replace(
            cls.from_settings(settings),
            facility_name=facility.name,
            facility_fin=facility.fin,
            # Stored with the facility too (issue 9 review, item 12).
            product_descriptions=facility.descriptions,
        )


def _full_url(kind: str, key: str) -> str:
    # Stable across exports: the same dose gives the same Bundle, so a receiver can update.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{kind}|{key}')}"


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _property(code: str, display: str, **value: Any) -> dict[str, Any]:
    return {"type": {"coding": [_coding(PROPERTY_SYSTEM, code, display)]}, **value}


def _celsius(value: Decimal) -> dict[str, Any]:
    return {"value": value, "unit": "°C", "system": UCUM, "code": "Cel"}


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _narrative(*lines: str) -> dict[str, Any]:
    """A resource's human-readable text (FHIR R5 DomainResource.text), escaped XHTML."""
    body = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _patient(record: DoseRecord, context: FhirContext) -> dict[str, Any]:
    line = record.line
    return {
        "resourceType": "Patient",
        "text": _narrative(
            f"Patient {line.patient_ref}: {line.display_name}, born {record.birth_date}"
        ),
        "identifier": [{"system": context.patient_system, "value": line.patient_ref}],
        "name": [{"text": line.display_name}],
        "birthDate": record.birth_date.isoformat(),
    }


def _unit_code(record: DoseRecord) -> ProductCode | None:
    """The received unit's ISBT 128 Product Code, read from what custody stored."""
    if not record.product_code:
        return None
    try:
        return ProductCode.parse("=<" + record.product_code)
    except IdentityFormatError:
        raise InvalidInput(
            f"the stored product code '{record.product_code}' of dose {record.line.number} is "
            "not an ISBT 128 Product Code; it cannot be exported",
            field="product_code",
        ) from None


def _unit_words(record: DoseRecord) -> str:
    if record.din and record.product_code:
        return f"Product unit: DIN {record.din}, product code {record.product_code}"
    if record.expected_din:
        return f"DIN announced by the manufacturer: {record.expected_din} (not yet received)"
    return "No DIN announced yet"


def _product(record: DoseRecord, context: FhirContext) -> dict[str, Any]:
    entry = record.entry
    line = record.line
    status = line.status
    # Any open custody hold on the bag (QA's hold, a quarantine, an assessment pending, a
    # rejection, an expiry) makes the product unavailable, whoever placed it.
    available = status in _AVAILABLE and line.hold is None and not line.holds
    din = record.din or record.expected_din
    unit_code = _unit_code(record)
    # The brand is shown only on this dose's own catalogue coding (one code per brand), taken
    # from the catalogue revision the dose was ordered under.
    codings = [_coding(CATALOGUE_SYSTEM, record.catalogue_code, entry.name)]
    if unit_code is not None:
        pdc = unit_code.description_code
        codings.insert(0, _coding(PRODUCT_CODE_SYSTEM, pdc, context.product_descriptions.get(pdc)))
    storage: dict[str, Any] = {"high": _celsius(entry.storage_high_c)}
    if entry.storage_low_c is not None:
        storage["low"] = _celsius(entry.storage_low_c)
    properties = [
        _property("chain-of-identity", "Chain of identity", valueString=record.coi),
        _property("dose-status", "Dose status", valueString=status.value),
        _property(
            "catalogue-revision",
            "Catalogue revision",
            valueString=f"{record.catalogue_code} r{record.catalogue_revision}"
            + ("" if entry.verified else " (values not all verified)"),
        ),
    ]
    if record.batch_number:
        properties.append(
            _property("batch-number", "Batch number", valueString=record.batch_number)
        )
    if record.product_code:
        properties.append(
            _property("isbt-product-code", "ISBT 128 product code", valueString=record.product_code)
        )
    if line.hold:
        properties.append(_property("qa-hold", "Held for QA", valueString=line.hold))
    for hold in line.holds:
        properties.append(
            _property("custody-hold", "Custody hold on the product", valueString=hold.on_record())
        )
    if line.thaw_started_at is not None:
        thaw: dict[str, Any] = {"start": _instant(line.thaw_started_at)}
        if record.thaw_ended_at is not None:
            thaw["end"] = _instant(record.thaw_ended_at)
        properties.append(_property("thaw", "Thaw", valuePeriod=thaw))
    product: dict[str, Any] = {
        "resourceType": "BiologicallyDerivedProduct",
        "text": _narrative(
            f"{entry.name} ({entry.inn}) for patient {line.patient_ref}, dose {line.number}",
            _unit_words(record),
            f"Chain of identity: {record.coi}",
            f"Dose status: {status.value}" + (f"; held for QA: {line.hold}" if line.hold else ""),
            *(hold.on_record() for hold in line.holds),
        ),
        "productCode": {"coding": codings, "text": f"{entry.name} ({entry.inn})"},
        "productStatus": _coding(
            PRODUCT_STATUS_SYSTEM,
            "available" if available else "unavailable",
            "Available" if available else "Unavailable",
        ),
        "storageTempRequirements": storage,
        "property": properties,
    }
    category = _CATEGORY.get(entry.category)
    if category is not None:
        product["productCategory"] = _coding(PRODUCT_CATEGORY_SYSTEM, *category)
    if record.din and unit_code is not None:
        # Identifier = this product unit (DIN + product code with its division): two bags of
        # one donation have one DIN but are two products. The DIN is the source event.
        product["identifier"] = [
            {"system": PRODUCT_UNIT_SYSTEM, "value": record.din + unit_code.encode()[2:]}
        ]
        product["division"] = unit_code.division
    if din:
        product["biologicalSourceEvent"] = {"system": DIN_SYSTEM, "value": din}
    if line.limit_runs_out is not None:
        # After the thaw, the product expires when its thaw-to-infusion limit runs out.
        product["expirationDate"] = _instant(line.limit_runs_out)
    if record.external_ref:
        product["request"] = [
            {"type": "ServiceRequest", "identifier": {"value": record.external_ref}}
        ]
    return product


def _procedure(record: DoseRecord, patient_url: str, product_url: str) -> dict[str, Any] | None:
    started = record.infusion_started_at
    if started is None:
        return None
    entry = record.entry
    period: dict[str, Any] = {"start": _instant(started)}
    if record.infusion_ended_at is not None:
        period["end"] = _instant(record.infusion_ended_at)
    performers = list(
        dict.fromkeys(
            e.actor
            for e in record.events
            if e.step in (DoseStep.INFUSION_STARTED, DoseStep.INFUSION_ENDED)
        )
    )
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "text": _narrative(
            f"Infusion of {entry.name} ({entry.inn}), dose {record.line.number}, "
            f"patient {record.line.patient_ref}, ward {record.line.ward}",
            f"Started {period['start']}"
            + (f", ended {period['end']}" if "end" in period else ", in progress"),
            ("Performed by " + ", ".join(performers)) if performers else "",
        ),
        "identifier": [{"system": DOSE_SYSTEM, "value": record.line.number}],
        "status": "completed" if record.infusion_ended_at is not None else "in-progress",
        "code": {"text": f"Infusion of {entry.name} ({entry.inn})"},
        "subject": {"reference": patient_url, "display": record.line.patient_ref},
        "occurrencePeriod": period,
        "performer": [{"actor": {"display": name}} for name in performers],
        "location": {"display": record.line.ward},
        "used": [{"reference": {"reference": product_url}}],
    }
    overrides = [e for e in record.events if e.step is DoseStep.LIMIT_OVERRIDDEN]
    if overrides:
        procedure["note"] = [
            {
                "authorString": e.actor,
                "time": _instant(e.at),
                "text": "Infused after the thaw-to-infusion limit on a physician's override "
                f"(a deviation): {e.note or ''}".strip(),
            }
            for e in overrides
        ]
    if record.external_ref:
        procedure["basedOn"] = [
            {"type": "ServiceRequest", "identifier": {"value": record.external_ref}}
        ]
    return procedure


def export_dose(
    record: DoseRecord, context: FhirContext, *, exported_at: datetime | None = None
) -> dict[str, Any]:
    """A dose as a FHIR R5 Bundle (collection), checked with `fhir.resources`, as JSON data."""
    number = record.line.number
    patient_url = _full_url(context.patient_system, record.line.patient_ref)
    product_url = _full_url(DOSE_SYSTEM + ":product", number)
    entries = [
        {"fullUrl": patient_url, "resource": _patient(record, context)},
        {"fullUrl": product_url, "resource": _product(record, context)},
    ]
    procedure = _procedure(record, patient_url, product_url)
    if procedure is not None:
        entries.append({"fullUrl": _full_url(DOSE_SYSTEM, number), "resource": procedure})
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "identifier": {"system": DOSE_SYSTEM, "value": number},
        "type": "collection",
        "entry": entries,
    }
    if exported_at is not None:
        data["timestamp"] = _instant(exported_at)
    bundle = Bundle.model_validate(data)
    exported: dict[str, Any] = bundle.model_dump(mode="json", exclude_none=True)
    return exported


# -- import ---------------------------------------------------------------------------------------

RequestKind = Literal["ServiceRequest", "MedicationRequest"]
_V = TypeVar("_V")
_ORDER_INTENTS = frozenset({"order", "original-order", "filler-order", "instance-order"})


def _refuse(path: str, why: str) -> InvalidInput:
    return InvalidInput(f"{path}: {why}", field=path)


def _validation_path(kind: str, exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
    path = f"{kind}.{where}" if where else kind
    return _refuse(path, str(first["msg"]))


def _distinct(values: Iterable[_V]) -> list[_V]:
    """The different values, in order: a request that says one thing twice is read once, one
    that says two different things is refused by the caller, never read by its first."""
    return list(dict.fromkeys(values))


def _load(resource: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(resource, str | bytes):
        try:
            data = json.loads(resource)
        except (ValueError, UnicodeDecodeError):
            raise _refuse("resource", "this is not JSON") from None
    else:
        data = dict(resource)
    if not isinstance(data, dict):
        raise _refuse("resource", "give one FHIR resource (a JSON object)")
    return data


def _split(data: dict[str, Any]) -> tuple[RequestKind, dict[str, Any], dict[str, dict[str, Any]]]:
    """The request and the Patients it may refer to, by the reference that finds them."""
    kind = data.get("resourceType")
    patients: dict[str, dict[str, Any]] = {}
    if kind == "Bundle":
        requests: list[dict[str, Any]] = []
        for entry in data.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            if resource.get("resourceType") in ("ServiceRequest", "MedicationRequest"):
                requests.append(resource)
            elif resource.get("resourceType") == "Patient":
                if entry.get("fullUrl"):
                    patients[str(entry["fullUrl"])] = resource
                if resource.get("id"):
                    patients[f"Patient/{resource['id']}"] = resource
        if len(requests) != 1:
            raise _refuse(
                "Bundle.entry",
                f"the Bundle must hold exactly one ServiceRequest or MedicationRequest "
                f"(it holds {len(requests)})",
            )
        request = requests[0]
        kind = request["resourceType"]
    elif kind in ("ServiceRequest", "MedicationRequest"):
        request = data
    else:
        raise _refuse(
            "resourceType",
            f"'{kind}' cannot be imported; send a ServiceRequest or a MedicationRequest",
        )
    for contained in request.get("contained") or []:
        if isinstance(contained, dict) and contained.get("resourceType") == "Patient":
            patients[f"#{contained.get('id', '')}"] = contained
    assert kind in ("ServiceRequest", "MedicationRequest")
    return kind, request, patients


def _extension(request: Any, url: str) -> Any:
    for extension in request.extension or []:
        if extension.url == url:
            return extension
    return None


# A name in use now: "old" names (and maiden names) are history, never the name to check.
_PAST_NAMES = frozenset({"old", "maiden"})


def _name_of(names: Sequence[Any]) -> str:
    """The patient's one name for the bedside check: the official name(s), else every name in
    use. Several that differ are refused: whose name is shown must never depend on which was
    written first."""
    current = [h for h in names if getattr(h, "use", None) not in _PAST_NAMES]
    official = [h for h in current if getattr(h, "use", None) == "official"]
    chosen = official or current
    found = _distinct(
        " ".join(
            (
                human.text or " ".join(str(p) for p in [*(human.given or []), human.family] if p)
            ).split()
        )
        for human in chosen
    )
    found = [name for name in found if name]
    if not found:
        raise _refuse("Patient.name", "the bedside check needs the patient's name")
    if len(found) > 1:
        which = "official names" if official else "names in use"
        raise _refuse(
            "Patient.name",
            f"the patient carries {len(found)} different {which} ({'; '.join(found)}); the "
            "bedside check shows one name: send the one official name",
        )
    return found[0]


def _patient_of(
    kind: str, request: Any, patients: Mapping[str, dict[str, Any]], context: FhirContext
) -> tuple[str, str, date]:
    reference = request.subject.reference if request.subject else None
    if not reference:
        raise _refuse(f"{kind}.subject", "name the patient (a reference to a Patient)")
    raw = patients.get(reference)
    if raw is None:
        raise _refuse(
            f"{kind}.subject",
            f"the patient '{reference}' is neither contained in the request nor in the Bundle",
        )
    try:
        patient = Patient.model_validate(raw)
    except ValidationError as exc:
        raise _validation_path("Patient", exc) from None
    refs = _distinct(
        i.value.strip()
        for i in patient.identifier or []
        if i.system == context.patient_system and i.value and i.value.strip()
    )
    if not refs:
        raise _refuse(
            "Patient.identifier",
            f"no identifier with system {context.patient_system} (the pseudonymous patient id)",
        )
    if len(refs) > 1:
        # Whose dose this is must never depend on which identifier was written first.
        raise _refuse(
            "Patient.identifier",
            f"the patient carries {len(refs)} different ids with system "
            f"{context.patient_system} ({', '.join(refs)}); a patient is named by one",
        )
    (ref,) = refs
    name = _name_of(patient.name or [])
    birth = patient.birthDate
    if not isinstance(birth, date) or isinstance(birth, datetime):
        raise _refuse("Patient.birthDate", "the bedside check needs the full date of birth")
    return ref.strip(), name, birth


def _product_of(kind: str, request: Any, catalogue_codes: Collection[str] | None) -> str:
    path = f"{kind}.code.concept" if kind == "ServiceRequest" else f"{kind}.medication.concept"
    holder = request.code if kind == "ServiceRequest" else request.medication
    concept = holder.concept if holder is not None else None
    codes = _distinct(
        str(c.code).strip().lower()
        for c in ((concept.coding or []) if concept else [])
        if c.system == CATALOGUE_SYSTEM and c.code
    )
    if not codes:
        raise _refuse(path, f"no coding with system {CATALOGUE_SYSTEM} (the catalogue code)")
    if len(codes) > 1:
        raise _refuse(
            path,
            f"the request names {len(codes)} different products ({', '.join(codes)}); "
            "an order is for one product",
        )
    (code,) = codes
    if catalogue_codes is not None and code not in catalogue_codes:
        raise _refuse(path, f"'{code}' is not a product of the catalogue in force")
    return code


def _appointment_of(kind: str, request: Any) -> datetime:
    if kind == "ServiceRequest":
        path, value = f"{kind}.occurrence[x]", request.occurrenceDateTime
    else:
        path = f"{kind}.dosageInstruction.timing.event"
        events = _distinct(
            event
            for dosage in request.dosageInstruction or []
            for event in ((dosage.timing.event or []) if dosage.timing else [])
        )
        if len(events) > 1:
            raise _refuse(path, f"give one infusion appointment, not {len(events)}")
        value = events[0] if events else None
    if value is None:
        raise _refuse(path, "give the infusion appointment as a date and time")
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _refuse(path, "give the infusion appointment as a date and time with its zone")
    return value.astimezone(UTC)


def _ward_of(kind: str, request: Any, ward: str | None) -> str:
    if kind == "ServiceRequest":
        for place in request.location or []:
            text = (place.concept.text if place.concept else None) or (
                place.reference.display if place.reference else None
            )
            if text and text.strip():
                return str(text)
    extension = _extension(request, WARD_EXTENSION)
    if extension is not None and extension.valueString:
        return str(extension.valueString)
    if ward and ward.strip():
        return ward
    path = f"{kind}.location" if kind == "ServiceRequest" else f"{kind}.extension({WARD_EXTENSION})"
    raise _refuse(path, "name the ward where the infusion takes place")


def _transport_of(kind: str, request: Any, transport_minutes: int | None) -> int:
    extension = _extension(request, TRANSPORT_EXTENSION)
    if extension is not None and extension.valueInteger is not None:
        return int(extension.valueInteger)
    if transport_minutes is not None:
        return transport_minutes
    raise _refuse(
        f"{kind}.extension({TRANSPORT_EXTENSION})",
        "give the minutes from the pharmacy to the ward (0 when thawed on the ward)",
    )


def import_order(
    resource: Mapping[str, Any] | str | bytes,
    context: FhirContext,
    *,
    transport_minutes: int | None = None,
    ward: str | None = None,
    catalogue_codes: Collection[str] | None = None,
) -> OrderRequest:
    """An order from a FHIR R5 ServiceRequest or MedicationRequest (alone with a contained
    Patient, or in a Bundle with the Patient); refusals name the FHIR path.

    `transport_minutes` and `ward` are used when the request does not carry them;
    `catalogue_codes`, when given, are the products an order may name.
    """
    kind, raw, patients = _split(_load(resource))
    model = ServiceRequest if kind == "ServiceRequest" else MedicationRequest
    try:
        request: Any = model.model_validate(raw)
    except ValidationError as exc:
        raise _validation_path(kind, exc) from None
    if request.status != "active":
        raise _refuse(
            f"{kind}.status", f"only an active request is an order (this is {request.status})"
        )
    if request.intent not in _ORDER_INTENTS:
        raise _refuse(f"{kind}.intent", f"'{request.intent}' is not an order")
    externals = _distinct(
        i.value.strip() for i in request.identifier or [] if i.value and i.value.strip()
    )
    if len(externals) > 1:
        # The identifier refuses a duplicate order: which one counts must not be "the first".
        raise _refuse(
            f"{kind}.identifier",
            f"the request carries {len(externals)} different identifiers "
            f"({', '.join(externals)}); an order is named by one",
        )
    external = externals[0] if externals else None
    if external is None:
        raise _refuse(
            f"{kind}.identifier", "the request needs its identifier (to refuse a duplicate)"
        )
    if len(external) > 200:
        raise _refuse(f"{kind}.identifier", "the identifier is longer than 200 characters")
    patient_ref, name, birth = _patient_of(kind, request, patients, context)
    notes = "\n".join(n.text for n in request.note or [] if n.text and n.text.strip())
    return OrderRequest(
        patient_ref=patient_ref,
        display_name=name,
        birth_date=birth,
        product=_product_of(kind, request, catalogue_codes),
        appointment_at=_appointment_of(kind, request),
        ward=_ward_of(kind, request, ward),
        transport_minutes=_transport_of(kind, request, transport_minutes),
        external_ref=external,
        note=notes or None,
    )


def order_as_service_request(request: OrderRequest, context: FhirContext) -> dict[str, Any]:
    """An order as the ServiceRequest `import_order` reads: what a hospital system sends."""
    if request.external_ref is None:
        raise InvalidInput("an order sent as FHIR needs its identifier", field="external_ref")
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": context.patient_system, "value": request.patient_ref}],
                "name": [{"text": request.display_name}],
                "birthDate": request.birth_date.isoformat(),
            }
        ],
        "extension": [{"url": TRANSPORT_EXTENSION, "valueInteger": request.transport_minutes}],
        "identifier": [{"value": request.external_ref}],
        "status": "active",
        "intent": "order",
        "code": {"concept": {"coding": [_coding(CATALOGUE_SYSTEM, request.product)]}},
        "subject": {"reference": "#patient"},
        "occurrenceDateTime": request.appointment_at.isoformat(),
        "location": [{"concept": {"text": request.ward}}],
    }
    if request.note:
        data["note"] = [{"text": request.note}]
    checked: dict[str, Any] = ServiceRequest.model_validate(data).model_dump(
        mode="json", exclude_none=True
    )
    return checked
