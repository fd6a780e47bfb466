"""QC pages: the overview (specifications, open OOS investigations), a batch's QC (result entry
and second-analyst review, samples), an OOS investigation with its phase forms, a specification
with QA's approval, the notices a late result sent, and the certificate of analysis (PDF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from atmpchain.qc import coa_pdf, oos, queries, results, samples, specs
from atmpchain.qc.domain import ResultKind
from atmpchain.qc.samples import SAMPLE_EVENTS
from atmpchain.web.deps import Auth, CurrentAuth, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=200)]
Batch = Annotated[str, Path(max_length=20)]
Ident = Annotated[int, Path(ge=1, le=2**31)]

#: The forms a batch's QC page posts, each to /qc/batches/{number}/{step}.
BATCH_STEPS = ("result", "review", "invalidate", "sample", "sample-move")
#: The forms an OOS investigation page posts, each to /qc/oos/{id}/{step}.
OOS_STEPS = ("phase1", "phase2", "link", "conclude")


def _reraise(exc: DomainError) -> None:
    """A refusal (no permission, unknown record) goes to the error page and on record."""
    if isinstance(exc, PermissionDenied) or (
        isinstance(exc, NotFound) and exc.field in ("batch_number", "investigation")
    ):
        raise exc


@router.get("/qc", response_class=HTMLResponse)
def overview(
    request: Request,
    auth: CurrentAuth,
    state: State,
    batch_number: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Specifications, open OOS investigations, and a batch looked up by its number."""
    auth.actor.require(Permission.VIEW_QC)
    if batch_number.strip():
        return RedirectResponse(f"/qc/batches/{batch_number.strip().upper()}", status_code=303)
    with state.db.read_session() as session:
        found = queries.specifications(session)
        open_oos = queries.investigations(session)
    return render(
        request,
        "qc/overview.html",
        auth,
        specifications=found,
        investigations=open_oos,
        templates=sorted(specs.published_templates().values(), key=lambda t: t.key),
    )


