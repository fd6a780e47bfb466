"""The clinical-trial gateway's pure rules: what an inquiry says, how it moves, how long it may
wait, and what the regulation's clock makes of a planned submission (issue 16, ADR 0032).

No SQLAlchemy, FastAPI or Typer here: the services and pages call these functions.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from atmpchain.errors import InvalidInput

E = TypeVar("E", bound=enum.Enum)


class Labelled(enum.Enum):
    """An enum whose members carry the words people read."""

    @property
    def label(self) -> str:
        """As pages say it."""
        return str(self.value).replace("_", " ")


class SponsorType(Labelled):
    """Who asks: the domain file's three kinds of sponsor."""

    INDUSTRY = "industry"
    ACADEMIC = "academic"
    INVESTIGATOR = "investigator_initiated"


class ProductClass(Labelled):
    """The ATMP classes of Regulation 1394/2007."""

    GENE_THERAPY = "gene_therapy"
    SOMATIC_CELL = "somatic_cell_therapy"
    TISSUE_ENGINEERED = "tissue_engineered"
    COMBINED = "combined"


class Origin(Labelled):
    """Whose cells: the patient's own, or a donor's."""

    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class Phase(Labelled):
    """The trial's phase."""

    PHASE_1 = "phase_1"
    PHASE_1_2 = "phase_1_2"
    PHASE_2 = "phase_2"
    PHASE_3 = "phase_3"
    NOT_A_TRIAL = "not_a_trial"


class Service(Labelled):
    """What the sponsor asks the center to do."""

    MANUFACTURE = "manufacture"
    TECH_TRANSFER = "technology_transfer"
    STORAGE = "storage"
    PREPARATION = "preparation"
    APHERESIS = "apheresis"
    QC_TESTING = "qc_testing"


class Presentation(Labelled):
    """How the product arrives or leaves: fresh, or cryopreserved in LN2."""

    FRESH = "fresh"
    CRYOPRESERVED = "cryopreserved"


class CleanroomGrade(Labelled):
    """The cleanroom the process needs."""

    A_IN_B = "grade_a_in_b"
    CLOSED_IN_C = "closed_system_in_c"
    CLOSED_IN_D = "closed_system_in_d"
    NONE = "none"


class RegulatoryStatus(Labelled):
    """Where the product stands with the regulators today."""

    NONE = "none_yet"
    IMPD_READY = "impd_ready"
    CTA_SUBMITTED = "cta_submitted"
    CTA_AUTHORISED = "cta_authorised"
    HOSPITAL_EXEMPTION = "hospital_exemption"


class Purpose(Labelled):
    """Why the product is to be given: the question that separates the two routes."""

    SYSTEMATIC_EVALUATION = "systematic_evaluation"
    INDIVIDUAL_PATIENTS = "individual_patients"


class InquiryState(Labelled):
    """Where an inquiry is, from receipt to its outcome."""

    RECEIVED = "received"
    TRIAGE = "triage"
    QUESTIONS = "questions_to_sponsor"
    FEASIBILITY = "feasibility"
    OFFER = "offer"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def closed(self) -> bool:
        """Whether the inquiry has reached its outcome."""
        return self in CLOSED_STATES


CLOSED_STATES = frozenset({InquiryState.ACCEPTED, InquiryState.DECLINED, InquiryState.WITHDRAWN})

_S = InquiryState
#: The moves the triage workflow allows. Withdrawal is open from every open state; a decline
#: too; acceptance only from an offer.
TRANSITIONS: Mapping[InquiryState, frozenset[InquiryState]] = {
    _S.RECEIVED: frozenset({_S.TRIAGE, _S.DECLINED, _S.WITHDRAWN}),
    _S.TRIAGE: frozenset({_S.QUESTIONS, _S.FEASIBILITY, _S.DECLINED, _S.WITHDRAWN}),
    _S.QUESTIONS: frozenset({_S.TRIAGE, _S.FEASIBILITY, _S.DECLINED, _S.WITHDRAWN}),
    _S.FEASIBILITY: frozenset({_S.QUESTIONS, _S.OFFER, _S.DECLINED, _S.WITHDRAWN}),
    _S.OFFER: frozenset({_S.QUESTIONS, _S.ACCEPTED, _S.DECLINED, _S.WITHDRAWN}),
    _S.ACCEPTED: frozenset(),
    _S.DECLINED: frozenset(),
    _S.WITHDRAWN: frozenset(),
}


