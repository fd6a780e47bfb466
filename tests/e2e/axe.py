"""axe-core in the browser: the engine comes from the `axe-playwright-python` wheel (installed by
`make test`, no vendored script); a page passes with no critical and no serious violation."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: The impacts that fail a page (issue 10: 0 critical, 0 serious on every page).
FAILING = ("critical", "serious")

_AXE = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    """The critical and serious violations axe finds on the page as it is now."""
    results = _AXE.run(page)
    found: list[dict[str, Any]] = results.response["violations"]
    return [v for v in found if v.get("impact") in FAILING]


def describe(found: list[dict[str, Any]]) -> str:
    """The violations as lines a developer can act on: rule, impact, help and the elements."""
    lines = []
    for v in found:
        targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail with the list of violations when axe finds a critical or serious one."""
    found = violations(page)
    assert not found, f"axe on {page.url}:\n{describe(found)}"
