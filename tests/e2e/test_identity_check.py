"""In a real browser, typing like a keyboard-wedge scanner: matches pass, mismatches stop."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# Seeded by the demo: patient P-1001's bag and wristband, and patient P-1002's.
BAG_1 = "=A99992600000100"
WRISTBAND_1 = "&/CHA999926000001"
BAG_2 = "=A99992600000200"
WRISTBAND_2 = "&/CHA999926000002"


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


def _open_check(page: Page, base: str) -> None:
    page.goto(f"{base}/identity/check?checkpoint=bag-to-wristband")
    expect(page.locator("#first_scan")).to_be_focused()


def test_matching_scans_pass_and_mismatching_scans_stop(page: Page, live_server: str) -> None:
    _login(page, live_server, "nurse")

    for bag, wristband in ((BAG_1, WRISTBAND_1), (BAG_2, WRISTBAND_2)):
        _open_check(page, live_server)
        _scan(page, bag)
        expect(page.get_by_test_id("first-scanned")).to_contain_text("DIN A9999 26")
        expect(page.locator("#second_scan")).to_be_focused()
        _scan(page, wristband)
        expect(page.get_by_test_id("verdict-match")).to_contain_text("MATCH")
        expect(page.get_by_test_id("verdict-match")).to_contain_text(wristband[2:])

    stops = []
    for bag, wristband in ((BAG_1, WRISTBAND_2), (BAG_2, WRISTBAND_1)):
        _open_check(page, live_server)
        _scan(page, bag)
        expect(page.locator("#second_scan")).to_be_focused()
        _scan(page, wristband)
        stop = page.get_by_test_id("verdict-stop")
        expect(stop).to_contain_text("STOP")
        expect(stop).to_contain_text("different patients' therapies")
        # The only way on is a new check: there is nothing to click through the stop.
        expect(stop.get_by_role("button")).to_have_count(0)
        expect(page.get_by_role("link", name="Start a new check")).to_be_focused()
        stops.append(stop.inner_text())

    # QA finds both mismatches, with both scans, in the audit trail.
    page.get_by_role("button", name="Log out").click()
    _login(page, live_server, "qa")
    page.goto(f"{live_server}/audit?action=identity:check:mismatch")
    rows = page.get_by_test_id("audit-trail").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(BAG_2)
    expect(rows.first).to_contain_text(WRISTBAND_1)
    expect(rows.nth(1)).to_contain_text(BAG_1)
    expect(rows.nth(1)).to_contain_text(WRISTBAND_2)


def test_unreadable_scan_is_refused_with_the_rule(page: Page, live_server: str) -> None:
    _login(page, live_server, "nurse")
    _open_check(page, live_server)
    _scan(page, "=A99992600000")
    expect(page.get_by_test_id("scan-error")).to_contain_text("DIN (001)")
    expect(page.get_by_test_id("scan-error")).to_contain_text("position")
    expect(page.locator("#first_scan")).to_be_focused()


def test_a_scan_begun_before_the_page_finished_loading_keeps_its_first_characters(
    page: Page, live_server: str
) -> None:
    """On a slow page the scanner may type before forms.js runs. What it typed is not the text
    the page came back with, so it is not selected and typed over ('&' lost, '/C...' refused)."""
    _login(page, live_server, "nurse")
    _open_check(page, live_server)
    _scan(page, BAG_1)
    expect(page.locator("#second_scan")).to_be_focused()
    page.keyboard.type(WRISTBAND_1[:2], delay=5)  # the scanner's first characters ...
    page.add_script_tag(url="/static/forms.js")  # ... and then the page's script runs
    _scan(page, WRISTBAND_1[2:])  # ... and the rest arrives
    expect(page.get_by_test_id("verdict-match")).to_contain_text("MATCH")
