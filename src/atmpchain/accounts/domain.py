"""People, roles and permissions: the pure rules of who may do what (Annex 11 §12)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atmpchain.errors import Conflict, InvalidInput, PermissionDenied


class Role(enum.Enum):
    """The roles people (and machines) hold in an ATMP facility."""

    ADMIN = "admin"
    RESEARCHER = "researcher"
    PROCESS_SCIENTIST = "process_scientist"
    OPERATOR = "operator"
    QC_ANALYST = "qc_analyst"
    QA = "qa"
    QUALIFIED_PERSON = "qualified_person"
    PHARMACIST = "pharmacist"
    NURSE = "nurse"
    PHYSICIAN = "physician"
    TRIAL_COORDINATOR = "trial_coordinator"
    SPONSOR_GUEST = "sponsor_guest"
    DEVICE = "device"

    @property
    def label(self) -> str:
        """The role's name as people say it."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "System administrator",
    Role.RESEARCHER: "Researcher",
    Role.PROCESS_SCIENTIST: "Process scientist",
    Role.OPERATOR: "Operator",
    Role.QC_ANALYST: "QC analyst",
    Role.QA: "Quality assurance",
    Role.QUALIFIED_PERSON: "Qualified Person",
    Role.PHARMACIST: "Pharmacist",
    Role.NURSE: "Nurse",
    Role.PHYSICIAN: "Physician",
    Role.TRIAL_COORDINATOR: "Trial coordinator",
    Role.SPONSOR_GUEST: "Sponsor guest",
    Role.DEVICE: "Device (sensor or integration)",
}

#: Roles that belong to machines: they authenticate with API tokens and never sign.
MACHINE_ROLES = frozenset({Role.DEVICE})


class Permission(enum.Enum):
    """Things a role may do. Each capability adds its own permissions here."""

    VIEW_DASHBOARD = "dashboard.view"
    MANAGE_USERS = "users.manage"
    APPROVE_USER_ACCESS = "users.approve_access"
    MANAGE_API_TOKENS = "api_tokens.manage"
    READ_AUDIT_TRAIL = "audit.read"
    EXPORT_AUDIT_TRAIL = "audit.export"
    VERIFY_AUDIT_TRAIL = "audit.verify"
    SIGN_RECORDS = "records.sign"
    ISSUE_IDENTIFIERS = "identity.issue"
    PRINT_LABELS = "identity.print_labels"
    CHECK_IDENTITY = "identity.check"
    MANAGE_STORAGE = "custody.manage_storage"
    MOVE_PRODUCT = "custody.move_product"
    VIEW_CUSTODY = "custody.view"
    RECORD_READINGS = "coldchain.record_readings"
    MANAGE_SENSORS = "coldchain.manage_sensors"
    VIEW_TEMPERATURES = "coldchain.view"
    ASSESS_IMPACT = "coldchain.assess_impact"
    PROPOSE_CATALOGUE_CHANGE = "hospital.propose_catalogue_change"
    APPROVE_CATALOGUE_CHANGE = "hospital.approve_catalogue_change"
    ORDER_DOSE = "hospital.order_dose"
    APPROVE_DOSE_ORDER = "hospital.approve_dose_order"
    PREPARE_DOSE = "hospital.prepare_dose"
    DECIDE_RECEIPT = "hospital.decide_receipt"
    ADMINISTER_DOSE = "hospital.administer_dose"
    OVERRIDE_INFUSION_LIMIT = "hospital.override_infusion_limit"
    VIEW_DOSES = "hospital.view_doses"
    TRACE_PATIENTS = "hospital.trace_patients"
    ACKNOWLEDGE_ALARMS = "coldchain.acknowledge_alarms"
    # The facility's own details (name, ISBT 128 FIN): an installation matter.
    MANAGE_FACILITY = "facility.manage"
    # manufacturing (issue 11): master batch records, batches, genealogy
    AUTHOR_MBR = "manufacturing.author_mbr"
    APPROVE_MBR = "manufacturing.approve_mbr"
    EXECUTE_BATCH = "manufacturing.execute_batch"
    VERIFY_BATCH_STEP = "manufacturing.verify_step"
    REJECT_BATCH = "manufacturing.reject_batch"
    VIEW_BATCHES = "manufacturing.view"
    TRACE_GENEALOGY = "manufacturing.trace"
    RECORD_RETENTION = "manufacturing.record_retention"
    # Materials and equipment for manufacture (issue 11, ADR 0022).
    MANAGE_MATERIALS = "materials.manage"
    RECEIVE_MATERIALS = "materials.receive"
    RELEASE_MATERIALS = "materials.release"
    VIEW_MATERIALS = "materials.view"
    MANAGE_EQUIPMENT = "equipment.manage"
    SERVICE_EQUIPMENT = "equipment.service"
    QUALIFY_EQUIPMENT = "equipment.qualify"
    VIEW_EQUIPMENT = "equipment.view"
    # Quality: deviations and CAPA (issue 11, item 6; ADR 0023).
    RAISE_DEVIATION = "quality.raise_deviation"
    VIEW_DEVIATIONS = "quality.view_deviations"
    INVESTIGATE_DEVIATION = "quality.investigate_deviation"
    RECORD_CAPA_DONE = "quality.record_capa_done"
    CLOSE_DEVIATION = "quality.close_deviation"


