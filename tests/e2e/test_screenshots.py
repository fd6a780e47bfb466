"""Pictures of the main pages for the README and docs (issue 10, item 13), made by the browser
on the demo, each page checked by axe first. `make screenshots` writes them to docs/img/; in
`make test` they go to a temporary folder, so the suite never changes the working tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.axe import assert_accessible
from tests.e2e.test_every_page_accessible import login
from tests.e2e.test_hospital_bedside import _scans
from tests.e2e.test_temperature_chart import ln2a_readings  # noqa: F401 - a fixture used below

pytestmark = pytest.mark.browser

#: Set by `make screenshots`: where the pictures go (docs/img).
TARGET = "ATMPCHAIN_SCREENSHOTS"


def _target(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(TARGET) or tmp_path / "img")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shoot(page: Page, folder: Path, name: str) -> None:
    assert_accessible(page)
    page.screenshot(path=str(folder / f"{name}.png"))


def _tab(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_the_main_pages_are_pictured_for_the_docs(
    browser: Browser,
    ln2a_readings: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    base, folder = ln2a_readings, _target(tmp_path)

    page = _tab(browser)
    login(page, base, "pharmacist")
    page.goto(f"{base}/hospital/board")
    _shoot(page, folder, "board")
    page.goto(f"{base}/hospital/doses/2")
    _shoot(page, folder, "dose")
    page.context.close()

    wristband, bag, _ = _scans(tmp_path)
    page = _tab(browser)
    login(page, base, "nurse")
    page.goto(f"{base}/hospital/bedside")
    page.fill("#wristband_scan", wristband)
    page.press("#wristband_scan", "Enter")
    page.fill("#bag_scan", bag)
    page.press("#bag_scan", "Enter")
    expect(page.get_by_test_id("bedside-verified")).to_be_visible()
    _shoot(page, folder, "bedside")
    page.context.close()

    page = _tab(browser)
    login(page, base, "qa")
    page.goto(f"{base}/custody/storage/LN2A")
    _shoot(page, folder, "storage-map")
    page.goto(f"{base}/coldchain/units/LN2A/temperatures?hours=6")
    expect(page.locator("#temperature-chart svg.main-svg").first).to_be_visible()
    page.get_by_test_id("temperature-chart").scroll_into_view_if_needed()
    _shoot(page, folder, "temperature-chart")
    page.goto(f"{base}/audit")
    _shoot(page, folder, "audit-trail")
    page.context.close()

    for name in ("board", "dose", "bedside", "storage-map", "temperature-chart", "audit-trail"):
        assert (folder / f"{name}.png").stat().st_size > 10_000, name
