"""Every answer carries the security headers; the API documentation keeps its own scripts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from atmpchain.config import Settings
from atmpchain.web.app import create_app


def test_pages_refusals_and_the_documentation_carry_their_headers() -> None:
    app = create_app(Settings(database_url="sqlite:///var/security-headers-test.db"))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        page = client.get("/login")
        refused = client.get("/hospital/board")
        docs = client.get("/docs")
    for answer in (page, refused, docs):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert refused.status_code in (303, 401)
    for answer in (page, refused):
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
    # Swagger UI loads its scripts from a CDN: no page policy, and each header only once.
    assert "content-security-policy" not in docs.headers
    assert page.headers.get_list("x-frame-options") == ["DENY"]
