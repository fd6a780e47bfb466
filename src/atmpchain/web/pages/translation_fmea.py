"""Pre-GMP translation pages, second part: the FMEA (failure modes, scores, mitigations, the
Pareto chart, the signed approval), the transfer to GMP and the technology-transfer package."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation import assessment_queries, fmea_service, queries, transfer
from atmpchain.translation.errors import DefinitionNotFound
from atmpchain.translation.mbr_draft import ProductFacts
from atmpchain.translation.package_pdf import transfer_package_pdf
from atmpchain.translation.rules import rules
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.pages.translation import project_context, project_url
from atmpchain.web.templating import render
from atmpchain.web.translation_charts import pareto_data, pareto_svg, plotly_bundle

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Version = Annotated[int | None, Query(ge=1, le=100_000)]


def _score(text: str, field: str, *, required: bool) -> int | None:
    value = text.strip()
    if not value and not required:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 10:
        raise InvalidInput(f"{field}: a whole number from 1 to 10, not '{text}'", field)
    return int(value)


def _fmea(
    request: Request,
    auth: Auth,
    state: State,
    project_id: int,
    version: int | None = None,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    context = project_context(state, auth, project_id)
    view = None
    with state.db.read_session() as session:
        versions = assessment_queries.fmea_versions(session, project_id)
        try:
            process = queries.process_definition(session, project_id)
        except DefinitionNotFound:
            process = None
        if versions:
            view = assessment_queries.fmea(session, project_id, version)
    title = f"FMEA version {view.version}: RPN by failure mode" if view else "FMEA"
    bars = view.pareto if view else ()
    threshold = view.threshold if view else rules().action_threshold
    return render(
        request,
        "translation/fmea.html",
        auth,
        status_code=error.status if error else 200,
        view=view,
        versions=versions,
        process=process,
        templates=rules().template_sets(),
        default_threshold=rules().action_threshold,
        data=pareto_data(bars, threshold, title),
        svg=pareto_svg(bars, threshold, title),
        residual_svg=pareto_svg(view.residual_pareto, threshold, "After mitigation")
        if view
        else None,
        plotly=plotly_bundle(),
        error=error,
        typed=typed or {},
        **context,
    )


def _back(project_id: int, version: int | None = None) -> Response:
    query = f"?version={version}" if version else ""
    return RedirectResponse(f"{project_url(project_id, 'fmea')}{query}", status_code=303)


@router.get("/translation/projects/{project_id}/fmea", response_class=HTMLResponse)
def fmea_page(
    request: Request, project_id: RecordId, auth: CurrentAuth, state: State, version: Version = None
) -> Response:
    """An FMEA version with its Pareto chart and the forms to build it."""
    return _fmea(request, auth, state, project_id, version)


@router.post("/translation/projects/{project_id}/fmea")
def fmea_start(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    template: Text = "",
    threshold: Text = "",
) -> Response:
    """Start the next FMEA version."""
    try:
        limit = threshold.strip()
        if limit and not limit.isdigit():
            raise InvalidInput(
                f"threshold: a whole RPN from 1 to 1000, not '{threshold}'", "threshold"
            )
        version = fmea_service.start_fmea(
            uow,
            actor=auth.actor,
            project_id=project_id,
            template=template.strip() or None,
            threshold=int(limit) if limit else None,
        )
    except DomainError as exc:
        return _fmea(request, auth, state, project_id, error=exc)
    return _back(project_id, version)


@router.post("/translation/projects/{project_id}/fmea/{version}/modes")
def fmea_add_mode(
    request: Request,
    project_id: RecordId,
    version: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    unit_operation: Text = "",
    failure_mode: Text = "",
    effect: Text = "",
    cause: Text = "",
    severity: Text = "",
    occurrence: Text = "",
    detection: Text = "",
) -> Response:
    """Add a failure mode (scores optional: it may be scored later)."""
    typed = {
        "unit_operation": unit_operation,
        "failure_mode": failure_mode,
        "effect": effect,
        "cause": cause,
        "severity": severity,
        "occurrence": occurrence,
        "detection": detection,
    }
    try:
        fmea_service.add_failure_mode(
            uow,
            actor=auth.actor,
            project_id=project_id,
            fmea_version=version,
            unit_operation=unit_operation.strip(),
            failure_mode=failure_mode,
            effect=effect,
            cause=cause,
            severity=_score(severity, "severity", required=False),
            occurrence=_score(occurrence, "occurrence", required=False),
            detection=_score(detection, "detection", required=False),
        )
    except DomainError as exc:
        return _fmea(request, auth, state, project_id, version, exc, typed)
    return _back(project_id, version)


@router.post("/translation/projects/{project_id}/fmea/modes/{item_id}/score")
def fmea_score(
    request: Request,
    project_id: RecordId,
    item_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    severity: Text = "",
    occurrence: Text = "",
    detection: Text = "",
    reason: Text = "",
    residual: Text = "",
) -> Response:
    """Score a failure mode, or re-score it after its mitigation."""
    try:
        fmea_service.score_failure_mode(
            uow,
            actor=auth.actor,
            project_id=project_id,
            item_id=item_id,
            severity=_score(severity, "severity", required=True) or 0,
            occurrence=_score(occurrence, "occurrence", required=True) or 0,
            detection=_score(detection, "detection", required=True) or 0,
            reason=reason,
            residual=residual == "yes",
        )
    except DomainError as exc:
        return _fmea(request, auth, state, project_id, error=exc)
    return _back(project_id)


@router.post("/translation/projects/{project_id}/fmea/modes/{item_id}/mitigation")
def fmea_mitigation(
    request: Request,
    project_id: RecordId,
    item_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    mitigation: Text = "",
    owner: Text = "",
    reason: Text = "",
) -> Response:
    """Record a failure mode's mitigation and its owner."""
    try:
        fmea_service.record_mitigation(
            uow,
            actor=auth.actor,
            project_id=project_id,
            item_id=item_id,
            mitigation=mitigation,
            owner=owner,
            reason=reason,
        )
    except DomainError as exc:
        return _fmea(request, auth, state, project_id, error=exc)
    return _back(project_id)


