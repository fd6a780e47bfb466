"""In a real browser: the pharmacist on call acknowledges a cold-chain alarm from the dashboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from tests.e2e.test_temperature_chart import ln2a_readings

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
__all__ = ["ln2a_readings"]


def test_the_pharmacist_acknowledges_the_open_alarm(page: Page, ln2a_readings: str) -> None:
    base = ln2a_readings  # an excursion of LN2A that started and ended: two alarms
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.goto(f"{base}/login")
    page.locator("#username").fill("pharmacist")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("alarms").get_by_test_id("open-alarm-count")).to_contain_text(
        "2 open alarms"
    )
    page.get_by_test_id("alarms").get_by_role("link", name="Acknowledge").first.click()
    expect(page).to_have_url(f"{base}/coldchain/alarms#alarm-1")

    first = page.get_by_test_id("alarm-1")
    first.get_by_label("What was done").fill("called technician, tank refilled")
    first.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Alarm #1 acknowledged")
    expect(page.get_by_test_id("open-alarm-count")).to_contain_text("1 open alarm")
    expect(page.get_by_test_id("alarm-1")).to_contain_text("by Phil Dispenser")
    expect(page.get_by_test_id("alarm-1")).to_contain_text("called technician, tank refilled")
    expect(page.get_by_test_id("alarm-1").get_by_role("button")).to_have_count(0)
    assert problems == [], problems
