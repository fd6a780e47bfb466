"""The bedside check, for a nurse with a scanner and no mouse.

Scan the wristband, Enter; scan the bag, Enter; type the password, Enter. Each Enter posts the
form; the page keeps the scans made so far as hidden fields and puts the focus on the next field,
so no script is needed. A match shows a big green panel (patient, birth date, product, infusion
start) with the form for the end of the infusion; a mismatch, or a dose past its limit, shows a
big red STOP with the reason and nothing else to do but start again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.custody import service as custody_service
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.hospital import bedside, queries
from atmpchain.hospital.domain import WindowRuleError
from atmpchain.hospital.identity import IdentityStop
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.scan import parse_scan
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW, form_number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Scan = Annotated[str, Form(max_length=500)]

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
    try:
        scanned = identity_of(text, parse_scan(text))
    except IdentityFormatError as exc:
        raise identity_service.scan_error("wristband_scan", exc) from None
    if scanned.coi is None:
        raise InvalidInput(
            f"that was not a wristband ({scanned.summary}): scan the patient's wristband first",
            field="wristband_scan",
        )
    return f"Wristband: chain of identity {scanned.coi}"


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
) -> Response:
    """The check form: the scans accepted so far, and the next field with the focus."""
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
    )


def _stop(request: Request, auth: Auth, reason: str, audit_seq: int | None) -> Response:
    return render(
        request,
        "hospital/stop.html",
        auth,
        status_code=409,
        reason=reason,
        audit_seq=audit_seq,
        again="/hospital/bedside",
        number=None,
    )


def _started(
    request: Request,
    auth: Auth,
    state: State,
    dose_id: RecordId,
    *,
    bag_scan: str = "",
    error: DomainError | None = None,
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
        current=Step(current, _END_PROMPTS[current]),
        error=error,
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
    """Each Enter posts: the next field is asked for; with all three the check is made."""
    auth.actor.require(Permission.ADMINISTER_DOSE)
    fields = {"wristband_scan": wristband_scan.strip(), "bag_scan": bag_scan.strip()}
    if not fields["wristband_scan"] or not fields["bag_scan"] or not password:
        return _form(request, auth, fields=fields, dose=dose)
    try:
        _wristband(fields["wristband_scan"])
        _bag(fields["bag_scan"])
        result = bedside.start_infusion(
            uow,
            actor=auth.actor,
            wristband_scan=fields["wristband_scan"],
            bag_scan=fields["bag_scan"],
            password=password,
            expected_dose_id=form_number(dose, "dose", low=1),
        )
    except (ChainOfIdentityMismatch, IdentityStop) as stop:
        return _stop(request, auth, stop.reason, getattr(stop, "audit_seq", None))
    except DomainError as exc:
        if exc.field == "limit" or isinstance(exc, WindowRuleError):
            return _stop(request, auth, exc.message, None)
        if exc.field in _CHECK_FIELDS:
            exc.field = _CHECK_FIELDS[exc.field]
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
) -> Response:
    """The empty bag, then the password: the end of the infusion, signed."""
    auth.actor.require(Permission.ADMINISTER_DOSE)
    scan = bag_scan.strip()
    try:
        if scan:
            _bag(scan)
        if not scan or not password:
            return _started(request, auth, state, dose_id, bag_scan=scan)
        bedside.end_infusion(
            uow, actor=auth.actor, dose_id=dose_id, bag_scan=scan, password=password
        )
    except (ChainOfIdentityMismatch, IdentityStop) as stop:
        return _stop(request, auth, stop.reason, getattr(stop, "audit_seq", None))
    except DomainError as exc:
        return _started(request, auth, state, dose_id, bag_scan=scan, error=exc)
    with state.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    return render(request, "hospital/bedside_ended.html", auth, record=record)
