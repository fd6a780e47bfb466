"""Every audited action, named once as `capability:subject:action`."""

from __future__ import annotations

import enum


class ActionKind(enum.Enum):
    """What an action does to a record; changes and retirements need a reason (Annex 11 §9)."""

    CREATE = "create"
    CHANGE = "change"
    RETIRE = "retire"
    EVENT = "event"


class AuditAction(enum.Enum):
    """The audited actions. A new capability adds its own members here."""

    kind: ActionKind

    def __new__(cls, value: str, kind: ActionKind) -> AuditAction:
        member = object.__new__(cls)
        member._value_ = value
        member.kind = kind
        return member

    # accounts
    USER_CREATED = ("accounts:user:created", ActionKind.CREATE)
    USER_ROLES_CHANGED = ("accounts:user:roles-changed", ActionKind.CHANGE)
    USER_DETAILS_CHANGED = ("accounts:user:details-changed", ActionKind.CHANGE)
    USER_DEACTIVATED = ("accounts:user:deactivated", ActionKind.RETIRE)
    USER_REACTIVATED = ("accounts:user:reactivated", ActionKind.CHANGE)
    USER_UNLOCKED = ("accounts:user:unlocked", ActionKind.CHANGE)
    USER_LOCKED_OUT = ("accounts:user:locked-out", ActionKind.EVENT)
    USER_ACCESS_APPROVED = ("accounts:user:access-approved", ActionKind.EVENT)
    PASSWORD_RESET = ("accounts:password:reset", ActionKind.CHANGE)
    PASSWORD_CHANGED = ("accounts:password:changed", ActionKind.EVENT)
    PASSWORD_CHANGE_REFUSED = ("accounts:password:change-refused", ActionKind.EVENT)
    LOGIN_SUCCEEDED = ("accounts:session:login", ActionKind.EVENT)
    LOGIN_FAILED = ("accounts:session:login-failed", ActionKind.EVENT)
    LOGGED_OUT = ("accounts:session:logout", ActionKind.EVENT)
    SESSION_TIMED_OUT = ("accounts:session:timed-out", ActionKind.EVENT)
    API_TOKEN_CREATED = ("accounts:api-token:created", ActionKind.CREATE)
    API_TOKEN_REVOKED = ("accounts:api-token:revoked", ActionKind.RETIRE)
    # signatures
    SIGNATURE_APPLIED = ("signatures:signature:applied", ActionKind.CREATE)
    SIGNATURE_REFUSED = ("signatures:signature:refused", ActionKind.EVENT)
    # identity
    DIN_ISSUED = ("identity:din:issued", ActionKind.CREATE)
    COI_CREATED = ("identity:chain-of-identity:created", ActionKind.CREATE)
    DONATION_BOUND = ("identity:chain-of-identity:donation-bound", ActionKind.CREATE)
    IDENTITY_MATCHED = ("identity:check:matched", ActionKind.EVENT)
    IDENTITY_MISMATCH = ("identity:check:mismatch", ActionKind.EVENT)
    LABEL_PRINTED = ("identity:label:printed", ActionKind.EVENT)
    LABEL_REPRINTED = ("identity:label:reprinted", ActionKind.EVENT)
    # custody
    STORAGE_SITE_CREATED = ("custody:site:created", ActionKind.CREATE)
    STORAGE_ROOM_CREATED = ("custody:room:created", ActionKind.CREATE)
    STORAGE_UNIT_CREATED = ("custody:storage-unit:created", ActionKind.CREATE)
    STORAGE_UNIT_STATUS_CHANGED = ("custody:storage-unit:status-changed", ActionKind.CHANGE)
    PRODUCT_RECEIVED = ("custody:unit:received", ActionKind.CREATE)
    PRODUCT_PUT_AWAY = ("custody:unit:put-away", ActionKind.EVENT)
    PRODUCT_RETRIEVED = ("custody:unit:retrieved", ActionKind.EVENT)
    PRODUCT_TRANSFERRED = ("custody:unit:transferred", ActionKind.EVENT)
    PRODUCT_DISPOSED = ("custody:unit:disposed", ActionKind.EVENT)
    # cold chain
    SENSOR_REGISTERED = ("coldchain:sensor:registered", ActionKind.CREATE)
    READINGS_INGESTED = ("coldchain:readings:ingested", ActionKind.EVENT)
    EXCURSION_STARTED = ("coldchain:excursion:started", ActionKind.EVENT)
    EXCURSION_ENDED = ("coldchain:excursion:ended", ActionKind.EVENT)
    SENSOR_SILENT = ("coldchain:sensor:silent", ActionKind.EVENT)
    # Late readings (a logger CSV after live data) widened a recorded excursion.
    EXCURSION_REVISED = ("coldchain:excursion:revised", ActionKind.EVENT)
    IMPACT_ASSESSED = ("coldchain:impact:assessed", ActionKind.CREATE)
    # The alarm goes from open to acknowledged; the person's comment is the change's reason.
    ALARM_ACKNOWLEDGED = ("coldchain:alarm:acknowledged", ActionKind.CHANGE)
    # hospital ATMP center
    CATALOGUE_REVISION_PROPOSED = ("hospital:catalogue:proposed", ActionKind.CREATE)
    CATALOGUE_REVISION_APPROVED = ("hospital:catalogue:approved", ActionKind.EVENT)
    CATALOGUE_REVISION_REJECTED = ("hospital:catalogue:rejected", ActionKind.EVENT)
    PATIENT_REGISTERED = ("hospital:patient:registered", ActionKind.CREATE)
    DOSE_ORDERED = ("hospital:dose:ordered", ActionKind.CREATE)
    DOSE_APPROVED = ("hospital:dose:approved", ActionKind.EVENT)
    DOSE_APPOINTMENT_MOVED = ("hospital:dose:appointment-moved", ActionKind.CHANGE)
    DOSE_EXPECTED_DIN_SET = ("hospital:dose:expected-din-set", ActionKind.CHANGE)
    DOSE_RECEIVED = ("hospital:dose:received", ActionKind.EVENT)
    DOSE_QUARANTINED = ("hospital:dose:quarantined", ActionKind.EVENT)
    DOSE_RELEASED_BY_QA = ("hospital:dose:released-by-qa", ActionKind.EVENT)
    DOSE_REJECTED_BY_QA = ("hospital:dose:rejected-by-qa", ActionKind.EVENT)
    DOSE_STORED = ("hospital:dose:stored", ActionKind.EVENT)
    DOSE_RETRIEVED = ("hospital:dose:retrieved", ActionKind.EVENT)
    DOSE_THAW_STARTED = ("hospital:dose:thaw-started", ActionKind.EVENT)
    DOSE_THAW_ENDED = ("hospital:dose:thaw-ended", ActionKind.EVENT)
    DOSE_PREPARATION = ("hospital:dose:preparation", ActionKind.EVENT)
    DOSE_ISSUED = ("hospital:dose:issued", ActionKind.EVENT)
    DOSE_BEDSIDE_CHECKED = ("hospital:dose:bedside-checked", ActionKind.EVENT)
    DOSE_BEDSIDE_REFUSED = ("hospital:dose:bedside-refused", ActionKind.EVENT)
    DOSE_INFUSION_STARTED = ("hospital:dose:infusion-started", ActionKind.EVENT)
    DOSE_INFUSION_ENDED = ("hospital:dose:infusion-ended", ActionKind.EVENT)
    DOSE_LIMIT_OVERRIDDEN = ("hospital:dose:limit-overridden", ActionKind.EVENT)
    DOSE_WINDOW_MISSED = ("hospital:dose:window-missed", ActionKind.EVENT)
    DOSE_PRODUCT_DISPOSED = ("hospital:dose:product-disposed", ActionKind.EVENT)
    DOSE_CANCELLED = ("hospital:dose:cancelled", ActionKind.RETIRE)
    # hospital safety (issue 9: announced DIN replaced, checks, ward receipt; ADR 0016)
    DOSE_EXPECTED_DIN_REPLACED = ("hospital:dose:expected-din-replaced", ActionKind.CHANGE)
    DOSE_CHECK_CONFIRMED = ("hospital:dose:check-confirmed", ActionKind.EVENT)
    DOSE_RECEIVED_AT_WARD = ("hospital:dose:received-at-ward", ActionKind.EVENT)
    # audit trail itself
    AUDIT_EXPORTED = ("audit:trail:exported", ActionKind.EVENT)
    # issue 9, accounts and facility (items 3, 10, 11, 15): the installation puts the first
    # administrator and QA in force; a block of failed logins starts (once per block, not per
    # attempt); the facility's own record (name, ISBT 128 FIN) is set up and changed.
    USER_INSTALLED = ("accounts:user:installed", ActionKind.CREATE)
    LOGIN_THROTTLED = ("accounts:session:login-throttled", ActionKind.EVENT)
    FACILITY_SET_UP = ("facility:facility:set-up", ActionKind.CREATE)
    FACILITY_CHANGED = ("facility:facility:changed", ActionKind.CHANGE)
    # refused requests (web/API/CLI adapters, ADR 0014): the first refusal of a kind per user or
    # client address and minute, then every tenfold of the count
    ACCESS_REFUSED = ("accounts:access:refused", ActionKind.EVENT)
    # cold chain, issue 9 (#16, #17): an ongoing excursion's values as new readings change them,
    # so that every change of an excursion row is on record with its values; a telemetry
    # message that could not be stored, set aside for QA.
    EXCURSION_UPDATED = ("coldchain:excursion:updated", ActionKind.EVENT)
    DEAD_LETTER_SET_ASIDE = ("coldchain:dead-letter:set-aside", ActionKind.CREATE)
    # Issue 9 review (#13): the dead letters set aside together (one batch or request) in one
    # record, with their count, ids and a digest of their rows, so that a flood of junk
    # messages is on record without flooding the trail. (The per-letter action above is kept
    # for records written before.)
    DEAD_LETTERS_SET_ASIDE = ("coldchain:dead-letters:set-aside", ActionKind.CREATE)
    # custody controls and holds (issue 9, item 4): a higher capability's record controls a
    # unit's movements, or stops it being handed on, through custody's own interface.
    CUSTODY_CONTROL_PLACED = ("custody:control:placed", ActionKind.CREATE)
    CUSTODY_CONTROL_ENDED = ("custody:control:ended", ActionKind.RETIRE)
    CUSTODY_HOLD_PLACED = ("custody:hold:placed", ActionKind.CREATE)
    CUSTODY_HOLD_LIFTED = ("custody:hold:lifted", ActionKind.RETIRE)
    # quality: deviations and CAPA (issue 11, item 6; ADR 0023). Classification, impact and
    # reopening carry QA's rationale as the reason; the other steps record their values.
    DEVIATION_RAISED = ("quality:deviation:raised", ActionKind.CREATE)
    DEVIATION_CLASSIFIED = ("quality:deviation:classified", ActionKind.CHANGE)
    DEVIATION_IMPACT_ASSESSED = ("quality:deviation:impact-assessed", ActionKind.CHANGE)
    DEVIATION_ROOT_CAUSE_RECORDED = ("quality:deviation:root-cause-recorded", ActionKind.EVENT)
    DEVIATION_AFFECTED_ADDED = ("quality:deviation:affected-added", ActionKind.EVENT)
    DEVIATION_CLOSED = ("quality:deviation:closed", ActionKind.EVENT)
    DEVIATION_REOPENED = ("quality:deviation:reopened", ActionKind.CHANGE)
    CAPA_ADDED = ("quality:capa:added", ActionKind.CREATE)
    CAPA_DONE = ("quality:capa:done", ActionKind.EVENT)
    CAPA_EFFECTIVENESS_CHECKED = ("quality:capa:effectiveness-checked", ActionKind.EVENT)
    # manufacturing (issue 11, items 3-5, 8): master batch record versions, the electronic batch
    # record (each entry, sign-off and correction), its product units and retention
    MBR_DRAFTED = ("manufacturing:mbr:drafted", ActionKind.CREATE)
    MBR_APPROVED = ("manufacturing:mbr:approved", ActionKind.EVENT)
    MBR_WITHDRAWN = ("manufacturing:mbr:withdrawn", ActionKind.RETIRE)
    BATCH_STARTED = ("manufacturing:batch:started", ActionKind.CREATE)
    BATCH_LINE_CLEARED = ("manufacturing:batch:line-cleared", ActionKind.EVENT)
    BATCH_ENTRY_RECORDED = ("manufacturing:batch:entry-recorded", ActionKind.CREATE)
    BATCH_ENTRY_CORRECTED = ("manufacturing:batch:entry-corrected", ActionKind.CHANGE)
    BATCH_STEP_PERFORMED = ("manufacturing:batch:step-performed", ActionKind.EVENT)
    BATCH_STEP_VERIFIED = ("manufacturing:batch:step-verified", ActionKind.EVENT)
    BATCH_COMPLETED = ("manufacturing:batch:completed", ActionKind.EVENT)
    BATCH_UNIT_CREATED = ("manufacturing:batch:unit-created", ActionKind.CREATE)
    BATCH_REJECTED = ("manufacturing:batch:rejected", ActionKind.EVENT)
    BATCH_RETENTION_CHANGED = ("manufacturing:batch:retention-changed", ActionKind.CHANGE)
    # materials (issue 11, item 1; ADR 0022): the item master, lots received into quarantine,
    # QA's signed release or rejection, moves between stores, consumption in a batch step.
    MATERIAL_ITEM_CREATED = ("materials:item:created", ActionKind.CREATE)
    MATERIAL_LOT_RECEIVED = ("materials:lot:received", ActionKind.CREATE)
    MATERIAL_LOT_RELEASED = ("materials:lot:released", ActionKind.EVENT)
    MATERIAL_LOT_REJECTED = ("materials:lot:rejected", ActionKind.EVENT)
    MATERIAL_LOT_MOVED = ("materials:lot:moved", ActionKind.CHANGE)
    MATERIAL_LOT_CONSUMED = ("materials:lot:consumed", ActionKind.EVENT)
    # equipment (issue 11, item 2; ADR 0022): registration, signed service records, use in a step
    EQUIPMENT_REGISTERED = ("equipment:equipment:registered", ActionKind.CREATE)
    EQUIPMENT_SERVICE_RECORDED = ("equipment:equipment:service-recorded", ActionKind.EVENT)
    EQUIPMENT_USED = ("equipment:equipment:used", ActionKind.EVENT)
    # quality control (issue 12; ADR 0025): specifications, samples, results, OOS, late results
    QC_SPEC_DRAFTED = ("qc:specification:drafted", ActionKind.CREATE)
    QC_SPEC_APPROVED = ("qc:specification:approved", ActionKind.EVENT)
    QC_SPEC_BOUND = ("qc:specification:bound-to-batch", ActionKind.EVENT)
    QC_SAMPLE_TAKEN = ("qc:sample:taken", ActionKind.CREATE)
    QC_SAMPLE_MOVED = ("qc:sample:moved", ActionKind.EVENT)
    QC_RESULT_ENTERED = ("qc:result:entered", ActionKind.CREATE)
    QC_RESULT_REVIEWED = ("qc:result:reviewed", ActionKind.EVENT)
    QC_RESULT_INVALIDATED = ("qc:result:invalidated", ActionKind.CHANGE)
    QC_OOS_OPENED = ("qc:oos:opened", ActionKind.CREATE)
    QC_OOS_PHASE1_RECORDED = ("qc:oos:phase1-recorded", ActionKind.EVENT)
    QC_OOS_PHASE2_RECORDED = ("qc:oos:phase2-recorded", ActionKind.EVENT)
    QC_OOS_DEVIATION_LINKED = ("qc:oos:deviation-linked", ActionKind.EVENT)
    QC_OOS_CONCLUDED = ("qc:oos:concluded", ActionKind.EVENT)
    QC_LATE_RESULT_FLAGGED = ("qc:late-result:flagged", ActionKind.CREATE)
    QC_NOTICE_SENT = ("qc:notice:sent", ActionKind.CREATE)
    QC_NOTICE_ACKNOWLEDGED = ("qc:notice:acknowledged", ActionKind.EVENT)
    # cleanrooms (issue 13, ADR 0027): the suite, room states, cleaning, sessions, gowning
    CLEANROOM_AREA_CREATED = ("cleanrooms:area:created", ActionKind.CREATE)
    CLEANROOM_ROOM_CREATED = ("cleanrooms:room:created", ActionKind.CREATE)
    CLEANROOM_DOOR_ADDED = ("cleanrooms:room:door-added", ActionKind.CREATE)
    CLEANROOM_WORKSTATION_CREATED = ("cleanrooms:workstation:created", ActionKind.CREATE)
    CLEANROOM_WORKSTATION_SERVICE_CHANGED = (
        "cleanrooms:workstation:service-changed",
        ActionKind.CHANGE,
    )
    ROOM_STATE_CHANGED = ("cleanrooms:room:state-changed", ActionKind.CHANGE)
    ROOM_QUALIFICATION_RECORDED = ("cleanrooms:room:qualification-recorded", ActionKind.EVENT)
    ROOM_CLEANED = ("cleanrooms:room:cleaned", ActionKind.EVENT)
    PRODUCTION_SESSION_OPENED = ("cleanrooms:session:opened", ActionKind.CREATE)
    PRODUCTION_SESSION_STEP = ("cleanrooms:session:step-recorded", ActionKind.EVENT)
    PRODUCTION_SESSION_CLOSED = ("cleanrooms:session:closed", ActionKind.EVENT)
    GOWNING_RECORDED = ("cleanrooms:gowning:recorded", ActionKind.CREATE)
    MEDIA_FILL_RECORDED = ("cleanrooms:media-fill:recorded", ActionKind.CREATE)
    # environmental monitoring (issue 13, items 1-4, 8; ADR 0028): the plan and its limits,
    # samples collected, results read or imported, excursions and QA's signed impact assessment.
    EM_LOCATION_CREATED = ("environmental_monitoring:location:created", ActionKind.CREATE)
    EM_LIMIT_SET = ("environmental_monitoring:limit:set", ActionKind.CHANGE)
    EM_SAMPLES_PLANNED = ("environmental_monitoring:sample:planned", ActionKind.CREATE)
    EM_SAMPLE_COLLECTED = ("environmental_monitoring:sample:collected", ActionKind.EVENT)
    EM_RESULT_RECORDED = ("environmental_monitoring:result:recorded", ActionKind.CREATE)
    EM_COUNTER_IMPORTED = ("environmental_monitoring:counter:imported", ActionKind.CREATE)
    EM_EXCURSION_RAISED = ("environmental_monitoring:excursion:raised", ActionKind.CREATE)
    EM_IMPACT_ASSESSED = ("environmental_monitoring:excursion:impact-assessed", ActionKind.CREATE)
    # scheduling (issue 15, ADR 0031): resources, calendars, templates, rules, demand, plan versions
    SCHEDULING_RESOURCE_SAVED = ("scheduling:resource:saved", ActionKind.CREATE)
    SCHEDULING_CLOSURE_ADDED = ("scheduling:closure:added", ActionKind.CREATE)
    SCHEDULING_TEMPLATE_SAVED = ("scheduling:template:saved", ActionKind.CREATE)
    SCHEDULING_RULES_SAVED = ("scheduling:rules:saved", ActionKind.CREATE)
    SCHEDULING_DEMAND_ADDED = ("scheduling:demand:added", ActionKind.CREATE)
    SCHEDULING_PLAN_SAVED = ("scheduling:plan:saved", ActionKind.CREATE)
    # scheduling entry and re-planning (issue 15, ADR 0034): edits, withdrawals, notices
    SCHEDULING_RESOURCE_CHANGED = ("scheduling:resource:changed", ActionKind.CHANGE)
    SCHEDULING_DEMAND_CHANGED = ("scheduling:demand:changed", ActionKind.CHANGE)
    SCHEDULING_DEMAND_WITHDRAWN = ("scheduling:demand:withdrawn", ActionKind.RETIRE)
    SCHEDULING_NOTICE_ACKNOWLEDGED = ("scheduling:notice:acknowledged", ActionKind.EVENT)
    # issue 10 item 11: the shipper's log marked "to follow" at receipt, attached later (by a
    # person, or by the logger's own upload with its API token)
    SHIPPER_LOG_ATTACHED = ("hospital:shipper-log:attached", ActionKind.CREATE)
    # release (issue 12, items 5 and 7; ADR 0026): the QP's signed decision on a batch, and an
    # out-of-specification supply's four signed steps (Part IV §11.5)
    BATCH_RELEASED = ("manufacturing:batch:released", ActionKind.EVENT)
    RELEASE_CERTIFIED = ("release:batch:certified", ActionKind.EVENT)
    RELEASE_REJECTED = ("release:batch:rejected", ActionKind.EVENT)
    OOS_SUPPLY_REQUESTED = ("release:oos-supply:requested", ActionKind.CREATE)
    OOS_SUPPLY_STEP_RECORDED = ("release:oos-supply:step-recorded", ActionKind.EVENT)
    # translation (issue 14, ADR 0029): projects, process definitions, gaps, readiness, FMEA and
    # the hand-over of a draft MBR to manufacturing
    TRANSLATION_PROJECT_CREATED = ("translation:project:created", ActionKind.CREATE)
    TRANSLATION_STAGE_CHANGED = ("translation:project:stage-changed", ActionKind.CHANGE)
    TRANSLATION_MEMBER_ADDED = ("translation:team:member-added", ActionKind.CREATE)
    TRANSLATION_DOCUMENT_ADDED = ("translation:document:added", ActionKind.CREATE)
    PROCESS_DEFINITION_DRAFTED = ("translation:process-definition:drafted", ActionKind.CREATE)
    PROCESS_DEFINITION_APPROVED = ("translation:process-definition:approved", ActionKind.EVENT)
    TRANSLATION_GAPS_GENERATED = ("translation:gap:generated", ActionKind.CREATE)
    TRANSLATION_GAP_UPDATED = ("translation:gap:updated", ActionKind.CHANGE)
    READINESS_ASSESSED = ("translation:readiness:assessed", ActionKind.CREATE)
    FMEA_CREATED = ("translation:fmea:created", ActionKind.CREATE)
    FMEA_MODE_ADDED = ("translation:fmea:mode-added", ActionKind.CREATE)
    FMEA_MODE_SCORED = ("translation:fmea:mode-scored", ActionKind.CHANGE)
    FMEA_MODE_MITIGATED = ("translation:fmea:mode-mitigated", ActionKind.CHANGE)
    FMEA_MODE_RESCORED = ("translation:fmea:mode-rescored", ActionKind.CHANGE)
    FMEA_APPROVED = ("translation:fmea:approved", ActionKind.EVENT)
    TRANSLATION_TRANSFERRED = ("translation:project:transferred", ActionKind.EVENT)
    # design of experiments and cost of goods (issue 14 items 5, 6)
    DOE_STUDY_DESIGNED = ("translation:doe-study:designed", ActionKind.CREATE)
    DOE_RESULTS_RECORDED = ("translation:doe-study:results-recorded", ActionKind.CREATE)
    DOE_RESULT_CORRECTED = ("translation:doe-study:result-corrected", ActionKind.CHANGE)
    DOE_GOALS_SET = ("translation:doe-study:goals-set", ActionKind.CHANGE)
    DOE_RANGE_WRITTEN_BACK = ("translation:doe-study:range-written-back", ActionKind.EVENT)
    COST_MODEL_CREATED = ("translation:cost-model:created", ActionKind.CREATE)
    COST_SCENARIO_SAVED = ("translation:cost-model:scenario-saved", ActionKind.CREATE)
    COST_SCENARIO_CHANGED = ("translation:cost-model:scenario-changed", ActionKind.CHANGE)
    # clinical-trial gateway (issue 16, ADR 0032): the public form, triage, sponsor access, trials
    INQUIRY_SUBMITTED = ("gateway:inquiry:submitted", ActionKind.CREATE)
    INQUIRY_FORM_THROTTLED = ("gateway:inquiry:form-throttled", ActionKind.EVENT)
    INQUIRY_MOVED = ("gateway:inquiry:moved", ActionKind.CHANGE)
    INQUIRY_ASSIGNED = ("gateway:inquiry:assigned", ActionKind.CHANGE)
    INQUIRY_SPONSOR_INVITED = ("gateway:inquiry:sponsor-invited", ActionKind.CHANGE)
    INQUIRY_MESSAGE_POSTED = ("gateway:inquiry:message-posted", ActionKind.CREATE)
    TRIAL_CREATED = ("gateway:trial:created", ActionKind.CREATE)
