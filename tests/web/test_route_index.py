"""The first-segment check of each router changes which route answers nothing (ADR 0036)."""

from __future__ import annotations

import re

from starlette.routing import BaseRoute, Match

from atmpchain.config import Settings
from atmpchain.web.app import ROUTERS, create_app
from atmpchain.web.route_index import first_segment


def _paths() -> set[str]:
    """Every route's path with its parameters filled in, and a few that match nothing."""
    found = {"/", "/nothing/here", "/hospital", "/hospital/", "/healthz", "/static/forms.js"}
    for router in ROUTERS:
        for route in router.routes:
            path = getattr(route, "path", "")
            found.add(re.sub(r"\{[^}]+\}", "1", path))
    return found


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}


def test_every_path_is_matched_by_the_same_router_with_the_index_as_without() -> None:
    app = create_app(Settings(database_url="sqlite:///var/route-index-test.db"))
    routes: list[BaseRoute] = app.router.routes
    indexed = [r for r in routes if "matches" in vars(r)]
    assert len(indexed) == len(ROUTERS)  # every router got its check
    for path in sorted(_paths()):
        for method in ("GET", "POST", "DELETE"):
            for route in routes:
                with_index, _ = route.matches(_scope(path, method))
                without, _ = type(route).matches(route, _scope(path, method))
                assert with_index == without, (path, method, route)


def test_the_first_segment_of_a_path() -> None:
    assert first_segment("/hospital/board") == "hospital"
    assert first_segment("/") == ""
    assert first_segment("/audit") == "audit"
    assert first_segment("/api/v1/doses/7") == "api"
    # A root route and a path that only starts like one are told apart.
    assert first_segment("/hospitality") != first_segment("/hospital/x")


def test_a_router_skips_only_paths_none_of_its_routes_starts_with() -> None:
    app = create_app(Settings(database_url="sqlite:///var/route-index-test.db"))
    routes = [r for r in app.router.routes if "matches" in vars(r)]
    hits = [r for r in routes if r.matches(_scope("/hospital/board", "GET"))[0] is not Match.NONE]
    assert len(hits) == 1


def test_a_router_included_under_a_prefix_is_left_unindexed_and_still_answers() -> None:
    # Its routes' paths lack the prefix the requests carry: indexing them by their own first
    # segment would turn every request to it into a 404.
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from atmpchain.web.route_index import index_routes

    versioned = APIRouter()

    @versioned.get("/x")
    def x() -> dict[str, int]:
        return {"x": 1}

    plain = APIRouter()

    @plain.get("/y")
    def y() -> dict[str, int]:
        return {"y": 2}

    app = FastAPI()
    app.include_router(versioned, prefix="/v2")
    app.include_router(plain)
    assert index_routes(app) == 1  # only the router included as it is
    with TestClient(app) as client:
        assert client.get("/v2/x").json() == {"x": 1}
        assert client.get("/y").json() == {"y": 2}
        assert client.get("/x").status_code == 404
