"""In a real browser, with the keyboard only: a nurse completes the bedside check in two steps.

Step 1, the wristband and the bag: checked at once by the server, before any password. Step 2,
the password: the start of the infusion is signed. The demo issues a Yescarta dose (thawed at
seeding time, 3 h limit) to the nurse, who has signed its receipt on the ward, so the live
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

OTHER_PATIENT = "PSN-2001"  # Maria Muster, born 1961-03-14: a demo dose ordered for tomorrow


def _scans(tmp_path: Path) -> tuple[str, str, str]:
    """The issued demo dose's wristband and bag scans, and another demo patient's wristband,
    read from the live server's database."""
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    try:
        with db.read_session() as session:
            (dose,) = queries.patient_trace(session, DEMO_BEDSIDE_PATIENT).doses
            (other,) = queries.patient_trace(session, OTHER_PATIENT).doses
    finally:
        db.dispose()
    assert dose.din is not None
    return "&/" + dose.coi, manufacturer_bag_scan(Din.parse(dose.din)), "&/" + other.coi


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
    wristband, bag, _ = _scans(tmp_path)
    _login(page, live_server, "nurse")
    page.goto(f"{live_server}/hospital/bedside")

    # Step 1: wristband and bag, checked at once: the green panel says whose dose it is.
    _type(page, "wristband_scan", wristband)
    expect(page.get_by_test_id("scanned-wristband_scan")).to_contain_text(wristband[2:])
    _type(page, "bag_scan", bag)
    verified = page.get_by_test_id("bedside-verified")
    expect(verified).to_be_visible()
    for fact in ("Elena Novak", "1988-11-23", DEMO_BEDSIDE_PATIENT, "Yescarta"):
        expect(verified).to_contain_text(fact)

    # Step 2: the password signs the start of the infusion.
    _type(page, "password", DEMO_PASSWORD, delay=0)
    match = page.get_by_test_id("bedside-match")
    expect(match).to_be_visible()
    expect(match).to_contain_text("Elena Novak")
    expect(match).to_contain_text("Infusion started at")

    # Scanned again while it runs: the end of the infusion is offered, not a STOP.
    page.goto(f"{live_server}/hospital/bedside")
    _type(page, "wristband_scan", wristband)
    _type(page, "bag_scan", bag)
    expect(page.get_by_test_id("bedside-infusing")).to_be_visible()
    expect(page.get_by_test_id("verdict-stop")).to_have_count(0)

    # Ended a minute later, shorter than the catalogue's minimum: the note says why.
    _type(page, "password", DEMO_PASSWORD, delay=0)
    expect(page.get_by_test_id("bedside-error")).to_contain_text("shorter than the catalogue")
    expect(page.locator("#note")).to_be_focused()
    page.keyboard.type("Demo: ended at once to show the record")
    page.keyboard.press("Tab")
    _type(page, "password", DEMO_PASSWORD, delay=0)
    expect(page.get_by_test_id("bedside-ended")).to_contain_text("Elena Novak")


def test_a_crossed_scan_shows_both_patients_before_any_password(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    _, bag, other_wristband = _scans(tmp_path)
    _login(page, live_server, "nurse")
    page.goto(f"{live_server}/hospital/bedside")

    # Another patient's wristband with this bag: the red STOP at the scan, naming both.
    _type(page, "wristband_scan", other_wristband)
    _type(page, "bag_scan", bag)
    stop = page.get_by_test_id("verdict-stop")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("STOP")
    wristband = page.get_by_test_id("stop-wristband")
    expect(wristband).to_contain_text("Maria Muster")
    expect(wristband).to_contain_text("1961-03-14")
    expect(wristband).to_contain_text(OTHER_PATIENT)
    on_bag = page.get_by_test_id("stop-bag")
    expect(on_bag).to_contain_text("Elena Novak")
    expect(on_bag).to_contain_text("1988-11-23")
    expect(on_bag).to_contain_text(DEMO_BEDSIDE_PATIENT)
    expect(on_bag).to_contain_text("dose D000003")
    expect(page.locator("input[type=password]")).to_have_count(0)
    expect(page.get_by_test_id("bedside-verified")).to_have_count(0)
    expect(stop.get_by_role("link")).to_have_count(1)
    expect(page.get_by_role("link", name="Start again")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#wristband_scan")).to_be_focused()
