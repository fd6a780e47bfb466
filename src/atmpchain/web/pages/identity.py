"""Identity pages: the scan-and-verify check point, issuing DINs and chains of identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.facility.queries import facility_fin
from atmpchain.identity import printing
from atmpchain.identity import queries as identity_queries
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint, identity_of
from atmpchain.identity.errors import IdentityFormatError
from atmpchain.identity.labels import DEFAULT_SIZE_NAMES, LABEL_SIZES, LabelKind
from atmpchain.identity.printing import LabelRequest
from atmpchain.identity.scan import parse_scan
from atmpchain.moments import parse_day
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)
Scan = Annotated[str, Form(max_length=500)]


def _check_page(
    request: Request,
    auth: Auth,
    checkpoint: CheckPoint,
    *,
    first_scan: str = "",
    first_summary: str | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "identity/check.html",
        auth,
        status_code=status,
        checkpoints=list(CheckPoint),
        checkpoint=checkpoint,
        first_scan=first_scan,
        first_summary=first_summary,
        error=error,
    )


@router.get("/identity/check", response_class=HTMLResponse)
def check_form(
    request: Request, auth: CurrentAuth, checkpoint: CheckPoint = CheckPoint.BAG_TO_WRISTBAND
) -> Response:
    """The check point: scan the first label, then the second."""
    auth.actor.require(Permission.CHECK_IDENTITY)
    return _check_page(request, auth, checkpoint)


@router.post("/identity/check", response_class=HTMLResponse)
def check(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    checkpoint: Annotated[CheckPoint, Form()],
    first_scan: Scan = "",
    second_scan: Scan = "",
) -> Response:
    """A scanner ends each code with Enter: after the first the page asks for the second."""
    auth.actor.require(Permission.CHECK_IDENTITY)
    if not first_scan.strip():
        return _check_page(request, auth, checkpoint)
    try:
        first = identity_of(first_scan, parse_scan(first_scan))
    except IdentityFormatError as exc:
        error = identity_service.scan_error("first_scan", exc)
        return _check_page(request, auth, checkpoint, error=error, status=422)
    if not second_scan.strip():
        return _check_page(
            request, auth, checkpoint, first_scan=first_scan.strip(), first_summary=first.summary
        )
    try:
        verdict = identity_service.check_identity(
            uow,
            actor=auth.actor,
            checkpoint=checkpoint,
            first_scan=first_scan,
            second_scan=second_scan,
        )
    except identity_service.ChainOfIdentityMismatch as stop:
        return render(
            request, "identity/stop.html", auth, status_code=409, stop=stop, checkpoint=checkpoint
        )
    except DomainError as exc:
        return _check_page(
            request,
            auth,
            checkpoint,
            first_scan=first_scan.strip(),
            first_summary=first.summary,
            error=exc,
            status=exc.status,
        )
    return render(request, "identity/match.html", auth, verdict=verdict, checkpoint=checkpoint)


def _overview(
    request: Request,
    auth: Auth,
    state: State,
    *,
    error: DomainError | None = None,
    notice: str | None = None,
) -> Response:
    with state.db.read_session() as session:
        dins = identity_queries.recent_dins(session)
        chains = identity_queries.recent_chains(session)
    return render(
        request,
        "identity/overview.html",
        auth,
        status_code=error.status if error else 200,
        dins=dins,
        chains=chains,
        error=error,
        notice=notice,
        fin=facility_fin(state.db, state.settings),
    )


@router.get("/identity", response_class=HTMLResponse)
def overview(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Issued DINs and chains of identity."""
    auth.actor.require(Permission.ISSUE_IDENTIFIERS)
    return _overview(request, auth, state)