@router.post("/translation/projects/{project_id}/fmea/{version}/approve")
def fmea_approve(
    request: Request,
    project_id: RecordId,
    version: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    password: Text = "",
    comment: Text = "",
) -> Response:
    """Approve the FMEA version with a signature."""
    try:
        fmea_service.approve_fmea(
            uow,
            actor=auth.actor,
            project_id=project_id,
            version=version,
            password=password,
            comment=comment or None,
        )
    except DomainError as exc:
        return _fmea(request, auth, state, project_id, version, exc)
    return _back(project_id, version)


def _transfer(
    request: Request,
    auth: Auth,
    state: State,
    project_id: int,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    done: transfer.TransferResult | None = None,
) -> Response:
    context = project_context(state, auth, project_id)
    with state.db.read_session() as session:
        versions = queries.definition_versions(session, project_id)
        made = transfer.transfers(session, project_id)
    approved = [v for v in versions if v.status.value == "approved"]
    return render(
        request,
        "translation/transfer.html",
        auth,
        status_code=error.status if error else 200,
        approved=approved,
        transfers=made,
        error=error,
        typed=typed or {},
        done=done,
        **context,
    )


@router.get("/translation/projects/{project_id}/transfer", response_class=HTMLResponse)
def transfer_page(
    request: Request, project_id: RecordId, auth: CurrentAuth, state: State
) -> Response:
    """Hand an approved definition to manufacturing; the transfer package."""
    return _transfer(request, auth, state, project_id)


@router.post("/translation/projects/{project_id}/transfer")
def transfer_post(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    version: Text = "",
    code: Text = "",
    name: Text = "",
    product_code: Text = "",
    autologous: Text = "",
    shelf_life_hours: Text = "",
    reason: Text = "",
) -> Response:
    """Draft the MBR in manufacturing from an approved definition version."""
    typed = {
        "version": version,
        "code": code,
        "name": name,
        "product_code": product_code,
        "autologous": autologous,
        "shelf_life_hours": shelf_life_hours,
        "reason": reason,
    }
    try:
        if not version.strip().isdigit():
            raise InvalidInput("version: choose an approved definition version", "version")
        if not shelf_life_hours.strip().isdigit() or int(shelf_life_hours) < 1:
            raise InvalidInput(
                "shelf_life_hours: a whole number of hours above 0", "shelf_life_hours"
            )
        result = transfer.transfer_to_manufacturing(
            uow,
            actor=auth.actor,
            project_id=project_id,
            version=int(version),
            product=ProductFacts(
                code=code.strip(),
                name=name.strip(),
                product_code=product_code.strip().upper(),
                autologous=autologous == "yes",
                shelf_life_hours=int(shelf_life_hours),
            ),
            reason=reason,
        )
    except DomainError as exc:
        return _transfer(request, auth, state, project_id, exc, typed)
    return _transfer(request, auth, state, project_id, done=result)


@router.get("/translation/projects/{project_id}/package.pdf")
def package_pdf(project_id: RecordId, auth: CurrentAuth, state: State) -> Response:
    """The technology-transfer package as a PDF."""
    with state.db.read_session() as session:
        queries.require_visible(session, auth.actor, project_id)
        pdf = transfer_package_pdf(
            session, project_id, auth.actor.full_name, state.clock.now(), auth.actor.time_zone
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="transfer-package-{project_id}.pdf"'},
    )
