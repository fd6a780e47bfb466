"""Demo data: a small ATMP facility's staff, created through the same audited services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from atmpchain.access import service as access
from atmpchain.accounts import sessions, tokens, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
from atmpchain.accounts.models import User
from atmpchain.clock import FixedClock
from atmpchain.custody import service as custody_service
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.demo_cleanrooms import demo_cleanrooms
from atmpchain.demo_gateway import demo_gateway
from atmpchain.demo_manufacturing import demo_manufacturing
from atmpchain.demo_release import demo_release
from atmpchain.demo_scheduling import demo_scheduling
from atmpchain.demo_translation import demo_translation
from atmpchain.environmental_monitoring.demo import seed_em_demo
from atmpchain.equipment import service as equipment_service
from atmpchain.errors import NotFound
from atmpchain.facility import service as facility_service
from atmpchain.hospital import catalogue, checks, orders, preparation, receipt, ward
from atmpchain.hospital import queries as hospital_queries
from atmpchain.hospital.entries import starting_catalogue
from atmpchain.identity import queries as identity_queries
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import Din, DonationIdentification
from atmpchain.manufacturing import mbr_format
from atmpchain.materials import service as materials_service
from atmpchain.quality import service as quality_service
from atmpchain.quality.deviations import raise_deviation
from atmpchain.uow import UnitOfWork

DEMO_PASSWORD = "atmp-demo-2026"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoUser:
    """One demo login."""

    username: str
    full_name: str
    roles: tuple[Role, ...]
    # A hospital's staff read times on their own wall clock; the audit trail stays in UTC.
    time_zone: str | None = "Europe/Vienna"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Ada Admin", (Role.ADMIN,)),
    DemoUser("qa", "Quinn Reviewer", (Role.QA,)),
    DemoUser("qp", "Petra Qualified", (Role.QUALIFIED_PERSON,)),
    DemoUser("operator", "Otto Operator", (Role.OPERATOR,)),
    DemoUser("qc", "Cora Analyst", (Role.QC_ANALYST,)),
    DemoUser("qc2", "Quentin Tester", (Role.QC_ANALYST,)),
    DemoUser("scientist", "Sami Process", (Role.PROCESS_SCIENTIST,)),
    DemoUser("researcher", "Rhea Lab", (Role.RESEARCHER,)),
    DemoUser("pharmacist", "Phil Dispenser", (Role.PHARMACIST,)),
    DemoUser("pharmacist2", "Pia Preparer", (Role.PHARMACIST,)),
    DemoUser("technician", "Tess Technician", (Role.PHARMACY_TECHNICIAN,)),
    DemoUser("labop", "Lars Cellwork", (Role.CELL_THERAPY_OPERATOR,)),
    DemoUser("nurse", "Nora Ward", (Role.NURSE,)),
    DemoUser("physician", "Dr. Hana Hart", (Role.PHYSICIAN,)),
    DemoUser("coordinator", "Tomas Trials", (Role.TRIAL_COORDINATOR,)),
    DemoUser("sponsor", "Sven Sponsor", (Role.SPONSOR_GUEST,)),
)
DEMO_DEVICE = "freezer-probe-1"
#: The demo users the installation puts in force (as `init-db --admin ... --qa ...` does).
INSTALLED: dict[str, Role] = {"admin": Role.ADMIN, "qa": Role.QA}


DEMO_FIN = "A9999"  # the example FIN of the ISBT 128 documentation, for the demo only


@dataclass(frozen=True)
class DemoTherapy:
    """A demo patient therapy: what to scan for its bag and its wristband."""

    patient_ref: str
    coi: str
    bag_scan: str
    wristband_scan: str


@dataclass(frozen=True)
class DemoResult:
    """What the demo set up, to print."""

    created: bool
    device_token: str | None
    therapies: tuple[DemoTherapy, ...] = ()


def seed(uow: UnitOfWork) -> DemoResult:
    """Create the demo staff once; later runs change nothing."""
    with uow.db.read_session() as session:
        if session.execute(select(User.id).limit(1)).first() is not None:
            known = tuple(
                DemoTherapy(
                    chain.patient_ref,
                    chain.identifier,
                    DonationIdentification(chain.dins[0], "00").encode(),
                    "&/" + chain.identifier,
                )
                for chain in reversed(identity_queries.recent_chains(session, limit=50))
                if chain.dins and chain.patient_ref in DEMO_PATIENTS
            )
            bedside = _known_bedside_therapy(session)
            return DemoResult(created=False, device_token=None, therapies=known + bedside)
    # The facility's record (its FIN goes into every DIN and chain of identity), stored with
    # the data so that `atmpchain serve` works on this database without any environment.
    facility_service.set_up_facility(
        uow,
        actor=SYSTEM_ACTOR,
        name=uow.settings.facility_name,
        fin=uow.settings.facility_fin or DEMO_FIN,
        sec_country=uow.settings.sec_country,
        sec_tissue_establishment=uow.settings.sec_tissue_establishment,
        product_descriptions=uow.settings.product_descriptions,
    )
    # The installation puts the first administrator and the first QA person in force; everyone
    # else is created by the administrator and approved by QA, as in a real facility.
    for person in DEMO_USERS:
        if person.username in INSTALLED:
            users.install_first_user(
                uow,
                role=INSTALLED[person.username],
                username=person.username,
                full_name=person.full_name,
                password=DEMO_PASSWORD,
                time_zone=person.time_zone,
            )
    admin = _login(uow, "admin")
    for person in DEMO_USERS:
        if person.username not in INSTALLED:
            users.create_user(
                uow,
                actor=admin,
                username=person.username,
                full_name=person.full_name,
                roles=person.roles,
                password=DEMO_PASSWORD,
                time_zone=person.time_zone,
                must_change_password=False,
            )
    device_id = users.create_user(
        uow,
        actor=admin,
        username=DEMO_DEVICE,
        full_name="Freezer 3 temperature probe",
        roles=[Role.DEVICE],
        password=None,
    )
    token = tokens.create_api_token(uow, actor=admin, user_id=device_id, name="demo probe")
    qa = _login(uow, "qa")
    with uow.db.read_session() as session:
        ids = {name: user_id for name, user_id in session.execute(select(User.username, User.id))}
    for username in [p.username for p in DEMO_USERS if p.username != "qa"] + [DEMO_DEVICE]:
        access.approve_access(
            uow,
            actor=qa,
            user_id=ids[username],
            password=DEMO_PASSWORD,
            comment="demo: roles match the job description",
        )
    operator = _login(uow, "operator")
    therapies = tuple(_demo_therapy(uow, operator, patient) for patient in DEMO_PATIENTS)
    _demo_storage(uow, qa)
    for therapy, slot in zip(therapies, DEMO_SLOTS, strict=True):
        custody_service.receive(
            uow,
            actor=operator,
            unit_scan=therapy.bag_scan,
            product_code=DEMO_PRODUCT_CODE,
            from_party="CAR-T manufacturer (demo), via courier",
            description="CAR-T cells, cryopreserved bag",
        )
        custody_service.put_away(
            uow, actor=operator, unit_scan=therapy.bag_scan, location_scan="LOC:" + slot
        )
    ward_dose = _demo_hospital(uow, qa)
    demo_materials(uow)
    demo_equipment(uow)
    _demo_quality(uow, qa, operator, therapies[0].bag_scan.lstrip("=")[:13])
    demo_cleanrooms(uow, DEMO_PASSWORD)
    made = demo_manufacturing(uow, DEMO_PASSWORD)
    demo_release(uow, DEMO_PASSWORD, made.finished, mbr_format.cart_example().code)
    # A month of EM in the four-room suite, with an alert trend and an action event in the open
    # session of the batch still in process (its release review shows it blocking).
    seed_em_demo(
        uow,
        qa=_login(uow, "qa"),
        qc=_login(uow, "qc"),
        operator=_login(uow, "operator"),
        batch_number=made.in_progress,
    )
    demo_translation(uow, DEMO_PASSWORD)
    demo_gateway(uow, DEMO_PASSWORD)
    demo_scheduling(uow, DEMO_PASSWORD)
    return DemoResult(created=True, device_token=token.token, therapies=(*therapies, ward_dose))


#: The patients of the demo therapies made in the facility (scanned on /identity/check).
DEMO_PATIENTS = ("P-1001", "P-1002")


#: The demo's product code (ISBT 128 product description code, collection type, division).
DEMO_PRODUCT_CODE = "S1295V00"
#: Where the demo therapies' bags are stored: slots 1 and 2 of box 1 in rack 1 of the LN2 tank.
DEMO_SLOTS = ("LN2A.R1.B1.S1", "LN2A.R1.B1.S2")
#: The demo storage units: code, name, kind, layout (counts per level).
DEMO_STORAGE: tuple[tuple[str, str, StorageKind, tuple[int, ...]], ...] = (
    ("LN2A", "LN2 vapour tank A", StorageKind.LN2_VAPOUR, (2, 2, 4)),
    ("F80A", "-80 °C freezer A", StorageKind.FREEZER_80, (2, 2, 2)),
    ("SHIP1", "Dry shipper 1", StorageKind.DRY_SHIPPER, (2,)),
)


def _demo_storage(uow: UnitOfWork, qa: Actor) -> None:
    storage.create_site(uow, actor=qa, code="HOSP", name="University Hospital (demo)")
    storage.create_room(uow, actor=qa, site_code="HOSP", code="CRYO", name="Cryostore")
    for code, name, kind, layout in DEMO_STORAGE:
        storage.create_storage_unit(
            uow,
            actor=qa,
            site_code="HOSP",
            room_code="CRYO",
            code=code,
            name=name,
            kind=kind,
            layout=layout,
        )
        storage.change_storage_status(
            uow, actor=qa, code=code, status=StorageStatus.IN_USE, reason="demo: qualified"
        )


def _demo_therapy(uow: UnitOfWork, operator: Actor, patient_ref: str) -> DemoTherapy:
    coi = identity_service.create_chain(
        uow, actor=operator, patient_ref=patient_ref, therapy="autologous CAR-T (demo)"
    )
    din = identity_service.issue_din(uow, actor=operator, purpose=f"apheresis {patient_ref}")
    bag = DonationIdentification(din, "00").encode()
    identity_service.bind_donation(uow, actor=operator, coi_identifier=coi, din_text=bag)
    return DemoTherapy(patient_ref, coi, bag, "&/" + coi)


def _login(uow: UnitOfWork, username: str) -> Actor:
    return sessions.login(uow, username=username, password=DEMO_PASSWORD).actor


# --- the hospital ATMP center ---------------------------------------------------------------

#: The hospital's LN2 slots for the manufacturers' bags (box 2 of rack 1 of the demo tank).
HOSPITAL_SLOTS = ("LN2A.R1.B2.S1", "LN2A.R1.B2.S2")
#: The patient whose dose the demo issues to the ward: the bedside check is ready to scan.
DEMO_BEDSIDE_PATIENT = "PSN-2003"
_MANUFACTURER_FIN = "B1234"  # a CAR-T manufacturer's facility (demo)
_HOSPITAL_ZONE = ZoneInfo("Europe/Vienna")


def manufacturer_bag(sequence: int, year: int) -> tuple[Din, str]:
    """A manufacturer's bag for one patient: its DIN, and what a scanner types from its label
    (a compound message: the DIN and the product code)."""
    din = Din(_MANUFACTURER_FIN, f"{year % 100:02d}", f"{sequence:06d}")
    return din, manufacturer_bag_scan(din)


def manufacturer_bag_scan(din: Din) -> str:
    """What a scanner types from a manufacturer's bag label: its DIN and product code."""
    return "=+02000" + DonationIdentification(din, "00").encode() + "=<" + DEMO_PRODUCT_CODE


