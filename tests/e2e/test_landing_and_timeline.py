"""In a real browser at desktop and tablet size: each role lands on today's work (issue 10 item
7, with the technician of item 8), and an inspector follows a dose's timeline (item 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from atmpchain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = [{"width": 1366, "height": 900}, {"width": 1024, "height": 768}]


def _login(browser: Browser, base: str, viewport: ViewportSize, username: str) -> Page:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()
    return page


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_each_role_lands_on_its_own_work(
    browser: Browser, live_server: str, viewport: ViewportSize
) -> None:
    technician = _login(browser, live_server, viewport, "technician")
    expect(technician.get_by_test_id("work-doses")).to_contain_text("waiting for your hands")
    expect(technician.get_by_role("link", name="Day board").first).to_be_visible()
    expect(technician.get_by_test_id("work-approve")).to_have_count(0)
    technician.context.close()

    pharmacist = _login(browser, live_server, viewport, "pharmacist")
    expect(pharmacist.get_by_test_id("work-approve")).to_be_visible()
    expect(pharmacist.get_by_test_id("work-doses")).to_be_visible()
    pharmacist.context.close()

    qa = _login(browser, live_server, viewport, "qa")
    for section in ("work-holds", "work-assessments", "work-flags", "work-access"):
        expect(qa.get_by_test_id(section)).to_be_visible()
    expect(qa.get_by_test_id("own-activity")).to_contain_text("logged in")
    qa.context.close()

    admin = _login(browser, live_server, viewport, "admin")
    expect(admin.get_by_test_id("work-facility")).to_be_visible()
    expect(admin.get_by_test_id("work-users")).to_be_visible()
    admin.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_an_inspector_follows_a_dose_from_its_page_to_its_timeline(
    browser: Browser, live_server: str, viewport: ViewportSize
) -> None:
    qa = _login(browser, live_server, viewport, "qa")
    qa.goto(f"{live_server}/hospital/board")
    qa.locator('a[href^="/hospital/doses/"]').first.click()
    qa.get_by_test_id("timeline-link").click()
    timeline = qa.get_by_test_id("timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator('[data-kind="dose-step"]').first).to_contain_text("ordered the dose")
    expect(timeline.locator('[data-kind="custody"]').first).to_be_visible()
    qa.context.close()
