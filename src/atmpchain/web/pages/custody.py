"""Custody pages: the scan page, the storage overview and map, a unit's custody timeline.

The scan page is made for a keyboard-wedge scanner: one big field with the focus, each scan ends
with Enter, the page keeps the earlier scans as hidden fields and asks for the next one; when
it has all it needs it records the event. No mouse is needed anywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.custody import queries, service
from atmpchain.custody.control_rules import check_hand_on, check_move
from atmpchain.custody.domain import PlaceKind, is_location_scan, parse_location_scan
from atmpchain.custody.errors import CustodyRuleError
from atmpchain.custody.labels import location_labels_pdf
from atmpchain.custody.service import CustodyResult
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.identity.service import ChainOfIdentityMismatch
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW, form_number
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]


class ScanAction(enum.Enum):
    """What the scan page records."""

    RECEIVE = "receive"
    PUT_AWAY = "put_away"
    RETRIEVE = "retrieve"
    TRANSFER = "transfer"
    DISPOSE = "dispose"

    @property
    def label(self) -> str:
        """The action as a button says it."""
        return {
            ScanAction.RECEIVE: "Receive",
            ScanAction.PUT_AWAY: "Put away",
            ScanAction.RETRIEVE: "Retrieve",
            ScanAction.TRANSFER: "Hand over",
            ScanAction.DISPOSE: "Dispose",
        }[self]


@dataclass(frozen=True)
class Step:
    """One field of the scan page: its name, the prompt, and what was entered."""

    name: str
    prompt: str
    value: str = ""
    summary: str = ""
    scan: bool = True


_PROMPTS = {
    "unit_scan": "Scan the product unit's label",
    "product_code": "Scan the product code barcode (or type it, e.g. S1295V00)",
    "from_party": "Who does it come from? (manufacturer, courier)",
    "location_scan": "Scan the location label (LOC:...)",
    "to": "Hand over to: the person's username, or 'party:' and the courier or shipper",
    "second_scan": "Patient-specific unit: scan a second label of the same therapy",
    "reason": "Why is it disposed of?",
}


def _steps(
    action: ScanAction, form: dict[str, str], session_lookup: queries.UnitWhereabouts | None
) -> list[str]:
    """The fields this action needs, in order, given what is known so far."""
    names = ["unit_scan"]
    if action is ScanAction.RECEIVE:
        if form.get("unit_scan") and "=<" not in form["unit_scan"]:
            names.append("product_code")
        names.append("from_party")
    elif action in (ScanAction.PUT_AWAY, ScanAction.RETRIEVE):
        names.append("location_scan")
    elif action is ScanAction.TRANSFER:
        names.append("to")
        if session_lookup is not None and session_lookup.coi:
            names.append("second_scan")
    else:
        names.append("reason")
    return names


def _page(
    request: Request,
    auth: Auth,
    action: ScanAction,
    *,
    steps: list[Step],
    current: Step | None,
    expected_version: str = "",
    unit: queries.UnitWhereabouts | None = None,
    error: DomainError | None = None,
) -> Response:
    return render(
        request,
        "custody/scan.html",
        auth,
        status_code=error.status if error else 200,
        actions=list(ScanAction),
        action=action,
        steps=steps,
        current=current,
        expected_version=expected_version,
        unit=unit,
        error=error,
    )


@router.get("/custody/scan", response_class=HTMLResponse)
def scan_form(
    request: Request, auth: CurrentAuth, action: ScanAction = ScanAction.PUT_AWAY
) -> Response:
    """The scan page: the first field is the product unit's label."""
    auth.actor.require(Permission.MOVE_PRODUCT)
    return _page(request, auth, action, steps=[], current=Step("unit_scan", _PROMPTS["unit_scan"]))


def _record(
    uow: UoW, auth: Auth, action: ScanAction, form: dict[str, str], version: int | None
) -> CustodyResult:
    actor = auth.actor
    if action is ScanAction.RECEIVE:
        return service.receive(
            uow,
            actor=actor,
            unit_scan=form["unit_scan"],
            product_code=form.get("product_code") or None,
            from_party=form["from_party"],
        )
    if action is ScanAction.PUT_AWAY:
        return service.put_away(
            uow,
            actor=actor,
            unit_scan=form["unit_scan"],
            location_scan=form["location_scan"],
            expected_version=version,
        )
    if action is ScanAction.RETRIEVE:
        return service.retrieve(
            uow,
            actor=actor,
            unit_scan=form["unit_scan"],
            location_scan=form["location_scan"],
            expected_version=version,
        )
    if action is ScanAction.TRANSFER:
        to = form["to"].strip()
        party = to[len("party:") :].strip() if to.lower().startswith("party:") else None
        return service.transfer(
            uow,
            actor=actor,
            unit_scan=form["unit_scan"],
            to_username=None if party is not None else to,
            to_party=party,
            second_scan=form.get("second_scan") or None,
            expected_version=version,
        )
    return service.dispose(
        uow,
        actor=actor,
        unit_scan=form["unit_scan"],
        reason=form["reason"],
        expected_version=version,
    )


def _precheck(action: ScanAction, unit: queries.UnitWhereabouts) -> None:
    """Say at once, after the unit's scan, when it is not where this action needs it, when
    another record controls it (naming that record and its page), or when it is on hold."""
    check_move(unit.unit, unit.control, None)
    if action is ScanAction.TRANSFER:
        # The destination is asked next: a rejected unit may still go back to its maker (an
        # outside party); the service checks the hand-on again with the destination known.
        check_hand_on(unit.unit, unit.holds, to_outside=True)
    kind = unit.place.kind
    if action is ScanAction.RETRIEVE and kind is not PlaceKind.POSITION:
        raise CustodyRuleError(f"unit {unit.unit} is not in storage (it is {unit.where})")
    if action in (ScanAction.PUT_AWAY, ScanAction.TRANSFER) and kind is not PlaceKind.PERSON:
        raise CustodyRuleError(
            f"unit {unit.unit} is not in anyone's hands (it is {unit.where}): retrieve it first"
        )
    if kind is PlaceKind.DISPOSED:
        raise CustodyRuleError(f"unit {unit.unit} has been disposed of")