def check_transition(current: InquiryState, target: InquiryState) -> None:
    """Refuse a move the workflow does not allow, naming the moves it does."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        options = ", ".join(sorted(s.label for s in allowed)) or "none: the inquiry is closed"
        raise InvalidInput(
            f"an inquiry in '{current.label}' cannot move to '{target.label}'; it may move to: "
            f"{options}",
            "to_state",
        )


# --- the inquiry's fields -------------------------------------------------------------------------

MAX_SHORT = 200
MAX_TEXT = 4000
MAX_PATIENTS = 10_000
MAX_BAGS = 20
MAX_PROCESS_DAYS = 365
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Words people read for each field, in the form's order: the messages name them.
FIELD_LABELS: dict[str, str] = {
    "sponsor_type": "sponsor type",
    "sponsor_name": "sponsor (organisation)",
    "contact_name": "contact name",
    "contact_email": "contact e-mail",
    "title": "trial title",
    "indication": "indication",
    "product_class": "product class",
    "origin": "autologous or allogeneic",
    "gmo": "GMO",
    "phase": "phase",
    "patients": "number of patients",
    "accrual_per_month": "accrual (patients per month)",
    "countries": "countries",
    "sites": "sites",
    "services": "services requested",
    "starting_material": "starting material and collection",
    "presentation": "fresh or cryopreserved",
    "bags_per_patient": "bags per patient",
    "platform": "process platform",
    "process_days": "process duration (days)",
    "cleanroom_grade": "cleanroom grade",
    "qc_assays": "QC assays and who runs them",
    "regulatory_status": "regulatory status",
    "purpose": "purpose",
    "first_patient_in": "first patient in",
    "planned_submission": "planned CTA submission",
    "funding": "funding",
}


@dataclass(frozen=True, slots=True)
class InquiryForm:
    """An inquiry as the sponsor submitted it, every field checked."""

    sponsor_type: SponsorType
    sponsor_name: str
    contact_name: str
    contact_email: str
    title: str
    indication: str
    product_class: ProductClass
    origin: Origin
    gmo: bool
    phase: Phase
    patients: int
    accrual_per_month: int
    countries: str
    sites: str
    services: tuple[Service, ...]
    starting_material: str
    presentation: Presentation
    bags_per_patient: int
    platform: str
    process_days: int | None
    cleanroom_grade: CleanroomGrade
    qc_assays: str
    regulatory_status: RegulatoryStatus
    purpose: Purpose
    first_patient_in: date | None
    planned_submission: date | None
    funding: str

    @property
    def bags_needed(self) -> int:
        """LN2 positions the whole trial needs at once, at worst (one per bag)."""
        if self.presentation is not Presentation.CRYOPRESERVED:
            return 0
        return self.patients * self.bags_per_patient

    def as_record(self) -> dict[str, object]:
        """The values as the audit record and the API carry them."""
        out: dict[str, object] = {}
        for name in FIELD_LABELS:
            value = getattr(self, name)
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = [v.value for v in value]
            elif isinstance(value, date):
                value = value.isoformat()
            out[name] = value
        return out


def _label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " "))


def clean_text(value: object, field: str, *, limit: int = MAX_SHORT, required: bool = True) -> str:
    """Free text, trimmed; required text must say something; no control characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise InvalidInput(f"{_label(field)} is required", field)
        return ""
    if len(text) > limit:
        raise InvalidInput(f"{_label(field)} must be at most {limit} characters", field)
    if _CONTROL.search(text):
        raise InvalidInput(f"{_label(field)} contains control characters", field)
    return text


def parse_choice(value: object, kind: type[E], field: str) -> E:
    """One of an enum's values, as the form sends it; the message lists them."""
    text = value.strip().lower() if isinstance(value, str) else ""
    for member in kind:
        if member.value == text:
            return member
    options = ", ".join(str(m.value) for m in kind)
    if not text:
        raise InvalidInput(f"{_label(field)} is required: choose one of {options}", field)
    raise InvalidInput(f"{_label(field)} '{text[:30]}' is not one of: {options}", field)


def parse_count(
    value: object, field: str, *, low: int, high: int, required: bool = True
) -> int | None:
    """A whole number from `low` to `high`; None when blank and not required."""
    text = value.strip() if isinstance(value, str) else "" if value is None else str(value)
    if not text:
        if required:
            raise InvalidInput(
                f"{_label(field)} is required: a whole number from {low} to {high}", field
            )
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not low <= int(text) <= high:
        raise InvalidInput(f"{_label(field)} must be a whole number from {low} to {high}", field)
    return int(text)