@router.post("/identity/dins", response_class=HTMLResponse)
def issue_din(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    purpose: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Issue the next DIN."""
    auth.actor.require(Permission.ISSUE_IDENTIFIERS)
    try:
        din = identity_service.issue_din(uow, actor=auth.actor, purpose=purpose or None)
    except DomainError as exc:
        return _overview(request, auth, state, error=exc)
    return _overview(request, auth, state, notice=f"DIN issued: {din.eye_readable()}")


@router.post("/identity/chains", response_class=HTMLResponse)
def create_chain(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    patient_ref: Annotated[str, Form(max_length=200)] = "",
    therapy: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Start a chain of identity for a patient therapy."""
    auth.actor.require(Permission.ISSUE_IDENTIFIERS)
    try:
        coi = identity_service.create_chain(
            uow, actor=auth.actor, patient_ref=patient_ref, therapy=therapy
        )
    except DomainError as exc:
        return _overview(request, auth, state, error=exc)
    return _overview(request, auth, state, notice=f"Chain of identity {coi} started.")


@router.post("/identity/chains/bind", response_class=HTMLResponse)
def bind(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    coi: Annotated[str, Form(max_length=40)] = "",
    din: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Bind a donation's DIN (scanned, or typed with its check character) to a chain."""
    auth.actor.require(Permission.ISSUE_IDENTIFIERS)
    try:
        identity_service.bind_donation(uow, actor=auth.actor, coi_identifier=coi, din_text=din)
    except DomainError as exc:
        return _overview(request, auth, state, error=exc)
    return RedirectResponse("/identity", status_code=303)


def _labels_page(
    request: Request, auth: Auth, *, form: dict[str, str], error: DomainError | None = None
) -> Response:
    return render(
        request,
        "identity/labels.html",
        auth,
        status_code=error.status if error else 200,
        kinds=list(LabelKind),
        sizes=list(LABEL_SIZES.values()),
        default_sizes={k.value: v for k, v in DEFAULT_SIZE_NAMES.items()},
        form=form,
        error=error,
    )


@router.get("/identity/labels", response_class=HTMLResponse)
def labels_form(request: Request, auth: CurrentAuth, din: str = "", coi: str = "") -> Response:
    """The label form: scan or type the identifiers, choose the container and the stock."""
    auth.actor.require(Permission.PRINT_LABELS)
    return _labels_page(request, auth, form={"din": din, "chain_of_identity": coi})


@router.post("/identity/labels")
def print_label(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    kind: Annotated[LabelKind, Form()],
    size: Annotated[str, Form(max_length=64)] = "",
    din: Annotated[str, Form(max_length=200)] = "",
    product_code: Annotated[str, Form(max_length=40)] = "",
    expiration: Annotated[str, Form(max_length=40)] = "",
    chain_of_identity: Annotated[str, Form(max_length=40)] = "",
    product_description: Annotated[str, Form(max_length=200)] = "",
    patient_name: Annotated[str, Form(max_length=200)] = "",
    patient_date_of_birth: Annotated[str, Form(max_length=10)] = "",
    patient_id: Annotated[str, Form(max_length=64)] = "",
    free_text: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Render the label as a PDF to print; the print (or re-print, with its reason) is audited."""
    auth.actor.require(Permission.PRINT_LABELS)
    form = {
        "kind": kind.value,
        "size": size,
        "din": din,
        "product_code": product_code,
        "expiration": expiration,
        "chain_of_identity": chain_of_identity,
        "product_description": product_description,
        "patient_name": patient_name,
        "patient_date_of_birth": patient_date_of_birth,
        "patient_id": patient_id,
        "free_text": free_text,
        "reason": reason,
    }
    try:
        birth = (
            parse_day(patient_date_of_birth, "patient_date_of_birth")
            if patient_date_of_birth
            else None
        )
    except InvalidInput as error:
        return _labels_page(request, auth, form=form, error=error)
    label = LabelRequest(
        kind=kind,
        size=size or None,
        din=din or None,
        product_code=product_code or None,
        expiration=expiration or None,
        chain_of_identity=chain_of_identity or None,
        product_description=product_description,
        patient_name=patient_name,
        patient_date_of_birth=birth,
        patient_id=patient_id,
        free_text=tuple(line.strip() for line in free_text.splitlines() if line.strip()),
    )
    try:
        printed = printing.print_label(uow, actor=auth.actor, request=label, reason=reason)
    except DomainError as exc:
        return _labels_page(request, auth, form=form, error=exc)
    return Response(
        printed.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{printed.filename}"'},
    )