def _summary(name: str, value: str, unit: queries.UnitWhereabouts | None) -> str:
    if name == "unit_scan" and unit is not None:
        held = "".join(f"; {hold.kind.label}" for hold in unit.holds)
        return f"{unit.unit}, now {unit.where}{held}"
    if name == "location_scan":
        return "LOC:" + parse_location_scan(value)
    return value.strip()


@router.post("/custody/scan", response_class=HTMLResponse)
def scan(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    action: Annotated[ScanAction, Form()],
    unit_scan: Text = "",
    product_code: Text = "",
    from_party: Text = "",
    location_scan: Text = "",
    to: Text = "",
    second_scan: Text = "",
    reason: Text = "",
    expected_version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Each scan ends with Enter: the page checks it, keeps it, and asks for the next."""
    auth.actor.require(Permission.MOVE_PRODUCT)
    form = {
        "unit_scan": unit_scan.strip(),
        "product_code": product_code.strip(),
        "from_party": from_party.strip(),
        "location_scan": location_scan.strip(),
        "to": to.strip(),
        "second_scan": second_scan.strip(),
        "reason": reason.strip(),
    }
    unit: queries.UnitWhereabouts | None = None
    done: list[Step] = []
    try:
        if form["unit_scan"]:
            if is_location_scan(form["unit_scan"]):
                raise InvalidInput(
                    "that was a location label: scan the product unit's label first",
                    field="unit_scan",
                )
            service.read_unit_scan(form["unit_scan"])
            if action is not ScanAction.RECEIVE:
                with state.db.read_session() as session:
                    unit = queries.where_is(session, form["unit_scan"])
                if not expected_version:
                    expected_version = str(unit.version)
                _precheck(action, unit)
        names = _steps(action, form, unit)
        for name in names:
            if not form[name]:
                break
            done.append(Step(name, _PROMPTS[name], form[name], _summary(name, form[name], unit)))
    except DomainError as exc:
        # Keep the scans that were good; ask again for the one that was refused.
        names = _steps(action, form, unit)
        good = [s for s in done if s.name != exc.field]
        missing = next((n for n in names if n not in {s.name for s in good}), names[0])
        return _page(
            request,
            auth,
            action,
            steps=good,
            current=Step(missing, _PROMPTS[missing], scan=missing != "from_party"),
            expected_version=expected_version if good else "",
            unit=unit if good else None,
            error=exc,
        )
    if len(done) < len(names):
        missing = names[len(done)]
        return _page(
            request,
            auth,
            action,
            steps=done,
            current=Step(
                missing, _PROMPTS[missing], scan=missing not in ("from_party", "reason", "to")
            ),
            expected_version=expected_version,
            unit=unit,
        )
    version = form_number(expected_version, "expected_version")
    try:
        result = _record(uow, auth, action, form, version)
    except ChainOfIdentityMismatch as stop:
        return render(request, "custody/stop.html", auth, status_code=409, stop=stop, action=action)
    except DomainError as exc:
        return _page(
            request,
            auth,
            action,
            steps=[],
            current=Step("unit_scan", _PROMPTS["unit_scan"]),
            error=exc,
        )
    return render(request, "custody/done.html", auth, result=result, action=action)


@router.get("/custody", response_class=HTMLResponse)
def overview(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Every storage unit with its free capacity, and the units moved most recently."""
    auth.actor.require(Permission.VIEW_CUSTODY)
    with state.db.read_session() as session:
        units = queries.storage_overview(session)
        recent = queries.recent_units(session, limit=20)
    return render(request, "custody/overview.html", auth, units=units, recent=recent)


@router.get("/custody/storage/{code}", response_class=HTMLResponse)
def storage_map(request: Request, auth: CurrentAuth, state: State, code: str) -> Response:
    """A storage unit's map: each position, what it holds, and its free capacity."""
    auth.actor.require(Permission.VIEW_CUSTODY)
    with state.db.read_session() as session:
        found = queries.storage_map(session, code)
    return render(request, "custody/storage.html", auth, map=found)


@router.get("/custody/storage/{code}/labels.pdf")
def location_labels(auth: CurrentAuth, state: State, code: str) -> Response:
    """The storage unit's location labels (Code 128, ``LOC:`` + code) as a PDF to print."""
    auth.actor.require(Permission.VIEW_CUSTODY)
    with state.db.read_session() as session:
        found = queries.storage_map(session, code)
    return Response(
        location_labels_pdf(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="locations-{found.unit.code}.pdf"'},
    )


@router.get("/custody/find")
def find(auth: CurrentAuth, state: State, scan: str = "") -> Response:
    """Scan a unit to open its custody timeline."""
    auth.actor.require(Permission.VIEW_CUSTODY)
    with state.db.read_session() as session:
        unit = queries.where_is(session, scan)
    return RedirectResponse(f"/custody/units/{unit.unit_id}", status_code=303)


@router.get("/custody/units/{unit_id}", response_class=HTMLResponse)
def unit_timeline(request: Request, auth: CurrentAuth, state: State, unit_id: RecordId) -> Response:
    """A product unit's chain of custody, from receipt, with every scan."""
    auth.actor.require(Permission.VIEW_CUSTODY)
    with state.db.read_session() as session:
        found = queries.timeline(session, unit_id)
    return render(request, "custody/timeline.html", auth, timeline=found)
