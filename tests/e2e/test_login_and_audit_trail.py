"""In a real browser: log in with the keyboard, see the dashboard, find the login in the trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _keyboard_login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login\?next=/"))
    # The username field has focus on arrival: a scanner or keyboard user just types.
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_qa_logs_in_and_sees_own_login_in_the_audit_trail(page: Page, live_server: str) -> None:
    _keyboard_login(page, live_server, "qa", DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_test_id("who")).to_have_text("Quinn Reviewer")
    expect(page.get_by_test_id("own-activity")).to_contain_text("logged in")

    page.get_by_role("link", name="Audit trail", exact=True).first.click()
    expect(page).to_have_url(f"{live_server}/audit")
    newest = page.get_by_test_id("audit-trail").locator("tbody tr").first
    expect(newest).to_contain_text("logged in")
    expect(newest).to_contain_text("qa")
    expect(newest).to_contain_text("via web")
    # Shown in the reader's zone (the demo staff work in Vienna), not in UTC.
    expect(newest.locator("time")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T"))

    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("The audit chain is intact")


def test_wrong_password_shows_a_plain_message_without_hint(page: Page, live_server: str) -> None:
    _keyboard_login(page, live_server, "qa", "wrong-password")
    expect(page.locator("#login-error")).to_have_text("the username or password is not correct")
    _keyboard_login(page, live_server, "no-such-user", "wrong-password")
    expect(page.locator("#login-error")).to_have_text("the username or password is not correct")


def test_operator_is_not_shown_and_cannot_open_the_audit_trail(
    page: Page, live_server: str
) -> None:
    _keyboard_login(page, live_server, "operator", DEMO_PASSWORD)
    expect(page.get_by_test_id("who")).to_have_text("Otto Operator")
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)
    page.goto(f"{live_server}/audit")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