def _shipper_log(now: datetime) -> str:
    """Twelve hours of a dry shipper at -175 °C, every hour, up to an hour ago."""
    start = (now - timedelta(hours=13)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = (f"{(start + timedelta(hours=h)):%Y-%m-%dT%H:%M:%SZ},-175.0\n" for h in range(12))
    return "time,temperature\n" + "".join(rows)


def _order(
    uow: UnitOfWork,
    physician: Actor,
    *,
    patient: tuple[str, str, date],
    product: str,
    appointment: datetime,
    expected_din: Din | None,
    transport: int = 15,
) -> int:
    ref, name, born = patient
    return orders.order_dose(
        uow,
        actor=physician,
        request=orders.OrderRequest(
            patient_ref=ref,
            display_name=name,
            birth_date=born,
            product=product,
            appointment_at=appointment,
            ward="Haematology ward 3",
            transport_minutes=transport,
            expected_din=expected_din.encode() + expected_din.check_character
            if expected_din
            else None,
        ),
    )


def _receive_and_store(
    uow: UnitOfWork, pharmacist: Actor, dose_id: int, bag: str, slot: str, now: datetime
) -> None:
    receipt.receive_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag,
        batch_number=f"LOT-{dose_id:03d}A",
        from_party="CAR-T manufacturer (demo), via World Courier",
        shipper_log=_shipper_log(now),
        shipper_log_name="dry-shipper.csv",
        condition_ok=True,
        password=DEMO_PASSWORD,
    )
    receipt.put_away_dose(
        uow,
        actor=pharmacist,
        dose_id=dose_id,
        unit_scan=bag,
        location_scan="LOC:" + slot,
        password=DEMO_PASSWORD,
    )