_PEOPLE = frozenset(Role) - MACHINE_ROLES

# Who may do what. Kept as data so that the permission matrix test and the users page read the
# same table the services enforce.
ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_DASHBOARD: _PEOPLE,
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    # Annex 11 §12.1: access is granted by the system owner; here QA approves what IT set up, so
    # the person who grants a role is never the one who approves it.
    Permission.APPROVE_USER_ACCESS: frozenset({Role.QA}),
    Permission.MANAGE_API_TOKENS: frozenset({Role.ADMIN}),
    Permission.READ_AUDIT_TRAIL: frozenset({Role.ADMIN, Role.QA, Role.QUALIFIED_PERSON}),
    Permission.EXPORT_AUDIT_TRAIL: frozenset({Role.QA, Role.QUALIFIED_PERSON}),
    Permission.VERIFY_AUDIT_TRAIL: frozenset({Role.ADMIN, Role.QA, Role.QUALIFIED_PERSON}),
    Permission.SIGN_RECORDS: _PEOPLE - {Role.SPONSOR_GUEST},
    # Issuing DINs and chains of identity, and labelling, happen at collection, manufacture and
    # receipt: the people who handle the product there.
    Permission.ISSUE_IDENTIFIERS: frozenset(
        {Role.OPERATOR, Role.PHARMACIST, Role.QA, Role.PROCESS_SCIENTIST}
    ),
    # Nurses print patients' wristbands on the ward.
    Permission.PRINT_LABELS: frozenset(
        {
            Role.OPERATOR,
            Role.PHARMACIST,
            Role.QA,
            Role.PROCESS_SCIENTIST,
            Role.QC_ANALYST,
            Role.NURSE,
        }
    ),
    # Anyone who hands a product on or gives it to a patient checks its identity.
    Permission.CHECK_IDENTITY: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.NURSE,
            Role.PHYSICIAN,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Setting up sites, rooms and storage units, and taking a unit in or out of use, is a
    # qualification matter: QA decides, and administrators set up the records.
    Permission.MANAGE_STORAGE: frozenset({Role.QA, Role.ADMIN}),
    # Everyone who physically handles product records its movements. Each of these roles also
    # checks identity, which every scan of a patient-specific unit does. A physician who infuses
    # a dose takes the bag at the bedside and disposes of the empty bag.
    Permission.MOVE_PRODUCT: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.PHARMACIST,
            Role.NURSE,
            Role.PHYSICIAN,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Where a unit is and who held it: anyone who handles or answers for product.
    Permission.VIEW_CUSTODY: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.NURSE,
            Role.PHYSICIAN,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Devices send live readings; people upload a logger's CSV after a transport.
    Permission.RECORD_READINGS: frozenset(
        {Role.DEVICE, Role.OPERATOR, Role.QA, Role.PHARMACIST, Role.PROCESS_SCIENTIST}
    ),
    # Installing a probe in a unit and setting its grace period is a qualification matter,
    # like setting up the unit itself.
    Permission.MANAGE_SENSORS: frozenset({Role.QA, Role.ADMIN}),
    Permission.VIEW_TEMPERATURES: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.NURSE,
            Role.PHYSICIAN,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Deciding what an excursion means for a product (release, quarantine, reject) is QA's.
    Permission.ASSESS_IMPACT: frozenset({Role.QA}),
    # Taking charge of a storage alarm is for whoever is on call for the storage units: the
    # people who can go to the tank or fridge and act. Nurses and physicians see the alarms but
    # call the pharmacy; a QP decides on the product later, through QA's impact assessment.
    Permission.ACKNOWLEDGE_ALARMS: frozenset(
        {Role.OPERATOR, Role.QC_ANALYST, Role.QA, Role.PHARMACIST, Role.PROCESS_SCIENTIST}
    ),
    # Hospital ATMP center. The catalogue says how long a thawed product lives: the pharmacy
    # proposes a change, QA approves it (never the same person).
    Permission.PROPOSE_CATALOGUE_CHANGE: frozenset({Role.PHARMACIST, Role.QA}),
    Permission.APPROVE_CATALOGUE_CHANGE: frozenset({Role.QA}),
    # A physician orders (and moves the appointment); a pharmacist checks and approves the order.
    Permission.ORDER_DOSE: frozenset({Role.PHYSICIAN}),
    Permission.APPROVE_DOSE_ORDER: frozenset({Role.PHARMACIST}),
    # Receipt, storage, thaw, preparation and hand-off to the ward are the pharmacy's work.
    Permission.PREPARE_DOSE: frozenset({Role.PHARMACIST}),
    # Accepting a product whose shipment left its range is a quality decision.
    Permission.DECIDE_RECEIPT: frozenset({Role.QA}),
    # At the bedside: the nurse checks and infuses; the physician may too.
    Permission.ADMINISTER_DOSE: frozenset({Role.NURSE, Role.PHYSICIAN}),
    # Infusing after the limit is a medical decision, recorded as a deviation.
    Permission.OVERRIDE_INFUSION_LIMIT: frozenset({Role.PHYSICIAN}),
    Permission.VIEW_DOSES: frozenset(
        {Role.PHARMACIST, Role.NURSE, Role.PHYSICIAN, Role.QA, Role.QUALIFIED_PERSON}
    ),
    # Who received what, and what a patient received: for recalls and look-backs.
    Permission.TRACE_PATIENTS: frozenset(
        {Role.PHARMACIST, Role.PHYSICIAN, Role.QA, Role.QUALIFIED_PERSON}
    ),
    # The FIN goes into every DIN and chain of identity the facility issues: set up, like the
    # users, by the system administrator, with a reason on record.
    Permission.MANAGE_FACILITY: frozenset({Role.ADMIN}),
    # Manufacturing (issue 11). Process scientists write master batch records; QA approves
    # them (never the author). Operators execute batches; a second operator, a process
    # scientist or QA verifies a step (never its performer). Only QA rejects a batch until the
    # release capability exists; QA and the QP answer a recall.
    Permission.AUTHOR_MBR: frozenset({Role.PROCESS_SCIENTIST, Role.QA}),
    Permission.APPROVE_MBR: frozenset({Role.QA}),
    Permission.EXECUTE_BATCH: frozenset({Role.OPERATOR, Role.PROCESS_SCIENTIST}),
    Permission.VERIFY_BATCH_STEP: frozenset({Role.OPERATOR, Role.PROCESS_SCIENTIST, Role.QA}),
    Permission.REJECT_BATCH: frozenset({Role.QA}),
    Permission.VIEW_BATCHES: frozenset(
        {
            Role.OPERATOR,
            Role.PROCESS_SCIENTIST,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
        }
    ),
    Permission.TRACE_GENEALOGY: frozenset({Role.QA, Role.QUALIFIED_PERSON}),
    Permission.RECORD_RETENTION: frozenset({Role.QA}),
    # Materials (EU GMP Part IV, raw and starting materials). What the facility buys, in which
    # grade and with which risk factors, is a quality decision that process scientists prepare.
    Permission.MANAGE_MATERIALS: frozenset({Role.QA, Role.PROCESS_SCIENTIST}),
    # Goods-in: the people in the store and the cleanroom book a lot into quarantine.
    Permission.RECEIVE_MATERIALS: frozenset(
        {Role.OPERATOR, Role.QC_ANALYST, Role.QA, Role.PROCESS_SCIENTIST}
    ),
    # Releasing or rejecting a quarantined lot is QA's, signed (never the person who received it).
    Permission.RELEASE_MATERIALS: frozenset({Role.QA}),
    Permission.VIEW_MATERIALS: frozenset(
        {Role.OPERATOR, Role.QC_ANALYST, Role.QA, Role.QUALIFIED_PERSON, Role.PROCESS_SCIENTIST}
    ),
    # Equipment: registering a device is set up by QA or the administrator, like storage units.
    Permission.MANAGE_EQUIPMENT: frozenset({Role.QA, Role.ADMIN}),
    # Calibration and maintenance are signed by the people who do or check them.
    Permission.SERVICE_EQUIPMENT: frozenset({Role.OPERATOR, Role.QA, Role.PROCESS_SCIENTIST}),
    # Putting a device into GMP use (qualification) or taking it out (withdrawal) is QA's.
    Permission.QUALIFY_EQUIPMENT: frozenset({Role.QA}),
    Permission.VIEW_EQUIPMENT: frozenset(
        {Role.OPERATOR, Role.QC_ANALYST, Role.QA, Role.QUALIFIED_PERSON, Role.PROCESS_SCIENTIST}
    ),
    # Anyone who does GMP work and sees something depart from the instructions raises a
    # deviation at once (with the immediate action); QA classifies and investigates it.
    Permission.RAISE_DEVIATION: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # The QP reads every deviation before certifying a batch.
    Permission.VIEW_DEVIATIONS: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Classification, impact assessment, root cause, CAPA plans and effectiveness: QA's.
    Permission.INVESTIGATE_DEVIATION: frozenset({Role.QA}),
    # A CAPA's owner records it done; owners are people doing GMP work (the service also
    # checks that the person is the owner, or QA).
    Permission.RECORD_CAPA_DONE: frozenset(
        {
            Role.OPERATOR,
            Role.QC_ANALYST,
            Role.QA,
            Role.QUALIFIED_PERSON,
            Role.PHARMACIST,
            Role.PROCESS_SCIENTIST,
        }
    ),
    # Closure (signed) and reopening are QA's decision, never the raiser's or a CAPA owner's.
    Permission.CLOSE_DEVIATION: frozenset({Role.QA}),
}


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    """Every permission that any of the roles grants."""
    return frozenset(p for p, allowed in ROLE_PERMISSIONS.items() if roles & allowed)


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever is acting: a logged-in person, a device with a token, or the system itself."""

    user_id: int | None
    username: str
    full_name: str
    #: The roles in force: granted and approved by QA. Only these grant permissions.
    roles: frozenset[Role] = field(default_factory=frozenset)
    time_zone: str = "UTC"
    #: Roles granted but still waiting for QA's approval: shown, never counted (Annex 11 §12.1).
    pending_roles: frozenset[Role] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        """Whether the actor's roles grant the permission."""
        return bool(self.roles & ROLE_PERMISSIONS[permission])

    def require(self, permission: Permission) -> None:
        """Refuse with PermissionDenied unless the actor holds the permission."""
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.username} may not do this: it needs the permission "
                f"'{permission.value}', which none of their roles grants"
            )


