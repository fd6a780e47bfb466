"""Hospital pages: the day board and a dose's page with the forms for its next steps.

Made for a pharmacist with a keyboard-wedge scanner: the next step's first field has the focus,
a scan ends with Enter, signed steps ask for the password again. A refused step shows the page
again with the message next to the field it names and the values typed (never the password).
The order form, the bedside check, the catalogue and traceability have their own modules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.hospital import lookup, queries, safeguards
from atmpchain.hospital.domain import TRANSITIONS, DoseStatus, DoseStep
from atmpchain.moments import MOMENT_RULE, check_moment, day_in_range
from atmpchain.qc import queries as qc_queries
from atmpchain.release import queries as release_queries
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, requires
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
Viewer = Annotated[Actor, requires(Permission.VIEW_DOSES)]


def describe_span(span: timedelta) -> str:
    """A time left (or past) in words: 'in 1 h 05 min', '12 min ago'."""
    seconds = int(span.total_seconds())
    minutes = abs(seconds) // 60
    text = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


@dataclass(frozen=True, slots=True)
class Countdown:
    """The deadline the board counts down to, and how far away it is."""

    label: str
    target: datetime
    text: str
    overdue: bool


_BEFORE_THAW = (
    DoseStatus.ORDERED,
    DoseStatus.APPROVED,
    DoseStatus.RECEIVED,
    DoseStatus.STORED,
    DoseStatus.RETRIEVED,
)
_THAWED = (DoseStatus.THAWING, DoseStatus.THAWED, DoseStatus.ISSUED)


def countdown(line: queries.BoardLine, now: datetime) -> Countdown | None:
    """Before the thaw: to the latest thaw start; once thawed: to the infusion's deadline."""
    if line.status in _THAWED and line.infusion_must_start_by is not None:
        label, target = "infusion must start by", line.infusion_must_start_by
    elif line.status in _BEFORE_THAW:
        label, target = "latest thaw", line.latest_thaw
    else:
        return None
    return Countdown(label, target, describe_span(target - now), target < now)


def local_to_utc(text: str, zone: str, field: str) -> datetime:
    """A wall-clock time typed in the reader's zone (YYYY-MM-DDTHH:MM) as an aware UTC time."""
    value = text.strip()
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"'{value}' is not a date and time (YYYY-MM-DD HH:MM)", field=field
        ) from None
    if naive.tzinfo is not None:
        return check_moment(naive, field)
    if not day_in_range(naive.date()):
        raise InvalidInput(f"'{value}' is out of range: {MOMENT_RULE}", field=field)
    tz = ZoneInfo(zone)
    local = naive.replace(tzinfo=tz)
    # On the night the clocks go forward a wall-clock hour does not exist; zoneinfo would quietly
    # shift it, and an infusion planned an hour off is a thaw an hour off. Refuse it instead.
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks go forward then)",
            field=field,
        )
    return local.astimezone(UTC)


class DoseForm(enum.Enum):
    """A form on a dose's page: one step of its way."""

    APPROVE = "approve"
    EXPECTED_DIN = "expected-din"
    RECEIVE = "receive"
    PUT_AWAY = "put-away"
    HOLD = "hold-decision"
    RETRIEVE = "retrieve"
    THAW_START = "thaw-start"
    THAW_END = "thaw-end"
    CHECK = "check"
    PREPARATION = "preparation"
    ISSUE = "issue"
    WARD_RECEIPT = "ward-receipt"
    INFUSION_END = "infusion-end"
    APPOINTMENT = "appointment"
    CANCEL = "cancel"
    OVERRIDE = "override"
    DISPOSE = "dispose"

    @property
    def title(self) -> str:
        """The form's heading."""
        return _TITLES[self]


_TITLES = {
    DoseForm.APPROVE: "Approve the order",
    DoseForm.EXPECTED_DIN: "Record the DIN announced by the manufacturer",
    DoseForm.RECEIVE: "Receive the product",
    DoseForm.PUT_AWAY: "Put away into the cryostore",
    DoseForm.HOLD: "QA decision on the hold",
    DoseForm.RETRIEVE: "Retrieve from the cryostore",
    DoseForm.THAW_START: "Start the thaw",
    DoseForm.THAW_END: "End the thaw",
    DoseForm.CHECK: "Confirm a pre-infusion check",
    DoseForm.PREPARATION: "Record a preparation step",
    DoseForm.ISSUE: "Issue to the ward's nurse",
    DoseForm.WARD_RECEIPT: "Confirm receipt of the bag on the ward",
    DoseForm.INFUSION_END: "Record the end of the infusion",
    DoseForm.APPOINTMENT: "Move the infusion appointment",
    DoseForm.CANCEL: "Cancel the dose",
    DoseForm.OVERRIDE: "Physician's override of the thaw-to-infusion limit",
    DoseForm.DISPOSE: "Dispose of the bag past its limit",
}