def _demo_hospital(uow: UnitOfWork, qa: Actor) -> DemoTherapy:
    """The starting catalogue (proposed by the pharmacy, approved by QA) and three doses on the
    day board: one ordered for tomorrow, one received and stored in the LN2 tank for tomorrow,
    and one thawed now, its checks signed, issued to the nurse and received on the ward for an
    infusion in an hour (the bedside check).
    Kymriah (30 min from thaw to the end of the infusion) is thawed on the ward: no transport.
    The issued dose is Yescarta (3 h from thaw to the end of the infusion), so the bedside check
    can be made for about two and a half hours after the demo is created."""
    pharmacist = _login(uow, "pharmacist")
    second = _login(uow, "pharmacist2")
    physician = _login(uow, "physician")
    codes = catalogue.load_catalogue(
        uow,
        actor=pharmacist,
        text=starting_catalogue(),
        reason="demo: the starting catalogue with its sources",
    )
    for code in codes:
        catalogue.decide_revision(
            uow,
            actor=qa,
            code=code,
            revision=1,
            approve=True,
            password=DEMO_PASSWORD,
            comment="demo: values checked against the sources listed",
        )
    now = uow.clock.now()
    tomorrow = now.astimezone(_HOSPITAL_ZONE).date() + timedelta(days=1)
    _order(
        uow,
        physician,
        patient=("PSN-2001", "Maria Muster", date(1961, 3, 14)),
        product="tisagenlecleucel",
        appointment=datetime.combine(tomorrow, time(10, 0), _HOSPITAL_ZONE),
        expected_din=None,
        transport=0,
    )
    stored_din, stored_bag = manufacturer_bag(101, now.year)
    stored = _order(
        uow,
        physician,
        patient=("PSN-2002", "Jonas Berger", date(1979, 8, 2)),
        product="tisagenlecleucel",
        appointment=datetime.combine(tomorrow, time(13, 30), _HOSPITAL_ZONE),
        expected_din=stored_din,
        transport=0,
    )
    orders.approve_order(uow, actor=pharmacist, dose_id=stored, password=DEMO_PASSWORD)
    _receive_and_store(uow, second, stored, stored_bag, HOSPITAL_SLOTS[0], now)

    issued_din, issued_bag = manufacturer_bag(102, now.year)
    issued = _order(
        uow,
        physician,
        patient=(DEMO_BEDSIDE_PATIENT, "Elena Novak", date(1988, 11, 23)),
        product="axicabtagene-ciloleucel",
        appointment=now + timedelta(minutes=60),
        expected_din=issued_din,
    )
    orders.approve_order(uow, actor=pharmacist, dose_id=issued, password=DEMO_PASSWORD)
    _receive_and_store(uow, second, issued, issued_bag, HOSPITAL_SLOTS[1], now)
    preparation.retrieve_dose(
        uow,
        actor=second,
        dose_id=issued,
        unit_scan=issued_bag,
        location_scan="LOC:" + HOSPITAL_SLOTS[1],
        password=DEMO_PASSWORD,
    )
    preparation.start_thaw(
        uow, actor=second, dose_id=issued, unit_scan=issued_bag, password=DEMO_PASSWORD
    )
    preparation.end_thaw(uow, actor=second, dose_id=issued, password=DEMO_PASSWORD)
    with uow.db.read_session() as session:
        record = hospital_queries.dose_record(session, issued)
    # Each pre-infusion check of the catalogue is confirmed and signed before the issue.
    for check in record.checks:
        checks.confirm_check(
            uow, actor=second, dose_id=issued, check=check.number, password=DEMO_PASSWORD
        )
    preparation.issue_dose(
        uow,
        actor=second,
        dose_id=issued,
        unit_scan=issued_bag,
        second_scan="&/" + record.coi,
        to_username="nurse",
        password=DEMO_PASSWORD,
    )
    # The nurse signs the receipt of the bag on the ward: the bedside check is ready to scan.
    ward.confirm_receipt_at_ward(
        uow, actor=_login(uow, "nurse"), dose_id=issued, bag_scan=issued_bag, password=DEMO_PASSWORD
    )
    return DemoTherapy(DEMO_BEDSIDE_PATIENT, record.coi, issued_bag, "&/" + record.coi)