def _batch_page(
    request: Request,
    auth: Auth,
    state: State,
    number: str,
    *,
    error: DomainError | None = None,
    failed_step: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        qc = queries.batch_qc(session, number)
        shown = queries.results(session, number)
        taken = queries.samples(session, number)
    return render(
        request,
        "qc/batch.html",
        auth,
        status_code=error.status if error else 200,
        qc=qc,
        results=shown,
        samples=taken,
        sample_events=SAMPLE_EVENTS,
        error=error,
        failed_step=failed_step,
        form=form or {},
    )


@router.get("/qc/batches/{number}", response_class=HTMLResponse)
def batch_page(number: Batch, request: Request, auth: CurrentAuth, state: State) -> Response:
    """A batch's QC: each attribute against the bound specification, results, samples."""
    return _batch_page(request, auth, state, number)


@router.post("/qc/batches/{number}/{step}")
def batch_step(
    number: Batch,
    step: Annotated[str, Path(max_length=20)],
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    attribute: Short = "",
    value: Short = "",
    unit: Short = "",
    method: Short = "",
    instrument: Short = "",
    run: Short = "",
    analyst: Short = "",
    interim: Short = "",
    sample_label: Short = "",
    result_id: Short = "",
    cause: Text = "",
    step_ref: Short = "",
    sampling_point: Short = "",
    sample_type: Short = "",
    event: Short = "",
    holder: Short = "",
    note: Text = "",
    password: Short = "",
) -> Response:
    """One QC form of the batch (the path names it); errors show on the page, input kept."""
    actor = auth.actor
    if step not in BATCH_STEPS:
        raise NotFound(f"there is no form '{step[:20]}' on a batch's QC", field="step")
    anchor = step
    try:
        if step == "result":
            results.enter_result(
                uow,
                actor=actor,
                entry=results.ResultEntry(
                    batch_number=number,
                    attribute=attribute,
                    value=value,
                    instrument=instrument,
                    run=run,
                    kind=ResultKind.INTERIM if interim == "yes" else ResultKind.FINAL,
                    unit=unit or None,
                    method=method or None,
                    analyst=analyst or None,
                    sample_label=sample_label or None,
                ),
            )
            anchor = "lines"
        elif step == "review":
            results.review_result(uow, actor=actor, result_id=_ident(result_id), password=password)
            anchor = "results"
        elif step == "invalidate":
            oos.invalidate_result(
                uow, actor=actor, result_id=_ident(result_id), cause=cause, password=password
            )
            anchor = "results"
        elif step == "sample":
            samples.take_sample(
                uow,
                actor=actor,
                batch_number=number,
                step_ref=step_ref,
                sampling_point=sampling_point,
                sample_type=sample_type or None,
            )
            anchor = "samples"
        else:
            samples.move_sample(
                uow, actor=actor, label=sample_label, event=event, holder=holder, note=note
            )
            anchor = "samples"
    except DomainError as exc:
        _reraise(exc)
        form = {
            "attribute": attribute,
            "value": value,
            "unit": unit,
            "method": method,
            "instrument": instrument,
            "run": run,
            "analyst": analyst,
            "interim": interim,
            "sample_label": sample_label,
            "step_ref": step_ref,
            "sampling_point": sampling_point,
            "sample_type": sample_type,
            "holder": holder,
            "cause": cause,
        }
        return _batch_page(request, auth, state, number, error=exc, failed_step=step, form=form)
    return RedirectResponse(f"/qc/batches/{number.strip().upper()}#{anchor}", status_code=303)


def _ident(text: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= len(value) <= 9:
        raise InvalidInput("choose the result by its number", "result_id")
    return int(value)


@router.get("/qc/batches/{number}/coa.pdf")
def coa(number: Batch, auth: CurrentAuth, state: State) -> Response:
    """The certificate of analysis of the batch as a PDF."""
    auth.actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        data = coa_pdf.certificate_of_analysis(
            session, number, zone=state.settings.display_timezone
        )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="CoA-{number.strip().upper()}.pdf"'},
    )


def _oos_page(
    request: Request,
    auth: Auth,
    state: State,
    ident: int,
    *,
    error: DomainError | None = None,
    failed_step: str | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        view = queries.investigation(session, ident)
        notes = queries.notifications(session, result_id=view.result.id)
    return render(
        request,
        "qc/oos.html",
        auth,
        status_code=error.status if error else 200,
        i=view,
        notices=notes,
        error=error,
        failed_step=failed_step,
    )


@router.get("/qc/oos/{ident}", response_class=HTMLResponse)
def oos_page(ident: Ident, request: Request, auth: CurrentAuth, state: State) -> Response:
    """One OOS investigation: the result, phase I, phase II, deviations, conclusion."""
    return _oos_page(request, auth, state, ident)


@router.post("/qc/oos/{ident}/{step}")
def oos_step(
    ident: Ident,
    step: Annotated[str, Path(max_length=20)],
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    lab_error: Short = "",
    assignable_cause: Text = "",
    retest_plan: Text = "",
    findings: Text = "",
    deviation_number: Short = "",
    conclusion: Short = "",
    summary: Text = "",
    password: Short = "",
    version: Short = "",
) -> Response:
    """One step of the investigation (the path names it)."""
    actor = auth.actor
    if step not in OOS_STEPS:
        raise NotFound(f"there is no step '{step[:20]}' on an OOS investigation", field="step")
    seen = int(version) if version.isascii() and version.isdigit() and len(version) < 9 else None
    try:
        if step == "phase1":
            if lab_error not in ("yes", "no"):
                raise InvalidInput("say whether phase I found a laboratory error", "lab_error")
            oos.record_phase1(
                uow,
                actor=actor,
                investigation_id=ident,
                lab_error=lab_error == "yes",
                assignable_cause=assignable_cause,
                retest_plan=retest_plan or None,
                version=seen,
            )
        elif step == "phase2":
            oos.record_phase2(
                uow, actor=actor, investigation_id=ident, findings=findings, version=seen
            )
        elif step == "link":
            oos.link_deviation(
                uow, actor=actor, investigation_id=ident, deviation_number=deviation_number
            )
        else:
            oos.conclude(
                uow,
                actor=actor,
                investigation_id=ident,
                conclusion=conclusion,
                summary=summary,
                password=password,
                version=seen,
            )
    except DomainError as exc:
        _reraise(exc)
        return _oos_page(request, auth, state, ident, error=exc, failed_step=step)
    return RedirectResponse(f"/qc/oos/{ident}#{step}", status_code=303)


def _spec_page(
    request: Request,
    auth: Auth,
    state: State,
    code: str,
    version: int,
    error: DomainError | None = None,
) -> Response:
    auth.actor.require(Permission.VIEW_QC)
    with state.db.read_session() as session:
        view = queries.specification(session, code, version)
    return render(
        request,
        "qc/specification.html",
        auth,
        status_code=error.status if error else 200,
        s=view,
        error=error,
    )


@router.get("/qc/specifications/{code}/{version}", response_class=HTMLResponse)
def spec_page(
    code: Annotated[str, Path(max_length=40)],
    version: Ident,
    request: Request,
    auth: CurrentAuth,
    state: State,
) -> Response:
    """One specification version: its attributes, source, and QA's approval form."""
    return _spec_page(request, auth, state, code, version)


@router.post("/qc/specifications")
def draft_page(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    template: Short = "",
    code: Short = "",
    reason: Text = "",
) -> Response:
    """Draft a specification version from a published template."""
    try:
        version = specs.draft_from_published(
            uow, actor=auth.actor, template_key=template, code=code, reason=reason
        )
    except DomainError as exc:
        _reraise(exc)
        auth.actor.require(Permission.VIEW_QC)
        with state.db.read_session() as session:
            found = queries.specifications(session)
            open_oos = queries.investigations(session)
        return render(
            request,
            "qc/overview.html",
            auth,
            status_code=exc.status,
            specifications=found,
            investigations=open_oos,
            templates=sorted(specs.published_templates().values(), key=lambda t: t.key),
            error=exc,
            form={"template": template, "code": code, "reason": reason},
        )
    return RedirectResponse(f"/qc/specifications/{code.strip().upper()}/{version}", status_code=303)


@router.post("/qc/specifications/{code}/{version}/approve")
def approve_page(
    code: Annotated[str, Path(max_length=40)],
    version: Ident,
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    password: Short = "",
) -> Response:
    """QA approves the drafted version with a signature."""
    try:
        specs.approve_specification(
            uow, actor=auth.actor, code=code, version=version, password=password
        )
    except DomainError as exc:
        _reraise(exc)
        return _spec_page(request, auth, state, code, version, error=exc)
    return RedirectResponse(f"/qc/specifications/{code.strip().upper()}/{version}", 303)


@router.get("/qc/notices", response_class=HTMLResponse)
def notices_page(request: Request, auth: CurrentAuth, state: State) -> Response:
    """Late-result notices: QA sees every one; a physician their own."""
    actor = auth.actor
    actor.require(Permission.ACKNOWLEDGE_QC_NOTICE)
    mine = None if actor.can(Permission.CONCLUDE_OOS) else actor.user_id or -1
    with state.db.read_session() as session:
        found = queries.notifications(session, recipient_id=mine)
    return render(request, "qc/notices.html", auth, notices=found)


@router.post("/qc/notices/{ident}/acknowledge")
def acknowledge_page(ident: Ident, uow: UoW, auth: CurrentAuth) -> Response:
    """Acknowledge a notice."""
    results.acknowledge_notice(uow, actor=auth.actor, notice_id=ident)
    return RedirectResponse("/qc/notices", status_code=303)
