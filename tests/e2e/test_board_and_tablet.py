"""The day board and the dose pages as a pharmacist at 7 a.m. and a nurse with a tablet see them
(issue 10, items 1 to 3): at 1366x900 and 1024x768 the menu stays in the header, the countdown and
next step are in view without scrolling sideways, the countdowns move without a reload that would
wipe typed text, and a refused scan is selected so the next one replaces it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.axe import assert_accessible
from tests.e2e.test_every_page_accessible import VIEWPORTS, login

from atmpchain.db import Database
from atmpchain.demo import DEMO_BEDSIDE_PATIENT, DEMO_PASSWORD, manufacturer_bag_scan
from atmpchain.hospital import queries
from atmpchain.identity.din import Din

pytestmark = pytest.mark.browser

STORED_PATIENT = "PSN-2002"  # Jonas Berger: the demo dose stored in the LN2 tank


def _tab(browser: Browser, size: str, *, script: bool = True) -> Page:
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=script
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _inside_window(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_menu_stays_in_the_header_and_the_board_fits_the_screen(
    browser: Browser, live_server: str, size: str
) -> None:
    page = _tab(browser, size)
    login(page, live_server, "qa")
    header = page.locator("header.topbar").bounding_box()
    assert header is not None
    for link in page.locator("header nav a").all():
        box = link.bounding_box()
        assert box is not None
        # Inside the header's colour, not hanging off it white on white.
        assert box["y"] + box["height"] <= header["y"] + header["height"], link.inner_text()
        assert box["x"] + box["width"] <= header["x"] + header["width"], link.inner_text()
    page.context.close()

    page = _tab(browser, size)
    login(page, live_server, "pharmacist")
    page.goto(f"{live_server}/hospital/board")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    board = page.locator(".table-box").first
    assert board.evaluate("el => el.scrollWidth <= el.clientWidth"), "the board scrolls sideways"
    _inside_window(page, "[data-testid=countdown]")
    _inside_window(page, "td.next")

    page.goto(f"{live_server}/hospital/doses/3")
    card = page.get_by_test_id("patient")
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth"), "the patient card is clipped"
    _inside_window(page, "[data-testid=patient] dd")
    assert_accessible(page)
    page.context.close()


def _minutes(numbers: list[int]) -> int:
    """'in 2 h 05 min' read as [2, 5], '12 min' as [12]: the minutes."""
    return numbers[0] * 60 + numbers[1] if len(numbers) == 2 else numbers[0]


def test_the_board_never_reloads_and_its_countdowns_move_by_themselves(
    browser: Browser, live_server: str
) -> None:
    page = _tab(browser, "tablet")
    login(page, live_server, "pharmacist")
    page.clock.install()
    page.goto(f"{live_server}/hospital/board")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    expect(page.get_by_test_id("live-note")).to_be_visible()
    countdown = page.locator("[data-countdown]").first
    before = countdown.inner_text()
    # Wide enough for a whole compound message (ISBT 128 DIN, product and expiry in one scan).
    page.fill("#find-dose", "=+03000=B12342600010200=<S1295V00=>026365235900&/CHA999926000005")
    assert page.locator("#find-dose").evaluate("el => el.scrollWidth <= el.clientWidth")
    page.fill("#find-dose", "D0000")  # half typed, then the phone rings
    page.clock.fast_forward("10:00")
    expect(countdown).not_to_have_text(before)
    assert page.input_value("#find-dose") == "D0000"
    minutes = [int(m) for m in re.findall(r"\d+", before)]
    after = [int(m) for m in re.findall(r"\d+", countdown.inner_text())]
    assert _minutes(minutes) - _minutes(after) in (9, 10, 11), (before, countdown.inner_text())
    page.context.close()


def test_without_script_the_board_says_when_it_was_loaded_and_offers_a_refresh(
    browser: Browser, live_server: str
) -> None:
    page = _tab(browser, "tablet", script=False)
    login(page, live_server, "pharmacist")
    page.goto(f"{live_server}/hospital/board")
    expect(page.get_by_test_id("as-of")).to_have_text(re.compile(r"\d\d:\d\d:\d\d CES?T"))
    expect(page.get_by_test_id("live-note")).to_be_hidden()
    page.get_by_test_id("refresh").click()
    expect(page).to_have_url(f"{live_server}/hospital/board")
    page.context.close()


def _scans(tmp_path: Path) -> tuple[str, str]:
    """The issued demo dose's wristband, and the stored demo dose's bag label."""
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    try:
        with db.read_session() as session:
            (issued,) = queries.patient_trace(session, DEMO_BEDSIDE_PATIENT).doses
            (stored,) = queries.patient_trace(session, STORED_PATIENT).doses
    finally:
        db.dispose()
    assert stored.din is not None
    return "&/" + issued.coi, manufacturer_bag_scan(Din.parse(stored.din))


def test_a_refused_scan_is_selected_so_the_next_scan_replaces_it(
    browser: Browser, live_server: str, tmp_path: Path
) -> None:
    page = _tab(browser, "tablet")
    login(page, live_server, "pharmacist")
    page.goto(f"{live_server}/hospital/board")
    # Not a dose number, not a wristband: refused, and the field keeps the text selected.
    page.fill("#find-dose", "NOT-A-DOSE")
    page.press("#find-dose", "Enter")
    expect(page.locator("body")).to_contain_text("no dose found")
    page.go_back()
    # A wristband scanned into "Open a dose" opens that patient's dose.
    wristband, bag = _scans(tmp_path)
    page.fill("#find-dose", wristband)
    page.press("#find-dose", "Enter")
    expect(page).to_have_url(re.compile(r"/hospital/doses/\d+$"))
    expect(page.get_by_test_id("patient")).to_contain_text(DEMO_BEDSIDE_PATIENT)

    # The stored demo dose: a wrong location label is refused; the field comes back focused with
    # its text selected, so the scanner's next code replaces it instead of being appended.
    page.goto(f"{live_server}/hospital/doses/2")
    form = page.locator("form[action$='/steps/retrieve']")
    expect(form.locator("input[name=unit_scan]")).to_be_focused()
    form.locator("input[name=unit_scan]").fill(bag)
    form.locator("input[name=location_scan]").fill("LOC:NO.SUCH.PLACE")
    form.locator("input[name=reason]").fill("patient arrived early")
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("input[name=password]").press("Enter")
    field = page.locator("input[aria-invalid=true]").first
    expect(field).to_have_attribute("name", "location_scan")
    expect(field).to_be_focused()
    assert field.evaluate("el => el.selectionStart === 0 && el.selectionEnd === el.value.length")
    assert field.input_value() != ""
    page.keyboard.type("LOC:LN2A.R1.B2.S1")
    assert field.input_value() == "LOC:LN2A.R1.B2.S1"
    # Not a safety stop: the typed values stay, the reason too, and no red STOP page.
    expect(page.get_by_test_id("verdict-stop")).to_have_count(0)
    assert form.locator("input[name=reason]").input_value() == "patient arrived early"
    page.context.close()