#: The installation itself, for records written before any person exists (the first admin).
SYSTEM_ACTOR = Actor(user_id=None, username="system", full_name="atmpchain system")

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive and stored in lower case."""
    value = username.strip().lower()
    if not _USERNAME.match(value):
        raise InvalidInput(
            f"username '{username}' must be 2 to 64 characters: a letter first, then letters, "
            "digits, '.', '_' or '-'",
            field="username",
        )
    return value


def check_password_policy(password: str, *, min_length: int, username: str) -> None:
    """Refuse a password that is short, or that contains the username."""
    if len(password) < min_length:
        raise InvalidInput(
            f"the password must have at least {min_length} characters", field="password"
        )
    if username and username.lower() in password.lower():
        raise InvalidInput("the password must not contain the username", field="password")
    if password.strip() != password:
        raise InvalidInput("the password must not start or end with a space", field="password")


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `threshold` failed logins in a row the account is locked for `duration`."""

    threshold: int
    duration: timedelta

    def after_failure(self, failures_before: int, now: datetime) -> tuple[int, datetime | None]:
        """The new failure count and, if the account now locks, until when."""
        failures = failures_before + 1
        if failures >= self.threshold:
            return failures, now + self.duration
        return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lock-out is still in force."""
    return locked_until is not None and locked_until > now


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """A login session ends after `idle` without a request, or `max_age` after login."""

    idle: timedelta
    max_age: timedelta

    def expiry_reason(
        self, *, created_at: datetime, last_seen_at: datetime, now: datetime
    ) -> str | None:
        """Why the session has ended, or None while it is still good."""
        if now - last_seen_at > self.idle:
            return "idle time-out"
        if now - created_at > self.max_age:
            return "maximum session length reached"
        return None


# --- who may grant, approve and remove access (Annex 11 §12, four eyes) -----------------------


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One role held by a user: who granted it, and whether QA has approved it yet.

    `granted_by` is None for a role granted by the installation itself; `in_force` is True once
    QA approved it (or the installation put it in force for the very first administrator and QA).
    """

    role: Role
    granted_by: int | None
    in_force: bool


