"""An HTTP client on the real application, and helpers to log in as a persona."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.web.app import create_app

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(settings: Settings, db: Database, clock: FixedClock) -> Iterator[TestClient]:
    """A browser-like client (cookies kept) on the application and the test database."""
    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def web_login(client: TestClient, username: str, password: str) -> str:
    """Log in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/account/password").text)