#: Each form: the permission it needs and the step whose allowed statuses decide when it shows.
_FORM_RULES: dict[DoseForm, tuple[Permission, DoseStep]] = {
    DoseForm.APPROVE: (Permission.APPROVE_DOSE_ORDER, DoseStep.APPROVED),
    DoseForm.EXPECTED_DIN: (Permission.PREPARE_DOSE, DoseStep.EXPECTED_DIN_SET),
    DoseForm.RECEIVE: (Permission.HANDLE_DOSE, DoseStep.RECEIVED),
    DoseForm.PUT_AWAY: (Permission.HANDLE_DOSE, DoseStep.STORED),
    DoseForm.HOLD: (Permission.DECIDE_RECEIPT, DoseStep.RELEASED_BY_QA),
    DoseForm.RETRIEVE: (Permission.HANDLE_DOSE, DoseStep.RETRIEVED),
    DoseForm.THAW_START: (Permission.HANDLE_DOSE, DoseStep.THAW_STARTED),
    DoseForm.THAW_END: (Permission.HANDLE_DOSE, DoseStep.THAW_ENDED),
    DoseForm.CHECK: (Permission.PREPARE_DOSE, DoseStep.CHECK_CONFIRMED),
    DoseForm.PREPARATION: (Permission.HANDLE_DOSE, DoseStep.PREPARATION),
    DoseForm.ISSUE: (Permission.PREPARE_DOSE, DoseStep.ISSUED),
    DoseForm.WARD_RECEIPT: (Permission.ADMINISTER_DOSE, DoseStep.RECEIVED_AT_WARD),
    DoseForm.INFUSION_END: (Permission.ADMINISTER_DOSE, DoseStep.INFUSION_ENDED),
    DoseForm.APPOINTMENT: (Permission.ORDER_DOSE, DoseStep.APPOINTMENT_MOVED),
    DoseForm.CANCEL: (Permission.ORDER_DOSE, DoseStep.CANCELLED),
    DoseForm.OVERRIDE: (Permission.OVERRIDE_INFUSION_LIMIT, DoseStep.LIMIT_OVERRIDDEN),
    # The holder disposes: the ward's nurse, or the pharmacist (see forms_for).
    DoseForm.DISPOSE: (Permission.ADMINISTER_DOSE, DoseStep.PRODUCT_DISPOSED),
}

#: The first field of each form: it gets the focus when the form is the next step.
FIRST_FIELD = {
    DoseForm.APPROVE: "password",
    DoseForm.EXPECTED_DIN: "din",
    DoseForm.RECEIVE: "unit_scan",
    DoseForm.PUT_AWAY: "unit_scan",
    DoseForm.HOLD: "decision",
    DoseForm.RETRIEVE: "unit_scan",
    DoseForm.THAW_START: "unit_scan",
    DoseForm.THAW_END: "password",
    DoseForm.CHECK: "check",
    DoseForm.PREPARATION: "step_text",
    DoseForm.ISSUE: "unit_scan",
    DoseForm.WARD_RECEIPT: "bag_scan",
    DoseForm.INFUSION_END: "bag_scan",
    DoseForm.APPOINTMENT: "appointment_at",
    DoseForm.CANCEL: "reason",
    DoseForm.OVERRIDE: "reason",
    DoseForm.DISPOSE: "unit_scan",
}

#: Fixed confirmations after a step (never text taken from the URL).
DONE = {
    DoseForm.APPROVE: "Order approved and signed.",
    DoseForm.EXPECTED_DIN: "Announced DIN recorded.",
    DoseForm.RECEIVE: "Product received and signed; put it away now.",
    DoseForm.PUT_AWAY: "Product put away into the cryostore, signed.",
    DoseForm.HOLD: "QA decision signed.",
    DoseForm.RETRIEVE: "Product retrieved, signed.",
    DoseForm.THAW_START: "Thaw started, signed: the limit's clock is running.",
    DoseForm.THAW_END: "Thaw ended, signed.",
    DoseForm.CHECK: "Pre-infusion check confirmed and signed.",
    DoseForm.PREPARATION: "Preparation step signed.",
    DoseForm.ISSUE: "Dose issued to the ward, signed.",
    DoseForm.WARD_RECEIPT: "Receipt of the bag on the ward signed: the bedside check is next.",
    DoseForm.INFUSION_END: "End of the infusion recorded, signed; the empty bag is disposed of.",
    DoseForm.APPOINTMENT: "Appointment moved; the thaw window moved with it.",
    DoseForm.CANCEL: "Dose cancelled; its records stay.",
    DoseForm.OVERRIDE: "Override signed and recorded as a deviation.",
    DoseForm.DISPOSE: "Bag disposed of, signed; the dose's record stays.",
}


_DONE_TEXT = {form.value: text for form, text in DONE.items()} | {
    "ordered": "Dose ordered. A pharmacist checks and approves it next.",
    "shipper-log": "Shipper's temperature log attached to the receipt.",
}


