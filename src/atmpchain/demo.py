"""Demo data: a small ATMP facility's staff, created through the same audited services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from atmpchain.accounts import access, sessions, tokens, users
from atmpchain.accounts.domain import SYSTEM_ACTOR, Actor, Role
from atmpchain.accounts.models import User
from atmpchain.custody import service as custody_service
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.identity import queries as identity_queries
from atmpchain.identity import service as identity_service
from atmpchain.identity.din import DonationIdentification
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
    DemoUser("scientist", "Sami Process", (Role.PROCESS_SCIENTIST,)),
    DemoUser("researcher", "Rhea Lab", (Role.RESEARCHER,)),
    DemoUser("pharmacist", "Phil Dispenser", (Role.PHARMACIST,)),
    DemoUser("nurse", "Nora Ward", (Role.NURSE,)),
    DemoUser("physician", "Dr. Hana Hart", (Role.PHYSICIAN,)),
    DemoUser("coordinator", "Tomas Trials", (Role.TRIAL_COORDINATOR,)),
    DemoUser("sponsor", "Sven Sponsor", (Role.SPONSOR_GUEST,)),
)
DEMO_DEVICE = "freezer-probe-1"


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
                for chain in reversed(identity_queries.recent_chains(session, limit=2))
                if chain.dins
            )
            return DemoResult(created=False, device_token=None, therapies=known)
    first = DEMO_USERS[0]
    users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username=first.username,
        full_name=first.full_name,
        roles=first.roles,
        password=DEMO_PASSWORD,
        must_change_password=False,
    )
    admin = _login(uow, first.username)
    for person in DEMO_USERS[1:]:
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
    for person in DEMO_USERS:
        if person.username != "qa":
            access.approve_access(
                uow,
                actor=qa,
                user_id=ids[person.username],
                password=DEMO_PASSWORD,
                comment="demo: roles match the job description",
            )
    operator = _login(uow, "operator")
    therapies = tuple(_demo_therapy(uow, operator, patient) for patient in ("P-1001", "P-1002"))
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
    return DemoResult(created=True, device_token=token.token, therapies=therapies)


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
