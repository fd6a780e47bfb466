"""The bedside check, for a nurse with a scanner and no mouse: two steps, no script needed.

Step 1: scan the wristband, Enter; scan the bag, Enter. The server checks wristband and bag at
once (`bedside.check_bedside`): a mismatch is a big red STOP naming both patients and the dose
the bag belongs to, already on record; a match shows a green panel (patient, birth date,
patient id, product, dose) and asks for the password. Step 2: the password, Enter: the start
of the infusion is signed (the check is made again). The page keeps the scans made so far as
hidden fields and puts the focus on the next field. A bag whose dose is already infusing
offers the end of its infusion instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.custody import service as custody_service
from atmpchain.errors import DomainError
from atmpchain.hospital import bedside, queries
from atmpchain.hospital.bedside import BedsideCheck, BedsideStop
from atmpchain.hospital.domain import WindowRuleError
from atmpchain.hospital.identity import IdentityStop
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW, form_number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Scan = Annotated[str, Form(max_length=500)]
Note = Annotated[str, Form(max_length=2000)]

_PROMPTS = {
    "wristband_scan": "Scan the patient's wristband",
    "bag_scan": "Scan the product bag",
    "password": "Your password (to sign the start of the infusion)",
}
_END_PROMPTS = {
    "bag_scan": "Scan the empty bag",
    "password": "Your password (to sign the end of the infusion)",
}
# The identity check names its two scans by order; at the bedside the bag comes first.
_CHECK_FIELDS = {"first_scan": "bag_scan", "second_scan": "wristband_scan"}


@dataclass(frozen=True, slots=True)
class Step:
    """One field of the bedside form: its name, prompt, value and what it was read as."""

    name: str
    prompt: str
    value: str = ""
    summary: str = ""


def _wristband(text: str) -> str:
    return f"Wristband: chain of identity {bedside.read_wristband(text)}"


def _bag(text: str) -> str:
    scanned = custody_service.read_unit_scan(text, field="bag_scan")
    return f"Bag: {scanned.summary}"


def _form(
    request: Request,
    auth: Auth,
    *,
    fields: dict[str, str],
    dose: str = "",
    error: DomainError | None = None,
    check: BedsideCheck | None = None,
) -> Response:
    """The check form: the scans accepted so far, and the next field with the focus; once
    wristband and bag matched (`check`), the green panel and the password."""
    done: list[Step] = []
    readers = {"wristband_scan": _wristband, "bag_scan": _bag}
    for name in ("wristband_scan", "bag_scan"):
        value = fields.get(name, "").strip()
        if not value or (error is not None and error.field == name):
            break
        try:
            done.append(Step(name, _PROMPTS[name], value, readers[name](value)))
        except DomainError as exc:
            error = error or exc
            break
    if len(done) == 2 and check is None:
        done.pop()  # the bag is scanned again after a refusal that was not about its label
    current = ("wristband_scan", "bag_scan", "password")[len(done)]
    return render(
        request,
        "hospital/bedside.html",
        auth,
        status_code=error.status if error else 200,
        steps=done,
        current=Step(current, _PROMPTS[current]),
        dose=dose,
        error=error,
        check=check,
    )


def _stop(request: Request, auth: Auth, stop: DomainError) -> Response:
    crossed = stop if isinstance(stop, BedsideStop) else None
    return render(
        request,
        "hospital/stop.html",
        auth,
        status_code=409,
        reason=getattr(stop, "reason", stop.message),
        audit_seq=getattr(stop, "audit_seq", None),
        again="/hospital/bedside",
        number=None,
        crossed=crossed,
    )


def _started(
    request: Request,
    auth: Auth,
    state: State,
    dose_id: RecordId,
    *,
    bag_scan: str = "",
    note: str = "",
    error: DomainError | None = None,
    rescanned: bool = False,
) -> Response:
    """The green panel of a started infusion, with the form for its end."""
    with state.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    if error is not None and error.field == "bag_scan":
        bag_scan = ""
    current = "password" if bag_scan else "bag_scan"
    return render(
        request,
        "hospital/bedside_started.html",
        auth,
        status_code=error.status if error else 200,
        record=record,
        bag_scan=bag_scan,
        note=note,
        current=Step(current, _END_PROMPTS[current]),
        error=error,
        rescanned=rescanned,
    )


@router.get("/hospital/bedside", response_class=HTMLResponse)
def bedside_form(request: Request, auth: CurrentAuth, dose: str = "") -> Response:
    """The bedside check: the wristband field has the focus."""
    auth.actor.require(Permission.ADMINISTER_DOSE)
    return _form(request, auth, fields={}, dose=dose if dose.isdigit() else "")


@router.post("/hospital/bedside", response_class=HTMLResponse)
def bedside_check(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    wristband_scan: Scan = "",
    bag_scan: Scan = "",
    password: Scan = "",
    dose: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Each Enter posts: wristband, then bag (checked at once), then the password (signed)."""
    auth.actor.require(Permission.ADMINISTER_DOSE)
    fields = {"wristband_scan": wristband_scan.strip(), "bag_scan": bag_scan.strip()}
    if not fields["wristband_scan"] or not fields["bag_scan"]:
        return _form(request, auth, fields=fields, dose=dose)
    check: BedsideCheck | None = None
    try:
        expected = form_number(dose, "dose", low=1)
        _wristband(fields["wristband_scan"])
        _bag(fields["bag_scan"])
        check = bedside.check_bedside(
            uow,
            actor=auth.actor,
            wristband_scan=fields["wristband_scan"],
            bag_scan=fields["bag_scan"],
            expected_dose_id=expected,
        )
        if check.infusing:
            return _started(
                request, auth, state, check.dose_id, bag_scan=fields["bag_scan"], rescanned=True
            )
        if not password:
            return _form(request, auth, fields=fields, dose=dose, check=check)
        result = bedside.start_infusion(
            uow,
            actor=auth.actor,
            wristband_scan=fields["wristband_scan"],
            bag_scan=fields["bag_scan"],
            password=password,
            expected_dose_id=expected,
        )
    except (ChainOfIdentityMismatch, IdentityStop) as stop:
        return _stop(request, auth, stop)
    except DomainError as exc:
        if exc.field == "limit" or isinstance(exc, WindowRuleError):
            return _stop(request, auth, exc)
        if exc.field in _CHECK_FIELDS:
            exc.field = _CHECK_FIELDS[exc.field]
        if exc.field == "password":
            # A wrong password does not undo the match: ask for it again under the green panel.
            return _form(request, auth, fields=fields, dose=dose, error=exc, check=check)
        return _form(request, auth, fields=fields, dose=dose, error=exc)
    return _started(request, auth, state, result.dose_id)


@router.post("/hospital/bedside/doses/{dose_id}/end", response_class=HTMLResponse)
def bedside_end(
    request: Request,
    dose_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    bag_scan: Scan = "",
    password: Scan = "",
    note: Note = "",
) -> Response:
    """The empty bag, then the password: the end of the infusion, signed (a note says why an
    infusion was shorter than the catalogue's minimum)."""
    auth.actor.require(Permission.ADMINISTER_DOSE)
    scan = bag_scan.strip()
    try:
        if scan:
            _bag(scan)
        if not scan or not password:
            return _started(request, auth, state, dose_id, bag_scan=scan, note=note)
        bedside.end_infusion(
            uow, actor=auth.actor, dose_id=dose_id, bag_scan=scan, password=password, note=note
        )
    except (ChainOfIdentityMismatch, IdentityStop) as stop:
        return _stop(request, auth, stop)
    except DomainError as exc:
        return _started(request, auth, state, dose_id, bag_scan=scan, note=note, error=exc)
    with state.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    return render(request, "hospital/bedside_ended.html", auth, record=record)
