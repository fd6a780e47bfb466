"""Every page, opened by a role that may open it, at desktop and tablet size: axe-core finds no
critical or serious violation (issue 10, item 12), and nothing makes the page scroll sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.axe import assert_accessible

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1366, 900), "tablet": (1024, 768)}

#: Each page of the application and a demo person who opens it (every GET route that renders
#: HTML; a new page belongs here too).
PAGES: dict[str, tuple[str, ...]] = {
    "admin": ("/", "/users", "/users/new", "/users/1", "/facility", "/account/password"),
    "qa": (
        "/",
        "/audit",
        "/audit/refusals",
        "/coldchain/alarms",
        "/coldchain/excursions",
        "/coldchain/dead-letters",
        "/coldchain/units/LN2A/temperatures",
        "/custody",
        "/custody/storage/LN2A",
        "/custody/units/1",
        "/hospital/trace",
        "/hospital/catalogue",
        "/identity",
        "/materials",
        "/materials/items",
        "/materials/lots/ML000001",
        "/materials/expiring",
        "/materials/stock",
        "/equipment",
        "/equipment/EQ-PRODIGY-01",
        "/quality/deviations",
        "/quality/capas/overdue",
        "/qc",
        "/qc/notices",
        "/cleanrooms",
        "/cleanrooms/rooms/CR-B1",
        "/cleanrooms/gowning",
        "/scheduling",
        "/scheduling/gantt?by=person",
    ),
    "operator": (
        "/",
        "/custody/scan",
        "/identity/check",
        "/identity/labels",
        "/materials/receive",
        "/em/collect",
        "/scheduling/mine",
        "/scheduling/gantt",
    ),
    "pharmacist": (
        "/",
        "/hospital/board",
        "/hospital/doses/1",
        "/hospital/doses/2",
        "/hospital/doses/3",
    ),
    "nurse": ("/hospital/bedside", "/hospital/doses/3"),
    "scientist": (
        "/translation",
        "/translation/projects/1",
        "/translation/projects/1/definition",
        "/translation/projects/1/gaps",
        "/translation/projects/1/readiness",
        "/translation/projects/1/fmea",
        "/translation/projects/1/transfer",
        "/translation/doe",
        "/translation/doe/new",
        "/translation/cost",
        "/translation/doe/1",
        "/translation/cost/1",
        "/scheduling/resources",
        "/scheduling/resources/OP01",
        "/scheduling/closures",
        "/scheduling/demand",
        "/scheduling/disruptions",
        "/scheduling/plans/1",
    ),
    "coordinator": (
        "/gateway/inquiries",
        "/gateway/inquiries/INQ-2026-0001",
        "/gateway/trials",
        "/gateway/pipeline",
        "/inquire",
    ),
    "sponsor": ("/sponsor/inquiries",),
    "physician": ("/hospital/orders/new", "/qc/notices"),
    "qc": (
        "/qc",
        "/qc/batches/B26-00001",
        "/qc/oos/1",
        "/em",
        "/em/plates",
        "/em/import",
        "/em/trends",
        "/em/batches/B26-00002",
    ),
    "qp": ("/release", "/release/batches/B26-00001", "/release/batches/B26-00002"),
}


def login(page: Page, base: str, username: str) -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.press("#password", "Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


#: Visible controls that the Tab key cannot reach (a tabindex below 0 or a disabled look-alike).
_UNREACHABLE = """
() => Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null && !el.disabled)
  .filter(el => el.tabIndex < 0)
  .map(el => el.outerHTML.slice(0, 120))
"""


def _keyboard_reaches_every_control(page: Page) -> None:
    unreachable = page.evaluate(_UNREACHABLE)
    assert not unreachable, f"{page.url}: not reachable by Tab: {unreachable}"


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    view = page.evaluate("document.documentElement.clientWidth")
    assert width <= view, f"{page.url} is {width} px wide in a {view} px window"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_login_page_is_accessible(browser: Browser, live_server: str, size: str) -> None:
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    assert_accessible(page)
    _no_sideways_scroll(page)
    _keyboard_reaches_every_control(page)
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("username", PAGES)
def test_every_page_has_no_serious_accessibility_violation(
    browser: Browser, live_server: str, username: str, size: str
) -> None:
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, username)
    for path in PAGES[username]:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        assert_accessible(page)
        _no_sideways_scroll(page)
        _keyboard_reaches_every_control(page)
    context.close()


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_batch_pages_are_accessible(browser: Browser, live_server: str, size: str) -> None:
    # Batch numbers carry the year the demo batch started: reach them by their links, as an
    # operator does from the list.
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, "operator")
    page.goto(f"{live_server}/manufacturing/batches")
    operate = page.locator('a[href$="/operate"]').first.get_attribute("href")
    batches = page.locator('a[href^="/manufacturing/batches/"]')
    records = {batches.nth(i).get_attribute("href") for i in range(batches.count())}
    paths = [
        "/manufacturing/batches",
        operate,
        *sorted(r for r in records if r and "/operate" not in r),
    ]
    assert operate and len(paths) >= 4, paths
    for path in paths:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        assert_accessible(page)
        _no_sideways_scroll(page)
        _keyboard_reaches_every_control(page)
    context.close()
