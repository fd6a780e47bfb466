"""In a real browser, with the keyboard only: a nurse completes the bedside check.

The demo issues a Yescarta dose (thawed at seeding time, 3 h limit) to the nurse, so the live
server's real clock is inside its window when the test runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from atmpchain.db import Database
from atmpchain.demo import DEMO_BEDSIDE_PATIENT, DEMO_PASSWORD, manufacturer_bag_scan
from atmpchain.hospital import queries
from atmpchain.identity.din import Din

pytestmark = pytest.mark.browser

OTHER_WRISTBAND = "&/CHA999926000001"  # demo patient P-1001's wristband


def _scans(tmp_path: Path) -> tuple[str, str]:
    """The issued demo dose's wristband and bag scans, read from the live server's database."""
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    try:
        with db.read_session() as session:
            (dose,) = queries.patient_trace(session, DEMO_BEDSIDE_PATIENT).doses
    finally:
        db.dispose()
    assert dose.din is not None
    return "&/" + dose.coi, manufacturer_bag_scan(Din.parse(dose.din))


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _type(page: Page, field: str, text: str, delay: int = 5) -> None:
    """Wait for the field to have the focus, then type like a scanner: the code, then Enter."""
    expect(page.locator(f"#{field}")).to_be_focused()
    page.keyboard.type(text, delay=delay)
    page.keyboard.press("Enter")


def test_a_nurse_completes_the_bedside_check_with_the_keyboard_only(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    wristband, bag = _scans(tmp_path)
    _login(page, live_server, "nurse")
    page.goto(f"{live_server}/hospital/bedside")

    # Another patient's wristband with this bag: a red STOP and nothing to do but start again.
    _type(page, "wristband_scan", OTHER_WRISTBAND)
    expect(page.get_by_test_id("scanned-wristband_scan")).to_contain_text("CHA999926000001")
    _type(page, "bag_scan", bag)
    _type(page, "password", DEMO_PASSWORD, delay=0)
    stop = page.get_by_test_id("verdict-stop")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("STOP")
    expect(stop.get_by_role("link")).to_have_count(1)
    expect(page.get_by_test_id("bedside-match")).to_have_count(0)
    expect(page.get_by_role("link", name="Start again")).to_be_focused()
    page.keyboard.press("Enter")

    # The right wristband: the green panel with whose dose it is.
    _type(page, "wristband_scan", wristband)
    _type(page, "bag_scan", bag)
    _type(page, "password", DEMO_PASSWORD, delay=0)
    match = page.get_by_test_id("bedside-match")
    expect(match).to_be_visible()
    expect(match).to_contain_text("Elena Novak")
    expect(match).to_contain_text("1988-11-23")
    expect(match).to_contain_text("Yescarta")
    expect(match).to_contain_text("Infusion started at")

    # The end of the infusion: the empty bag, then the password.
    _type(page, "bag_scan", bag)
    _type(page, "password", DEMO_PASSWORD, delay=0)
    expect(page.get_by_test_id("bedside-ended")).to_contain_text("Elena Novak")