def _known_bedside_therapy(session: Session) -> tuple[DemoTherapy, ...]:
    """The issued demo dose's scans, when the demo was made with the hospital's data."""
    try:
        trace = hospital_queries.patient_trace(session, DEMO_BEDSIDE_PATIENT)
    except NotFound:
        return ()
    return tuple(
        DemoTherapy(
            DEMO_BEDSIDE_PATIENT, d.coi, manufacturer_bag_scan(Din.parse(d.din)), "&/" + d.coi
        )
        for d in trace.doses
        if d.din is not None
    )


# --- quality: deviations and CAPA (issue 11, item 6) ------------------------------------------

#: How long ago the demo's quality story starts: the CAPAs were planned then, so that one of
#: them is overdue today (a CAPA cannot be planned with a due date already past).
_QUALITY_STORY_DAYS = 21


def _demo_quality(uow: UnitOfWork, qa: Actor, operator: Actor, din: str) -> None:
    """One minor deviation closed with its CAPA done and found effective; one major deviation
    still open, on a bag, with an overdue CAPA."""
    started = uow.clock.now() - timedelta(days=_QUALITY_STORY_DAYS)
    past = UnitOfWork(uow.db, FixedClock(started), uow.channel, uow.settings)
    planned_on = started.astimezone(_HOSPITAL_ZONE).date()
    minor = raise_deviation(
        past,
        actor=operator,
        title="Cleanroom airlock door left open",
        description="The grade B airlock door stood open for about 2 minutes during gowning.",
        planned=False,
        immediate_action="Door closed; particle counts checked and within limits.",
    )
    quality_service.classify(
        past,
        actor=qa,
        number=minor.number,
        classification="minor",
        rationale="no product open",
    )
    quality_service.assess_impact(
        past,
        actor=qa,
        number=minor.number,
        decision="no-impact",
        rationale="No open processing; particle counts stayed within grade B limits.",
    )
    quality_service.record_root_cause(
        past, actor=qa, number=minor.number, root_cause="Door closer spring worn."
    )
    quality_service.add_capa(
        past,
        actor=qa,
        number=minor.number,
        kind="corrective",
        action="Replace the door closer and add it to the maintenance plan.",
        owner=operator.username,
        due=planned_on + timedelta(days=7),
    )
    quality_service.complete_capa(
        past, actor=operator, number=minor.number, position=1, note="Closer replaced."
    )
    quality_service.check_effectiveness(
        past,
        actor=qa,
        number=minor.number,
        position=1,
        result="effective",
        note="Door closes within 5 s on every check since.",
    )
    quality_service.close_deviation(
        past, actor=qa, number=minor.number, password=DEMO_PASSWORD, comment="demo"
    )
    major = raise_deviation(
        past,
        actor=operator,
        title="Cryobag stored 40 minutes late after filling",
        description="The filled bag waited 40 minutes before controlled-rate freezing "
        "(instruction: at most 30 minutes).",
        planned=False,
        unit_dins=[din],
        immediate_action="Bag frozen at once; the delay recorded on the bag's record.",
    )
    quality_service.classify(
        past,
        actor=qa,
        number=major.number,
        classification="major",
        rationale="a critical hold time was exceeded",
    )
    quality_service.add_capa(
        past,
        actor=qa,
        number=major.number,
        kind="preventive",
        action="Book the controlled-rate freezer before filling starts.",
        owner=operator.username,
        due=planned_on + timedelta(days=10),
    )


