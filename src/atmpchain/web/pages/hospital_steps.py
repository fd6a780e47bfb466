"""The dose page's forms: each posts one step, which calls one service function.

A refused step shows the dose's page again with the message next to the field it names; an
identity mismatch (the bag scanned is not this dose's) is a STOP page, already on record.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Actor
from atmpchain.errors import DomainError, InvalidInput, NotFound
from atmpchain.hospital import bedside, checks, disposal, orders, preparation, receipt, ward
from atmpchain.hospital.common import dose_number
from atmpchain.hospital.identity import IdentityStop
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.uow import UnitOfWork
from atmpchain.web.deps import CurrentAuth, RecordId, State, UoW, form_number
from atmpchain.web.pages.hospital import DoseForm, dose_page, local_to_utc
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
_MAX_LOG_BYTES = 5_000_000


def _read_log(upload: UploadFile | None) -> tuple[str, str]:
    if upload is None or not upload.filename:
        raise InvalidInput("attach the shipper's temperature log (CSV)", field="shipper_log")
    data = upload.file.read(_MAX_LOG_BYTES + 1)
    if len(data) > _MAX_LOG_BYTES:
        raise InvalidInput("the shipper's log is larger than 5 MB", field="shipper_log")
    try:
        return data.decode("utf-8-sig"), upload.filename
    except UnicodeDecodeError:
        raise InvalidInput(
            "the shipper's log is not a UTF-8 text (CSV) file", field="shipper_log"
        ) from None


def _run(
    form: DoseForm,
    uow: UnitOfWork,
    actor: Actor,
    dose_id: RecordId,
    f: dict[str, str],
    version: int | None,
    upload: UploadFile | None,
) -> None:
    """Call the one service function of the step."""
    pw = f["password"]
    if form is DoseForm.APPROVE:
        orders.approve_order(
            uow,
            actor=actor,
            dose_id=dose_id,
            password=pw,
            comment=f["comment"],
            expected_version=version,
        )
    elif form is DoseForm.EXPECTED_DIN:
        orders.set_expected_din(
            uow,
            actor=actor,
            dose_id=dose_id,
            din=f["din"],
            reason=f["reason"],
            password=pw or None,
            expected_version=version,
        )
    elif form is DoseForm.RECEIVE:
        if not f["unit_scan"]:
            raise InvalidInput("scan the bag's label", field="unit_scan")
        if f["condition"] not in ("ok", "damaged"):
            # Accepting a shipment as intact is a GMP decision: nobody's default (issue 10).
            raise InvalidInput(
                "choose the condition of the shipment: intact, or damaged or doubtful",
                field="condition",
            )
        # "To follow": the shipper's log comes later (a person or the logger attaches it) and
        # the dose waits on QA's hold until then; no file picker is needed now.
        to_follow = f["log_to_follow"] == "yes"
        log, name = ("", "") if to_follow else _read_log(upload)
        receipt.receive_dose(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            batch_number=f["batch_number"],
            from_party=f["from_party"],
            shipper_log=log,
            shipper_log_name=name,
            log_to_follow=to_follow,
            condition_ok=f["condition"] == "ok",
            condition_note=f["condition_note"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.PUT_AWAY:
        receipt.put_away_dose(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            location_scan=f["location_scan"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.RETRIEVE:
        preparation.retrieve_dose(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            location_scan=f["location_scan"],
            password=pw,
            reason=f["reason"],
            expected_version=version,
        )
    elif form is DoseForm.HOLD:
        if f["decision"] not in ("release", "reject"):
            raise InvalidInput(
                "choose the decision on the hold: release or reject", field="decision"
            )
        receipt.decide_hold(
            uow,
            actor=actor,
            dose_id=dose_id,
            release=f["decision"] == "release",
            rationale=f["rationale"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.THAW_START:
        preparation.start_thaw(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.THAW_END:
        preparation.end_thaw(
            uow, actor=actor, dose_id=dose_id, password=pw, note=f["note"], expected_version=version
        )
    elif form is DoseForm.CHECK:
        checks.confirm_check(
            uow,
            actor=actor,
            dose_id=dose_id,
            check=f["check"],
            password=pw,
            note=f["note"],
            expected_version=version,
        )
    elif form is DoseForm.PREPARATION:
        preparation.record_preparation(
            uow,
            actor=actor,
            dose_id=dose_id,
            step_text=f["step_text"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.WARD_RECEIPT:
        ward.confirm_receipt_at_ward(
            uow,
            actor=actor,
            dose_id=dose_id,
            bag_scan=f["bag_scan"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.ISSUE:
        preparation.issue_dose(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            second_scan=f["second_scan"],
            to_username=f["to_username"],
            password=pw,
            expected_version=version,
        )
    elif form is DoseForm.INFUSION_END:
        bedside.end_infusion(
            uow, actor=actor, dose_id=dose_id, bag_scan=f["bag_scan"], password=pw, note=f["note"]
        )
    elif form is DoseForm.APPOINTMENT:
        orders.move_appointment(
            uow,
            actor=actor,
            dose_id=dose_id,
            appointment_at=local_to_utc(f["appointment_at"], actor.time_zone, "appointment_at"),
            reason=f["reason"],
            expected_version=version,
        )
    elif form is DoseForm.CANCEL:
        orders.cancel_dose(
            uow, actor=actor, dose_id=dose_id, reason=f["reason"], expected_version=version
        )
    elif form is DoseForm.DISPOSE:
        disposal.dispose_expired_dose(
            uow,
            actor=actor,
            dose_id=dose_id,
            unit_scan=f["unit_scan"],
            reason=f["reason"],
            password=pw,
            expected_version=version,
        )
    else:
        bedside.override_limit(
            uow,
            actor=actor,
            dose_id=dose_id,
            reason=f["reason"],
            password=pw,
            expected_version=version,
        )


@router.post("/hospital/doses/{dose_id}/steps/{step}", response_class=HTMLResponse)
def dose_step(
    request: Request,
    dose_id: RecordId,
    step: str,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    version: Annotated[str, Form(max_length=12)] = "",
    password: Text = "",
    reason: Text = "",
    comment: Text = "",
    din: Text = "",
    unit_scan: Text = "",
    location_scan: Text = "",
    batch_number: Text = "",
    from_party: Text = "",
    condition: Text = "",
    condition_note: Text = "",
    step_text: Text = "",
    check: Text = "",
    to_username: Text = "",
    second_scan: Text = "",
    appointment_at: Text = "",
    decision: Text = "",
    rationale: Text = "",
    note: Text = "",
    bag_scan: Text = "",
    log_to_follow: Text = "",
    shipper_log: UploadFile | None = None,
) -> Response:
    """Record one step of the dose, then show its page again."""
    form = next((f for f in DoseForm if f.value == step), None)
    if form is None:
        raise NotFound(f"there is no step '{step}' on a dose's page", field="step")
    fields = {
        "password": password,
        "reason": reason,
        "comment": comment,
        "din": din.strip(),
        "unit_scan": unit_scan.strip(),
        "location_scan": location_scan.strip(),
        "batch_number": batch_number,
        "from_party": from_party,
        "condition": condition,
        "condition_note": condition_note,
        "step_text": step_text.strip(),
        "check": check,
        "to_username": to_username.strip(),
        "second_scan": second_scan.strip(),
        "appointment_at": appointment_at,
        "decision": decision,
        "rationale": rationale,
        "note": note,
        "bag_scan": bag_scan.strip(),
        "log_to_follow": log_to_follow,
    }
    expected = form_number(version, "version")
    try:
        _run(form, uow, auth.actor, dose_id, fields, expected, shipper_log)
    except (ChainOfIdentityMismatch, IdentityStop) as stop:
        return render(
            request,
            "hospital/stop.html",
            auth,
            status_code=409,
            reason=stop.reason,
            audit_seq=getattr(stop, "audit_seq", None),
            again=f"/hospital/doses/{dose_id}",
            number=dose_number(dose_id),
        )
    except DomainError as exc:
        kept = {k: v for k, v in fields.items() if k != "password"}
        return dose_page(request, auth, state, dose_id, error=exc, error_form=form, values=kept)
    return RedirectResponse(f"/hospital/doses/{dose_id}?done={form.value}", status_code=303)


@router.post("/hospital/doses/{dose_id}/shipper-log", response_class=HTMLResponse)
def attach_shipper_log(
    request: Request,
    dose_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    shipper_log: UploadFile | None = None,
) -> Response:
    """Attach the shipper's log that was marked 'to follow' at receipt."""
    try:
        log, name = _read_log(upload=shipper_log)
        receipt.attach_shipper_log(uow, actor=auth.actor, dose_id=dose_id, text=log, filename=name)
    except DomainError as exc:
        return dose_page(request, auth, state, dose_id, error=exc, error_form=None)
    return RedirectResponse(f"/hospital/doses/{dose_id}?done=shipper-log", status_code=303)
