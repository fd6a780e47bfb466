"""Each audited action in words an inspector reads: "received a dose", not a code.

`AuditAction` names each action once as `capability:subject:action`; this table says it as a
sentence's verb phrase (the actor's name goes before it). A test fails for any action without
wording, so a new action cannot reach the pages as a bare code.
"""

from __future__ import annotations

from atmpchain.audit.actions import AuditAction

A = AuditAction

WORDING: dict[AuditAction, str] = {
    A.USER_CREATED: "created a user account",
    A.USER_ROLES_CHANGED: "changed a user's roles",
    A.USER_DETAILS_CHANGED: "changed a user's details",
    A.USER_DEACTIVATED: "deactivated a user account",
    A.USER_REACTIVATED: "reactivated a user account",
    A.USER_UNLOCKED: "unlocked a user account",
    A.USER_LOCKED_OUT: "was locked out after failed logins",
    A.USER_ACCESS_APPROVED: "approved a user's access",
    A.PASSWORD_RESET: "reset a user's password",
    A.PASSWORD_CHANGED: "changed their password",
    A.PASSWORD_CHANGE_REFUSED: "was refused a password change",
    A.LOGIN_SUCCEEDED: "logged in",
    A.LOGIN_FAILED: "failed to log in",
    A.LOGGED_OUT: "logged out",
    A.SESSION_TIMED_OUT: "was logged out when the session timed out",
    A.API_TOKEN_CREATED: "created an API token",
    A.API_TOKEN_REVOKED: "revoked an API token",
    A.SIGNATURE_APPLIED: "signed a record",
    A.SIGNATURE_REFUSED: "was refused a signature (wrong password or not permitted)",
    A.DIN_ISSUED: "issued a donation identification number (DIN)",
    A.COI_CREATED: "created a chain of identity",
    A.DONATION_BOUND: "bound a donation to a chain of identity",
    A.IDENTITY_MATCHED: "checked an identity and it matched",
    A.IDENTITY_MISMATCH: "checked an identity and found a MISMATCH (STOP)",
    A.LABEL_PRINTED: "printed a label",
    A.LABEL_REPRINTED: "reprinted a label",
    A.STORAGE_SITE_CREATED: "set up a storage site",
    A.STORAGE_ROOM_CREATED: "set up a storage room",
    A.STORAGE_UNIT_CREATED: "set up a storage unit",
    A.STORAGE_UNIT_STATUS_CHANGED: "changed a storage unit's status",
    A.PRODUCT_RECEIVED: "received a product unit into custody",
    A.PRODUCT_PUT_AWAY: "put a product unit away into storage",
    A.PRODUCT_RETRIEVED: "retrieved a product unit from storage",
    A.PRODUCT_TRANSFERRED: "handed a product unit on to another person",
    A.PRODUCT_DISPOSED: "disposed of a product unit",
    A.SENSOR_REGISTERED: "registered a temperature sensor",
    A.READINGS_INGESTED: "recorded temperature readings",
    A.EXCURSION_STARTED: "saw a temperature excursion start",
    A.EXCURSION_ENDED: "saw a temperature excursion end",
    A.SENSOR_SILENT: "saw a sensor fall silent",
    A.EXCURSION_REVISED: "revised an excursion from late readings",
    A.IMPACT_ASSESSED: "assessed an excursion's impact on product",
    A.ALARM_ACKNOWLEDGED: "acknowledged a cold-chain alarm",
    A.CATALOGUE_REVISION_PROPOSED: "proposed a product catalogue change",
    A.CATALOGUE_REVISION_APPROVED: "approved a product catalogue change",
    A.CATALOGUE_REVISION_REJECTED: "rejected a product catalogue change",
    A.PATIENT_REGISTERED: "registered a patient",
    A.DOSE_ORDERED: "ordered a dose",
    A.DOSE_APPROVED: "approved a dose order",
    A.DOSE_APPOINTMENT_MOVED: "moved a dose's infusion appointment",
    A.DOSE_EXPECTED_DIN_SET: "recorded the DIN announced for a dose",
    A.DOSE_RECEIVED: "received a dose's product at the pharmacy",
    A.DOSE_QUARANTINED: "put a dose on hold for QA",
    A.DOSE_RELEASED_BY_QA: "released a dose from QA's hold",
    A.DOSE_REJECTED_BY_QA: "rejected a dose",
    A.DOSE_STORED: "put a dose away into the cryostore",
    A.DOSE_RETRIEVED: "retrieved a dose from the cryostore",
    A.DOSE_THAW_STARTED: "started a dose's thaw",
    A.DOSE_THAW_ENDED: "ended a dose's thaw",
    A.DOSE_PREPARATION: "recorded a preparation step of a dose",
    A.DOSE_ISSUED: "issued a dose to the ward",
    A.DOSE_BEDSIDE_CHECKED: "checked a dose at the bedside",
    A.DOSE_BEDSIDE_REFUSED: "was stopped at the bedside (STOP)",
    A.DOSE_INFUSION_STARTED: "started an infusion",
    A.DOSE_INFUSION_ENDED: "ended an infusion",
    A.DOSE_LIMIT_OVERRIDDEN: "overrode a dose's thaw-to-infusion limit (a deviation)",
    A.DOSE_WINDOW_MISSED: "recorded that a dose missed its thaw-to-infusion window",
    A.DOSE_CANCELLED: "cancelled a dose",
    A.DOSE_EXPECTED_DIN_REPLACED: "replaced the DIN announced for a dose",
    A.DOSE_CHECK_CONFIRMED: "confirmed a pre-infusion check of a dose",
    A.DOSE_RECEIVED_AT_WARD: "received a dose on the ward",
    A.AUDIT_EXPORTED: "exported the audit trail",
    A.USER_INSTALLED: "installed a first user (administrator or QA)",
    A.LOGIN_THROTTLED: "saw logins throttled after repeated failures",
    A.FACILITY_SET_UP: "set up the facility's record",
    A.FACILITY_CHANGED: "changed the facility's record",
    A.ACCESS_REFUSED: "was refused access (not permitted, or no valid token)",
    A.EXCURSION_UPDATED: "saw an ongoing excursion change",
    A.DEAD_LETTER_SET_ASIDE: "set aside a telemetry message that could not be stored",
    A.CUSTODY_CONTROL_PLACED: "put a product unit under a record's control",
    A.CUSTODY_CONTROL_ENDED: "ended a record's control of a product unit",
    A.CUSTODY_HOLD_PLACED: "placed a hold on a product unit",
    A.CUSTODY_HOLD_LIFTED: "lifted a hold on a product unit",
    A.SHIPPER_LOG_ATTACHED: "attached a shipper's temperature log that was to follow",
}

_BY_CODE = {action.value: text for action, text in WORDING.items()}


def describe(code: str) -> str:
    """The action in words; an unknown code (from an older release) is shown as it is."""
    return _BY_CODE.get(code, code)
