"""Pre-GMP translation pages: the project list, a project (stage, team, documents) and its process
definition (versions, the diff, a new version). Gaps and readiness: `translation_assess.py`;
FMEA and transfer: `translation_fmea.py`.

Each form posts to one route that calls one service function; a refusal shows the page again
with the message and what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts.domain import Permission
from atmpchain.errors import DomainError, InvalidInput
from atmpchain.translation import (
    assessment_queries,
    process_format,
    queries,
    service,
)
from atmpchain.translation.domain import Stage, diff
from atmpchain.web.deps import Auth, CurrentAuth, RecordId, State, UoW
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]
LongText = Annotated[str, Form(max_length=200_000)]
Version = Annotated[int | None, Query(ge=1, le=100_000)]
_MAX_UPLOAD = 20_000_000


def project_url(project_id: int, page: str = "") -> str:
    """Where a project's page is."""
    return f"/translation/projects/{project_id}{'/' + page if page else ''}"


def _back(project_id: int, page: str = "") -> Response:
    return RedirectResponse(project_url(project_id, page), status_code=303)


def project_context(state: State, auth: Auth, project_id: int) -> dict[str, Any]:
    """The project for a page's header, if the person may see it."""
    with state.db.read_session() as session:
        queries.require_visible(session, auth.actor, project_id)
        return {"project": queries.project(session, project_id)}


@router.get("/translation", response_class=HTMLResponse)
def project_list(request: Request, auth: CurrentAuth, state: State) -> Response:
    """The projects the person may see, and (for pre-GMP staff) a form to open one."""
    return _list(request, auth, state)


