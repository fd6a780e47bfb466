"""In a real browser on the demo: QA releases the quarantined HSA lot with a signature, and the
equipment list shows the incubator whose calibration is overdue as not usable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from atmpchain.demo import DEMO_OVERDUE_EQUIPMENT, DEMO_PASSWORD

pytestmark = pytest.mark.browser

#: The demo receives six materials in order; the sixth (HSA) stays in quarantine.
QUARANTINED_LOT = "ML000006"


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def test_qa_releases_a_quarantined_lot_with_a_signature(page: Page, live_server: str) -> None:
    _login(page, live_server, "qa")
    page.goto(f"{live_server}/materials?status=quarantined")
    lots = page.get_by_test_id("lots")
    expect(lots).to_contain_text(QUARANTINED_LOT)
    expect(lots).to_contain_text("Human serum albumin")
    expect(page.get_by_test_id("expiry-alerts")).to_contain_text("IL-2")
    lots.get_by_role("link", name=QUARANTINED_LOT).click()
    page.get_by_label("Release for use").check()
    page.get_by_label("Your password, to sign").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign").click()
    expect(page.get_by_test_id("signatures")).to_contain_text("Quinn Reviewer (released)")
    expect(page.locator("h1")).to_contain_text("released")


def test_overdue_equipment_is_shown_not_usable(page: Page, live_server: str) -> None:
    _login(page, live_server, "operator")
    page.goto(f"{live_server}/equipment")
    row = page.get_by_test_id("equipment").locator("tr", has_text=DEMO_OVERDUE_EQUIPMENT)
    expect(row).to_contain_text("calibration overdue since")
    prodigy = page.get_by_test_id("equipment").locator("tr", has_text="EQ-PRODIGY-01")
    expect(prodigy).to_contain_text("usable")
