"""In a real browser: QA follows the demo's overdue CAPA to its deviation, the operator records
the CAPA done, and QA completes the investigation and closes the deviation by signature."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def test_qa_closes_the_demo_major_deviation_once_its_capa_is_done(
    page: Page, live_server: str
) -> None:
    base = live_server
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    _login(page, base, "qa")
    expect(page.get_by_test_id("quality-counts")).to_contain_text("1 overdue CAPA")
    page.get_by_test_id("quality-counts").get_by_role("link").click()
    overdue = page.get_by_test_id("overdue-list")
    expect(overdue).to_contain_text("Book the controlled-rate freezer")
    overdue.get_by_role("link").first.click()
    url = page.url
    expect(page.get_by_test_id("state")).to_contain_text("Major")
    expect(page.get_by_test_id("missing")).to_contain_text("CAPA 1 is not done")

    _login(page, base, "operator")
    page.goto(url)
    done = page.get_by_test_id("form-capa-done")
    done.get_by_label("What was done").fill("Freezer booking added to the filling checklist")
    done.get_by_role("button", name="Record done").click()
    expect(page.get_by_test_id("capa-1")).to_contain_text("Freezer booking added")

    _login(page, base, "qa")
    page.goto(url)
    impact = page.get_by_test_id("form-impact")
    impact.get_by_label("Specifications met; documented risk assessment supports use").check()
    impact.get_by_label("Rationale").fill("Viability after thaw within specification")
    impact.get_by_role("button").click()
    root = page.get_by_test_id("form-root-cause")
    root.get_by_label("Root cause").fill("Freezer not booked before filling")
    root.get_by_role("button").click()
    check = page.get_by_test_id("form-capa-effectiveness")
    check.get_by_label("Result").select_option("effective")
    check.get_by_label("Evidence").fill("Three batches frozen on time since")
    check.get_by_role("button").click()
    expect(page.get_by_test_id("missing")).to_have_count(0)
    close = page.get_by_test_id("form-close")
    close.get_by_label("Your password").fill(DEMO_PASSWORD)
    close.get_by_role("button", name="Sign and close").click()
    expect(page.get_by_test_id("state")).to_contain_text("closed")
    expect(page.get_by_test_id("signatures")).to_contain_text("Quinn Reviewer (approved)")
    assert problems == [], problems