# --- materials and equipment for a CAR-T process (issue 11, items 1 and 2) -------------------

#: The demo's materials for an autologous CAR-T made on a closed device: code, name, supplier,
#: grade, storage, risk factors (EU GMP Part IV), quantity and unit of the lot received.
DEMO_ITEMS: tuple[tuple[str, str, str, str, str, tuple[str, ...], str, str], ...] = (
    (
        "MEDIUM",
        "T cell culture medium (GMP)",
        "Miltenyi Biotec",
        "gmp",
        "2-8 °C",
        ("mycoplasma-endotoxin", "sterility-claim"),
        "3000",
        "mL",
    ),
    (
        "IL2",
        "Recombinant human IL-2",
        "CellGenix",
        "gmp",
        "2-8 °C",
        ("impurities-carried-over", "sterility-claim"),
        "10",
        "vial",
    ),
    (
        "LV-CD19",
        "Lentiviral vector, anti-CD19 CAR",
        "Academic vector core (GMP)",
        "gmp",
        "below -60 °C",
        ("replication-competent-virus", "viral-cross-contamination", "sterility-claim"),
        "20",
        "mL",
    ),
    (
        "TACT",
        "T cell activation reagent (CD3/CD28)",
        "Miltenyi Biotec",
        "ancillary-qualified",
        "2-8 °C",
        ("mycoplasma-endotoxin",),
        "5",
        "vial",
    ),
    (
        "CRYO",
        "Cryopreservation medium, 10 % DMSO",
        "BioLife Solutions",
        "gmp",
        "2-8 °C",
        ("sterility-claim", "mycoplasma-endotoxin"),
        "500",
        "mL",
    ),
    (
        "HSA",
        "Human serum albumin 20 %",
        "Plasma fractionator",
        "gmp",
        "2-25 °C",
        ("viral-cross-contamination",),
        "200",
        "mL",
    ),
)
#: Item whose lot stays in quarantine for QA to decide in the demo.
DEMO_QUARANTINED_ITEM = "HSA"
#: The demo's critical equipment: code, name, class, manufacturer, calibration interval days.
DEMO_EQUIPMENT: tuple[tuple[str, str, str, str, int], ...] = (
    (
        "EQ-PRODIGY-01",
        "Closed cell processing device (Prodigy type)",
        "closed-processing-device",
        "Miltenyi Biotec",
        365,
    ),
    ("EQ-BSC-01", "Biosafety cabinet, class II", "biosafety-cabinet", "Thermo Fisher", 365),
    ("EQ-INC-01", "CO2 incubator 1", "incubator", "Binder", 180),
    ("EQ-CRF-01", "Controlled-rate freezer", "controlled-rate-freezer", "Planer", 365),
    ("EQ-INC-02", "CO2 incubator 2", "incubator", "Binder", 180),
)
#: The one device whose calibration the demo leaves overdue: a batch step refuses it.
DEMO_OVERDUE_EQUIPMENT = "EQ-INC-02"


