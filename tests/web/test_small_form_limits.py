"""The login form and its like get a small body limit (issue 9 review, item 10).

Seen: `/login`, open to anyone, read request bodies up to the 24 MB meant for a logger CSV. The
login form, logging out and the password change carry a few short fields: 16 KiB, refused with
413 and our error body before a byte is parsed; other URL-encoded forms get a limit of their own.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import csrf_from, web_login
from tests.web.test_bad_input import _drive

from atmpchain.clock import FixedClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.web.app import create_app
from atmpchain.web.gate import BodyLimits

FORM = "application/x-www-form-urlencoded"
LIMITS = BodyLimits(small_form=16 * 1024, form=256 * 1024, upload=24 * 1024 * 1024)


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/login", FORM, 16 * 1024),
        ("/login", "multipart/form-data; boundary=x", 16 * 1024),
        ("/login", None, 16 * 1024),
        ("/logout", FORM, 16 * 1024),
        ("/account/password", FORM, 16 * 1024),
        ("/users/3/deactivate", FORM, 256 * 1024),
        ("/users/3/deactivate", "Application/X-WWW-Form-Urlencoded; charset=utf-8", 256 * 1024),
        ("/api/telemetry/import", "multipart/form-data; boundary=x", 24 * 1024 * 1024),
        ("/api/telemetry/readings", "application/json", 24 * 1024 * 1024),
    ],
)
def test_each_kind_of_request_has_its_body_limit(
    path: str, content_type: str | None, limit: int
) -> None:
    assert LIMITS.body_limit(path, content_type) == limit


def test_the_small_limits_are_settings_with_a_floor() -> None:
    assert Settings().small_form_max_bytes == 16 * 1024
    with pytest.raises(ValueError, match="small_form_max_bytes"):
        Settings(small_form_max_bytes=100)
    with pytest.raises(ValueError, match="form_max_bytes"):
        Settings(form_max_bytes=100)


def test_a_login_body_above_16_kib_is_refused_before_it_is_read(
    settings: Settings, db: Database, clock: FixedClock
) -> None:
    app = create_app(settings, db=db, clock=clock)
    declared = {"content-type": FORM, "content-length": str(24 * 1024 * 1024)}
    assert _drive(app, "POST", "/login", declared, [b"username=x"]) == (413, 0)
    # Without a declared length: refused once the bytes counted pass 16 KiB.
    status, asked = _drive(app, "POST", "/login", {"content-type": FORM}, [b"x" * 8192] * 3000)
    assert status == 413 and asked <= 3


def test_a_large_login_form_gets_our_413_error_and_a_normal_one_still_logs_in(
    settings: Settings, db: Database, clock: FixedClock, qa: Persona
) -> None:
    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        page = client.get("/login")
        refused = client.post(
            "/login",
            data={"username": "qa", "password": "x" * 20_000, "csrf_token": csrf_from(page.text)},
            headers={"accept": "application/json"},
        )
        assert refused.status_code == 413
        assert "16,384 bytes" in refused.text
        web_login(client, "qa", qa.password)
        assert client.get("/api/me").status_code == 200
