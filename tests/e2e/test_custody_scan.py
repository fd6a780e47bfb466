"""In a real browser, with the keyboard only: retrieve a stored bag, put it away, retrieve again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from atmpchain.demo import DEMO_PASSWORD, DEMO_SLOTS

pytestmark = pytest.mark.browser

BAG_1 = "=A99992600000100"  # patient P-1001's bag, stored by the demo in DEMO_SLOTS[0]


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _scan(page: Page, code: str) -> None:
    """A scanner types the characters quickly, then Enter, into whatever field has focus."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def _move(page: Page, base: str, action: str, location: str) -> None:
    page.goto(f"{base}/custody/scan?action={action}")
    expect(page.locator("#unit_scan")).to_be_focused()
    _scan(page, BAG_1)
    expect(page.get_by_test_id("scanned-unit_scan")).to_contain_text("A9999 26 000001")
    expect(page.locator("#location_scan")).to_be_focused()
    _scan(page, location)
    expect(page.get_by_test_id("custody-done")).to_be_visible()


def test_put_away_and_retrieve_with_the_keyboard_only(page: Page, live_server: str) -> None:
    _login(page, live_server, "operator")
    _move(page, live_server, "retrieve", "LOC:" + DEMO_SLOTS[0])
    expect(page.get_by_test_id("custody-done")).to_contain_text("with Otto Operator")

    _move(page, live_server, "put_away", "LOC:LN2A.R2.B1.S3")
    expect(page.get_by_test_id("custody-done")).to_contain_text("LN2A.R2.B1.S3")

    # "Next scan" has the focus: Enter opens the next put-away; retrieve it once more.
    expect(page.get_by_role("link", name="Next scan")).to_be_focused()
    _move(page, live_server, "retrieve", "LOC:LN2A.R2")
    expect(page.get_by_test_id("custody-done")).to_contain_text("with Otto Operator")

    # The same unit cannot be retrieved twice: a clear refusal, and the scan field again.
    page.goto(f"{live_server}/custody/scan?action=retrieve")
    _scan(page, BAG_1)
    expect(page.get_by_test_id("scan-error")).to_be_visible()

    page.goto(f"{live_server}/custody/find?scan={BAG_1.replace('=', '%3D')}")
    rows = page.get_by_test_id("custody-timeline").locator("tbody tr")
    expect(rows).to_have_count(5)  # receive, put away, retrieve, put away, retrieve
    expect(rows.nth(3)).to_contain_text("LN2A.R2.B1.S3")