def parse_yes_no(value: object, field: str) -> bool:
    """'yes' or 'no' (the form's radio buttons)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    raise InvalidInput(f"{_label(field)} is required: answer yes or no", field)


def parse_email(value: object, field: str = "contact_email") -> str:
    """An e-mail address of the usual shape (the sponsor's link goes to it)."""
    text = clean_text(value, field, limit=254)
    if not _EMAIL.match(text):
        raise InvalidInput(f"{_label(field)} '{text[:40]}' is not an e-mail address", field)
    return text


def parse_services(values: Sequence[object]) -> tuple[Service, ...]:
    """At least one service, each known, in the enum's order, without repeats."""
    chosen = {
        parse_choice(v, Service, "services") for v in values if isinstance(v, str) and v.strip()
    }
    if not chosen:
        options = ", ".join(s.value for s in Service)
        raise InvalidInput(f"{_label('services')}: choose at least one of {options}", "services")
    return tuple(s for s in Service if s in chosen)


def parse_inquiry(
    raw: Mapping[str, object],
    services: Sequence[object],
    *,
    parse_date: object,
) -> InquiryForm:
    """Check a submitted inquiry field by field; the first fault is refused naming its field.

    `parse_date(text, field) -> date` is the shared bounded date rule (moments.parse_day), passed
    in so that this module stays free of everything but the standard library.
    """
    day = parse_date  # typed loosely above to keep the signature short

    def optional_day(field: str) -> date | None:
        text = raw.get(field)
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            result: date = day(text.strip(), field)  # type: ignore[operator]
        except InvalidInput as exc:
            raise InvalidInput(f"{_label(field)}: {exc.message}", field) from None
        return result

    presentation = parse_choice(raw.get("presentation"), Presentation, "presentation")
    bags = parse_count(
        raw.get("bags_per_patient"), "bags_per_patient", low=0, high=MAX_BAGS, required=False
    )
    if presentation is Presentation.CRYOPRESERVED and not bags:
        raise InvalidInput(
            f"{_label('bags_per_patient')} is required for a cryopreserved product: "
            f"1 to {MAX_BAGS}",
            "bags_per_patient",
        )
    patients = parse_count(raw.get("patients"), "patients", low=1, high=MAX_PATIENTS)
    accrual = parse_count(
        raw.get("accrual_per_month"), "accrual_per_month", low=1, high=MAX_PATIENTS
    )
    assert patients is not None and accrual is not None
    form = InquiryForm(
        sponsor_type=parse_choice(raw.get("sponsor_type"), SponsorType, "sponsor_type"),
        sponsor_name=clean_text(raw.get("sponsor_name"), "sponsor_name"),
        contact_name=clean_text(raw.get("contact_name"), "contact_name"),
        contact_email=parse_email(raw.get("contact_email")),
        title=clean_text(raw.get("title"), "title"),
        indication=clean_text(raw.get("indication"), "indication"),
        product_class=parse_choice(raw.get("product_class"), ProductClass, "product_class"),
        origin=parse_choice(raw.get("origin"), Origin, "origin"),
        gmo=parse_yes_no(raw.get("gmo"), "gmo"),
        phase=parse_choice(raw.get("phase"), Phase, "phase"),
        patients=patients,
        accrual_per_month=accrual,
        countries=clean_text(raw.get("countries"), "countries"),
        sites=clean_text(raw.get("sites"), "sites", limit=MAX_TEXT),
        services=parse_services(services),
        starting_material=clean_text(
            raw.get("starting_material"), "starting_material", limit=MAX_TEXT
        ),
        presentation=presentation,
        bags_per_patient=bags or 0,
        platform=clean_text(raw.get("platform"), "platform", required=False),
        process_days=parse_count(
            raw.get("process_days"), "process_days", low=1, high=MAX_PROCESS_DAYS, required=False
        ),
        cleanroom_grade=parse_choice(raw.get("cleanroom_grade"), CleanroomGrade, "cleanroom_grade"),
        qc_assays=clean_text(raw.get("qc_assays"), "qc_assays", limit=MAX_TEXT, required=False),
        regulatory_status=parse_choice(
            raw.get("regulatory_status"), RegulatoryStatus, "regulatory_status"
        ),
        purpose=parse_choice(raw.get("purpose"), Purpose, "purpose"),
        first_patient_in=optional_day("first_patient_in"),
        planned_submission=optional_day("planned_submission"),
        funding=clean_text(raw.get("funding"), "funding", limit=MAX_TEXT, required=False),
    )
    if form.accrual_per_month > form.patients:
        raise InvalidInput(
            f"{_label('accrual_per_month')} ({form.accrual_per_month}) cannot exceed the number "
            f"of patients ({form.patients})",
            "accrual_per_month",
        )
    if Service.MANUFACTURE in form.services and not form.platform:
        raise InvalidInput(
            f"{_label('platform')} is required when manufacture is requested", "platform"
        )
    return form


# --- attachments ----------------------------------------------------------------------------------


class AttachmentKind(Labelled):
    """The documents an inquiry may carry."""

    SYNOPSIS = "synopsis"
    IMPD_SUMMARY = "impd_summary"


#: The largest attachment accepted, per file.
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: What the public form's body may hold at most: both files and the fields, with room for the
#: multipart framing. The gate refuses a larger body before reading it.
MAX_INQUIRY_BODY_BYTES = 2 * MAX_ATTACHMENT_BYTES + 128 * 1024
#: Accepted file types, by their first bytes (what the file is, not what it claims to be).
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "PDF"),
    (
        b"PK\x03\x04",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word (.docx)",
    ),
)
_EXTENSIONS = {"application/pdf": (".pdf",), _MAGIC[1][1]: (".docx",)}
_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")