def roles_in_force(grants: Iterable[RoleGrant]) -> frozenset[Role]:
    """The roles that grant permissions: a role waiting for QA approval grants nothing."""
    return frozenset(g.role for g in grants if g.in_force)


def roles_pending(grants: Iterable[RoleGrant]) -> frozenset[Role]:
    """The roles granted but not yet approved by QA."""
    return frozenset(g.role for g in grants if not g.in_force)


#: The roles the installation may put in force by itself, once each: someone must set up the
#: accounts, and someone must approve them. Every later role needs QA's approval.
INSTALLATION_ROLES = frozenset({Role.ADMIN, Role.QA})


def check_grant(*, actor_id: int | None, user_id: int, granted: frozenset[Role]) -> None:
    """Refuse when someone grants roles to their own account.

    An administrator who gave themselves QA (or a Qualified Person's role, or any role that signs
    GMP decisions) could approve what they should only set up; no role is granted to oneself, so
    another administrator grants it and QA approves it.
    """
    if actor_id is not None and actor_id == user_id and granted:
        names = ", ".join(sorted(r.label for r in granted))
        raise PermissionDenied(
            f"you may not grant roles to your own account ({names}): another administrator "
            "grants them, and QA approves them",
            field="roles",
        )


def check_not_self_deactivation(*, actor_id: int | None, user_id: int) -> None:
    """Refuse an administrator deactivating their own account (another administrator does it)."""
    if actor_id is not None and actor_id == user_id:
        raise PermissionDenied(
            "you may not deactivate your own account: another administrator must do it",
            field="user_id",
        )


