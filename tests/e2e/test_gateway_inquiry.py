"""The clinical-trial gateway in a browser: a sponsor submits the public form without an
account, and a coordinator triages the inquiry with the keyboard only; the public form and the
gateway's record pages pass axe with no critical or serious violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.axe import assert_accessible
from tests.e2e.test_every_page_accessible import VIEWPORTS, login
from tests.gateway_data import inquiry_fields

pytestmark = pytest.mark.browser


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_a_sponsor_submits_and_a_coordinator_triages_by_keyboard(
    browser: Browser, live_server: str
) -> None:
    sponsor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sponsor.goto(f"{live_server}/inquire")
    assert_accessible(sponsor)
    fields = inquiry_fields(title="Keyboard-triaged CAR-T trial")
    for name, value in fields.items():
        locator = sponsor.locator(f"#f-{name}")
        if locator.evaluate("el => el.tagName") == "SELECT":
            locator.select_option(value)
        else:
            locator.fill(value)
    sponsor.get_by_label("Manufacture").check()
    sponsor.get_by_role("button", name="Send the inquiry").click()
    reference = sponsor.get_by_test_id("reference").inner_text()
    assert reference.startswith("INQ-")
    sponsor.get_by_test_id("status-link").click()
    expect(sponsor.get_by_test_id("status")).to_have_text("received")
    assert_accessible(sponsor)

    coordinator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(coordinator, live_server, "coordinator")
    coordinator.goto(f"{live_server}/gateway/inquiries")
    tab_to(coordinator, f'a[href="/gateway/inquiries/{reference}"]')
    coordinator.keyboard.press("Enter")
    expect(coordinator.get_by_test_id("state")).to_have_text("received")
    assert_accessible(coordinator)
    tab_to(coordinator, "#to-state")  # 'triage' is the first move offered
    tab_to(coordinator, "#move-reason")
    coordinator.keyboard.type("complete: synopsis and IMPD status given")
    tab_to(coordinator, '[data-testid="move-form"] button')
    coordinator.keyboard.press("Enter")
    expect(coordinator.get_by_test_id("state")).to_have_text("triage")
    tab_to(coordinator, "#coordinator")
    coordinator.keyboard.type("coordinator")
    coordinator.keyboard.press("Enter")
    expect(coordinator.get_by_test_id("coordinator")).to_have_text("coordinator")
    tab_to(coordinator, "#question")
    coordinator.keyboard.type("Who runs the VCN assay?")
    tab_to(coordinator, '[data-testid="question-form"] button')
    coordinator.keyboard.press("Enter")
    expect(coordinator.get_by_test_id("state")).to_have_text("questions to sponsor")
    expect(coordinator.get_by_test_id("messages")).to_contain_text("Who runs the VCN assay?")


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_gateway_record_pages_are_accessible(
    browser: Browser, live_server: str, size: str
) -> None:
    width, height = VIEWPORTS[size]
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/inquire")
    assert_accessible(page)
    login(page, live_server, "coordinator")
    page.goto(f"{live_server}/gateway/inquiries")
    links = page.locator('[data-testid="inquiry-list"] a[href^="/gateway/inquiries/"]')
    paths = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(paths) == 8
    for path in paths:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        assert_accessible(page)
    page.goto(f"{live_server}/logout")
    sponsor = browser.new_context(viewport={"width": width, "height": height}).new_page()
    login(sponsor, live_server, "sponsor")
    sponsor.goto(f"{live_server}/sponsor/inquiries")
    own = sponsor.locator('a[href^="/sponsor/inquiries/"]')
    assert own.count() == 2
    for href in [own.nth(i).get_attribute("href") for i in range(own.count())]:
        sponsor.goto(f"{live_server}{href}")
        assert_accessible(sponsor)