@dataclass(frozen=True, slots=True)
class CheckedAttachment:
    """An attachment that passed the checks: its kind, name, type, size and SHA-256."""

    kind: AttachmentKind
    filename: str
    content_type: str
    size: int
    sha256: str


def check_attachment(kind: AttachmentKind, filename: str, content: bytes) -> CheckedAttachment:
    """Refuse an empty, oversized or unaccepted file, naming the field; fingerprint the rest."""
    field = kind.value
    name = _FILENAME.sub("_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[:120]
    if not content:
        raise InvalidInput(f"the {kind.label} file '{name}' is empty", field)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(
            f"the {kind.label} file is {len(content):,} bytes; at most "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB is accepted",
            field,
        )
    for magic, content_type, words in _MAGIC:
        if content.startswith(magic):
            if not name.lower().endswith(_EXTENSIONS[content_type]):
                raise InvalidInput(
                    f"the {kind.label} file '{name}' is a {words} file but is not named so "
                    f"({' or '.join(_EXTENSIONS[content_type])})",
                    field,
                )
            return CheckedAttachment(kind, name, content_type, len(content), sha256_hex(content))
    raise InvalidInput(
        f"the {kind.label} file '{name}' is not a PDF or Word (.docx) document", field
    )


def sha256_hex(content: bytes) -> str:
    """The content's SHA-256, as hex."""
    return hashlib.sha256(content).hexdigest()


# --- references and the private status link -------------------------------------------------------


def inquiry_reference(year: int, sequence: int) -> str:
    """The reference the sponsor quotes: INQ-2026-0042."""
    return f"INQ-{year}-{sequence:04d}"


def new_status_token() -> str:
    """The private status link's secret: 256 random bits (only its hash is stored)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a status token: its SHA-256 (a leaked table opens no link)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- service-level timers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateStay:
    """One period an inquiry spent in a state."""

    state: InquiryState
    entered_at: datetime
    left_at: datetime | None

    def length(self, now: datetime) -> timedelta:
        """How long it lasted (or has lasted so far)."""
        return (self.left_at or now) - self.entered_at


def stays(received_at: datetime, moves: Sequence[tuple[datetime, InquiryState]]) -> list[StateStay]:
    """The periods in each state, from receipt and the moves in time order."""
    out: list[StateStay] = []
    state, since = InquiryState.RECEIVED, received_at
    for at, target in moves:
        out.append(StateStay(state, since, at))
        state, since = target, at
    out.append(StateStay(state, since, None))
    return out


def time_in_states(stay_list: Sequence[StateStay], now: datetime) -> dict[InquiryState, timedelta]:
    """Total time in each state visited (a state visited twice adds up)."""
    totals: dict[InquiryState, timedelta] = {}
    for stay in stay_list:
        totals[stay.state] = totals.get(stay.state, timedelta()) + stay.length(now)
    return totals


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """The center's targets: first answer, and the longest an inquiry waits in each state."""

    first_answer: timedelta
    per_state: Mapping[InquiryState, timedelta]

    def overdue_by(
        self, state: InquiryState, entered_at: datetime, now: datetime
    ) -> timedelta | None:
        """How far past its target the current stay is, or None while within it."""
        target = self.per_state.get(state)
        if target is None or state.closed:
            return None
        late = now - entered_at - target
        return late if late > timedelta() else None


def first_answer_overdue(
    levels: ServiceLevels, received_at: datetime, first_answer_at: datetime | None, now: datetime
) -> bool:
    """Whether the sponsor still waits for a first answer beyond the target."""
    return first_answer_at is None and now - received_at > levels.first_answer


# --- the CTR timeline -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CtrDurations:
    """The Clinical Trials Regulation's days (domain file, V(2)); configurable data."""

    validation: int
    part_one: int
    rfi_extension: int
    sponsor_response: int
    atmp_extension: int
    decision: int
    source: str


@dataclass(frozen=True, slots=True)
class Milestone:
    """One dated step of the timeline."""

    name: str
    day: date
    note: str


def ctr_timeline(
    submission: date, durations: CtrDurations, *, atmp: bool, rfi: bool
) -> list[Milestone]:
    """The latest dates of each step for an application submitted on `submission`.

    Worst case within the regulation: validation takes its full days; a request for information
    stops the clock for the sponsor's answer and extends the assessment; an ATMP adds its days
    to the assessment; the decision follows.
    """
    d = durations
    out = [Milestone("Submission in CTIS", submission, "the clock starts")]
    validated = submission + timedelta(days=d.validation)
    out.append(Milestone("Validation", validated, f"up to {d.validation} days"))
    assessed = validated + timedelta(days=d.part_one)
    out.append(Milestone("Part I assessment", assessed, f"{d.part_one} days"))
    if rfi:
        stop = assessed
        answered = stop + timedelta(days=d.sponsor_response)
        out.append(
            Milestone(
                "Request for information answered",
                answered,
                f"clock stopped: the sponsor answers within {d.sponsor_response} days",
            )
        )
        assessed = answered + timedelta(days=d.rfi_extension - d.sponsor_response)
        out.append(
            Milestone(
                "Assessment of the answer",
                assessed,
                f"assessment extended to {d.part_one + d.rfi_extension} days in all",
            )
        )
    if atmp:
        assessed = assessed + timedelta(days=d.atmp_extension)
        out.append(
            Milestone("ATMP extension", assessed, f"{d.atmp_extension} more days for an ATMP")
        )
    out.append(
        Milestone("Decision", assessed + timedelta(days=d.decision), f"within {d.decision} days")
    )
    return out


# --- the regulatory route -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One rule of the route helper: when `field` has one of `values`, it points to `route`."""

    field: str
    values: frozenset[str]
    route: str
    why: str
    source: str


@dataclass(frozen=True, slots=True)
class RouteAdvice:
    """The route the answers point to, and every rule that spoke."""

    route: str
    reasons: tuple[RouteRule, ...]


CLINICAL_TRIAL = "clinical_trial"
HOSPITAL_EXEMPTION = "hospital_exemption"


def advise_route(answers: Mapping[str, object], rules: Sequence[RouteRule]) -> RouteAdvice:
    """Hospital exemption only when no rule points to a clinical trial; every reason is shown.

    A single rule for a trial (systematic evaluation, several Member States, a trial phase)
    outweighs any number for the exemption: the exemption is the narrow route.
    """
    matched = tuple(r for r in rules if str(answers.get(r.field, "")) in r.values)
    trial = any(r.route == CLINICAL_TRIAL for r in matched)
    route = CLINICAL_TRIAL if trial or not matched else HOSPITAL_EXEMPTION
    return RouteAdvice(route, matched)


# --- feasibility ----------------------------------------------------------------------------------


class Rating(Labelled):
    """A criterion's verdict."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One feasibility criterion: its verdict and the evidence it rests on."""

    key: str
    name: str
    rating: Rating
    evidence: str


def overall(criteria: Sequence[Criterion]) -> Rating:
    """Red if any is red, else amber if any is amber, else green."""
    ratings = {c.rating for c in criteria}
    for worst in (Rating.RED, Rating.AMBER):
        if worst in ratings:
            return worst
    return Rating.GREEN


def ln2_rating(needed: int, free: int, margin: float = 0.2) -> Rating:
    """Enough free LN2 positions for every bag, with a margin for green; the same rule holds
    for free suite-days against the suite-days a trial's batches need."""
    if needed <= 0:
        return Rating.GREEN
    if free < needed:
        return Rating.RED
    return Rating.GREEN if free >= needed * (1 + margin) else Rating.AMBER


def capacity_rating(needed: int, available: int) -> Rating:
    """A count of people or slots against what is needed: none red, fewer amber."""
    if needed <= 0 or available >= needed:
        return Rating.GREEN
    return Rating.RED if available == 0 else Rating.AMBER


# --- trials ---------------------------------------------------------------------------------------

_EU_CT = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}$")


def parse_eu_ct_number(value: object, field: str = "eu_ct_number") -> str:
    """An EU CT number as CTIS issues it: 2023-501234-12-00."""
    text = value.strip() if isinstance(value, str) else ""
    if not _EU_CT.match(text):
        raise InvalidInput(
            f"EU CT number '{text[:30]}' must look like 2023-501234-12-00 (year, six digits, "
            "two, two)",
            field,
        )
    return text
