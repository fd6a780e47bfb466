"""In a real browser, with the keyboard only: a QC analyst enters a result on a batch's QC page
(Tab to the form, type-ahead in the attribute list, type the value, instrument and run, Enter),
and sees it judged at once against the batch's specification (issue 12, item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.axe import assert_accessible

from atmpchain.accounts import sessions
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_PASSWORD
from atmpchain.manufacturing import queries
from atmpchain.qc import specs
from atmpchain.uow import UnitOfWork

pytestmark = pytest.mark.browser


def _approved_spec(tmp_path: Path) -> str:
    """The demo's CAR-T product gets an approved specification (drafted by the process
    scientist, approved by QA); returns a demo batch's number."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'e2e.db'}",
        display_timezone="Europe/Vienna",
        facility_fin="A9999",
    )
    db = Database(settings.database_url)
    uow = UnitOfWork(db, channel="cli", settings=settings)
    with db.read_session() as session:
        line = queries.batch_lines(session)[0]
        code = queries.batch_record(session, line.number).mbr_code
    author = sessions.login(uow, username="scientist", password=DEMO_PASSWORD).actor
    qa = sessions.login(uow, username="qa", password=DEMO_PASSWORD).actor
    version = specs.draft_from_published(
        uow, actor=author, template_key="cd20-hannover", code=code, reason="e2e"
    )
    specs.approve_specification(uow, actor=qa, code=code, version=version, password=DEMO_PASSWORD)
    db.dispose()
    return line.number


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the control has the focus, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_an_analyst_enters_a_result_with_the_keyboard_only(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    number = _approved_spec(tmp_path)
    _login(page, live_server, "qc")
    page.goto(f"{live_server}/qc/batches/{number}")
    assert_accessible(page)
    _tab_to(page, "#r-attribute")
    page.keyboard.type("Viab")
    expect(page.locator("#r-attribute")).to_have_value("Viability")
    page.keyboard.press("Tab")
    expect(page.locator("#r-value")).to_be_focused()
    page.keyboard.type("93")
    _tab_to(page, "#r-instrument")
    page.keyboard.type("NC-200")
    page.keyboard.press("Tab")
    page.keyboard.type("RUN-42")
    page.keyboard.press("Enter")
    line = page.get_by_test_id("lines").locator("tr", has_text="Viability")
    expect(line).to_contain_text("in specification")
    expect(line).to_contain_text("93 %")
    assert_accessible(page)
