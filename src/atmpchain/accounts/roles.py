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
    # Quality control (issue 12, ADR 0025): specifications, samples, results, OOS investigations.
    VIEW_QC = "qc.view"
    AUTHOR_SPECIFICATION = "qc.author_specification"
    APPROVE_SPECIFICATION = "qc.approve_specification"
    TAKE_SAMPLE = "qc.take_sample"
    ENTER_RESULT = "qc.enter_result"
    REVIEW_RESULT = "qc.review_result"
    INVESTIGATE_OOS = "qc.investigate_oos"
    INVALIDATE_RESULT = "qc.invalidate_result"
    CONCLUDE_OOS = "qc.conclude_oos"
    ACKNOWLEDGE_QC_NOTICE = "qc.acknowledge_notice"
    # QP release and out-of-specification supply (issue 12; ADR 0026).
    VIEW_RELEASE = "release.view"
    CERTIFY_BATCH = "release.certify"
    REQUEST_OOS_SUPPLY = "release.request_oos_supply"
    MANAGE_OOS_SUPPLY = "release.manage_oos_supply"
    # Cleanrooms (issue 13, ADR 0027): the suite, room states, cleaning, gowning.
    VIEW_CLEANROOMS = "cleanrooms.view"
    MANAGE_CLEANROOMS = "cleanrooms.manage"
    QUALIFY_ROOMS = "cleanrooms.qualify"
    OPERATE_ROOMS = "cleanrooms.operate"
    RECORD_GOWNING = "cleanrooms.record_gowning"
    # Environmental monitoring (issue 13, ADR 0028).
    VIEW_EM = "em.view"
    MANAGE_EM_PLAN = "em.manage_plan"
    COLLECT_EM_SAMPLES = "em.collect"
    RECORD_EM_RESULTS = "em.record_results"
    ASSESS_EM_IMPACT = "em.assess_impact"
    # Pre-GMP translation (issue 14, ADR 0029): researchers see their own projects, the pre-GMP
    # staff (process scientists) every project.
    VIEW_TRANSLATION = "translation.view"
    VIEW_ALL_TRANSLATION = "translation.view_all"
    MANAGE_TRANSLATION = "translation.manage"
    EDIT_TRANSLATION = "translation.edit"
    APPROVE_TRANSLATION = "translation.approve"
    TRANSFER_TRANSLATION = "translation.transfer"
    # Design of experiments and cost of goods (issue 14 items 5 and 6, ADR 0030).
    RUN_EXPERIMENTS = "translation.run_experiments"
    MODEL_COSTS = "translation.model_costs"
    # The clinical-trial gateway (issue 16, ADR 0032): inquiries, triage, trials.
    VIEW_INQUIRIES = "gateway.view_inquiries"
    TRIAGE_INQUIRIES = "gateway.triage"
    FOLLOW_OWN_INQUIRIES = "gateway.follow_own"
    MANAGE_TRIALS = "gateway.manage_trials"
    # Scheduling (issue 15, ADR 0031): resources and calendars, demand and plans.
    MANAGE_SCHEDULE_RESOURCES = "scheduling.manage_resources"
    PLAN_SCHEDULE = "scheduling.plan"
    VIEW_SCHEDULE = "scheduling.view"