def _list(
    request: Request,
    auth: Auth,
    state: State,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    with state.db.read_session() as session:
        projects = queries.list_projects(session, auth.actor)
    return render(
        request,
        "translation/projects.html",
        auth,
        status_code=error.status if error else 200,
        projects=projects,
        error=error,
        typed=typed or {},
    )


@router.post("/translation/projects")
def project_create(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    code: Text = "",
    title: Text = "",
    research_group: Text = "",
    indication: Text = "",
    product_class: Text = "",
) -> Response:
    """Take a research routine in."""
    typed = {
        "code": code,
        "title": title,
        "research_group": research_group,
        "indication": indication,
        "product_class": product_class,
    }
    try:
        project_id = service.create_project(uow, actor=auth.actor, **typed)
    except DomainError as exc:
        return _list(request, auth, state, exc, typed)
    return _back(project_id)


@router.get("/translation/projects/{project_id}", response_class=HTMLResponse)
def project_page(
    request: Request, project_id: RecordId, auth: CurrentAuth, state: State
) -> Response:
    """A project: stage, team, documents and its definition versions."""
    return _project(request, auth, state, project_id)


def _project(
    request: Request, auth: Auth, state: State, project_id: int, error: DomainError | None = None
) -> Response:
    context = project_context(state, auth, project_id)
    with state.db.read_session() as session:
        versions = queries.definition_versions(session, project_id)
        gaps = assessment_queries.gaps(session, project_id)
        history = assessment_queries.readiness_history(session, project_id)
        fmeas = assessment_queries.fmea_versions(session, project_id)
    status = {
        "open_gaps": sum(1 for g in gaps if g.status.value != "closed"),
        "gaps": len(gaps),
        "readiness": history[-1].total if history else None,
        "fmea": fmeas[0] if fmeas else None,
    }
    return render(
        request,
        "translation/project.html",
        auth,
        status_code=error.status if error else 200,
        versions=versions,
        status=status,
        stages=list(Stage),
        error=error,
        **context,
    )


@router.post("/translation/projects/{project_id}/stage")
def project_stage(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    stage: Text = "",
    reason: Text = "",
) -> Response:
    """Move the project to another stage."""
    try:
        try:
            chosen = Stage(stage)
        except ValueError:
            raise InvalidInput(f"stage: '{stage}' is not a stage", "stage") from None
        service.change_stage(
            uow, actor=auth.actor, project_id=project_id, stage=chosen, reason=reason
        )
    except DomainError as exc:
        return _project(request, auth, state, project_id, exc)
    return _back(project_id)


@router.post("/translation/projects/{project_id}/team")
def project_team(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    username: Text = "",
    project_role: Text = "",
) -> Response:
    """Put a person on the team."""
    try:
        service.add_team_member(
            uow,
            actor=auth.actor,
            project_id=project_id,
            username=username,
            project_role=project_role,
        )
    except DomainError as exc:
        return _project(request, auth, state, project_id, exc)
    return _back(project_id)


@router.post("/translation/projects/{project_id}/documents")
def project_document(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    file: UploadFile | None = None,
    name: Text = "",
    note: Text = "",
) -> Response:
    """Attach a document (the same name again is its next version)."""
    try:
        if file is None or not file.filename:
            raise InvalidInput("file: choose the document to attach", "file")
        content = file.file.read(_MAX_UPLOAD + 1)
        service.add_document(
            uow,
            actor=auth.actor,
            project_id=project_id,
            name=name.strip() or file.filename,
            content=content,
            content_type=file.content_type or "application/octet-stream",
            note=note,
        )
    except DomainError as exc:
        return _project(request, auth, state, project_id, exc)
    return _back(project_id)


@router.get("/translation/projects/{project_id}/documents/{document_id}")
def project_document_download(
    project_id: RecordId, document_id: RecordId, auth: CurrentAuth, state: State
) -> Response:
    """A document version as it was attached."""
    with state.db.read_session() as session:
        queries.require_visible(session, auth.actor, project_id)
        name, content_type, content = queries.document_content(session, project_id, document_id)
    return Response(
        content,
        media_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/translation/projects/{project_id}/definition", response_class=HTMLResponse)
def definition_page(
    request: Request,
    project_id: RecordId,
    auth: CurrentAuth,
    state: State,
    version: Version = None,
    compare: Version = None,
) -> Response:
    """A definition version, what changed against another, and a form for the next version."""
    return _definition(request, auth, state, project_id, version, compare)


def _definition(
    request: Request,
    auth: Auth,
    state: State,
    project_id: int,
    version: int | None = None,
    compare: int | None = None,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    context = project_context(state, auth, project_id)
    view = None
    changes = None
    with state.db.read_session() as session:
        versions = queries.definition_versions(session, project_id)
        if versions:
            view = queries.process_definition(session, project_id, version)
            if compare is not None:
                other = queries.process_definition(session, project_id, compare).process
                changes = diff(other, view.process)
            elif view.version > 1:
                compare = view.version - 1
                other = queries.process_definition(session, project_id, compare).process
                changes = diff(other, view.process)
    current = process_format.dump(view.process) if view else ""
    return render(
        request,
        "translation/definition.html",
        auth,
        status_code=error.status if error else 200,
        view=view,
        versions=versions,
        compare=compare,
        changes=changes,
        error=error,
        typed=typed or {"definition": current},
        **context,
    )


@router.post("/translation/projects/{project_id}/definition")
def definition_post(
    request: Request,
    project_id: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    definition: LongText = "",
    reason: Text = "",
) -> Response:
    """Record the next definition version from its JSON text."""
    try:
        auth.actor.require(Permission.EDIT_TRANSLATION)
        process = process_format.parse(definition)
        service.draft_definition(
            uow, actor=auth.actor, project_id=project_id, process=process, reason=reason
        )
    except DomainError as exc:
        return _definition(
            request,
            auth,
            state,
            project_id,
            error=exc,
            typed={"definition": definition, "reason": reason},
        )
    return _back(project_id, "definition")


@router.post("/translation/projects/{project_id}/definition/{version}/approve")
def definition_approve(
    request: Request,
    project_id: RecordId,
    version: RecordId,
    uow: UoW,
    auth: CurrentAuth,
    state: State,
    password: Text = "",
    comment: Text = "",
) -> Response:
    """Approve a definition version with a signature."""
    try:
        service.approve_definition(
            uow,
            actor=auth.actor,
            project_id=project_id,
            version=version,
            password=password,
            comment=comment or None,
        )
    except DomainError as exc:
        return _definition(request, auth, state, project_id, version, error=exc)
    return RedirectResponse(
        f"{project_url(project_id, 'definition')}?version={version}", status_code=303
    )