def forms_for(record: queries.DoseRecord, actor: Actor) -> list[DoseForm]:
    """The forms the actor may use on the dose now (the services check again)."""
    status = record.line.status
    shown: list[DoseForm] = []
    for form, (permission, step) in _FORM_RULES.items():
        may = actor.can(permission) or (
            form is DoseForm.DISPOSE and actor.can(Permission.PREPARE_DOSE)
        )
        if not may or status not in TRANSITIONS[step][0]:
            continue
        if form is DoseForm.DISPOSE and any(
            e.step is DoseStep.PRODUCT_DISPOSED for e in record.events
        ):
            continue
        if form is DoseForm.HOLD and record.line.hold is None:
            continue
        if form is DoseForm.RETRIEVE and (record.line.hold is not None or record.line.holds):
            continue
        if form is DoseForm.OVERRIDE and (
            record.issued_at is None or record.infusion_started_at is not None
        ):
            continue
        if form is DoseForm.CHECK and not record.checks_missing:
            continue
        if form is DoseForm.WARD_RECEIPT and record.received_at_ward_at is not None:
            continue
        shown.append(form)
    if record.expected_din is not None and DoseForm.RECEIVE in shown:
        # A bag is expected: a scan goes to the receipt (checked against the announced DIN),
        # never into the form that would replace the announced DIN (issue 9, item 2).
        shown.remove(DoseForm.RECEIVE)
        shown.insert(0, DoseForm.RECEIVE)
    return shown


def out_of_tank(line: queries.BoardLine, now: datetime) -> str | None:
    """How long the bag has been out of the cryostore, while it waits for its thaw."""
    if line.retrieved_at is None or line.status is not DoseStatus.RETRIEVED:
        return None
    return safeguards.out_of_tank(line.retrieved_at, now)


def dose_page(
    request: Request,
    auth: Auth,
    state: State,
    dose_id: RecordId,
    *,
    error: DomainError | None = None,
    error_form: DoseForm | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    """Render a dose's page, with an error next to its field when a step was refused."""
    now = state.clock.now()
    with state.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
        # A batch made and certified here: its release (and a §11.5 supply) beside the batch.
        released = release_queries.release_status_of(session, record.batch_number)
        # A late QC result that failed (issue 12, item 6): said on the dose's page too.
        late_flags = qc_queries.late_result_flags(session, record.din) if record.din else ()
    forms = forms_for(record, auth.actor)
    if error_form is not None and error is not None:
        focus = (error_form, error.field or FIRST_FIELD[error_form])
    elif forms:
        focus = (forms[0], FIRST_FIELD[forms[0]])
    else:
        focus = None
    zone = ZoneInfo(auth.actor.time_zone)
    appointment_local = record.line.appointment_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    early = now < record.line.earliest_thaw
    return render(
        request,
        "hospital/dose.html",
        auth,
        status_code=error.status if error else 200,
        record=record,
        released=released,
        line=record.line,
        countdown=countdown(record.line, now),
        forms=forms,
        Form=DoseForm,
        focus=(focus[0].value, focus[1]) if focus else None,
        error=error,
        error_form=error_form.value if error_form else None,
        values=values or {},
        notice=notice,
        appointment_local=appointment_local,
        out_of_tank=out_of_tank(record.line, now),
        retrieval_early=describe_span(record.line.earliest_thaw - now) if early else None,
        # Received with the shipper's log "to follow", not attached yet (issue 10 item 11).
        awaiting_log=record.custody is not None and not record.shipper_logs,
        late_flags=late_flags,
    )


@router.get("/hospital/board", response_class=HTMLResponse)
def board(request: Request, auth: CurrentAuth, _: Viewer, state: State) -> Response:
    """Today's and tomorrow's doses with their thaw windows and countdowns."""
    now = state.clock.now()
    zone = ZoneInfo(auth.actor.time_zone)
    with state.db.read_session() as session:
        lines = queries.board(session, now=now, zone=auth.actor.time_zone)
    today = now.astimezone(zone).date()
    days: dict[date, str] = {today: "Today", today + timedelta(days=1): "Tomorrow"}
    rows = [
        (
            line,
            countdown(line, now),
            days.get(line.appointment_at.astimezone(zone).date(), "Other day"),
            out_of_tank(line, now),
        )
        for line in lines
    ]
    response = render(
        request,
        "hospital/board.html",
        auth,
        rows=rows,
        now=now,
        today=datetime.combine(today, time(12), zone),
    )
    return response


@router.get("/hospital/doses/{dose_id}", response_class=HTMLResponse)
def dose(
    request: Request, dose_id: RecordId, auth: CurrentAuth, _: Viewer, state: State, done: str = ""
) -> Response:
    """A dose's whole record and the forms for its next steps."""
    return dose_page(request, auth, state, dose_id, notice=_DONE_TEXT.get(done))


@router.get("/hospital/find")
def find(auth: CurrentAuth, _: Viewer, state: State, dose: str = "") -> Response:
    """Type or scan a dose number (D000042), a wristband, a bag's label or a patient reference
    to open the dose's page."""
    with state.db.read_session() as session:
        dose_id = lookup.find_dose(session, dose[:500])
    return RedirectResponse(f"/hospital/doses/{dose_id}", status_code=303)
