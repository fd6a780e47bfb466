"""The roles people (and machines) hold, and the permissions a role can grant.

Which role holds which permission is data: `permissions.toml`, loaded by `permission_table`.
"""

from __future__ import annotations

import enum


class Role(enum.Enum):
    """The roles people (and machines) hold in an ATMP facility and a hospital pharmacy."""

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
    # issue 10 item 8: the hands-on roles of a hospital pharmacy and a cell therapy laboratory.
    PHARMACY_TECHNICIAN = "pharmacy_technician"
    CELL_THERAPY_OPERATOR = "cell_therapy_operator"

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
    Role.PHARMACY_TECHNICIAN: "Pharmacy technician",
    Role.CELL_THERAPY_OPERATOR: "Cell therapy lab operator",
}

#: Roles that belong to machines: they authenticate with API tokens and never sign.
MACHINE_ROLES = frozenset({Role.DEVICE})


class Permission(enum.Enum):
    """Things a role may do. Each capability adds its own permissions here, and its roles in
    `permissions.toml`."""

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
    # Hands-on steps (receipt, put away, retrieval, thaw, recorded preparation steps).
    HANDLE_DOSE = "hospital.handle_dose"
    # The pharmacist's decisions on a dose (announced DIN, signed checks, release to the ward).
    PREPARE_DOSE = "hospital.prepare_dose"
    DECIDE_RECEIPT = "hospital.decide_receipt"
    ADMINISTER_DOSE = "hospital.administer_dose"
    OVERRIDE_INFUSION_LIMIT = "hospital.override_infusion_limit"
    VIEW_DOSES = "hospital.view_doses"
    TRACE_PATIENTS = "hospital.trace_patients"
    ACKNOWLEDGE_ALARMS = "coldchain.acknowledge_alarms"
    # The facility's own details (name, ISBT 128 FIN): an installation matter.
    MANAGE_FACILITY = "facility.manage"
    # Quality: deviations and CAPA (issue 11, item 6; ADR 0023).
    RAISE_DEVIATION = "quality.raise_deviation"
    VIEW_DEVIATIONS = "quality.view_deviations"
    INVESTIGATE_DEVIATION = "quality.investigate_deviation"
    RECORD_CAPA_DONE = "quality.record_capa_done"
    CLOSE_DEVIATION = "quality.close_deviation"
    # Manufacturing (issue 11, ADR 0024): master batch records, batches, genealogy.
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
    # Scheduling (issue 15, ADR 0031): resources and calendars, demand and plans.
    MANAGE_SCHEDULE_RESOURCES = "scheduling.manage_resources"
    PLAN_SCHEDULE = "scheduling.plan"
    VIEW_SCHEDULE = "scheduling.view"
