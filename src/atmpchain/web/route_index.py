"""Let each included router say "not mine" at once for a path none of its routes can match.

FastAPI finds a request's route by asking every included router in turn, and each router asks
every one of its routes (a regular expression and some bookkeeping each). With some fifty
routers and two hundred routes that cost more per page than its own database queries (ADR 0036).
Every route's path starts with a fixed segment (`/hospital/...`, `/api/...`, `/`), so a router
whose routes all start with other segments cannot match: it is skipped without asking its
routes. The order in which routers are asked, and so which route answers, does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

Matcher = Callable[[Scope], tuple[Match, Scope]]


def first_segment(path: str) -> str:
    """'/hospital/board' -> 'hospital'; '/' -> ''."""
    return path[1:].split("/", 1)[0]


def _unprefixed(route: BaseRoute) -> bool:
    """Whether an included router was included without a path prefix: its routes' paths are then
    the paths requests carry. A prefixed one (`include_router(r, prefix="/v2")`) is left alone."""
    context = getattr(route, "include_context", None)
    return getattr(context, "prefix", None) == ""


def _heads(routes: Iterable[BaseRoute]) -> frozenset[str] | None:
    """The first segments the routes' paths start with; None when any may start with anything."""
    heads: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # a router included in this one
        if inner is not None:
            if not _unprefixed(route):
                return None
            nested = _heads(inner.routes)
            if nested is None:
                return None
            heads |= nested
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str) or not path.startswith("/"):
            return None
        head = first_segment(path)
        if "{" in head:  # a parameter: any first segment may match
            return None
        heads.add(head)
    return frozenset(heads)


def _route_path(scope: Scope) -> str:
    """The path the routes see: without the root path, when the root path is a whole leading
    segment of it (as Starlette's own routing takes it: `/app` is no prefix of `/application`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


def _indexed(original: Matcher, heads: frozenset[str]) -> Matcher:
    def matches(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and (
            first_segment(_route_path(scope)) not in heads
        ):
            return Match.NONE, {}
        return original(scope)

    return matches


def index_routes(app: FastAPI) -> int:
    """Give each of the app's included routers its first-segment check; returns how many got it.

    A router of another shape (or a FastAPI without included-router objects) is left as it is:
    it is then asked as before, only not faster.
    """
    indexed = 0
    for route in app.router.routes:
        inner: Any = getattr(route, "original_router", None)
        if inner is None or not _unprefixed(route):
            continue
        heads = _heads(inner.routes)
        if heads is None:
            continue
        route.matches = _indexed(route.matches, heads)  # type: ignore[method-assign,assignment]
        indexed += 1
    return indexed
