"""Login, logout and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atmpchain.accounts import sessions, users
from atmpchain.accounts.throttle import LoginRateLimited
from atmpchain.errors import DomainError
from atmpchain.web.deps import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    CurrentAuth,
    OptionalAuth,
    State,
    UoW,
    new_prelogin_token,
)
from atmpchain.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect after login is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, state_error: str | None, next_url: str, username: str = "", status: int = 200
) -> Response:
    token = new_prelogin_token()
    response = render(
        request,
        "accounts/login.html",
        None,
        status_code=status,
        csrf_token=token,
        error=state_error,
        next_url=next_url,
        username=username,
    )
    response.set_cookie(
        PRELOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.atmpchain.settings.secure_cookies,
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, auth: OptionalAuth, next: str | None = None) -> Response:
    """The login page (or straight on, when already logged in)."""
    if auth is not None and auth.session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, None, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    uow: UoW,
    state: State,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials and open a session (failed logins are throttled per address and
    per username: a 429 page says when to try again)."""
    try:
        result = sessions.login(
            uow,
            username=username,
            password=password,
            client_address=request.client.host if request.client else None,
        )
    except LoginRateLimited as exc:
        page = _login_page(request, exc.message, _safe_next(next), username, status=exc.status)
        page.headers["Retry-After"] = str(exc.retry_after_seconds)
        return page
    except DomainError as exc:
        return _login_page(request, exc.message, _safe_next(next), username, status=401)
    target = "/account/password" if result.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(PRELOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, uow: UoW, auth: CurrentAuth) -> Response:
    """End the session and forget the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sessions.logout(uow, session_token=cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, auth: CurrentAuth) -> Response:
    """The form to change one's own password."""
    forced = bool(auth.session and auth.session.must_change_password)
    return render(request, "accounts/password.html", auth, forced=forced, error=None)


@router.post("/account/password")
def change_password(
    request: Request,
    uow: UoW,
    auth: CurrentAuth,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Change one's own password."""
    forced = bool(auth.session and auth.session.must_change_password)
    if new_password != repeat_password:
        return render(
            request,
            "accounts/password.html",
            auth,
            status_code=422,
            forced=forced,
            error="the new password and its repetition differ",
        )
    try:
        users.change_own_password(
            uow,
            actor=auth.actor,
            current_password=current_password,
            new_password=new_password,
            current_session_id=auth.session.session_id if auth.session else None,
        )
    except DomainError as exc:
        return render(
            request,
            "accounts/password.html",
            auth,
            status_code=exc.status,
            forced=forced,
            error=exc.message,
        )
    return RedirectResponse("/?notice=password-changed", status_code=303)
