"""In a real browser, from the keyboard: a pre-GMP scientist starts the next FMEA version of the
demo's CAR-T project, adds a failure mode with its scores, records its mitigation, re-scores it,
and QA approves the FMEA by signature (issue 14, items 4 and 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.locator("#username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _type(field: Locator, text: str) -> None:
    field.focus()
    page = field.page
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_pre_gmp_scientist_builds_an_fmea_from_the_keyboard(page: Page, live_server: str) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    _login(page, live_server, "scientist")
    page.goto(f"{live_server}/translation")
    page.get_by_role("link", name="TP-CART19").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("project-nav").get_by_role("link", name="FMEA").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("fmea-status")).to_have_text("approved")

    start = page.get_by_test_id("form-fmea-start")
    _type(start.get_by_label("Action threshold"), "100")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("fmea-status")).to_have_text("draft")
    expect(page.get_by_test_id("threshold")).to_have_text("100")

    add = page.get_by_test_id("form-mode")
    add.get_by_label("Unit operation").focus()
    page.keyboard.press("Tab")
    page.keyboard.type("Open sampling port contaminated")
    for value in ("Sterility failure", "Sample taken through an open port", "9", "4", "3"):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    row = page.get_by_test_id("modes").get_by_role("row", name="Open sampling port contaminated")
    expect(row.get_by_test_id("rpn")).to_have_text("108")
    expect(row).to_contain_text("act")

    mode = page.locator("details", has_text="Open sampling port contaminated")
    mode.locator("summary").focus()
    page.keyboard.press("Enter")
    mitigation = mode.locator('form[data-testid^="form-mitigation-"]')
    _type(mitigation.get_by_label("Mitigation", exact=True), "Sterile-welded sampling bag")
    page.keyboard.press("Tab")
    page.keyboard.type("scientist")
    page.keyboard.press("Tab")
    page.keyboard.type("closing the sampling step")
    page.keyboard.press("Enter")
    expect(row).to_contain_text("Sterile-welded sampling bag")

    mode.locator("summary").focus()
    page.keyboard.press("Enter")
    rescore = mode.locator('form[data-testid^="form-score-"]')
    expect(rescore).to_contain_text("Re-score after the mitigation")
    _type(rescore.get_by_label("Severity (1-10)"), "9")
    for value in ("1", "3", "closed sampling"):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    expect(row.get_by_test_id("residual-rpn")).to_have_text("27")
    expect(row).to_contain_text("below threshold")

    _login(page, live_server, "qa")
    page.goto(f"{live_server}/translation/projects/1/fmea")
    approve = page.get_by_test_id("form-fmea-approve")
    _type(approve.get_by_label("Your password"), DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("fmea-status")).to_have_text("approved")
    assert problems == [], problems