def demo_materials(uow: UnitOfWork) -> dict[str, str]:
    """The CAR-T item master and one lot of each material, received by the operator into
    quarantine and released by QA with a signature; the HSA lot stays quarantined, and a second
    IL-2 lot expires in ten days. Returns each item's released lot code."""
    qa = _login(uow, "qa")
    scientist = _login(uow, "scientist")
    operator = _login(uow, "operator")
    today = uow.clock.now().astimezone(_HOSPITAL_ZONE).date()
    released: dict[str, str] = {}
    for code, name, supplier, grade, storage_, factors, quantity, unit in DEMO_ITEMS:
        materials_service.create_item(
            uow,
            actor=scientist,
            code=code,
            name=name,
            supplier=supplier,
            grade=grade,
            storage_condition=storage_,
            risk_factors=factors,
        )
        lot = materials_service.receive_lot(
            uow,
            actor=operator,
            item_code=code,
            supplier_lot=f"{code[:3]}-{today.year}-0{len(released) + 1}",
            coa_reference=f"CoA {code}-{today.year}",
            expires_on=today + timedelta(days=365),
            quantity=quantity,
            unit=unit,
            location="FREEZER-80" if code == "LV-CD19" else "FRIDGE-1",
        )
        if code != DEMO_QUARANTINED_ITEM:
            materials_service.decide_lot(
                uow, actor=qa, lot_code=lot, release=True, password=DEMO_PASSWORD
            )
            released[code] = lot
    expiring = materials_service.receive_lot(
        uow,
        actor=operator,
        item_code="IL2",
        supplier_lot=f"IL2-{today.year}-old",
        coa_reference=f"CoA IL2-{today.year}-old",
        expires_on=today + timedelta(days=10),
        quantity="2",
        unit="vial",
        location="FRIDGE-1",
    )
    materials_service.decide_lot(
        uow, actor=qa, lot_code=expiring, release=True, password=DEMO_PASSWORD
    )
    return released