def check_not_last_admin(
    *, admins_in_force: Iterable[int], user_id: int, removing: bool, field: str
) -> None:
    """Refuse removing the last active administrator in force (deactivation or losing the role):
    nobody would be left to manage accounts."""
    if removing and list(admins_in_force) == [user_id]:
        raise Conflict("this is the last active administrator; add another first", field)


# Refused requests (issue 9 item 11, ADR 0014). 21 CFR 11.300(d) wants attempts at unauthorised
# use detected and reported; a flood of them must not bury the audit trail it is reported in.


class RefusalKind(enum.Enum):
    """Why a request was refused before it could change anything."""

    PERMISSION = "permission"  # the actor's roles do not allow the action
    CSRF = "csrf"  # a form or call without this session's security token
    # an unknown (forged), revoked or expired API token
    API_TOKEN = "api-token"  # noqa: S105 - a kind of refusal, not a secret

    @property
    def label(self) -> str:
        """The kind as an inspector reads it."""
        return _REFUSAL_LABELS[self]


_REFUSAL_LABELS = {
    RefusalKind.PERMISSION: "not permitted",
    RefusalKind.CSRF: "missing or stale security token",
    RefusalKind.API_TOKEN: "unknown, revoked or expired API token",
}

#: Distinct client addresses counted separately per minute when nobody is identified; beyond it
#: they share one bucket, so that rotating addresses cannot bloat the trail either.
ANONYMOUS_BUCKETS_PER_MINUTE = 100
ANY_CLIENT = "*"


def refusal_minute(moment: datetime) -> datetime:
    """The minute a refusal is counted in."""
    return moment.replace(second=0, microsecond=0)


def refusal_bucket(actor_id: int | None, client: str) -> str:
    """Who a refusal is counted against: the user when known, else the client's address."""
    return f"user:{actor_id}" if actor_id is not None else f"client:{client}"


def refusal_needs_audit_record(count: int) -> bool:
    """Whether the `count`-th refusal of a bucket's minute gets its own audit record.

    The first does, and then the 10th, 100th, 1000th...: the size of a flood reaches the hash
    chain too, at a cost that grows with its logarithm; the exact count is kept beside it.
    """
    if count < 1:
        return False
    while count % 10 == 0:
        count //= 10
    return count == 1