def demo_equipment(uow: UnitOfWork) -> None:
    """The closed processing device, a biosafety cabinet, incubators and a controlled-rate
    freezer: registered and qualified by QA, calibrated and maintained by the process
    scientist; incubator 2's calibration is overdue."""
    qa = _login(uow, "qa")
    scientist = _login(uow, "scientist")
    today = uow.clock.now().astimezone(_HOSPITAL_ZONE).date()
    for code, name, klass, maker, interval in DEMO_EQUIPMENT:
        equipment_service.register_equipment(
            uow,
            actor=qa,
            code=code,
            name=name,
            equipment_class=klass,
            manufacturer=maker,
            serial_number=f"SN-{code[3:]}",
            location="Cleanroom suite, grade C" if klass != "biosafety-cabinet" else "Grade B room",
            calibration_interval_days=interval,
            maintenance_interval_days=180,
        )
        overdue = code == DEMO_OVERDUE_EQUIPMENT
        serviced = today - timedelta(days=interval + 20 if overdue else 30)
        equipment_service.record_service(
            uow,
            actor=qa,
            code=code,
            kind="qualification",
            passed=True,
            performed_on=serviced,
            reference=f"IQ/OQ/PQ report {code}",
            password=DEMO_PASSWORD,
        )
        for kind in ("calibration", "maintenance"):
            equipment_service.record_service(
                uow,
                actor=scientist,
                code=code,
                kind=kind,
                passed=True,
                performed_on=today - timedelta(days=30) if kind == "maintenance" else serviced,
                reference=f"{kind[:3].upper()}-{code}-{serviced.year}",
                password=DEMO_PASSWORD,
            )
